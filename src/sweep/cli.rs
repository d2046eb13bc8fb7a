//! What `simulacra sweep` and `simulacra sweep merge` print: the aggregate table and a
//! summary line for a whole sweep, a count of what a shard did, the `--dry-run` listing,
//! and their JSON forms.

use std::io::IsTerminal;
use std::path::Path;

use serde_json::json;

use super::merge::LlmTotals;
use super::plan::Plan;
use super::shard::parse_shard;
use super::{SweepSpec, dry_run, render_aggregates, render_dry_run, run_sweep};

/// How the command was asked to run.
pub struct Options {
    /// `--shard` as given (`I/N`, `slurm`, `slurm/N`, `k8s/N`).
    pub shard: Option<String>,
    pub dry_run: bool,
    pub quiet: bool,
    pub json: bool,
}

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

/// `simulacra sweep [SCENARIO] ...`.
pub fn sweep(spec: &SweepSpec, o: &Options) -> anyhow::Result<()> {
    let env = |name: &str| std::env::var(name).ok();
    let shard = o
        .shard
        .as_deref()
        .map(|s| parse_shard(s, &env))
        .transpose()?;
    if o.dry_run {
        let rows = dry_run(spec, shard)?;
        if o.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({ "runs": rows }))?
            );
        } else {
            print!("{}", render_dry_run(&rows));
            let mine = rows.iter().filter(|r| r.mine).count();
            let todo = rows.iter().filter(|r| r.mine && r.state != "done").count();
            println!(
                "{} runs; {mine} in {}, {todo} of them not done yet; nothing was run",
                rows.len(),
                shard.map_or("the sweep".into(), |s| format!("shard {s}"))
            );
        }
        return Ok(());
    }
    let bar = (!o.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs  {per_sec}  eta {eta}",
            )
            .expect("a valid template"),
        );
        bar
    });
    let done = run_sweep(spec, shard, bar.as_ref())?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for b in &done.busy {
        eprintln!("not run here: {b}");
    }
    let c = &done.counts;
    if !o.json {
        for r in &done.resumed {
            println!("resumed {r}");
        }
    }
    if o.json {
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
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let what = format!(
        "{} ran, {} resumed, {} skipped (already complete), {} held by another process",
        c.ran, c.resumed, c.skipped, c.busy
    );
    match (&done.result, shard) {
        (Some(r), _) => {
            print!("{}", render_aggregates(r));
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
    Ok(())
}

/// `simulacra sweep merge DIR`.
pub fn merge(dir: &Path, json: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let plan = Plan::read(dir)?;
    let mut r = super::merge::merge(dir, &plan)?;
    r.seconds = started.elapsed().as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "aggregates": r.aggregates,
                "runs": r.rows,
                "llm": r.llm,
                "seconds": r.seconds,
            }))?
        );
        return Ok(());
    }
    print!("{}", render_aggregates(&r));
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
    Ok(())
}
