//! The types the gateway and the recording share: one logical request ([`Ask`]) and the
//! attempts a call made for it ([`Attempts`]), whether a server or a recording answered them.
//! They sit below both so that the gateway may use the recording without a loop.

use serde_json::Value;

use super::reply::{CallError, ChatReply};

/// One logical request.
pub struct Ask {
    pub role: &'static str,
    pub agent: u64,
    pub step: u64,
    /// The attempt number of this request's first try (re-asks continue the count).
    pub attempt: u32,
    /// Distinguishes otherwise identical requests that must be sampled separately (the agent
    /// id, unless agents are meant to share answers).
    pub sample: u64,
    pub messages: Vec<(String, String)>,
    pub max_tokens: u32,
    /// The JSON schema of the expected answer (used with `response_format = "json-schema"`).
    pub schema: Value,
}

impl Ask {
    /// A request's first attempt, sampled for `agent` alone (no sharing across agents).
    pub fn first(
        role: &'static str,
        agent: u64,
        step: u64,
        messages: Vec<(String, String)>,
        max_tokens: u32,
        schema: Value,
    ) -> Ask {
        Ask {
            role,
            agent,
            step,
            attempt: 0,
            sample: agent,
            messages,
            max_tokens,
            schema,
        }
    }
}

/// The attempts of one call, as they happened (shared by identical requests).
#[derive(Clone, Debug)]
pub(super) struct Attempts {
    pub(super) outcomes: Vec<Result<ChatReply, CallError>>,
    /// A server was asked (not a recording).
    pub(super) live: bool,
    /// Set in replay mode when the recording cannot answer: the run must stop.
    pub(super) fatal: Option<String>,
}
