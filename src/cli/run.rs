//! `simulacra run`: play a scenario into a new run folder and print its summary table (which
//! `resume` and `fork` print too).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use simulacra::config::Scenario;
use simulacra::run::folder::prepare_out_dir;
use simulacra::run::interrupt;
use simulacra::run::{Summary, default_out_dir, run_scenario};
use simulacra::run_lock::lock_run_dir;

#[derive(clap::Args)]
pub struct Args {
    /// A scenario TOML file.
    scenario: Option<PathBuf>,
    /// Override a key: --set simulation.seed=7 (TOML values; bare words are strings).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Output folder (default: a new folder under runs/). A folder that already holds a run
    /// is refused unless --force.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the run in --out: removes the files simulacra wrote there (log, summary,
    /// tables, exports, snapshots, report/, view/) and keeps every other file.
    #[arg(long)]
    force: bool,
    /// No progress bar. The summary table still prints on stdout: it is the command's result
    /// (`> /dev/null` hides it); warnings and errors still reach stderr.
    #[arg(long)]
    quiet: bool,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let scenario = Scenario::load(args.scenario.as_deref(), &args.sets)?;
    let out = args.out.unwrap_or_else(|| default_out_dir(&scenario));
    // Held until the run's outputs are written: a second writer is refused, naming this one.
    let _lock = lock_run_dir(&out)?;
    prepare_out_dir(&out, args.force, "--force")?;
    interrupt::listen()?;
    let progress = if args.quiet {
        None
    } else {
        super::step_progress(scenario.simulation.timesteps)
    };
    let summary = run_scenario(&scenario, &out, progress)?;
    print_summary(&summary, &out);
    Ok(exit_code(&summary))
}

/// The exit status of a run that stopped early (an LLM budget, too many fallbacks): its log
/// is intact and `simulacra resume` continues it.
pub const EXIT_STOPPED_EARLY: u8 = 3;

/// Success, or [`EXIT_STOPPED_EARLY`] when the run (or its fork, or its resume) stopped early.
/// (A run a signal stopped ends in an error instead: see `simulacra::run::interrupt`.)
pub fn exit_code(s: &Summary) -> ExitCode {
    if s.halted.is_some() {
        ExitCode::from(EXIT_STOPPED_EARLY)
    } else {
        ExitCode::SUCCESS
    }
}

/// The summary table: the planner's game and the baselines, the verdict, the LLM's line, the
/// snapshots.
pub fn print_summary(s: &Summary, out: &Path) {
    let pct = |r: &[f64]| {
        r.iter()
            .map(|x| format!("{:.0}", x * 100.0))
            .collect::<Vec<_>>()
            .join("/")
    };
    println!(
        "{} agents x {} steps (tax year {}), seed {}",
        s.num_agents, s.steps_run, s.tax_year_length, s.seed
    );
    let mut rows = vec![(s.planner.planner.clone(), &s.planner)];
    if let Some(b) = &s.baselines.us_federal {
        rows.push(("us-federal".into(), b));
    }
    if let Some(b) = &s.baselines.saez {
        rows.push(("saez".into(), b));
    }
    // The schedule column is as wide as its longest name ("elected (rule)" can be long).
    let w = simulacra::table::width("schedule", rows.iter().map(|(n, _)| n)).max(12);
    println!(
        "{:<w$} {:>14} {:>28} {:>10} {:>7}",
        "schedule", "welfare", "rates %", "hours", "gini"
    );
    for (name, g) in rows {
        println!(
            "{:<w$} {:>14.4} {:>28} {:>10.2} {:>7.3}",
            name,
            g.swf,
            pct(&g.rates),
            g.mean_hours,
            g.gini
        );
    }
    if let Some(note) = s.baselines.workers_note(&s.planner) {
        println!("note: {note}");
    }
    if let Some(c) = &s.comparison {
        println!("{}", c.verdict);
    }
    if let Some(llm) = &s.llm {
        println!("{}", llm.report_line());
    }
    println!(
        "welfare = mean over the last tax year; outputs in {}",
        out.display()
    );
    let snaps = s.snapshots;
    if snaps.written + snaps.failed > 0 {
        println!(
            "snapshots: {} written to {}{}",
            snaps.written,
            out.join(simulacra::snapshot::SNAPSHOT_DIR).display(),
            if snaps.failed > 0 {
                format!(", {} could not be written (see the warnings)", snaps.failed)
            } else {
                String::new()
            }
        );
    }
}
