//! Streaming a run's message log step by step: each step's outcome, the schedule in force, every
//! worker's hours (when the log holds them) and the step's LLM exchanges, with per-worker
//! incomes, taxes and utilities recomputed by the pure settlement, as `inspect` does.
//!
//! Used by `inspect --agent`, the exports and the report; it needs the log alone (the scenario
//! comes from the log's header).

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;

use crate::econ::federation::{FederalLayer, settle_regions};
use crate::econ::{Settlement, TaxSchedule, settle};
use crate::frames::{
    ElectionRecord, Frame, LlmExchange, MoveRecord, PlannerMove, RegionOutcome, StepOutcome,
};
use crate::population::Population;
use crate::resolved::ResolvedScenario;
use crate::runlog::{Damage, RunLog};

/// One step as the log holds it.
#[derive(Clone, Debug, Default)]
pub struct StepData {
    pub step: u64,
    pub tax_year: u64,
    /// The planner's move, on the first step of a tax year.
    pub planner_move: Option<PlannerMove>,
    /// The election held at this step, in governance scenarios.
    pub election: Option<ElectionRecord>,
    /// Cut-offs of the schedule in force (annual dollars).
    pub cutoffs: Vec<f64>,
    /// Every worker's hours, in id order; `None` when the run logged digests only.
    pub hours: Option<Vec<f64>>,
    pub outcome: Option<StepOutcome>,
    /// The step's LLM exchanges (empty for offline runs).
    pub exchanges: Vec<LlmExchange>,
    /// A federation: where every worker lives during this step (after the year's moves).
    pub region_of: Option<Arc<Vec<u32>>>,
    /// A federation: each region's outcome, and the moves and regional schedule moves of the
    /// year's first step.
    pub regions: Vec<RegionOutcome>,
    pub moves: Option<MoveRecord>,
    pub region_moves: Vec<(u32, PlannerMove)>,
    pub region_elections: Vec<(u32, ElectionRecord)>,
    /// A federation with a federal layer: the federal schedule in force.
    pub federal: Option<TaxSchedule>,
    /// LLM endpoints ejected from their pool or back in it during the step.
    pub endpoint_events: Vec<crate::frames::EndpointEvent>,
    /// A federation: how the year's movers' fixed point ended (first step of a year, under
    /// consistent expectations), and the step's welfare with location.
    pub expectations: Option<crate::frames::ExpectationRecord>,
    pub location: Option<crate::frames::LocationOutcome>,
}

/// A run opened for reading: its resolved scenario (with the world parameters) and population.
pub struct RunView {
    pub scenario: ResolvedScenario,
    pub population: Population,
    /// A federation's public goods (tastes derived from the scenario, as the run drew them).
    pub public_good: Option<crate::econ::federation::PublicGoods>,
}

impl RunView {
    /// Reads the header and rebuilds the population (deterministic from the header's scenario).
    pub fn open(run_dir: &Path) -> anyhow::Result<RunView> {
        let scenario = ResolvedScenario::new(RunLog::open(run_dir)?.scenario)?;
        let population = Population::generate(&scenario);
        let public_good = crate::resolved::public_goods(&scenario, population.len());
        Ok(RunView {
            scenario,
            population,
            public_good,
        })
    }

    /// Whether outputs derived from this run are fsynced (the run's `log.fsync` policy).
    pub fn fsync(&self) -> bool {
        crate::run::header::fsync_outputs(&self.scenario)
    }

    /// Per-worker incomes, taxes and utilities of one step, recomputed from its logged hours.
    pub fn settle(&self, step: &StepData) -> anyhow::Result<Option<Settlement>> {
        let (Some(hours), Some(outcome)) = (&step.hours, &step.outcome) else {
            return Ok(None);
        };
        if hours.len() != self.population.len() {
            return Ok(None);
        }
        if let Some(region_of) = &step.region_of {
            let schedules = step
                .regions
                .iter()
                .map(|r| TaxSchedule::new(r.cutoffs.clone(), r.rates.clone()))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Some(
                settle_regions(
                    &self.scenario.world,
                    &schedules,
                    federal_layer(&self.scenario, step.federal.as_ref()),
                    self.public_good.as_ref(),
                    region_of,
                    &self.population.skills,
                    &self.population.weights,
                    hours,
                )
                .national,
            ));
        }
        let schedule = TaxSchedule::new(step.cutoffs.clone(), outcome.rates.clone())?;
        Ok(Some(settle(
            &self.scenario.world,
            &schedule,
            &self.population.skills,
            &self.population.weights,
            hours,
        )))
    }
}

/// The federal layer of a federation's step, from the scenario and the schedule in force.
pub fn federal_layer<'a>(
    scenario: &crate::config::Scenario,
    schedule: Option<&'a TaxSchedule>,
) -> Option<FederalLayer<'a>> {
    let f = scenario.regions()?;
    schedule.map(|schedule| f.federal_layer(schedule))
}

/// Calls `f` for every complete step of the log, in order; `with_hours` = false skips decoding
/// the per-worker hours (faster for aggregate views). Returns where and why the log ended
/// badly, if it did (every whole step before is delivered).
pub fn scan(
    run_dir: &Path,
    with_hours: bool,
    mut f: impl FnMut(StepData) -> anyhow::Result<()>,
) -> anyhow::Result<Option<Damage>> {
    let log = RunLog::open(run_dir)?;
    let mut cutoffs = ResolvedScenario::new(log.scenario.clone())?.cutoffs;
    let mut current: Option<StepData> = None;
    let mut federal: Option<TaxSchedule> = None;
    // A federation's residences, from the starting blocks and every logged move.
    let mut region_of: Option<Arc<Vec<u32>>> = log.scenario.regions().map(|_| {
        Arc::new(crate::resolved::starting_regions(
            &log.scenario,
            log.scenario.simulation.num_agents,
        ))
    });
    let damaged = log.frames(|frame, _| {
        match frame {
            Frame::StepBegin { step, tax_year } => {
                if let Some(done) = current.take() {
                    f(done)?;
                }
                current = Some(StepData {
                    step,
                    tax_year,
                    cutoffs: cutoffs.clone(),
                    region_of: region_of.clone(),
                    federal: federal.clone(),
                    ..StepData::default()
                });
            }
            Frame::PlannerMove(m) => {
                cutoffs = m.cutoffs.clone();
                if let Some(c) = current.as_mut() {
                    c.cutoffs = m.cutoffs.clone();
                    c.planner_move = Some(m);
                }
            }
            Frame::Decisions {
                first_agent, hours, ..
            } => {
                if let (true, Some(c)) = (with_hours, current.as_mut()) {
                    let all = c.hours.get_or_insert_with(Vec::new);
                    if first_agent as usize != all.len() {
                        bail!(
                            "the log's decision blocks for step {} are out of order",
                            c.step
                        );
                    }
                    all.extend_from_slice(&hours);
                }
            }
            Frame::DecisionDigest { .. } => {}
            Frame::Endpoint(e) => {
                if let Some(c) = current.as_mut() {
                    c.endpoint_events.push(e);
                }
            }
            Frame::MoverExpectations(e) => {
                if let Some(c) = current.as_mut() {
                    c.expectations = Some(e);
                }
            }
            Frame::Location(l) => {
                if let Some(c) = current.as_mut() {
                    c.location = Some(l);
                }
            }
            Frame::Outcome(o) => {
                if let Some(c) = current.as_mut() {
                    c.outcome = Some(o);
                }
            }
            Frame::Election(e) => {
                if let Some(c) = current.as_mut() {
                    c.election = Some(e);
                }
            }
            Frame::Llm(e) => {
                if let Some(c) = current.as_mut() {
                    c.exchanges.push(e);
                }
            }
            Frame::Moves(m) => {
                if let Some(map) = region_of.as_mut() {
                    let map = Arc::make_mut(map);
                    for &(id, _, to) in &m.moves {
                        if let Some(r) = map.get_mut(id as usize) {
                            *r = to;
                        }
                    }
                }
                if let Some(c) = current.as_mut() {
                    c.region_of = region_of.clone();
                    c.moves = Some(m);
                }
            }
            Frame::InRegion { region, frame } => match (*frame, current.as_mut()) {
                (Frame::PlannerMove(m), Some(c)) => c.region_moves.push((region, m)),
                (Frame::Election(e), Some(c)) => c.region_elections.push((region, e)),
                _ => {}
            },
            Frame::RegionOutcome(o) => {
                if let Some(c) = current.as_mut() {
                    c.regions.push(o);
                }
            }
            Frame::FederalMove(m) => {
                federal = Some(TaxSchedule::new(m.cutoffs, m.rates)?);
                if let Some(c) = current.as_mut() {
                    c.federal = federal.clone();
                }
            }
        }
        Ok(())
    })?;
    if let Some(done) = current.take() {
        // A step cut off before its outcome is not delivered.
        if done.outcome.is_some() {
            f(done)?;
        }
    }
    Ok(damaged)
}

/// The part of `summary.json` that says how much log the finished run wrote. Read without
/// checking the log's SHA-256: a log cut after the run finished no longer has it, and the point
/// is to say how much of it is missing.
#[derive(serde::Deserialize)]
struct Recorded {
    steps_run: u64,
    log_bytes: u64,
}

fn recorded(run_dir: &Path) -> anyhow::Result<Option<Recorded>> {
    let path = run_dir.join("summary.json");
    let file = match simulacra_actors::log::open_regular(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    serde_json::from_reader(std::io::BufReader::new(file))
        .map(Some)
        .map_err(|e| {
            anyhow::anyhow!(
                "{} is not a simulacra summary ({e}); move it away to read the log alone",
                path.display()
            )
        })
}

/// Why a log holds less of its run than it should, when it does: a corrupt or out-of-place
/// frame; fewer steps or bytes than `summary.json` records; or, without a summary, fewer steps
/// than the scenario's `simulation.timesteps` (a run that was stopped, failed or is running).
/// `steps_held` is the number of whole steps a reader found before `damaged`.
pub fn shortfall(
    run_dir: &Path,
    steps_held: u64,
    damaged: Option<&Damage>,
) -> anyhow::Result<Option<String>> {
    let log = run_dir.join(crate::runlog::LOG_FILE);
    if let Some(d) = damaged.filter(|d| !d.torn) {
        return Ok(Some(format!("{}: {d}", log.display())));
    }
    let log_len = std::fs::metadata(&log).map_or(0, |m| m.len());
    let torn = if damaged.is_some() {
        " and the start of an unfinished step"
    } else {
        ""
    };
    if let Some(r) = recorded(run_dir)? {
        if steps_held < r.steps_run || log_len < r.log_bytes {
            return Ok(Some(format!(
                "{} ({log_len} bytes) holds {steps_held} whole steps{torn}, but {} records a \
                 finished run of {} steps ({} bytes): the log lost its end after the run \
                 finished",
                log.display(),
                run_dir.join("summary.json").display(),
                r.steps_run,
                r.log_bytes
            )));
        }
        return Ok(None);
    }
    let timesteps = RunLog::open(run_dir)?.scenario.simulation.timesteps;
    if steps_held < timesteps {
        return Ok(Some(format!(
            "{} holds {steps_held} of the run's {timesteps} steps{torn}, and the folder has no \
             summary.json: the run did not finish (it was stopped, it failed, or it is still \
             running)",
            log.display()
        )));
    }
    Ok(None)
}

/// What every reader of a whole run (`inspect`, `export`, `report`, `view`) does with a log
/// that holds less of its run than it should (see [`shortfall`]): it refuses it, saying what is
/// missing and what to do, unless `partial` (`--partial`) is given; then it reads the whole
/// steps the log holds and warns on stderr. Returns that warning when it read a partial log.
/// A log without one whole step is refused either way. `view` names what the reader makes
/// ("the export", "the report", ...).
pub fn check_whole(
    run_dir: &Path,
    steps_held: u64,
    damaged: Option<&Damage>,
    view: &str,
    partial: bool,
) -> anyhow::Result<Option<String>> {
    let dir = run_dir.display();
    if steps_held == 0 {
        let why = damaged.map_or(String::new(), |d| format!(" ({d})"));
        bail!(
            "{}: the log holds no step{why}: the run stopped before its first step was logged \
             (a failed start, such as an LLM server that did not answer); `simulacra resume \
             {dir}` starts it again, or `simulacra run --out {dir} --force` replaces it",
            run_dir.join(crate::runlog::LOG_FILE).display()
        );
    }
    let Some(why) = shortfall(run_dir, steps_held, damaged)? else {
        if let Some(d) = damaged {
            eprintln!(
                "warning: the log ends inside an unfinished step after all of the run's steps; \
                 {view} holds every step: {d}"
            );
        }
        return Ok(None);
    };
    if partial {
        eprintln!(
            "warning: {why}; {view} holds the {steps_held} whole steps before that (--partial)"
        );
        return Ok(Some(why));
    }
    let fix = if damaged.is_some_and(|d| !d.torn) {
        "recomputes the run from the last whole step before it"
    } else {
        "recomputes the missing steps"
    };
    let mut view = view.to_string();
    if let Some(first) = view.get(..1) {
        view.replace_range(..1, &first.to_uppercase());
    }
    bail!(
        "{why}. {view} would hold only the first {steps_held} steps, so none was made: \
         `simulacra resume {dir}` {fix}, or add --partial to read the {steps_held} whole steps \
         the log holds"
    )
}

/// [`check_whole`] for a reader that does not scan the whole log itself (`inspect --agent`):
/// one pass over the log without the per-worker hours.
pub fn check_run(run_dir: &Path, view: &str, partial: bool) -> anyhow::Result<Option<String>> {
    let mut steps = 0u64;
    let damaged = scan(run_dir, false, |_| {
        steps += 1;
        Ok(())
    })?;
    check_whole(run_dir, steps, damaged.as_ref(), view, partial)
}
