//! Assembling a run: the planner policy a scenario asks for (and the Saez baseline's
//! schedule), the economy a log header describes (a fork's too), where a run starts (step 0 or
//! a snapshot), and `run_into`, which plays a scenario into a sink and writes the run's outputs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix::System;
use anyhow::{Context, bail};
use simulacra_actors::{FrameSink, HashSink, Progress, run_game};

use crate::config::{
    BaselineWorkers, FsyncPolicy, PlannerPolicyName, Scenario, WelfareName, WorkerPolicyName,
};
use crate::econ::{TaxSchedule, saez_rates, us_federal_2024};
use crate::frames::{ForkOrigin, LogHeader};
use crate::game::Economy;
use crate::llm::{Answers, LlmRuntime};
use crate::policy::llm_planner::LlmPlannerSettings;
use crate::policy::{FixedSchedule, HillClimb, LlmPlanner, PlannerPolicy};
use crate::population::Population;
use crate::resolved::ResolvedScenario;

use super::header::header;
use super::interrupt::{self, StopOnRequest};
use super::summary::{
    BaselineSummaries, SnapshotCounts, Summary, archetype_summary, compare, decile_welfare,
    governance_summary, summarize, write_elections_csv, write_steps_csv,
};

/// Starts the economy a log header describes: the scenario's, or, for a fork, the parent's,
/// with the child's planner and governance taking over at the fork step.
/// Also returns the name of who sets the schedule (the planner policy, or "elected (rule)").
pub(super) async fn start_economy(
    scenario: &ResolvedScenario,
    fork: Option<&ForkOrigin>,
    population: Arc<Population>,
    llm: Option<LlmRuntime>,
) -> anyhow::Result<(Economy, String)> {
    let child_planner =
        planner_policy(scenario.planner.policy, scenario, &population, llm.as_ref())?;
    let setter = match scenario.governance.mode {
        crate::config::GovernanceMode::Election => {
            format!("elected ({})", scenario.governance.rule)
        }
        crate::config::GovernanceMode::Planner => child_planner.name().to_string(),
    };
    let Some(origin) = fork else {
        let (planners, federal, nash) = region_planners(scenario, &population, llm.as_ref())?;
        let mut economy =
            Economy::start(scenario, Arc::clone(&population), child_planner, llm).await;
        economy.federate(scenario, planners, federal, nash);
        return Ok((economy, federal_setter(scenario).unwrap_or(setter)));
    };
    let parent = Scenario::from_toml(&origin.parent_scenario_toml)
        .and_then(ResolvedScenario::new)
        .context("the fork's parent scenario in the log header is invalid")?;
    let regions = region_swap(&parent, scenario, &population, llm.as_ref())?;
    let parent_planner = planner_policy(parent.planner.policy, &parent, &population, llm.as_ref())?;
    let (planners, federal, nash) = region_planners(&parent, &population, llm.as_ref())?;
    let mut economy = Economy::start(&parent, Arc::clone(&population), parent_planner, llm).await;
    economy.federate(&parent, planners, federal, nash);
    // Whatever did not change keeps its memory: an unchanged fork is its parent.
    economy.fork_at(crate::game::ForkSwap {
        at_step: origin.at_step,
        child: scenario.scenario().clone(),
        planner: (parent.planner != scenario.planner).then_some(child_planner),
        new_governance: parent.governance != scenario.governance,
        regions,
    });
    Ok((economy, federal_setter(scenario).unwrap_or(setter)))
}

/// Who sets the schedules of a federation, in words.
fn federal_setter(scenario: &ResolvedScenario) -> Option<String> {
    scenario.regions().map(|f| format!("{} regions", f.regions))
}

/// What a fork of a federation changes (none for one nation): a fresh planner for each region
/// whose planner, governance mode or fixed rates changed (every region's when the objective
/// changed, which an LLM planner is told), new governance where a region's changed, and the
/// same for the federal layer; the rest keeps its memory.
fn region_swap(
    parent: &ResolvedScenario,
    child: &ResolvedScenario,
    population: &Population,
    llm: Option<&LlmRuntime>,
) -> anyhow::Result<Option<crate::game::RegionSwap>> {
    use crate::game::region_scenario;
    let (Some(pf), Some(cf)) = (parent.regions(), child.regions()) else {
        return Ok(None);
    };
    let (planners, federal, _) = region_planners(child, population, llm)?;
    let mut fresh = Vec::with_capacity(cf.regions);
    let mut governance = Vec::with_capacity(cf.regions);
    for (r, planner) in planners.into_iter().enumerate() {
        let (a, b) = (
            region_scenario(parent, pf, r),
            region_scenario(child, cf, r),
        );
        let changed = a.planner != b.planner
            || a.governance.mode != b.governance.mode
            || pf.fixed_rates(r, &parent.planner.rates) != cf.fixed_rates(r, &child.planner.rates)
            || pf.objective != cf.objective;
        fresh.push(changed.then_some(planner));
        governance.push(a.governance != b.governance);
    }
    let federal_planner = federal.filter(|_| {
        pf.federal_planner != cf.federal_planner
            || pf.federal_rates != cf.federal_rates
            || parent.planner != child.planner
            || pf.equalization != cf.equalization
    });
    let federal_governance = pf.federal_mode() != cf.federal_mode()
        || pf.federal_rule != cf.federal_rule
        || pf.federal_term_years != cf.federal_term_years
        || parent.governance != child.governance;
    Ok(Some(crate::game::RegionSwap {
        config: cf.clone(),
        planners: fresh,
        governance,
        federal_planner,
        federal_governance,
    }))
}

/// Each region's planner policy and the federal layer's (none for one nation), and the
/// regions' tax competition when they compete.
type RegionPlanners = (
    Vec<Box<dyn PlannerPolicy>>,
    Option<Box<dyn PlannerPolicy>>,
    Option<crate::econ::federation::NashOutcome>,
);

fn region_planners(
    scenario: &ResolvedScenario,
    population: &Population,
    llm: Option<&LlmRuntime>,
) -> anyhow::Result<RegionPlanners> {
    let Some(f) = scenario.regions() else {
        return Ok((Vec::new(), None, None));
    };
    let nash = super::nash::equilibrium(scenario, population);
    let regions = (0..f.regions)
        .map(|r| {
            let config = f.region(r);
            let kind = config.planner.unwrap_or(scenario.planner.policy);
            // An elected region's planner is never asked: an offline stand-in keeps the list
            // one per region without asking for an LLM backend it will not use.
            if config.governance.unwrap_or(scenario.governance.mode)
                == crate::config::GovernanceMode::Election
            {
                return Ok(Box::new(HillClimb::new(scenario.planner.max_delta_points))
                    as Box<dyn PlannerPolicy>);
            }
            match kind {
                PlannerPolicyName::Fixed => Ok(fixed_planner(
                    scenario,
                    f.fixed_rates(r, &scenario.planner.rates),
                )?),
                PlannerPolicyName::Nash => Ok(Box::new(FixedSchedule {
                    name: "nash",
                    schedule: TaxSchedule::new(
                        scenario.cutoffs.clone(),
                        nash.as_ref().map_or_else(Vec::new, |n| n.rates[r].clone()),
                    )?,
                }) as Box<dyn PlannerPolicy>),
                PlannerPolicyName::Llm => jurisdiction_llm_planner(
                    scenario,
                    llm,
                    &format!("region {r}'s planner"),
                    crate::frames::region_planner_agent(r as u32),
                    super::jurisdiction::region_jurisdiction(f, r),
                ),
                _ => planner_policy(kind, scenario, population, llm),
            }
        })
        .collect::<anyhow::Result<_>>()?;
    let federal = match f.federal_planner {
        None => None,
        Some(PlannerPolicyName::Fixed) => Some(fixed_planner(scenario, &f.federal_rates)?),
        Some(PlannerPolicyName::Llm) => Some(jurisdiction_llm_planner(
            scenario,
            llm,
            "federation.federal_planner",
            crate::frames::FEDERAL_PLANNER_AGENT,
            super::jurisdiction::federal_jurisdiction(f),
        )?),
        Some(kind) => Some(planner_policy(kind, scenario, population, llm)?),
    };
    Ok((regions, federal, nash))
}

/// A fixed schedule on the scenario's brackets.
fn fixed_planner(
    scenario: &ResolvedScenario,
    rates: &[f64],
) -> anyhow::Result<Box<dyn PlannerPolicy>> {
    Ok(Box::new(FixedSchedule {
        name: "fixed",
        schedule: TaxSchedule::new(scenario.cutoffs.clone(), rates.to_vec())?,
    }))
}

/// The LLM planner of a federation's region or federal layer (`who`, for the error without a
/// backend), asking under `agent` and told `jurisdiction`.
fn jurisdiction_llm_planner(
    scenario: &ResolvedScenario,
    llm: Option<&LlmRuntime>,
    who: &str,
    agent: u64,
    jurisdiction: String,
) -> anyhow::Result<Box<dyn PlannerPolicy>> {
    let rt = llm.ok_or_else(|| anyhow::anyhow!("{who} = \"llm\" needs the [llm] backend"))?;
    let settings = LlmPlannerSettings::of(scenario, scenario.world.welfare, rt)
        .for_jurisdiction(agent, jurisdiction);
    Ok(Box::new(LlmPlanner::new(settings)))
}

pub(super) fn warn_skipped(skipped: &[String]) {
    for s in skipped {
        eprintln!("warning: snapshot not used: {s}");
    }
}

/// Where a run starts: from step 0, or from a snapshot (and the run folder it came from); and
/// the header whose run it is.
pub struct RunStart {
    header_sha256: String,
    snapshot: Option<(crate::snapshot::RunSnapshot, PathBuf)>,
    /// The outcomes of the steps before the snapshot, from the log it continues.
    records: Vec<crate::frames::StepOutcome>,
}

impl RunStart {
    pub(super) fn new(
        header: &LogHeader,
        snapshot: Option<crate::snapshot::RunSnapshot>,
        from_dir: &Path,
        mut outcomes: Vec<crate::frames::StepOutcome>,
    ) -> anyhow::Result<RunStart> {
        let mut payload = Vec::new();
        simulacra_actors::log::encode_payload(header, &mut payload)?;
        outcomes.truncate(snapshot.as_ref().map_or(0, |s| s.next_step) as usize);
        Ok(RunStart {
            header_sha256: crate::snapshot::header_sha256(&payload),
            snapshot: snapshot.map(|s| (s, from_dir.to_path_buf())),
            records: outcomes,
        })
    }
}

/// Saez's rates for the scenario's brackets, from the population's census incomes.
///
/// Units: the incomes are annual dollars, the census draws (in the calibrated economy, also
/// each worker's equilibrium income under the 2024 US schedule). Weights are the welfare
/// function's: 1/potential income, 1/max(income, floor), 1 (utilitarian), or all weight on
/// the lowest income (Rawlsian).
pub fn saez_schedule(
    scenario: &ResolvedScenario,
    population: &Population,
) -> anyhow::Result<TaxSchedule> {
    let incomes = &population.census_incomes;
    let weights: Vec<f64> = match scenario.economy.welfare {
        WelfareName::InversePotentialIncome => population.weights.clone(),
        WelfareName::InverseRealizedIncome => incomes
            .iter()
            .map(|y| 1.0 / y.max(scenario.economy.welfare_income_floor))
            .collect(),
        WelfareName::Utilitarian => vec![1.0; incomes.len()],
        WelfareName::Rawlsian => {
            let lowest = incomes
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            (0..incomes.len())
                .map(|i| if i == lowest { 1.0 } else { 0.0 })
                .collect()
        }
    };
    let cutoffs = &scenario.cutoffs;
    let result = saez_rates(incomes, &weights, cutoffs, &scenario.elasticities)
        .context("computing the Saez baseline")?;
    Ok(TaxSchedule::new(cutoffs.clone(), result.rates)?)
}

/// The planner policy a scenario asks for (or a baseline's).
pub fn planner_policy(
    kind: PlannerPolicyName,
    scenario: &ResolvedScenario,
    population: &Population,
    llm: Option<&LlmRuntime>,
) -> anyhow::Result<Box<dyn PlannerPolicy>> {
    Ok(match kind {
        PlannerPolicyName::Llm => {
            let rt = llm.ok_or_else(|| {
                anyhow::anyhow!("planner.policy = \"llm\" needs the [llm] backend")
            })?;
            Box::new(LlmPlanner::new(LlmPlannerSettings::of(
                scenario,
                scenario.world.welfare,
                rt,
            )))
        }
        PlannerPolicyName::HillClimb => Box::new(HillClimb::new(scenario.planner.max_delta_points)),
        PlannerPolicyName::UsFederal => Box::new(FixedSchedule {
            name: "us-federal",
            schedule: us_federal_2024(),
        }),
        PlannerPolicyName::Saez => Box::new(FixedSchedule {
            name: "saez",
            schedule: saez_schedule(scenario, population)?,
        }),
        PlannerPolicyName::Fixed => fixed_planner(scenario, &scenario.planner.rates)?,
        // The regions' competition is each region's planner (`region_planners`); the nation's
        // rates are their population-weighted mean, so its planner is never asked.
        PlannerPolicyName::Nash => {
            anyhow::ensure!(
                scenario.regions().is_some(),
                "planner.policy = \"nash\" is tax competition between regions: set \
                 federation.regions to 2 or more"
            );
            Box::new(HillClimb::new(scenario.planner.max_delta_points))
        }
    })
}

/// Plays `steps` of `economy` into `sink`; on failure stops the actors and says at which step.
async fn play<S: FrameSink<crate::frames::Frame> + Send + 'static>(
    economy: Economy,
    sink: S,
    steps: std::ops::Range<u64>,
    progress: Option<Progress>,
) -> anyhow::Result<(Economy, S, simulacra_actors::LogDigest, u64)> {
    // A signal stops the game between steps, as the LLM budget does (see `interrupt`).
    let end = steps.end;
    match run_game(StopOnRequest(economy), sink, steps, progress).await {
        Ok(done) => {
            let mut economy = done.game.0;
            if done.steps_run < end && economy.halted.is_none() && interrupt::requested() {
                economy.halted = Some(interrupt::REASON.to_string());
            }
            Ok((economy, done.sink, done.digest, done.steps_run))
        }
        Err(failed) => {
            failed.game.0.stop();
            bail!("the run stopped at step {}: {}", failed.step, failed.error)
        }
    }
}

/// The scenario the baselines are played with: the run's, with the workers
/// `baselines.workers` asks for (unset: LLM workers become rational ones, exact best
/// responses, so baselines cost no LLM calls; other workers stay).
pub fn baseline_scenario(scenario: &ResolvedScenario) -> anyhow::Result<ResolvedScenario> {
    let rational =
        scenario.baselines.workers_for(scenario.workers.policy) == BaselineWorkers::Rational;
    Ok(scenario.with_changes(|base| {
        // Baselines are fixed schedules: no elections, and one nation.
        base.governance.mode = crate::config::GovernanceMode::Planner;
        base.federation = None;
        if rational {
            base.workers.policy = WorkerPolicyName::Rational;
            base.workers.altruistic_share = 0.0;
            base.workers.adversarial_share = 0.0;
            base.workers.satisfaction = false;
            base.workers.personas = crate::config::PersonaSource::None;
        }
    })?)
}

/// Snapshots an earlier run left in the folder belong to another log; a new run or a fork
/// removes them (only the snapshot files: anything else a user keeps there stays).
pub(super) fn clear_old_snapshots(out_dir: &Path) -> anyhow::Result<()> {
    super::folder::remove_snapshots(out_dir)
        .map(drop)
        .context("cannot clear the old snapshots")
}

/// Plays `scenario` into `sink` and writes the run's outputs into `out_dir`.
pub(super) fn run_into<S: FrameSink<crate::frames::Frame> + Send + 'static>(
    scenario: &Scenario,
    fork: Option<&ForkOrigin>,
    out_dir: &Path,
    progress: Option<Progress>,
    sink: S,
    answers: Answers,
    start: RunStart,
) -> anyhow::Result<Summary> {
    // The run's one resolution of its scenario (after any change a resume made to it).
    let scenario_owned = ResolvedScenario::new(scenario.clone())?;
    let fork = fork.cloned();
    let plan = crate::snapshot::SnapshotPlan {
        dir: out_dir.join(crate::snapshot::SNAPSHOT_DIR),
        every_years: scenario.log.snapshot_every_years,
        tax_year_length: scenario.simulation.tax_year_length,
        header_sha256: start.header_sha256,
        sync: scenario.log.fsync == FsyncPolicy::Step,
        keep: scenario.log.snapshots_keep,
    };
    let (snapshot, snapshots_of) = match start.snapshot {
        Some((s, dir)) => (Some(s), dir),
        None => (None, out_dir.to_path_buf()),
    };
    let records = start.records;
    // The run's span: info level, one per run; steps, elections and LLM requests nest in it
    // where they run on this thread.
    let span = tracing::info_span!(
        "run",
        scenario = %scenario.name,
        seed = scenario.simulation.seed,
        agents = scenario.simulation.num_agents,
        steps = scenario.simulation.timesteps
    );
    let _entered = span.enter();
    let summary = System::new().block_on(async move {
        let scenario = &scenario_owned;
        let population = Arc::new(Population::generate(scenario));
        let llm = if scenario.uses_llm() {
            Some(LlmRuntime::new(scenario, answers)?)
        } else {
            None
        };
        let (mut economy, planner_name) =
            start_economy(scenario, fork.as_ref(), Arc::clone(&population), llm).await?;
        economy.snapshot_into(plan);
        let first = snapshot.as_ref().map_or(0, |s| s.next_step);
        if let Some(snapshot) = snapshot
            && let Err(e) = economy.restore(snapshot, records).await
        {
            economy.stop();
            bail!(
                "{e}; move {} out of {} and run the command again to start from an earlier \
                 snapshot (or from step 0)",
                crate::snapshot::path_for(Path::new(crate::snapshot::SNAPSHOT_DIR), first)
                    .display(),
                snapshots_of.display()
            );
        }
        let steps = first..scenario.simulation.timesteps;
        tracing::info!(from_step = first, "run started");
        // One count for the run and its two baselines, whose steps come after the run's: a
        // bar does not sit at its end while the baselines are played.
        let timesteps = scenario.simulation.timesteps;
        let all_steps = timesteps * if scenario.baselines.enabled { 3 } else { 1 };
        let shared = progress.map(|p| Arc::new(std::sync::Mutex::new(p)));
        let phase = |offset: u64| -> Option<Progress> {
            let p = shared.clone()?;
            Some(Box::new(move |done, _| {
                if let Ok(mut p) = p.lock() {
                    p(offset + done, all_steps);
                }
            }))
        };
        let (economy, _sink, digest, steps_run) = play(economy, sink, steps, phase(0)).await?;
        if economy.halted.as_deref() == Some(interrupt::REASON) {
            // No outputs for a run a signal stopped: a summary would make it look finished
            // (to a sweep, to the Python package); its log is whole and its resume writes them.
            economy.stop();
            return Err(interrupt::Interrupted::new(steps_run, out_dir).into());
        }
        tracing::info!(steps_run, frames = digest.frames, "run finished");
        let main = summarize(
            &planner_name,
            scenario,
            economy.schedule(),
            economy.records(),
        );
        let fsync = super::header::fsync_outputs(scenario);
        let from_log = match scenario.regions() {
            Some(_) => Some(super::regions_table::write_for_run(out_dir, fsync)?),
            None => None,
        };
        let location = from_log.as_ref().map(|l| l.locations.as_slice());
        write_steps_csv(
            &out_dir.join("steps.csv"),
            economy.records(),
            location,
            fsync,
        )?;
        let governance = governance_summary(scenario, economy.elections(), economy.records());
        let elections = economy.elections_by_place();
        if !elections.is_empty() {
            write_elections_csv(
                &out_dir.join("elections.csv"),
                &elections,
                economy.records(),
                &population,
                fsync,
            )?;
        }
        let deciles = decile_welfare(&population, economy.last_utilities());
        let by_model = economy
            .llm()
            .map(|rt| &rt.gateway.settings().routes)
            .filter(|r| !r.worker_models.is_empty())
            .map(|r| {
                let names: Vec<String> = r.worker_models.iter().map(|m| m.0.clone()).collect();
                super::summary::by_model(
                    &names,
                    &r.assignment,
                    economy.last_hours(),
                    economy.last_utilities(),
                )
            })
            .unwrap_or_default();
        let economy_mean_welfare = economy.records().iter().map(|r| r.welfare).sum::<f64>()
            / economy.records().len().max(1) as f64;
        let llm_stats = economy.llm().map(|rt| rt.gateway.stats());
        let archetypes = archetype_summary(economy.representatives(), steps_run);
        let halted = economy.halted.clone();
        let (regions, mut federation) = super::summary::federation_summary(
            scenario,
            economy.federation(),
            economy.records(),
            location.unwrap_or_default(),
        );
        if let (Some(f), Some(l)) = (federation.as_mut(), &from_log)
            && l.fixed_points.0 > 0
        {
            f.mover_fixed_points = Some(l.fixed_points);
        }
        if let Some(f) = federation.as_mut() {
            f.nash = economy.nash().cloned();
        }
        let snapshots = SnapshotCounts {
            written: economy.snapshots_written,
            failed: economy.snapshots_failed,
        };
        if let Some(reason) = &halted {
            // A spent budget is fixed on the resume's command line.
            let how = if reason.contains("budget is spent") {
                let key = if reason.contains("llm.budget_tokens") {
                    "llm.budget_tokens"
                } else {
                    "llm.budget_requests"
                };
                format!(
                    "continue with a larger budget (0 = none): `simulacra resume {} --set {key}=N`",
                    out_dir.display()
                )
            } else {
                format!(
                    "once the cause is fixed, continue with `simulacra resume {}`",
                    out_dir.display()
                )
            };
            eprintln!(
                "error: stopped early after step {}: {reason}; the log is intact: {how}",
                steps_run.saturating_sub(1),
            );
        }
        economy.stop();

        let mut baselines = BaselineSummaries::default();
        // A run that stopped early is not compared (a verdict on a few steps would mislead);
        // its resume plays the baselines once it completes.
        if scenario.baselines.enabled && halted.is_none() {
            // Unless `baselines.workers = "same"` asks for the run's own LLM workers, LLM
            // workers are replaced by exact best responses (labelled so wherever a baseline
            // is shown). The run's own LLM workers are asked live through a gateway of their
            // own: their answers are not the run's, so they are neither logged nor taken from
            // the log.
            let base = baseline_scenario(scenario)?;
            let base_llm = if base.workers.policy == WorkerPolicyName::Llm {
                Some(LlmRuntime::new(&base, Answers::Live)?)
            } else {
                None
            };
            for (i, kind) in [PlannerPolicyName::UsFederal, PlannerPolicyName::Saez]
                .into_iter()
                .enumerate()
            {
                let policy = planner_policy(kind, &base, &population, None)?;
                let name = policy.name();
                let sink = HashSink::new(&header(&base))?;
                let mut economy =
                    Economy::start(&base, Arc::clone(&population), policy, base_llm.clone()).await;
                economy.trace_in(tracing::info_span!("baseline", schedule = name));
                let (economy, _, _, _) = play(
                    economy,
                    sink,
                    0..base.simulation.timesteps,
                    phase(timesteps * (1 + i as u64)),
                )
                .await?;
                if economy.halted.as_deref() == Some(interrupt::REASON) {
                    // The run's log is whole; its resume plays the baselines and writes the
                    // tables. Those written above go: an interrupted run is no result.
                    economy.stop();
                    for table in [
                        "steps.csv",
                        "elections.csv",
                        super::regions_table::REGIONS_FILE,
                    ] {
                        let _ = std::fs::remove_file(out_dir.join(table));
                    }
                    return Err(interrupt::Interrupted::in_baselines(steps_run, out_dir).into());
                }
                if let Some(reason) = &economy.halted {
                    eprintln!("warning: the {name} baseline stopped early: {reason}");
                }
                let s = summarize(name, &base, economy.schedule(), economy.records());
                economy.stop();
                match kind {
                    PlannerPolicyName::UsFederal => baselines.us_federal = Some(s),
                    _ => baselines.saez = Some(s),
                }
            }
            baselines.llm = base_llm.map(|rt| rt.gateway.stats());
        }
        let form = scenario.form();
        anyhow::Ok(Summary {
            scenario: scenario.name.clone(),
            seed: scenario.simulation.seed,
            num_agents: scenario.simulation.num_agents,
            timesteps: scenario.simulation.timesteps,
            tax_year_length: scenario.simulation.tax_year_length,
            steps_run,
            swf_final: main.swf,
            swf_mean: economy_mean_welfare,
            tax_rates_final: main.rates.clone(),
            cutoffs: main.cutoffs.clone(),
            mean_hours_final: main.mean_hours,
            gini_final: main.gini,
            comparison: compare(&main, &baselines),
            planner: main,
            baselines,
            labor_cost_c: form.c(),
            labor_exponent: form.delta(),
            log_sha256: digest.sha256,
            log_frames: digest.frames,
            log_bytes: digest.bytes,
            llm: llm_stats,
            archetypes,
            governance,
            deciles,
            halted,
            regions,
            federation,
            by_model,
            snapshots,
        })
    })?;
    let json = serde_json::to_string_pretty(&summary)?;
    crate::outfile::write_bytes(
        &out_dir.join("summary.json"),
        super::header::fsync_outputs(scenario),
        (json + "\n").as_bytes(),
    )?;
    if let Some(l) = summary.llm.as_ref().filter(|l| !l.endpoints.is_empty()) {
        let json = serde_json::to_string_pretty(&serde_json::json!({"endpoints": l.endpoints}))?;
        crate::outfile::write_bytes(
            &out_dir.join(crate::llm::stats::ENDPOINTS_FILE),
            super::header::fsync_outputs(scenario),
            (json + "\n").as_bytes(),
        )?;
    }
    Ok(summary)
}
