//! End to end against a real language model: `scenarios/smollm2.toml` (3 LLM workers, the LLM
//! planner, 4 steps) played against SmolLM2-135M-Instruct served by `tests/smollm2/server.mjs`.
//! It checks the plumbing, not the economics (a 135M model is not economically meaningful):
//! requests reach the server with a JSON schema, the grammar-constrained answers parse, the
//! hours stay in range, tokens are counted, and the run replays byte for byte with no server.
//!
//! It runs only when `SIMULACRA_SMOLLM2_URL` names the server's API base; otherwise it says
//! why it was skipped and passes. `.ci/run` sets it up:
//!
//! ```text
//! tests/smollm2/setup.sh && eval "$(tests/smollm2/serve.sh)"
//! SIMULACRA_SMOLLM2_URL=$SIMULACRA_SMOLLM2_URL cargo test --test smollm2 -- --nocapture
//! kill "$(cat target/smollm2/server.pid)"
//! ```

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde_json::Value;
use simulacra::config::Scenario;
use simulacra::frames::{ExchangeOutcome, Frame, LlmExchange};
use simulacra::run::{ReplayVerdict, run_scenario, verify_replay};
use simulacra_actors::LogReader;

const URL_VAR: &str = "SIMULACRA_SMOLLM2_URL";

fn frames(dir: &Path) -> Vec<Frame> {
    let mut r = LogReader::open(&dir.join("run.log")).expect("the run log opens");
    r.read_all::<Frame>()
        .0
        .into_iter()
        .map(|(_, f)| f)
        .collect()
}

#[test]
fn a_tiny_run_against_smollm2_plays_and_replays() {
    let url = match std::env::var(URL_VAR) {
        Ok(u) if !u.trim().is_empty() => u.trim().to_string(),
        _ => {
            // Written to the process's stderr, not through println!, so that the default
            // `cargo test --workspace` (which captures a passing test's output) shows it.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {URL_VAR} is not set (run tests/smollm2/setup.sh and \
                 tests/smollm2/serve.sh to serve SmolLM2-135M locally)"
            );
            return;
        }
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smollm2.toml");
    let scenario = Scenario::load(Some(&path), &[format!("llm.base_url=\"{url}\"")])
        .expect("scenarios/smollm2.toml loads");
    assert_eq!(scenario.simulation.num_agents, 3);
    assert_eq!(scenario.simulation.timesteps, 4);

    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let summary = run_scenario(&scenario, tmp.path(), None).expect("the run completes");
    println!(
        "smollm2 run against {url}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(summary.steps_run, 4, "halted: {:?}", summary.halted);
    assert_eq!(summary.halted, None);

    let llm = summary
        .llm
        .clone()
        .expect("an LLM run reports its requests");
    println!(
        "llm: {}",
        serde_json::to_string(&llm).expect("the stats serialize")
    );
    let workers = &llm.by_role["worker"];
    assert!(workers.requests > 0, "no worker request was sent");
    assert!(workers.prompt_tokens > 0 && workers.completion_tokens > 0);

    let frames = frames(tmp.path());
    let exchanges: Vec<&LlmExchange> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Llm(e) => Some(e),
            _ => None,
        })
        .collect();
    // A connection failure would fall back silently: make sure the server actually answered,
    // and that its schema-constrained answers are the JSON the workers asked for.
    let answers: Vec<&str> = exchanges
        .iter()
        .filter(|e| e.role == "worker")
        .filter_map(|e| match &e.outcome {
            ExchangeOutcome::Response { text, .. }
            | ExchangeOutcome::CachedResponse { text, .. } => Some(text.as_str()),
            ExchangeOutcome::Failed { .. } => None,
        })
        .collect();
    assert!(!answers.is_empty(), "the server answered no worker request");
    for text in &answers {
        let v: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("a worker answer is not JSON ({e}): {text:?}"));
        assert!(v.get("LABOR").is_some(), "no LABOR in {text:?}");
    }
    println!("first worker answer: {:?}", answers[0]);

    // Every worker's hours, at every step, are in [0, max_hours].
    let max_hours = scenario.economy.max_hours;
    let mut steps = Vec::new();
    for f in &frames {
        if let Frame::Decisions { step, hours, .. } = f {
            assert_eq!(hours.len(), 3, "step {step}");
            for h in hours {
                assert!(
                    (0.0..=max_hours).contains(h),
                    "step {step}: {h} hours is outside [0, {max_hours}]"
                );
            }
            steps.push(*step);
        }
    }
    assert_eq!(steps.len(), 4, "one Decisions frame per step: {steps:?}");

    // The recording answers the replay: no server needed.
    match verify_replay(tmp.path()).expect("the replay runs") {
        ReplayVerdict::Identical { frames } => println!("replay: identical ({frames} frames)"),
        ReplayVerdict::Differs(d) => panic!("replay differs: {d}"),
        ReplayVerdict::Failed(why) => panic!("replay failed: {why}"),
        ReplayVerdict::Unfinished { steps, .. } => panic!("unfinished at step {steps}"),
    }
}
