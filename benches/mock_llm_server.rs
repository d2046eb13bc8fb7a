//! A fast mock OpenAI-compatible server for fleet-scale benchmarks (a million LLM workers):
//! `POST /v1/chat/completions` answers at once with a well-formed answer to whatever the
//! prompt asks last (`LABOR` hours from a hash of the prompt, a `DELTA` move with one entry
//! per `X` of the asked list, `ANSWER` yes), and `GET /v1/models` lists one model. Written in
//! Rust so a benchmark measures the runtime, not a Python server: the body is scanned for its
//! keys, never parsed into a tree.
//!
//! ```sh
//! cargo bench --bench mock_llm_server -- --port 8000 [--port-file PATH]
//! ```
//!
//! `GET /stats` returns `{"requests_total": N}`. It runs until killed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{get, post};

struct Stats {
    requests: AtomicU64,
}

/// FNV-1a, for a deterministic answer per prompt.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn answer(body: &[u8]) -> String {
    let last = |key: &[u8]| memchr::memmem::rfind(body, key).map_or(-1, |p| p as i64);
    // Keys appear JSON-escaped inside the request's message strings.
    let (labor, delta, yes) = (
        last(br#"\"LABOR\""#),
        last(br#"\"DELTA\""#),
        last(br#"\"ANSWER\""#),
    );
    if delta > labor && delta > yes {
        let rest = &body[delta as usize..];
        let n = memchr::memchr(b'[', rest)
            .and_then(|open| {
                memchr::memchr(b']', &rest[open..]).map(|close| {
                    rest[open..open + close]
                        .iter()
                        .filter(|&&c| c == b'X')
                        .count()
                })
            })
            .unwrap_or(1)
            .max(1);
        let moves: Vec<&str> = (0..n).map(|i| ["10", "0", "-10"][i % 3]).collect();
        return format!("{{\"DELTA\": [{}]}}", moves.join(", "));
    }
    if yes > labor {
        return r#"{"ANSWER": "YES"}"#.into();
    }
    if labor >= 0 {
        return format!("{{\"LABOR\": \"{}\"}}", 10 * (fnv(body) % 7));
    }
    "A worker with a steady job.".into()
}

async fn chat(State(stats): State<Arc<Stats>>, body: Bytes) -> impl IntoResponse {
    let n = stats.requests.fetch_add(1, Ordering::Relaxed);
    let text = serde_json::to_string(&answer(&body)).expect("a string serializes");
    let out = format!(
        r#"{{"id":"c{n}","object":"chat.completion","created":0,"model":"mock-llm","choices":[{{"index":0,"message":{{"role":"assistant","content":{text}}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":{},"completion_tokens":5}}}}"#,
        body.len() / 4
    );
    ([(CONTENT_TYPE, "application/json")], out)
}

async fn models() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "application/json")],
        r#"{"object":"list","data":[{"id":"mock-llm","object":"model"}]}"#,
    )
}

async fn stats(State(stats): State<Arc<Stats>>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "application/json")],
        format!(
            r#"{{"requests_total":{}}}"#,
            stats.requests.load(Ordering::Relaxed)
        ),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    // `cargo bench` passes --bench; without --port this is a benchmark run: nothing to do.
    let Some(port) = flag("--port") else {
        return;
    };
    let port: u16 = port.parse().expect("--port takes a number");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the port is free");
        let bound = listener.local_addr().expect("a bound address").port();
        if let Some(path) = flag("--port-file") {
            std::fs::write(&path, bound.to_string()).expect("the port file is writable");
        }
        eprintln!("mock LLM server on 127.0.0.1:{bound}");
        let state = Arc::new(Stats {
            requests: AtomicU64::new(0),
        });
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/models", get(models))
            .route("/stats", get(stats))
            .with_state(state);
        axum::serve(listener, app).await.expect("the server runs");
    });
}
