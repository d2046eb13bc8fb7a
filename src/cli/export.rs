//! `simulacra export`: per-agent-per-step rows (CSV or Parquet), JSON Lines of events, and a
//! federation's per-region rows.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::ValueEnum;
use simulacra::export;
use simulacra::run_lock::lock_existing_run_dir;

#[derive(clap::Args)]
pub struct Args {
    /// A run folder (as written by `run --out`: run.log, summary.json, ...).
    run_dir: PathBuf,
    /// Per-agent-per-step rows, to RUN_DIR/agents.csv or RUN_DIR/agents.parquet.
    #[arg(long, value_enum)]
    agents: Option<AgentsFormat>,
    /// Events as JSON Lines, to RUN_DIR/events.jsonl.
    #[arg(long, value_enum)]
    events: Option<EventsFormat>,
    /// A federation's per-region-per-step rows, to RUN_DIR/regions.csv.
    #[arg(long, value_enum)]
    regions: Option<RegionsFormat>,
    /// Write into this folder instead of RUN_DIR.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Export a log that holds fewer steps than its run (a stopped, cut or damaged run) up to
    /// its last whole step, with a warning, instead of refusing it (see docs/inspect.md).
    #[arg(long)]
    partial: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum AgentsFormat {
    Csv,
    Parquet,
}

#[derive(Clone, Copy, ValueEnum)]
enum EventsFormat {
    Jsonl,
}

#[derive(Clone, Copy, ValueEnum)]
enum RegionsFormat {
    Csv,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let Args {
        run_dir,
        agents,
        events,
        regions,
        out,
        partial,
    } = args;
    if agents.is_none() && events.is_none() && regions.is_none() {
        bail!("export needs --agents csv|parquet, --events jsonl and/or --regions csv");
    }
    // The run folder itself is never created here: a missing one is reported as such.
    let dir = match out {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir
        }
        None => run_dir.clone(),
    };
    // Writing into the run folder is writing the run: held until the files are in place.
    let _lock = if super::inside(&dir, &run_dir) {
        lock_existing_run_dir(&run_dir)?
    } else {
        None
    };
    if let Some(format) = agents {
        let (file, format) = match format {
            AgentsFormat::Csv => ("agents.csv", export::AgentFormat::Csv),
            AgentsFormat::Parquet => ("agents.parquet", export::AgentFormat::Parquet),
        };
        let path = dir.join(file);
        let rows = export::export_agents_with(&run_dir, &path, format, partial)?;
        println!("{rows} rows -> {}", path.display());
    }
    if let Some(EventsFormat::Jsonl) = events {
        let path = dir.join("events.jsonl");
        let lines = export::export_events_with(&run_dir, &path, partial)?;
        println!("{lines} events -> {}", path.display());
    }
    if let Some(RegionsFormat::Csv) = regions {
        let path = dir.join("regions.csv");
        let rows = export::export_regions_with(&run_dir, &path, partial)?;
        println!("{rows} rows -> {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
