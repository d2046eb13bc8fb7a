//! The gateway every LLM agent talks through: it sends each request once per timestep
//! (sharing identical ones), from a server or, in replay mode, from the recorded log
//! ([`super::recording`]), turns every attempt into a logged exchange, re-asks after unusable
//! answers, and keeps the token and request accounting and the budget and fallback stops.
//! What a request is sent with, its body and its hash are in `request.rs`; the endpoint choice,
//! concurrency caps and retries with backoff of a live call in `retry.rs`. The counts live in
//! [`super::stats`], the endpoints' health in [`super::pool`], each role's and worker's model
//! in [`super::models`].
//!
//! Determinism: what an agent receives depends only on its request and the recording, never
//! on timing. Every attempt becomes an [`LlmExchange`] frame, so a replay needs no server and
//! reproduces the log byte for byte. Identical requests (same role, body and sample index)
//! within a timestep share one call (content-addressed); the counters say how many calls that
//! saved.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tokio::sync::Semaphore;

use super::client::ChatBackend;
pub use super::exchange::Ask;
use super::exchange::Attempts;
use super::pool::Pool;
use super::recording::Source;
use super::reply::{CallError, ChatReply};
use super::request;
pub use super::request::Settings;
use super::retry;
use super::stats::{LiveWindow, LlmStats, RoleStats, UNUSABLE_ANSWER};
use crate::frames::{EndpointEvent, ExchangeOutcome, LlmExchange};

/// The prefix of per-model counts in a snapshot's map of counts.
pub const MODEL_KEY: &str = "model:";

type SharedCall = Shared<BoxFuture<'static, Attempts>>;

/// What a call produced.
pub struct Answer {
    pub reply: Result<ChatReply, CallError>,
    /// A server was asked (not a recording).
    pub live: bool,
    pub exchanges: Vec<LlmExchange>,
    pub next_attempt: u32,
    /// A replay that cannot continue (the request differs from the recording).
    pub fatal: Option<String>,
}

/// The gateway (shared by every agent of a run).
pub struct LlmGateway {
    settings: Settings,
    source: Source,
    semaphore: Arc<Semaphore>,
    /// The endpoint pools' health and counts, pool 0 being `llm.base_url` (none in a replay,
    /// which asks no server).
    pools: Vec<Pool>,
    /// Counts per model of a mixed population.
    by_model: Mutex<BTreeMap<String, RoleStats>>,
    cache: Mutex<(u64, BTreeMap<[u8; 32], SharedCall>)>,
    stats: Mutex<BTreeMap<String, RoleStats>>,
    live: Mutex<LiveWindow>,
    /// Answering models already warned about (one warning each).
    warned_models: Mutex<std::collections::BTreeSet<String>>,
}

impl LlmGateway {
    pub fn new(settings: Settings, source: Source) -> Arc<Self> {
        Arc::new(LlmGateway {
            semaphore: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            pools: match &source {
                Source::Replay(_) => Vec::new(),
                Source::Live(_) | Source::Resume(..) => request::pools_of(&settings),
            },
            by_model: Mutex::new(BTreeMap::new()),
            settings,
            source,
            cache: Mutex::new((u64::MAX, BTreeMap::new())),
            stats: Mutex::new(BTreeMap::new()),
            live: Mutex::new(LiveWindow::default()),
            warned_models: Mutex::new(std::collections::BTreeSet::new()),
        })
    }

    /// Takes the run's endpoint `endpoint`, dead at start, out of every pool that has it.
    pub fn dead_at_start(&self, endpoint: usize, why: String) {
        for p in &self.pools {
            if let Some(local) = p.local(endpoint) {
                p.dead_at_start(local, why.clone());
            }
        }
    }

    /// The endpoint ejections and returns to log with step `step`: those recorded for it
    /// when the step is answered from a recording (a replay re-logs them without their
    /// happening again), else those seen live since the last call.
    pub fn endpoint_events(&self, step: u64) -> Vec<EndpointEvent> {
        let recorded = match &self.source {
            Source::Replay(r) => return r.endpoint_events_at(step),
            Source::Resume(r, _) if r.covers(step) => Some(r.endpoint_events_at(step)),
            _ => None,
        };
        // Live changes wait for the first step the recording does not hold.
        recorded.unwrap_or_else(|| self.pools.iter().flat_map(|p| p.drain(step)).collect())
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// True when answers come from a recording.
    pub fn replaying(&self) -> bool {
        matches!(self.source, Source::Replay(_))
    }

    /// The attempts of one request sent to pool `pool` (see [`retry::send`]), as a future
    /// that owns what it needs, so identical requests can share it.
    fn live_call(
        self: &Arc<Self>,
        backend: Arc<dyn ChatBackend>,
        agent: u64,
        pool: usize,
        body: Arc<str>,
    ) -> BoxFuture<'static, Attempts> {
        let gw = Arc::clone(self);
        Box::pin(async move {
            retry::send(
                &*backend,
                &gw.pools[pool],
                &gw.semaphore,
                &gw.settings,
                agent,
                body,
            )
            .await
        })
    }

    /// Sends one request (with transport retries) and returns its outcome and exchange records.
    pub async fn call(self: &Arc<Self>, ask: &Ask) -> Answer {
        let resolved = request::resolve(&self.settings, ask);
        let body: Arc<str> = request::body(ask, &resolved, self.settings.seed).into();
        let hash = request::sha256_hex(body.as_bytes());
        let key = request::cache_key(ask, &hash);

        let (shared, first) = {
            let mut cache = self.cache.lock().expect("the cache lock is never poisoned");
            // The cache spans one timestep: identical requests of the same step share a call.
            if cache.0 != ask.step {
                cache.0 = ask.step;
                cache.1.clear();
            }
            match cache.1.get(&key) {
                Some(s) => (s.clone(), false),
                None => {
                    let fut: BoxFuture<'static, Attempts> = match &self.source {
                        Source::Live(backend) => self.live_call(
                            Arc::clone(backend),
                            ask.agent,
                            resolved.pool,
                            Arc::clone(&body),
                        ),
                        Source::Replay(recording) => {
                            let attempts = recording.replay(ask, &hash, self.settings.max_retries);
                            Box::pin(async move { attempts })
                        }
                        Source::Resume(recording, backend) => {
                            if recording.has(ask.role, ask.agent, ask.step, ask.attempt) {
                                let attempts =
                                    recording.replay(ask, &hash, self.settings.max_retries);
                                Box::pin(async move { attempts })
                            } else {
                                self.live_call(
                                    Arc::clone(backend),
                                    ask.agent,
                                    resolved.pool,
                                    Arc::clone(&body),
                                )
                            }
                        }
                    };
                    let s = fut.shared();
                    cache.1.insert(key, s.clone());
                    (s, true)
                }
            }
        };
        let span = tracing::debug_span!(
            "llm_request",
            role = ask.role,
            agent = ask.agent,
            step = ask.step,
            attempt = ask.attempt
        );
        let attempts = tracing::Instrument::instrument(shared, span.clone()).await;
        span.in_scope(|| {
            tracing::debug!(
                attempts = attempts.outcomes.len(),
                failed = attempts.outcomes.iter().filter(|o| o.is_err()).count(),
                shared = !first,
                "answered"
            );
        });

        let mut role_stats = RoleStats::default();
        if first {
            role_stats.requests = attempts.outcomes.len() as u64;
            role_stats.retries = attempts.outcomes.len().saturating_sub(1) as u64;
            for o in attempts.outcomes.iter().flatten() {
                role_stats.prompt_tokens = role_stats.prompt_tokens.saturating_add(o.prompt_tokens);
                role_stats.completion_tokens = role_stats
                    .completion_tokens
                    .saturating_add(o.completion_tokens);
                role_stats.cached_tokens = role_stats.cached_tokens.saturating_add(o.cached_tokens);
                if let Some(m) = &o.model
                    && !same_model(resolved.model, m)
                {
                    role_stats.model_mismatches += 1;
                    if attempts.live {
                        self.warn_model(m);
                    }
                }
            }
        } else {
            role_stats.cache_hits = 1;
        }
        self.record(ask.role, ask.agent, &role_stats);

        let messages = self.settings.log_prompts.then(|| ask.messages.clone());
        let exchanges: Vec<LlmExchange> = attempts
            .outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| LlmExchange {
                role: ask.role.to_string(),
                agent: ask.agent,
                step: ask.step,
                attempt: ask.attempt + i as u32,
                request_sha256: hash.clone(),
                // The model that answered, as the server named it (else the requested one).
                model: match o {
                    Ok(ChatReply { model: Some(m), .. }) => m.clone(),
                    _ => resolved.model.to_string(),
                },
                temperature: resolved.temperature,
                max_tokens: resolved.max_tokens,
                messages: messages.clone(),
                outcome: match o {
                    Ok(r) if r.cached_tokens > 0 => ExchangeOutcome::CachedResponse {
                        text: r.text.clone(),
                        prompt_tokens: r.prompt_tokens,
                        completion_tokens: r.completion_tokens,
                        cached_tokens: r.cached_tokens,
                    },
                    Ok(r) => ExchangeOutcome::Response {
                        text: r.text.clone(),
                        prompt_tokens: r.prompt_tokens,
                        completion_tokens: r.completion_tokens,
                    },
                    Err(e) => ExchangeOutcome::Failed {
                        kind: e.kind(),
                        message: e.message(),
                    },
                },
            })
            .collect();
        let reply = attempts
            .outcomes
            .last()
            .cloned()
            .unwrap_or(Err(CallError::BadResponse("no attempt was made".into())));
        Answer {
            next_attempt: ask.attempt + attempts.outcomes.len() as u32,
            live: attempts.live,
            reply,
            exchanges,
            fatal: attempts.fatal,
        }
    }

    /// Asks, parses, and re-asks with the parser's complaint until an answer is usable or the
    /// re-asks run out; then `None` (the caller's documented fallback), counted in `fallbacks`.
    pub async fn ask_parsed<T>(
        self: &Arc<Self>,
        mut ask: Ask,
        parse: impl Fn(&str) -> Result<T, String>,
        format_hint: &str,
    ) -> Parsed<T> {
        let mut exchanges = Vec::new();
        let mut live = false;
        // Why the last answer was not used: (cause, message).
        let mut failure = (String::new(), String::new());
        for reask in 0..=self.settings.max_reasks {
            let answer = self.call(&ask).await;
            exchanges.extend(answer.exchanges);
            live |= answer.live;
            if answer.fatal.is_some() {
                return Parsed {
                    value: None,
                    exchanges,
                    next_attempt: answer.next_attempt,
                    fatal: answer.fatal,
                };
            }
            let problem = match answer.reply {
                Ok(reply) => match parse(&reply.text) {
                    Ok(v) => {
                        self.decided(ask.role, ask.agent, live, None);
                        return Parsed {
                            value: Some(v),
                            exchanges,
                            next_attempt: answer.next_attempt,
                            fatal: None,
                        };
                    }
                    Err(why) => Some((reply.text, why)),
                },
                // The transport gave up (retries exhausted or a non-retryable error).
                Err(e) => {
                    failure = (e.kind(), e.message());
                    None
                }
            };
            let Some((text, why)) = problem else { break };
            failure = (UNUSABLE_ANSWER.to_string(), why.clone());
            if reask == self.settings.max_reasks {
                break;
            }
            self.record(
                ask.role,
                ask.agent,
                &RoleStats {
                    retries: 1,
                    ..RoleStats::default()
                },
            );
            ask.attempt = answer.next_attempt;
            ask.messages.push(("assistant".into(), text));
            ask.messages.push((
                "user".into(),
                format!(
                    "That answer could not be used: {why}. Reply again with only {format_hint}."
                ),
            ));
        }
        self.decided(ask.role, ask.agent, live, Some(failure));
        let next_attempt = exchanges.last().map_or(ask.attempt, |e| e.attempt + 1);
        Parsed {
            value: None,
            exchanges,
            next_attempt,
            fatal: None,
        }
    }

    /// Counts one decision of `role`, and its fallback (cause and message) if it fell back.
    fn decided(&self, role: &str, agent: u64, live: bool, fallback: Option<(String, String)>) {
        let mut s = RoleStats {
            decisions: 1,
            ..RoleStats::default()
        };
        if let Some((cause, _)) = &fallback {
            s.fallbacks = 1;
            s.fallback_causes.insert(cause.clone(), 1);
        }
        self.record(role, agent, &s);
        if live {
            self.live
                .lock()
                .expect("the window lock is never poisoned")
                .decided(fallback);
        }
    }

    fn warn_model(&self, answered: &str) {
        let mut warned = self
            .warned_models
            .lock()
            .expect("the warning lock is never poisoned");
        if warned.insert(answered.to_string()) {
            tracing::warn!(
                requested = %self.settings.model,
                answered,
                "the LLM server answered with another model than the one requested (llm.model); \
                 such answers are counted in llm.model_mismatches"
            );
        }
    }

    fn record(&self, role: &str, agent: u64, s: &RoleStats) {
        let mut stats = self.stats.lock().expect("the stats lock is never poisoned");
        stats.entry(role.to_string()).or_default().add(s);
        drop(stats);
        if !crate::frames::is_planner_agent(agent)
            && role != "planner"
            && let Some((model, _)) = self.settings.routes.worker_model(agent)
        {
            let mut by_model = self
                .by_model
                .lock()
                .expect("the stats lock is never poisoned");
            by_model.entry(model.clone()).or_default().add(s);
        }
    }

    /// Puts back the counts a snapshot kept (a resumed run counts on from them, so its totals
    /// and budget are the uninterrupted run's). The per-model counts of a mixed population
    /// ride in the same map under [`MODEL_KEY`]-prefixed keys (see [`Self::snapshot_counts`]).
    pub fn restore_stats(&self, by_role: BTreeMap<String, RoleStats>) {
        let (by_model, by_role): (BTreeMap<_, _>, BTreeMap<_, _>) = by_role
            .into_iter()
            .partition(|(k, _)| k.starts_with(MODEL_KEY));
        *self.stats.lock().expect("the stats lock is never poisoned") = by_role;
        *self
            .by_model
            .lock()
            .expect("the stats lock is never poisoned") = by_model
            .into_iter()
            .map(|(k, v)| (k[MODEL_KEY.len()..].to_string(), v))
            .collect();
    }

    /// The counts a snapshot keeps: by role, and by model under [`MODEL_KEY`]-prefixed keys
    /// (no role name starts so), so snapshots keep their format.
    pub fn snapshot_counts(&self) -> BTreeMap<String, RoleStats> {
        let mut all = self
            .stats
            .lock()
            .expect("the stats lock is never poisoned")
            .clone();
        for (model, s) in self
            .by_model
            .lock()
            .expect("the stats lock is never poisoned")
            .iter()
        {
            all.insert(format!("{MODEL_KEY}{model}"), s.clone());
        }
        all
    }

    /// Counts so far.
    pub fn stats(&self) -> LlmStats {
        let by_role = self
            .stats
            .lock()
            .expect("the stats lock is never poisoned")
            .clone();
        let mut totals = RoleStats::default();
        for s in by_role.values() {
            totals.add(s);
        }
        LlmStats {
            totals,
            by_role,
            endpoints: self.pools.iter().flat_map(|p| p.stats()).collect(),
            by_model: self
                .by_model
                .lock()
                .expect("the stats lock is never poisoned")
                .clone(),
        }
    }

    /// Why the run must stop, checked between steps (so a stopped run's log ends on a whole
    /// step): a spent budget, or too many recent decisions that fell back. Ends the step's
    /// tally of live decisions, so call it once after each step.
    pub fn halt_reason(&self) -> Option<String> {
        let t = self.stats().totals;
        let s = &self.settings;
        // A replay pays for nothing, and the log it re-executes may have been continued past
        // its header's budget (`resume --set llm.budget_requests=...`).
        let replaying = self.replaying();
        if !replaying && s.budget_requests > 0 && t.requests >= s.budget_requests {
            return Some(format!(
                "the request budget is spent ({} of llm.budget_requests = {})",
                t.requests, s.budget_requests
            ));
        }
        let tokens = t.prompt_tokens.saturating_add(t.completion_tokens);
        if !replaying && s.budget_tokens > 0 && tokens >= s.budget_tokens {
            return Some(format!(
                "the token budget is spent ({tokens} of llm.budget_tokens = {})",
                s.budget_tokens
            ));
        }
        self.live
            .lock()
            .expect("the window lock is never poisoned")
            .judge(self.settings.max_fallback_share)
    }
}

/// Whether the model a server names is the one requested: the same name, or the name with a
/// version suffix ("gpt-4o" answered as "gpt-4o-2024-08-06", "llama3" as "llama3:latest").
pub fn same_model(requested: &str, answered: &str) -> bool {
    answered == requested
        || answered
            .strip_prefix(requested)
            .is_some_and(|rest| rest.starts_with(['-', ':', '@']))
}

/// A parsed answer (or none, after the fallback).
pub struct Parsed<T> {
    pub value: Option<T>,
    pub exchanges: Vec<LlmExchange>,
    pub next_attempt: u32,
    pub fatal: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::ResponseFormat;
    use crate::llm::Recording;
    use crate::llm::models::Routes;
    use crate::llm::pool::PoolSettings;

    fn gateway(max_fallback_share: f64) -> Arc<LlmGateway> {
        LlmGateway::new(
            Settings {
                model: "m".into(),
                temperature: 0.0,
                response_format: ResponseFormat::Text,
                seed: 0,
                max_retries: 0,
                backoff_ms: 0,
                max_reasks: 0,
                log_prompts: false,
                budget_requests: 0,
                budget_tokens: 0,
                max_fallback_share,
                concurrency: 1,
                pool: PoolSettings {
                    base_urls: vec!["http://127.0.0.1:8000/v1".into()],
                    weights: Vec::new(),
                    eject_after: 3,
                    cooldown: Duration::from_secs(30),
                    endpoint_concurrency: 0,
                    global: Vec::new(),
                },
                routes: Routes::default(),
                retry_after_cap: Duration::from_secs(60),
            },
            Source::Replay(Recording::default()),
        )
    }

    /// Plays `steps` steps of `per_step` live decisions; decision `i` (counted over the whole
    /// run) falls back when `fails(i)`. Returns the step after which the run stopped.
    fn stop_step(
        g: &LlmGateway,
        steps: u64,
        per_step: u64,
        fails: impl Fn(u64) -> bool,
    ) -> Option<u64> {
        for step in 0..steps {
            for k in 0..per_step {
                let failed = fails(step * per_step + k);
                g.decided(
                    "worker",
                    0,
                    true,
                    failed.then(|| ("connection".to_string(), "refused".to_string())),
                );
            }
            if g.halt_reason().is_some() {
                return Some(step);
            }
        }
        None
    }

    #[test]
    fn the_fallback_share_stops_a_dead_server_early_and_spares_a_flaky_one() {
        // No server: 100 workers stop after the first step, 5 workers after the second.
        assert_eq!(stop_step(&gateway(0.2), 50, 100, |_| true), Some(0));
        assert_eq!(stop_step(&gateway(0.2), 50, 5, |_| true), Some(1));
        // One decision in 30 falls back (a third of answers garbled, two re-asks): never.
        assert_eq!(stop_step(&gateway(0.2), 1000, 5, |i| i % 30 == 0), None);
        // A server that dies at step 500 of a 5-worker run stops it within 20 steps: the
        // share is of the last 100 decisions, not of the whole run.
        let died = stop_step(&gateway(0.2), 1000, 5, |i| i >= 2500).unwrap();
        assert!((500..520).contains(&died), "{died}");
        // 1 = never stop; the reason names the cause and its message.
        assert_eq!(stop_step(&gateway(1.0), 50, 100, |_| true), None);
        let g = gateway(0.2);
        stop_step(&g, 1, 100, |_| true);
        let t = g.stats().totals;
        assert_eq!((t.decisions, t.fallbacks), (100, 100));
        assert_eq!(t.fallback_causes["connection"], 100);
    }

    #[test]
    fn decisions_from_a_recording_are_counted_but_not_judged() {
        let g = gateway(0.2);
        for _ in 0..200 {
            g.decided("worker", 0, false, Some(("timeout".into(), String::new())));
        }
        assert_eq!(g.halt_reason(), None);
        assert_eq!(g.stats().totals.fallbacks, 200);
        let line = g.stats().report_line();
        assert!(
            line.contains("200 fell back") && line.contains("200 timeout"),
            "{line}"
        );
    }

    #[test]
    fn answering_models_match_with_a_version_suffix_only() {
        assert!(same_model("gpt-4o", "gpt-4o"));
        assert!(same_model("gpt-4o", "gpt-4o-2024-08-06"));
        assert!(same_model("llama3", "llama3:latest"));
        assert!(!same_model("gpt-4o", "gpt-4o2"));
        assert!(!same_model("gpt-4o", "llama3"));
    }
}
