//! Running one shard of a sweep: each of its runs under the run-folder lock, skipped when its
//! folder holds a complete, verified result, resumed from its log and snapshots when it was
//! stopped part-way, started otherwise. Runs go in parallel, `--jobs` at a time.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::plan::{Plan, RunState, run_dir, state_of};
use super::shard::Shard;
use crate::config::Scenario;
use crate::run::{resume_run_at, run_scenario};
use crate::run_lock::{Busy, RunLock};

/// The run folder's name for a run's wall time (the run wing owns a run folder's file names).
pub use crate::run::folder::TIMING_FILE;

/// What happened to one run.
#[derive(Debug)]
pub enum Outcome {
    /// Its folder already held a complete, verified result.
    Skipped,
    /// Started from step 0.
    Ran,
    /// Continued from its log (and newest usable snapshot).
    Resumed {
        steps_kept: u64,
        from_snapshot: Option<u64>,
    },
    /// Another process holds its lock.
    Busy(Busy),
    Failed(anyhow::Error),
}

/// Counts of a shard's outcomes.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ShardCounts {
    pub runs: usize,
    pub skipped: usize,
    pub ran: usize,
    pub resumed: usize,
    pub busy: usize,
    pub failed: usize,
}

/// `timing.json`.
#[derive(Serialize, Deserialize)]
pub(super) struct Timing {
    pub(super) seconds: f64,
    host: String,
    /// `ran` or `resumed`.
    how: String,
}

fn run_one(scenario: &Scenario, dir: &Path, identity: &str) -> anyhow::Result<Outcome> {
    let lock = match RunLock::try_acquire(dir)? {
        Ok(lock) => lock,
        Err(busy) => return Ok(Outcome::Busy(busy)),
    };
    let started = Instant::now();
    let (outcome, how) = match state_of(dir, identity)? {
        RunState::Complete(_) => return Ok(Outcome::Skipped),
        RunState::Foreign(why) => bail!(
            "{}: {why}; it is left as it is (use another --out, or add --force to replace it)",
            dir.display()
        ),
        RunState::Partial(_) => {
            // The servers this sweep was given now, not those in the run's log: a run
            // requeued on another node resumes against that node's server.
            let r = resume_run_at(dir, scenario.llm.endpoint()).context("resuming it")?;
            stopped_early(dir, &r.summary)?;
            let o = Outcome::Resumed {
                steps_kept: r.steps_kept,
                from_snapshot: r.from_snapshot,
            };
            (o, "resumed")
        }
        RunState::NotStarted => {
            let summary = run_scenario(scenario, dir, None)?;
            stopped_early(dir, &summary)?;
            (Outcome::Ran, "ran")
        }
    };
    let timing = Timing {
        seconds: started.elapsed().as_secs_f64(),
        host: crate::run_lock::host_name(),
        how: how.into(),
    };
    let path = dir.join(TIMING_FILE);
    crate::outfile::write_bytes(
        &path,
        false,
        (serde_json::to_string(&timing)? + "\n").as_bytes(),
    )?;
    drop(lock);
    Ok(outcome)
}

/// A run that stopped before its end (too many LLM fallbacks, its budget) is no result for
/// the sweep's tables: it fails, and the next invocation of the sweep resumes it.
fn stopped_early(dir: &Path, summary: &crate::run::Summary) -> anyhow::Result<()> {
    match &summary.halted {
        Some(reason) => bail!(
            "{}: the run stopped before its end ({reason}); fix the cause and run the sweep \
             again to resume it",
            dir.display()
        ),
        None => Ok(()),
    }
}

/// Runs the plan's runs that belong to `shard`, `jobs` at a time; returns each run's position
/// in the plan and its outcome, in plan order. `progress` counts finished runs.
pub fn run_shard(
    out: &Path,
    plan: &Plan,
    scenarios: &[Scenario],
    shard: Shard,
    jobs: usize,
    progress: Option<&indicatif::ProgressBar>,
) -> Vec<(usize, Outcome)> {
    let mine: Vec<usize> = (0..plan.runs.len()).filter(|&k| shard.owns(k)).collect();
    if let Some(p) = progress {
        p.set_length(mine.len() as u64);
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..mine.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(mine.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&k) = mine.get(i) else {
                        break;
                    };
                    let run = &plan.runs[k];
                    let dir = run_dir(out, run);
                    let outcome = run_one(&scenarios[k], &dir, &run.identity)
                        .with_context(|| format!("the run in {}", dir.display()))
                        .unwrap_or_else(Outcome::Failed);
                    results.lock().expect("no worker panics")[i] = Some(outcome);
                    if let Some(p) = progress {
                        p.inc(1);
                    }
                }
            });
        }
    });
    mine.into_iter()
        .zip(results.into_inner().expect("no worker panics"))
        .map(|(k, o)| (k, o.expect("every run was tried")))
        .collect()
}

/// Counts outcomes.
pub fn count(outcomes: &[(usize, Outcome)]) -> ShardCounts {
    let mut c = ShardCounts {
        runs: outcomes.len(),
        ..ShardCounts::default()
    };
    for (_, o) in outcomes {
        match o {
            Outcome::Skipped => c.skipped += 1,
            Outcome::Ran => c.ran += 1,
            Outcome::Resumed { .. } => c.resumed += 1,
            Outcome::Busy(_) => c.busy += 1,
            Outcome::Failed(_) => c.failed += 1,
        }
    }
    c
}
