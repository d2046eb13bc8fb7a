//! `simulacra sweep`: a scenario over seeds and a grid of overrides, aggregated.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use simulacra::sweep;

use super::print_json;

#[derive(clap::Args)]
pub struct Args {
    /// A scenario TOML file (default: the embedded default).
    scenario: Option<PathBuf>,
    /// Seeds: 1..10 (inclusive) or 1,4,9.
    #[arg(long, default_value = "1..10")]
    seeds: String,
    /// Override a key in every run, as for `run`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// A grid axis: --grid planner.policy=[hill-climb,saez] (repeatable; all combinations).
    #[arg(long = "grid", value_name = "KEY=[V1,V2]")]
    grids: Vec<String>,
    /// The sweep's folder (each run in a subfolder).
    #[arg(long)]
    out: PathBuf,
    /// Runs at once (0 = one per core).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Print the aggregate as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let spec = sweep::SweepSpec {
        scenario: args.scenario,
        sets: args.sets,
        grid: args
            .grids
            .iter()
            .map(|g| sweep::parse_grid(g))
            .collect::<anyhow::Result<_>>()?,
        seeds: sweep::parse_seeds(&args.seeds)?,
        out: args.out,
        jobs: args.jobs,
    };
    let bar = if args.quiet {
        None
    } else {
        super::progress_bar(0, "runs")
    };
    let result = sweep::run_sweep(&spec, bar.as_ref())?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if args.json {
        print_json(&json!({
            "aggregates": result.aggregates,
            "runs": result.rows,
            "seconds": result.seconds,
        }))?;
    } else {
        print!("{}", sweep::render_aggregates(&result));
        println!(
            "{} runs in {:.1} s; mean +- sample std over seeds; tables in {} and {}",
            result.rows.len(),
            result.seconds,
            spec.out.join("aggregate.csv").display(),
            spec.out.join("runs.csv").display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
