//! LLM fleets against local test servers: an endpoint stopped mid-run is ejected and its
//! agents go to the others with no fallback, and the log still replays; an endpoint dead at
//! start is an error or, when allowed, left out; a failing endpoint comes back after a probe;
//! a 429's Retry-After is waited out (and capped); cached prompt tokens are counted per role; a
//! planner on its own model and server and workers mixing two models are routed, logged,
//! replayed and reported per model.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use simulacra::frames::{EndpointEvent, ExchangeOutcome, Frame};
use simulacra::run::{Summary, run_scenario};

use common::{assert_replays, frames, good_answer};

/// What a server does with its n-th chat request (counted from 0), given how many probes
/// (`GET /v1/models`) it has answered.
enum Reply {
    Good,
    /// A good answer whose usage says half the prompt tokens were served from a cache.
    Cached,
    Status(u16, Option<&'static str>),
}

type Script = dyn Fn(usize, usize) -> Reply + Send + Sync;

struct ServerState {
    script: Box<Script>,
    count: AtomicUsize,
    probes: AtomicUsize,
    /// The model each chat request asked for.
    models: std::sync::Mutex<Vec<String>>,
    /// Stop serving after this many chat requests (0 = never).
    stop_after: usize,
    stop: tokio::sync::Notify,
}

async fn chat(State(st): State<Arc<ServerState>>, Json(body): Json<Value>) -> Response {
    let prompt = common::prompt_of(&body);
    let n = st.count.fetch_add(1, Ordering::SeqCst);
    st.models
        .lock()
        .unwrap()
        .push(body["model"].as_str().unwrap_or_default().to_string());
    if st.stop_after > 0 && n + 1 == st.stop_after {
        st.stop.notify_one();
    }
    let reply = (st.script)(n, st.probes.load(Ordering::SeqCst));
    match reply {
        Reply::Good | Reply::Cached => {
            let tokens = prompt.len() / 4;
            let mut usage = json!({"prompt_tokens": tokens, "completion_tokens": 5});
            if matches!(reply, Reply::Cached) {
                usage["prompt_tokens_details"] = json!({"cached_tokens": tokens / 2});
            }
            Json(json!({
                "id": format!("c{n}"), "object": "chat.completion", "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": good_answer(&prompt)}, "finish_reason": "stop"}],
                "usage": usage
            }))
            .into_response()
        }
        Reply::Status(code, retry_after) => {
            let mut r = (
                axum::http::StatusCode::from_u16(code).unwrap(),
                Json(json!({"error": {"message": "injected"}})),
            )
                .into_response();
            if let Some(v) = retry_after {
                r.headers_mut()
                    .insert("retry-after", axum::http::HeaderValue::from_static(v));
            }
            r
        }
    }
}

async fn models(State(st): State<Arc<ServerState>>) -> Json<Value> {
    st.probes.fetch_add(1, Ordering::SeqCst);
    Json(json!({"object": "list", "data": [{"id": "mock-llm", "object": "model"}]}))
}

/// A test server on its own thread; stops when dropped or after `stop_after` chat requests.
struct Server {
    addr: SocketAddr,
    state: Arc<ServerState>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    fn start(
        stop_after: usize,
        script: impl Fn(usize, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let state = Arc::new(ServerState {
            script: Box::new(script),
            count: AtomicUsize::new(0),
            probes: AtomicUsize::new(0),
            models: Default::default(),
            stop_after,
            stop: tokio::sync::Notify::new(),
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/models", get(models))
            .with_state(Arc::clone(&state));
        let st = Arc::clone(&state);
        // Not graceful: a stopped server drops its connections, as a crashed one does.
        let addr = common::serve(app, false, async move {
            tokio::select! {
                _ = stop_rx => {}
                _ = st.stop.notified() => {}
            }
        });
        Server {
            addr,
            state,
            _stop: stop_tx,
        }
    }

    fn good() -> Self {
        Server::start(0, |_, _| Reply::Good)
    }

    fn base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn requests(&self) -> usize {
        self.state.count.load(Ordering::SeqCst)
    }
}

fn base_urls(servers: &[&str]) -> String {
    let quoted: Vec<String> = servers.iter().map(|s| format!("{s:?}")).collect();
    format!("llm.base_url=[{}]", quoted.join(","))
}

/// The LLM game of these tests: 30 LLM workers and an LLM planner, 6 steps.
fn scenario(urls: &str, extra: &[&str]) -> simulacra::config::Scenario {
    let mut sets = vec![
        "simulation.num_agents=30",
        "simulation.timesteps=6",
        "simulation.tax_year_length=3",
        "workers.policy=llm",
        "planner.policy=llm",
        "llm.backoff_ms=1",
        "llm.timeout_seconds=5",
        urls,
    ];
    sets.extend_from_slice(extra);
    common::scenario(&sets)
}

fn run(s: &simulacra::config::Scenario) -> (tempfile::TempDir, Summary) {
    let tmp = tempfile::tempdir().unwrap();
    let summary = run_scenario(s, tmp.path(), None).unwrap();
    (tmp, summary)
}

fn endpoint_events(dir: &std::path::Path) -> Vec<EndpointEvent> {
    frames(dir)
        .into_iter()
        .filter_map(|f| match f {
            Frame::Endpoint(e) => Some(e),
            _ => None,
        })
        .collect()
}

#[test]
fn an_endpoint_stopped_mid_run_is_ejected_with_no_fallback_and_the_log_replays() {
    let (a, c) = (Server::good(), Server::good());
    // The middle server dies after its 15th request (in the run's second step).
    let b = Server::start(15, |_, _| Reply::Good);
    let urls = base_urls(&[&a.base(), &b.base(), &c.base()]);
    // With 1 ms backoff the default 4 retries span 15 ms: answers the middle server sent just
    // before it stopped, counted late on a loaded machine, can each reset its failures in a
    // row for that long and keep it in the pool through one agent's every attempt (seen once
    // in CI: one decision fell back). Ten retries span a second, far past that window.
    let (tmp, summary) = run(&scenario(&urls, &["llm.max_retries=10"]));
    assert_eq!(summary.steps_run, 6);
    let llm = summary.llm.as_ref().unwrap();
    assert_eq!(
        (llm.totals.fallbacks, &llm.totals.fallback_causes),
        (0, &Default::default()),
        "no decision fell back"
    );
    assert_eq!(llm.endpoints.len(), 3);
    let (ea, eb, ec) = (&llm.endpoints[0], &llm.endpoints[1], &llm.endpoints[2]);
    assert_eq!(eb.base_url, b.base());
    assert_eq!((ea.ejections, eb.ejections, ec.ejections), (0, 1, 0));
    assert!(
        eb.failures >= 3 && ea.failures == 0 && ec.failures == 0,
        "{llm:?}"
    );
    assert!(b.requests() >= 15);
    // Every request of the run went somewhere: the others took the dead one's agents.
    assert_eq!(
        ea.requests + eb.requests + ec.requests,
        llm.totals.requests,
        "{llm:?}"
    );
    assert!(eb.latency_p50_us > 0 && eb.latency_p99_us >= eb.latency_p50_us);
    // The counts are written beside summary.json (which a resume reproduces byte for byte,
    // so it holds nothing that depends on the servers' timing).
    let file: Value = serde_json::from_slice(
        &std::fs::read(tmp.path().join(simulacra::llm::stats::ENDPOINTS_FILE)).unwrap(),
    )
    .unwrap();
    assert_eq!(file["endpoints"][1]["ejections"], 1);
    assert_eq!(file["endpoints"][1]["base_url"], b.base());
    let summary_json = std::fs::read_to_string(tmp.path().join("summary.json")).unwrap();
    assert!(!summary_json.contains("latency"), "{summary_json}");
    // The ejection is a frame of the log, and `inspect` shows it.
    let events = endpoint_events(tmp.path());
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].endpoint, events[0].change.as_str()),
        (1, "ejected")
    );
    assert!(events[0].reason.contains("connection"), "{events:?}");
    let (rows, _) = simulacra::inspect::game_table(tmp.path()).unwrap();
    let table = simulacra::inspect::render_table(&rows);
    assert!(table.contains(&format!("{} ejected", b.base())), "{table}");
    assert!(
        summary
            .llm
            .as_ref()
            .unwrap()
            .report_line()
            .contains("ejected")
    );
    let events = tmp.path().join("events.jsonl");
    simulacra::export::export_events(tmp.path(), &events).unwrap();
    let text = std::fs::read_to_string(&events).unwrap();
    assert_eq!(text.matches(r#""event":"endpoint""#).count(), 1, "{text}");
    drop((a, c));
    // No server at all: the replay answers from the log and re-logs the ejection.
    assert_replays(tmp.path());
}

#[test]
fn a_dead_endpoint_at_start_is_an_error_naming_it_unless_it_may_be_skipped() {
    let a = Server::good();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/v1", l.local_addr().unwrap())
    };
    let urls = base_urls(&[&a.base(), &dead]);
    let tmp = tempfile::tempdir().unwrap();
    let err = run_scenario(&scenario(&urls, &[]), tmp.path(), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&dead) && err.contains("llm.skip_dead_endpoints"),
        "{err}"
    );
    assert_eq!(a.requests(), 0, "no step was played");

    let (tmp, summary) = run(&scenario(&urls, &["llm.skip_dead_endpoints=true"]));
    let llm = summary.llm.as_ref().unwrap();
    assert_eq!(llm.totals.fallbacks, 0);
    assert_eq!(llm.endpoints[1].ejections, 1);
    assert_eq!(llm.endpoints[1].requests, 0);
    let events = endpoint_events(tmp.path());
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].step, 0);
    assert!(events[0].reason.contains("probe at start"), "{events:?}");
    assert_replays(tmp.path());
}

#[test]
fn a_failing_endpoint_is_ejected_then_returns_after_a_probe() {
    let a = Server::good();
    // It fails every request with 503 until it has answered a probe after the one at start.
    let b = Server::start(0, |_, probes| {
        if probes < 2 {
            Reply::Status(503, None)
        } else {
            Reply::Good
        }
    });
    let urls = base_urls(&[&a.base(), &b.base()]);
    // The shortest cool-down: the first pick after it probes, which is the next request at the
    // latest, so she returns early in the run however slow the machine is (with a cool-down of
    // a fraction of the run's wall time, a loaded machine could end the run before her return).
    let s = scenario(
        &urls,
        &["llm.eject_seconds=0.001", "simulation.timesteps=12"],
    );
    let (tmp, summary) = run(&s);
    let llm = summary.llm.as_ref().unwrap();
    assert_eq!(llm.totals.fallbacks, 0);
    let changes: Vec<(u64, String)> = endpoint_events(tmp.path())
        .into_iter()
        .map(|e| (e.endpoint, e.change))
        .collect();
    // Ejected, then back: requests it had already failed before its return can still come in
    // after it (they were in flight, and how many depends on the machine's pace), and may eject
    // it once more, so the events are one or more ejected/returned pairs, each return after a
    // probe, ending with it back in the pool.
    assert!(
        !changes.is_empty() && changes.len().is_multiple_of(2),
        "{changes:?}"
    );
    for pair in changes.chunks(2) {
        assert_eq!(
            pair,
            [(1, "ejected".to_string()), (1, "returned".to_string())],
            "{changes:?}"
        );
    }
    let cycles = (changes.len() / 2) as u64;
    assert_eq!(
        b.state.probes.load(Ordering::SeqCst) as u64,
        1 + cycles,
        "one probe at start and one per return"
    );
    let served_after = llm.endpoints[1].requests - llm.endpoints[1].failures;
    assert!(
        served_after > 0,
        "it served again after its return: {llm:?}"
    );
    assert_eq!(llm.endpoints[1].ejections, cycles);
    drop((a, b));
    assert_replays(tmp.path());
}

#[test]
fn a_429_retry_after_is_waited_out_and_capped() {
    // No clock here: what is waited is decided by llm::retry's retry_delay (unit-tested with
    // the cap and the backoff). This test checks the two ends over real HTTP: the server's
    // Retry-After reaches the error the retry rule reads, a throttled run completes without
    // fallbacks or ejections, and the run's cap reaches the gateway.
    let throttling = |retry_after: &'static str| {
        Server::start(0, move |n, _| {
            if n == 0 {
                Reply::Status(429, Some(retry_after))
            } else {
                Reply::Good
            }
        })
    };
    let a = throttling("2");
    let backend = simulacra::llm::OpenAiBackend::new(&[a.base()], None, Duration::from_secs(5));
    let body = r#"{"model":"mock-llm","messages":[{"role":"user","content":"hi"}]}"#;
    let first = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(simulacra::llm::ChatBackend::send(&backend, 0, body.into()));
    assert_eq!(
        first.err(),
        Some(simulacra::llm::CallError::Http {
            status: 429,
            message: "injected".into(),
            retry_after: Some(Duration::from_secs(2)),
        })
    );
    // A whole run whose first request is throttled.
    let b = throttling("2");
    let s = scenario(&base_urls(&[&b.base()]), &["simulation.num_agents=5"]);
    let (tmp, summary) = run(&s);
    let llm = summary.llm.as_ref().unwrap();
    assert_eq!(llm.totals.fallbacks, 0);
    assert_eq!(
        llm.endpoints[0].ejections, 0,
        "throttling is no failure of health"
    );
    let throttled = frames(tmp.path()).into_iter().any(|f| {
        matches!(f, Frame::Llm(e) if matches!(&e.outcome, ExchangeOutcome::Failed { kind, .. } if kind == "http 429"))
    });
    assert!(throttled);
    assert_replays(tmp.path());
    // The run's cap is the gateway's (0 here: any Retry-After gives way to the backoff).
    let capped = scenario(
        &base_urls(&[&b.base()]),
        &["simulation.num_agents=5", "llm.retry_after_cap_seconds=0"],
    );
    let runtime = simulacra::llm::LlmRuntime::new(
        &capped,
        simulacra::llm::Answers::Replay(simulacra::llm::Recording::new(Vec::new())),
    )
    .unwrap();
    assert_eq!(runtime.gateway.settings().retry_after_cap, Duration::ZERO);
}

#[test]
fn cached_prompt_tokens_are_counted_per_role_logged_and_replayed() {
    let a = Server::start(0, |_, _| Reply::Cached);
    let s = scenario(&base_urls(&[&a.base()]), &["simulation.num_agents=5"]);
    let (tmp, summary) = run(&s);
    let llm = summary.llm.clone().unwrap();
    let mut logged: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for f in frames(tmp.path()) {
        if let Frame::Llm(e) = f {
            let ExchangeOutcome::CachedResponse {
                prompt_tokens,
                cached_tokens,
                ..
            } = e.outcome
            else {
                panic!("every answer said what was cached: {:?}", e.outcome);
            };
            let r = logged.entry(e.role).or_default();
            r.0 += prompt_tokens;
            r.1 += cached_tokens;
        }
    }
    assert!(logged.len() >= 2, "{logged:?}");
    for (role, (prompt, cached)) in &logged {
        let counted = &llm.by_role[role];
        assert_eq!(
            (counted.prompt_tokens, counted.cached_tokens),
            (*prompt, *cached)
        );
        assert!(*cached > 0 && *cached <= prompt / 2 + 1, "{role}");
    }
    assert_eq!(
        llm.totals.cached_tokens,
        logged.values().map(|v| v.1).sum::<u64>()
    );
    let line = llm.report_line();
    assert!(
        line.contains("prompt tokens cached") && line.contains("worker 50%"),
        "{line}"
    );
    let written: Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        written["llm"]["by_role"]["worker"]["cached_tokens"],
        llm.by_role["worker"].cached_tokens
    );
    drop(a);
    assert_replays(tmp.path());
}

#[test]
fn a_planner_model_and_a_mixed_worker_population_are_routed_logged_and_reported() {
    let (main, second, planner) = (Server::good(), Server::good(), Server::good());
    let models = format!(
        "workers.models=[{{model=\"a\",share=0.5}},{{model=\"b\",share=0.5,base_url=\"{}\"}}]",
        second.base()
    );
    let planner_url = format!("llm.planner.base_url=\"{}\"", planner.base());
    let s = scenario(
        &base_urls(&[&main.base()]),
        &[
            &models,
            "llm.planner.model=\"big\"",
            &planner_url,
            "llm.planner.temperature=0.1",
        ],
    );
    let (tmp, summary) = run(&s);
    let assignment = simulacra::llm::models::assign(&[0.5, 0.5], 30, s.simulation.seed);
    let mut worker_exchanges = 0;
    for f in frames(tmp.path()) {
        let Frame::Llm(e) = f else { continue };
        if e.role == "planner" {
            assert_eq!((e.model.as_str(), e.temperature), ("big", 0.1));
        } else {
            let want = ["a", "b"][usize::from(assignment[e.agent as usize])];
            assert_eq!(e.model, want, "worker {}", e.agent);
            worker_exchanges += 1;
        }
    }
    // Each server saw only its own model.
    let seen = |srv: &Server| -> std::collections::BTreeSet<String> {
        srv.state.models.lock().unwrap().iter().cloned().collect()
    };
    assert_eq!(seen(&main), ["a".to_string()].into());
    assert_eq!(seen(&second), ["b".to_string()].into());
    assert_eq!(seen(&planner), ["big".to_string()].into());
    let llm = summary.llm.as_ref().unwrap();
    assert_eq!(llm.totals.fallbacks, 0);
    let (a, b) = (&llm.by_model["a"], &llm.by_model["b"]);
    assert_eq!(a.decisions + b.decisions, 30 * 6);
    assert_eq!(a.requests + b.requests, worker_exchanges);
    assert_eq!(a.requests, main.requests() as u64);
    assert_eq!(summary.by_model["a"].workers, 15);
    assert_eq!(summary.by_model["b"].workers, 15);
    assert!(summary.by_model["b"].mean_hours >= 0.0);
    // Three endpoints, each counted.
    assert_eq!(llm.endpoints.len(), 3);
    // The per-agent export names each worker's model (only for a mixed population).
    let csv = tmp.path().join("agents.csv");
    simulacra::export::export_agents(tmp.path(), &csv, simulacra::export::AgentFormat::Csv)
        .unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().ends_with(",utility,model"));
    for line in lines.take(30) {
        let cells: Vec<&str> = line.split(',').collect();
        let agent: usize = cells[2].parse().unwrap();
        assert_eq!(
            cells[8],
            ["a", "b"][usize::from(assignment[agent])],
            "{line}"
        );
    }
    let pq = tmp.path().join("agents.parquet");
    let rows =
        simulacra::export::export_agents(tmp.path(), &pq, simulacra::export::AgentFormat::Parquet)
            .unwrap();
    assert_eq!(rows, 30 * 6);
    drop((main, second, planner));
    assert_replays(tmp.path());
}

#[test]
fn model_shares_that_do_not_sum_to_one_are_refused() {
    let err_of = |sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        simulacra::config::Scenario::resolve(simulacra::config::DEFAULT_SCENARIO, &[], &sets)
            .unwrap_err()
            .to_string()
    };
    let err = err_of(&[
        "workers.policy=llm",
        "workers.models=[{model=\"a\",share=0.5},{model=\"b\",share=0.4}]",
    ]);
    assert!(
        err.contains("workers.models") && err.contains("sum to 1"),
        "{err}"
    );
    let err = err_of(&["llm.planner.temperature=3"]);
    assert!(
        err.contains("llm.planner") && err.contains("temperature"),
        "{err}"
    );
    let err = err_of(&["workers.models=[{model=\"a\",share=1}]"]);
    assert!(err.contains("workers.policy"), "{err}");
}

#[test]
fn a_sweep_of_a_mixed_population_tables_each_model_per_run() {
    let (main, second) = (Server::good(), Server::good());
    let models = format!(
        "workers.models=[{{model=\"a\",share=0.4}},{{model=\"b\",share=0.6,base_url=\"{}\"}}]",
        second.base()
    );
    let tmp = tempfile::tempdir().unwrap();
    let spec = simulacra::sweep::SweepSpec {
        scenario: None,
        sets: [
            "simulation.num_agents=30",
            "simulation.timesteps=6",
            "simulation.tax_year_length=3",
            "workers.policy=llm",
            "llm.backoff_ms=1",
            "llm.timeout_seconds=5",
            &base_urls(&[&main.base()]),
            &models,
        ]
        .map(String::from)
        .to_vec(),
        grid: Vec::new(),
        seeds: vec![1, 2],
        out: tmp.path().join("sweep"),
        jobs: 1,
    };
    let Ok(done) = simulacra::sweep::run_sweep(&spec, None, None) else {
        panic!("the sweep failed");
    };
    let result = done.result.unwrap();
    assert_eq!(result.rows.len(), 2);
    let text = std::fs::read_to_string(spec.out.join("runs_by_model.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "configuration,seed,model,workers,mean_hours,mean_utility,decisions,requests,fallbacks,dir"
    );
    assert_eq!(lines.len(), 1 + 2 * 2, "{text}");
    for (row, line) in result.rows.iter().zip(lines[1..].chunks(2)) {
        let cells: Vec<Vec<&str>> = line.iter().map(|l| l.split(',').collect()).collect();
        assert_eq!((cells[0][2], cells[1][2]), ("a", "b"));
        assert_eq!((cells[0][3], cells[1][3]), ("12", "18"));
        // Every worker decided every step, through her own model.
        let decisions: u64 = cells.iter().map(|c| c[6].parse::<u64>().unwrap()).sum();
        assert_eq!(decisions, 30 * 6);
        assert_eq!(cells[0][1], row.seed.to_string());
        let hours = row.by_model["b"].mean_hours.to_string();
        assert_eq!(cells[1][4], hours);
    }
    // A sweep of one model writes no such table.
    let plain = simulacra::sweep::SweepSpec {
        sets: spec.sets[..7].to_vec(),
        out: tmp.path().join("plain"),
        seeds: vec![1],
        ..spec
    };
    assert!(simulacra::sweep::run_sweep(&plain, None, None).is_ok());
    assert!(!plain.out.join("runs_by_model.csv").exists());
}
