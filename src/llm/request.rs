//! What a request is: the run's LLM settings, how one [`Ask`] resolves to its model, sampling
//! settings and endpoint pool (role settings, then a mixed population's worker model, then
//! `[llm]`), the canonical request body that is sent and hashed, and the content address
//! identical requests share a call by.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::exchange::Ask;
use super::models::Routes;
use super::pool::{Pool, PoolSettings};
use crate::config::ResponseFormat;

/// Fixed settings of a run's LLM use.
#[derive(Clone, Debug)]
pub struct Settings {
    pub model: String,
    pub temperature: f64,
    pub response_format: ResponseFormat,
    /// Sent as the request's `seed` (servers that honour it sample reproducibly).
    pub seed: u64,
    pub max_retries: u32,
    pub backoff_ms: u64,
    pub max_reasks: u32,
    pub log_prompts: bool,
    pub budget_requests: u64,
    pub budget_tokens: u64,
    /// Stop once more than this share of the recent live decisions fell back.
    pub max_fallback_share: f64,
    pub concurrency: usize,
    /// The endpoints of `llm.base_url`, their weights, ejection and per-endpoint caps (the
    /// other pools' take the same ejection and caps).
    pub pool: PoolSettings,
    /// Each request's model and pool (per-role settings, mixed worker models).
    pub routes: Routes,
    /// Longest `Retry-After` waited out before a retry.
    pub retry_after_cap: Duration,
}

/// The settings one request is sent with.
pub(super) struct Resolved<'a> {
    pub(super) model: &'a str,
    pub(super) temperature: f64,
    pub(super) max_tokens: u32,
    pub(super) response_format: ResponseFormat,
    /// Index into the gateway's pools.
    pub(super) pool: usize,
}

/// What `ask` is sent with: its role's settings, else its worker's model in a mixed
/// population, else the `[llm]` ones.
pub(super) fn resolve<'a>(s: &'a Settings, ask: &Ask) -> Resolved<'a> {
    let role = s.routes.roles.get(crate::config::role_table(ask.role));
    let worker = if crate::frames::is_planner_agent(ask.agent) || ask.role == "planner" {
        None
    } else {
        s.routes.worker_model(ask.agent)
    };
    Resolved {
        model: role
            .and_then(|r| r.model.as_deref())
            .or(worker.map(|w| w.0.as_str()))
            .unwrap_or(&s.model),
        temperature: role.and_then(|r| r.temperature).unwrap_or(s.temperature),
        max_tokens: role.and_then(|r| r.max_tokens).unwrap_or(ask.max_tokens),
        response_format: role
            .and_then(|r| r.response_format)
            .unwrap_or(s.response_format),
        pool: role
            .and_then(|r| r.pool)
            .or(worker.and_then(|w| w.1))
            .unwrap_or(0),
    }
}

/// The request body as JSON text: what is sent and what is hashed. Serialized straight
/// from borrowed parts (no intermediate JSON tree); field order is fixed, so the text, and
/// its hash, are canonical.
pub(super) fn body(ask: &Ask, r: &Resolved, seed: u64) -> String {
    #[derive(Serialize)]
    struct Message<'a> {
        role: &'a str,
        content: &'a str,
    }
    #[derive(Serialize)]
    struct Body<'a> {
        model: &'a str,
        messages: Vec<Message<'a>>,
        temperature: f64,
        max_tokens: u32,
        seed: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        response_format: Option<Value>,
    }
    let response_format = match r.response_format {
        ResponseFormat::JsonSchema => Some(json!({
            "type": "json_schema",
            "json_schema": {"name": ask.role, "schema": ask.schema, "strict": true}
        })),
        ResponseFormat::JsonObject => Some(json!({"type": "json_object"})),
        ResponseFormat::Text => None,
    };
    let body = Body {
        model: r.model,
        messages: ask
            .messages
            .iter()
            .map(|(role, content)| Message { role, content })
            .collect(),
        temperature: r.temperature,
        max_tokens: r.max_tokens,
        seed,
        response_format,
    };
    serde_json::to_string(&body).expect("a request body always serializes")
}

/// The request body's hash, as logged in every exchange and checked by a replay.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The content address of a request within its timestep: identical requests (same role,
/// body and sample index) share one call.
pub(super) fn cache_key(ask: &Ask, hash: &str) -> [u8; 32] {
    let mut key_hasher = Sha256::new();
    key_hasher.update(ask.role.as_bytes());
    key_hasher.update(hash.as_bytes());
    key_hasher.update(ask.sample.to_le_bytes());
    key_hasher.finalize().into()
}

/// The endpoint pools of `settings`: `llm.base_url` and those of roles and worker models.
pub(super) fn pools_of(settings: &Settings) -> Vec<Pool> {
    let all = settings.routes.all_urls();
    let pools = if settings.routes.pools.is_empty() {
        vec![settings.pool.base_urls.clone()]
    } else {
        settings.routes.pools.clone()
    };
    pools
        .into_iter()
        .enumerate()
        .map(|(k, urls)| {
            let global = urls
                .iter()
                .map(|u| all.iter().position(|a| a == u).unwrap_or(0))
                .collect();
            Pool::new(PoolSettings {
                // Weights go with llm.base_url's list only.
                weights: if k == 0 {
                    settings.pool.weights.clone()
                } else {
                    Vec::new()
                },
                base_urls: urls,
                global,
                ..settings.pool.clone()
            })
        })
        .collect()
}
