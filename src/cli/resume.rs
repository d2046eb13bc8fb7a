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
    let cut = match &r.corruption {
        None => format!("{} bytes of an unfinished step cut", r.bytes_cut),
        Some((damage, beyond)) => {
            eprintln!(
                "warning: found corruption in {}: {damage}",
                run_dir.join(simulacra::runlog::LOG_FILE).display()
            );
            format!(
                "the log was corrupt at byte {}: {} bytes cut from there, which held at least {} \
                 more whole steps and {} recorded LLM answers, recomputed now",
                damage.offset, r.bytes_cut, beyond.steps, beyond.llm_answers
            )
        }
    };
    println!(
        "resumed {}: {} whole steps were kept ({cut}), {from}; {} steps executed; now {} steps, log sha256 {}",
        run_dir.display(),
        r.steps_kept,
        r.steps_executed,
        r.summary.steps_run,
        r.summary.log_sha256
    );
    super::run::print_summary(&r.summary, &run_dir);
    Ok(ExitCode::SUCCESS)
}
