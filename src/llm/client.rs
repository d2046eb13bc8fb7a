//! The transport: one OpenAI-compatible chat-completions client per endpoint of the pool
//! (async-openai with a configurable base URL), the tower service every request goes through,
//! and the classification of what can go wrong.
//!
//! Requests go through async-openai's "bring your own types" path as the JSON text the gateway
//! built (and hashed). async-openai reads whole bodies and logs the ones it cannot parse, so
//! the HTTP exchange itself is done by [`CappedService`], installed with
//! `Client::with_http_service`: it reads the response under a size cap (an endless chunked
//! body must not grow memory), scrubs the API key from it, answers error statuses and bodies
//! that are not JSON itself (with a short preview, never the whole body), and hands
//! async-openai only a JSON body rebuilt from the capped bytes. Responses are read tolerantly,
//! because compatible servers differ in small ways (`finish_reason: null`, missing `usage`),
//! but the numbers that feed the accounting are validated.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use futures::future::BoxFuture;
use serde_json::Value;
use serde_json::value::RawValue;

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
/// How long a probe (`GET {base}/models`) waits for an answer. Not `llm.timeout_seconds`,
/// which bounds a chat completion and may be set far below what a loaded server needs to
/// list its models; a dead server refuses at once, and only an unreachable host waits this.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
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

    fn map_message(self, f: impl Fn(String) -> String) -> CallError {
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

/// Sends one chat-completions request body to endpoint `endpoint` of the pool.
pub trait ChatBackend: Send + Sync {
    fn endpoints(&self) -> usize;
    /// `body` is the request as JSON text, already serialized once (for its hash).
    fn send(
        &self,
        endpoint: usize,
        body: Arc<str>,
    ) -> BoxFuture<'static, Result<ChatReply, CallError>>;
    /// Whether endpoint `endpoint` answers again (an ejected one returns when it does).
    fn probe(&self, _endpoint: usize) -> BoxFuture<'static, Result<(), CallError>> {
        Box::pin(async { Ok(()) })
    }
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

    /// [`Redactor::scrub`] on raw bytes, for a body before anything parses it (a body need
    /// not be UTF-8).
    pub fn scrub_bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        let Some(k) = &self.key else { return bytes };
        let finder = memchr::memmem::Finder::new(k.as_bytes());
        let mut hits = finder.find_iter(&bytes).peekable();
        if hits.peek().is_none() {
            return bytes;
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut from = 0;
        for at in hits {
            out.extend_from_slice(&bytes[from..at]);
            out.extend_from_slice(Self::MARK.as_bytes());
            from = at + k.len();
        }
        out.extend_from_slice(&bytes[from..]);
        out
    }
}

/// The real HTTP backend.
pub struct OpenAiBackend {
    clients: Vec<Client<OpenAIConfig>>,
    redactor: Redactor,
    timeout: Duration,
    /// For probes: the base URLs, the shared HTTP client and the key.
    base_urls: Vec<String>,
    http: reqwest::Client,
    api_key: Option<String>,
}

impl OpenAiBackend {
    /// One client per base URL. `api_key` is sent as a bearer token when given.
    pub fn new(base_urls: &[String], api_key: Option<String>, timeout: Duration) -> Self {
        // reqwest's rustls is built without a crypto provider of its own (its default,
        // aws-lc-rs, needs cmake to build); ring builds with a C compiler alone. Installing it
        // fails harmlessly when a provider is already installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let redactor = Redactor::new(api_key.as_deref());
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(1024)
            .build()
            .unwrap_or_default();
        // One service (and so one connection pool) for every endpoint.
        let service = CappedService {
            http: http.clone(),
            redactor: redactor.clone(),
        };
        let clients = base_urls
            .iter()
            .map(|url| {
                let config = OpenAIConfig::new()
                    .with_api_base(url.trim_end_matches('/'))
                    .with_api_key(api_key.clone().unwrap_or_default());
                // A service of our own also replaces async-openai's default executor, which
                // retries 429/5xx by itself, unseen: every attempt stays visible to the
                // gateway, which logs and counts it.
                Client::with_config(config).with_http_service(service.clone())
            })
            .collect();
        OpenAiBackend {
            clients,
            redactor,
            timeout,
            base_urls: base_urls.to_vec(),
            http,
            api_key,
        }
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
        let (redactor, timeout) = (self.redactor.clone(), self.timeout);
        Box::pin(async move {
            // The body goes out as the exact bytes that were hashed: no second serialization.
            let raw = RawValue::from_string(body.to_string())
                .map_err(|e| CallError::BadResponse(format!("request body is not JSON: {e}")))?;
            let chat = client.chat();
            let call = chat.create_byot::<Box<RawValue>, Value>(raw);
            let result = match tokio::time::timeout(timeout, call).await {
                Err(_) => Err(CallError::Timeout),
                Ok(Err(e)) => Err(classify_openai(e)),
                Ok(Ok(response)) => read_reply(&response),
            };
            // The body was scrubbed as bytes; a key written with JSON escapes only shows once
            // decoded, so what is kept is scrubbed again.
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

    fn probe(&self, endpoint: usize) -> BoxFuture<'static, Result<(), CallError>> {
        let url = self.base_urls[endpoint % self.base_urls.len()].clone();
        let (http, key, redactor) = (
            self.http.clone(),
            self.api_key.clone(),
            self.redactor.clone(),
        );
        Box::pin(async move {
            probe(&http, &url, key.as_deref(), PROBE_TIMEOUT)
                .await
                .map_err(|e| e.map_message(|m| redactor.scrub(m)))
        })
    }
}

/// The tower service async-openai sends every request through: executes it with reqwest,
/// reads the body under [`MAX_BODY_BYTES`], scrubs the API key from it, and hands back a
/// response rebuilt from those bytes (status and headers kept). Error statuses and bodies
/// that are not JSON become a [`CallError`] here, so async-openai never sees a body it would
/// log whole (it logs unparsable bodies and server-error bodies) or classify without its
/// status (a non-JSON 4xx body).
#[derive(Clone)]
struct CappedService {
    http: reqwest::Client,
    redactor: Redactor,
}

impl tower_service::Service<HttpRequestFactory> for CappedService {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = BoxFuture<'static, Result<reqwest::Response, OpenAIError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), OpenAIError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let mut request = factory.build().await?;
            // async-openai always sends a bearer header; with no key it is empty, and none is
            // sent (as the documentation promises, right for local servers).
            let headers = request.headers_mut();
            if headers
                .get(reqwest::header::AUTHORIZATION)
                .is_some_and(|v| v.as_bytes().trim_ascii_end() == b"Bearer")
            {
                headers.remove(reqwest::header::AUTHORIZATION);
            }
            this.exchange(request).await.map_err(Refused::into_openai)
        })
    }
}

impl CappedService {
    async fn exchange(&self, request: reqwest::Request) -> Result<reqwest::Response, CallError> {
        let mut response = self.http.execute(request).await.map_err(classify)?;
        let status = response.status();
        let body = read_capped(&mut response, MAX_BODY_BYTES)
            .await
            .map(|b| self.redactor.scrub_bytes(b));
        if !status.is_success() {
            let message = match body {
                Ok(b) => error_message(&b),
                Err(e) => e.message(),
            };
            let retry_after = matches!(status.as_u16(), 429 | 503)
                .then(|| response.headers().get(reqwest::header::RETRY_AFTER))
                .flatten()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, std::time::SystemTime::now()));
            return Err(CallError::Http {
                status: status.as_u16(),
                message,
                retry_after,
            });
        }
        let body = body?;
        // Checked here, not left to async-openai's parse, because that one logs the whole body
        // when it fails. Skimming a few kilobytes costs microseconds against a network call.
        if let Err(e) = std::str::from_utf8(&body)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| e.to_string())
            })
        {
            return Err(CallError::BadResponse(format!(
                "the response is not JSON ({e}): {}",
                preview(&body)
            )));
        }
        let mut rebuilt = http::Response::new(body);
        *rebuilt.status_mut() = status;
        *rebuilt.version_mut() = response.version();
        *rebuilt.headers_mut() = std::mem::take(response.headers_mut());
        Ok(reqwest::Response::from(rebuilt))
    }
}

/// A [`CallError`] decided by [`CappedService`], carried through async-openai as its boxed
/// error and taken out again by [`classify_openai`].
#[derive(Debug)]
struct Refused(CallError);

impl Refused {
    fn into_openai(e: CallError) -> OpenAIError {
        OpenAIError::Boxed(Box::new(Refused(e)))
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.kind(), self.0.message())
    }
}

impl std::error::Error for Refused {}

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

/// What async-openai returned, as a [`CallError`]. Only a JSON body of a success status
/// reaches it, so its own failures are rare (a body [`CappedService`]'s skim accepted that
/// still does not decode); their messages are cut to a preview too.
fn classify_openai(e: OpenAIError) -> CallError {
    match e {
        OpenAIError::Boxed(b) => match b.downcast::<Refused>() {
            Ok(refused) => refused.0,
            Err(other) => CallError::Connection(preview(other.to_string().as_bytes())),
        },
        OpenAIError::Reqwest(e) => classify(e),
        OpenAIError::ApiError(api) => CallError::Http {
            status: api.status_code.as_u16(),
            message: preview(api.api_error.message.as_bytes()),
            retry_after: None,
        },
        OpenAIError::JSONDeserialize(err, content) => CallError::BadResponse(format!(
            "the response is not JSON ({err}): {}",
            preview(content.as_bytes())
        )),
        other => CallError::BadResponse(preview(other.to_string().as_bytes())),
    }
}

fn classify(e: reqwest::Error) -> CallError {
    // reqwest's own text is only "error sending request for url (...)"; the cause (refused,
    // reset, a TLS failure) is in its sources, and is what a user can act on.
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        source = s.source();
    }
    let message = preview(text.as_bytes());
    if e.is_timeout() {
        CallError::Timeout
    } else if let Some(status) = e.status() {
        CallError::Http {
            status: status.as_u16(),
            message,
            retry_after: None,
        }
    } else if e.is_decode() || e.is_body() {
        CallError::BadResponse(message)
    } else {
        CallError::Connection(message)
    }
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

/// Whether the server at `base_url` answers: `GET {base}/models`. Any answer below 500 counts
/// (a server without that route answers 404, and is alive); a refused connection, a timeout
/// or a server error does not.
pub async fn probe(
    http: &reqwest::Client,
    base_url: &str,
    api_key: Option<&str>,
    timeout: Duration,
) -> Result<(), CallError> {
    let mut request = http
        .get(format!("{}/models", base_url.trim_end_matches('/')))
        .timeout(timeout);
    if let Some(k) = api_key {
        request = request.bearer_auth(k);
    }
    let response = request.send().await.map_err(classify)?;
    let status = response.status();
    if status.is_server_error() {
        return Err(CallError::Http {
            status: status.as_u16(),
            message: format!("GET {base_url}/models answered {status}"),
            retry_after: None,
        });
    }
    Ok(())
}

/// Probes every base URL at once (each waiting up to [`PROBE_TIMEOUT`]), on a runtime of its
/// own (the run's may not be running yet), and returns each one's verdict in order, the key
/// scrubbed from the messages.
pub fn probe_all(base_urls: &[String], api_key: Option<&str>) -> Vec<Result<(), CallError>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let redactor = Redactor::new(api_key);
    std::thread::scope(|s| {
        s.spawn(|| {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return vec![Ok(()); base_urls.len()];
            };
            let http = reqwest::Client::new();
            rt.block_on(futures::future::join_all(
                base_urls
                    .iter()
                    .map(|u| probe(&http, u, api_key, PROBE_TIMEOUT)),
            ))
            .into_iter()
            .map(|r| r.map_err(|e| e.map_message(|m| redactor.scrub(m))))
            .collect()
        })
        .join()
        .unwrap_or_else(|_| vec![Ok(()); base_urls.len()])
    })
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
    fn the_key_is_scrubbed_from_bytes_that_are_not_text() {
        let r = Redactor::new(Some("sk-secret-123"));
        assert_eq!(
            r.scrub_bytes(b"\xff sk-secret-123 and sk-secret-123\xfe".to_vec()),
            b"\xff [redacted] and [redacted]\xfe".to_vec()
        );
        assert_eq!(r.scrub_bytes(b"sk-secret-12".to_vec()), b"sk-secret-12");
        assert_eq!(Redactor::new(None).scrub_bytes(b"ab".to_vec()), b"ab");
    }

    #[tokio::test]
    async fn an_https_base_url_is_accepted_and_fails_as_a_connection_error() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let backend = OpenAiBackend::new(
            &[format!("https://127.0.0.1:{port}/v1")],
            Some("sk-secret-123".into()),
            Duration::from_secs(5),
        );
        let err = backend
            .send(0, Arc::from(r#"{"model":"m","messages":[]}"#))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "connection", "{err:?}");
        // Without TLS the connector refuses the scheme ("invalid URL, scheme is not http").
        assert!(!err.message().contains("scheme"), "{err:?}");
        assert!(err.message().contains("refused"), "{err:?}");
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
