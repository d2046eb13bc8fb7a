//! The reader's chat server: an OpenAI-compatible `/v1/chat/completions` that answers each
//! request with the first reader that recognizes its question (the generic well-formed answer
//! otherwise) and keeps every (system, user) prompt it was asked.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};

use crate::common;

/// A reader of one kind of question: its answer from the (system, user) text, or `None`.
pub type Answer = fn(&str, &str) -> Option<String>;

#[derive(Clone)]
struct Served {
    readers: Arc<Vec<Answer>>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

async fn chat(State(s): State<Served>, Json(body): Json<Value>) -> impl IntoResponse {
    let text = |role: &str| {
        body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["role"] == role)
            .filter_map(|m| m["content"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (system, user) = (text("system"), text("user"));
    let answer = s
        .readers
        .iter()
        .find_map(|read| read(&system, &user))
        .unwrap_or_else(|| common::good_answer(&format!("{system}\n{user}")));
    s.seen.lock().unwrap().push((system, user));
    Json(json!({
        "id": "chatcmpl-0", "object": "chat.completion", "created": 0, "model": body["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    }))
}

/// A running reader server; it stops when dropped.
pub struct Reader {
    /// The `llm.base_url=...` setting that points a run at it.
    pub base_url: String,
    seen: Arc<Mutex<Vec<(String, String)>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Reader {
    /// Serves `readers`, tried in order, on a free local port.
    pub fn start(readers: &[Answer]) -> Reader {
        let served = Served {
            readers: Arc::new(readers.to_vec()),
            seen: Arc::default(),
        };
        let seen = Arc::clone(&served.seen);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(chat))
            .with_state(served);
        let addr = common::serve(app, true, async {
            let _ = stopped.await;
        });
        Reader {
            base_url: format!("llm.base_url=\"http://{addr}/v1\""),
            seen,
            _stop: stop,
        }
    }

    /// Every (system, user) prompt asked so far, in the order answered.
    pub fn prompts(&self) -> Vec<(String, String)> {
        self.seen.lock().unwrap().clone()
    }
}
