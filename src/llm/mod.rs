//! Language-model agents' plumbing: the OpenAI-compatible transport ([`client`]), the gateway
//! that routes, retries, accounts, caches and replays ([`gateway`], with [`recording`] and
//! [`stats`]), answer parsing
//! ([`parse`]) and prompt templates ([`prompts`]). The decision logic of LLM workers and the
//! LLM planner lives with the other policies in [`crate::policy`].

pub mod client;
pub mod gateway;
pub mod parse;
pub mod prompts;
pub mod recording;
mod routing;
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
                let backend: Arc<dyn ChatBackend> = Arc::new(OpenAiBackend::new(
                    &l.base_urls(),
                    key,
                    Duration::from_secs_f64(l.timeout_seconds),
                ));
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
                weights: l.weights.clone(),
            },
            source,
        );
        Ok(LlmRuntime {
            gateway,
            prompts: Arc::new(prompts),
        })
    }
}
