//! `simulacra replay [--verify]`: re-execute a run and compare every frame (exit 1 on a
//! difference, 3 when every frame matches but the run is unfinished). Comparing is the only
//! mode, so `--verify` may be left out.

use std::path::PathBuf;
use std::process::ExitCode;

use simulacra::run::{ReplayVerdict, verify_replay};
use simulacra::runlog::LOG_FILE;

#[derive(clap::Args)]
pub struct Args {
    /// A run folder (as written by `run --out`: run.log, summary.json, ...).
    run_dir: PathBuf,
    /// Compare with the recorded log: the only mode, and what `replay` does without it too
    /// (kept so scripts that pass it go on working).
    #[arg(long)]
    verify: bool,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    match verify_replay(&args.run_dir)? {
        ReplayVerdict::Identical { frames } => {
            println!(
                "identical: all {frames} frames of {} match",
                args.run_dir.join(LOG_FILE).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        ReplayVerdict::Differs(d) => {
            println!("differs: {d}");
            Ok(ExitCode::from(1))
        }
        ReplayVerdict::Failed(why) => {
            println!("differs: {why}");
            Ok(ExitCode::from(1))
        }
        ReplayVerdict::Unfinished {
            frames,
            steps,
            timesteps,
            torn_frames,
        } => {
            let torn = if torn_frames > 0 {
                format!(
                    ", then {torn_frames} frames of a step it did not finish (resume cuts them)"
                )
            } else {
                String::new()
            };
            println!(
                "identical so far: all {frames} frames of {} match, but the run is unfinished: \
                 its log holds {steps} of its {timesteps} steps{torn}; `simulacra resume {}` \
                 continues it",
                args.run_dir.join(LOG_FILE).display(),
                args.run_dir.display()
            );
            Ok(ExitCode::from(super::run::EXIT_STOPPED_EARLY))
        }
    }
}
