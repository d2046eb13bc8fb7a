//! A whole run: build the population and the actors from a scenario, let the scheduler play
//! the game into the message log, evaluate the baselines on the same population and seed, and
//! write `steps.csv` and `summary.json`. Also the replay check of a recorded run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix::System;
use anyhow::{Context, bail};
use serde::Serialize;
use simulacra_actors::{
    Divergence, FrameSink, Fsync, HashSink, LogReader, LogWriter, Progress, VerifySink, run_game,
};

use crate::config::{FsyncPolicy, PlannerPolicyName, Scenario, WelfareName, WorkerPolicyName};
use crate::econ::{TaxSchedule, saez_rates, us_federal_2024};
use crate::frames::{ForkOrigin, LogHeader, StepOutcome};
use crate::game::Economy;
use crate::llm::{Answers, LlmRuntime, LlmStats, Recording};
use crate::policy::llm_planner::LlmPlannerSettings;
use crate::policy::{FixedSchedule, HillClimb, LlmPlanner, PlannerPolicy};
use crate::population::Population;

/// The header a run of `scenario` writes.
///
/// Execution-only settings that cannot change a result (the shard count) are reset to their
/// defaults, so the same run on another machine or thread count has the same log bytes.
pub fn header(scenario: &Scenario) -> LogHeader {
    let mut logged = scenario.clone();
    logged.simulation.shards = 0;
    LogHeader {
        kind: "simulacra-run".into(),
        simulacra_version: env!("CARGO_PKG_VERSION").into(),
        seed: scenario.simulation.seed,
        scenario_toml: logged.to_toml(),
        fork: None,
    }
}

/// Starts the economy a log header describes: the scenario's, or, for a fork, the parent's,
/// with the child's planner and governance taking over at the fork step.
/// Also returns the name of who sets the schedule (the planner policy, or "elected (rule)").
async fn start_economy(
    scenario: &Scenario,
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
        return Ok((
            Economy::start(scenario, population, child_planner, llm).await,
            setter,
        ));
    };
    let parent = Scenario::from_toml(&origin.parent_scenario_toml)
        .context("the fork's parent scenario in the log header is invalid")?;
    let parent_planner = planner_policy(parent.planner.policy, &parent, &population, llm.as_ref())?;
    let mut economy = Economy::start(&parent, population, parent_planner, llm).await;
    economy.fork_at(crate::game::ForkSwap {
        at_step: origin.at_step,
        child: scenario.clone(),
        planner: child_planner,
    });
    Ok((economy, setter))
}

/// Keys a fork may change: who governs and how long the run goes on. Everything else
/// (the people, the economy, the seed, the LLM) must stay, or the prefix would not be shared.
fn check_fork_changes(parent: &Scenario, child: &Scenario) -> anyhow::Result<()> {
    let strip = |s: &Scenario| {
        let mut t = s.clone();
        t.name.clear();
        t.planner = crate::config::Planner::default();
        t.governance = crate::config::Governance::default();
        t.baselines = crate::config::Baselines::default();
        t.simulation.timesteps = 0;
        t.simulation.shards = 0;
        t.log.fsync = crate::config::FsyncPolicy::Never;
        toml::to_string(&t).unwrap_or_default()
    };
    let (a, b) = (strip(parent), strip(child));
    if a != b {
        let differing: Vec<String> = a
            .lines()
            .zip(b.lines())
            .filter(|(x, y)| x != y)
            .map(|(_, y)| y.to_string())
            .take(3)
            .collect();
        bail!(
            "a fork may change [planner], [governance], [baselines], simulation.timesteps and \
             log.fsync; this one also changes: {} (start a new run to change the people, the \
             economy, the seed or the LLM)",
            differing.join("; ")
        );
    }
    Ok(())
}

/// Forks `run_dir` at `at_step` into `out_dir`: the new run is the old one until `at_step`
/// (its log frames are the same bytes, LLM answers come from the old log), then the changed
/// planner or governance takes over. The shared prefix is copied from the parent's log up to
/// the parent's latest snapshot before `at_step`, and re-executed from there (from step 0
/// when the parent has none).
pub fn fork_run(
    run_dir: &Path,
    at_step: u64,
    sets: &[String],
    out_dir: &Path,
) -> anyhow::Result<Forked> {
    let (parent_header, parent) = read_run_header(run_dir)?;
    if parent_header.fork.is_some() {
        bail!(
            "{} is itself a fork; fork its parent instead",
            run_dir.display()
        );
    }
    let parent_log = run_dir.join("run.log");
    let whole = whole_steps(&parent_log)?;
    if at_step == 0 || at_step > whole.steps {
        bail!(
            "--at must be between 1 and {} (the steps in {})",
            whole.steps,
            parent_log.display()
        );
    }
    if out_dir.exists()
        && std::fs::canonicalize(out_dir).ok() == std::fs::canonicalize(run_dir).ok()
    {
        bail!(
            "--out {} is the parent run's own folder: a fork writes a new run, so give it \
             another folder",
            out_dir.display()
        );
    }
    let child = Scenario::resolve(&parent.to_toml(), &[], sets)?;
    check_fork_changes(&parent, &child)?;
    let origin = ForkOrigin {
        parent_scenario_toml: parent_header.scenario_toml.clone(),
        at_step,
        parent_log_sha256: simulacra_actors::log::file_sha256(&parent_log)?,
    };

    let mut skipped = Vec::new();
    let start = crate::snapshot::newest_usable(
        run_dir,
        &crate::snapshot::Wanted {
            header_sha256: &whole.header_sha256,
            latest_step: at_step,
            whole_frames: whole.frames,
            whole_bytes: whole.bytes,
        },
        |s| {
            let found = simulacra_actors::log::prefix_sha256(&parent_log, s.log.bytes)
                .map_err(|e| e.to_string())?;
            if found == s.log.sha256 {
                Ok(())
            } else {
                Err("the log before it is not the one it was taken from".into())
            }
        },
        &mut skipped,
    );
    warn_skipped(&skipped);

    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create the output folder {}", out_dir.display()))?;
    let mut h = header(&child);
    h.fork = Some(origin.clone());
    let mut sink = LogWriter::create(&out_dir.join("run.log"), &h, fsync_of(&child))
        .context("the message log failed")?;
    clear_old_snapshots(out_dir)?;
    if let Some(snapshot) = &start {
        // The prefix is the parent's frames, byte for byte.
        let mut reader = LogReader::open(&parent_log)?;
        for _ in 0..snapshot.log.frames {
            match reader.next_raw() {
                Some(Ok(raw)) => sink.append_raw(&raw.payload)?,
                Some(Err(e)) => return Err(e.into()),
                None => bail!("{} ended inside the shared prefix", parent_log.display()),
            }
        }
        FrameSink::<crate::frames::Frame>::end_step(&mut sink)?;
    }
    // Only the prefix's answers are the fork's: from `at_step` on its agents see another
    // schedule, so their requests differ from the parent's and are asked anew.
    let answers = if child.uses_llm() {
        let prefix = whole.exchanges.into_iter().filter(|e| e.step < at_step);
        Answers::Resume(Recording::new(prefix.collect::<Vec<_>>()))
    } else {
        Answers::Live
    };
    let from_snapshot = start.as_ref().map(|s| s.next_step);
    let summary = run_into(
        &child,
        Some(&origin),
        out_dir,
        None,
        sink,
        answers,
        RunStart::new(&h, start, run_dir)?,
    )?;
    Ok(Forked {
        summary,
        from_snapshot,
    })
}

/// What `fork` did.
pub struct Forked {
    pub summary: Summary,
    /// The step the shared prefix was restored to from the parent's snapshot (none: the
    /// fork re-executed the prefix from step 0).
    pub from_snapshot: Option<u64>,
}

/// The whole steps of a log: how many, and the frames and bytes they end at.
struct WholeSteps {
    steps: u64,
    frames: u64,
    bytes: u64,
    header_sha256: String,
    /// The LLM exchanges found on the way, the unfinished step's too.
    exchanges: Vec<crate::frames::LlmExchange>,
}

/// Reads `log` up to its last whole step (the last `Outcome` frame before the end or the first
/// bad frame).
fn whole_steps(log: &Path) -> anyhow::Result<WholeSteps> {
    let mut reader =
        LogReader::open(log).with_context(|| format!("cannot read {}", log.display()))?;
    let mut w = WholeSteps {
        steps: 0,
        frames: 0,
        bytes: reader.header_end(),
        header_sha256: crate::snapshot::header_sha256(&reader.header_raw().payload),
        exchanges: Vec::new(),
    };
    let mut frames = 0u64;
    while let Some(Ok(raw)) = reader.next_raw() {
        frames += 1;
        match raw.decode::<crate::frames::Frame>() {
            Ok(crate::frames::Frame::Outcome(o)) => {
                w.frames = frames;
                w.bytes = raw.offset + 8 + raw.payload.len() as u64;
                w.steps = o.step + 1;
            }
            Ok(crate::frames::Frame::Llm(e)) => w.exchanges.push(e),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(w)
}

fn warn_skipped(skipped: &[String]) {
    for s in skipped {
        eprintln!("warning: snapshot not used: {s}");
    }
}

/// Where a run starts: from step 0, or from a snapshot (and the run folder it came from); and
/// the header whose run it is.
pub struct RunStart {
    header_sha256: String,
    snapshot: Option<(crate::snapshot::RunSnapshot, PathBuf)>,
}

impl RunStart {
    fn new(
        header: &LogHeader,
        snapshot: Option<crate::snapshot::RunSnapshot>,
        from_dir: &Path,
    ) -> anyhow::Result<RunStart> {
        let mut payload = Vec::new();
        simulacra_actors::log::encode_payload(header, &mut payload)?;
        Ok(RunStart {
            header_sha256: crate::snapshot::header_sha256(&payload),
            snapshot: snapshot.map(|s| (s, from_dir.to_path_buf())),
        })
    }
}

/// Saez's rates for the scenario's brackets, from the population's census incomes.
///
/// Units: the incomes are annual dollars, the census draws (in the calibrated economy, also
/// each worker's equilibrium income under the 2024 US schedule). Weights are the welfare
/// function's: 1/potential income, 1/max(income, floor), 1 (utilitarian), or all weight on
/// the lowest income (Rawlsian).
pub fn saez_schedule(scenario: &Scenario, population: &Population) -> anyhow::Result<TaxSchedule> {
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
    let cutoffs = scenario.cutoffs()?;
    let result = saez_rates(incomes, &weights, &cutoffs, &scenario.elasticities()?)
        .context("computing the Saez baseline")?;
    Ok(TaxSchedule::new(cutoffs, result.rates)?)
}

/// The planner policy a scenario asks for (or a baseline's).
pub fn planner_policy(
    kind: PlannerPolicyName,
    scenario: &Scenario,
    population: &Population,
    llm: Option<&LlmRuntime>,
) -> anyhow::Result<Box<dyn PlannerPolicy>> {
    Ok(match kind {
        PlannerPolicyName::Llm => {
            let rt = llm.ok_or_else(|| {
                anyhow::anyhow!("planner.policy = \"llm\" needs the [llm] backend")
            })?;
            Box::new(LlmPlanner::new(LlmPlannerSettings {
                gateway: Arc::clone(&rt.gateway),
                prompts: Arc::clone(&rt.prompts),
                max_tokens: scenario.llm.planner_max_tokens,
                history: scenario.llm.planner_history,
                best_k: scenario.llm.best_k,
                max_delta_points: scenario.planner.max_delta_points,
                welfare: scenario.welfare_kind(),
            }))
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
        PlannerPolicyName::Fixed => Box::new(FixedSchedule {
            name: "fixed",
            schedule: TaxSchedule::new(scenario.cutoffs()?, scenario.planner.rates.clone())?,
        }),
    })
}

/// Summary metrics of one game (the main run or a baseline).
#[derive(Clone, Debug, Serialize)]
pub struct GameSummary {
    pub planner: String,
    pub worker_policy: WorkerPolicyName,
    /// How the workers decided, in words (baselines of LLM runs use exact best responses).
    pub workers: String,
    /// Mean welfare over the last tax year.
    pub swf: f64,
    pub cutoffs: Vec<f64>,
    pub rates: Vec<f64>,
    pub mean_hours: f64,
    pub gini: f64,
    pub revenue: f64,
    /// Productivity: mean pre-tax income.
    pub productivity: f64,
    /// The AI Economist's equality x productivity: (1 - Gini) x mean income.
    pub equality_x_productivity: f64,
}

fn summarize(
    planner: &str,
    scenario: &Scenario,
    schedule: &TaxSchedule,
    records: &[StepOutcome],
) -> GameSummary {
    let last_year = records.last().map_or(0, |r| r.tax_year);
    let year: Vec<&StepOutcome> = records.iter().filter(|r| r.tax_year == last_year).collect();
    let mean = |f: fn(&StepOutcome) -> f64| {
        if year.is_empty() {
            0.0
        } else {
            year.iter().map(|r| f(r)).sum::<f64>() / year.len() as f64
        }
    };
    GameSummary {
        planner: planner.to_string(),
        worker_policy: scenario.workers.policy,
        workers: match scenario.workers.policy {
            WorkerPolicyName::Rational => "rational (exact best responses)".into(),
            other => format!("{other:?}").to_lowercase(),
        },
        swf: mean(|r| r.welfare),
        cutoffs: schedule.cutoffs().to_vec(),
        rates: schedule.rates().to_vec(),
        mean_hours: mean(|r| r.mean_hours),
        gini: mean(|r| r.gini),
        revenue: mean(|r| r.revenue),
        productivity: mean(|r| r.mean_income),
        equality_x_productivity: mean(|r| (1.0 - r.gini) * r.mean_income),
    }
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub num_agents: usize,
    pub timesteps: u64,
    pub tax_year_length: u64,
    pub steps_run: u64,
    /// Mean welfare over the last tax year.
    pub swf_final: f64,
    /// Mean welfare over every step of the run (a fairer figure when schedules cycle).
    pub swf_mean: f64,
    pub tax_rates_final: Vec<f64>,
    pub cutoffs: Vec<f64>,
    pub mean_hours_final: f64,
    pub gini_final: f64,
    pub planner: GameSummary,
    pub baselines: Baselines,
    pub comparison: Option<Comparison>,
    pub labor_cost_c: f64,
    pub labor_exponent: f64,
    pub log_sha256: String,
    pub log_frames: u64,
    pub log_bytes: u64,
    /// LLM requests, retries, fallbacks and tokens (absent for offline runs).
    pub llm: Option<LlmStats>,
    /// Archetype mode's savings (absent when off).
    pub archetypes: Option<ArchetypeSummary>,
    /// Elections (absent under a planner).
    pub governance: Option<GovernanceSummary>,
    /// Mean own utility at the last step of the workers in the bottom and the median census
    /// income deciles (majority exploitation shows up here).
    pub deciles: DecileWelfare,
    /// Why the run stopped before `timesteps`, if it did.
    pub halted: Option<String>,
    /// Snapshots this invocation wrote, and those it could not write. Not in `summary.json`:
    /// they depend on where a resumed run started, the summary does not.
    #[serde(skip)]
    pub snapshots: SnapshotCounts,
}

/// Snapshots written and failed by one invocation of run, resume or fork.
#[derive(Clone, Copy, Debug, Default)]
pub struct SnapshotCounts {
    pub written: u64,
    pub failed: u64,
}

/// The `governance` block of `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct GovernanceSummary {
    pub rule: String,
    pub term_years: u64,
    pub elections: usize,
    pub distinct_winners: usize,
    pub mean_turnout: f64,
    pub mean_margin: f64,
    pub ties_broken: usize,
    /// Mean welfare over the tax years that followed an election.
    pub mean_welfare_after_election: f64,
}

fn governance_summary(
    scenario: &Scenario,
    rows: &[crate::game::ElectionRow],
    records: &[StepOutcome],
) -> Option<GovernanceSummary> {
    if scenario.governance.mode != crate::config::GovernanceMode::Election {
        return None;
    }
    let k = rows.len().max(1) as f64;
    let mut winners: Vec<u64> = rows.iter().map(|r| r.winner).collect();
    winners.sort_unstable();
    winners.dedup();
    let years: Vec<f64> = rows
        .iter()
        .map(|r| year_welfare(records, r.tax_year))
        .collect();
    Some(GovernanceSummary {
        rule: scenario.governance.rule.clone(),
        term_years: scenario.governance.term_years,
        elections: rows.len(),
        distinct_winners: winners.len(),
        mean_turnout: rows.iter().map(|r| r.turnout).sum::<f64>() / k,
        mean_margin: rows.iter().map(|r| r.margin).sum::<f64>() / k,
        ties_broken: rows.iter().filter(|r| r.tie_broken).count(),
        mean_welfare_after_election: years.iter().sum::<f64>() / years.len().max(1) as f64,
    })
}

/// Mean welfare over the steps of tax year `year`.
fn year_welfare(records: &[StepOutcome], year: u64) -> f64 {
    let w: Vec<f64> = records
        .iter()
        .filter(|r| r.tax_year == year)
        .map(|r| r.welfare)
        .collect();
    w.iter().sum::<f64>() / w.len().max(1) as f64
}

/// Mean utilities of income deciles.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DecileWelfare {
    /// Workers in the lowest 10% of census incomes.
    pub bottom: f64,
    /// Workers between the 45th and 55th percentiles.
    pub median: f64,
}

fn decile_welfare(population: &Population, utilities: &[f64]) -> DecileWelfare {
    let n = utilities.len();
    if n == 0 {
        return DecileWelfare::default();
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        population.census_incomes[a]
            .total_cmp(&population.census_incomes[b])
            .then(a.cmp(&b))
    });
    let mean_of = |lo: usize, hi: usize| {
        let ids = &order[lo..hi.max(lo + 1).min(n)];
        ids.iter().map(|&i| utilities[i]).sum::<f64>() / ids.len() as f64
    };
    DecileWelfare {
        bottom: mean_of(0, n.div_ceil(10)),
        median: mean_of(n * 45 / 100, n * 55 / 100),
    }
}

/// `elections.csv`: one row per election.
pub fn write_elections_csv(
    path: &Path,
    rows: &[crate::game::ElectionRow],
    records: &[StepOutcome],
    population: &Population,
) -> anyhow::Result<()> {
    // The winner's income decile (1 = poorest) by census income.
    let n = population.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        population.census_incomes[a]
            .total_cmp(&population.census_incomes[b])
            .then(a.cmp(&b))
    });
    let mut rank = vec![0usize; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    writeln!(
        out,
        "tax_year,step,rule,winner,winner_income_decile,margin,turnout,candidates,ballots,exhausted,tie_broken,welfare"
    )?;
    for r in rows {
        let decile = if r.rule == "referendum" || (r.winner as usize) >= n {
            String::new()
        } else {
            (rank[r.winner as usize] * 10 / n + 1).to_string()
        };
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            r.tax_year,
            r.step,
            r.rule,
            r.winner,
            decile,
            r.margin,
            r.turnout,
            r.candidates,
            r.ballots,
            r.exhausted,
            r.tie_broken,
            year_welfare(records, r.tax_year)
        )?;
    }
    out.flush()?;
    Ok(())
}

/// What archetype mode saved.
#[derive(Clone, Debug, Serialize)]
pub struct ArchetypeSummary {
    pub buckets: usize,
    /// Workers whose decisions were their representative's.
    pub followers: usize,
    /// Worker decisions made without an LLM exchange of their own (followers x steps).
    pub decisions_shared: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Baselines {
    pub us_federal: Option<GameSummary>,
    pub saez: Option<GameSummary>,
}

/// How the planner did against the baselines, as measured (positive = planner higher).
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub planner_minus_us_federal: f64,
    pub planner_minus_saez: f64,
    /// (planner - saez) / |saez|, in percent.
    pub planner_vs_saez_percent: f64,
    pub planner_vs_us_federal_percent: f64,
    pub verdict: String,
}

fn compare(planner: &GameSummary, b: &Baselines) -> Option<Comparison> {
    let us = b.us_federal.as_ref()?;
    let saez = b.saez.as_ref()?;
    let pct = |x: f64, base: f64| 100.0 * (x - base) / base.abs().max(f64::MIN_POSITIVE);
    let against = |name: &str, base: f64| {
        let d = pct(planner.swf, base);
        if d > 0.0 {
            format!("beats {name} by {d:.2}%")
        } else if d < 0.0 {
            format!("trails {name} by {:.2}%", -d)
        } else {
            format!("ties {name}")
        }
    };
    Some(Comparison {
        planner_minus_us_federal: planner.swf - us.swf,
        planner_minus_saez: planner.swf - saez.swf,
        planner_vs_saez_percent: pct(planner.swf, saez.swf),
        planner_vs_us_federal_percent: pct(planner.swf, us.swf),
        verdict: format!(
            "the {} planner {} and {} on welfare",
            planner.planner,
            against("Saez", saez.swf),
            against("the 2024 US schedule", us.swf)
        ),
    })
}

/// Plays one game of `scenario` with `planner` into `sink`; returns its records and schedule.
async fn play<S: FrameSink<crate::frames::Frame> + Send + 'static>(
    scenario: &Scenario,
    population: Arc<Population>,
    planner: Box<dyn PlannerPolicy>,
    llm: Option<LlmRuntime>,
    sink: S,
    progress: Option<Progress>,
) -> anyhow::Result<(Economy, S, simulacra_actors::LogDigest, u64)> {
    let economy = Economy::start(scenario, population, planner, llm).await;
    match run_game(economy, sink, 0..scenario.simulation.timesteps, progress).await {
        Ok(done) => Ok((done.game, done.sink, done.digest, done.steps_run)),
        Err(failed) => {
            failed.game.stop();
            bail!("the run stopped at step {}: {}", failed.step, failed.error)
        }
    }
}

/// The scenario the baselines are played with: the run's, except that LLM workers become
/// rational ones (exact best responses) so baselines cost no LLM calls.
pub fn baseline_scenario(scenario: &Scenario) -> Scenario {
    let mut base = scenario.clone();
    // Baselines are fixed schedules: no elections.
    base.governance.mode = crate::config::GovernanceMode::Planner;
    if base.workers.policy == WorkerPolicyName::Llm {
        base.workers.policy = WorkerPolicyName::Rational;
        base.workers.altruistic_share = 0.0;
        base.workers.adversarial_share = 0.0;
        base.workers.satisfaction = false;
        base.workers.personas = crate::config::PersonaSource::None;
    }
    base
}

fn archetype_summary(rep: Option<&[u32]>, steps_run: u64) -> Option<ArchetypeSummary> {
    let rep = rep?;
    let followers = rep
        .iter()
        .enumerate()
        .filter(|(i, r)| **r as usize != *i)
        .count();
    Some(ArchetypeSummary {
        buckets: rep.len() - followers,
        followers,
        decisions_shared: followers as u64 * steps_run,
    })
}

/// One row of a governance comparison.
#[derive(Clone, Debug, Serialize)]
pub struct RuleComparison {
    pub rule: String,
    pub swf_final: f64,
    pub swf_mean: f64,
    pub gini_final: f64,
    pub mean_hours_final: f64,
    pub tax_rates_final: Vec<f64>,
    pub bottom_decile_utility: f64,
    pub median_decile_utility: f64,
    pub distinct_winners: usize,
    pub mean_turnout: f64,
}

/// Runs `scenario` once under each governance rule (same population and seed; the first row
/// is the scenario's own planner, for reference) into `out/<rule>/`.
pub fn compare_rules(
    scenario: &Scenario,
    rules: &[String],
    out: &Path,
) -> anyhow::Result<Vec<RuleComparison>> {
    let mut rows = Vec::new();
    let mut runs: Vec<(String, Scenario)> = Vec::new();
    let mut planner = scenario.clone();
    planner.governance.mode = crate::config::GovernanceMode::Planner;
    planner.baselines.enabled = false;
    let planner_name = serde_json::to_value(planner.planner.policy)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    runs.push((format!("planner {planner_name}"), planner));
    for rule in rules {
        // `validate` names an unknown rule and the rules there are.
        let mut s = scenario.clone();
        s.governance.mode = crate::config::GovernanceMode::Election;
        s.governance.rule = rule.clone();
        s.baselines.enabled = false;
        s.validate()?;
        runs.push((rule.clone(), s));
    }
    for (label, s) in runs {
        let dir = out.join(label.replace([':', ' '], "_"));
        let summary = run_scenario(&s, &dir, None)?;
        let g = summary.governance.as_ref();
        rows.push(RuleComparison {
            rule: label,
            swf_final: summary.swf_final,
            swf_mean: summary.swf_mean,
            gini_final: summary.gini_final,
            mean_hours_final: summary.mean_hours_final,
            tax_rates_final: summary.tax_rates_final.clone(),
            bottom_decile_utility: summary.deciles.bottom,
            median_decile_utility: summary.deciles.median,
            distinct_winners: g.map_or(0, |g| g.distinct_winners),
            mean_turnout: g.map_or(0.0, |g| g.mean_turnout),
        });
    }
    Ok(rows)
}

/// Picks a new folder `runs/<name>-s<seed>-<k>`.
pub fn default_out_dir(scenario: &Scenario) -> PathBuf {
    let base = Path::new("runs");
    (1..)
        .map(|k| {
            base.join(format!(
                "{}-s{}-{k}",
                scenario.name, scenario.simulation.seed
            ))
        })
        .find(|p| !p.exists())
        .expect("an unbounded counter finds a free name")
}

/// Runs `scenario` into `out_dir`; returns the summary.
pub fn run_scenario(
    scenario: &Scenario,
    out_dir: &Path,
    progress: Option<Progress>,
) -> anyhow::Result<Summary> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create the output folder {}", out_dir.display()))?;
    let h = header(scenario);
    let sink = LogWriter::create(&out_dir.join("run.log"), &h, fsync_of(scenario))
        .context("the message log failed")?;
    clear_old_snapshots(out_dir)?;
    run_into(
        scenario,
        None,
        out_dir,
        progress,
        sink,
        Answers::Live,
        RunStart::new(&h, None, out_dir)?,
    )
}

/// Snapshots of an earlier run in a reused output folder belong to another log: a new run or
/// fork removes them.
fn clear_old_snapshots(out_dir: &Path) -> anyhow::Result<()> {
    let old = out_dir.join(crate::snapshot::SNAPSHOT_DIR);
    if old.is_dir() {
        std::fs::remove_dir_all(&old)
            .with_context(|| format!("cannot clear the old snapshots in {}", old.display()))?;
    }
    Ok(())
}

fn fsync_of(scenario: &Scenario) -> Fsync {
    match scenario.log.fsync {
        FsyncPolicy::Never => Fsync::Never,
        FsyncPolicy::Step => Fsync::EveryStep,
    }
}

/// What `resume` found and did.
pub struct Resumed {
    pub summary: Summary,
    /// Whole steps that were already in the log.
    pub steps_kept: u64,
    /// Bytes of a torn or incomplete step cut from the end of the log.
    pub bytes_cut: u64,
    /// The step the run was restored to from a snapshot (none: re-executed from step 0).
    pub from_snapshot: Option<u64>,
}

/// Resumes a run that stopped (a crash, a kill, a power loss): cuts the log back to its last
/// whole step, restores the run from its newest usable snapshot (or starts over from its
/// header), re-executes the steps after that point (checking every frame against the kept
/// log, and answering LLM requests from the recorded exchanges, so nothing is paid twice),
/// and appends the rest. The final log is byte-identical to an uninterrupted run's.
pub fn resume_run(run_dir: &Path) -> anyhow::Result<Resumed> {
    let (run_header, mut scenario) = read_run_header(run_dir)?;
    let log = run_dir.join("run.log");
    let whole = whole_steps(&log)?;
    let len = std::fs::metadata(&log)?.len();
    if len > whole.bytes {
        let file = std::fs::OpenOptions::new().write(true).open(&log)?;
        file.set_len(whole.bytes)
            .with_context(|| format!("cannot cut {} back to its last whole step", log.display()))?;
        file.sync_all()?;
    }
    let fsync = fsync_of(&scenario);
    let mut skipped = Vec::new();
    let mut sink = None;
    let start = crate::snapshot::newest_usable(
        run_dir,
        &crate::snapshot::Wanted {
            header_sha256: &whole.header_sha256,
            latest_step: whole.steps,
            whole_frames: whole.frames,
            whole_bytes: whole.bytes,
        },
        |s| {
            let opened = simulacra_actors::ResumeSink::open(
                &log,
                Some(&s.log),
                whole.frames - s.log.frames,
                fsync,
            )
            .map_err(|e| e.to_string())?;
            sink = Some(opened);
            Ok(())
        },
        &mut skipped,
    );
    warn_skipped(&skipped);
    let sink = match sink {
        Some(sink) => sink,
        None => simulacra_actors::ResumeSink::open(&log, None, whole.frames, fsync)?,
    };
    let from_snapshot = start.as_ref().map(|s| s.next_step);
    // The cadence is not in the log's header; a run restored from a snapshot keeps its own.
    if let Some(s) = &start {
        scenario.log.snapshot_every_years = s.every_years;
    }
    let summary = run_into(
        &scenario,
        run_header.fork.as_ref(),
        run_dir,
        None,
        sink,
        Answers::Resume(Recording::new(whole.exchanges)),
        RunStart::new(&run_header, start, run_dir)?,
    )?;
    Ok(Resumed {
        summary,
        steps_kept: whole.steps,
        bytes_cut: len - whole.bytes,
        from_snapshot,
    })
}

/// Plays `scenario` into `sink` and writes the run's outputs into `out_dir`.
fn run_into<S: FrameSink<crate::frames::Frame> + Send + 'static>(
    scenario: &Scenario,
    fork: Option<&ForkOrigin>,
    out_dir: &Path,
    progress: Option<Progress>,
    sink: S,
    answers: Answers,
    start: RunStart,
) -> anyhow::Result<Summary> {
    let scenario_owned = scenario.clone();
    let fork = fork.cloned();
    let plan = crate::snapshot::SnapshotPlan {
        dir: out_dir.join(crate::snapshot::SNAPSHOT_DIR),
        every_years: scenario.log.snapshot_every_years,
        tax_year_length: scenario.simulation.tax_year_length,
        header_sha256: start.header_sha256,
        sync: scenario.log.fsync == FsyncPolicy::Step,
    };
    let (snapshot, snapshots_of) = match start.snapshot {
        Some((s, dir)) => (Some(s), dir),
        None => (None, out_dir.to_path_buf()),
    };
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
            && let Err(e) = economy.restore(snapshot).await
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
        let (economy, _sink, digest, steps_run) =
            match run_game(economy, sink, steps, progress).await {
                Ok(done) => (done.game, done.sink, done.digest, done.steps_run),
                Err(failed) => {
                    failed.game.stop();
                    bail!("the run stopped at step {}: {}", failed.step, failed.error)
                }
            };
        let main = summarize(
            &planner_name,
            scenario,
            economy.schedule(),
            &economy.records,
        );
        write_steps_csv(&out_dir.join("steps.csv"), &economy.records)?;
        let governance = governance_summary(scenario, economy.elections(), &economy.records);
        if !economy.elections().is_empty() {
            write_elections_csv(
                &out_dir.join("elections.csv"),
                economy.elections(),
                &economy.records,
                &population,
            )?;
        }
        let deciles = decile_welfare(&population, economy.last_utilities());
        let economy_mean_welfare = economy.records.iter().map(|r| r.welfare).sum::<f64>()
            / economy.records.len().max(1) as f64;
        let llm_stats = economy.llm().map(|rt| rt.gateway.stats());
        let archetypes = archetype_summary(economy.representatives(), steps_run);
        let halted = economy.halted.clone();
        let snapshots = SnapshotCounts {
            written: economy.snapshots_written,
            failed: economy.snapshots_failed,
        };
        if let Some(reason) = &halted {
            eprintln!(
                "error: stopped early after step {}: {reason}; the log is intact: once the \
                 cause is fixed, continue with `simulacra resume {}`",
                steps_run.saturating_sub(1),
                out_dir.display()
            );
        }
        economy.stop();

        let mut baselines = Baselines::default();
        // A run that stopped early is not compared (a verdict on a few steps would mislead);
        // its resume plays the baselines once it completes.
        if scenario.baselines.enabled && halted.is_none() {
            // Baselines never pay for LLM calls: LLM workers are replaced by exact best
            // responses (labelled so in the summary).
            let base = baseline_scenario(scenario);
            for kind in [PlannerPolicyName::UsFederal, PlannerPolicyName::Saez] {
                let policy = planner_policy(kind, &base, &population, None)?;
                let name = policy.name();
                let sink = HashSink::new(&header(&base))?;
                let (economy, _, _, _) =
                    play(&base, Arc::clone(&population), policy, None, sink, None).await?;
                let s = summarize(name, &base, economy.schedule(), &economy.records);
                economy.stop();
                match kind {
                    PlannerPolicyName::UsFederal => baselines.us_federal = Some(s),
                    _ => baselines.saez = Some(s),
                }
            }
        }
        let form = scenario.utility_form();
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
            snapshots,
        })
    })?;
    let json = serde_json::to_string_pretty(&summary)?;
    std::fs::write(out_dir.join("summary.json"), json + "\n")
        .with_context(|| format!("cannot write {}", out_dir.join("summary.json").display()))?;
    Ok(summary)
}

/// `steps.csv`: one row per timestep.
pub fn write_steps_csv(path: &Path, records: &[StepOutcome]) -> anyhow::Result<()> {
    let k = records.iter().map(|r| r.rates.len()).max().unwrap_or(0);
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    let rate_cols: Vec<String> = (0..k).map(|j| format!("rate_{j}")).collect();
    writeln!(
        out,
        "step,tax_year,{},revenue,rebate,welfare,gini,mean_hours,mean_income,mean_utility",
        rate_cols.join(",")
    )?;
    for r in records {
        let rates: Vec<String> = (0..k)
            .map(|j| r.rates.get(j).map_or(String::new(), |x| x.to_string()))
            .collect();
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            r.step,
            r.tax_year,
            rates.join(","),
            r.revenue,
            r.rebate,
            r.welfare,
            r.gini,
            r.mean_hours,
            r.mean_income,
            r.mean_utility
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Reads a run's header and the scenario it holds.
pub fn read_run_header(run_dir: &Path) -> anyhow::Result<(LogHeader, Scenario)> {
    let log = run_dir.join("run.log");
    let reader = LogReader::open(&log).with_context(|| format!("cannot read {}", log.display()))?;
    let header: LogHeader = reader
        .header()
        .with_context(|| format!("{}: the header does not decode", log.display()))?;
    if header.kind != "simulacra-run" {
        bail!(
            "{}: not a simulacra run log (kind {:?})",
            log.display(),
            header.kind
        );
    }
    let scenario = Scenario::from_toml(&header.scenario_toml)
        .with_context(|| format!("{}: the scenario in the header is invalid", log.display()))?;
    Ok((header, scenario))
}

/// The outcome of `simulacra replay --verify`.
pub enum ReplayVerdict {
    Identical {
        frames: u64,
    },
    Differs(Divergence),
    /// The re-execution stopped before it could compare everything.
    Failed(String),
}

/// Every LLM exchange recorded in a log (what a replay answers from).
pub fn recorded_exchanges(log: &Path) -> anyhow::Result<Recording> {
    // A damaged tail is reported by the frame comparison; answer from the intact prefix.
    Ok(Recording::new(whole_steps(log)?.exchanges))
}

/// Re-executes a recorded run from its header and compares every frame.
pub fn verify_replay(run_dir: &Path) -> anyhow::Result<ReplayVerdict> {
    let (header, scenario) = read_run_header(run_dir)?;
    if header.simulacra_version != env!("CARGO_PKG_VERSION") {
        tracing::warn!(
            recorded = %header.simulacra_version,
            "the log was written by another simulacra version; a difference may come from that"
        );
    }
    let sink = VerifySink::open(&run_dir.join("run.log"))?;
    // An LLM run may have stopped early on its servers' failures (llm.max_fallback_share),
    // which a replay, asking no server, cannot see: it re-executes the steps the log holds.
    let (recording, steps) = if scenario.uses_llm() {
        let w = whole_steps(&run_dir.join("run.log"))?;
        (Some(Recording::new(w.exchanges)), w.steps)
    } else {
        (None, scenario.simulation.timesteps)
    };
    System::new().block_on(async move {
        let population = Arc::new(Population::generate(&scenario));
        let llm = match recording {
            Some(r) => Some(LlmRuntime::new(&scenario, Answers::Replay(r))?),
            None => None,
        };
        let (economy, _) = start_economy(&scenario, header.fork.as_ref(), population, llm).await?;
        let mut sink = match run_game(economy, sink, 0..steps, None).await {
            Ok(done) => {
                done.game.stop();
                done.sink
            }
            Err(failed) => {
                failed.game.stop();
                // A replay that could not answer a request says which step and agent.
                if failed.sink.divergence().is_none() {
                    return Ok(ReplayVerdict::Failed(failed.error.to_string()));
                }
                failed.sink
            }
        };
        Ok(match sink.check_end() {
            None => ReplayVerdict::Identical {
                frames: sink.frames_matched,
            },
            Some(d) => ReplayVerdict::Differs(d.clone()),
        })
    })
}
