//! Building a sweep's tables from its run folders: every planned run must hold a complete,
//! verified result (a missing or incomplete one is listed, never averaged around). The
//! single-machine sweep builds its tables this way too, so a sweep run in shards on many
//! machines and merged gives the same `runs.csv`, `aggregate.csv` and plots, byte for byte
//! apart from the wall-time column.

use std::path::Path;

use anyhow::bail;
use serde::Serialize;
use serde_json::Value;

use super::exec::TIMING_FILE;
use super::plan::{Plan, RunState, run_dir, state_of};
use super::tables::write_outputs;
use super::{Aggregate, RunRow, SweepResult, aggregate};

/// LLM use added up over the sweep's runs (from each `summary.json`'s `llm` block).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LlmTotals {
    /// Runs that used an LLM.
    pub runs: u64,
    pub requests: u64,
    pub cache_hits: u64,
    pub retries: u64,
    pub fallbacks: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl LlmTotals {
    fn add(&mut self, llm: &Value) {
        if !llm.is_object() {
            return;
        }
        let n = |k: &str| llm[k].as_u64().unwrap_or(0);
        self.runs += 1;
        self.requests += n("requests");
        self.cache_hits += n("cache_hits");
        self.retries += n("retries");
        self.fallbacks += n("fallbacks");
        self.prompt_tokens += n("prompt_tokens");
        self.completion_tokens += n("completion_tokens");
    }
}

/// A planned run that has no usable result.
#[derive(Clone, Debug, Serialize)]
pub struct Missing {
    pub dir: String,
    pub why: String,
}

// NaN and infinities are written as null in JSON; the table shows them as Rust prints them.
fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn row_of(configuration: &str, dir: &str, s: &Value, seconds: Option<f64>) -> RunRow {
    RunRow {
        configuration: configuration.to_string(),
        seed: s["seed"].as_u64().unwrap_or_default(),
        dir: dir.into(),
        swf: num(&s["swf_final"]),
        gini: num(&s["gini_final"]),
        mean_hours: num(&s["mean_hours_final"]),
        rates: s["tax_rates_final"]
            .as_array()
            .map(|a| a.iter().map(num).collect())
            .unwrap_or_default(),
        us_federal_swf: s["baselines"]["us_federal"]["swf"].as_f64(),
        saez_swf: s["baselines"]["saez"]["swf"].as_f64(),
        seconds,
    }
}

fn seconds_of(dir: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(TIMING_FILE)).ok()?;
    serde_json::from_str::<Value>(&text).ok()?["seconds"].as_f64()
}

/// Reads every planned run's result; the runs without one are listed instead.
pub fn collect(out: &Path, plan: &Plan) -> anyhow::Result<(Vec<RunRow>, LlmTotals, Vec<Missing>)> {
    let (mut rows, mut llm, mut missing) = (Vec::new(), LlmTotals::default(), Vec::new());
    for run in &plan.runs {
        let dir = run_dir(out, run);
        let why = match state_of(&dir, &run.identity)? {
            RunState::Complete(summary) => {
                llm.add(&summary["llm"]);
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

/// Builds `runs.csv`, `aggregate.csv` and the plots of the sweep in `out` from its run
/// folders; fails, naming each one, if any planned run has no complete result.
pub fn merge(out: &Path, plan: &Plan) -> anyhow::Result<SweepResult> {
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
