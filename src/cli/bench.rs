//! `simulacra bench`: the game at scale (agent-steps/s, bytes per agent, peak RSS).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use simulacra::bench;
use simulacra::config::Scenario;

use super::print_json;

#[derive(clap::Args)]
pub struct Args {
    /// Workers in the economy (rational workers, hill-climb planner, no baselines).
    #[arg(long, default_value_t = 1_000_000)]
    agents: usize,
    /// Timesteps to play.
    #[arg(long, default_value_t = 100)]
    steps: u64,
    /// Worker shards (0 = one per core).
    #[arg(long, default_value_t = 0)]
    shards: usize,
    /// Log every worker's hours ("full") or a checksum per step ("digest").
    #[arg(long, default_value = "digest")]
    decisions: String,
    /// Write the log into this folder (default: hash it only).
    #[arg(long)]
    out: Option<PathBuf>,
    /// More overrides, as for `run`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Print the measurements as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let mut all = vec![
        format!("simulation.num_agents={}", args.agents),
        format!("simulation.timesteps={}", args.steps),
        format!("simulation.shards={}", args.shards),
        format!("log.decisions={}", args.decisions),
        "baselines.enabled=false".to_string(),
        "name=bench".to_string(),
    ];
    all.extend(args.sets);
    let scenario = Scenario::load(None, &all)?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let r = bench::bench(&scenario, args.out.as_deref())?;
    if args.json {
        print_json(&r)?;
    } else {
        println!(
            "{} agents x {} steps ({} policy, {} shards, decisions {}):\n  population {:.2} s, actors {:.2} s, run {:.2} s, total {:.2} s\n  {:.2} M agent-steps/s, {:.0} bytes per agent, peak RSS {:.0} MiB, log {:.1} MiB",
            r.agents,
            r.steps,
            r.worker_policy,
            r.shards,
            r.decisions,
            r.population_seconds,
            r.spawn_seconds,
            r.run_seconds,
            r.total_seconds,
            r.agent_steps_per_second / 1e6,
            r.bytes_per_agent,
            r.peak_rss_bytes as f64 / (1 << 20) as f64,
            r.log_bytes as f64 / (1 << 20) as f64
        );
    }
    Ok(ExitCode::SUCCESS)
}
