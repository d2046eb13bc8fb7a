//! Elected governance inside the game: the state between tax years (the leader, the elections
//! held, the voting coordinator) and a tax year's election turn (candidacies, ballots from every
//! worker, the count, then the leader's move or the adopted schedule). A liquid election
//! resolves delegations before the count (offline voters are delegated for by the seeded
//! model of `governance::liquid`; LLM voters choose). With LLM workers the leader's move is
//! asked of her through the model every tax year (`leader.rs`), her platform being a promise;
//! offline leaders keep the exact best response. Who votes and what each voter values (the turn's scope, the
//! federation's platform books, liquid peers) is `electorate.rs`.

use std::borrow::Cow;
use std::sync::Arc;

use actix::prelude::*;
use simulacra_actors::{StepFrames, StreamKey};

use crate::agents::{CountBallots, VotingCoordinator, WorkerCall};
use crate::config::Scenario;
use crate::config::{Eligibility, Governance, GovernanceMode, LeaderObjective, WorkerPolicyName};
use crate::econ::TaxSchedule;
use crate::frames::ElectionRecord;
use crate::frames::{Frame, PlannerMove};
use crate::governance::VotingRule;
use crate::governance::election::{Candidate, ElectionView};
use crate::governance::liquid::{self, Liquid, LiquidVote};
use crate::governance::platforms::{best_of, favourite, platform_book, welfare_best};
use crate::llm::LlmRuntime;
use crate::memory::ElectedState;
use crate::policy::LeaderNews;
use crate::policy::llm_leader::LeaderSettings;

use super::electorate::RegionScope;
use super::{Economy, GameError};
use crate::memory::ElectionRow;

/// The rules and the vote counter of elected governance (the leader and the elections held
/// are state the snapshot keeps: [`crate::memory::ElectedState`]).
pub(super) struct GovernanceState {
    pub(super) config: Governance,
    pub(super) coordinator: Addr<VotingCoordinator>,
    pub(super) rule_needs_ballots: bool,
    pub(super) max_delta: i32,
    /// The workers are LLM agents (they choose their own delegates in a liquid election).
    pub(super) llm_voters: bool,
    /// With LLM workers and the own-utility objective: the leader is asked for her move.
    pub(super) leader_llm: Option<LeaderSettings>,
    /// A federation's federal election: platforms are federal schedules, valued by each
    /// worker in her own region.
    pub(super) federal: bool,
}

impl GovernanceState {
    /// The elected governance of `scenario`, if it asks for one.
    /// `welfare` is the run's welfare measure (the leader is asked as the LLM planner is).
    pub(super) fn start(
        scenario: &Scenario,
        welfare: crate::econ::WelfareKind,
        llm: Option<&LlmRuntime>,
    ) -> Option<GovernanceState> {
        (scenario.governance.mode == GovernanceMode::Election).then(|| {
            let g = &scenario.governance;
            let rule: Box<dyn VotingRule> = if g.rule == "liquid" {
                Box::new(
                    Liquid::new(&g.liquid_count)
                        .expect("a validated scenario names a known liquid_count"),
                )
            } else {
                crate::governance::rule(&g.rule).expect("a validated scenario names a known rule")
            };
            let llm_voters = scenario.workers.policy == WorkerPolicyName::Llm && llm.is_some();
            let leader_llm = llm
                .filter(|_| llm_voters && g.leader_objective == LeaderObjective::OwnUtility)
                .map(|rt| LeaderSettings::of(scenario, welfare, rt));
            GovernanceState {
                rule_needs_ballots: rule.needs_ballots(),
                coordinator: VotingCoordinator::new(rule, scenario.simulation.seed).start(),
                config: g.clone(),
                max_delta: scenario.planner.max_delta_points,
                llm_voters,
                leader_llm,
                federal: false,
            }
        })
    }
}

/// The leader in office as workers are told of her: her id, the platform she was elected on
/// and her last move (none without a leader).
pub(super) fn news(elected: &ElectedState) -> Option<LeaderNews> {
    elected.leader.map(|id| LeaderNews {
        id,
        platform: elected.platform.clone(),
        last_move: elected.last_move.clone(),
    })
}

impl GovernanceState {
    /// Whether its leader is asked for her move through the model (who then needs the
    /// history of her jurisdiction's years).
    pub(super) fn asks_leader(&self) -> bool {
        self.leader_llm.is_some()
    }

    /// The same governance for a federation's federal layer: its LLM leader is told of her
    /// office (`text`), and its platforms are federal ones.
    pub(super) fn federal(mut self, text: String) -> GovernanceState {
        self.federal = true;
        self.in_region(text)
    }

    /// The same governance for a region: its LLM leader is told of her office (`text`).
    pub(super) fn in_region(mut self, text: String) -> GovernanceState {
        if let Some(l) = self.leader_llm.as_mut() {
            l.jurisdiction = Some(text);
        }
        self
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
        self.remember_leader_year(tax_year, observed_welfare);
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
        let federal = gov.federal;
        let under_federal_layer = self
            .state
            .federation
            .as_ref()
            .is_some_and(|f| f.federal.is_some());
        let (book, utilities) = if federal {
            let (book, utilities) = self.federal_book(gov.max_delta);
            (Arc::new(book), Some(Arc::new(utilities)))
        } else if let Some(s) = scope.filter(|_| under_federal_layer) {
            // A region's platforms under a federal layer are valued with it.
            let (book, utilities) = self.regional_book(s.region as usize, gov.max_delta);
            (Arc::new(book), Some(Arc::new(utilities)))
        } else {
            let book = platform_book(
                &self.params,
                &self.state.schedule,
                &skills,
                &weights,
                gov.max_delta,
            );
            (Arc::new(book), None)
        };
        let referendum = cfg.rule == "referendum";
        let liquid = cfg.rule == "liquid";
        let llm_voters = gov.llm_voters;
        let mut leader = self
            .state
            .governance
            .as_ref()
            .and_then(|elected| elected.leader);
        let due = tax_year.is_multiple_of(cfg.term_years) || (leader.is_none() && !referendum);
        let n = scope.map_or(cohort, |s| s.residents.len());
        let mut adopted: Option<usize> = None;
        let mut exchanges = Vec::new();
        // A liquid election's acts, voter by voter.
        let mut liquid_votes: Vec<(u64, LiquidVote)> = Vec::new();
        // The platform of a leader elected this turn (outer none: no one was elected).
        let mut platform: Option<Option<Vec<f64>>> = None;

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
                // LLM workers write a platform whenever one decides something: always in a
                // referendum (its options), and when candidates must declare; never from
                // exact utilities.
                llm_platforms: cfg.platforms
                    || (llm_voters && (referendum || cfg.eligibility == Eligibility::Declared)),
                // A federal election draws its noise from a stream of its own, not the one a
                // region's election of the same year uses.
                rng_key: StreamKey::new(
                    self.worker_key_seed,
                    if federal { "federal_ballot" } else { "ballot" },
                ),
                liquid_peers: None,
                federal,
                utilities: utilities.clone(),
                leader_asked: gov.leader_llm.is_some(),
                max_delta: gov.max_delta,
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
                let call = if liquid && llm_voters {
                    view.liquid_peers =
                        Some(Arc::new(self.liquid_peers(cfg.delegate_peers, scope)));
                    WorkerCall::LiquidVote(Arc::new(view))
                } else {
                    WorkerCall::Vote(Arc::new(view))
                };
                let votes = if candidates.is_empty() {
                    Vec::new()
                } else {
                    self.workers
                        .step(step, &ask(call), vec![None; cohort])
                        .await?
                };
                if let Some(message) = votes.iter().find_map(|r| r.fatal().cloned()) {
                    return Err(GameError::Replay { step, message });
                }
                let mut ballots = Vec::new();
                for (id, r) in votes.into_iter().enumerate() {
                    let r = r.into_extra();
                    exchanges.extend(r.exchanges);
                    if liquid {
                        liquid_votes.push((
                            id as u64,
                            match (r.ballot, r.delegate) {
                                (Some(b), _) => LiquidVote::Direct(b),
                                (None, Some(to)) => LiquidVote::Delegate(to),
                                (None, None) => LiquidVote::Abstain,
                            },
                        ));
                    } else {
                        ballots.extend(r.ballot);
                    }
                }
                if liquid && !llm_voters {
                    self.delegate_offline(&mut liquid_votes, tax_year, cfg.delegation_share);
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
            let (ballots, counted, resolution) = if liquid {
                let resolution = liquid::resolve(&liquid_votes);
                let counted = liquid::weighted_ballots(&liquid_votes, &resolution);
                let direct = liquid_votes
                    .into_iter()
                    .filter_map(|(_, v)| match v {
                        LiquidVote::Direct(b) => Some(b),
                        _ => None,
                    })
                    .collect();
                (direct, counted, Some(resolution))
            } else {
                let counted = ballots.clone();
                (ballots, counted, None)
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
                        ballots: counted.clone(),
                    })
                    .await
                    .map_err(|source| GameError::PlannerGone { step, source })?;
                let mut count = count;
                if let Some(r) = &resolution {
                    count.notes.extend(r.notes());
                }
                // Votes counted (a liquid election's carried votes included) over voters.
                let turnout = counted.len() as f64 / n.max(1) as f64;
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
                    platform = Some(adopted.map(|o| book[o].rates.clone()));
                }
                let row = ElectionRow {
                    tax_year,
                    step,
                    rule: cfg.rule.clone(),
                    winner,
                    margin: count.margin,
                    turnout,
                    candidates: candidates.len(),
                    ballots: ballots.len(),
                    exhausted: count.exhausted,
                    tie_broken: count.tie_broken,
                    liquid: resolution.as_ref().map(liquid::Resolution::measures),
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
                    turnout,
                    ballots,
                    count,
                }));
                if let Some(elected) = self.state.governance.as_mut() {
                    elected.held.push(row);
                }
            }
        }
        // An LLM leader is asked for her move every tax year, in an election year too: her
        // platform is a promise, not a law (as the reference asks its elected leader).
        let mut asked: Option<Vec<i32>> = None;
        if !referendum
            && let Some(l) = leader
            && self
                .governance
                .as_ref()
                .is_some_and(|g| g.leader_llm.is_some())
        {
            let (deltas, leader_exchanges) = self.ask_leader_move(l, step, tax_year, scope).await?;
            exchanges.extend(leader_exchanges);
            // The documented fallback: keep the schedule.
            asked = Some(deltas.unwrap_or_else(|| vec![0; cutoffs.len()]));
        }
        // Otherwise the leader's move: her platform in an election year, else her favourite
        // (or, with the welfare objective, the welfare-maximizing) schedule among the
        // reachable ones.
        if !referendum
            && asked.is_none()
            && let Some(l) = leader
        {
            let welfare_variant = cfg.leader_objective == LeaderObjective::Welfare;
            adopted = Some(match (welfare_variant, adopted) {
                (true, _) => welfare_best(&book),
                (false, Some(platform)) => platform,
                (false, None) => match &utilities {
                    // A book valued per worker (a federal one, or a region's under a federal
                    // layer): the leader's favourite is by her own utilities.
                    Some(u) => best_of(&u.iter().map(|o| o[l as usize]).collect::<Vec<_>>()).0,
                    None => {
                        favourite(
                            &self.params,
                            &cutoffs,
                            self.population.skills[l as usize],
                            &book,
                        )
                        .0
                    }
                },
            });
        }
        if let Some(elected) = self.state.governance.as_mut() {
            elected.leader = leader;
        }
        let option = adopted.unwrap_or(0);
        let previous = self.state.schedule.clone();
        self.state.schedule = match &asked {
            Some(d) => previous
                .apply_deltas(d)
                .unwrap_or_else(|_| previous.clone()),
            None => TaxSchedule::new(cutoffs, book[option].rates.clone())
                .expect("book schedules are valid"),
        };
        let deltas_points = match asked {
            // The move applied (clamped at 0 and 100), in points.
            Some(_) => previous
                .rates()
                .iter()
                .zip(self.state.schedule.rates())
                .map(|(a, b)| ((b - a) * 100.0).round() as i32)
                .collect(),
            None => book[option].deltas.clone(),
        };
        if previous != self.state.schedule {
            self.state.schedule_version += 1;
        }
        if let Some(elected) = self.state.governance.as_mut() {
            if let Some(p) = platform {
                elected.platform = p;
            }
            elected.last_move = leader.map(|_| deltas_points.clone());
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
            deltas_points,
            cutoffs: self.state.schedule.cutoffs().to_vec(),
            rates: self.state.schedule.rates().to_vec(),
        }));
        for e in exchanges {
            frames.push(Frame::Llm(e));
        }
        Ok(())
    }
}

impl Economy {
    /// Every election of the run with where it was held: the nation's (no place), or in a
    /// federation the federal layer's ("federal") and each region's (its number), ordered by
    /// step and, within a step, in the order they were held (federal first, then regions).
    pub fn elections_by_place(&self) -> Vec<(Option<String>, &ElectionRow)> {
        let mut out: Vec<(u64, usize, Option<String>, &ElectionRow)> = self
            .elections()
            .iter()
            .map(|row| (row.step, 0, None, row))
            .collect();
        if let Some(f) = &self.state.federation {
            // The federal election is held before the regions' (the federal layer moves
            // first in a tax year).
            if let Some(elected) = f.federal.as_ref().and_then(|fed| fed.governance.as_ref()) {
                out.extend(
                    elected
                        .held
                        .iter()
                        .map(|row| (row.step, 1, Some("federal".to_string()), row)),
                );
            }
            for (r, region) in f.regions.iter().enumerate() {
                if let Some(elected) = &region.governance {
                    out.extend(
                        elected
                            .held
                            .iter()
                            .map(|row| (row.step, 2 + r, Some(r.to_string()), row)),
                    );
                }
            }
        }
        out.sort_by_key(|&(step, order, _, _)| (step, order));
        out.into_iter()
            .map(|(_, _, place, row)| (place, row))
            .collect()
    }
}
