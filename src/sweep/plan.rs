//! A sweep's plan: every run (configurations x seeds, in a stable order) with its folder and
//! the identity of its scenario, kept in `DIR/plan.json` so that shards on other machines and
//! `sweep merge` agree on what the sweep is; and what a run folder holds (nothing, a run
//! stopped part-way, a complete and verified result, or another run).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{LlmConfig, Scenario};
use crate::run::Summary;
use crate::runlog::{LOG_FILE, RunLog};

/// `DIR/plan.json`.
pub const PLAN_FILE: &str = "plan.json";
const PLAN_KIND: &str = "simulacra-sweep-plan";

/// Most runs one sweep holds: far above any study, far below what exhausts memory or a
/// filesystem's folder count.
pub const MAX_RUNS: u64 = 1_000_000;

/// One run of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRun {
    /// The configuration's label (`base`, or `key=value key=value`).
    pub configuration: String,
    pub seed: u64,
    /// The run's folder, relative to the sweep's folder (`<configuration>/seed-<s>`).
    pub dir: String,
    /// SHA-256 of the run's scenario without its execution-only settings (see [`identity`]).
    pub identity: String,
}

/// The plan file's contents; equal for every shard of one sweep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub kind: String,
    /// Configuration labels in order (the order of `aggregate.csv`).
    pub configurations: Vec<String>,
    /// Configurations x seeds, the first configuration's seeds first.
    pub runs: Vec<PlannedRun>,
}

impl Plan {
    pub fn new(configurations: Vec<String>, runs: Vec<PlannedRun>) -> anyhow::Result<Plan> {
        let mut dirs: Vec<&str> = runs.iter().map(|r| r.dir.as_str()).collect();
        dirs.sort_unstable();
        if let Some(w) = dirs.windows(2).find(|w| w[0] == w[1]) {
            bail!(
                "two runs of the sweep would share the folder {}: a seed or a grid value is \
                 given twice, or two grid values differ only in characters a folder name cannot \
                 hold",
                w[0]
            );
        }
        Ok(Plan {
            kind: PLAN_KIND.into(),
            configurations,
            runs,
        })
    }

    /// Reads `DIR/plan.json`.
    pub fn read(out: &Path) -> anyhow::Result<Plan> {
        let path = out.join(PLAN_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {}: not a sweep folder (a sweep writes it before its first run)",
                path.display()
            )
        })?;
        let plan: Plan = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a sweep plan", path.display()))?;
        if plan.kind != PLAN_KIND {
            bail!(
                "{}: not a sweep plan (kind {:?})",
                path.display(),
                plan.kind
            );
        }
        Ok(plan)
    }

    /// Writes `DIR/plan.json`, or checks that the one there is this plan: every shard writes
    /// it, and a folder never mixes two sweeps. The write is atomic (a temporary file renamed
    /// into place), so a shard never reads half of another's.
    pub fn write_or_check(&self, out: &Path) -> anyhow::Result<()> {
        let path = out.join(PLAN_FILE);
        if path.exists() {
            let there = Plan::read(out)?;
            if there != *self {
                bail!(
                    "{} holds another sweep (its scenario, grid or seeds differ); use another \
                     --out, or add --force to replace it (only the files simulacra wrote there \
                     are removed)",
                    out.display()
                );
            }
            return Ok(());
        }
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let tmp = out.join(format!(
            ".{PLAN_FILE}.{}.{}",
            crate::run_lock::host_name(),
            std::process::id()
        ));
        std::fs::write(&tmp, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Files a sweep writes at the top of its folder (see the layout in `sweep`).
const SWEEP_FILES: [&str; 8] = [
    PLAN_FILE,
    "runs.csv",
    "aggregate.csv",
    super::tables::BY_MODEL_FILE,
    "welfare.svg",
    "welfare.png",
    "seeds.svg",
    "seeds.png",
];

/// `sweep --force`: makes `out` ready for `plan`. An earlier sweep of another plan there goes
/// (its tables and each of its run folders), and so does any run of another scenario in one of
/// this plan's run folders; only the files simulacra wrote are removed, each run folder under
/// its lock, and every other file stays; a run both plans hold is kept. Returns how many run
/// folders were cleared.
pub fn clear_for(out: &Path, plan: &Plan) -> anyhow::Result<usize> {
    let mut stale: Vec<PathBuf> = Vec::new();
    if out.join(PLAN_FILE).exists() {
        // An unreadable plan is stale too: --force replaces it.
        let old = Plan::read(out).ok();
        if old.as_ref() != Some(plan) {
            // A run both plans hold (same folder, same scenario) is kept: it is this plan's.
            let stays = |r: &PlannedRun| plan.runs.iter().any(|n| n == r);
            stale.extend(
                old.iter()
                    .flat_map(|o| o.runs.iter().filter(|r| !stays(r)).map(|r| run_dir(out, r))),
            );
            for name in SWEEP_FILES {
                let path = out.join(name);
                if path.exists() {
                    std::fs::remove_file(&path)
                        .with_context(|| format!("cannot remove {}", path.display()))?;
                }
            }
        }
    }
    for run in &plan.runs {
        let dir = run_dir(out, run);
        if matches!(state_of(&dir, &run.identity)?, RunState::Foreign(_)) {
            stale.push(dir);
        }
    }
    stale.sort();
    stale.dedup();
    for dir in &stale {
        let _lock = crate::run_lock::lock_existing_run_dir(dir)?;
        crate::run::folder::clear_run_outputs(dir)?;
        // An emptied configuration folder goes; one with a user's file (or a lock) stays.
        if let Some(parent) = dir.parent().filter(|p| *p != out) {
            let _ = std::fs::remove_dir(parent);
        }
    }
    Ok(stale.len())
}

/// The identity of a run: SHA-256 of its resolved scenario, without what only says how it is
/// executed (the thread count, and the inference servers' settings of
/// [`LLM_ENDPOINT_KEYS`](crate::config::LLM_ENDPOINT_KEYS)). Two shards that point one run at
/// different servers agree that it is the same run, and the one that resumes it takes its own.
pub fn identity(scenario: &Scenario) -> String {
    let mut s = scenario.clone();
    s.simulation.shards = 0;
    s.llm.set_endpoint(LlmConfig::default().endpoint());
    Sha256::digest(s.to_toml().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a run folder holds.
#[derive(Debug)]
pub enum RunState {
    /// No log (or a log killed before its header reached the disk): start the run.
    NotStarted,
    /// A log of this run without a matching summary: resume it.
    Partial(String),
    /// A summary whose log hash and size match the log: done. Holds `summary.json`.
    Complete(Box<Summary>),
    /// Something else: never overwritten.
    Foreign(String),
}

/// Reads what `dir` holds, for the run whose [`identity`] is `expected`.
pub fn state_of(dir: &Path, expected: &str) -> anyhow::Result<RunState> {
    let log = dir.join(LOG_FILE);
    if !log.exists() {
        return Ok(RunState::NotStarted);
    }
    let Ok(RunLog {
        header, scenario, ..
    }) = RunLog::open(dir)
    else {
        return Ok(RunState::NotStarted);
    };
    if header.fork.is_some() {
        return Ok(RunState::Foreign(
            "it holds a fork, not a run of this sweep".into(),
        ));
    }
    if identity(&scenario) != expected {
        return Ok(RunState::Foreign(
            "it holds a run of another scenario or seed".into(),
        ));
    }
    let summary_path = dir.join("summary.json");
    let Ok(text) = std::fs::read_to_string(&summary_path) else {
        return Ok(RunState::Partial("the log has no summary yet".into()));
    };
    let Ok(summary) = serde_json::from_str::<Summary>(&text) else {
        return Ok(RunState::Partial("summary.json is unreadable".into()));
    };
    let len = std::fs::metadata(&log)
        .with_context(|| format!("cannot read {}", log.display()))?
        .len();
    if summary.log_bytes != len {
        return Ok(RunState::Partial(
            "summary.json does not match the log's size".into(),
        ));
    }
    let sha = simulacra_actors::log::file_sha256(&log)
        .map_err(|e| crate::runlog::cannot_read(&log, e))?;
    if summary.log_sha256 != sha {
        return Ok(RunState::Partial(
            "summary.json does not match the log's hash".into(),
        ));
    }
    if let Some(reason) = &summary.halted {
        return Ok(RunState::Partial(format!(
            "the run stopped before its end ({reason})"
        )));
    }
    Ok(RunState::Complete(Box::new(summary)))
}

/// The folder of a planned run.
pub fn run_dir(out: &Path, run: &PlannedRun) -> PathBuf {
    out.join(&run.dir)
}
