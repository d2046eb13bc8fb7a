//! The command line: the `Command` enum and its dispatch. Each command's arguments, execution
//! and rendering live in its own file here; a new command is one file, one variant and one
//! dispatch line.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod bench;
mod diff;
mod econ;
mod export;
mod fork;
mod governance;
mod inspect;
mod replay;
mod report;
mod resume;
mod run;
mod sweep;
mod view;

#[derive(Parser)]
#[command(
    name = "simulacra",
    version,
    about = "LLM-agent tax-policy economies on a deterministic actor runtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario (the embedded default when none is given).
    Run(run::Args),
    /// Continue a run that stopped (crash, kill, power loss) from its log; the final log is
    /// byte-identical to an uninterrupted run's.
    Resume(resume::Args),
    /// A counterfactual: the run until --at, then another planner or governance.
    Fork(fork::Args),
    /// Re-execute a run from its log and compare every frame (exit 1 when one differs).
    Replay(replay::Args),
    /// Show a run's game from its log: every tax year, or one round in full.
    Inspect(inspect::Args),
    /// Run a scenario over seeds and a grid of overrides, in parallel; aggregate mean +- std.
    Sweep(sweep::Args),
    /// Plots (SVG and PNG) and an HTML page of a run, into RUN_DIR/report/.
    Report(report::Args),
    /// Export a run's log: per-agent-per-step rows (CSV or Parquet) and JSON Lines of events.
    Export(export::Args),
    /// Small calculators for checking the model.
    #[command(subcommand)]
    Econ(econ::Econ),
    /// Governance: compare voting rules on the same population and seed.
    #[command(subcommand)]
    Governance(governance::GovernanceCmd),
    /// Measure the game at scale: agent-steps/s, bytes per agent, peak RSS.
    Bench(bench::Args),
    /// A run in the browser, round by round: RUN_DIR/view/index.html, or --serve on 127.0.0.1.
    View(view::Args),
    /// How two runs differ: scenario keys, fork relation, first differing frame, and each tax
    /// year's welfare, rates, hours and Gini for both (exit 1 when the logs differ).
    Diff(diff::Args),
}

/// Parses the command line and runs the command; the exit code on success (1 = a replay
/// differs, 3 = a run stopped early), an error otherwise.
pub fn try_main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Run(args) => run::execute(args),
        Command::Resume(args) => resume::execute(args),
        Command::Fork(args) => fork::execute(args),
        Command::Replay(args) => replay::execute(args),
        Command::Inspect(args) => inspect::execute(args),
        Command::Sweep(args) => sweep::execute(args),
        Command::Report(args) => report::execute(args),
        Command::Export(args) => export::execute(args),
        Command::Econ(cmd) => econ::execute(cmd),
        Command::Governance(cmd) => governance::execute(cmd),
        Command::Bench(args) => bench::execute(args),
        Command::Diff(args) => diff::execute(args),
        Command::View(args) => view::execute(args),
    }
}

/// The one progress bar of the command line: `{bar} {pos}/{len} <unit>`, on stderr, only when
/// stderr is a terminal (a piped or redirected run prints no bar).
fn progress_bar(total: u64, unit: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {unit}  {{per_sec}}  eta {{eta}}"
        ))
        .expect("a valid template"),
    );
    Some(bar)
}

/// The progress bar as the scheduler's step callback.
fn step_progress(total: u64) -> Option<simulacra_actors::Progress> {
    let bar = progress_bar(total, "steps")?;
    Some(Box::new(move |done, total| {
        // The run's count can grow past `total` it started with (its baselines' steps).
        bar.set_length(total);
        bar.set_position(done);
        if done == total {
            bar.finish_and_clear();
        }
    }))
}

/// A comma-separated list of numbers (brackets may surround it).
fn parse_list(what: &str, text: &str) -> anyhow::Result<Vec<f64>> {
    text.trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|x| {
            x.trim().parse::<f64>().with_context(|| {
                format!("{what}: {x:?} is not a number (expected e.g. 0,90000,159100)")
            })
        })
        .collect()
}

/// Whether `path` is `dir` or inside it (both resolved, so `./run/../run/view` is too); a path
/// not there yet is judged by its nearest existing ancestor.
fn inside(path: &std::path::Path, dir: &std::path::Path) -> bool {
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return false;
    };
    let mut probe = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(found) = std::fs::canonicalize(&probe) {
            let full: std::path::PathBuf = rest.iter().rev().fold(found, |p, c| p.join(c));
            return full.starts_with(&dir);
        }
        match (probe.file_name().map(|n| n.to_os_string()), probe.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                probe = if parent.as_os_str().is_empty() {
                    std::path::PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                };
            }
            _ => return false,
        }
    }
}

/// Prints a value as pretty JSON on stdout.
fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
