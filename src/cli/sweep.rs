//! `simulacra sweep` and `simulacra sweep merge`: a scenario over seeds and a grid of
//! overrides, whole or one shard of it, and the tables built from a sweep's run folders. What
//! they print: the aggregate table and a summary line for a whole sweep, a count of what a
//! shard did, the `--dry-run` listing, and their JSON forms.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;
use simulacra::sweep::{self, LlmTotals, Plan, SweepSpec, parse_shard};

use super::print_json;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<SweepAction>,
    /// A scenario TOML file (default: the embedded default).
    scenario: Option<PathBuf>,
    /// Seeds: 1..10 (inclusive) or 1,4,9.
    #[arg(long, default_value = "1..10")]
    seeds: String,
    /// Override a key in every run, as for `run`. The endpoint keys (llm.base_url, ...) also
    /// reach the runs this sweep resumes.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// A grid axis: --grid planner.policy=[hill-climb,saez] (repeatable; all combinations).
    #[arg(long = "grid", value_name = "KEY=[V1,V2]")]
    grids: Vec<String>,
    /// The sweep's folder (each run in a subfolder).
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    /// Runs at once (0 = one per core).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Run only one shard of the runs: I/N (0-based), `slurm` (a job array's task id and
    /// size), `slurm/N` or `k8s/N` (the task id or JOB_COMPLETION_INDEX, N shards). Shards
    /// build no tables: `sweep merge DIR` does, once all are done.
    #[arg(long, value_name = "I/N|slurm|slurm/N|k8s/N")]
    shard: Option<String>,
    /// List every run with its shard and state (new, resume, done) and run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Replace an earlier sweep of another plan in --out, and runs of another scenario in its
    /// run folders: removes the files simulacra wrote there and keeps every other file.
    #[arg(long)]
    force: bool,
    /// No progress bar. The summary table still prints on stdout: it is the command's result
    /// (`> /dev/null` hides it); warnings and errors still reach stderr.
    #[arg(long)]
    quiet: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

/// `simulacra sweep merge DIR`.
#[derive(clap::Subcommand)]
enum SweepAction {
    /// Build runs.csv, aggregate.csv and the plots from the run folders of a sweep run in
    /// shards (or anywhere); lists every run that is missing or incomplete instead.
    Merge {
        /// The sweep's folder (the --out of its shards).
        dir: PathBuf,
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(SweepAction::Merge { dir, json }) = &args.action {
        return merge(dir, *json);
    }
    let spec = SweepSpec {
        scenario: args.scenario,
        sets: args.sets,
        grid: args
            .grids
            .iter()
            .map(|g| sweep::parse_grid(g))
            .collect::<anyhow::Result<_>>()?,
        seeds: sweep::parse_seeds(&args.seeds)?,
        out: args.out.context("--out DIR is required")?,
        jobs: args.jobs,
    };
    let env = |name: &str| std::env::var(name).ok();
    let shard = args
        .shard
        .as_deref()
        .map(|s| parse_shard(s, &env))
        .transpose()?;
    if args.dry_run {
        let rows = sweep::dry_run(&spec, shard)?;
        if args.json {
            print_json(&json!({ "runs": rows }))?;
        } else {
            print!("{}", sweep::render_dry_run(&rows));
            let mine = rows.iter().filter(|r| r.mine).count();
            let todo = rows.iter().filter(|r| r.mine && r.state != "done").count();
            println!(
                "{} runs; {mine} in {}, {todo} of them not done yet; nothing was run",
                rows.len(),
                shard.map_or("the sweep".into(), |s| format!("shard {s}"))
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.force {
        let (plan, _) = sweep::plan_sweep(&spec)?;
        let cleared = sweep::plan::clear_for(&spec.out, &plan)?;
        if cleared > 0 {
            eprintln!(
                "--force: removed what simulacra wrote in {cleared} run folders of {}",
                spec.out.display()
            );
        }
    }
    let bar = if args.quiet {
        None
    } else {
        super::progress_bar(0, "runs")
    };
    let done = sweep::run_sweep(&spec, shard, bar.as_ref())?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for b in &done.busy {
        eprintln!("not run here: {b}");
    }
    let c = &done.counts;
    if args.json {
        let mut v = json!({
            "shard": shard.map(|s| s.to_string()),
            "planned": done.planned,
            "counts": c,
            "busy": done.busy,
            "resumed": done.resumed,
            "seconds": done.seconds,
        });
        if let Some(r) = &done.result {
            v["aggregates"] = json!(r.aggregates);
            v["runs"] = json!(r.rows);
            v["llm"] = json!(r.llm);
        }
        print_json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    for r in &done.resumed {
        println!("resumed {r}");
    }
    let what = format!(
        "{} ran, {} resumed, {} skipped (already complete), {} held by another process",
        c.ran, c.resumed, c.skipped, c.busy
    );
    match (&done.result, shard) {
        (Some(r), _) => {
            print!("{}", sweep::render_aggregates(r));
            println!(
                "{} runs ({what}) in {:.1} s; mean +- sample std over seeds; tables in {} and {}",
                r.rows.len(),
                done.seconds,
                spec.out.join("aggregate.csv").display(),
                spec.out.join("runs.csv").display()
            );
            if let Some(l) = llm_line(&r.llm) {
                println!("{l}");
            }
        }
        (None, Some(s)) => println!(
            "shard {s}: {} of the sweep's {} runs ({what}) in {:.1} s; when every shard is \
             done: simulacra sweep merge {}",
            c.runs,
            done.planned,
            done.seconds,
            spec.out.display()
        ),
        (None, None) => unreachable!("a whole sweep builds its tables or fails"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `simulacra sweep merge DIR`.
fn merge(dir: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let plan = Plan::read(dir)?;
    let mut r = sweep::merge::merge(dir, &plan)?;
    r.seconds = started.elapsed().as_secs_f64();
    if json {
        print_json(&json!({
            "aggregates": r.aggregates,
            "runs": r.rows,
            "llm": r.llm,
            "seconds": r.seconds,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", sweep::render_aggregates(&r));
    let run_seconds: f64 = r.rows.iter().filter_map(|x| x.seconds).sum();
    println!(
        "merged {} runs in {:.2} s (the runs took {run_seconds:.1} s of wall time in all); \
         tables in {} and {}",
        r.rows.len(),
        r.seconds,
        dir.join("aggregate.csv").display(),
        dir.join("runs.csv").display()
    );
    if let Some(l) = llm_line(&r.llm) {
        println!("{l}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The sweep's LLM use in one line (none for offline sweeps).
fn llm_line(llm: &LlmTotals) -> Option<String> {
    (llm.runs > 0).then(|| {
        format!(
            "LLM over {} runs: {} requests ({} retries, {} cache hits, {} fallbacks), {} prompt + {} completion tokens",
            llm.runs,
            llm.totals.requests,
            llm.totals.retries,
            llm.totals.cache_hits,
            llm.totals.fallbacks,
            llm.totals.prompt_tokens,
            llm.totals.completion_tokens
        )
    })
}
