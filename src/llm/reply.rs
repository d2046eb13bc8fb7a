//! What a chat-completions call gives back: the reply, the classes of failure (which of them
//! are retried), and reading a response. Responses are read tolerantly, because compatible
//! servers differ in small ways (`finish_reason: null`, missing `usage`), but the numbers that
//! feed the accounting are validated and the answer's text is capped.

use std::time::Duration;

use serde_json::Value;

/// Most bytes of one answer's text that are kept (used, stored in the log, and re-sent in a
/// re-ask); the rest is cut at a character boundary.
pub const MAX_ANSWER_BYTES: usize = 64 << 10;
/// Largest token count a server may report for one request; more is a bad response (a
/// counter near 2^64 would otherwise wrap the run's totals and defeat `llm.budget_tokens`).
pub const MAX_TOKEN_COUNT: u64 = u32::MAX as u64;
/// Characters of a server's error body or unparsable response kept in a failure message.
const PREVIEW_CHARS: usize = 200;

/// What a successful call returned.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatReply {
    pub text: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens served from the server's prefix cache, when it says.
    pub cached_tokens: u64,
    /// The model the server says answered (`model` of the response), if it said.
    pub model: Option<String>,
}

/// Why a call failed. `retryable` ones are tried again with backoff.
#[derive(Clone, Debug, PartialEq)]
pub enum CallError {
    Timeout,
    /// `retry_after`: how long the server asked to wait (its `Retry-After` on 429 and 503).
    Http {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    Connection(String),
    BadResponse(String),
}

impl CallError {
    /// Rate limits, server errors, timeouts, dropped connections and garbled responses are
    /// worth another try; other client errors (400, 401, 404) are not.
    pub fn retryable(&self) -> bool {
        match self {
            CallError::Http { status, .. } => *status == 429 || *status >= 500,
            _ => true,
        }
    }

    /// A short label for logs and counters.
    pub fn kind(&self) -> String {
        match self {
            CallError::Timeout => "timeout".into(),
            CallError::Http { status, .. } => format!("http {status}"),
            CallError::Connection(_) => "connection".into(),
            CallError::BadResponse(_) => "bad response".into(),
        }
    }

    pub fn message(&self) -> String {
        match self {
            CallError::Timeout => "no answer within the timeout".into(),
            CallError::Http { message, .. }
            | CallError::Connection(message)
            | CallError::BadResponse(message) => message.clone(),
        }
    }

    pub(super) fn map_message(self, f: impl Fn(String) -> String) -> CallError {
        match self {
            CallError::Timeout => CallError::Timeout,
            CallError::Http {
                status,
                message,
                retry_after,
            } => CallError::Http {
                status,
                message: f(message),
                retry_after,
            },
            CallError::Connection(m) => CallError::Connection(f(m)),
            CallError::BadResponse(m) => CallError::BadResponse(f(m)),
        }
    }
}

/// The first characters of a body, for a failure message.
pub(super) fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4 * PREVIEW_CHARS)]);
    let mut shown: String = text.chars().take(PREVIEW_CHARS).collect();
    if bytes.len() > shown.len() {
        shown.push('…');
    }
    shown
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cap_text(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Reads the first choice's text, the token usage and the answering model from a
/// chat-completions response. A missing `usage` counts 0 tokens; a present but implausible
/// count (negative, fractional, above [`MAX_TOKEN_COUNT`]) makes the response a bad one.
pub fn read_reply(response: &Value) -> Result<ChatReply, CallError> {
    let text = response
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .or_else(|| response.pointer("/choices/0/text").and_then(Value::as_str))
        .ok_or_else(|| {
            CallError::BadResponse("the response has no choices[0].message.content".into())
        })?;
    let tokens = |key: &str| match response.pointer(&format!("/usage/{}", key.replace('.', "/"))) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v.as_u64().filter(|n| *n <= MAX_TOKEN_COUNT).ok_or_else(|| {
            CallError::BadResponse(format!(
                "usage.{key} = {} is not a token count (a whole number up to {MAX_TOKEN_COUNT})",
                preview(v.to_string().as_bytes())
            ))
        }),
    };
    let model = response
        .get("model")
        .and_then(Value::as_str)
        .map(|m| cap_text(m.to_string(), 200));
    Ok(ChatReply {
        text: cap_text(text.to_string(), MAX_ANSWER_BYTES),
        prompt_tokens: tokens("prompt_tokens")?,
        completion_tokens: tokens("completion_tokens")?,
        cached_tokens: tokens("prompt_tokens_details.cached_tokens")?,
        model,
    })
}

/// A `Retry-After` value: whole (or fractional) seconds, or an HTTP date (as seen at `now`; a
/// date in the past is no wait). Anything else is ignored, as if the header were absent.
pub fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_content_and_usage_tolerantly() {
        let r = read_reply(&json!({
            "choices": [{"message": {"content": "{\"LABOR\": 40}"}, "finish_reason": null}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 3}
        }))
        .unwrap();
        assert_eq!(r.text, "{\"LABOR\": 40}");
        assert_eq!((r.prompt_tokens, r.completion_tokens), (12, 3));
        assert_eq!(r.cached_tokens, 0);
        let cached = read_reply(&json!({
            "choices": [{"message": {"content": "x"}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 3,
                      "prompt_tokens_details": {"cached_tokens": 8}}
        }))
        .unwrap();
        assert_eq!(cached.cached_tokens, 8);
        let bad = read_reply(&json!({
            "choices": [{"message": {"content": "x"}}],
            "usage": {"prompt_tokens_details": {"cached_tokens": -8}}
        }))
        .unwrap_err();
        assert!(
            bad.message()
                .contains("usage.prompt_tokens_details.cached_tokens"),
            "{bad:?}"
        );
        let no_usage = read_reply(&json!({"choices": [{"message": {"content": "x"}}]})).unwrap();
        assert_eq!(no_usage.prompt_tokens, 0);
        assert_eq!(no_usage.model, None);
        assert!(read_reply(&json!({"choices": []})).is_err());
    }

    #[test]
    fn token_counts_are_validated_and_answers_capped() {
        let with_usage = |usage: Value| {
            read_reply(
                &json!({"model": "m-1", "choices": [{"message": {"content": "x"}}],
                               "usage": usage}),
            )
        };
        let ok = with_usage(json!({"prompt_tokens": 7, "completion_tokens": 2})).unwrap();
        assert_eq!(ok.model.as_deref(), Some("m-1"));
        for bad in [
            json!({"prompt_tokens": u64::MAX, "completion_tokens": 2}),
            json!({"prompt_tokens": -1, "completion_tokens": 2}),
            json!({"prompt_tokens": 1.5, "completion_tokens": 2}),
            json!({"prompt_tokens": 1, "completion_tokens": "lots"}),
        ] {
            let err = with_usage(bad.clone()).unwrap_err();
            assert_eq!(err.kind(), "bad response", "{bad}");
            assert!(err.message().contains("not a token count"), "{err:?}");
        }
        let long = "é".repeat(MAX_ANSWER_BYTES);
        let r = read_reply(&json!({"choices": [{"message": {"content": long}}]})).unwrap();
        assert!(r.text.len() <= MAX_ANSWER_BYTES && r.text.len() > MAX_ANSWER_BYTES - 2);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(" 1.5 ", now), Some(Duration::from_millis(1500)));
        // RFC 9110's example date, 30 s after `now`; a past date is no wait.
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-3", now), None);
    }

    #[test]
    fn retry_classes() {
        assert!(
            CallError::Http {
                status: 429,
                message: String::new(),
                retry_after: None,
            }
            .retryable()
        );
        assert!(
            CallError::Http {
                status: 503,
                message: String::new(),
                retry_after: None,
            }
            .retryable()
        );
        assert!(
            !CallError::Http {
                status: 401,
                message: String::new(),
                retry_after: None,
            }
            .retryable()
        );
        assert!(CallError::Timeout.retryable());
    }
}
