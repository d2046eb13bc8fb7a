//! `simulacra bench`: measures the game itself at scale (agent-steps per second, memory per
//! agent, peak RSS), phase by phase. Timings come from the wall clock and go to the report
//! only, never into a run's results.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use actix::System;
use anyhow::bail;
use serde::Serialize;
use simulacra_actors::{Fsync, HashSink, LogWriter, run_game};

use crate::config::Scenario;
use crate::game::Economy;
use crate::population::Population;
use crate::resolved::ResolvedScenario;
use crate::run::assemble::planner_policy;
use crate::run::header::header;

/// The measured numbers.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub agents: usize,
    pub steps: u64,
    pub shards: usize,
    pub worker_policy: String,
    pub decisions: String,
    pub population_seconds: f64,
    pub spawn_seconds: f64,
    pub run_seconds: f64,
    pub total_seconds: f64,
    pub agent_steps_per_second: f64,
    /// RSS growth from before the population was built to after the actors started, per agent.
    pub bytes_per_agent: f64,
    pub peak_rss_bytes: u64,
    pub log_bytes: u64,
    pub log_sha256: String,
}

/// Reads a field of /proc/self/status in bytes (Linux); 0 where unavailable.
fn proc_status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Runs `scenario` (baselines off) and measures it. With `log_dir`, the log is written there;
/// otherwise only hashed.
pub fn bench(scenario: &Scenario, log_dir: Option<&Path>) -> anyhow::Result<BenchReport> {
    if scenario.baselines.enabled {
        bail!("bench measures one game: set baselines.enabled = false");
    }
    if scenario.uses_llm() {
        bail!("bench measures the offline game; for LLM throughput use scripts/bench_llm.sh");
    }
    let scenario = ResolvedScenario::new(scenario.clone())?;
    let log_path = log_dir.map(|d| d.join("run.log"));
    System::new().block_on(async move {
        let start = Instant::now();
        let rss0 = proc_status_bytes("VmRSS:");
        let population = Arc::new(Population::generate(&scenario));
        let t_pop = start.elapsed().as_secs_f64();
        let planner = planner_policy(scenario.planner.policy, &scenario, &population, None)?;
        let economy = Economy::start(&scenario, Arc::clone(&population), planner, None).await;
        let t_spawn = start.elapsed().as_secs_f64() - t_pop;
        let rss1 = proc_status_bytes("VmRSS:");
        let shards = simulacra_actors::cohort::resolve_shards(scenario.simulation.shards)
            .clamp(1, scenario.simulation.num_agents);
        let steps = scenario.simulation.timesteps;
        let run_start = Instant::now();
        let (digest, economy) = match &log_path {
            Some(p) => {
                let sink = LogWriter::create(p, &header(&scenario), Fsync::Never)?;
                match run_game(economy, sink, 0..steps, None).await {
                    Ok(done) => (done.digest, done.game),
                    Err(f) => bail!("step {}: {}", f.step, f.error),
                }
            }
            None => {
                let sink = HashSink::new(&header(&scenario))?;
                match run_game(economy, sink, 0..steps, None).await {
                    Ok(done) => (done.digest, done.game),
                    Err(f) => bail!("step {}: {}", f.step, f.error),
                }
            }
        };
        let run_seconds = run_start.elapsed().as_secs_f64();
        economy.stop();
        let n = scenario.simulation.num_agents;
        Ok(BenchReport {
            agents: n,
            steps,
            shards,
            worker_policy: format!("{:?}", scenario.workers.policy).to_lowercase(),
            decisions: format!("{:?}", scenario.log.decisions).to_lowercase(),
            population_seconds: t_pop,
            spawn_seconds: t_spawn,
            run_seconds,
            total_seconds: start.elapsed().as_secs_f64(),
            agent_steps_per_second: (n as f64 * steps as f64) / run_seconds.max(1e-9),
            bytes_per_agent: rss1.saturating_sub(rss0) as f64 / n as f64,
            peak_rss_bytes: proc_status_bytes("VmHWM:"),
            log_bytes: digest.bytes,
            log_sha256: digest.sha256,
        })
    })
}
