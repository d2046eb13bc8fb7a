//! Elected governance inside the game: the state between tax years (the leader, the elections
//! held, the voting coordinator) and a tax year's election turn (candidacies, ballots from every
//! worker, the count, then the leader's move or the adopted schedule).

use std::borrow::Cow;
use std::sync::Arc;

use actix::prelude::*;
use simulacra_actors::{StepFrames, StreamKey};

use crate::agents::{CountBallots, VotingCoordinator, WorkerCall};
use crate::config::Scenario;
use crate::config::{Eligibility, Governance, GovernanceMode, LeaderObjective};
use crate::econ::TaxSchedule;
use crate::frames::ElectionRecord;
use crate::frames::{Frame, PlannerMove};
use crate::governance::election::{Candidate, ElectionView};
use crate::governance::platforms::{favourite, platform_book, welfare_best};

use super::regions::RegionScope;
use super::{Economy, GameError};
use crate::memory::ElectionRow;

/// The rules and the vote counter of elected governance (the leader and the elections held
/// are state the snapshot keeps: [`crate::memory::ElectedState`]).
pub(super) struct GovernanceState {
    config: Governance,
    coordinator: Addr<VotingCoordinator>,
    rule_needs_ballots: bool,
    pub(super) max_delta: i32,
}

impl GovernanceState {
    /// The elected governance of `scenario`, if it asks for one.
    pub(super) fn start(scenario: &Scenario) -> Option<GovernanceState> {
        (scenario.governance.mode == GovernanceMode::Election).then(|| {
            let rule = crate::governance::rule(&scenario.governance.rule)
                .expect("a validated scenario names a known rule");
            GovernanceState {
                rule_needs_ballots: rule.needs_ballots(),
                coordinator: VotingCoordinator::new(rule, scenario.simulation.seed).start(),
                config: scenario.governance.clone(),
                max_delta: scenario.planner.max_delta_points,
            }
        })
    }
}

impl Economy {
    /// A tax year under elected governance: an election if one is due (candidacies, ballots
    /// from every worker, the coordinator's count), then the leader's move (or, in a
    /// referendum, the adopted schedule).
    pub(super) async fn election_turn(
        &mut self,
        step: u64,
        tax_year: u64,
        frames: &mut StepFrames<Frame>,
        scope: Option<&RegionScope>,
    ) -> Result<(), GameError> {
        let observed_welfare = self.close_year();
        // In a region, only its residents stand, vote and count.
        let population = Arc::clone(&self.population);
        let (skills, weights): (Cow<[f64]>, Cow<[f64]>) = match scope {
            Some(s) => (
                s.residents
                    .iter()
                    .map(|&i| population.skills[i as usize])
                    .collect(),
                s.residents
                    .iter()
                    .map(|&i| population.weights[i as usize])
                    .collect(),
            ),
            None => (
                Cow::Borrowed(&population.skills),
                Cow::Borrowed(&population.weights),
            ),
        };
        let ask = |call: WorkerCall| match scope {
            Some(s) => WorkerCall::Residents {
                region: s.region,
                region_of: Arc::clone(&s.region_of),
                call: Box::new(call),
            },
            None => call,
        };
        let cohort = self.population.len();
        let gov = self
            .governance
            .as_ref()
            .expect("called under elected governance");
        let cfg = gov.config.clone();
        let cutoffs = self.state.schedule.cutoffs().to_vec();
        let book = Arc::new(platform_book(
            &self.params,
            &self.state.schedule,
            &skills,
            &weights,
            gov.max_delta,
        ));
        let referendum = cfg.rule == "referendum";
        let mut leader = self
            .state
            .governance
            .as_ref()
            .and_then(|elected| elected.leader);
        let due = tax_year.is_multiple_of(cfg.term_years) || (leader.is_none() && !referendum);
        let n = scope.map_or(cohort, |s| s.residents.len());
        let mut adopted: Option<usize> = None;
        let mut exchanges = Vec::new();

        if due {
            let mut view = ElectionView {
                tax_year,
                step,
                cutoffs: cutoffs.clone(),
                current_rates: self.state.schedule.rates().to_vec(),
                book: Arc::clone(&book),
                candidates: Vec::new(),
                referendum,
                everyone_stands: cfg.eligibility == Eligibility::Everyone,
                declare_gain: cfg.declare_gain,
                noise: cfg.ballot_noise,
                llm_platforms: cfg.platforms,
                rng_key: StreamKey::new(self.worker_key_seed, "ballot"),
            };
            let (candidates, ballots) = if gov.rule_needs_ballots {
                let stands = self
                    .workers
                    .step(
                        step,
                        &ask(WorkerCall::Stand(Arc::new(view.clone()))),
                        vec![None; cohort],
                    )
                    .await?;
                if let Some(message) = stands.iter().find_map(|r| r.fatal().cloned()) {
                    return Err(GameError::Replay { step, message });
                }
                let mut declared: Vec<(u64, usize, f64)> = Vec::new();
                for (id, r) in stands.into_iter().enumerate() {
                    let r = r.into_extra();
                    exchanges.extend(r.exchanges);
                    if let Some((option, gain)) = r.platform {
                        declared.push((id as u64, option, gain));
                    }
                }
                if cfg.eligibility == Eligibility::Declared && declared.len() > cfg.max_candidates {
                    declared.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
                    declared.truncate(cfg.max_candidates);
                    declared.sort_by_key(|d| d.0);
                }
                let candidates: Vec<Candidate> = if referendum {
                    // The options on the ballot: the status quo and every platform put forward.
                    let mut options: Vec<usize> = std::iter::once(0)
                        .chain(declared.iter().map(|d| d.1))
                        .collect();
                    options.sort_unstable();
                    options.dedup();
                    options
                        .into_iter()
                        .map(|o| Candidate {
                            id: o as u64,
                            option: o,
                        })
                        .collect()
                } else {
                    declared
                        .iter()
                        .map(|&(id, option, _)| Candidate { id, option })
                        .collect()
                };
                view.candidates = candidates.clone();
                let votes = if candidates.is_empty() {
                    Vec::new()
                } else {
                    self.workers
                        .step(
                            step,
                            &ask(WorkerCall::Vote(Arc::new(view))),
                            vec![None; cohort],
                        )
                        .await?
                };
                if let Some(message) = votes.iter().find_map(|r| r.fatal().cloned()) {
                    return Err(GameError::Replay { step, message });
                }
                let mut ballots = Vec::new();
                for r in votes {
                    let r = r.into_extra();
                    exchanges.extend(r.exchanges);
                    ballots.extend(r.ballot);
                }
                (candidates, ballots)
            } else {
                // Sortition: every citizen is in the draw; no ballots.
                let all = match scope {
                    Some(s) => s
                        .residents
                        .iter()
                        .map(|&id| Candidate {
                            id: u64::from(id),
                            option: 0,
                        })
                        .collect(),
                    None => (0..n as u64)
                        .map(|id| Candidate { id, option: 0 })
                        .collect(),
                };
                (all, Vec::new())
            };
            if !candidates.is_empty() {
                let ids: Vec<u64> = candidates.iter().map(|c| c.id).collect();
                let count = self
                    .governance
                    .as_ref()
                    .expect("checked above")
                    .coordinator
                    .send(CountBallots {
                        tax_year,
                        candidates: ids,
                        ballots: ballots.clone(),
                    })
                    .await
                    .map_err(|source| GameError::PlannerGone { step, source })?;
                let winner = count.winner;
                if referendum {
                    adopted = Some(winner as usize);
                    leader = None;
                } else {
                    leader = Some(winner);
                    // The winner moves to the platform she stood on.
                    adopted = candidates.iter().find(|c| c.id == winner).map(|c| c.option);
                    if !gov.rule_needs_ballots {
                        adopted = None;
                    }
                }
                let row = ElectionRow {
                    tax_year,
                    step,
                    rule: cfg.rule.clone(),
                    winner,
                    margin: count.margin,
                    turnout: ballots.len() as f64 / n.max(1) as f64,
                    candidates: candidates.len(),
                    ballots: ballots.len(),
                    exhausted: count.exhausted,
                    tie_broken: count.tie_broken,
                };
                tracing::info!(
                    tax_year,
                    rule = %row.rule,
                    winner = row.winner,
                    margin = row.margin,
                    turnout = row.turnout,
                    candidates = row.candidates,
                    "election held"
                );
                frames.push(Frame::Election(ElectionRecord {
                    step,
                    tax_year,
                    rule: cfg.rule.clone(),
                    candidates: candidates
                        .iter()
                        .map(|c| (c.id, book[c.option].deltas.clone()))
                        .collect(),
                    turnout: ballots.len() as f64 / n.max(1) as f64,
                    ballots,
                    count,
                }));
                if let Some(elected) = self.state.governance.as_mut() {
                    elected.held.push(row);
                }
            }
        }
        // The leader's move: her platform in an election year, else her favourite (or, with
        // the welfare objective, the welfare-maximizing) schedule among the reachable ones.
        if !referendum && let Some(l) = leader {
            let welfare_variant = cfg.leader_objective == LeaderObjective::Welfare;
            adopted = Some(match (welfare_variant, adopted) {
                (true, _) => welfare_best(&book),
                (false, Some(platform)) => platform,
                (false, None) => {
                    favourite(
                        &self.params,
                        &cutoffs,
                        self.population.skills[l as usize],
                        &book,
                    )
                    .0
                }
            });
        }
        if let Some(elected) = self.state.governance.as_mut() {
            elected.leader = leader;
        }
        let option = adopted.unwrap_or(0);
        let previous = self.state.schedule.clone();
        self.state.schedule = TaxSchedule::new(cutoffs, book[option].rates.clone())
            .expect("book schedules are valid");
        if previous != self.state.schedule {
            self.state.schedule_version += 1;
        }
        frames.push(Frame::PlannerMove(PlannerMove {
            step,
            tax_year,
            policy: match (referendum, leader) {
                (true, _) => "referendum".into(),
                (false, Some(l)) => format!("elected worker {l}"),
                (false, None) => "no leader".into(),
            },
            observed_welfare,
            previous_rates: previous.rates().to_vec(),
            deltas_points: book[option].deltas.clone(),
            cutoffs: self.state.schedule.cutoffs().to_vec(),
            rates: self.state.schedule.rates().to_vec(),
        }));
        for e in exchanges {
            frames.push(Frame::Llm(e));
        }
        Ok(())
    }
}
