//! `simulacra view RUN_DIR --serve`: the same page on 127.0.0.1, with each round, each page of
//! the worker table and each trajectory computed when the page asks for it, so that a run of a
//! million workers opens at once and never ships every worker to the browser.
//!
//! axum on a single-threaded tokio runtime; the log reading runs on tokio's blocking pool.
//! The last few rounds read and the worker orders sorted are kept in memory.
//!
//! Only requests addressed to the server by its own name are answered (`Host:
//! 127.0.0.1:PORT` or `localhost:PORT`): a web page elsewhere that points one of its own
//! names at 127.0.0.1 (DNS rebinding) sends its own name as the host, and is refused, so it
//! cannot read the served run.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::data::{self, Overview, RoundData, Run, WorkerPage};
use super::page::index_html;

/// Rounds kept in memory (each holds four numbers per worker: 32 MB at a million workers).
const ROUNDS_KEPT: usize = 3;
/// Rows in one page of the worker table, at most.
const PAGE_MAX: usize = 500;

type Order = Arc<Vec<usize>>;

/// A round kept in memory with the orders of its workers sorted so far.
struct Kept {
    k: u64,
    data: Arc<RoundData>,
    /// (sort key, descending, order)
    orders: Vec<(String, bool, Order)>,
}

struct Served {
    run: Run,
    overview: Overview,
    /// Most recently used first.
    rounds: Mutex<Vec<Kept>>,
}

struct App {
    runs: Vec<Served>,
    index: String,
}

type Failure = (StatusCode, String);

fn bad(e: anyhow::Error) -> Failure {
    (StatusCode::BAD_REQUEST, format!("{e:#}"))
}

impl App {
    fn run(&self, key: &str) -> Result<&Served, Failure> {
        let i = match key {
            "a" => 0,
            "b" => 1,
            _ => usize::MAX,
        };
        self.runs
            .get(i)
            .ok_or((StatusCode::NOT_FOUND, format!("no run {key:?}")))
    }
}

impl Served {
    fn round(&self, k: u64) -> anyhow::Result<Arc<RoundData>> {
        let mut cache = self.rounds.lock().expect("no panics under the lock");
        if let Some(i) = cache.iter().position(|c| c.k == k) {
            let hit = cache.remove(i);
            let d = Arc::clone(&hit.data);
            cache.insert(0, hit);
            return Ok(d);
        }
        drop(cache);
        let d = Arc::new(
            data::rounds(&self.run, &[k])?
                .pop()
                .expect("one round asked, one given"),
        );
        let mut cache = self.rounds.lock().expect("no panics under the lock");
        cache.insert(
            0,
            Kept {
                k,
                data: Arc::clone(&d),
                orders: Vec::new(),
            },
        );
        cache.truncate(ROUNDS_KEPT);
        Ok(d)
    }

    fn order(&self, k: u64, d: &RoundData, key: &str, desc: bool) -> anyhow::Result<Order> {
        let cached = |cache: &Vec<Kept>| {
            cache
                .iter()
                .find(|c| c.k == k)
                .and_then(|c| c.orders.iter().find(|o| o.0 == key && o.1 == desc))
                .map(|o| Arc::clone(&o.2))
        };
        if let Some(o) = cached(&self.rounds.lock().expect("no panics under the lock")) {
            return Ok(o);
        }
        let o = Arc::new(data::order(&self.run, d, key, desc)?);
        let mut cache = self.rounds.lock().expect("no panics under the lock");
        if let Some(c) = cache.iter_mut().find(|c| c.k == k) {
            c.orders.push((key.to_string(), desc, Arc::clone(&o)));
        }
        Ok(o)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

fn json_response(v: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(v) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn index(State(app): State<Arc<App>>) -> Html<String> {
    Html(app.index.clone())
}

async fn overview(
    State(app): State<Arc<App>>,
    Path(key): Path<String>,
) -> Result<Response, Failure> {
    Ok(json_response(&app.run(&key)?.overview))
}

async fn round(
    State(app): State<Arc<App>>,
    Path((key, k)): Path<(String, u64)>,
) -> Result<Response, Failure> {
    app.run(&key)?;
    blocking(move || {
        let d = app.run(&key)?.round(k).map_err(bad)?;
        Ok(json_response(&json!({"round": d.view, "workers": null})))
    })
    .await
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default = "default_sort")]
    sort: String,
    #[serde(default)]
    desc: bool,
    #[serde(default)]
    offset: usize,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_sort() -> String {
    "id".into()
}

fn default_limit() -> usize {
    25
}

async fn workers(
    State(app): State<Arc<App>>,
    Path((key, k)): Path<(String, u64)>,
    Query(q): Query<PageQuery>,
) -> Result<Response, Failure> {
    app.run(&key)?;
    blocking(move || {
        let s = app.run(&key)?;
        let d = s.round(k).map_err(bad)?;
        let order = s.order(k, &d, &q.sort, q.desc).map_err(bad)?;
        let from = q.offset.min(order.len());
        let to = (from + q.limit.min(PAGE_MAX)).min(order.len());
        Ok(json_response(&WorkerPage {
            total: order.len(),
            offset: from,
            rows: data::worker_rows(&s.run, &d, &order[from..to]),
        }))
    })
    .await
}

async fn worker(
    State(app): State<Arc<App>>,
    Path((key, i)): Path<(String, usize)>,
) -> Result<Response, Failure> {
    app.run(&key)?;
    blocking(move || {
        let s = app.run(&key)?;
        let t = data::trajectories(&s.run, &[i]).map_err(bad)?;
        Ok(json_response(&t[0]))
    })
    .await
}

/// Whether a request's `Host` header names this server (`127.0.0.1:PORT`, `localhost:PORT`,
/// in any case); a request without one is refused too.
pub fn is_own_host(host: Option<&str>, port: u16) -> bool {
    let Some(host) = host else {
        return false;
    };
    let host = host.trim().to_ascii_lowercase();
    host == format!("127.0.0.1:{port}") || host == format!("localhost:{port}")
}

async fn own_host_only(
    port: u16,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if is_own_host(host, port) {
        next.run(req).await
    } else {
        (
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this server answers only requests to http://127.0.0.1:{port}/ or \
                 http://localhost:{port}/\n"
            ),
        )
            .into_response()
    }
}

/// Serves `runs` on 127.0.0.1:`port` (0 = any free port) until the process is stopped.
pub fn serve(runs: Vec<Run>, port: u16) -> anyhow::Result<()> {
    let keys = ["a", "b"];
    let mut served = Vec::new();
    let mut boot_runs = Vec::new();
    for (run, key) in runs.into_iter().zip(keys) {
        let overview = data::overview(&run)?;
        served.push(Served {
            run,
            overview,
            rounds: Mutex::new(Vec::new()),
        });
        boot_runs.push(json!({"key": key, "table": true, "trajectories": true}));
    }
    let app = Arc::new(App {
        runs: served,
        index: index_html(&json!({"mode": "serve", "runs": boot_runs})),
    });
    let router = Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/api/{key}/overview", get(overview))
        .route("/api/{key}/round/{k}", get(round))
        .route("/api/{key}/round/{k}/workers", get(workers))
        .route("/api/{key}/worker/{i}", get(worker))
        .with_state(app);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    rt.block_on(async move {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr} (is the port in use? try --port 0)")
        })?;
        let addr = listener.local_addr()?;
        let port = addr.port();
        let router = router.layer(axum::middleware::from_fn(move |req, next| {
            own_host_only(port, req, next)
        }));
        println!("serving http://{addr}/ (Ctrl-C stops)");
        axum::serve(listener, router)
            .await
            .context("the server stopped")
    })
}

#[cfg(test)]
mod tests {
    use super::is_own_host;

    #[test]
    fn only_the_servers_own_names_are_its_host() {
        assert!(is_own_host(Some("127.0.0.1:8737"), 8737));
        assert!(is_own_host(Some("LOCALHOST:8737"), 8737));
        assert!(!is_own_host(Some("127.0.0.1:8738"), 8737));
        assert!(!is_own_host(Some("evil.example:8737"), 8737));
        assert!(!is_own_host(Some("127.0.0.1"), 8737));
        assert!(!is_own_host(None, 8737));
    }
}
