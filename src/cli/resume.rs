//! `simulacra resume`: continue a run that stopped, from its log, optionally against other
//! inference servers (`--set llm.base_url=...`).

use std::path::PathBuf;
use std::process::ExitCode;

use simulacra::config::{LLM_ENDPOINT_KEYS, Scenario};
use simulacra::run::{interrupt, resume_run, resume_run_at};
use simulacra::run_lock::lock_existing_run_dir;
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
    /// llm.leader.base_url), and the budgets llm.budget_requests and llm.budget_tokens, which
    /// only decide where a run stops (a run its budget stopped continues with a larger one);
    /// the rest of the scenario comes from the log.
    /// The same keys are taken from SIMULACRA__LLM__* environment variables, as `run` takes
    /// them; --set wins over the environment.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

/// The `SIMULACRA__...` variables of `vars` that set an endpoint key (as `run` reads them),
/// and the names of the others, which a resume leaves alone (its scenario is the log's).
fn endpoint_env(
    vars: impl IntoIterator<Item = (String, String)>,
) -> (Vec<(String, String)>, Vec<String>) {
    let mut taken = Vec::new();
    let mut ignored = Vec::new();
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("SIMULACRA__") else {
            continue;
        };
        let key = rest.to_lowercase().replace("__", ".");
        if LLM_ENDPOINT_KEYS.contains(&key.as_str()) {
            taken.push((name, value));
        } else {
            ignored.push(name);
        }
    }
    taken.sort();
    ignored.sort();
    (taken, ignored)
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let run_dir = args.run_dir;
    // Held until the resumed run's outputs are written.
    let _lock = lock_existing_run_dir(&run_dir)?;
    let (env, ignored) = endpoint_env(std::env::vars());
    for name in ignored {
        eprintln!(
            "warning: {name} is ignored: a resumed run's scenario is its log's; only {} are \
             taken from the environment",
            LLM_ENDPOINT_KEYS.join(", ")
        );
    }
    interrupt::listen()?;
    let r = if args.sets.is_empty() && env.is_empty() {
        resume_run(&run_dir)?
    } else {
        let logged = RunLog::open(&run_dir)?.scenario;
        let now =
            Scenario::resolve(&logged.to_toml(), &env, &[])?.with_endpoint_sets(&args.sets)?;
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
            if let Some((kept, from)) = &r.kept {
                eprintln!(
                    "warning: the {} bytes cut (from byte {from} of the log on) are kept in {}; \
                     delete it once this resume has succeeded",
                    r.bytes_cut,
                    kept.display()
                );
            }
            let next = match beyond.next_valid {
                Some(next) => format!("the next valid frame is at byte {next}; "),
                None => String::new(),
            };
            format!(
                "the log was corrupt at byte {}: {next}{} bytes cut from the last whole step \
                 before it, which held {} more whole steps and {} recorded LLM answers after \
                 the damage, recomputed now ({} recorded LLM exchanges reused, not asked again)",
                damage.offset, r.bytes_cut, beyond.steps, beyond.llm_answers, r.salvaged
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

#[cfg(test)]
#[test]
fn only_the_endpoint_keys_are_taken_from_the_environment() {
    let vars = [
        ("SIMULACRA__LLM__BASE_URL", "http://node7:8000/v1"),
        ("SIMULACRA__LLM__CONCURRENCY", "3"),
        ("SIMULACRA__LLM__MODEL", "another"),
        ("SIMULACRA__SIMULATION__SEED", "7"),
        ("HOME", "/root"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let (taken, ignored) = endpoint_env(vars);
    let names: Vec<&str> = taken.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["SIMULACRA__LLM__BASE_URL", "SIMULACRA__LLM__CONCURRENCY"]
    );
    assert_eq!(
        ignored,
        ["SIMULACRA__LLM__MODEL", "SIMULACRA__SIMULATION__SEED"]
    );
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
