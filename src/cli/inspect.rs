//! `simulacra inspect`: a run's game from its log (every tax year, one round in full, or one
//! worker's trajectory), as text tables or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use simulacra::{inspect, inspect_agent};

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
}

/// A log that ends badly: said on stderr, after the rows it cut short, so that stdout holds
/// only the table (and a pipe into another program gets no stray line).
fn warn_damaged(damaged: Option<&str>) {
    if let Some(d) = damaged {
        eprintln!("warning: the log ends badly after the rows above: {d}");
    }
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let Args {
        run_dir,
        round,
        prompts,
        agent,
        json,
    } = args;
    match (round, agent) {
        (None, Some(agent)) => {
            let t = inspect_agent::agent_trajectory(&run_dir, agent)?;
            if json {
                print_json(&t)?;
            } else {
                print!("{}", inspect_agent::render_trajectory(&t));
                warn_damaged(t.damaged.as_deref());
            }
        }
        (None, None) => {
            let (rows, damaged) = inspect::game_table(&run_dir)?;
            if json {
                print_json(&json!({"rounds": rows, "damaged": damaged}))?;
            } else {
                print!("{}", inspect::render_table(&rows));
                warn_damaged(damaged.as_deref());
            }
        }
        (Some(k), _) if prompts => {
            let detail = inspect::round_detail(&run_dir, k)?;
            let exchanges = inspect_agent::round_exchanges(&run_dir, &detail)?;
            if json {
                print_json(&inspect_agent::RoundWithPrompts { detail, exchanges })?;
            } else {
                print!("{}", inspect::render_round(&detail));
                print!("{}", inspect_agent::render_exchanges(&exchanges));
            }
        }
        (Some(k), _) => {
            let detail = inspect::round_detail(&run_dir, k)?;
            if json {
                print_json(&detail)?;
            } else {
                print!("{}", inspect::render_round(&detail));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
