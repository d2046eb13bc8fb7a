//! `simulacra fork`: a counterfactual run from a parent's log.

use std::path::PathBuf;
use std::process::ExitCode;

use simulacra::run::folder::prepare_out_dir;
use simulacra::run::{fork_run, interrupt};
use simulacra::run_lock::lock_run_dir;

#[derive(clap::Args)]
pub struct Args {
    /// A run folder (as written by `run --out`: run.log, summary.json, ...).
    run_dir: PathBuf,
    /// The first step that differs.
    #[arg(long)]
    at: u64,
    /// What changes ([planner], [governance], [baselines], simulation.timesteps).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// The new run's folder (another than the parent's); one that already holds a run is
    /// refused unless --force.
    #[arg(long)]
    out: PathBuf,
    /// Replace the run in --out: removes the files simulacra wrote there and keeps every
    /// other file.
    #[arg(long)]
    force: bool,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let Args {
        run_dir,
        at,
        sets,
        out,
        force,
    } = args;
    // The parent's own folder is refused by the fork itself, before anything is removed.
    let parent = std::fs::canonicalize(&run_dir).ok();
    let _lock = if out.exists() && std::fs::canonicalize(&out).ok() == parent {
        None
    } else {
        let lock = lock_run_dir(&out)?;
        prepare_out_dir(&out, force, "--force")?;
        Some(lock)
    };
    interrupt::listen()?;
    let forked = fork_run(&run_dir, at, &sets, &out)?;
    let prefix = match forked.from_snapshot {
        Some(step) => format!("the shared prefix restored from the snapshot at step {step}"),
        None => "the shared prefix re-executed from step 0".to_string(),
    };
    println!(
        "forked {} at step {at} into {} ({prefix})",
        run_dir.display(),
        out.display()
    );
    super::run::print_summary(&forked.summary, &out);
    Ok(super::run::exit_code(&forked.summary))
}
