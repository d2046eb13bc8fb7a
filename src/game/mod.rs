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

mod elected;
mod electorate;
mod federal;
mod leader;
mod location;
mod moves;
mod region_setup;
mod regions;
mod workers;

use elected::GovernanceState;
pub use region_setup::{RegionSwap, region_scenario};
pub use workers::archetype_representatives;
use workers::worker_factory;

use std::sync::Arc;

use actix::prelude::*;
use simulacra_actors::cohort::CohortOptions;
use simulacra_actors::{Flow, Game, LogDigest, LogError, RuntimeError, StepFrames, StreamKey};
use tracing::Instrument;

use crate::agents::planner::{RestorePlanner, SavePlanner};
use crate::agents::{PlannerActor, ProposeSchedule, Worker, WorkerCall};
use crate::config::{DecisionLog, Scenario, WorkerPolicyName};
use crate::econ::{Settlement, TaxSchedule, UtilityType, WorldParams, settle};
use crate::frames::{DECISION_BLOCK, Frame, PlannerMove, StepOutcome, hours_digest};
use crate::llm::LlmRuntime;
use crate::memory::{EconomyState, ElectedState, ElectionRow};
use crate::policy::{Feedback, PlannerInput, PlannerPolicy, WorkerView, YearObservation};
use crate::population::Population;
use crate::resolved::ResolvedScenario;
use crate::snapshot::{RunSnapshot, SnapshotPlan};

type WorkerPool = simulacra_actors::Cohort<Worker>;

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
    /// The state between steps, as a snapshot stores it.
    state: EconomyState,
    /// One record per step played (not in a snapshot: a restored run reads them from the log).
    records: Vec<StepOutcome>,
    /// The settlement of `state.last_hours` (present when they are): when no worker changed
    /// her hours under an unchanged schedule, the outcome is the same.
    last_settlement: Option<Settlement>,
    tax_year_length: u64,
    decisions: DecisionLog,
    worker_key: StreamKey,
    worker_key_seed: u64,
    llm: Option<LlmRuntime>,
    /// Archetype mode: each worker's representative.
    representatives: Option<Arc<Vec<u32>>>,
    /// Why the run stopped early (an LLM budget), if it did.
    pub halted: Option<String>,
    /// Elections, when the population governs.
    governance: Option<GovernanceState>,
    /// A federation's region actors (none for one nation).
    regions: Option<regions::RegionActors>,
    /// A fork's pending change of planner and governance.
    swap: Option<ForkSwap>,
    /// Where to write snapshots, if anywhere.
    snapshots: Option<SnapshotPlan>,
    /// Snapshots written, and snapshots that could not be written (the run goes on).
    pub snapshots_written: u64,
    pub snapshots_failed: u64,
    /// The tracing span steps run in: the run's (current when the economy starts), or a
    /// baseline's. The scheduler polls steps on its own, so the span travels with the game.
    span: tracing::Span,
}

/// A fork's change of leadership at a given step (see `run::fork_run`).
///
/// A fork keeps every actor's memory unless the thing that owns it changed: the workers
/// always keep theirs (a fork cannot change the people); the planner keeps its learning
/// unless `[planner]` changed; elected governance keeps its leader, its term and its voting
/// coordinator unless `[governance]` changed (the elections held are listed either way).
pub struct ForkSwap {
    pub at_step: u64,
    /// The child scenario: its planner, governance and length take over at `at_step`.
    pub child: Scenario,
    /// The child's new planner (fresh, with no memory), or none when `[planner]` is
    /// unchanged and the parent's planner goes on with what it has learnt.
    pub planner: Option<Box<dyn PlannerPolicy>>,
    /// Whether `[governance]` changed: a new rule starts with no leader.
    pub new_governance: bool,
    /// A federation's changed policies (at a tax year's first step), if any.
    pub regions: Option<RegionSwap>,
}

impl Economy {
    /// Starts the worker and planner actors for `scenario`. Must run inside an actix System.
    pub async fn start(
        scenario: &ResolvedScenario,
        population: Arc<Population>,
        planner: Box<dyn PlannerPolicy>,
        llm: Option<LlmRuntime>,
    ) -> Economy {
        let n = population.len();
        // Offline decisions are instant: small windows keep the in-flight messages in cache.
        // LLM decisions wait on the network: enough workers must be asking to keep every slot
        // of the gateway's concurrency cap busy (four times it, so a slow answer does not
        // idle the others), but no more: a worker's rendered prompt lives while she waits, and
        // a window of the whole population would hold every prompt of the step at once.
        let window = if scenario.workers.policy == WorkerPolicyName::Llm {
            n.clamp(1, scenario.llm.concurrency.saturating_mul(4).max(64))
        } else {
            CohortOptions::default().window
        };
        let options = CohortOptions {
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
        let l = scenario.simulation.tax_year_length;
        let governance = GovernanceState::start(scenario, scenario.world.welfare, llm.as_ref());
        Economy {
            params: scenario.world.clone(),
            population,
            workers,
            planner: PlannerActor::new(planner).start(),
            state: EconomyState {
                schedule: scenario.initial_schedule.clone(),
                schedule_version: 0,
                years_total: scenario.simulation.timesteps.div_ceil(l),
                feedback: vec![None; n],
                last_rebate: 0.0,
                last_welfare: 0.0,
                year_welfare: (0.0, 0),
                last_hours: None,
                governance: governance.as_ref().map(|_| ElectedState::default()),
                federation: None,
            },
            last_settlement: None,
            tax_year_length: l,
            decisions: scenario.log.decisions,
            worker_key: StreamKey::new(scenario.simulation.seed, "worker"),
            worker_key_seed: scenario.simulation.seed,
            governance,
            regions: None,
            swap: None,
            snapshots: None,
            snapshots_written: 0,
            snapshots_failed: 0,
            representatives,
            llm,
            halted: None,
            records: Vec::new(),
            span: tracing::Span::current(),
        }
    }

    /// Traces this game's steps inside `span` (a baseline's, say) instead of the current one.
    pub fn trace_in(&mut self, span: tracing::Span) {
        self.span = span;
    }

    /// Writes a snapshot after every `plan.every_years` tax years.
    pub fn snapshot_into(&mut self, plan: SnapshotPlan) {
        self.snapshots = (plan.every_years > 0).then_some(plan);
    }

    /// Puts the run back in the state `snapshot` kept, ready to play `snapshot.next_step`.
    /// Called on a freshly started economy of the same run (same scenario, and for a fork,
    /// the same swap).
    /// `records` are the outcomes of the steps before the snapshot, read from its log.
    pub async fn restore(
        &mut self,
        snapshot: RunSnapshot,
        records: Vec<StepOutcome>,
    ) -> Result<(), GameError> {
        if records.len() as u64 != snapshot.next_step {
            return Err(GameError::Restore(format!(
                "its log holds {} whole steps before it, not {}",
                records.len(),
                snapshot.next_step
            )));
        }
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
        if self.governance.is_some() != m.governance.is_some() {
            return Err(GameError::Restore(
                "it was taken under another form of governance".into(),
            ));
        }
        self.last_settlement = m
            .last_hours
            .as_ref()
            .map(|(_, hours)| self.settle_under(&m.schedule, hours));
        let federal = self.state.federation.is_some();
        if federal != m.federation.is_some() {
            return Err(GameError::Restore(
                "it was taken with another number of regions".into(),
            ));
        }
        self.state = m;
        if federal {
            self.resettle_federation();
            self.restore_region_planners(snapshot.next_step).await?;
        }
        self.records = records;
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

    /// A fork changes hands: what changed (a new planner, new governance) takes over fresh,
    /// what did not keeps its memory, and the child's length sets the planner's horizon.
    fn apply_swap(&mut self) {
        let Some(mut swap) = self.swap.take() else {
            return;
        };
        if let Some(regions) = swap.regions.take() {
            self.apply_region_swap(&swap.child, regions);
        }
        if let Some(planner) = swap.planner {
            self.planner = PlannerActor::new(planner).start();
        }
        if swap.new_governance {
            // The new governance starts with no leader; the elections held stay on the record.
            let held = self
                .state
                .governance
                .take()
                .map(|g| g.held)
                .unwrap_or_default();
            self.governance =
                GovernanceState::start(&swap.child, self.params.welfare, self.llm.as_ref());
            self.state.governance = self.governance.as_ref().map(|_| ElectedState {
                leader: None,
                held,
                ..ElectedState::default()
            });
        } else if let Some(g) = self.governance.as_mut() {
            // Same rule, same leader: only the leader's per-year limit is the child's.
            g.max_delta = swap.child.planner.max_delta_points;
        }
        self.state.years_total = swap
            .child
            .simulation
            .timesteps
            .div_ceil(self.tax_year_length);
    }

    /// The schedule in force.
    pub fn schedule(&self) -> &TaxSchedule {
        &self.state.schedule
    }

    /// One record per step played.
    pub fn records(&self) -> &[StepOutcome] {
        &self.records
    }

    /// Makes this run a fork: until `swap.at_step` it is the parent run; from then on the
    /// child's planner and governance decide (see [`ForkSwap`] for whose memory is kept).
    pub fn fork_at(&mut self, swap: ForkSwap) {
        self.swap = Some(swap);
    }

    /// Archetype mode: each worker's representative (none when the mode is off).
    pub fn representatives(&self) -> Option<&[u32]> {
        self.representatives.as_deref().map(Vec::as_slice)
    }

    /// The elections held so far (empty under a planner).
    pub fn elections(&self) -> &[ElectionRow] {
        self.state.governance.as_ref().map_or(&[], |g| &g.held)
    }

    /// Every worker's own utility at the last step played.
    /// Every worker's hours at the last step played (empty before the first).
    pub fn last_hours(&self) -> &[f64] {
        self.state.last_hours.as_ref().map_or(&[], |(_, h)| h)
    }

    pub fn last_utilities(&self) -> &[f64] {
        self.last_settlement.as_ref().map_or(&[], |s| &s.utilities)
    }

    /// The LLM runtime, if agents use one.
    pub fn llm(&self) -> Option<&LlmRuntime> {
        self.llm.as_ref()
    }

    /// Stops the actors.
    pub fn stop(self) {
        self.workers.stop();
    }

    /// Ends the tax year's welfare tally: its mean welfare (none before the first year).
    fn close_year(&mut self) -> Option<f64> {
        let (sum, count) = std::mem::take(&mut self.state.year_welfare);
        (count > 0).then(|| sum / count as f64)
    }

    async fn planner_turn(
        &mut self,
        step: u64,
        tax_year: u64,
        frames: &mut StepFrames<Frame>,
    ) -> Result<(), GameError> {
        let steps_in_year = self.state.year_welfare.1 as usize;
        let observed_welfare = self.close_year();
        let last_year = observed_welfare
            .and_then(|welfare| self.year_observation(steps_in_year, welfare, None));
        let input = PlannerInput {
            tax_year,
            years_total: self.state.years_total,
            step,
            current: self.state.schedule.clone(),
            observed_welfare,
            last_year,
        };
        let proposal = ask_planner(&self.planner, input, step).await?;
        let previous = std::mem::replace(&mut self.state.schedule, proposal.schedule);
        if previous != self.state.schedule {
            self.state.schedule_version += 1;
        }
        let deltas_points = regions::points(&previous, &self.state.schedule);
        tracing::info!(
            tax_year,
            step,
            policy = proposal.policy,
            observed_welfare,
            rates = ?self.state.schedule.rates(),
            "schedule set"
        );
        frames.push(Frame::PlannerMove(PlannerMove {
            step,
            tax_year,
            policy: proposal.policy.to_string(),
            observed_welfare,
            previous_rates: previous.rates().to_vec(),
            deltas_points,
            cutoffs: self.state.schedule.cutoffs().to_vec(),
            rates: self.state.schedule.rates().to_vec(),
        }));
        for e in proposal.exchanges {
            frames.push(Frame::Llm(e));
        }
        Ok(())
    }

    /// The nation's last tax year (its last `steps` steps) as a planner sees it: `welfare`,
    /// and `revenue` when given (else the nation's), hours and Gini as means over the same
    /// steps, incomes and utilities at its last step. None before any step.
    fn year_observation(
        &self,
        steps: usize,
        welfare: f64,
        revenue: Option<f64>,
    ) -> Option<YearObservation> {
        let s = self.last_settlement.as_ref()?;
        // Every figure of the year is a mean over the same steps as its welfare.
        let year = &self.records[self.records.len().saturating_sub(steps)..];
        let mean =
            |f: fn(&StepOutcome) -> f64| year.iter().map(f).sum::<f64>() / year.len().max(1) as f64;
        Some(YearObservation {
            welfare,
            revenue: revenue.unwrap_or_else(|| mean(|r| r.revenue)),
            mean_hours: mean(|r| r.mean_hours),
            gini: mean(|r| r.gini),
            incomes: Arc::new(s.incomes.clone()),
            utilities: Arc::new(s.utilities.clone()),
        })
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

    /// The pure settlement of `hours` under `schedule`.
    fn settle_under(&self, schedule: &TaxSchedule, hours: &[f64]) -> Settlement {
        settle(
            &self.params,
            schedule,
            &self.population.skills,
            &self.population.weights,
            hours,
        )
    }

    /// Settles the step, reusing the last settlement when nothing changed.
    fn settle(&mut self, hours: Vec<f64>) {
        let version = self.state.schedule_version;
        let reusable = self.last_settlement.is_some()
            && matches!(&self.state.last_hours, Some((v, h)) if *v == version && *h == hours);
        if !reusable {
            self.last_settlement = Some(self.settle_under(&self.state.schedule, &hours));
            self.state.last_hours = Some((version, hours));
        }
    }
}

/// Asks a planner actor for the coming tax year's schedule; a replay that cannot answer stops
/// the step.
async fn ask_planner(
    planner: &Addr<PlannerActor>,
    input: PlannerInput,
    step: u64,
) -> Result<crate::agents::planner::ScheduleProposal, GameError> {
    let proposal = planner
        .send(ProposeSchedule(input))
        .await
        .map_err(|source| GameError::PlannerGone { step, source })?;
    match proposal.fatal {
        Some(message) => Err(GameError::Replay { step, message }),
        None => Ok(proposal),
    }
}

impl Economy {
    /// The timestep itself (see the module's diagram).
    async fn play_step(
        &mut self,
        step: u64,
        frames: &mut StepFrames<Frame>,
    ) -> Result<Flow, GameError> {
        let tax_year = step / self.tax_year_length;
        let step_in_year = step % self.tax_year_length;
        if self.swap.as_ref().is_some_and(|s| s.at_step == step) {
            self.apply_swap();
        }
        frames.push(Frame::StepBegin { step, tax_year });
        if self.regions.is_some() {
            return self.play_federal_step(step, frames).await;
        }
        // Taken before the year's turn: the schedule and settlement are still last step's.
        let planner_state = self.planner_state(step);
        if step_in_year == 0 {
            if self.governance.is_some() {
                let span = tracing::info_span!("election", tax_year);
                self.election_turn(step, tax_year, frames, None)
                    .instrument(span)
                    .await?;
            } else {
                self.planner_turn(step, tax_year, frames).await?;
            }
        }

        let view = WorkerView {
            step,
            tax_year,
            step_in_year,
            last_step_of_year: step_in_year + 1 == self.tax_year_length,
            schedule: self.state.schedule.clone(),
            schedule_version: self.state.schedule_version,
            rebate: self.state.last_rebate,
            welfare: self.state.last_welfare,
            rng_key: self.worker_key,
            leader: self.state.governance.as_ref().and_then(elected::news),
            planner_state,
        };
        let feedback = std::mem::take(&mut self.state.feedback);
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
        // Then the endpoints that left the pool or came back (replayed from the recording).
        if let Some(rt) = &self.llm {
            for e in rt.gateway.endpoint_events(step) {
                frames.push(Frame::Endpoint(e));
            }
        }

        let previous_welfare = self.state.last_welfare;
        self.settle(hours);
        let (Some((_, hours)), Some(s)) = (&self.state.last_hours, &self.last_settlement) else {
            unreachable!("settled just above")
        };
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
            rates: self.state.schedule.rates().to_vec(),
            revenue: s.revenue,
            rebate: s.rebate,
            welfare: s.welfare,
            gini: s.gini,
            mean_hours: s.mean_hours,
            mean_income: s.mean_income,
            mean_utility: s.mean_utility,
        };
        self.state.feedback = feedback;
        Ok(self.finish_step(outcome, frames))
    }

    /// Ends a step: the nation's outcome into the state, the log and the records. Budgets and
    /// the fallback share are checked between steps, so a stopped run's log ends on a whole
    /// step.
    fn finish_step(&mut self, outcome: StepOutcome, frames: &mut StepFrames<Frame>) -> Flow {
        self.state.last_rebate = outcome.rebate;
        self.state.last_welfare = outcome.welfare;
        self.remember_own_step(outcome.step, outcome.tax_year);
        self.state.year_welfare.0 += outcome.welfare;
        self.state.year_welfare.1 += 1;
        frames.push(Frame::Outcome(outcome.clone()));
        self.records.push(outcome);
        if let Some(reason) = self.llm.as_ref().and_then(|l| l.gateway.halt_reason()) {
            self.halted = Some(reason);
            return Flow::Halt;
        }
        Flow::Continue
    }
}

impl Game for Economy {
    type Frame = Frame;
    type Error = GameError;

    /// One timestep, inside a `step` span (debug level: a run has thousands of steps).
    async fn step(&mut self, step: u64, frames: &mut StepFrames<Frame>) -> Result<Flow, GameError> {
        let span = tracing::debug_span!(parent: &self.span, "step", step);
        let span = if span.is_disabled() {
            self.span.clone()
        } else {
            span
        };
        self.play_step(step, frames).instrument(span).await
    }

    fn checkpoint_due(&self, step: u64) -> bool {
        self.snapshots.as_ref().is_some_and(|p| p.due_after(step))
    }

    /// Takes the snapshot that restores to `step + 1` and hands it to the snapshot plan to
    /// store; one that cannot be written is counted, and the run goes on.
    async fn checkpoint(&mut self, step: u64, log: LogDigest) -> Result<(), GameError> {
        let Some(plan) = self.snapshots.clone() else {
            return Ok(());
        };
        let workers = self.workers.save().await?;
        self.save_region_planners(step).await?;
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
            keep: plan.keep,
            economy: self.state.clone(),
            planner,
            workers,
            llm_stats: self.llm.as_ref().map(|rt| rt.gateway.snapshot_counts()),
        };
        // The run wing's plan writes the file; the game only counts.
        if plan.store(&snapshot) {
            self.snapshots_written += 1;
        } else {
            self.snapshots_failed += 1;
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
