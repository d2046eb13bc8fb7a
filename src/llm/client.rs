//! The transport: one OpenAI-compatible chat-completions client per endpoint of the pool
//! (async-openai with a configurable base URL), the tower service every request goes through,
//! the classification of transport and HTTP failures, and the endpoint probes. What a reply
//! is and how a response is read are in `reply.rs`; scrubbing the API key in `redact.rs`.
//!
//! Requests go through async-openai's "bring your own types" path as the JSON text the gateway
//! built (and hashed). async-openai reads whole bodies and logs the ones it cannot parse, so
//! the HTTP exchange itself is done by [`CappedService`], installed with
//! `Client::with_http_service`: it reads the response under a size cap (an endless chunked
//! body must not grow memory), scrubs the API key from it, answers error statuses and bodies
//! that are not JSON itself (with a short preview, never the whole body), and hands
//! async-openai only a JSON body rebuilt from the capped bytes.

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

pub use super::redact::Redactor;
use super::reply::preview;
pub use super::reply::{
    CallError, ChatReply, MAX_ANSWER_BYTES, MAX_TOKEN_COUNT, read_reply, retry_after,
};

/// Most bytes of a response body read before the call is abandoned as a bad response. A
/// chat completion of `llm.max_tokens` tokens is a few kilobytes; 1 MiB holds an answer of
/// tens of thousands of tokens, and with `llm.concurrency` requests in flight (256 by
/// default) bounds what a hostile or broken server can make the run hold to 256 MiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// How long a probe (`GET {base}/models`) waits for an answer. Not `llm.timeout_seconds`,
/// which bounds a chat completion and may be set far below what a loaded server needs to
/// list its models; a dead server refuses at once, and only an unreachable host waits this.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
