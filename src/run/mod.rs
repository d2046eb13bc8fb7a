//! A whole run, in the order it happens:
//!
//! 1. [`header`](mod@header): the scenario (minus execution-only settings) becomes the log's header;
//! 2. [`assemble`]: the population, the LLM runtime and the economy are built, the planner
//!    policy chosen, and the scheduler plays the game into the log (from step 0 or a snapshot);
//! 3. [`summary`]: the baselines are played on the same population and seed, and
//!    `summary.json`, `steps.csv` and `elections.csv` are written (and a federation's
//!    `regions.csv`, by [`regions_table`] from the log).
//!
//! [`replay`] continues a run that stopped (`resume`) or re-executes one to compare every frame
//! (`replay --verify`); [`fork`] starts a counterfactual from a parent's log; [`compare`] runs
//! one scenario under each voting rule; [`folder`] knows which files of a run folder are
//! simulacra's, and [`interrupt`] stops a run between steps on Ctrl-C or SIGTERM. The entry
//! points are re-exported here.

pub mod assemble;
pub mod compare;
pub mod folder;
pub mod fork;
pub mod header;
pub mod interrupt;
mod jurisdiction;
pub mod nash;
pub mod regions_table;
pub mod replay;
pub mod summary;
pub mod tables;

use std::path::{Path, PathBuf};

use anyhow::Context;
use simulacra_actors::{LogWriter, Progress};

use crate::config::Scenario;
use crate::llm::Answers;

pub use compare::{RuleComparison, compare_rules};
pub use fork::{Forked, fork_run};
pub use replay::{ReplayVerdict, Resumed, resume_run, resume_run_at, verify_replay};
pub use summary::Summary;

use assemble::{RunStart, clear_old_snapshots, run_into};
use header::{fsync_of, header};

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
    let sink = LogWriter::create(
        &out_dir.join(crate::runlog::LOG_FILE),
        &h,
        fsync_of(scenario),
    )
    .context("the message log failed")?;
    clear_old_snapshots(out_dir)?;
    run_into(
        scenario,
        None,
        out_dir,
        progress,
        sink,
        Answers::Live,
        RunStart::new(&h, None, out_dir, Vec::new())?,
    )
}
