//! `simulacra resume`: continue a run that stopped, from its log, optionally against other
//! inference servers (`--set llm.base_url=...`).

use std::path::PathBuf;
use std::process::ExitCode;

use simulacra::run::{resume_run, resume_run_at};
use simulacra::runlog::RunLog;

#[derive(clap::Args)]
pub struct Args {
    /// A run folder (as written by `run --out`: run.log, summary.json, ...).
    run_dir: PathBuf,
    /// Where the LLM requests go now: --set llm.base_url=http://node7:8000/v1. Only the keys
    /// that cannot change the results are taken (llm.base_url, llm.weights, llm.api_key_env,
    /// llm.timeout_seconds, llm.concurrency, llm.skip_dead_endpoints, llm.eject_after,
    /// llm.eject_seconds, llm.endpoint_concurrency, llm.retry_after_cap_seconds, and each
    /// role's llm.worker.base_url, llm.planner.base_url, llm.persona.base_url,
    /// llm.satisfaction.base_url, llm.stand.base_url, llm.vote.base_url,
    /// llm.leader.base_url); the rest of the scenario comes from the log.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let run_dir = args.run_dir;
    let r = if args.sets.is_empty() {
        resume_run(&run_dir)?
    } else {
        let logged = RunLog::open(&run_dir)?.scenario;
        let now = logged.with_endpoint_sets(&args.sets)?;
        resume_run_at(&run_dir, now.llm.endpoint())?
    };
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
    Ok(super::run::exit_code(&r.summary))
}

// The help text lists the keys by hand (clap needs a literal); this keeps it honest.
#[cfg(test)]
#[test]
fn the_help_names_every_endpoint_key() {
    use clap::CommandFactory;
    use simulacra::config::LLM_ENDPOINT_KEYS;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }
    let help = Cli::command().render_long_help().to_string();
    for key in LLM_ENDPOINT_KEYS {
        assert!(help.contains(key), "{key} missing from: {help}");
    }
}
