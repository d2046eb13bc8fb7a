//! A run's recorded LLM exchanges and how a replay (or the recorded part of a resume) answers
//! from them: attempt k of (role, agent, step) is served from the frame recorded for it, after
//! checking that the request it would send hashes to the recorded hash.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::client::ChatBackend;
use super::exchange::{Ask, Attempts};
use super::reply::{CallError, ChatReply};
use crate::frames::{EndpointEvent, ExchangeOutcome, LlmExchange};

/// The recorded exchanges of a run, by (role, agent, step, attempt).
#[derive(Default)]
pub struct Recording {
    exchanges: BTreeMap<(String, u64, u64, u32), LlmExchange>,
    /// The endpoint ejections and returns logged, by step.
    endpoint_events: BTreeMap<u64, Vec<EndpointEvent>>,
    /// Steps `0..covered` are answered from the recording in a resume or a fork's prefix.
    covered: u64,
}

impl Recording {
    pub fn new(exchanges: impl IntoIterator<Item = LlmExchange>) -> Self {
        Recording {
            exchanges: exchanges
                .into_iter()
                .map(|e| ((e.role.clone(), e.agent, e.step, e.attempt), e))
                .collect(),
            endpoint_events: BTreeMap::new(),
            covered: 0,
        }
    }

    /// Adds the endpoint events the log holds for steps `0..covered` (the steps a resume or a
    /// fork re-executes from the log), to be logged again as they were.
    pub fn with_endpoint_events(
        mut self,
        events: impl IntoIterator<Item = EndpointEvent>,
        covered: u64,
    ) -> Self {
        for e in events.into_iter().filter(|e| e.step < covered) {
            self.endpoint_events.entry(e.step).or_default().push(e);
        }
        self.covered = covered;
        self
    }

    pub(super) fn endpoint_events_at(&self, step: u64) -> Vec<EndpointEvent> {
        self.endpoint_events.get(&step).cloned().unwrap_or_default()
    }

    pub(super) fn covers(&self, step: u64) -> bool {
        step < self.covered
    }

    pub fn len(&self) -> usize {
        self.exchanges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.exchanges.is_empty()
    }
}

/// Where answers come from.
pub enum Source {
    Live(Arc<dyn ChatBackend>),
    Replay(Recording),
    /// A resumed run: recorded answers for what was already asked, the server for the rest
    /// (no request is paid twice).
    Resume(Recording, Arc<dyn ChatBackend>),
}

impl Recording {
    pub(super) fn has(&self, role: &str, agent: u64, step: u64, attempt: u32) -> bool {
        self.exchanges
            .contains_key(&(role.to_string(), agent, step, attempt))
    }
}

impl Recording {
    /// Answers `ask` (whose request hashes to `hash`) as it was answered when recorded: the
    /// same attempts, after the same failures, under the same retry rule.
    pub(super) fn replay(&self, ask: &Ask, hash: &str, max_retries: u32) -> Attempts {
        let recording = self;
        let mut outcomes = Vec::new();
        for retry in 0..=max_retries {
            let key = (
                ask.role.to_string(),
                ask.agent,
                ask.step,
                ask.attempt + retry,
            );
            let Some(rec) = recording.exchanges.get(&key) else {
                return Attempts {
                    outcomes,
                    live: false,
                    fatal: Some(format!(
                        "the recording has no {} exchange for agent {} at step {} (attempt {}): the run diverged from the recording",
                        ask.role,
                        agent_label(ask.agent),
                        ask.step,
                        ask.attempt + retry
                    )),
                };
            };
            if rec.request_sha256 != hash {
                return Attempts {
                    outcomes,
                    live: false,
                    fatal: Some(format!(
                        "the {} request of agent {} at step {} (attempt {}) differs from the recorded one (sha256 {} vs recorded {})",
                        ask.role,
                        agent_label(ask.agent),
                        ask.step,
                        ask.attempt + retry,
                        &hash[..12],
                        &rec.request_sha256[..rec.request_sha256.len().min(12)]
                    )),
                };
            }
            let result = match &rec.outcome {
                ExchangeOutcome::Response {
                    text,
                    prompt_tokens,
                    completion_tokens,
                } => Ok(recorded_reply(
                    rec,
                    text,
                    *prompt_tokens,
                    *completion_tokens,
                    0,
                )),
                ExchangeOutcome::CachedResponse {
                    text,
                    prompt_tokens,
                    completion_tokens,
                    cached_tokens,
                } => Ok(recorded_reply(
                    rec,
                    text,
                    *prompt_tokens,
                    *completion_tokens,
                    *cached_tokens,
                )),
                ExchangeOutcome::Failed { kind, message } => Err(failure_from_log(kind, message)),
            };
            let again = matches!(&result, Err(e) if e.retryable()) && retry < max_retries;
            outcomes.push(result);
            if !again {
                break;
            }
        }
        Attempts {
            outcomes,
            live: false,
            fatal: None,
        }
    }
}

/// A recorded answer as the server gave it. The exchange records the answering model (the
/// requested one in logs written before it was recorded, or when the server named none).
fn recorded_reply(
    rec: &LlmExchange,
    text: &str,
    prompt_tokens: u64,
    completion_tokens: u64,
    cached_tokens: u64,
) -> ChatReply {
    ChatReply {
        text: text.to_string(),
        prompt_tokens,
        completion_tokens,
        cached_tokens,
        model: Some(rec.model.clone()),
    }
}

/// Rebuilds a failure from its logged kind (replay follows the same retry rule as the run).
fn failure_from_log(kind: &str, message: &str) -> CallError {
    if kind == "timeout" {
        CallError::Timeout
    } else if let Some(status) = kind.strip_prefix("http ").and_then(|s| s.parse().ok()) {
        CallError::Http {
            status,
            message: message.to_string(),
            retry_after: None,
        }
    } else if kind == "connection" {
        CallError::Connection(message.to_string())
    } else {
        CallError::BadResponse(message.to_string())
    }
}

fn agent_label(agent: u64) -> String {
    crate::frames::planner_label(agent).unwrap_or_else(|| agent.to_string())
}
