//! The transport: one OpenAI-compatible chat-completions client per endpoint of the pool
//! (async-openai with a configurable base URL), and the classification of what can go wrong.
//!
//! Requests and responses go through async-openai's "bring your own types" path as plain JSON:
//! the request is built (and hashed) by the gateway, and the response is read tolerantly,
//! because compatible servers differ in small ways (`finish_reason: null`, missing `usage`).

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::ReqwestService;
use futures::future::BoxFuture;
use std::sync::Arc;

use serde_json::Value;
use serde_json::value::RawValue;

/// What a successful call returned.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatReply {
    pub text: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
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

/// The real HTTP backend.
pub struct OpenAiBackend {
    clients: Vec<Client<OpenAIConfig>>,
    timeout: Duration,
}

impl OpenAiBackend {
    /// One client per base URL. `api_key` is sent as a bearer token when given.
    pub fn new(base_urls: &[String], api_key: Option<String>, timeout: Duration) -> Self {
        let clients = base_urls
            .iter()
            .map(|url| {
                let config = OpenAIConfig::new()
                    .with_api_base(url.trim_end_matches('/'))
                    .with_api_key(api_key.clone().unwrap_or_default());
                let http = reqwest::Client::builder()
                    .timeout(timeout)
                    .pool_max_idle_per_host(1024)
                    .build()
                    .unwrap_or_default();
                // async-openai's default executor retries 429/5xx by itself, unseen; a plain
                // service keeps every attempt visible to the gateway, which logs and counts it.
                Client::with_config(config).with_http_service(ReqwestService::new(http))
            })
            .collect();
        OpenAiBackend { clients, timeout }
    }
}

impl ChatBackend for OpenAiBackend {
    fn endpoints(&self) -> usize {
        self.clients.len()
    }

    fn send(
        &self,
        endpoint: usize,
        body: Arc<str>,
    ) -> BoxFuture<'static, Result<ChatReply, CallError>> {
        let client = self.clients[endpoint % self.clients.len()].clone();
        let timeout = self.timeout;
        Box::pin(async move {
            // The body goes out as the exact bytes that were hashed: no second serialization.
            let raw = RawValue::from_string(body.to_string())
                .map_err(|e| CallError::BadResponse(format!("request body is not JSON: {e}")))?;
            let chat = client.chat();
            let call = chat.create_byot::<Box<RawValue>, Value>(raw);
            match tokio::time::timeout(timeout, call).await {
                Err(_) => Err(CallError::Timeout),
                Ok(Err(e)) => Err(classify(e)),
                Ok(Ok(response)) => read_reply(&response),
            }
        })
    }
}

fn classify(e: OpenAIError) -> CallError {
    match e {
        OpenAIError::ApiError(api) => CallError::Http {
            status: api.status_code.as_u16(),
            message: api.api_error.message.clone(),
        },
        OpenAIError::Reqwest(e) => {
            if e.is_timeout() {
                CallError::Timeout
            } else if let Some(status) = e.status() {
                CallError::Http {
                    status: status.as_u16(),
                    message: e.to_string(),
                }
            } else if e.is_decode() || e.is_body() {
                CallError::BadResponse(e.to_string())
            } else {
                CallError::Connection(e.to_string())
            }
        }
        OpenAIError::JSONDeserialize(err, content) => {
            let mut shown: String = content.chars().take(200).collect();
            if content.len() > shown.len() {
                shown.push('…');
            }
            CallError::BadResponse(format!("{err}: {shown}"))
        }
        other => CallError::BadResponse(other.to_string()),
    }
}

/// Reads the first choice's text and the token usage from a chat-completions response.
pub fn read_reply(response: &Value) -> Result<ChatReply, CallError> {
    let text = response
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .or_else(|| response.pointer("/choices/0/text").and_then(Value::as_str))
        .ok_or_else(|| {
            CallError::BadResponse("the response has no choices[0].message.content".into())
        })?;
    let tokens = |key: &str| {
        response
            .pointer(&format!("/usage/{key}"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Ok(ChatReply {
        text: text.to_string(),
        prompt_tokens: tokens("prompt_tokens"),
        completion_tokens: tokens("completion_tokens"),
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
        assert!(read_reply(&json!({"choices": []})).is_err());
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
