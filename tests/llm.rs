//! LLM agents over the real HTTP path: an OpenAI-compatible mock server started by each test
//! (axum on 127.0.0.1:0) with scripted behaviour — valid answers, malformed JSON, out-of-range
//! numbers, HTTP 429/500, answers slower than the timeout — and the checks that matter: the
//! actions taken, the counters, budgets, secrets, and that every run replays byte for byte
//! with no server.

mod common;

use common::{assert_replays, good_answer, worker_of};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use simulacra::frames::{ExchangeOutcome, Frame, LlmExchange};
use simulacra::run::{ReplayVerdict, Summary, run_scenario, verify_replay};
use simulacra_actors::LogReader;

/// What the mock does with one request.
enum Behave {
    Answer(String),
    Status(u16),
    Slow(Duration, String),
    /// Start a 200 response, then drop the connection mid-body.
    Drop,
    /// A 200 response whose chunked body never ends.
    Endless,
    /// A 200 response with this whole JSON body.
    Body(Value),
    /// A 200 response with this body, as it is (not JSON).
    Raw(String),
    /// A response of this status with this body, as it is.
    RawStatus(u16, String),
    /// Reflect the request's headers back: as the answer (200) or in an error body (other).
    EchoHeaders(u16),
}

type Script = dyn Fn(usize, &str) -> Behave + Send + Sync;

struct MockState {
    script: Box<Script>,
    count: AtomicUsize,
    auth: Mutex<Vec<String>>,
}

async fn chat(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(a) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        state.auth.lock().unwrap().push(a.to_string());
    }
    let prompt = common::prompt_of(&body);
    let n = state.count.fetch_add(1, Ordering::SeqCst);
    let reply = |text: String| {
        Json(json!({
            "id": format!("chatcmpl-{n}"), "object": "chat.completion", "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt.len() / 4, "completion_tokens": 5, "total_tokens": prompt.len() / 4 + 5}
        }))
        .into_response()
    };
    match (state.script)(n, &prompt) {
        Behave::Answer(text) => reply(text),
        Behave::Slow(d, text) => {
            tokio::time::sleep(d).await;
            reply(text)
        }
        Behave::Drop => {
            let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = vec![
                Ok(axum::body::Bytes::from_static(b"{\"id\": \"chatcmpl-")),
                Err(std::io::Error::other("connection dropped by the test server")),
            ];
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(axum::body::Body::from_stream(futures::stream::iter(chunks)))
                .unwrap()
        }
        Behave::Endless => {
            let chunk = axum::body::Bytes::from(vec![b' '; 64 * 1024]);
            let body = futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(axum::body::Body::from_stream(body))
                .unwrap()
        }
        Behave::Body(v) => Json(v).into_response(),
        Behave::Raw(text) => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(text))
            .unwrap(),
        Behave::EchoHeaders(code) => {
            let dump: String = headers
                .iter()
                .map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or("?")))
                .collect();
            if code == 200 {
                reply(dump)
            } else {
                (
                    StatusCode::from_u16(code).unwrap(),
                    Json(json!({"error": {"message": dump}})),
                )
                    .into_response()
            }
        }
        Behave::RawStatus(code, text) => (StatusCode::from_u16(code).unwrap(), text).into_response(),
        Behave::Status(code) => (
            StatusCode::from_u16(code).unwrap(),
            Json(json!({"error": {"message": "injected", "type": "server_error", "param": null, "code": null}})),
        )
            .into_response(),
    }
}

/// A mock server on its own thread; dropped when the test ends.
struct Mock {
    addr: SocketAddr,
    state: Arc<MockState>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Mock {
    fn start(script: impl Fn(usize, &str) -> Behave + Send + Sync + 'static) -> Mock {
        let state = Arc::new(MockState {
            script: Box::new(script),
            count: AtomicUsize::new(0),
            auth: Mutex::new(Vec::new()),
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(chat))
            .with_state(Arc::clone(&state));
        let addr = common::serve(app, true, async {
            let _ = stop_rx.await;
        });
        Mock {
            addr,
            state,
            _shutdown: stop_tx,
        }
    }

    fn url(&self) -> String {
        format!("llm.base_url=\"http://{}/v1\"", self.addr)
    }

    fn requests(&self) -> usize {
        self.state.count.load(Ordering::SeqCst)
    }
}

/// The small LLM game of these tests (5 workers, 6 steps, LLM workers and planner).
const SMALL_LLM_GAME: [&str; 7] = [
    "simulation.num_agents=5",
    "simulation.timesteps=6",
    "simulation.tax_year_length=3",
    "workers.policy=llm",
    "planner.policy=llm",
    "llm.backoff_ms=1",
    "llm.timeout_seconds=5",
];

fn llm_scenario(mock: &Mock, extra: &[&str]) -> simulacra::config::Scenario {
    let url = mock.url();
    let mut sets = SMALL_LLM_GAME.to_vec();
    sets.push(url.as_str());
    sets.extend_from_slice(extra);
    common::scenario(&sets)
}

/// A sweep of the small LLM game over `seeds`, asking `mock`, into `out`, one run at a time.
fn llm_sweep(mock: &Mock, out: std::path::PathBuf, seeds: Vec<u64>) -> simulacra::sweep::SweepSpec {
    simulacra::sweep::SweepSpec {
        scenario: None,
        sets: SMALL_LLM_GAME
            .map(String::from)
            .into_iter()
            .chain([mock.url()])
            .collect(),
        grid: Vec::new(),
        seeds,
        out,
        jobs: 1,
    }
}

fn exchanges(dir: &std::path::Path) -> Vec<LlmExchange> {
    let mut r = LogReader::open(&dir.join("run.log")).unwrap();
    r.read_all::<Frame>()
        .0
        .into_iter()
        .filter_map(|(_, f)| match f {
            Frame::Llm(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn hours_at(dir: &std::path::Path, step: u64) -> Vec<f64> {
    let mut r = LogReader::open(&dir.join("run.log")).unwrap();
    r.read_all::<Frame>()
        .0
        .into_iter()
        .find_map(|(_, f)| match f {
            Frame::Decisions { step: s, hours, .. } if s == step => Some(hours),
            _ => None,
        })
        .unwrap()
}

fn run(s: &simulacra::config::Scenario) -> (tempfile::TempDir, Summary) {
    let tmp = tempfile::tempdir().unwrap();
    let summary = run_scenario(s, tmp.path(), None).unwrap();
    (tmp, summary)
}

#[test]
fn valid_answers_drive_the_game_and_replay_without_a_server() {
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let s = llm_scenario(&mock, &[]);
    let (tmp, summary) = run(&s);
    let llm = summary.llm.clone().unwrap();
    // 5 workers x 6 steps, plus the planner's move at the second tax year (the first keeps
    // the starting schedule without a call, as in the paper).
    assert_eq!(llm.totals.requests, 31);
    assert_eq!(mock.requests(), 31);
    assert_eq!(llm.by_role["worker"].requests, 30);
    assert_eq!(llm.by_role["planner"].requests, 1);
    assert_eq!((llm.totals.retries, llm.totals.fallbacks), (0, 0));
    assert!(llm.totals.prompt_tokens > 0);
    // Worker i answered 10*i hours.
    assert_eq!(hours_at(tmp.path(), 4), vec![0.0, 10.0, 20.0, 30.0, 40.0]);
    // The planner moved +10/0/-10 from 50/50/50.
    assert_eq!(summary.tax_rates_final, vec![0.6, 0.5, 0.4]);
    // Baselines cost no calls and say how their workers decided.
    assert_eq!(
        summary.baselines.saez.as_ref().unwrap().workers,
        "rational (exact best responses)"
    );
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn unusable_answers_are_reasked_then_fall_back_without_desync() {
    // Worker 0 always answers garbage; worker 1's first answer per step is out of range,
    // then valid after the re-ask; everyone else answers well.
    let mock = Mock::start(|_, p| {
        let reask = p.contains("could not be used");
        match worker_of(p) {
            Some(0) if p.rfind("\"LABOR\"").is_some() => {
                Behave::Answer("I'd rather not say {".into())
            }
            Some(1) if !reask && p.contains("\"LABOR\"") => {
                Behave::Answer(json!({"LABOR": 140}).to_string())
            }
            _ => Behave::Answer(good_answer(p)),
        }
    });
    let s = llm_scenario(&mock, &["llm.max_reasks=2"]);
    let (tmp, summary) = run(&s);
    let w = &summary.llm.as_ref().unwrap().by_role["worker"];
    // Worker 0: 3 attempts per step (1 + 2 re-asks), then the fallback, every step.
    assert_eq!(w.fallbacks, 6);
    // Re-asks: 2 per step for worker 0 and 1 per step for worker 1.
    assert_eq!(w.retries, 6 * 3);
    assert_eq!(w.requests, 6 * (3 + 2 + 1 + 1 + 1));
    // The fallback keeps the previous hours: 40 at the first step, and so on.
    for step in 0..6 {
        let h = hours_at(tmp.path(), step);
        assert_eq!(h[0], 40.0, "step {step}");
        assert_eq!(h[1], 10.0, "step {step}");
    }
    // Every attempt is logged, in attempt order, and the re-ask carries the complaint.
    let ex = exchanges(tmp.path());
    let w1: Vec<&LlmExchange> = ex.iter().filter(|e| e.agent == 1 && e.step == 2).collect();
    assert_eq!(w1.iter().map(|e| e.attempt).collect::<Vec<_>>(), vec![0, 1]);
    let last_msg = &w1[1].messages.as_ref().unwrap().last().unwrap().1;
    assert!(last_msg.contains("outside [0, 100]"), "{last_msg}");
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn http_errors_and_timeouts_are_retried_and_replay_identically() {
    // Every 4th request is a 429, every 7th a 500, and request 2 stalls ten times past the
    // timeout (as in fault_injection: it times out however loaded the machine is).
    let mock = Mock::start(|n, p| match n {
        2 => Behave::Slow(Duration::from_secs(5), good_answer(p)),
        n if n % 4 == 3 => Behave::Status(429),
        n if n % 7 == 6 => Behave::Status(500),
        _ => Behave::Answer(good_answer(p)),
    });
    let s = llm_scenario(&mock, &["llm.timeout_seconds=0.5", "llm.max_retries=6"]);
    let (tmp, summary) = run(&s);
    let t = &summary.llm.as_ref().unwrap().totals;
    assert!(t.retries >= 5, "retries {}", t.retries);
    assert_eq!(t.fallbacks, 0, "every request eventually succeeded");
    let failed: Vec<String> = exchanges(tmp.path())
        .into_iter()
        .filter_map(|e| match e.outcome {
            ExchangeOutcome::Failed { kind, .. } => Some(kind),
            _ => None,
        })
        .collect();
    assert!(failed.iter().any(|k| k == "http 429"), "{failed:?}");
    assert!(failed.iter().any(|k| k == "http 500"), "{failed:?}");
    assert!(failed.iter().any(|k| k == "timeout"), "{failed:?}");
    // The run's outcome does not depend on which requests failed: hours are the same as a
    // clean run's.
    assert_eq!(hours_at(tmp.path(), 5), vec![0.0, 10.0, 20.0, 30.0, 40.0]);
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn a_budget_stops_the_run_cleanly_with_the_log_intact() {
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let s = llm_scenario(&mock, &["llm.budget_requests=12"]);
    let (tmp, summary) = run(&s);
    // 5 requests per step: the budget is reached after the third step (15 >= 12).
    assert_eq!(summary.steps_run, 3);
    assert!(
        summary
            .halted
            .as_deref()
            .unwrap()
            .contains("llm.budget_requests")
    );
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn a_budget_stopped_run_is_continued_by_resume_with_a_larger_budget() {
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let d = dir.to_str().unwrap();
    let url = mock.url();
    let mut args = vec!["run", "--quiet", "--out", d, "--set", url.as_str()];
    for set in SMALL_LLM_GAME {
        args.extend(["--set", set]);
    }
    args.extend(["--set", "llm.budget_requests=12"]);
    let o = common::simulacra(&args);
    assert_eq!(o.status.code(), Some(3), "{}", common::stderr(&o));
    let e = common::stderr(&o);
    assert!(
        e.contains(&format!("simulacra resume {d} --set llm.budget_requests=N")),
        "{e}"
    );
    // The same budget stops it again at once; a larger one (0 = none) lets it finish.
    let o = common::simulacra(&["resume", d, "--set", "llm.budget_requests=0"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let s: Summary =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s.halted, None);
    assert_eq!(s.steps_run, s.timesteps);
    // Its header keeps the budget it started with; a replay, paying nothing, does not stop
    // on it.
    drop(mock);
    assert_replays(&dir);
}

#[test]
fn a_replay_whose_request_differs_names_the_step_and_agent() {
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let prompts = tempfile::tempdir().unwrap();
    let template = prompts.path().join("worker_user.j2");
    std::fs::write(
        &template,
        "Step advice. Reply with only {\"LABOR\": \"X\"}.",
    )
    .unwrap();
    let dir_set = format!("llm.prompts_dir=\"{}\"", prompts.path().display());
    let s = llm_scenario(&mock, &[dir_set.as_str()]);
    let (tmp, _) = run(&s);
    drop(mock);
    assert_replays(tmp.path());
    std::fs::write(
        &template,
        "Other advice. Reply with only {\"LABOR\": \"X\"}.",
    )
    .unwrap();
    match verify_replay(tmp.path()).unwrap() {
        ReplayVerdict::Failed(why) => {
            assert!(why.contains("step 0"), "{why}");
            assert!(why.contains("agent 0"), "{why}");
            assert!(why.contains("differs from the recorded one"), "{why}");
        }
        ReplayVerdict::Differs(d) => panic!("expected a request mismatch, got {d}"),
        ReplayVerdict::Identical { .. } => panic!("a changed prompt must not replay"),
        ReplayVerdict::Unfinished { steps, .. } => panic!("unfinished at step {steps}"),
    }
}

#[test]
fn the_api_key_is_sent_but_never_written() {
    let secret = "sk-test-4f1c9a-do-not-log";
    // SAFETY: this test is the only reader of this variable, which no other test sets.
    unsafe { std::env::set_var("SIMULACRA_TEST_API_KEY", secret) };
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let s = llm_scenario(&mock, &["llm.api_key_env=SIMULACRA_TEST_API_KEY"]);
    let (tmp, _) = run(&s);
    assert!(
        mock.state
            .auth
            .lock()
            .unwrap()
            .iter()
            .all(|a| a == &format!("Bearer {secret}")),
        "the key goes to the server"
    );
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "the API key was written to a run file");
    }
    // A missing variable is a clear error, before any request.
    let bad = llm_scenario(&mock, &["llm.api_key_env=SIMULACRA_TEST_API_KEY_UNSET"]);
    let err = run_scenario(&bad, tempfile::tempdir().unwrap().path(), None).unwrap_err();
    assert!(
        err.to_string().contains("SIMULACRA_TEST_API_KEY_UNSET"),
        "{err}"
    );
    assert!(!err.to_string().contains(secret));
}

#[test]
fn personas_and_satisfaction_are_asked_and_counted() {
    // Nobody is satisfied: every perceived utility is halved.
    let mock = Mock::start(|_, p| {
        if p.contains("satisfied with the overall tax policy") {
            Behave::Answer(json!({"thought": "no", "ANSWER": "NO"}).to_string())
        } else {
            Behave::Answer(good_answer(p))
        }
    });
    let s = llm_scenario(
        &mock,
        &["workers.personas=llm", "workers.satisfaction=true"],
    );
    let (tmp, summary) = run(&s);
    let by = &summary.llm.as_ref().unwrap().by_role;
    assert_eq!(by["persona"].requests, 5, "one persona per worker");
    assert_eq!(
        by["satisfaction"].requests,
        5 * 5,
        "every step after the first"
    );
    assert_eq!(by["worker"].requests, 30);
    // The persona the LLM wrote reaches the worker's system prompt.
    let ex = exchanges(tmp.path());
    let labor = ex
        .iter()
        .find(|e| e.role == "worker" && e.agent == 3 && e.step == 4)
        .unwrap();
    let messages = labor.messages.as_ref().unwrap();
    assert!(messages[0].1.contains("steady job"));
    // ...and the history she sees carries the halved utility (the mock's utilities are
    // positive here, so half its size is half).
    assert!(
        messages[1].1.contains("satisfied: NO; adjusted u = "),
        "{}",
        messages[1].1
    );
    // The satisfaction question is asked from her persona and the year's summary alone (no
    // utility in view, so the answer cannot be chosen for what it does); consecutive hours
    // prompts share their history.
    let ask = |role: &str, step: u64| {
        ex.iter()
            .find(|e| e.role == role && e.agent == 3 && e.step == step)
            .unwrap()
            .messages
            .clone()
            .unwrap()
    };
    let (sat4, labor3) = (ask("satisfaction", 4), ask("worker", 3));
    assert_eq!(sat4.len(), 1, "one message");
    assert!(
        sat4[0]
            .1
            .starts_with("You are worker_3, a citizen of Princetonia")
    );
    assert!(
        sat4[0].1.contains("steady job"),
        "the persona: {}",
        sat4[0].1
    );
    assert!(!sat4[0].1.contains("utility"), "{}", sat4[0].1);
    let history3 = &labor3[1].1[..labor3[1].1.find("\nYour best years").unwrap()];
    assert!(messages[1].1.starts_with(history3), "{}", messages[1].1);
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn llm_elections_count_bad_ballots_and_replay() {
    // Worker 0 votes for someone not on the ballot every time; the others vote for worker 1.
    // Platforms come from the LLM (the mock proposes +10/0/-10).
    let mock = Mock::start(|_, p| {
        if p.contains("\"LEADER\"") {
            let id = if worker_of(p) == Some(0) { "999" } else { "1" };
            Behave::Answer(json!({"LEADER": id}).to_string())
        } else {
            Behave::Answer(good_answer(p))
        }
    });
    let s = llm_scenario(
        &mock,
        &[
            "governance.mode=election",
            "governance.rule=plurality",
            "llm.max_reasks=1",
        ],
    );
    let (tmp, summary) = run(&s);
    let by = &summary.llm.as_ref().unwrap().by_role;
    // Two elections (years 0 and 1), 5 platforms and 5 ballots each.
    assert_eq!(by["platform"].requests, 10);
    // Worker 0: 2 attempts per election, both unusable -> an abstention each time.
    assert_eq!(by["vote"].requests, 2 * (4 + 2));
    assert_eq!(by["vote"].fallbacks, 2);
    let g = summary.governance.as_ref().unwrap();
    assert_eq!(g.elections, 2);
    assert!((g.mean_turnout - 0.8).abs() < 1e-12);
    every_winner_is(tmp.path(), "1");
    drop(mock);
    assert_replays(tmp.path());
}

/// Every election of the run in `dir` was won by `winner`.
fn every_winner_is(dir: &std::path::Path, winner: &str) {
    let csv = std::fs::read_to_string(dir.join("elections.csv")).unwrap();
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.split(',').nth(3) == Some(winner)),
        "{csv}"
    );
}

#[test]
fn a_resumed_llm_run_reuses_recorded_answers_and_matches_the_uninterrupted_log() {
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let s = llm_scenario(&mock, &[]);
    let (full_dir, full) = run(&s);
    let bytes = std::fs::read(full_dir.path().join("run.log")).unwrap();
    let asked_by_full_run = mock.requests();
    // A crash two thirds of the way through the log.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("run.log"), &bytes[..bytes.len() * 2 / 3]).unwrap();
    let r = simulacra::run::resume_run(dir.path()).unwrap();
    assert_eq!(r.summary.log_sha256, full.log_sha256);
    assert_eq!(std::fs::read(dir.path().join("run.log")).unwrap(), bytes);
    // Only the steps after the last whole step were asked again (5 per step, plus the
    // planner if its year had not started).
    let asked_again = mock.requests() - asked_by_full_run;
    let lost_steps = 6 - r.steps_kept;
    assert!(
        asked_again <= 5 * lost_steps as usize + 1,
        "{asked_again} for {lost_steps} steps"
    );
    assert!(asked_again < asked_by_full_run);
}

/// Into `dir`: the run in `full` as if it crashed a few bytes after step `step`'s outcome,
/// with the snapshots of `snapshots` (steps) kept.
fn crash_after(full: &std::path::Path, step: u64, snapshots: &[u64], dir: &std::path::Path) {
    let bytes = std::fs::read(full.join("run.log")).unwrap();
    let cut = {
        let mut r = LogReader::open(&full.join("run.log")).unwrap();
        let mut end = 0;
        while let Some(Ok(raw)) = r.next_raw() {
            if let Ok(Frame::Outcome(o)) = raw.decode::<Frame>()
                && o.step == step
            {
                end = raw.offset as usize + 8 + raw.payload.len();
            }
        }
        end + 5
    };
    std::fs::write(dir.join("run.log"), &bytes[..cut]).unwrap();
    std::fs::create_dir(dir.join("snapshots")).unwrap();
    for s in snapshots {
        let name = format!("snapshots/step-{s:08}.snap");
        std::fs::copy(full.join(&name), dir.join(&name)).unwrap();
    }
}

#[test]
fn an_llm_run_resumes_from_its_snapshot_with_memories_and_counts_restored() {
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    // Personas and satisfaction questions too: every kind of worker memory is exercised.
    let s = llm_scenario(
        &mock,
        &[
            "log.snapshot_every_years=1",
            "simulation.timesteps=9",
            "workers.personas=llm",
            "workers.satisfaction=true",
        ],
    );
    let (full_dir, _) = run(&s);
    let bytes = std::fs::read(full_dir.path().join("run.log")).unwrap();
    let summary = std::fs::read(full_dir.path().join("summary.json")).unwrap();
    let asked_by_full_run = mock.requests();
    // A crash after step 7 of 9: the snapshot of step 6 is the start.
    let dir = tempfile::tempdir().unwrap();
    crash_after(full_dir.path(), 7, &[3, 6], dir.path());
    let r = simulacra::run::resume_run(dir.path()).unwrap();
    assert_eq!((r.steps_kept, r.from_snapshot), (8, Some(6)));
    assert!(std::fs::read(dir.path().join("run.log")).unwrap() == bytes);
    // Request counts, fallbacks and tokens count on from the snapshot: the summary is the
    // uninterrupted run's, byte for byte.
    assert_eq!(
        String::from_utf8(std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap(),
        String::from_utf8(summary).unwrap()
    );
    // Only the last step was asked again: 5 workers, a satisfaction question and a decision.
    let asked_again = mock.requests() - asked_by_full_run;
    assert!(asked_again <= 10, "{asked_again}");
}

#[test]
fn a_fork_of_an_llm_run_reuses_the_prefix_answers_and_asks_anew_after_the_fork() {
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let s = llm_scenario(&mock, &["log.snapshot_every_years=1"]);
    let (parent, _) = run(&s);
    let asked_by_parent = mock.requests();
    let child = tempfile::tempdir().unwrap();
    let sets = vec!["planner.policy=saez".to_string()];
    let forked = simulacra::run::fork_run(parent.path(), 3, &sets, child.path()).unwrap();
    assert_eq!(forked.summary.steps_run, 6);
    assert_eq!(forked.from_snapshot, Some(3));
    // Steps 3..6 are the child's own: its workers see another schedule, so they are asked
    // again (5 workers x 3 steps); nothing of the prefix is.
    assert_eq!(mock.requests() - asked_by_parent, 15);
    assert_replays(child.path());
}

/// The issue's fault mix: 20% garbage answers, 5% HTTP 500, 2% stalls past the timeout (plus
/// truncated JSON, a few huge bodies and 1% connections dropped mid-response). The run completes, every fault is counted, nothing
/// panics, and the log replays identically.
/// The fault the mock injects into its `n`-th request: a deterministic hash of the number.
fn injected_fault(n: usize) -> u64 {
    (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54 // 0..1023
}

fn fault_injection(workers: usize, steps: u64) {
    // A stall lasts far past the timeout, so it times out however loaded the machine is; the
    // other faults are answered at once. The checks below count what the mock injected (its
    // own request numbers) against what the log holds, and never how long anything took.
    let mock = Mock::start(|n, p| match injected_fault(n) {
        0..205 => Behave::Answer("Sorry, I cannot help with that.".into()),
        205..256 => Behave::Status(500),
        256..276 => Behave::Slow(Duration::from_secs(5), good_answer(p)),
        276..286 => Behave::Answer("{\"LABOR\": \"4".into()),
        286..290 => Behave::Answer("x".repeat(200_000)),
        290..300 => Behave::Drop,
        _ => Behave::Answer(good_answer(p)),
    });
    let url = mock.url();
    let (n, t) = (
        format!("simulation.num_agents={workers}"),
        format!("simulation.timesteps={steps}"),
    );
    let s = common::scenario(&[
        n.as_str(),
        t.as_str(),
        "simulation.tax_year_length=25",
        "workers.policy=llm",
        "planner.policy=llm",
        "llm.history_window=5",
        "llm.log_prompts=false",
        "llm.timeout_seconds=0.25",
        "llm.backoff_ms=1",
        "llm.max_retries=3",
        "llm.max_reasks=2",
        // On a loaded machine an answer may also arrive after the timeout; this test counts
        // faults, so it must not stop on their share.
        "llm.max_fallback_share=1",
        "baselines.enabled=false",
        url.as_str(),
    ]);
    let (tmp, summary) = run(&s);
    assert_eq!(summary.steps_run, steps, "{:?}", summary.halted);
    let t = &summary.llm.as_ref().unwrap().totals;
    let decisions = workers as u64 * steps;
    // About 20% garbage (answered at once, so counted whatever the load) costs a re-ask each.
    assert!(
        t.retries > decisions / 5,
        "retries {} for {decisions} decisions",
        t.retries
    );
    let received = mock.requests();
    let injected = |range: std::ops::Range<u64>| {
        (0..received)
            .filter(|&n| range.contains(&injected_fault(n)))
            .count() as u64
    };
    let (errors_in, stalls_in, drops_in) =
        (injected(205..256), injected(256..276), injected(290..300));
    assert!(
        errors_in > 0 && stalls_in > 0 && drops_in > 0,
        "{received} requests"
    );
    let failed: Vec<String> = exchanges(tmp.path())
        .into_iter()
        .filter_map(|e| match e.outcome {
            ExchangeOutcome::Failed { kind, .. } => Some(kind),
            _ => None,
        })
        .collect();
    let count = |k: &str| failed.iter().filter(|f| f.as_str() == k).count() as u64;
    // Every stall is a timeout; every 500 and every dropped connection is a failed attempt
    // (a 500 or a drop that reaches the client after the timeout on a loaded machine is a
    // timeout instead), so the log holds at least as many failures as were injected.
    let timeouts = count("timeout");
    assert!(
        timeouts >= stalls_in,
        "timeouts {timeouts} < stalls {stalls_in}"
    );
    let transport = count("http 500") + timeouts + count("connection") + count("bad response");
    assert!(
        transport >= errors_in + stalls_in + drops_in,
        "failures logged {transport} < injected: 500s {errors_in}, stalls {stalls_in}, drops {drops_in}"
    );
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn fault_injection_small() {
    fault_injection(30, 50);
}

/// The full size the issue asks for; slow in a debug build, so CI runs it in release:
/// `cargo test --release --test llm -- --ignored fault_injection_100`.
#[test]
#[ignore = "full size: run in release (CI does)"]
fn fault_injection_100_workers_200_steps() {
    fault_injection(100, 200);
}

#[test]
fn archetype_mode_asks_once_per_bucket() {
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let s = llm_scenario(&mock, &["llm.archetypes=2"]);
    let (tmp, summary) = run(&s);
    let a = summary.archetypes.as_ref().unwrap();
    assert_eq!((a.buckets, a.followers, a.decisions_shared), (2, 3, 18));
    assert_eq!(
        summary.llm.as_ref().unwrap().by_role["worker"].requests,
        2 * 6
    );
    // Every worker works her representative's hours: two distinct values, each the answer of
    // a worker who asked.
    let hours = hours_at(tmp.path(), 3);
    let askers: Vec<u64> = exchanges(tmp.path())
        .iter()
        .filter(|e| e.role == "worker" && e.step == 3)
        .map(|e| e.agent)
        .collect();
    assert_eq!(askers.len(), 2);
    for h in &hours {
        assert!(
            askers.iter().any(|&a| 10.0 * (a % 11) as f64 == *h),
            "{hours:?} {askers:?}"
        );
    }
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn the_projects_python_mock_works_unchanged_with_failures_injected() {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/mock_llm.py");
    if !script.exists()
        || std::process::Command::new("python3")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("skipped: {} or python3 is not available", script.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port_file = dir.path().join("port");
    let mut child = std::process::Command::new("python3")
        .arg(&script)
        .args([
            "--port",
            "0",
            "--fail-rate",
            "0.2",
            "--http-error-rate",
            "0.05",
            "--port-file",
        ])
        .arg(&port_file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !port_file.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let port = std::fs::read_to_string(&port_file).unwrap();
    let url = format!("llm.base_url=\"http://127.0.0.1:{}/v1\"", port.trim());
    let s = common::scenario(&[
        "simulation.num_agents=10",
        "simulation.timesteps=8",
        "simulation.tax_year_length=4",
        "workers.policy=llm",
        "planner.policy=llm",
        "llm.backoff_ms=1",
        &url,
    ]);
    let result = run_scenario(&s, dir.path(), None);
    let _ = child.kill();
    let _ = child.wait();
    let summary = result.unwrap();
    let t = &summary.llm.as_ref().unwrap().totals;
    assert!(
        t.retries > 0,
        "20% garbage and 5% errors must cause re-asks"
    );
    assert_eq!(summary.steps_run, 8);
    assert_replays(dir.path());
}

#[test]
fn inspect_prompts_shows_each_rounds_prompts_and_raw_answers() {
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let scenario = llm_scenario(&mock, &["baselines.enabled=false"]);
    let tmp = tempfile::tempdir().unwrap();
    run_scenario(&scenario, tmp.path(), None).unwrap();
    let detail = simulacra::inspect::round_detail(tmp.path(), 1).unwrap();
    let ex = simulacra::inspect_agent::round_exchanges(tmp.path(), &detail).unwrap();
    // Round 1 is steps 3..=5: five workers a step and the planner once.
    assert!(ex.iter().all(|e| (3..=5).contains(&e.step)));
    assert_eq!(ex.iter().filter(|e| e.role == "worker").count(), 15);
    assert_eq!(ex.iter().filter(|e| e.role == "planner").count(), 1);
    for e in &ex {
        assert!(e.messages.as_ref().is_some_and(|m| !m.is_empty()));
        assert!(matches!(e.outcome, ExchangeOutcome::Response { .. }));
    }
    let text = simulacra::inspect_agent::render_exchanges(&ex);
    assert!(text.contains("LABOR") && text.contains("DELTA"), "{text}");
    // In JSON the planner has no worker id: null, as in events.jsonl, not the log's sentinel.
    let json = serde_json::to_value(simulacra::inspect_agent::RoundWithPrompts {
        detail,
        exchanges: ex,
    })
    .unwrap();
    let planner: Vec<&Value> = json["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["role"] == "planner")
        .collect();
    assert_eq!(planner.len(), 1);
    assert_eq!(planner[0]["agent"], Value::Null);
    assert!(!json.to_string().contains(&u64::MAX.to_string()));
}

#[test]
fn empirical_saez_runs_with_llm_workers() {
    // The mock answers hours from the worker id alone, whatever the tax: every measured
    // elasticity is 0, so each bracket falls back to the scenario's elasticity.
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let scenario = llm_scenario(&mock, &["simulation.num_agents=12"]);
    let spec = simulacra::experiments::EmpiricalSaezSpec {
        delta_points: 5.0,
        steps: 2,
        baseline_rates: None,
    };
    let r = simulacra::experiments::empirical_saez(&scenario, &spec, |_| {}).unwrap();
    assert_eq!(r.worker_policy, "llm");
    assert_eq!(r.phases, 1 + 2 * 3 + 3);
    // Perturbation phases: 2 steps x 12 workers; evaluations: 4 steps x 12 workers.
    assert_eq!(mock.requests(), (1 + 2 * 3) * 2 * 12 + 3 * 4 * 12);
    for b in &r.brackets {
        if b.valid > 0 {
            assert_eq!(b.mean, Some(0.0));
            assert!(b.fallback);
            assert_eq!(b.used, 0.4);
        }
    }
    assert_eq!(r.schedules.len(), 3);
}

// ---- Trust at the edges: fallbacks, hostile responses, the key, templates, the planner ----

/// Everything a run folder holds, as bytes (to look for a secret).
fn all_files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

/// `simulacra run --quiet --out OUT --set ...` (with `RUST_LOG=info` when `verbose`).
fn cli_run(out: &std::path::Path, sets: &[&str], verbose: bool) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_simulacra"));
    cmd.args(["run", "--quiet", "--out"]).arg(out);
    for set in sets {
        cmd.args(["--set", set]);
    }
    if verbose {
        cmd.env("RUST_LOG", "info");
    }
    cmd.output().unwrap()
}

#[test]
fn a_failing_server_stops_the_run_naming_the_cause_and_resume_continues_it() {
    use std::sync::atomic::AtomicBool;
    let healthy = Arc::new(AtomicBool::new(false));
    let h = Arc::clone(&healthy);
    let mock = Mock::start(move |_, p| {
        if h.load(Ordering::SeqCst) {
            Behave::Answer(good_answer(p))
        } else {
            Behave::Status(503)
        }
    });
    // 5 workers: every decision of the first two steps fell back (10 in a row).
    let s = llm_scenario(&mock, &["llm.max_retries=1"]);
    let (tmp, summary) = run(&s);
    assert!(
        summary.comparison.is_none(),
        "a stopped run is not compared"
    );
    assert_eq!(
        summary.steps_run, 2,
        "stopped between steps, at the first judgement"
    );
    let why = summary.halted.clone().unwrap();
    assert!(why.contains("llm.max_fallback_share"), "{why}");
    assert!(why.contains("http 503"), "{why}");
    let t = &summary.llm.as_ref().unwrap().totals;
    assert_eq!((t.decisions, t.fallbacks), (10, 10));
    assert_eq!(t.fallback_causes.get("http 503"), Some(&10));
    // The stopped log replays as it is (a replay asks no server, so it cannot judge one).
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(tmp.path().join("run.log"), copy.path().join("run.log")).unwrap();
    assert_replays(copy.path());
    // The server is back: resume takes the recorded failures as they were and goes on.
    healthy.store(true, Ordering::SeqCst);
    let r = simulacra::run::resume_run(tmp.path()).unwrap();
    assert_eq!(r.summary.steps_run, 6);
    assert_eq!(r.summary.halted, None);
    assert!(r.summary.comparison.is_some());
    let t = &r.summary.llm.as_ref().unwrap().totals;
    assert_eq!(
        t.fallbacks, 10,
        "the first two steps' fallbacks are still counted"
    );
    assert_eq!(hours_at(tmp.path(), 5), vec![0.0, 10.0, 20.0, 30.0, 40.0]);
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn the_cli_says_how_many_decisions_fell_back_and_exits_non_zero_without_a_server() {
    let out = tempfile::tempdir().unwrap();
    let o = cli_run(
        &out.path().join("r"),
        &[
            "workers.policy=llm",
            "llm.base_url=\"http://127.0.0.1:1/v1\"",
            "simulation.num_agents=100",
            "simulation.timesteps=4",
            "simulation.tax_year_length=4",
            "llm.max_retries=0",
            "baselines.enabled=false",
            // Without it the dead server is an error at start (tests/fleet.rs).
            "llm.skip_dead_endpoints=true",
        ],
        false,
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("100 fell back"), "{stdout}");
    assert!(stdout.contains("100 connection"), "{stdout}");
    assert!(stderr.contains("fell back"), "{stderr}");
    assert!(stderr.contains("connection"), "{stderr}");
    assert!(stderr.contains("simulacra resume"), "{stderr}");
}

#[test]
fn a_prompt_template_that_fails_to_render_stops_the_run_naming_it() {
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    for (name, step) in [
        ("worker_user", 0),
        ("planner_user", 3),
        ("worker_history_line", 1),
    ] {
        let prompts = tempfile::tempdir().unwrap();
        std::fs::write(prompts.path().join(format!("{name}.j2")), "{{ 1 // 0 }}").unwrap();
        let dir_set = format!("llm.prompts_dir=\"{}\"", prompts.path().display());
        let s = llm_scenario(&mock, &[dir_set.as_str()]);
        let err = run_scenario(&s, tempfile::tempdir().unwrap().path(), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("{name}.j2 failed to render")),
            "{err}"
        );
        assert!(err.contains(&format!("step {step}")), "{err}");
    }
}

#[test]
fn hostile_responses_are_bounded_validated_and_recorded() {
    let mock = Mock::start(|_, p| {
        let chat = |usage: Value, model: &str, text: &str| {
            json!({"model": model, "usage": usage,
                   "choices": [{"message": {"role": "assistant", "content": text}}]})
        };
        match worker_of(p) {
            Some(0) => Behave::Endless,
            Some(1) => Behave::Body(chat(
                json!({"prompt_tokens": u64::MAX, "completion_tokens": 1}),
                "mock-llm",
                "{\"LABOR\": 10}",
            )),
            // Under the body cap, over what is kept of an answer.
            Some(2) => Behave::Answer("y".repeat(512 << 10)),
            Some(3) => Behave::Body(chat(json!({}), "other-model", "{\"LABOR\": 30}")),
            // A dated version of the requested model is the same model.
            _ => Behave::Body(chat(json!({}), "mock-llm-2026-01", "{\"LABOR\": 40}")),
        }
    });
    let s = llm_scenario(
        &mock,
        &[
            "simulation.timesteps=2",
            "simulation.tax_year_length=2",
            "llm.max_retries=0",
            "llm.max_reasks=0",
            "llm.max_fallback_share=1",
            "baselines.enabled=false",
        ],
    );
    let (tmp, summary) = run(&s);
    let t = &summary.llm.as_ref().unwrap().totals;
    assert_eq!(t.fallback_causes.get("bad response"), Some(&4));
    assert_eq!(t.fallback_causes.get("unusable answer"), Some(&2));
    assert_eq!(t.model_mismatches, 2);
    assert!(t.prompt_tokens < 1 << 32, "{}", t.prompt_tokens);
    let ex = exchanges(tmp.path());
    let of = |agent: u64| ex.iter().find(|e| e.agent == agent && e.step == 1).unwrap();
    match &of(0).outcome {
        ExchangeOutcome::Failed { message, .. } => {
            assert!(message.contains("exceeds"), "{message}")
        }
        o => panic!("{o:?}"),
    }
    match &of(1).outcome {
        ExchangeOutcome::Failed { message, .. } => {
            assert!(message.contains("not a token count"), "{message}")
        }
        o => panic!("{o:?}"),
    }
    match &of(2).outcome {
        ExchangeOutcome::Response { text, .. } => assert_eq!(text.len(), 64 << 10),
        o => panic!("{o:?}"),
    }
    assert_eq!(of(3).model, "other-model");
    assert_eq!(of(4).model, "mock-llm-2026-01");
    assert_eq!(hours_at(tmp.path(), 1), vec![40.0, 40.0, 40.0, 30.0, 40.0]);
    let log = std::fs::metadata(tmp.path().join("run.log")).unwrap().len();
    assert!(log < 1 << 20, "the log holds {log} bytes");
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn the_api_key_is_redacted_even_when_the_server_reflects_it() {
    let secret = "sk-echo-7d2e4b-never-store";
    // SAFETY: this test is the only reader of this variable, which no other test sets.
    unsafe { std::env::set_var("SIMULACRA_TEST_ECHO_KEY", secret) };
    // First attempts get the headers back in an error, retries as the answer.
    let mock = Mock::start(|n, _| Behave::EchoHeaders(if n % 2 == 0 { 500 } else { 200 }));
    let s = llm_scenario(
        &mock,
        &[
            "llm.api_key_env=SIMULACRA_TEST_ECHO_KEY",
            "llm.max_retries=1",
            "llm.max_reasks=0",
            "llm.max_fallback_share=1",
            "simulation.timesteps=1",
            "simulation.tax_year_length=1",
        ],
    );
    let (tmp, _) = run(&s);
    for (path, bytes) in all_files(tmp.path()) {
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "the API key was written to {}", path.display());
    }
    let ex = exchanges(tmp.path());
    let redacted = |s: &str| s.contains("Bearer [redacted]");
    assert!(ex.iter().any(|e| matches!(&e.outcome,
        ExchangeOutcome::Failed { message, .. } if redacted(message))));
    assert!(ex.iter().any(|e| matches!(&e.outcome,
        ExchangeOutcome::Response { text, .. } if redacted(text))));
}

#[test]
fn the_planner_history_gives_every_figure_of_a_year_on_one_basis() {
    // Every worker works 20, 30 and 40 hours at steps 0, 1 and 2 (five requests a step).
    let mock = Mock::start(|n, p| {
        if p.rfind("\"DELTA\"") > p.rfind("\"LABOR\"") {
            Behave::Answer(good_answer(p))
        } else {
            Behave::Answer(json!({"LABOR": 10 * ((n / 5) % 3 + 2)}).to_string())
        }
    });
    let s = llm_scenario(
        &mock,
        &["simulation.timesteps=4", "baselines.enabled=false"],
    );
    let (tmp, _) = run(&s);
    let csv = std::fs::read_to_string(tmp.path().join("steps.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let year0: Vec<Vec<f64>> = csv
        .lines()
        .skip(1)
        .take(3)
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    let mean = |c: usize| year0.iter().map(|r| r[c]).sum::<f64>() / 3.0;
    let planner = exchanges(tmp.path())
        .into_iter()
        .find(|e| e.role == "planner")
        .unwrap();
    let prompt = &planner.messages.unwrap()[1].1;
    let line = prompt.lines().find(|l| l.starts_with("year 0:")).unwrap();
    assert!(
        prompt.contains("each figure is the year's mean over its steps"),
        "{prompt}"
    );
    assert!(line.contains("mean hours 30.00"), "{line}");
    assert!(
        line.contains(&format!("revenue {:.0};", mean(col("revenue")))),
        "{line} vs {}",
        mean(col("revenue"))
    );
    assert!(
        line.contains(&format!("Gini {:.3}", mean(col("gini")))),
        "{line}"
    );
    assert!(
        line.contains(&format!("welfare {:.4}", mean(col("welfare")))),
        "{line}"
    );
}

/// Runs 3 LLM workers for 2 steps (one retry) against `script`, every answer of which is
/// garbled, and checks that nothing the server sent reached stderr or the log whole. Returns
/// stdout and the recorded exchanges.
fn garbled_run(
    script: impl Fn(usize, &str) -> Behave + Send + Sync + 'static,
) -> (String, Vec<LlmExchange>) {
    let mock = Mock::start(script);
    let out = tempfile::tempdir().unwrap();
    let url = mock.url();
    let o = cli_run(
        &out.path().join("r"),
        &[
            "workers.policy=llm",
            &url,
            "simulation.num_agents=3",
            "simulation.timesteps=2",
            "simulation.tax_year_length=2",
            "llm.max_retries=1",
            "llm.backoff_ms=1",
            "baselines.enabled=false",
        ],
        true,
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.len() < 20_000, "{} bytes on stderr", stderr.len());
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(stdout.contains("6 fell back"), "{stdout}");
    let ex = exchanges(&out.path().join("r"));
    assert!(ex.iter().all(|e| match &e.outcome {
        ExchangeOutcome::Failed { message, .. } => message.len() < 1000,
        _ => false,
    }));
    (stdout, ex)
}

#[test]
fn a_garbled_body_is_never_printed_whole() {
    // 2 MB that are not JSON, for every request.
    let (stdout, _) = garbled_run(|_, _| Behave::Raw("<html>".repeat(350_000)));
    assert!(stdout.contains("6 bad response"), "{stdout}");
}

#[test]
fn a_garbled_body_under_the_cap_is_never_printed_whole() {
    // 300 kB that are not JSON (the body is read whole, under the 1 MiB cap), and a server
    // error with a body as large: the paths on which an OpenAI client library would log it.
    let (_, ex) = garbled_run(|n, _| {
        if n % 2 == 0 {
            Behave::Raw("<html>".repeat(50_000))
        } else {
            Behave::RawStatus(500, "<html>".repeat(50_000))
        }
    });
    assert!(ex.iter().any(|e| matches!(&e.outcome,
        ExchangeOutcome::Failed { message, .. } if message.contains("not JSON"))));
}

#[test]
fn sweep_shards_on_their_own_servers_add_up_llm_use_and_match_a_sweep_on_one_server() {
    use simulacra::sweep::{merge, plan::Plan, run_sweep, shard::Shard};
    let tmp = tempfile::tempdir().unwrap();
    let spec = |mock: &Mock, out: &str| llm_sweep(mock, tmp.path().join(out), vec![1, 2, 3, 4]);
    let one = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let whole = run_sweep(&spec(&one, "whole"), None, None)
        .unwrap()
        .result
        .unwrap();
    assert_eq!(whole.llm.runs, 4);
    assert_eq!(whole.llm.totals.requests, one.requests() as u64);
    assert!(whole.llm.totals.prompt_tokens > 0);

    // Each shard is pointed at its own server: the plan still agrees (the server is not part
    // of a run's identity), each server answers its shard's runs only.
    let servers = [
        Mock::start(|_, p| Behave::Answer(good_answer(p))),
        Mock::start(|_, p| Behave::Answer(good_answer(p))),
    ];
    for (index, server) in servers.iter().enumerate() {
        let done = run_sweep(
            &spec(server, "sharded"),
            Some(Shard { index, count: 2 }),
            None,
        )
        .unwrap();
        assert_eq!(done.counts.ran, 2);
        assert!(done.result.is_none());
    }
    let (a, b) = (servers[0].requests(), servers[1].requests());
    assert!(a > 0 && b > 0);
    assert_eq!((a + b) as u64, whole.llm.totals.requests);
    let out = tmp.path().join("sharded");
    let merged = merge::merge(&out, &Plan::read(&out).unwrap()).unwrap();
    assert_eq!(merged.llm, whole.llm);
    assert_eq!(
        std::fs::read(out.join("aggregate.csv")).unwrap(),
        std::fs::read(tmp.path().join("whole/aggregate.csv")).unwrap()
    );
}

/// A copy of `full`'s run folder stopped two thirds of the way through its log (no summary).
fn stopped_copy_of(full: &std::path::Path, into: &std::path::Path) -> Vec<u8> {
    let bytes = std::fs::read(full.join("run.log")).unwrap();
    std::fs::create_dir_all(into).unwrap();
    std::fs::write(into.join("run.log"), &bytes[..bytes.len() * 2 / 3]).unwrap();
    bytes
}

#[test]
fn resume_set_points_a_stopped_run_at_another_server_and_the_log_is_the_uninterrupted_one() {
    let first = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let (full_dir, full) = run(&llm_scenario(&first, &[]));
    // The run's node is gone, and its server with it; another node has its own.
    drop(first);
    let second = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let dir = tempfile::tempdir().unwrap();
    let bytes = stopped_copy_of(full_dir.path(), dir.path());
    let d = dir.path().to_str().unwrap();

    // A key that could change the results is refused, naming the ones that are taken, and
    // the folder is left as it was.
    let o = common::simulacra(&["resume", d, "--set", "llm.model=another-model"]);
    assert_eq!(o.status.code(), Some(2));
    let e = common::stderr(&o);
    assert!(
        e.contains("llm.model")
            && e.contains("llm.base_url, llm.weights, llm.api_key_env, llm.timeout_seconds"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("run.log")).unwrap().len(),
        bytes.len() * 2 / 3
    );

    let url = second.url();
    let o = common::simulacra(&["resume", d, "--set", &url, "--set", "llm.concurrency=3"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert!(second.requests() > 0, "the second server was never asked");
    assert_eq!(std::fs::read(dir.path().join("run.log")).unwrap(), bytes);
    let s: Summary =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(s.log_sha256, full.log_sha256);
    assert_replays(dir.path());
}

#[test]
fn a_sweep_resumes_a_stopped_run_against_the_server_it_is_given_now() {
    use simulacra::sweep::run_sweep;
    let tmp = tempfile::tempdir().unwrap();
    let spec = |mock: &Mock, out: &str| llm_sweep(mock, tmp.path().join(out), vec![1, 2]);
    let first = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let whole = spec(&first, "sweep");
    run_sweep(&whole, None, None).unwrap();
    // Seed 2's run was stopped part-way (a requeued task on a node that died).
    let run_dir = whole.out.join("base/seed-2");
    let bytes = std::fs::read(run_dir.join("run.log")).unwrap();
    std::fs::remove_file(run_dir.join("summary.json")).unwrap();
    std::fs::write(run_dir.join("run.log"), &bytes[..bytes.len() * 2 / 3]).unwrap();
    drop(first);

    // The sweep runs again on another node, with that node's server.
    let second = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let done = run_sweep(&spec(&second, "sweep"), None, None).unwrap();
    assert_eq!((done.counts.skipped, done.counts.resumed), (1, 1));
    assert!(second.requests() > 0, "the second server was never asked");
    assert_eq!(std::fs::read(run_dir.join("run.log")).unwrap(), bytes);
    assert_eq!(done.result.unwrap().rows.len(), 2);
}

#[test]
fn baselines_say_who_played_them_and_can_be_played_by_the_runs_own_llm_workers() {
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    // Unset: rational workers play the baselines, and every place that shows them says so.
    let (tmp, summary) = run(&llm_scenario(&mock, &[]));
    assert_eq!(mock.requests(), 31, "the baselines cost no calls");
    let note = summary.baselines.workers_note(&summary.planner).unwrap();
    assert!(
        note.contains("rational workers, not the run's llm workers"),
        "{note}"
    );
    let verdict = &summary.comparison.as_ref().unwrap().verdict;
    assert!(
        verdict.ends_with("(the baselines with rational workers)"),
        "{verdict}"
    );
    simulacra::report::write_report(tmp.path()).unwrap();
    let html = std::fs::read_to_string(tmp.path().join("report/report.html")).unwrap();
    assert!(!html.contains("same population and workers"));
    assert!(html.contains("Saez (rational workers)"), "the table row");
    assert!(html.contains("Note: the baselines are played by rational workers"));

    // "same": the run's own LLM workers play both baselines, asked live (2 games x 5 workers
    // x 6 steps), counted apart from the run's calls; nothing needs saying.
    let (_dir, same) = run(&llm_scenario(&mock, &["baselines.workers=same"]));
    let saez = same.baselines.saez.as_ref().unwrap();
    assert_eq!(saez.worker_policy, simulacra::config::WorkerPolicyName::Llm);
    assert!(same.baselines.workers_note(&same.planner).is_none());
    assert_eq!(same.baselines.llm.as_ref().unwrap().totals.requests, 60);
    assert_eq!(same.llm.as_ref().unwrap().totals.requests, 31);
    assert_eq!(mock.requests(), 31 + 31 + 60);
    // Worker i answers 10*i hours whatever the schedule: 20 hours on average.
    assert_eq!(saez.mean_hours, 20.0);
    assert!(!same.comparison.unwrap().verdict.contains("baselines with"));
}

fn planner_moves(dir: &std::path::Path) -> Vec<simulacra::frames::PlannerMove> {
    let mut r = LogReader::open(&dir.join("run.log")).unwrap();
    r.read_all::<Frame>()
        .0
        .into_iter()
        .filter_map(|(_, f)| match f {
            Frame::PlannerMove(m) => Some(m),
            _ => None,
        })
        .collect()
}

#[test]
fn the_elected_llm_leader_is_asked_for_her_move_between_elections_and_replays() {
    // One election (year 0, term 3); in years 1 and 2 the leader is asked. Her first answer is
    // the mock's [+10, 0, -10, ...]; her second is unusable twice, so she keeps the schedule.
    let mock = Mock::start(|_, p| {
        if p.contains("You were elected leader")
            && p.contains("Your own years as leader")
            && p.contains("year 1: TAX")
        {
            return Behave::Answer("I would rather not say".into());
        }
        Behave::Answer(good_answer(p))
    });
    let s = llm_scenario(
        &mock,
        &[
            "simulation.timesteps=9",
            "governance.mode=election",
            "governance.rule=plurality",
            "governance.term_years=3",
            "llm.max_reasks=1",
        ],
    );
    let (tmp, summary) = run(&s);
    let by = &summary.llm.as_ref().unwrap().by_role;
    // Asked every tax year, the election year too (her platform is a promise).
    assert_eq!(by["leader"].decisions, 3, "{by:?}");
    assert_eq!(by["leader"].fallbacks, 1);
    let leader_asks: Vec<LlmExchange> = exchanges(tmp.path())
        .into_iter()
        .filter(|e| e.role == "leader")
        .collect();
    assert_eq!(leader_asks.len(), 1 + 1 + 2);
    let moves = planner_moves(tmp.path());
    assert_eq!(moves.len(), 3);
    let leader: u64 = moves[0]
        .policy
        .trim_start_matches("elected worker ")
        .parse()
        .unwrap();
    assert!(leader_asks.iter().all(|e| e.agent == leader));
    assert_eq!(moves[1].policy, format!("elected worker {leader}"));
    // Year 1: her DELTA applied (the mock moves +10, 0, -10, ... points, clamped to 0..100).
    let want: Vec<i32> = moves[1]
        .previous_rates
        .iter()
        .enumerate()
        .map(|(j, r)| {
            let p = (r * 100.0).round() as i32;
            (p + [10, 0, -10][j % 3]).clamp(0, 100) - p
        })
        .collect();
    assert_eq!(moves[1].deltas_points, want);
    assert!(want.iter().any(|d| *d != 0));
    // Year 2: the fallback keeps the schedule.
    assert!(moves[2].deltas_points.iter().all(|d| *d == 0));
    assert_eq!(moves[2].rates, moves[1].rates);
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn llm_voters_delegate_in_a_liquid_election_and_the_count_follows_the_chains() {
    // Workers 0 and 1 vote for worker 1; 2 delegates to 0; 3 delegates to 4, who gives no
    // usable answer (an abstention), so 3's vote is lost.
    let mock = Mock::start(|_, p| {
        if p.contains("\"DELEGATE\"") {
            let answer = match worker_of(p) {
                Some(0 | 1) => json!({"LEADER": "1"}),
                Some(2) => json!({"DELEGATE": "0"}),
                Some(3) => json!({"DELEGATE": "4"}),
                _ => json!({"DELEGATE": "4"}), // herself: not among those offered
            };
            return Behave::Answer(answer.to_string());
        }
        Behave::Answer(good_answer(p))
    });
    let s = llm_scenario(
        &mock,
        &[
            "governance.mode=election",
            "governance.rule=liquid",
            "llm.max_reasks=1",
        ],
    );
    let (tmp, summary) = run(&s);
    let g = summary.governance.as_ref().unwrap();
    assert_eq!(g.elections, 2);
    for e in &g.liquid {
        assert_eq!(
            (
                e.measures.largest_weight,
                e.measures.delegated,
                e.measures.lost
            ),
            (2, 2, 1),
            "{e:?}"
        );
        // Weights [2, 1]: Gini 1/6.
        assert!((e.measures.weight_gini - 1.0 / 6.0).abs() < 1e-12);
    }
    let by = &summary.llm.as_ref().unwrap().by_role;
    assert_eq!(by["vote"].fallbacks, 2, "worker 4, once per election");
    every_winner_is(tmp.path(), "1");
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn an_llm_leaders_own_history_survives_a_resume_from_a_snapshot() {
    // One election (year 0, term 4), the leader asked in years 1..3; her year-3 prompt lists
    // her years 0..2, two of which only the snapshot of step 9 remembers. Had they been lost,
    // the re-asked request would differ from the recorded one and so would the log.
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let s = llm_scenario(
        &mock,
        &[
            "simulation.timesteps=12",
            "governance.mode=election",
            "governance.term_years=4",
            "log.snapshot_every_years=1",
            "llm.log_prompts=true",
        ],
    );
    let (full_dir, full) = run(&s);
    assert_eq!(full.llm.as_ref().unwrap().by_role["leader"].decisions, 4);
    let dir = tempfile::tempdir().unwrap();
    crash_after(full_dir.path(), 10, &[6, 9], dir.path());
    let r = simulacra::run::resume_run(dir.path()).unwrap();
    assert_eq!(r.from_snapshot, Some(9));
    assert_eq!(r.summary.log_sha256, full.log_sha256);
    let leader_prompts: Vec<String> = exchanges(dir.path())
        .into_iter()
        .filter(|e| e.role == "leader")
        .filter_map(|e| e.messages.map(|m| m[1].1.clone()))
        .collect();
    let last = leader_prompts
        .last()
        .expect("the leader's prompts are logged");
    assert!(last.contains("Your own years as leader"), "{last}");
    // Three years as leader, and her three steps of the last tax year.
    assert!(last.matches("-> your income").count() == 3, "{last}");
    assert!(
        last.matches("hours a week; your pre-tax income").count() == 3,
        "{last}"
    );
}

#[test]
fn llm_workers_choose_their_region_and_elect_among_residents_and_replay() {
    // Six workers in two regions (ids 0-2 and 3-5). Asked where to live, worker i answers
    // region i % 2: workers 1 and 4 move. Region 0 elects its leader among its residents
    // (each votes for herself); region 1 has a hill-climbing planner.
    let mock = Mock::start(|_, p| {
        let id = worker_of(p).unwrap_or(0);
        if p.contains("\"REGION\"") {
            Behave::Answer(json!({"REGION": (id % 2).to_string()}).to_string())
        } else if p.contains("\"LEADER\"") {
            Behave::Answer(json!({"LEADER": id.to_string()}).to_string())
        } else {
            Behave::Answer(good_answer(p))
        }
    });
    let s = llm_scenario(
        &mock,
        &[
            "simulation.num_agents=6",
            "planner.policy=hill-climb",
            "federation.regions=2",
            "federation.region=[{governance = \"election\", rule = \"plurality\"}, {}]",
            "llm.move.model=\"move-model\"",
        ],
    );
    let (tmp, summary) = run(&s);
    let moves: Vec<LlmExchange> = exchanges(tmp.path())
        .into_iter()
        .filter(|e| e.role == "move")
        .collect();
    assert!(moves.iter().all(|e| e.model == "move-model"));
    let by = &summary.llm.as_ref().unwrap().by_role;
    assert_eq!(by["move"].requests, 6);
    assert_eq!(by["move"].fallbacks, 0);
    // Two elections in region 0, three residents each: three platforms and three ballots.
    assert_eq!(by["platform"].requests, 6);
    assert_eq!(by["vote"].requests, 6);
    let fed = summary.federation.as_ref().unwrap();
    assert_eq!(fed.moves_total, 2);
    let pops: Vec<usize> = summary.regions.iter().map(|r| r.population).collect();
    assert_eq!(pops, vec![3, 3]);
    assert_eq!(
        (summary.regions[0].moves_in, summary.regions[0].moves_out),
        (1, 1)
    );
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn regions_and_the_federal_layer_have_llm_planners_of_their_own_and_replay() {
    // Two regions under LLM planners and an LLM federal planner: each is asked once (year 1)
    // under its own agent id, told whose schedule it sets, and its DELTA moves its own
    // schedule only.
    let mock = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let s = llm_scenario(
        &mock,
        &[
            "simulation.num_agents=6",
            "federation.regions=2",
            "federation.move_every_years=0",
            "federation.federal_planner=\"llm\"",
            "federation.federal_initial_rate=0.1",
            "llm.log_prompts=true",
        ],
    );
    let (tmp, summary) = run(&s);
    let planners: Vec<LlmExchange> = exchanges(tmp.path())
        .into_iter()
        .filter(|e| e.role == "planner")
        .collect();
    let mut agents: Vec<u64> = planners.iter().map(|e| e.agent).collect();
    agents.sort_unstable();
    use simulacra::frames::{FEDERAL_PLANNER_AGENT, planner_label, region_planner_agent};
    assert_eq!(
        agents,
        vec![
            region_planner_agent(1),
            region_planner_agent(0),
            FEDERAL_PLANNER_AGENT
        ]
    );
    for e in &planners {
        let system = &e.messages.as_ref().unwrap()[0].1;
        let label = planner_label(e.agent).unwrap();
        if e.agent == FEDERAL_PLANNER_AGENT {
            assert!(system.contains("You set the federal schedule"), "{system}");
            assert_eq!(label, "the federal planner");
        } else {
            let r = u64::MAX - 2 - e.agent;
            assert!(
                system.contains(&format!("You set the taxes of region {r} of")),
                "{system}"
            );
            assert!(system.contains("A federal schedule adds its rates"));
            assert!(!system.contains("rebated equally to every worker"));
            assert_eq!(label, format!("region {r}'s planner"));
        }
    }
    // Every schedule moved +10/0/-10 points from its start (clamped at 0).
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    let start = s.planner.initial_rate;
    for r in &summary.regions {
        assert!(close(r.rates[0], start + 0.1), "{:?}", r.rates);
        assert!(close(r.rates[1], start), "{:?}", r.rates);
        assert!(close(r.rates[2], start - 0.1), "{:?}", r.rates);
    }
    let fed = summary.federation.as_ref().unwrap();
    let f = fed.federal_rates.as_ref().unwrap();
    assert!(
        close(f[0], 0.2) && close(f[1], 0.1) && close(f[2], 0.0),
        "{f:?}"
    );
    drop(mock);
    assert_replays(tmp.path());
}

/// A mock whose every voter votes for herself and whose other answers are well-formed.
fn self_voting_mock() -> Mock {
    Mock::start(|_, p| {
        let id = worker_of(p).unwrap_or(0);
        if p.contains("\"LEADER\"") {
            Behave::Answer(json!({"LEADER": id.to_string()}).to_string())
        } else {
            Behave::Answer(good_answer(p))
        }
    })
}

#[test]
fn a_regions_elected_llm_leader_is_asked_with_her_regions_history_and_resumes() {
    // Region 0 (workers 0-2) elects a leader for four years (term 4); she is asked in years
    // 1..3, seeing region 0's years and residents. Her year-3 prompt lists two years only the
    // snapshot of step 9 remembers: the resumed log is the uninterrupted one.
    let mock = self_voting_mock();
    let s = llm_scenario(
        &mock,
        &[
            "simulation.num_agents=6",
            "simulation.timesteps=12",
            "planner.policy=hill-climb",
            "federation.regions=2",
            "federation.move_every_years=0",
            "federation.region=[{governance = \"election\", rule = \"plurality\", term_years = 4}, {}]",
            "log.snapshot_every_years=1",
            "llm.log_prompts=true",
        ],
    );
    let (full_dir, full) = run(&s);
    assert_eq!(full.llm.as_ref().unwrap().by_role["leader"].decisions, 4);
    let asks: Vec<LlmExchange> = exchanges(full_dir.path())
        .into_iter()
        .filter(|e| e.role == "leader")
        .collect();
    assert!(asks.iter().all(|e| e.agent < 3), "a resident of region 0");
    let last = &asks.last().unwrap().messages.as_ref().unwrap()[1].1;
    assert!(
        last.contains("you lead region 0 of a federation of 2"),
        "{last}"
    );
    // Her history is region 0's: its rates, and three residents in the histograms.
    let year0 = &full.regions[0];
    assert!(last.contains("year 0: TAX = ["), "{last}");
    assert_eq!(last.matches("your utility").count(), 3, "{last}");
    let counted: usize = last
        .lines()
        .skip_while(|l| !l.starts_with("pre-tax incomes"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<usize>().ok())
        .sum();
    assert_eq!(counted, year0.population);
    let dir = tempfile::tempdir().unwrap();
    crash_after(full_dir.path(), 10, &[6, 9], dir.path());
    let r = simulacra::run::resume_run(dir.path()).unwrap();
    assert_eq!(r.from_snapshot, Some(9));
    assert_eq!(r.summary.log_sha256, full.log_sha256);
    drop(mock);
    assert_replays(full_dir.path());
}

#[test]
fn llm_voters_elect_a_region_and_the_federal_layer_in_one_step_and_replay() {
    // Region 0 (workers 0-2) elects every year; the nation elects the federal leader for three
    // years. Both elections fall on the same steps: the federal one's questions are asked and
    // recorded under roles of their own, so the replay tells them apart. Between elections the
    // federal leader is asked for her move with the federal layer's history.
    let mock = self_voting_mock();
    let s = llm_scenario(
        &mock,
        &[
            "simulation.num_agents=6",
            "simulation.timesteps=9",
            "planner.policy=hill-climb",
            "federation.regions=2",
            "federation.move_every_years=0",
            "federation.region=[{governance = \"election\", rule = \"plurality\", term_years = 1}, {}]",
            "federation.federal_governance=\"election\"",
            "federation.federal_term_years=3",
            "federation.federal_initial_rate=0.1",
            "llm.log_prompts=true",
            "llm.stand.model=\"stand-model\"",
            "llm.vote.model=\"vote-model\"",
            "llm.leader.model=\"leader-model\"",
        ],
    );
    let (tmp, summary) = run(&s);
    // A role's table serves its federal twin; a stand (logged "platform") takes [llm.stand].
    for e in exchanges(tmp.path()) {
        let want = match e.role.as_str() {
            "platform" | "federal_platform" => "stand-model",
            "vote" | "federal_vote" => "vote-model",
            "federal_leader" => "leader-model",
            _ => continue,
        };
        assert_eq!(e.model, want, "{}", e.role);
    }
    let by = &summary.llm.as_ref().unwrap().by_role;
    assert_eq!(by["federal_platform"].requests, 6, "{by:?}");
    assert_eq!(by["federal_vote"].requests, 6);
    assert_eq!(by["platform"].requests, 3 * 3);
    assert_eq!(by["vote"].requests, 3 * 3);
    assert_eq!(by["federal_leader"].decisions, 3);
    let all = exchanges(tmp.path());
    // A worker is told where her taxes and rebate come from.
    let labor = all.iter().find(|e| e.role == "worker").unwrap();
    let system = &labor.messages.as_ref().unwrap()[0].1;
    assert!(
        system.contains("You live in one of 2 regions")
            && system.contains("your region's plus the federal ones")
            && !system.contains("shared equally among all citizens as a rebate"),
        "{system}"
    );
    let federal_vote = all.iter().find(|e| e.role == "federal_vote").unwrap();
    let text = &federal_vote.messages.as_ref().unwrap()[1].1;
    assert!(
        text.contains("the whole nation elects the federal leader"),
        "{text}"
    );
    let leader = all.iter().rfind(|e| e.role == "federal_leader").unwrap();
    let text = &leader.messages.as_ref().unwrap()[1].1;
    assert!(text.contains("you lead the federal layer"), "{text}");
    // Her history is the federal layer's: from 10 % everywhere, year 0's winner moved it by
    // her platform (the mock's +10, 0, -10).
    assert!(text.contains("year 0: TAX = [20%, 10%, 0%]"), "{text}");
    let g = summary
        .federation
        .as_ref()
        .unwrap()
        .federal_governance
        .as_ref()
        .unwrap();
    assert_eq!(g.elections, 1);
    drop(mock);
    assert_replays(tmp.path());
}

#[test]
fn a_sweep_run_stopped_by_its_fallbacks_is_no_result_and_the_next_sweep_resumes_it() {
    use simulacra::sweep::run_sweep;
    let tmp = tempfile::tempdir().unwrap();
    let spec = |mock: &Mock| llm_sweep(mock, tmp.path().join("sweep"), vec![1]);
    // Every answer is unusable: the run stops early on its fallback share.
    let broken = Mock::start(|_, _| Behave::Answer("Sorry, I cannot help with that.".into()));
    let Err(err) = run_sweep(&spec(&broken), None, None) else {
        panic!("a sweep whose only run stopped early succeeded");
    };
    let text = format!("{err:#}");
    assert!(text.contains("stopped before its end"), "{text}");
    drop(broken);
    // Its summary says it stopped: the next sweep resumes it rather than counting it as done.
    let good = Mock::start(|_, p| Behave::Answer(good_answer(p)));
    let done = run_sweep(&spec(&good), None, None).unwrap();
    assert_eq!((done.counts.skipped, done.counts.resumed), (0, 1));
    assert_eq!(done.result.unwrap().rows.len(), 1);
}
