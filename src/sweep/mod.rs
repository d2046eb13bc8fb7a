//! `simulacra sweep`: one scenario over seeds and a grid of overrides, run in parallel, each
//! run in its own folder, aggregated as mean +- std per configuration.
//!
//! Layout of the output folder:
//!
//! ```text
//! OUT/plan.json                   every run, its folder and scenario hash (see [`plan`])
//! OUT/<configuration>/seed-<s>/   run.log, steps.csv, summary.json (a normal run folder),
//!                                 timing.json (wall time) and writer.lock (the lock)
//! OUT/runs.csv                    one row per run
//! OUT/aggregate.csv               one row per configuration: mean and std over seeds
//! OUT/runs_by_model.csv           workers mixing models: one row per run and model
//! OUT/welfare.svg|png             welfare per configuration, mean +- std, with the baselines
//! OUT/seeds.svg|png               planner welfare minus Saez welfare, per seed
//! ```
//!
//! Each run is exactly `simulacra run` with the same overrides plus `simulation.seed=<s>`
//! (and `simulation.shards=1` when several runs share the cores, which cannot change a result):
//! a sweep's run has the same log bytes as the single run.
//!
//! A sweep can be split over machines (`--shard I/N`, a Slurm job array, a Kubernetes Indexed
//! Job) on a shared filesystem: [`plan`] fixes the runs and their folders, [`shard`] assigns
//! them, [`exec`] runs one shard's (skipping finished runs, resuming stopped ones, under the
//! run-folder lock of [`crate::run_lock`]) and [`merge`] builds the tables from the folders.
//! This file holds the plan's construction and the aggregate table; the command's printing is
//! `src/cli/sweep.rs`.

pub mod exec;
mod grid;
pub mod merge;
pub mod plan;
pub mod shard;
mod tables;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};

use serde::Serialize;

use crate::config::Scenario;
use exec::{Outcome, ShardCounts};
pub use grid::parse_grid;
pub use merge::LlmTotals;
pub use plan::Plan;
use plan::{MAX_RUNS, PlannedRun, RunState};
pub use shard::{Shard, parse_shard};

/// Seeds from `1..10` (inclusive), `7` or `1,4,9`.
pub fn parse_seeds(text: &str) -> anyhow::Result<Vec<u64>> {
    let bad = || format!("--seeds {text:?}: expected a range like 1..10 (inclusive) or 1,4,9");
    let t = text.trim();
    if let Some((a, b)) = t.split_once("..") {
        let b = b.trim_start_matches('=');
        let (a, b): (u64, u64) = (
            a.trim().parse().with_context(bad)?,
            b.trim().parse().with_context(bad)?,
        );
        if b < a {
            bail!("{}: the range is empty", bad());
        }
        // Counted before anything is allocated: 1..10^12 would not fit in memory.
        let n = (b - a).saturating_add(1);
        if n > MAX_RUNS {
            bail!(
                "--seeds {text:?} is {n} seeds; a sweep holds at most {MAX_RUNS} runs: narrow \
                 the range, or split the study into several sweeps"
            );
        }
        return Ok((a..=b).collect());
    }
    let seeds = t
        .split(',')
        .map(|x| x.trim().parse::<u64>().with_context(bad))
        .collect::<anyhow::Result<Vec<u64>>>()?;
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        bail!("--seeds {text:?}: seed {} is given twice", w[0]);
    }
    Ok(seeds)
}

/// Every combination of the grid's values, in order (the first key varies slowest).
pub fn configurations(grid: &[(String, Vec<String>)]) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (key, values) in grid {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push((key.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    out
}

/// A configuration's label (`base` when the grid is empty) and a folder name from it.
pub fn label(config: &[(String, String)]) -> String {
    if config.is_empty() {
        return "base".into();
    }
    config
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn folder_name(config: &[(String, String)]) -> String {
    label(config)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '=' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One run's result.
#[derive(Clone, Debug, Serialize)]
pub struct RunRow {
    pub configuration: String,
    pub seed: u64,
    /// The run's folder, relative to the sweep's (the same wherever the folder is mounted).
    pub dir: String,
    pub swf: f64,
    pub gini: f64,
    pub mean_hours: f64,
    pub rates: Vec<f64>,
    pub us_federal_swf: Option<f64>,
    pub saez_swf: Option<f64>,
    /// Wall time of the invocation that finished the run (absent if not recorded).
    pub seconds: Option<f64>,
    /// Workers mixing models (`workers.models`): per model, its workers' outcome and LLM use
    /// (empty for one model).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_model: BTreeMap<String, ModelRow>,
}

/// One model's workers in one run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ModelRow {
    pub workers: u64,
    /// Their mean hours and own utility at the last step.
    pub mean_hours: f64,
    pub mean_utility: f64,
    /// Their LLM decisions, requests and fallbacks.
    pub decisions: u64,
    pub requests: u64,
    pub fallbacks: u64,
}

/// Mean and sample standard deviation (n - 1; 0 for one value).
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let m = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (m, 0.0);
    }
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64;
    (m, v.sqrt())
}

/// One configuration over its seeds.
#[derive(Clone, Debug, Serialize)]
pub struct Aggregate {
    pub configuration: String,
    pub runs: usize,
    /// (mean, std) of each metric.
    pub swf: (f64, f64),
    pub gini: (f64, f64),
    pub mean_hours: (f64, f64),
    pub rates: Vec<(f64, f64)>,
    pub us_federal_swf: Option<(f64, f64)>,
    pub saez_swf: Option<(f64, f64)>,
    /// Paired per seed: (planner - Saez) / |Saez| in percent, and how many seeds the planner won.
    pub vs_saez_percent: Option<(f64, f64)>,
    pub wins_vs_saez: Option<usize>,
    /// Paired per seed: (planner - US) / |US| in percent.
    pub vs_us_federal_percent: Option<(f64, f64)>,
}

fn aggregate(configuration: &str, rows: &[&RunRow]) -> Aggregate {
    let col = |f: &dyn Fn(&RunRow) -> f64| -> (f64, f64) {
        mean_std(&rows.iter().map(|r| f(r)).collect::<Vec<_>>())
    };
    let opt = |f: &dyn Fn(&RunRow) -> Option<f64>| -> Option<(f64, f64)> {
        let v: Option<Vec<f64>> = rows.iter().map(|r| f(r)).collect();
        v.map(|v| mean_std(&v))
    };
    let k = rows.iter().map(|r| r.rates.len()).max().unwrap_or(0);
    Aggregate {
        configuration: configuration.to_string(),
        runs: rows.len(),
        swf: col(&|r| r.swf),
        gini: col(&|r| r.gini),
        mean_hours: col(&|r| r.mean_hours),
        rates: (0..k)
            .map(|j| col(&|r| r.rates.get(j).copied().unwrap_or(f64::NAN)))
            .collect(),
        us_federal_swf: opt(&|r| r.us_federal_swf),
        saez_swf: opt(&|r| r.saez_swf),
        vs_saez_percent: opt(&|r| r.saez_swf.map(|b| percent(r.swf, b))),
        wins_vs_saez: rows
            .iter()
            .map(|r| r.saez_swf.map(|b| usize::from(r.swf > b)))
            .sum(),
        vs_us_federal_percent: opt(&|r| r.us_federal_swf.map(|b| percent(r.swf, b))),
    }
}

fn percent(x: f64, base: f64) -> f64 {
    100.0 * (x - base) / base.abs().max(f64::MIN_POSITIVE)
}

/// What to sweep.
pub struct SweepSpec {
    pub scenario: Option<PathBuf>,
    pub sets: Vec<String>,
    pub grid: Vec<(String, Vec<String>)>,
    pub seeds: Vec<u64>,
    pub out: PathBuf,
    /// Runs at once (0 = the core count).
    pub jobs: usize,
}

/// The sweep's tables.
pub struct SweepResult {
    pub rows: Vec<RunRow>,
    pub aggregates: Vec<Aggregate>,
    /// LLM use over every run.
    pub llm: LlmTotals,
    /// Wall time of the invocation that built it.
    pub seconds: f64,
}

fn jobs_of(spec: &SweepSpec) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if spec.jobs == 0 { cores } else { spec.jobs }
}

/// The sweep's plan and each run's scenario. Every scenario is resolved up front, so a bad
/// key fails before any run starts; a sweep of more than [`MAX_RUNS`] runs is refused before
/// anything is allocated for it.
pub fn plan_sweep(spec: &SweepSpec) -> anyhow::Result<(Plan, Vec<Scenario>)> {
    let total = spec
        .grid
        .iter()
        .try_fold(spec.seeds.len() as u64, |n, (_, v)| {
            n.checked_mul(v.len() as u64)
        })
        .filter(|&n| n <= MAX_RUNS);
    if total.is_none() {
        bail!(
            "the sweep has {} seeds x {} configurations, more than the {MAX_RUNS} runs one sweep \
             may hold; narrow --seeds or --grid, or split the study into several sweeps",
            spec.seeds.len(),
            spec.grid
                .iter()
                .map(|(_, v)| v.len().to_string())
                .collect::<Vec<_>>()
                .join(" x ")
        );
    }
    let configs = configurations(&spec.grid);
    let parallel = jobs_of(spec) > 1;
    let (mut runs, mut scenarios) = (Vec::new(), Vec::new());
    for config in &configs {
        for &seed in &spec.seeds {
            let mut sets = spec.sets.clone();
            sets.extend(config.iter().map(|(k, v)| format!("{k}={v}")));
            sets.push(format!("simulation.seed={seed}"));
            if parallel {
                sets.push("simulation.shards=1".into());
            }
            let scenario = Scenario::load(spec.scenario.as_deref(), &sets)
                .with_context(|| format!("configuration {}", label(config)))?;
            runs.push(PlannedRun {
                configuration: label(config),
                seed,
                dir: format!("{}/seed-{seed}", folder_name(config)),
                identity: plan::identity(&scenario),
            });
            scenarios.push(scenario);
        }
    }
    let plan = Plan::new(configs.iter().map(|c| label(c)).collect(), runs)?;
    Ok((plan, scenarios))
}

/// What one `simulacra sweep` invocation did.
pub struct SweepOutcome {
    /// The shard it ran (`None`: the whole sweep).
    pub shard: Option<Shard>,
    pub planned: usize,
    pub counts: ShardCounts,
    /// Runs another process held, with their holders.
    pub busy: Vec<String>,
    /// Runs resumed, with what was kept of them.
    pub resumed: Vec<String>,
    /// The tables (only a whole sweep builds them; shards leave that to `sweep merge`).
    pub result: Option<SweepResult>,
    pub seconds: f64,
}

/// Runs the sweep, or one shard of it. Each run is skipped when its folder holds a complete
/// result, resumed when it holds part of one, started otherwise. A whole sweep then builds
/// its tables from the run folders, as `sweep merge` does.
pub fn run_sweep(
    spec: &SweepSpec,
    shard: Option<Shard>,
    progress: Option<&indicatif::ProgressBar>,
) -> anyhow::Result<SweepOutcome> {
    let started = Instant::now();
    let (plan, scenarios) = plan_sweep(spec)?;
    plan.write_or_check(&spec.out)?;
    let outcomes = exec::run_shard(
        &spec.out,
        &plan,
        &scenarios,
        shard.unwrap_or(Shard::ALL),
        jobs_of(spec),
        progress,
    );
    let counts = exec::count(&outcomes);
    let (mut failures, mut busy, mut resumed) = (String::new(), Vec::new(), Vec::new());
    for (k, o) in outcomes {
        let dir = &plan.runs[k].dir;
        match o {
            Outcome::Failed(e) => failures += &format!("\n  {e:#}"),
            Outcome::Busy(b) => busy.push(format!("{dir}: {b}")),
            Outcome::Resumed {
                steps_kept,
                from_snapshot,
            } => resumed.push(format!(
                "{dir}: {steps_kept} whole steps were in its log; {}",
                from_snapshot.map_or("re-executed from step 0 against the log".into(), |s| {
                    format!("continued from its snapshot at step {s}")
                })
            )),
            Outcome::Skipped | Outcome::Ran => {}
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} runs failed (the others finished; running the sweep again retries only \
             what is not done):{failures}",
            counts.failed,
            counts.runs
        );
    }
    let result = match shard {
        Some(_) => None,
        None if !busy.is_empty() => bail!(
            "{} runs are being written by another process, so no table was built; run \
             `simulacra sweep merge {}` when it is done:\n  {}",
            busy.len(),
            spec.out.display(),
            busy.join("\n  ")
        ),
        None => {
            let mut r = merge::merge(&spec.out, &plan)?;
            r.seconds = started.elapsed().as_secs_f64();
            Some(r)
        }
    };
    Ok(SweepOutcome {
        shard,
        planned: plan.runs.len(),
        counts,
        busy,
        resumed,
        result,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One line per run of the plan: its position, shard (of `shards`), state and folder.
pub fn dry_run(spec: &SweepSpec, shard: Option<Shard>) -> anyhow::Result<Vec<DryRunRow>> {
    let (plan, _) = plan_sweep(spec)?;
    let count = shard.map_or(1, |s| s.count);
    plan.runs
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let state = match plan::state_of(&plan::run_dir(&spec.out, r), &r.identity)? {
                RunState::NotStarted => "new",
                RunState::Partial(_) => "resume",
                RunState::Complete(_) => "done",
                RunState::Foreign(_) => "foreign",
            };
            Ok(DryRunRow {
                run: k,
                shard: shard::shard_of(k, count),
                shards: count,
                mine: shard.is_none_or(|s| s.owns(k)),
                state,
                configuration: r.configuration.clone(),
                seed: r.seed,
                dir: r.dir.clone(),
            })
        })
        .collect()
}

/// A line of `--dry-run`.
#[derive(Clone, Debug, Serialize)]
pub struct DryRunRow {
    pub run: usize,
    pub shard: usize,
    pub shards: usize,
    /// Whether the shard asked for runs it.
    pub mine: bool,
    /// `new`, `resume`, `done` (skipped) or `foreign` (refused).
    pub state: &'static str,
    pub configuration: String,
    pub seed: u64,
    pub dir: String,
}

/// The `--dry-run` listing as text.
pub fn render_dry_run(rows: &[DryRunRow]) -> String {
    // At least the usual 36 columns; a longer label widens the column rather than shifting
    // the rest of its row.
    let w = crate::table::width("configuration", rows.iter().map(|r| &r.configuration)).max(36);
    let mut s = format!(
        "{:>5} {:>7} {:<7} {:<w$} {:>6}  dir\n",
        "run", "shard", "state", "configuration", "seed"
    );
    for r in rows {
        s += &format!(
            "{:>5} {:>7} {:<7} {:<w$} {:>6}  {}{}\n",
            r.run,
            format!("{}/{}", r.shard, r.shards),
            r.state,
            r.configuration,
            r.seed,
            r.dir,
            if r.mine { "" } else { "  (other shard)" }
        );
    }
    s
}

/// The aggregate table as text.
pub fn render_aggregates(r: &SweepResult) -> String {
    let pm = |p: (f64, f64), d: usize| format!("{:.d$} \u{b1} {:.d$}", p.0, p.1);
    let w = crate::table::width(
        "configuration",
        r.aggregates.iter().map(|a| &a.configuration),
    )
    .max(36);
    let mut s = format!(
        "{:>3} {:<w$} {:>4} {:>22} {:>22} {:>22} {:>16} {:>5} {:>16} {:>16} {:>13}  rates % (mean)\n",
        "#",
        "configuration",
        "runs",
        "welfare",
        "Saez",
        "US 2024",
        "vs Saez %",
        "wins",
        "vs US %",
        "Gini",
        "hours"
    );
    for (i, a) in r.aggregates.iter().enumerate() {
        let rates: Vec<String> = a
            .rates
            .iter()
            .map(|(m, _)| format!("{:.0}", m * 100.0))
            .collect();
        s += &format!(
            "{:>3} {:<w$} {:>4} {:>22} {:>22} {:>22} {:>16} {:>5} {:>16} {:>16} {:>13}  {}\n",
            i,
            a.configuration,
            a.runs,
            pm(a.swf, 1),
            a.saez_swf.map_or("-".into(), |p| pm(p, 1)),
            a.us_federal_swf.map_or("-".into(), |p| pm(p, 1)),
            a.vs_saez_percent.map_or("-".into(), |p| pm(p, 2)),
            a.wins_vs_saez.map_or("-".into(), |w| w.to_string()),
            a.vs_us_federal_percent.map_or("-".into(), |p| pm(p, 1)),
            pm(a.gini, 3),
            pm(a.mean_hours, 2),
            rates.join("/")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_and_grids_parse() {
        assert_eq!(parse_seeds("1..3").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_seeds("1..=3").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_seeds("4,9").unwrap(), vec![4, 9]);
        assert!(parse_seeds("3..1").is_err());
        // Refused before anything is allocated, with the count and the limit.
        let e = parse_seeds("1..1000000000000").unwrap_err().to_string();
        assert!(
            e.contains("1000000000000 seeds") && e.contains("at most"),
            "{e}"
        );
        assert!(parse_seeds("0..18446744073709551615").is_err());
        assert_eq!(parse_seeds("1..1000000").unwrap().len(), 1_000_000);
        assert!(
            parse_seeds("4,9,4")
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        let (k, v) = parse_grid("planner.rates=[[0.1,0.2],[0.3,0.4]]").unwrap();
        assert_eq!(k, "planner.rates");
        assert_eq!(v, vec!["[0.1,0.2]", "[0.3,0.4]"]);
        assert!(parse_grid("planner.policy=saez").is_err());
        let grid = vec![
            ("a".to_string(), vec!["1".to_string(), "2".to_string()]),
            ("b".to_string(), vec!["x".to_string(), "y".to_string()]),
        ];
        let c = configurations(&grid);
        assert_eq!(c.len(), 4);
        assert_eq!(label(&c[1]), "a=1 b=y");
        assert_eq!(label(&[]), "base");
    }

    #[test]
    fn a_long_configuration_label_keeps_the_columns_in_line() {
        let long = format!("planner.policy=hill-climb {}", "x".repeat(34));
        assert_eq!(long.len(), 60);
        let row = |configuration: &str, seed| DryRunRow {
            run: 0,
            shard: 0,
            shards: 1,
            mine: true,
            state: "new",
            configuration: configuration.into(),
            seed,
            dir: "d".into(),
        };
        let text = render_dry_run(&[row("base", 1), row(&long, 22)]);
        let at_seed_end: Vec<usize> = text
            .lines()
            .map(|l| l.find("  d").unwrap_or_else(|| l.find("  dir").unwrap()))
            .collect();
        assert!(text.contains(&long), "{text}");
        assert!(at_seed_end.windows(2).all(|w| w[0] == w[1]), "{text}");

        let agg = |configuration: &str| Aggregate {
            configuration: configuration.into(),
            runs: 2,
            swf: (1.0, 0.0),
            gini: (0.5, 0.0),
            mean_hours: (40.0, 0.0),
            rates: vec![(0.1, 0.0)],
            us_federal_swf: None,
            saez_swf: None,
            vs_saez_percent: None,
            wins_vs_saez: None,
            vs_us_federal_percent: None,
        };
        let result = SweepResult {
            rows: Vec::new(),
            aggregates: vec![agg("base"), agg(&long)],
            llm: LlmTotals::default(),
            seconds: 0.0,
        };
        let text = render_aggregates(&result);
        let header = text.lines().next().unwrap();
        let runs_end = header.find(" runs").unwrap() + " runs".len();
        for line in text.lines().skip(1) {
            assert_eq!(&line[runs_end - 2..runs_end + 1], " 2 ", "{text}");
        }
        assert!(text.contains(&long), "{text}");
    }

    #[test]
    fn mean_std_is_the_sample_std() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, 2.5);
        assert!((s - 1.290_994_448_735_805_6).abs() < 1e-12);
        assert_eq!(mean_std(&[5.0]), (5.0, 0.0));
    }
}
