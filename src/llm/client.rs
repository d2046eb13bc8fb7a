//! The transport: one OpenAI-compatible chat-completions client per endpoint of the pool, and
//! the classification of what can go wrong.
//!
//! A plain reqwest POST rather than an OpenAI client library: the request body is built (and
//! hashed) by the gateway, and what matters here is what a library does not offer: reading the
//! response under a size cap (an endless chunked body must not grow memory), never printing a
//! body (async-openai logs whole bodies it cannot parse), and scrubbing the API key from
//! everything a server sends back. Responses are read tolerantly, because compatible servers
//! differ in small ways (`finish_reason: null`, missing `usage`), but the numbers that feed the
//! accounting are validated.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;

/// Most bytes of a response body read before the call is abandoned as a bad response. A
/// chat completion of `llm.max_tokens` tokens is a few kilobytes; 1 MiB holds an answer of
/// tens of thousands of tokens, and with `llm.concurrency` requests in flight (256 by
/// default) bounds what a hostile or broken server can make the run hold to 256 MiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;
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
    /// The model the server says answered (`model` of the response), if it said.
    pub model: Option<String>,
}

/// Why a call failed. `retryable` ones are tried again with backoff.
#[derive(Clone, Debug, PartialEq)]
pub enum CallError {
    Timeout,
    Http { status: u16, message: String },
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

    fn map_message(self, f: impl Fn(String) -> String) -> CallError {
        match self {
            CallError::Timeout => CallError::Timeout,
            CallError::Http { status, message } => CallError::Http {
                status,
                message: f(message),
            },
            CallError::Connection(m) => CallError::Connection(f(m)),
            CallError::BadResponse(m) => CallError::BadResponse(f(m)),
        }
    }
}

/// Sends one chat-completions request body to endpoint `endpoint` of the pool.
pub trait ChatBackend: Send + Sync {
    fn endpoints(&self) -> usize;
    /// `body` is the request as JSON text, already serialized once (for its hash).
    fn send(
        &self,
        endpoint: usize,
        body: Arc<str>,
    ) -> BoxFuture<'static, Result<ChatReply, CallError>>;
}

/// Replaces every occurrence of the API key in what a server sent back (a server may reflect
/// the request's headers into an error or an answer). Keys shorter than 8 characters are not
/// secrets worth the damage that replacing them everywhere would do to answers.
#[derive(Clone, Default)]
pub struct Redactor {
    key: Option<Arc<str>>,
}

impl Redactor {
    pub const MARK: &'static str = "[redacted]";

    pub fn new(key: Option<&str>) -> Redactor {
        Redactor {
            key: key.filter(|k| k.len() >= 8).map(Arc::from),
        }
    }

    pub fn scrub(&self, text: String) -> String {
        match &self.key {
            Some(k) if text.contains(&**k) => text.replace(&**k, Self::MARK),
            _ => text,
        }
    }
}

/// The real HTTP backend.
pub struct OpenAiBackend {
    http: reqwest::Client,
    urls: Vec<Arc<str>>,
    /// Read at run time, sent as a bearer token; never logged, never written.
    key: Option<Arc<str>>,
    redactor: Redactor,
    timeout: Duration,
}

impl OpenAiBackend {
    /// One endpoint per base URL. `api_key` is sent as a bearer token when given.
    pub fn new(base_urls: &[String], api_key: Option<String>, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(1024)
            .build()
            .unwrap_or_default();
        OpenAiBackend {
            http,
            urls: base_urls
                .iter()
                .map(|u| format!("{}/chat/completions", u.trim_end_matches('/')).into())
                .collect(),
            redactor: Redactor::new(api_key.as_deref()),
            key: api_key.map(Arc::from),
            timeout,
        }
    }
}

impl ChatBackend for OpenAiBackend {
    fn endpoints(&self) -> usize {
        self.urls.len()
    }

    fn send(
        &self,
        endpoint: usize,
        body: Arc<str>,
    ) -> BoxFuture<'static, Result<ChatReply, CallError>> {
        let url = Arc::clone(&self.urls[endpoint % self.urls.len()]);
        let (http, key, redactor, timeout) = (
            self.http.clone(),
            self.key.clone(),
            self.redactor.clone(),
            self.timeout,
        );
        Box::pin(async move {
            // The body goes out as the exact bytes that were hashed: no second serialization.
            let mut request = http
                .post(&*url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
            if let Some(k) = key {
                // Marked sensitive by reqwest: never shown in a Debug print.
                request = request.bearer_auth(&*k);
            }
            let call = async move {
                let mut response = request.send().await.map_err(classify)?;
                let status = response.status();
                let bytes = read_capped(&mut response, MAX_BODY_BYTES).await;
                if !status.is_success() {
                    let message = match bytes {
                        Ok(b) => error_message(&b),
                        Err(e) => e.message(),
                    };
                    return Err(CallError::Http {
                        status: status.as_u16(),
                        message,
                    });
                }
                let bytes = bytes?;
                let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                    CallError::BadResponse(format!(
                        "the response is not JSON ({e}): {}",
                        preview(&bytes)
                    ))
                })?;
                read_reply(&value)
            };
            let result = match tokio::time::timeout(timeout, call).await {
                Err(_) => Err(CallError::Timeout),
                Ok(r) => r,
            };
            match result {
                Ok(r) => Ok(ChatReply {
                    text: redactor.scrub(r.text),
                    model: r.model.map(|m| redactor.scrub(m)),
                    ..r
                }),
                Err(e) => Err(e.map_message(|m| redactor.scrub(m))),
            }
        })
    }
}

/// Reads a body chunk by chunk, giving up past `cap` bytes (memory stays bounded whatever
/// the server sends).
async fn read_capped(response: &mut reqwest::Response, cap: usize) -> Result<Vec<u8>, CallError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > cap {
            return Err(CallError::BadResponse(format!(
                "the response body exceeds {cap} bytes; it was not read further"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The first characters of a body, for a failure message.
fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4 * PREVIEW_CHARS)]);
    let mut shown: String = text.chars().take(PREVIEW_CHARS).collect();
    if bytes.len() > shown.len() {
        shown.push('…');
    }
    shown
}

/// An error response's message: OpenAI's `{"error": {"message": ...}}`, else the body's start.
fn error_message(bytes: &[u8]) -> String {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .map(|m| preview(m.as_bytes()))
        .unwrap_or_else(|| preview(bytes))
}

fn classify(e: reqwest::Error) -> CallError {
    let message = preview(e.to_string().as_bytes());
    if e.is_timeout() {
        CallError::Timeout
    } else if let Some(status) = e.status() {
        CallError::Http {
            status: status.as_u16(),
            message,
        }
    } else if e.is_decode() || e.is_body() {
        CallError::BadResponse(message)
    } else {
        CallError::Connection(message)
    }
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
    let tokens = |key: &str| match response.pointer(&format!("/usage/{key}")) {
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
        model,
    })
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
    fn the_key_is_scrubbed_and_short_keys_are_left_alone() {
        let r = Redactor::new(Some("sk-secret-123"));
        assert_eq!(
            r.scrub("authorization: Bearer sk-secret-123".into()),
            "authorization: Bearer [redacted]"
        );
        assert_eq!(Redactor::new(Some("x")).scrub("xx".into()), "xx");
        assert_eq!(Redactor::new(None).scrub("a".into()), "a");
    }

    #[test]
    fn retry_classes() {
        assert!(
            CallError::Http {
                status: 429,
                message: String::new()
            }
            .retryable()
        );
        assert!(
            CallError::Http {
                status: 503,
                message: String::new()
            }
            .retryable()
        );
        assert!(
            !CallError::Http {
                status: 401,
                message: String::new()
            }
            .retryable()
        );
        assert!(CallError::Timeout.retryable());
    }
}
