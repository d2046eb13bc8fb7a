//! One timestep of the LLM Economist's Stackelberg game, as the scheduler drives it.
//!
//! ```text
//! step k ─┬─ k starts a tax year? ── ProposeSchedule ──▶ planner actor ──▶ new schedule
//!         ├─ WorkerView + own feedback ──▶ worker actors (sharded) ──▶ hours, in id order
//!         ├─ econ::settle(schedule, skills, hours) ──▶ incomes, taxes, rebate, utilities, welfare
//!         └─ frames: StepBegin, PlannerMove?, Decisions, Outcome  ──▶ scheduler ──▶ log
//! ```
//!
//! The game holds the world state between steps (the schedule, each worker's last outcome);
//! the economics are the pure functions of [`crate::econ`]; the actors only decide.

use std::sync::Arc;

use actix::prelude::*;
use simulacra_actors::population::{AgentFactory, PopulationOptions};
use simulacra_actors::{Flow, Game, LogDigest, LogError, RuntimeError, StepFrames, StreamKey};

use crate::agents::planner::{RestorePlanner, SavePlanner};
use crate::agents::{
    CountBallots, PlannerActor, ProposeSchedule, VotingCoordinator, Worker, WorkerCall,
};
use crate::config::{DecisionLog, PersonaSource, RebateRule, Scenario, WorkerPolicyName};
use crate::config::{Eligibility, Governance, GovernanceMode, LeaderObjective};
use crate::econ::{Settlement, TaxSchedule, UtilityType, WorldParams, settle};
use crate::frames::ElectionRecord;
use crate::frames::{DECISION_BLOCK, Frame, PlannerMove, StepOutcome, hours_digest};
use crate::governance::election::{Candidate, ElectionView};
use crate::governance::platforms::{favourite, platform_book, welfare_best};
use crate::llm::LlmRuntime;
use crate::policy::llm_worker::{LlmWorkerSettings, PersonaPlan};
use crate::policy::{
    Bounded, Feedback, Fixed, LlmWorker, PlannerInput, PlannerPolicy, Rational, WorkerPolicy,
    WorkerProfile, WorkerView, YearObservation,
};
use crate::population::Population;
use crate::snapshot::{RunSnapshot, SnapshotPlan};

type WorkerPool = simulacra_actors::Population<Worker>;

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum GameError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("the message log failed: {0}")]
    Log(#[from] LogError),
    #[error("the planner actor stopped before answering at step {step}: {source}")]
    PlannerGone { step: u64, source: MailboxError },
    /// An LLM exchange that cannot go on: a recording that cannot answer (a replay), or a
    /// prompt template that does not render. The message names the step or the template.
    #[error("{message}")]
    Replay { step: u64, message: String },
    #[error("the snapshot cannot be restored: {0}")]
    Restore(String),
}

/// The economy as a game the scheduler can drive.
pub struct Economy {
    params: WorldParams,
    population: Arc<Population>,
    workers: WorkerPool,
    planner: Addr<PlannerActor>,
    schedule: TaxSchedule,
    schedule_version: u64,
    tax_year_length: u64,
    years_total: u64,
    decisions: DecisionLog,
    worker_key: StreamKey,
    worker_key_seed: u64,
    /// Each worker's outcome of the last step, sent with the next step's message.
    feedback: Vec<Option<Feedback>>,
    last_rebate: f64,
    last_welfare: f64,
    year_welfare: (f64, u64),
    /// The last settlement and the hours and schedule version it was computed for: when no
    /// worker changed her hours under an unchanged schedule, the outcome is the same.
    last: Option<(u64, Vec<f64>, Settlement)>,
    llm: Option<LlmRuntime>,
    /// Archetype mode: each worker's representative.
    representatives: Option<Arc<Vec<u32>>>,
    /// One record per step played.
    pub records: Vec<StepOutcome>,
    /// Why the run stopped early (an LLM budget), if it did.
    pub halted: Option<String>,
    /// Elections, when the population governs.
    governance: Option<GovernanceState>,
    /// A fork's pending change of planner and governance.
    swap: Option<ForkSwap>,
    /// Where to write snapshots, if anywhere.
    snapshots: Option<SnapshotPlan>,
    /// Snapshots written, and snapshots that could not be written (the run goes on).
    pub snapshots_written: u64,
    pub snapshots_failed: u64,
}

/// The economy's own state between two steps, as a snapshot keeps it: what the scenario and
/// the population cannot give back. (The last settlement is recomputed from the hours: it is
/// a pure function of them and of the schedule in force.)
#[derive(serde::Serialize, serde::Deserialize)]
pub struct EconomyMemory {
    schedule: TaxSchedule,
    schedule_version: u64,
    years_total: u64,
    feedback: Vec<Option<Feedback>>,
    last_rebate: f64,
    last_welfare: f64,
    year_welfare: (f64, u64),
    /// The hours of the last step and the schedule version they were settled under.
    last_hours: Option<(u64, Vec<f64>)>,
    records: Vec<StepOutcome>,
    /// Elected governance: the leader and the elections held.
    governance: Option<(Option<u64>, Vec<ElectionRow>)>,
}

impl GovernanceState {
    /// The elected governance of `scenario`, if it asks for one.
    fn start(scenario: &Scenario) -> Option<GovernanceState> {
        (scenario.governance.mode == GovernanceMode::Election).then(|| {
            let rule = crate::governance::rule(&scenario.governance.rule)
                .expect("a validated scenario names a known rule");
            GovernanceState {
                rule_needs_ballots: rule.needs_ballots(),
                coordinator: VotingCoordinator::new(rule, scenario.simulation.seed).start(),
                config: scenario.governance.clone(),
                leader: None,
                max_delta: scenario.planner.max_delta_points,
                held: Vec::new(),
            }
        })
    }
}

/// A fork's change of leadership at a given step (see `run::fork_run`).
pub struct ForkSwap {
    pub at_step: u64,
    /// The child scenario: its planner, governance and length take over at `at_step`.
    pub child: Scenario,
    pub planner: Box<dyn PlannerPolicy>,
}

/// The state of elected governance between tax years.
struct GovernanceState {
    config: Governance,
    coordinator: Addr<VotingCoordinator>,
    rule_needs_ballots: bool,
    leader: Option<u64>,
    max_delta: i32,
    /// Elections held.
    held: Vec<ElectionRow>,
}

/// One election, as `elections.csv` lists it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ElectionRow {
    pub tax_year: u64,
    pub step: u64,
    pub rule: String,
    pub winner: u64,
    pub margin: f64,
    pub turnout: f64,
    pub candidates: usize,
    pub ballots: usize,
    pub exhausted: usize,
    pub tie_broken: bool,
}

/// The world parameters of a scenario.
pub fn world_params(scenario: &Scenario) -> WorldParams {
    WorldParams {
        form: scenario.utility_form(),
        welfare: scenario.welfare_kind(),
        rebate_equal: scenario.economy.rebate == RebateRule::Equal,
        max_hours: scenario.economy.max_hours,
    }
}

/// Archetype mode: workers sorted by skill are cut into `buckets` groups of (nearly) equal
/// size, and each group's median-skill member decides for the whole group (one LLM exchange
/// per group instead of one per worker, as AgentTorch does). Returns each worker's
/// representative.
pub fn archetype_representatives(skills: &[f64], buckets: usize) -> Vec<u32> {
    let n = skills.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by(|&a, &b| {
        skills[a as usize]
            .total_cmp(&skills[b as usize])
            .then(a.cmp(&b))
    });
    let k = buckets.clamp(1, n.max(1));
    let mut rep = vec![0u32; n];
    for g in 0..k {
        let group = &order[n * g / k..n * (g + 1) / k];
        if let Some(&median) = group.get(group.len() / 2) {
            for &w in group {
                rep[w as usize] = median;
            }
        }
    }
    rep
}

/// The worker-policy factory of a scenario (called on each shard's thread).
fn worker_factory(
    scenario: &Scenario,
    population: &Arc<Population>,
    llm: Option<&LlmRuntime>,
    representatives: Option<Arc<Vec<u32>>>,
) -> AgentFactory<Worker> {
    let population = Arc::clone(population);
    let form = scenario.utility_form();
    let max_hours = scenario.economy.max_hours;
    let w = scenario.workers.clone();
    let llm_settings = llm.map(|rt| {
        Arc::new(LlmWorkerSettings {
            gateway: Arc::clone(&rt.gateway),
            prompts: Arc::clone(&rt.prompts),
            max_tokens: scenario.llm.max_tokens,
            history_window: scenario.llm.history_window,
            best_k: scenario.llm.best_k,
            satisfaction: w.satisfaction,
            timesteps: scenario.simulation.timesteps,
        })
    });
    Arc::new(move |id| {
        let follows = representatives
            .as_ref()
            .is_some_and(|r| r[id] as usize != id);
        let policy: Box<dyn WorkerPolicy> = match (w.policy, &llm_settings) {
            // A follower's hours are its representative's; it asks nothing itself.
            (WorkerPolicyName::Llm, _) if follows => Box::new(Fixed(0.0)),
            (WorkerPolicyName::Rational, _) => Box::new(Rational::default()),
            (WorkerPolicyName::Bounded, _) => {
                Box::new(Bounded::new(w.explore_steps, w.exploration_rate))
            }
            (WorkerPolicyName::Fixed, _) => Box::new(Fixed(w.fixed_hours)),
            (WorkerPolicyName::Llm, Some(settings)) => {
                let persona = match w.personas {
                    PersonaSource::None => PersonaPlan::None,
                    PersonaSource::Template => PersonaPlan::Text(population.card(id).persona),
                    PersonaSource::Llm => {
                        let card = population.card(id);
                        PersonaPlan::Generate {
                            occupation: card.occupation,
                            sex: card.sex,
                            age: card.age,
                            income: card.income,
                            fallback: card.persona,
                        }
                    }
                };
                Box::new(LlmWorker::new(Arc::clone(settings), persona))
            }
            // Economy::start always passes the runtime when workers use the LLM.
            (WorkerPolicyName::Llm, None) => Box::new(Fixed(40.0)),
        };
        Worker {
            profile: WorkerProfile {
                id: id as u32,
                skill: population.skills[id],
                utility_type: population.utility_types[id],
                form,
                max_hours,
            },
            policy,
        }
    })
}

impl Economy {
    /// Starts the worker and planner actors for `scenario`. Must run inside an actix System.
    pub async fn start(
        scenario: &Scenario,
        population: Arc<Population>,
        planner: Box<dyn PlannerPolicy>,
        llm: Option<LlmRuntime>,
    ) -> Economy {
        let n = population.len();
        // Offline decisions are instant: small windows keep the in-flight messages in cache.
        // LLM decisions wait on the network: every worker's request should be in flight at
        // once, up to the gateway's own concurrency cap, so the window is the whole shard.
        let window = if scenario.workers.policy == WorkerPolicyName::Llm {
            n.max(1)
        } else {
            PopulationOptions::default().window
        };
        let options = PopulationOptions {
            shards: scenario.simulation.shards,
            window,
        };
        // Archetype mode: who decides for whom, computed once for the factory and the game.
        let representatives = (scenario.workers.policy == WorkerPolicyName::Llm
            && scenario.llm.archetypes > 0)
            .then(|| {
                Arc::new(archetype_representatives(
                    &population.skills,
                    scenario.llm.archetypes,
                ))
            });
        let workers = WorkerPool::spawn(
            n,
            options,
            worker_factory(scenario, &population, llm.as_ref(), representatives.clone()),
        )
        .await;
        let cutoffs = scenario
            .cutoffs()
            .expect("a validated scenario has valid brackets");
        let schedule = TaxSchedule::uniform(cutoffs, scenario.planner.initial_rate)
            .expect("a validated scenario has a valid initial rate");
        let l = scenario.simulation.tax_year_length;
        Economy {
            params: world_params(scenario),
            population,
            workers,
            planner: PlannerActor::new(planner).start(),
            schedule,
            schedule_version: 0,
            tax_year_length: l,
            years_total: scenario.simulation.timesteps.div_ceil(l),
            decisions: scenario.log.decisions,
            worker_key: StreamKey::new(scenario.simulation.seed, "worker"),
            worker_key_seed: scenario.simulation.seed,
            feedback: vec![None; n],
            last_rebate: 0.0,
            last_welfare: 0.0,
            year_welfare: (0.0, 0),
            last: None,
            governance: GovernanceState::start(scenario),
            swap: None,
            snapshots: None,
            snapshots_written: 0,
            snapshots_failed: 0,
            representatives,
            llm,
            records: Vec::new(),
            halted: None,
        }
    }

    /// Writes a snapshot after every `plan.every_years` tax years.
    pub fn snapshot_into(&mut self, plan: SnapshotPlan) {
        self.snapshots = (plan.every_years > 0).then_some(plan);
    }

    /// Puts the run back in the state `snapshot` kept, ready to play `snapshot.next_step`.
    /// Called on a freshly started economy of the same run (same scenario, and for a fork,
    /// the same swap).
    pub async fn restore(&mut self, snapshot: RunSnapshot) -> Result<(), GameError> {
        let m = snapshot.economy;
        let n = self.population.len();
        if m.feedback.len() != n || snapshot.workers.len() != n {
            return Err(GameError::Restore(format!(
                "it holds {} workers, the run has {n}",
                snapshot.workers.len()
            )));
        }
        // A fork that had already changed hands by then changes hands first.
        if self
            .swap
            .as_ref()
            .is_some_and(|s| s.at_step < snapshot.next_step)
        {
            self.apply_swap();
        }
        match (self.governance.as_mut(), m.governance) {
            (Some(g), Some((leader, held))) => {
                g.leader = leader;
                g.held = held;
            }
            (None, None) => {}
            _ => {
                return Err(GameError::Restore(
                    "it was taken under another form of governance".into(),
                ));
            }
        }
        self.schedule = m.schedule;
        self.schedule_version = m.schedule_version;
        self.years_total = m.years_total;
        self.feedback = m.feedback;
        self.last_rebate = m.last_rebate;
        self.last_welfare = m.last_welfare;
        self.year_welfare = m.year_welfare;
        self.records = m.records;
        self.last = m.last_hours.map(|(version, hours)| {
            let s = settle(
                &self.params,
                &self.schedule,
                &self.population.skills,
                &self.population.weights,
                &hours,
            );
            (version, hours, s)
        });
        self.workers.restore(snapshot.workers).await?;
        self.planner
            .send(RestorePlanner(snapshot.planner))
            .await
            .map_err(|source| GameError::PlannerGone {
                step: snapshot.next_step,
                source,
            })?
            .map_err(|e| GameError::Restore(format!("the planner's memory: {e}")))?;
        if let (Some(rt), Some(stats)) = (&self.llm, snapshot.llm_stats) {
            rt.gateway.restore_stats(stats);
        }
        Ok(())
    }

    /// The economy's own state now (between steps).
    fn memory(&self) -> EconomyMemory {
        EconomyMemory {
            schedule: self.schedule.clone(),
            schedule_version: self.schedule_version,
            years_total: self.years_total,
            feedback: self.feedback.clone(),
            last_rebate: self.last_rebate,
            last_welfare: self.last_welfare,
            year_welfare: self.year_welfare,
            last_hours: self.last.as_ref().map(|(v, h, _)| (*v, h.clone())),
            records: self.records.clone(),
            governance: self.governance.as_ref().map(|g| (g.leader, g.held.clone())),
        }
    }

    /// A fork changes hands: the child's planner (fresh, with no memory) and governance take
    /// over, and the child's length sets the planner's horizon.
    fn apply_swap(&mut self) {
        let Some(swap) = self.swap.take() else { return };
        self.planner = PlannerActor::new(swap.planner).start();
        let held = self.governance.take().map(|g| g.held).unwrap_or_default();
        self.governance = GovernanceState::start(&swap.child);
        if let Some(g) = self.governance.as_mut() {
            g.held = held;
        }
        self.years_total = swap
            .child
            .simulation
            .timesteps
            .div_ceil(self.tax_year_length);
    }

    /// The schedule in force.
    pub fn schedule(&self) -> &TaxSchedule {
        &self.schedule
    }

    /// Makes this run a fork: until `swap.at_step` it is the parent run; from then on the
    /// child's planner (fresh, with no memory) and governance decide.
    pub fn fork_at(&mut self, swap: ForkSwap) {
        self.swap = Some(swap);
    }

    /// Archetype mode: each worker's representative (none when the mode is off).
    pub fn representatives(&self) -> Option<&[u32]> {
        self.representatives.as_deref().map(Vec::as_slice)
    }

    /// The elections held so far (empty under a planner).
    pub fn elections(&self) -> &[ElectionRow] {
        self.governance.as_ref().map_or(&[], |g| &g.held)
    }

    /// Every worker's own utility at the last step played.
    pub fn last_utilities(&self) -> &[f64] {
        self.last.as_ref().map_or(&[], |(_, _, s)| &s.utilities)
    }

    /// The LLM runtime, if agents use one.
    pub fn llm(&self) -> Option<&LlmRuntime> {
        self.llm.as_ref()
    }

    /// Stops the actors.
    pub fn stop(self) {
        self.workers.stop();
    }

    /// A tax year under elected governance: an election if one is due (candidacies, ballots
    /// from every worker, the coordinator's count), then the leader's move (or, in a
    /// referendum, the adopted schedule).
    async fn election_turn(
        &mut self,
        step: u64,
        tax_year: u64,
        frames: &mut StepFrames<Frame>,
    ) -> Result<(), GameError> {
        let observed_welfare = self.close_year();
        let gov = self
            .governance
            .as_ref()
            .expect("called under elected governance");
        let cfg = gov.config.clone();
        let cutoffs = self.schedule.cutoffs().to_vec();
        let book = Arc::new(platform_book(
            &self.params,
            &self.schedule,
            &self.population.skills,
            &self.population.weights,
            gov.max_delta,
        ));
        let referendum = cfg.rule == "referendum";
        let due = tax_year.is_multiple_of(cfg.term_years) || (gov.leader.is_none() && !referendum);
        let n = self.population.len();
        let mut adopted: Option<usize> = None;
        let mut exchanges = Vec::new();
        let mut leader = gov.leader;

        if due {
            let mut view = ElectionView {
                tax_year,
                step,
                cutoffs: cutoffs.clone(),
                current_rates: self.schedule.rates().to_vec(),
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
                        &WorkerCall::Stand(Arc::new(view.clone())),
                        vec![None; n],
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
                        .step(step, &WorkerCall::Vote(Arc::new(view)), vec![None; n])
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
                let all = (0..n as u64)
                    .map(|id| Candidate { id, option: 0 })
                    .collect();
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
                if let Some(g) = self.governance.as_mut() {
                    g.held.push(row);
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
        if let Some(g) = self.governance.as_mut() {
            g.leader = leader;
        }
        let option = adopted.unwrap_or(0);
        let previous = self.schedule.clone();
        self.schedule = TaxSchedule::new(cutoffs, book[option].rates.clone())
            .expect("book schedules are valid");
        if previous != self.schedule {
            self.schedule_version += 1;
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
            cutoffs: self.schedule.cutoffs().to_vec(),
            rates: self.schedule.rates().to_vec(),
        }));
        for e in exchanges {
            frames.push(Frame::Llm(e));
        }
        Ok(())
    }

    /// Ends the tax year's welfare tally: its mean welfare (none before the first year).
    fn close_year(&mut self) -> Option<f64> {
        let (sum, count) = std::mem::take(&mut self.year_welfare);
        (count > 0).then(|| sum / count as f64)
    }

    async fn planner_turn(
        &mut self,
        step: u64,
        tax_year: u64,
        frames: &mut StepFrames<Frame>,
    ) -> Result<(), GameError> {
        let steps_in_year = self.year_welfare.1 as usize;
        let observed_welfare = self.close_year();
        // Every figure of the year is a mean over the same steps as its welfare.
        let year = &self.records[self.records.len().saturating_sub(steps_in_year)..];
        let year_mean =
            |f: fn(&StepOutcome) -> f64| year.iter().map(f).sum::<f64>() / year.len().max(1) as f64;
        let last_year = match (&self.last, self.records.last()) {
            (Some((_, _, s)), Some(r)) if observed_welfare.is_some() => Some(YearObservation {
                welfare: observed_welfare.unwrap_or(r.welfare),
                revenue: year_mean(|r| r.revenue),
                mean_hours: year_mean(|r| r.mean_hours),
                gini: year_mean(|r| r.gini),
                incomes: Arc::new(s.incomes.clone()),
                utilities: Arc::new(s.utilities.clone()),
            }),
            _ => None,
        };
        let input = PlannerInput {
            tax_year,
            years_total: self.years_total,
            step,
            current: self.schedule.clone(),
            observed_welfare,
            last_year,
        };
        let proposal = self
            .planner
            .send(ProposeSchedule(input))
            .await
            .map_err(|source| GameError::PlannerGone { step, source })?;
        if let Some(message) = proposal.fatal {
            return Err(GameError::Replay { step, message });
        }
        let previous = std::mem::replace(&mut self.schedule, proposal.schedule);
        if previous != self.schedule {
            self.schedule_version += 1;
        }
        // A move is expressed in points only when the brackets are the same.
        let deltas_points = if previous.cutoffs() == self.schedule.cutoffs() {
            previous
                .rates()
                .iter()
                .zip(self.schedule.rates())
                .map(|(a, b)| ((b - a) * 100.0).round() as i32)
                .collect()
        } else {
            Vec::new()
        };
        frames.push(Frame::PlannerMove(PlannerMove {
            step,
            tax_year,
            policy: proposal.policy.to_string(),
            observed_welfare,
            previous_rates: previous.rates().to_vec(),
            deltas_points,
            cutoffs: self.schedule.cutoffs().to_vec(),
            rates: self.schedule.rates().to_vec(),
        }));
        for e in proposal.exchanges {
            frames.push(Frame::Llm(e));
        }
        Ok(())
    }

    fn log_decisions(&self, step: u64, hours: &[f64], frames: &mut StepFrames<Frame>) {
        match self.decisions {
            DecisionLog::Full => {
                for (b, block) in hours.chunks(DECISION_BLOCK).enumerate() {
                    frames.push(Frame::Decisions {
                        step,
                        first_agent: (b * DECISION_BLOCK) as u64,
                        hours: block.to_vec(),
                    });
                }
            }
            DecisionLog::Digest => frames.push(Frame::DecisionDigest {
                step,
                agents: hours.len() as u64,
                fnv1a: hours_digest(hours),
            }),
        }
    }

    /// Settles the step, reusing the last settlement when nothing changed.
    fn settle(&mut self, hours: Vec<f64>) {
        let reusable =
            matches!(&self.last, Some((v, h, _)) if *v == self.schedule_version && *h == hours);
        if !reusable {
            let s = settle(
                &self.params,
                &self.schedule,
                &self.population.skills,
                &self.population.weights,
                &hours,
            );
            self.last = Some((self.schedule_version, hours, s));
        }
    }
}

impl Game for Economy {
    type Frame = Frame;
    type Error = GameError;

    async fn step(&mut self, step: u64, frames: &mut StepFrames<Frame>) -> Result<Flow, GameError> {
        let tax_year = step / self.tax_year_length;
        let step_in_year = step % self.tax_year_length;
        if self.swap.as_ref().is_some_and(|s| s.at_step == step) {
            self.apply_swap();
        }
        frames.push(Frame::StepBegin { step, tax_year });
        if step_in_year == 0 {
            if self.governance.is_some() {
                self.election_turn(step, tax_year, frames).await?;
            } else {
                self.planner_turn(step, tax_year, frames).await?;
            }
        }

        let view = WorkerView {
            step,
            tax_year,
            step_in_year,
            last_step_of_year: step_in_year + 1 == self.tax_year_length,
            schedule: self.schedule.clone(),
            schedule_version: self.schedule_version,
            rebate: self.last_rebate,
            rng_key: self.worker_key,
        };
        let feedback = std::mem::take(&mut self.feedback);
        let replies = self
            .workers
            .step(step, &WorkerCall::Step(view), feedback)
            .await?;
        // A replay that could not answer a request stops before logging anything of the step:
        // the message names the first worker (by id) whose request differed.
        if let Some(message) = replies.iter().find_map(|r| r.fatal().cloned()) {
            return Err(GameError::Replay { step, message });
        }
        let mut hours: Vec<f64> = replies.iter().map(|r| r.hours).collect();
        if let Some(rep) = self.representatives.as_deref() {
            for (h, &r) in hours.iter_mut().zip(rep) {
                *h = replies[r as usize].hours;
            }
        }
        self.log_decisions(step, &hours, frames);
        // LLM exchanges follow the decisions, in worker-id order, each worker's in attempt order.
        for reply in replies {
            let Some(extra) = reply.extra else { continue };
            for e in extra.exchanges {
                frames.push(Frame::Llm(e));
            }
        }

        let previous_welfare = self.last_welfare;
        self.settle(hours);
        let (_, hours, s) = self.last.as_ref().expect("settled just above");
        let feedback = hours
            .iter()
            .zip(&s.utilities)
            .zip(&self.population.utility_types)
            .map(|((&h, &u), t)| {
                let perceived = match t {
                    UtilityType::Egotistical => u,
                    UtilityType::Altruistic => previous_welfare,
                    UtilityType::Adversarial => -previous_welfare,
                };
                Some(Feedback {
                    hours: h,
                    utility: perceived,
                })
            })
            .collect();
        let outcome = StepOutcome {
            step,
            tax_year,
            rates: self.schedule.rates().to_vec(),
            revenue: s.revenue,
            rebate: s.rebate,
            welfare: s.welfare,
            gini: s.gini,
            mean_hours: s.mean_hours,
            mean_income: s.mean_income,
            mean_utility: s.mean_utility,
        };
        self.feedback = feedback;
        self.last_rebate = outcome.rebate;
        self.last_welfare = outcome.welfare;
        self.year_welfare.0 += outcome.welfare;
        self.year_welfare.1 += 1;
        frames.push(Frame::Outcome(outcome.clone()));
        self.records.push(outcome);
        // Budgets and the fallback share are checked between steps, so a stopped run's log
        // ends on a whole step.
        if let Some(reason) = self.llm.as_ref().and_then(|l| l.gateway.halt_reason()) {
            self.halted = Some(reason);
            return Ok(Flow::Halt);
        }
        Ok(Flow::Continue)
    }

    fn checkpoint_due(&self, step: u64) -> bool {
        self.snapshots.as_ref().is_some_and(|p| p.due_after(step))
    }

    /// Writes the snapshot that restores to `step + 1`. A snapshot that cannot be written
    /// (a full disk, say) is reported and counted, and the run goes on: the log alone can
    /// always be resumed.
    async fn checkpoint(&mut self, step: u64, log: LogDigest) -> Result<(), GameError> {
        let Some(plan) = self.snapshots.clone() else {
            return Ok(());
        };
        let workers = self.workers.save().await?;
        let planner = self
            .planner
            .send(SavePlanner)
            .await
            .map_err(|source| GameError::PlannerGone { step, source })?;
        let snapshot = RunSnapshot {
            next_step: step + 1,
            log,
            header_sha256: plan.header_sha256.clone(),
            every_years: plan.every_years,
            economy: self.memory(),
            planner,
            workers,
            llm_stats: self.llm.as_ref().map(|rt| rt.gateway.stats().by_role),
        };
        let path = crate::snapshot::path_for(&plan.dir, step + 1);
        let written = std::fs::create_dir_all(&plan.dir)
            .map_err(|e| format!("{}: {e}", plan.dir.display()))
            .and_then(|_| {
                simulacra_actors::snapshot::write_snapshot(&path, &snapshot, plan.sync)
                    .map_err(|e| e.to_string())
            });
        match written {
            Ok(bytes) => {
                self.snapshots_written += 1;
                tracing::debug!(step, bytes, path = %path.display(), "snapshot written");
            }
            Err(e) => {
                self.snapshots_failed += 1;
                let _ = std::fs::remove_file(path.with_extension("snap.tmp"));
                eprintln!(
                    "warning: the snapshot after step {step} could not be written ({e}); the \
                     run goes on, and a resume would start from an earlier snapshot or the log"
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::archetype_representatives;

    #[test]
    fn archetypes_group_by_skill_and_pick_the_median_member() {
        // Skills by id: 50, 10, 40, 20, 30 -> order by skill: 1, 3, 4, 2, 0.
        // Two buckets: [1, 3] (median index 1 -> worker 3) and [4, 2, 0] (-> worker 2).
        let rep = archetype_representatives(&[50.0, 10.0, 40.0, 20.0, 30.0], 2);
        assert_eq!(rep, vec![2, 3, 2, 3, 2]);
        // As many buckets as workers: everyone decides for herself.
        let own = archetype_representatives(&[3.0, 1.0, 2.0], 10);
        assert_eq!(own, vec![0, 1, 2]);
    }
}
