//! Building a sweep's tables from its run folders: every planned run must hold a complete,
//! verified result (a missing or incomplete one is listed, never averaged around). The
//! single-machine sweep builds its tables this way too, so a sweep run in shards on many
//! machines and merged gives the same `runs.csv`, `aggregate.csv` and plots, byte for byte
//! apart from the wall-time column.

use std::path::Path;

use anyhow::bail;
use serde::Serialize;

use super::exec::{TIMING_FILE, Timing};
use super::plan::{Plan, RunState, run_dir, state_of};
use super::tables::write_outputs;
use super::{Aggregate, ModelRow, RunRow, SweepResult, aggregate};
use crate::llm::{LlmStats, RoleStats};
use crate::run::Summary;

/// LLM use added up over the sweep's runs (from each `summary.json`'s `llm` block).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LlmTotals {
    /// Runs that used an LLM.
    pub runs: u64,
    #[serde(flatten)]
    pub totals: RoleStats,
    /// Per model of runs whose workers mix models (absent when none did).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub by_model: std::collections::BTreeMap<String, RoleStats>,
}

impl LlmTotals {
    /// Adds one run's use (offline runs have none).
    fn add(&mut self, llm: Option<&LlmStats>) {
        if let Some(stats) = llm {
            self.runs += 1;
            self.totals.add(&stats.totals);
            for (model, s) in &stats.by_model {
                self.by_model.entry(model.clone()).or_default().add(s);
            }
        }
    }
}

/// A planned run that has no usable result.
#[derive(Clone, Debug, Serialize)]
pub struct Missing {
    pub dir: String,
    pub why: String,
}

fn row_of(configuration: &str, dir: &str, s: &Summary, seconds: Option<f64>) -> RunRow {
    RunRow {
        configuration: configuration.to_string(),
        seed: s.seed,
        dir: dir.into(),
        swf: s.swf_final,
        gini: s.gini_final,
        mean_hours: s.mean_hours_final,
        rates: s.tax_rates_final.clone(),
        us_federal_swf: s.baselines.us_federal.as_ref().map(|b| b.swf),
        saez_swf: s.baselines.saez.as_ref().map(|b| b.swf),
        seconds,
        by_model: models_of(s),
    }
}

/// Per model of a run whose workers mix models: their outcome (`summary.by_model`) and LLM
/// use (`summary.llm.by_model`).
fn models_of(s: &Summary) -> std::collections::BTreeMap<String, ModelRow> {
    s.by_model
        .iter()
        .map(|(model, o)| {
            let llm = s.llm.as_ref().and_then(|l| l.by_model.get(model));
            let row = ModelRow {
                workers: o.workers,
                mean_hours: o.mean_hours,
                mean_utility: o.mean_utility,
                decisions: llm.map_or(0, |l| l.decisions),
                requests: llm.map_or(0, |l| l.requests),
                fallbacks: llm.map_or(0, |l| l.fallbacks),
            };
            (model.clone(), row)
        })
        .collect()
}

fn seconds_of(dir: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(TIMING_FILE)).ok()?;
    Some(serde_json::from_str::<Timing>(&text).ok()?.seconds)
}

/// Reads every planned run's result; the runs without one are listed instead.
pub fn collect(out: &Path, plan: &Plan) -> anyhow::Result<(Vec<RunRow>, LlmTotals, Vec<Missing>)> {
    let (mut rows, mut llm, mut missing) = (Vec::new(), LlmTotals::default(), Vec::new());
    for run in &plan.runs {
        let dir = run_dir(out, run);
        let why = match state_of(&dir, &run.identity)? {
            RunState::Complete(summary) => {
                llm.add(summary.llm.as_ref());
                rows.push(row_of(
                    &run.configuration,
                    &run.dir,
                    &summary,
                    seconds_of(&dir),
                ));
                continue;
            }
            RunState::NotStarted if !dir.exists() => "missing: never started".to_string(),
            RunState::NotStarted => "missing: no log".to_string(),
            RunState::Partial(why) => {
                format!("incomplete: {why} (stopped part-way, or still running)")
            }
            RunState::Foreign(why) => format!("not this sweep's: {why}"),
        };
        missing.push(Missing {
            dir: run.dir.clone(),
            why,
        });
    }
    Ok((rows, llm, missing))
}

/// The aggregates of `rows`, one per configuration in the plan's order.
pub fn aggregates(plan: &Plan, rows: &[RunRow]) -> Vec<Aggregate> {
    plan.configurations
        .iter()
        .map(|c| {
            let mine: Vec<&RunRow> = rows.iter().filter(|r| &r.configuration == c).collect();
            aggregate(c, &mine)
        })
        .collect()
}

/// Checks that `plan` is whole: every configuration it names with every seed it holds, each
/// once, and no other run folder in `out` (`<configuration>/seed-<s>` holding a log) that the
/// plan leaves out. `plan.json` is a file people can edit or damage; a merge that trusted its
/// run list would average a short set of runs without a word.
pub fn check_plan(out: &Path, plan: &Plan) -> anyhow::Result<()> {
    let mut seeds: Vec<u64> = Vec::new();
    for run in &plan.runs {
        if !seeds.contains(&run.seed) {
            seeds.push(run.seed);
        }
    }
    let mut problems: Vec<String> = Vec::new();
    for run in &plan.runs {
        if !plan.configurations.contains(&run.configuration) {
            problems.push(format!(
                "{}: configuration {:?} is not among the plan's configurations",
                run.dir, run.configuration
            ));
        }
    }
    for c in &plan.configurations {
        for &seed in &seeds {
            match plan
                .runs
                .iter()
                .filter(|r| &r.configuration == c && r.seed == seed)
                .count()
            {
                1 => {}
                0 => problems.push(format!("{c:?} with seed {seed}: not in the plan")),
                n => problems.push(format!("{c:?} with seed {seed}: listed {n} times")),
            }
        }
    }
    let listed: std::collections::HashSet<&str> =
        plan.runs.iter().map(|r| r.dir.as_str()).collect();
    for dir in run_folders(out) {
        if !listed.contains(dir.as_str()) {
            problems.push(format!("{dir}: holds a run the plan does not list"));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = problems
        .iter()
        .take(10)
        .map(|p| format!("\n  {p}"))
        .collect();
    let more = match problems.len() {
        n if n > 10 => format!("\n  ... and {} more", n - 10),
        _ => String::new(),
    };
    bail!(
        "{} lists {} runs, but its {} configurations x {} seeds make {}, so no table was \
         written (the plan was edited or damaged):{}{more}\nRun the sweep's own command again \
         with --force to write its plan anew (finished runs of that plan are kept)",
        out.join(super::plan::PLAN_FILE).display(),
        plan.runs.len(),
        plan.configurations.len(),
        seeds.len(),
        plan.configurations.len() * seeds.len(),
        shown.concat()
    )
}

/// The run folders in a sweep's folder: `<configuration>/seed-<s>` holding a log, as paths
/// relative to it (the form of the plan's `dir`).
fn run_folders(out: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(configs) = std::fs::read_dir(out) else {
        return found;
    };
    for config in configs.flatten() {
        let Ok(seeds) = std::fs::read_dir(config.path()) else {
            continue;
        };
        for seed in seeds.flatten() {
            let name = seed.file_name().to_string_lossy().into_owned();
            if name.starts_with("seed-") && seed.path().join(crate::runlog::LOG_FILE).is_file() {
                found.push(format!("{}/{name}", config.file_name().to_string_lossy()));
            }
        }
    }
    found.sort();
    found
}

/// Builds `runs.csv`, `aggregate.csv` and the plots of the sweep in `out` from its run
/// folders; fails, naming each one, if the plan is not whole (see [`check_plan`]) or any
/// planned run has no complete result.
pub fn merge(out: &Path, plan: &Plan) -> anyhow::Result<SweepResult> {
    check_plan(out, plan)?;
    let (rows, llm, missing) = collect(out, plan)?;
    if !missing.is_empty() {
        let mut list = String::new();
        for m in &missing {
            list += &format!("\n  {}: {}", m.dir, m.why);
        }
        bail!(
            "{} of the sweep's {} runs have no complete result, so no table was written \
             (run the missing shards again: finished runs are skipped, stopped ones resumed):{list}",
            missing.len(),
            plan.runs.len()
        );
    }
    let result = SweepResult {
        aggregates: aggregates(plan, &rows),
        rows,
        llm,
        seconds: 0.0,
    };
    write_outputs(out, &result)?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llm_use_adds_up_over_the_runs_that_used_an_llm() {
        let run = |requests: u64, retries: u64, tokens: u64| -> LlmStats {
            serde_json::from_value(serde_json::json!({
                "requests": requests, "cache_hits": 1, "retries": retries, "fallbacks": 0,
                "prompt_tokens": tokens, "completion_tokens": tokens / 10,
                "by_role": {"worker": {"requests": requests, "cache_hits": 1, "retries": retries,
                    "fallbacks": 0, "prompt_tokens": tokens, "completion_tokens": tokens / 10}}
            }))
            .unwrap()
        };
        let mut t = LlmTotals::default();
        t.add(Some(&run(100, 3, 5000)));
        t.add(None); // an offline run
        t.add(Some(&run(40, 0, 2000)));
        assert_eq!(t.runs, 2);
        assert_eq!(t.totals.requests, 140);
        assert_eq!(t.totals.retries, 3);
        assert_eq!(t.totals.cache_hits, 2);
        assert_eq!(t.totals.prompt_tokens, 7000);
        assert_eq!(t.totals.completion_tokens, 700);
        assert!(t.by_model.is_empty());
        // Runs mixing models add up per model too.
        let mut mixed = run(10, 0, 100);
        mixed.by_model = [
            ("a".to_string(), mixed.totals.clone()),
            ("b".to_string(), mixed.totals.clone()),
        ]
        .into();
        t.add(Some(&mixed));
        t.add(Some(&mixed));
        assert_eq!(t.by_model["a"].requests, 20);
        assert_eq!(t.by_model["b"].prompt_tokens, 200);
    }
}
