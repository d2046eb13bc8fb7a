//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use simulacra::config::{DEFAULT_SCENARIO, Scenario};

/// The default scenario with `sets` applied (environment ignored).
pub fn scenario(sets: &[&str]) -> Scenario {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Scenario::resolve(DEFAULT_SCENARIO, &[], &sets).expect("valid test scenario")
}

/// Runs the `simulacra` binary.
pub fn simulacra(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simulacra"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the simulacra binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn out_dir(tmp: &Path, name: &str) -> PathBuf {
    tmp.join(name)
}

/// The worker id a prompt belongs to ("You are worker_7"), if any.
pub fn worker_of(prompt: &str) -> Option<usize> {
    let at = prompt.find("worker_")? + "worker_".len();
    prompt[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// A well-formed answer to whatever the prompt asks for (the last quoted key wins, as in the
/// project's Python mock): hours from the worker id, +10/0/-10 moves, YES, a persona.
pub fn good_answer(prompt: &str) -> String {
    let last = |k: &str| prompt.rfind(&format!("\"{k}\"")).map_or(-1, |p| p as i64);
    let (labor, delta, answer) = (last("LABOR"), last("DELTA"), last("ANSWER"));
    if delta > labor && delta > answer {
        let n = prompt[delta as usize..]
            .split_once('[')
            .and_then(|(_, rest)| rest.split_once(']'))
            .map_or(1, |(inside, _)| inside.matches('X').count().max(1));
        let moves: Vec<i32> = (0..n).map(|i| [10, 0, -10][i % 3]).collect();
        return serde_json::json!({"DELTA": moves}).to_string();
    }
    if answer > labor {
        return serde_json::json!({"thought": "fine", "ANSWER": "YES"}).to_string();
    }
    if labor >= 0 {
        let h = 10 * (worker_of(prompt).unwrap_or(0) % 11);
        return serde_json::json!({"LABOR": h.to_string()}).to_string();
    }
    "You are a worker with a steady job and modest savings, careful with money.".into()
}

/// Serves `app` on a free port of 127.0.0.1, on a thread of its own, until `stop` resolves:
/// letting the requests in flight finish (`graceful`), or dropping every connection at once,
/// as a crashed server does.
pub fn serve(
    app: axum::Router,
    graceful: bool,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::net::SocketAddr {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let serving = axum::serve(listener, app);
            if graceful {
                serving.with_graceful_shutdown(stop).await.unwrap();
            } else {
                tokio::select! {
                    _ = serving => {}
                    _ = stop => {}
                }
            }
        });
    });
    addr_rx.recv().unwrap()
}

/// A chat request's messages' contents, one per line (what the test servers answer to).
pub fn prompt_of(body: &serde_json::Value) -> String {
    body["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|x| x["content"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// `replay --verify` of the run in `dir` finds every frame identical (all of a finished run's;
/// all those a stopped run's log holds).
pub fn assert_replays(dir: &Path) {
    use simulacra::run::{ReplayVerdict, verify_replay};
    match verify_replay(dir).unwrap() {
        ReplayVerdict::Identical { .. } => {}
        ReplayVerdict::Unfinished { torn_frames: 0, .. } => {}
        ReplayVerdict::Differs(d) => panic!("replay differs: {d}"),
        ReplayVerdict::Failed(why) => panic!("replay failed: {why}"),
        ReplayVerdict::Unfinished { steps, .. } => panic!("a step cut short after {steps}"),
    }
}

/// Every frame of the run log in `dir`, in order.
pub fn frames(dir: &Path) -> Vec<simulacra::frames::Frame> {
    let mut r = simulacra_actors::LogReader::open(&dir.join("run.log")).unwrap();
    r.read_all::<simulacra::frames::Frame>()
        .0
        .into_iter()
        .map(|(_, f)| f)
        .collect()
}

/// The frames before step `at` begins (what a fork from `at` shares with its parent).
pub fn prefix(frames: &[simulacra::frames::Frame], at: u64) -> &[simulacra::frames::Frame] {
    let end = frames
        .iter()
        .position(|f| matches!(f, simulacra::frames::Frame::StepBegin { step, .. } if *step == at))
        .unwrap();
    &frames[..end]
}
