//! `simulacra fork`: a counterfactual run from a parent's log.

use std::path::PathBuf;
use std::process::ExitCode;

use simulacra::run::folder::prepare_out_dir;
use simulacra::run::fork::plan_fork;
use simulacra::run::interrupt;
use simulacra::run_lock::{LOCK_FILE, lock_run_dir};
use simulacra::runlog::LOG_FILE;

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
    // Everything that can refuse the fork is checked before --out is touched, so a refused
    // fork leaves nothing behind (the parent's own folder among them).
    let plan = plan_fork(&run_dir, at, &sets, &out)?;
    let created = !out.exists();
    let lock = lock_run_dir(&out)?;
    let started = prepare_out_dir(&out, force, "--force")
        .and_then(|()| interrupt::listen())
        .and_then(|()| plan.run(&out));
    let forked = match started {
        Ok(forked) => forked,
        Err(e) if out.join(LOG_FILE).is_file() => {
            return Err(e.context(format!(
                "the fork stopped after it started writing {}: `simulacra resume {}` continues \
                 it, or add --force to this command to start it over",
                out.display(),
                out.display()
            )));
        }
        Err(e) => {
            // No log was written: the folder this command made (with only the lock file in
            // it) goes, so the same command can be run again as it is.
            if created {
                let _ = std::fs::remove_file(out.join(LOCK_FILE));
                drop(lock);
                let _ = std::fs::remove_dir(&out);
            }
            return Err(e);
        }
    };
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
