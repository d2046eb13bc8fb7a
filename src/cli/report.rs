//! `simulacra report`: plots and an HTML page of a run.

use std::path::PathBuf;
use std::process::ExitCode;

use simulacra::report::{PLOTS, REGION_PLOTS, write_report_with};
use simulacra::run_lock::lock_existing_run_dir;

#[derive(clap::Args)]
pub struct Args {
    /// A run folder (as written by `run --out`: run.log, summary.json, ...).
    run_dir: PathBuf,
    /// Draw a log that holds fewer steps than its run (a stopped, cut or damaged run) up to
    /// its last whole step, with a warning, instead of refusing it (see docs/inspect.md).
    #[arg(long)]
    partial: bool,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    // The report is written into the run folder: held until it is.
    let _lock = lock_existing_run_dir(&args.run_dir)?;
    let dir = write_report_with(&args.run_dir, args.partial)?;
    // A federation's run adds its region plots.
    let regions = REGION_PLOTS
        .iter()
        .filter(|(stem, _)| dir.join(format!("{stem}.svg")).exists())
        .count();
    println!(
        "wrote {} plots (SVG and PNG) and {}",
        PLOTS.len() + regions,
        dir.join("report.html").display()
    );
    Ok(ExitCode::SUCCESS)
}
