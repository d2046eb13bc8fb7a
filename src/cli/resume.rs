//! `simulacra resume`: continue a run that stopped, from its log.

use std::path::PathBuf;
use std::process::ExitCode;

use simulacra::run::resume_run;

#[derive(clap::Args)]
pub struct Args {
    run_dir: PathBuf,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let run_dir = args.run_dir;
    let r = resume_run(&run_dir)?;
    let from = match r.from_snapshot {
        Some(step) => format!("restored from the snapshot at step {step}"),
        None => "re-executed from step 0".to_string(),
    };
    println!(
        "resumed {}: {} whole steps were kept ({} bytes of an unfinished step cut), {from}; now {} steps, log sha256 {}",
        run_dir.display(),
        r.steps_kept,
        r.bytes_cut,
        r.summary.steps_run,
        r.summary.log_sha256
    );
    super::run::print_summary(&r.summary, &run_dir);
    Ok(super::run::exit_code(&r.summary))
}
