//! `simulacra fork`: a counterfactual run from a parent's log.

use std::path::PathBuf;
use std::process::ExitCode;

use simulacra::run::fork_run;

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
    /// The new run's folder (another than the parent's).
    #[arg(long)]
    out: PathBuf,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let Args {
        run_dir,
        at,
        sets,
        out,
    } = args;
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
