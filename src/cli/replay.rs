//! `simulacra replay --verify`: re-execute a run and compare every frame (exit 1 on a
//! difference).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use simulacra::run::{ReplayVerdict, verify_replay};
use simulacra::runlog::LOG_FILE;

#[derive(clap::Args)]
pub struct Args {
    run_dir: PathBuf,
    /// Compare with the recorded log (the only mode so far).
    #[arg(long)]
    verify: bool,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    if !args.verify {
        bail!("replay needs --verify (re-execute and compare with the recorded log)");
    }
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
    }
}
