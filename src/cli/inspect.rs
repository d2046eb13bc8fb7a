//! `simulacra inspect`: a run's game from its log (every tax year, one round in full, or one
//! worker's trajectory), as text tables or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use simulacra::{inspect, inspect_agent, logview};

use super::print_json;

#[derive(clap::Args)]
pub struct Args {
    /// A run folder (as written by `run --out`: run.log, summary.json, ...).
    run_dir: PathBuf,
    /// The round (tax year) to show in full.
    #[arg(long, conflicts_with = "agent")]
    round: Option<u64>,
    /// With --round: also the LLM prompts and raw answers of that round.
    #[arg(long, requires = "round")]
    prompts: bool,
    /// One worker's trajectory: hours, income, tax, utility at every step.
    #[arg(long)]
    agent: Option<usize>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Show a log that holds fewer steps than its run (a stopped, cut or damaged run, or one
    /// still running) up to its last whole step, with a warning on stderr, instead of refusing
    /// it; with --json, `damaged` says what is missing.
    #[arg(long)]
    partial: bool,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let Args {
        run_dir,
        round,
        prompts,
        agent,
        json,
        partial,
    } = args;
    match (round, agent) {
        (None, Some(agent)) => {
            let short = logview::check_run(&run_dir, "the trajectory", partial)?;
            let mut t = inspect_agent::agent_trajectory(&run_dir, agent)?;
            // What is missing, as the other views say it (the trajectory alone names only a
            // damaged frame, not a log cut at a step's end).
            t.damaged = short;
            if json {
                print_json(&t)?;
            } else {
                print!("{}", inspect_agent::render_trajectory(&t));
            }
        }
        (None, None) => {
            let (rows, damaged) = inspect::game_table_with(&run_dir, "the table", partial)?;
            if json {
                print_json(&json!({"rounds": rows, "damaged": damaged}))?;
            } else {
                print!("{}", inspect::render_table(&rows));
            }
        }
        (Some(k), _) if prompts => {
            let detail = inspect::round_detail_with(&run_dir, k, partial)?;
            let exchanges = inspect_agent::round_exchanges(&run_dir, &detail)?;
            if json {
                print_json(&inspect_agent::RoundWithPrompts { detail, exchanges })?;
            } else {
                print!("{}", inspect::render_round(&detail));
                print!("{}", inspect_agent::render_exchanges(&exchanges));
            }
        }
        (Some(k), _) => {
            let detail = inspect::round_detail_with(&run_dir, k, partial)?;
            if json {
                print_json(&detail)?;
            } else {
                print!("{}", inspect::render_round(&detail));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
