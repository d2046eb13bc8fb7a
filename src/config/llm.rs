//! `[llm]`: the language-model backend and how agents use it, the per-role `[llm.ROLE]`
//! tables, the endpoint keys a resumed run may change ([`LLM_ENDPOINT_KEYS`]), their defaults
//! and the `[llm]` checks.

use serde::{Deserialize, Serialize};

use super::{
    ConfigError, MAX_AGENTS, MAX_TOKENS, Scenario, check_base_urls, compact, in_range, invalid,
};

/// One or several OpenAI-compatible base URLs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BaseUrls {
    One(String),
    Many(Vec<String>),
}

/// How answers are requested in a structured form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResponseFormat {
    /// `response_format: {type: json_schema}` (OpenAI, vLLM, SGLang, llama.cpp server, Ollama).
    JsonSchema,
    /// `response_format: {type: json_object}`.
    JsonObject,
    /// No response_format; the answer is parsed from plain text.
    Text,
}

/// The language-model backend and how agents use it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// The OpenAI-compatible API base, e.g. "http://127.0.0.1:8000/v1", or a list (a pool).
    pub base_url: BaseUrls,
    /// Relative weights of the pool's endpoints (empty = equal).
    pub weights: Vec<f64>,
    pub model: String,
    /// The name of the environment variable holding the API key ("" = send none). The key is
    /// read at run time and never written anywhere.
    pub api_key_env: String,
    pub temperature: f64,
    pub max_tokens: u32,
    pub planner_max_tokens: u32,
    pub response_format: ResponseFormat,
    /// Most requests in flight at once, over the whole run.
    pub concurrency: usize,
    pub timeout_seconds: f64,
    /// Transport retries (429, 5xx, timeouts, dropped connections) per request.
    pub max_retries: u32,
    /// First retry delay; doubles each retry.
    pub backoff_ms: u64,
    /// Re-asks after an answer that does not parse, before the fallback.
    pub max_reasks: u32,
    /// Stop the run cleanly once this many requests were sent (0 = no limit).
    pub budget_requests: u64,
    /// Stop the run cleanly once this many tokens were used (0 = no limit).
    pub budget_tokens: u64,
    /// Stop the run cleanly, between steps, once more than this share of the recent decisions
    /// asked of a server fell back to their defaults (1 = never stop). See
    /// `docs/llm-failures.md` for the window and why 0.2 is the default. Written into the
    /// log's header only when set otherwise (a resume keeps it; headers, and so the logs, of
    /// runs that leave it alone are those of earlier versions).
    #[serde(skip_serializing_if = "is_default_fallback_share")]
    pub max_fallback_share: f64,
    /// Past steps shown to a worker.
    pub history_window: usize,
    /// Best past steps (by perceived utility / welfare) shown as memory.
    pub best_k: usize,
    /// Whether workers are told their utility's formula with its numbers (the reference's
    /// default) or only what it is made of. Written into the log's header only when withheld.
    #[serde(skip_serializing_if = "UtilityFormula::is_shown")]
    pub utility_formula: UtilityFormula,
    /// Whether an LLM voter is told the rebate each platform would pay at its equilibrium
    /// (every worker at her exact best response: an oracle's forecast, the figure an offline
    /// voter ranks by) or not. Written into the log's header only when shown.
    #[serde(skip_serializing_if = "PlatformRebates::is_withheld")]
    pub platform_rebates: PlatformRebates,
    /// Tax years shown to the planner.
    pub planner_history: usize,
    /// A folder whose `*.j2` files replace the built-in prompt templates of the same name.
    pub prompts_dir: String,
    /// Store each request's rendered messages in the log (for inspection).
    pub log_prompts: bool,
    /// Archetype mode: 0 = off; k > 0 = workers are grouped into k skill buckets and one LLM
    /// call per bucket decides for all its members.
    pub archetypes: usize,
    /// At start every endpoint is probed (`GET {base}/models`); a dead one is an error naming
    /// it, unless this is set: then it is a warning and the run goes on without it. The keys
    /// below say only how servers are reached, and are written into the log's header only
    /// when set otherwise than their defaults (headers of runs that leave them alone keep
    /// their bytes).
    #[serde(skip_serializing_if = "is_false")]
    pub skip_dead_endpoints: bool,
    /// Consecutive transport failures (connection, timeout, 5xx) after which an endpoint is
    /// ejected from the pool for `eject_seconds`; its agents go to their next endpoint.
    #[serde(skip_serializing_if = "is_default_eject_after")]
    pub eject_after: u32,
    /// An ejected endpoint's cool-down; it returns after a successful probe.
    #[serde(skip_serializing_if = "is_default_eject_seconds")]
    pub eject_seconds: f64,
    /// Most requests in flight at once to one endpoint (0 = only `concurrency` caps them).
    #[serde(skip_serializing_if = "is_zero")]
    pub endpoint_concurrency: usize,
    /// Longest wait a server's `Retry-After` (on 429 and 503) may impose before a retry.
    #[serde(skip_serializing_if = "is_default_retry_after_cap")]
    pub retry_after_cap_seconds: f64,
    /// Per-role settings (`[llm.planner] model = "..."`), each left out of the header when
    /// unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<RoleOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planner: Option<RoleOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persona: Option<RoleOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<RoleOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stand: Option<RoleOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vote: Option<RoleOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leader: Option<RoleOverride>,
    /// A federation's question of where to live.
    #[serde(rename = "move", skip_serializing_if = "Option::is_none")]
    pub moving: Option<RoleOverride>,
}

/// What an LLM worker is told of her utility (`llm.utility_formula`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UtilityFormula {
    /// The formula with its numbers (`u = x - c * LABOR^d, c = ..., d = ...`), as the
    /// reference shows it.
    #[default]
    Shown,
    /// Only what it is made of (what she keeps, minus a cost of effort that grows faster than
    /// her hours): she learns the rest from her history.
    Withheld,
}

impl UtilityFormula {
    fn is_shown(&self) -> bool {
        *self == UtilityFormula::Shown
    }
}

/// What an LLM voter is told of the rebate a platform would pay (`llm.platform_rebates`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlatformRebates {
    /// Not told: she judges a platform by its rates and her own history.
    #[default]
    Withheld,
    /// Told, to the cent: the rebate per citizen at the platform's equilibrium, computed from
    /// every worker's exact best response. An oracle the reference does not give.
    Shown,
}

impl PlatformRebates {
    fn is_withheld(&self) -> bool {
        *self == PlatformRebates::Withheld
    }
}

/// The LLM roles that can have settings of their own (`[llm.ROLE]`).
pub const LLM_ROLES: [&str; 8] = [
    "worker",
    "planner",
    "persona",
    "satisfaction",
    "stand",
    "vote",
    "leader",
    "move",
];

/// The `[llm.ROLE]` table whose settings a request of `role` (as logged) takes: a stand is
/// logged as "platform", and a federal election's questions ("federal_platform",
/// "federal_vote", "federal_leader") take the tables of their national twins.
pub fn role_table(role: &str) -> &str {
    match role.strip_prefix("federal_").unwrap_or(role) {
        "platform" => "stand",
        other => other,
    }
}

/// What one role's requests use instead of the `[llm]` settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoleOverride {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The server (or pool) this role asks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<BaseUrls>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            base_url: BaseUrls::One("http://127.0.0.1:8000/v1".into()),
            weights: Vec::new(),
            model: "mock-llm".into(),
            api_key_env: String::new(),
            temperature: 0.7,
            max_tokens: 256,
            planner_max_tokens: 512,
            response_format: ResponseFormat::JsonObject,
            concurrency: 256,
            timeout_seconds: 60.0,
            max_retries: 4,
            backoff_ms: 200,
            max_reasks: 2,
            budget_requests: 0,
            budget_tokens: 0,
            max_fallback_share: DEFAULT_MAX_FALLBACK_SHARE,
            history_window: 50,
            best_k: 5,
            utility_formula: UtilityFormula::Shown,
            platform_rebates: PlatformRebates::Withheld,
            planner_history: 20,
            prompts_dir: String::new(),
            log_prompts: true,
            archetypes: 0,
            skip_dead_endpoints: false,
            eject_after: DEFAULT_EJECT_AFTER,
            eject_seconds: DEFAULT_EJECT_SECONDS,
            endpoint_concurrency: 0,
            retry_after_cap_seconds: DEFAULT_RETRY_AFTER_CAP,
            worker: None,
            planner: None,
            persona: None,
            satisfaction: None,
            stand: None,
            vote: None,
            leader: None,
            moving: None,
        }
    }
}

/// The `[llm]` keys that say only how the inference servers are reached: which servers (and
/// the pool's weights, which go with its URLs), the API key's variable, the request timeout and
/// the requests in flight. They cannot change a run's results (answers are placed by worker
/// id, never by arrival, and what the model answered is in the log), so a run resumed on
/// another machine takes them from its command line rather than from its log's header.
pub const LLM_ENDPOINT_KEYS: [&str; 19] = [
    "llm.base_url",
    "llm.weights",
    "llm.api_key_env",
    "llm.timeout_seconds",
    "llm.concurrency",
    "llm.skip_dead_endpoints",
    "llm.eject_after",
    "llm.eject_seconds",
    "llm.endpoint_concurrency",
    "llm.retry_after_cap_seconds",
    "llm.worker.base_url",
    "llm.planner.base_url",
    "llm.persona.base_url",
    "llm.satisfaction.base_url",
    "llm.stand.base_url",
    "llm.vote.base_url",
    "llm.leader.base_url",
    "llm.budget_requests",
    "llm.budget_tokens",
];

/// The settings of [`LLM_ENDPOINT_KEYS`].
#[derive(Clone, Debug, PartialEq)]
pub struct LlmEndpoint {
    pub base_url: BaseUrls,
    pub weights: Vec<f64>,
    pub api_key_env: String,
    pub timeout_seconds: f64,
    pub concurrency: usize,
    pub skip_dead_endpoints: bool,
    pub eject_after: u32,
    pub eject_seconds: f64,
    pub endpoint_concurrency: usize,
    pub retry_after_cap_seconds: f64,
    /// The budgets: a run they stopped is continued with larger ones (they decide where a run
    /// stops, never what a step holds; a replay, paying nothing, does not apply them).
    pub budget_requests: u64,
    pub budget_tokens: u64,
    /// `llm.ROLE.base_url`, in [`LLM_ROLES`] order.
    pub role_base_urls: Vec<Option<BaseUrls>>,
}

/// The default `llm.max_fallback_share`.
pub const DEFAULT_MAX_FALLBACK_SHARE: f64 = 0.2;

fn is_default_fallback_share(share: &f64) -> bool {
    *share == DEFAULT_MAX_FALLBACK_SHARE
}

/// The default `llm.eject_after`: three failures in a row are no chance event on a healthy
/// server, and few enough that a dead one costs a handful of retries.
pub const DEFAULT_EJECT_AFTER: u32 = 3;
/// The default `llm.eject_seconds`.
pub const DEFAULT_EJECT_SECONDS: f64 = 30.0;
/// The default `llm.retry_after_cap_seconds`.
pub const DEFAULT_RETRY_AFTER_CAP: f64 = 60.0;

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_default_eject_after(n: &u32) -> bool {
    *n == DEFAULT_EJECT_AFTER
}

fn is_default_eject_seconds(s: &f64) -> bool {
    *s == DEFAULT_EJECT_SECONDS
}

fn is_default_retry_after_cap(s: &f64) -> bool {
    *s == DEFAULT_RETRY_AFTER_CAP
}

impl LlmConfig {
    /// Its endpoint settings.
    pub fn endpoint(&self) -> LlmEndpoint {
        LlmEndpoint {
            base_url: self.base_url.clone(),
            weights: self.weights.clone(),
            api_key_env: self.api_key_env.clone(),
            timeout_seconds: self.timeout_seconds,
            concurrency: self.concurrency,
            skip_dead_endpoints: self.skip_dead_endpoints,
            eject_after: self.eject_after,
            eject_seconds: self.eject_seconds,
            endpoint_concurrency: self.endpoint_concurrency,
            retry_after_cap_seconds: self.retry_after_cap_seconds,
            budget_requests: self.budget_requests,
            budget_tokens: self.budget_tokens,
            role_base_urls: LLM_ROLES
                .iter()
                .map(|r| self.role(r).and_then(|o| o.base_url.clone()))
                .collect(),
        }
    }

    /// Replaces its endpoint settings with `e`.
    pub fn set_endpoint(&mut self, e: LlmEndpoint) {
        self.base_url = e.base_url;
        self.weights = e.weights;
        self.api_key_env = e.api_key_env;
        self.timeout_seconds = e.timeout_seconds;
        self.concurrency = e.concurrency;
        self.skip_dead_endpoints = e.skip_dead_endpoints;
        self.eject_after = e.eject_after;
        self.eject_seconds = e.eject_seconds;
        self.endpoint_concurrency = e.endpoint_concurrency;
        self.retry_after_cap_seconds = e.retry_after_cap_seconds;
        self.budget_requests = e.budget_requests;
        self.budget_tokens = e.budget_tokens;
        for (role, url) in LLM_ROLES.iter().zip(e.role_base_urls) {
            let slot = self.role_mut(role);
            match (slot.as_mut(), url) {
                (Some(o), url) => o.base_url = url,
                (None, Some(url)) => {
                    *slot = Some(RoleOverride {
                        base_url: Some(url),
                        ..RoleOverride::default()
                    })
                }
                (None, None) => {}
            }
        }
    }

    /// The settings of role `role` (one of [`LLM_ROLES`]), if it has its own.
    pub fn role(&self, role: &str) -> Option<&RoleOverride> {
        match role {
            "worker" => self.worker.as_ref(),
            "planner" => self.planner.as_ref(),
            "persona" => self.persona.as_ref(),
            "satisfaction" => self.satisfaction.as_ref(),
            "stand" => self.stand.as_ref(),
            "vote" => self.vote.as_ref(),
            "leader" => self.leader.as_ref(),
            "move" => self.moving.as_ref(),
            _ => None,
        }
    }

    fn role_mut(&mut self, role: &str) -> &mut Option<RoleOverride> {
        match role {
            "worker" => &mut self.worker,
            "planner" => &mut self.planner,
            "persona" => &mut self.persona,
            "satisfaction" => &mut self.satisfaction,
            "stand" => &mut self.stand,
            "vote" => &mut self.vote,
            "move" => &mut self.moving,
            _ => &mut self.leader,
        }
    }

    /// The pool's base URLs.
    pub fn base_urls(&self) -> Vec<String> {
        match &self.base_url {
            BaseUrls::One(u) => vec![u.clone()],
            BaseUrls::Many(v) => v.clone(),
        }
    }
}

/// A role's own settings are in the ranges of the `[llm]` ones.
fn check_role_override(role: &str, o: &RoleOverride) -> Result<(), ConfigError> {
    // The key names the table; the message says which setting of it.
    let key = match role {
        "worker" => "llm.worker",
        "planner" => "llm.planner",
        "persona" => "llm.persona",
        "satisfaction" => "llm.satisfaction",
        "stand" => "llm.stand",
        "vote" => "llm.vote",
        "move" => "llm.move",
        _ => "llm.leader",
    };
    if o.model.as_ref().is_some_and(|m| m.is_empty()) {
        return Err(invalid(
            key,
            "model: name the model to request, or leave it out",
        ));
    }
    if let Some(t) = o.temperature
        && !(t.is_finite() && (0.0..=2.0).contains(&t))
    {
        return Err(invalid(
            key,
            format!("temperature must be within [0, 2], got {}", compact(t)),
        ));
    }
    if let Some(m) = o.max_tokens
        && !(1..=MAX_TOKENS).contains(&m)
    {
        return Err(invalid(
            key,
            format!("max_tokens must be within [1, {MAX_TOKENS}], got {m}"),
        ));
    }
    if let Some(u) = &o.base_url {
        check_base_urls(key, u)?;
    }
    Ok(())
}

// The `[llm]` checks, one step of `Scenario::validate`; `workers.models` is checked from here,
// between the role tables and `llm.eject_after`, as before the split.
impl Scenario {
    pub(super) fn validate_llm(&self) -> Result<(), ConfigError> {
        let l = &self.llm;
        let urls = l.base_urls();
        if urls.is_empty() {
            return Err(invalid("llm.base_url", "give at least one base URL"));
        }
        for u in &urls {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(invalid(
                    "llm.base_url",
                    format!("{u:?} is not an http(s) URL (for example http://127.0.0.1:8000/v1)"),
                ));
            }
        }
        if !l.weights.is_empty()
            && (l.weights.len() != urls.len()
                || l.weights.iter().any(|w| !(w.is_finite() && *w > 0.0)))
        {
            return Err(invalid(
                "llm.weights",
                format!(
                    "give {} positive weights, one per base URL, or none",
                    urls.len()
                ),
            ));
        }
        if l.model.is_empty() {
            return Err(invalid("llm.model", "name the model to request"));
        }
        if !(l.temperature.is_finite() && (0.0..=2.0).contains(&l.temperature)) {
            return Err(invalid("llm.temperature", "must be within [0, 2]"));
        }
        in_range("llm.max_tokens", l.max_tokens, 1, MAX_TOKENS, "")?;
        in_range(
            "llm.planner_max_tokens",
            l.planner_max_tokens,
            1,
            MAX_TOKENS,
            "",
        )?;
        in_range(
            "llm.concurrency",
            l.concurrency,
            1,
            4096,
            " (requests in flight at once)",
        )?;
        if !(l.timeout_seconds > 0.0 && l.timeout_seconds <= 3600.0) {
            return Err(invalid(
                "llm.timeout_seconds",
                format!(
                    "must be positive, at most 3600 (got {})",
                    compact(l.timeout_seconds)
                ),
            ));
        }
        in_range(
            "llm.max_retries",
            l.max_retries,
            0,
            20,
            " (each retry waits twice as long as the one before, up to 30 s)",
        )?;
        in_range(
            "llm.backoff_ms",
            l.backoff_ms,
            0,
            60_000,
            " (the first retry's delay, in milliseconds)",
        )?;
        in_range("llm.max_reasks", l.max_reasks, 0, 10, "")?;
        for role in LLM_ROLES {
            if let Some(o) = l.role(role) {
                check_role_override(role, o)?;
            }
        }
        self.validate_worker_models()?;
        in_range(
            "llm.eject_after",
            l.eject_after,
            1,
            1000,
            " (consecutive failures that eject an endpoint)",
        )?;
        if !(l.eject_seconds > 0.0 && l.eject_seconds <= 3600.0) {
            return Err(invalid(
                "llm.eject_seconds",
                format!(
                    "must be positive, at most 3600 (an ejected endpoint's cool-down; got {})",
                    compact(l.eject_seconds)
                ),
            ));
        }
        in_range(
            "llm.endpoint_concurrency",
            l.endpoint_concurrency,
            0,
            4096,
            " (requests in flight at once to one endpoint; 0 = no cap of its own)",
        )?;
        if !(l.retry_after_cap_seconds >= 0.0 && l.retry_after_cap_seconds <= 3600.0) {
            return Err(invalid(
                "llm.retry_after_cap_seconds",
                format!(
                    "must be within [0, 3600] (the longest Retry-After waited out; got {})",
                    compact(l.retry_after_cap_seconds)
                ),
            ));
        }
        in_range(
            "llm.max_fallback_share",
            l.max_fallback_share,
            0.0,
            1.0,
            " (a share of decisions; 1 = never stop)",
        )?;
        in_range("llm.history_window", l.history_window, 1, 10_000, "")?;
        in_range("llm.best_k", l.best_k, 0, 1000, "")?;
        in_range("llm.planner_history", l.planner_history, 0, 10_000, "")?;
        in_range("llm.archetypes", l.archetypes, 0, MAX_AGENTS, " (0 = off)")?;
        if !l.api_key_env.is_empty()
            && !l
                .api_key_env
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(
                "llm.api_key_env",
                "is the NAME of an environment variable (letters, digits, _), not the key itself",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_SCENARIO;

    #[test]
    fn a_resume_takes_only_the_endpoint_keys() {
        let logged = Scenario::resolve(DEFAULT_SCENARIO, &[], &[]).unwrap();
        let sets: Vec<String> = [
            "llm.base_url=[\"http://10.0.0.7:8000/v1\",\"http://10.0.0.8:8000/v1\"]",
            "llm.weights=[1,3]",
            "llm.api_key_env=NODE_KEY",
            "llm.timeout_seconds=120",
            "llm.concurrency=8",
        ]
        .map(String::from)
        .into();
        let now = logged.with_endpoint_sets(&sets).unwrap();
        assert_eq!(now.llm.base_urls().len(), 2);
        assert_eq!(
            (now.llm.weights.as_slice(), now.llm.concurrency),
            (&[1.0, 3.0][..], 8)
        );
        assert_eq!(
            (now.llm.api_key_env.as_str(), now.llm.timeout_seconds),
            ("NODE_KEY", 120.0)
        );
        // Everything else is the logged scenario's.
        let mut back = now.clone();
        back.llm.set_endpoint(logged.llm.endpoint());
        assert_eq!(back, logged);
        // A key that can change results is refused, naming the allowed ones.
        for bad in ["llm.model=other", "simulation.seed=3", "llm.base_url_x=1"] {
            let e = logged
                .with_endpoint_sets(&[bad.to_string()])
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(bad) && e.contains(&LLM_ENDPOINT_KEYS.join(", ")),
                "{e}"
            );
        }
        // Endpoint values are still checked.
        let e = logged
            .with_endpoint_sets(&["llm.base_url=ftp://x".to_string()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("llm.base_url"), "{e}");
    }
}
