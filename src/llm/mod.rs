//! Language-model agents' plumbing: the OpenAI-compatible transport ([`client`], with the
//! reply and failure types of `reply.rs` and the key scrubbing of `redact.rs`), the gateway
//! that caches, accounts, re-asks and replays ([`gateway`], with request resolution and hashing
//! in `request.rs`, live retries in `retry.rs`, the types it shares with [`recording`] in
//! `exchange.rs`, [`stats`] and the endpoint pool's health and failover, [`pool`]), answer
//! parsing ([`parse`]) and prompt templates ([`prompts`]). The decision logic of LLM workers
//! and the LLM planner lives with the other policies in [`crate::policy`].

pub mod client;
mod exchange;
pub mod gateway;
pub mod models;
pub mod parse;
pub mod pool;
pub mod prompts;
pub mod recording;
mod redact;
mod reply;
mod request;
mod retry;
pub mod stats;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use client::{CallError, ChatBackend, ChatReply, OpenAiBackend};
pub use gateway::{Ask, LlmGateway, Settings};
pub use prompts::Prompts;
pub use recording::{Recording, Source};
pub use stats::{LlmStats, RoleStats};

use crate::config::Scenario;

/// Where a run's LLM answers come from.
pub enum Answers {
    /// The configured servers.
    Live,
    /// Only the recording (a replay: no server, no API key).
    Replay(Recording),
    /// The recording first, the servers for what it lacks (a resumed run).
    Resume(Recording),
}

/// What LLM agents of a run share: the gateway and the templates.
#[derive(Clone)]
pub struct LlmRuntime {
    pub gateway: Arc<LlmGateway>,
    pub prompts: Arc<Prompts>,
}

impl LlmRuntime {
    /// Builds the runtime of `scenario`: live against its endpoints, answering from a
    /// recording (a replay, which needs no server and no API key), or both (a resume).
    pub fn new(scenario: &Scenario, answers: Answers) -> anyhow::Result<LlmRuntime> {
        let l = &scenario.llm;
        let (recording, live) = match answers {
            Answers::Live => (None, true),
            Answers::Replay(r) => (Some(r), false),
            Answers::Resume(r) => (Some(r), true),
        };
        let mut dead = Vec::new();
        let routes = models::Routes::of(scenario);
        let source = match (recording, live) {
            (Some(r), false) => Source::Replay(r),
            (recording, _) => {
                let key = if l.api_key_env.is_empty() {
                    None
                } else {
                    // Read at run time only; never logged, never written.
                    Some(std::env::var(&l.api_key_env).map_err(|_| {
                        anyhow::anyhow!(
                            "llm.api_key_env names {:?}, but that environment variable is not set \
                             (set it, or use llm.api_key_env = \"\" for a local server)",
                            l.api_key_env
                        )
                    })?)
                };
                let timeout = Duration::from_secs_f64(l.timeout_seconds);
                dead = probe_endpoints(&routes.all_urls(), key.as_deref(), l)?;
                let backend: Arc<dyn ChatBackend> =
                    Arc::new(OpenAiBackend::new(&routes.all_urls(), key, timeout));
                match recording {
                    Some(r) => Source::Resume(r, backend),
                    None => Source::Live(backend),
                }
            }
        };
        let prompts_dir = (!l.prompts_dir.is_empty()).then(|| Path::new(&l.prompts_dir));
        if let Some(d) = prompts_dir
            && !d.is_dir()
        {
            anyhow::bail!("llm.prompts_dir {:?} is not a folder", l.prompts_dir);
        }
        let prompts = Prompts::load(prompts_dir).map_err(anyhow::Error::msg)?;
        let gateway = LlmGateway::new(
            Settings {
                model: l.model.clone(),
                temperature: l.temperature,
                response_format: l.response_format,
                seed: scenario.simulation.seed,
                max_retries: l.max_retries,
                backoff_ms: l.backoff_ms,
                max_reasks: l.max_reasks,
                log_prompts: l.log_prompts,
                budget_requests: l.budget_requests,
                budget_tokens: l.budget_tokens,
                max_fallback_share: l.max_fallback_share,
                concurrency: l.concurrency,
                pool: pool::PoolSettings {
                    base_urls: l.base_urls(),
                    weights: l.weights.clone(),
                    eject_after: l.eject_after,
                    cooldown: Duration::from_secs_f64(l.eject_seconds),
                    endpoint_concurrency: l.endpoint_concurrency,
                    global: Vec::new(),
                },
                routes,
                retry_after_cap: Duration::from_secs_f64(l.retry_after_cap_seconds),
            },
            source,
        );
        for (endpoint, why) in dead {
            gateway.dead_at_start(endpoint, why);
        }
        Ok(LlmRuntime {
            gateway,
            prompts: Arc::new(prompts),
        })
    }
}

/// Probes every endpoint of the pool (`GET {base}/models`). A dead one is an error naming it,
/// unless `llm.skip_dead_endpoints` is set: then it is a warning, and the endpoint (index and
/// why) is returned to be taken out of the pool until it answers a probe.
fn probe_endpoints(
    urls: &[String],
    key: Option<&str>,
    l: &crate::config::LlmConfig,
) -> anyhow::Result<Vec<(usize, String)>> {
    let verdicts = client::probe_all(urls, key);
    let dead: Vec<(usize, String)> = verdicts
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.as_ref()
                .err()
                .map(|e| (i, format!("{}: {}", e.kind(), e.message())))
        })
        .collect();
    if dead.is_empty() {
        return Ok(dead);
    }
    let names: Vec<String> = dead
        .iter()
        .map(|(i, why)| format!("{} ({why})", urls[*i]))
        .collect();
    if !l.skip_dead_endpoints {
        anyhow::bail!(
            "the LLM endpoint{} {} did not answer GET /models: start {}, fix llm.base_url, or set \
             llm.skip_dead_endpoints = true to run on the others",
            if dead.len() == 1 { "" } else { "s" },
            names.join(", "),
            if dead.len() == 1 { "it" } else { "them" },
        );
    }
    tracing::warn!(
        "the LLM endpoint{} {} did not answer GET /models; the run goes on without {} \
         (llm.skip_dead_endpoints), probing again after llm.eject_seconds",
        if dead.len() == 1 { "" } else { "s" },
        names.join(", "),
        if dead.len() == 1 { "it" } else { "them" },
    );
    Ok(dead)
}
