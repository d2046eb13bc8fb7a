//! Damage in the middle of a log against a torn tail: for random one-byte flips and cuts of a
//! finished run's log, `resume` names corruption with its offset and the true counts of what
//! lies beyond it, or a torn tail exactly when nothing valid follows; either way the resumed
//! log is the undamaged one, byte for byte. The bytes cut from a corrupt log are kept beside
//! it, and an LLM run's recorded answers past the damage are reused, not asked again.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simulacra::frames::{ExchangeOutcome, Frame};
use simulacra::run::{Resumed, resume_run, run_scenario};
use simulacra_actors::LogReader;

/// Every frame after the header: (offset, end, frame), and where the header ends.
struct Layout {
    header_end: u64,
    frames: Vec<(u64, u64, Frame)>,
}

fn layout(log: &Path) -> Layout {
    let mut r = LogReader::open(log).unwrap();
    let header_end = r.header_end();
    let mut frames = Vec::new();
    while let Some(raw) = r.next_raw() {
        let raw = raw.unwrap();
        frames.push((raw.offset, raw.end(), raw.decode::<Frame>().unwrap()));
    }
    Layout { header_end, frames }
}

impl Layout {
    /// The frame holding byte `pos`.
    fn frame_at(&self, pos: u64) -> usize {
        self.frames
            .iter()
            .position(|(a, b, _)| (*a..*b).contains(&pos))
            .unwrap()
    }

    /// What lies after frame `k`, counted from the undamaged log: whole steps (their begin
    /// after `k`) and LLM exchanges with an answer.
    fn after(&self, k: usize) -> (u64, u64) {
        let rest = &self.frames[k + 1..];
        let steps = rest
            .iter()
            .filter(|f| matches!(f.2, Frame::StepBegin { .. }))
            .count();
        let answers = rest
            .iter()
            .filter(|f| {
                matches!(&f.2, Frame::Llm(e) if !matches!(e.outcome, ExchangeOutcome::Failed { .. }))
            })
            .count();
        (steps as u64, answers as u64)
    }
}

/// Writes `bytes` as the log of a fresh run folder and resumes it.
fn resume_damaged(bytes: &[u8]) -> (tempfile::TempDir, Resumed) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("run.log"), bytes).unwrap();
    let r = resume_run(dir.path()).unwrap_or_else(|e| panic!("resume failed: {e:#}"));
    (dir, r)
}

/// Checks a resume of a log whose frame `k` was damaged (bytes `damaged`) against the truth.
fn check_corruption(what: &str, lay: &Layout, k: usize, damaged: &[u8], dir: &Path, r: &Resumed) {
    let (offset, _, _) = lay.frames[k];
    if k + 1 == lay.frames.len() {
        assert!(
            r.corruption.is_none(),
            "{what}: the last frame is a torn tail"
        );
        assert!(r.kept.is_none(), "{what}");
        return;
    }
    let (d, beyond) = r
        .corruption
        .as_ref()
        .unwrap_or_else(|| panic!("{what}: valid frames follow, so this is corruption"));
    assert!(!d.torn, "{what}");
    assert_eq!(d.offset, offset, "{what}");
    assert!(
        d.message.contains(&format!("corrupt at byte {offset}")),
        "{what}: {d}"
    );
    assert_eq!(beyond.next_valid, Some(lay.frames[k + 1].0), "{what}");
    assert_eq!((beyond.steps, beyond.llm_answers), lay.after(k), "{what}");
    let (kept, from) = r.kept.as_ref().expect("the cut bytes are kept");
    assert_eq!(kept, &dir.join(format!("run.log.damaged-at-{offset}")));
    assert_eq!(
        std::fs::read(kept).unwrap(),
        &damaged[*from as usize..],
        "{what}"
    );
}

#[test]
fn random_flips_and_cuts_are_told_apart_and_resume_to_the_same_log() {
    let s = common::scenario(&[
        "simulation.num_agents=12",
        "simulation.timesteps=16",
        "simulation.tax_year_length=4",
        "workers.policy=bounded",
        "baselines.enabled=false",
    ]);
    let full_dir = tempfile::tempdir().unwrap();
    let full = run_scenario(&s, full_dir.path(), None).unwrap();
    let log = full_dir.path().join("run.log");
    let bytes = std::fs::read(&log).unwrap();
    let lay = layout(&log);
    let cases: u64 = std::env::var("RESYNC_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(60);
    let mut rng = ChaCha8Rng::seed_from_u64(26);
    let (mut corrupt, mut torn) = (0, 0);
    for case in 0..cases {
        let pos = rng.random_range(lay.header_end..bytes.len() as u64);
        let mut damaged = bytes.clone();
        // Every third case a cut, else a flip; one case in four of the flips hits a length.
        let what = if case % 3 == 2 {
            damaged.truncate(pos as usize);
            format!("case {case}: cut at {pos}")
        } else {
            let k = lay.frame_at(pos);
            let pos = if case % 4 == 0 {
                lay.frames[k].0 + rng.random_range(0..4)
            } else {
                pos
            };
            let xor = rng.random_range(1..=255u8);
            damaged[pos as usize] ^= xor;
            format!("case {case}: byte {pos} of frame {k} xor {xor:#04x}")
        };
        let (dir, r) = resume_damaged(&damaged);
        if damaged.len() == bytes.len() {
            let k =
                lay.frame_at((0..bytes.len()).find(|&i| damaged[i] != bytes[i]).unwrap() as u64);
            check_corruption(&what, &lay, k, &damaged, dir.path(), &r);
        } else {
            assert!(r.corruption.is_none(), "{what}: a cut is a torn tail");
            assert!(r.kept.is_none(), "{what}");
        }
        if r.corruption.is_some() {
            corrupt += 1;
        } else {
            torn += 1;
        }
        assert_eq!(
            std::fs::read(dir.path().join("run.log")).unwrap(),
            bytes,
            "{what}"
        );
        assert_eq!(r.summary.log_sha256, full.log_sha256, "{what}");
    }
    assert!(corrupt > 0 && torn > 0, "{corrupt} corrupt, {torn} torn");
}

/// The issue's case on the command line: a mid-log length that points past the end of the
/// file is corruption, named with the next valid frame and the counts, not a torn tail.
#[test]
fn the_cli_names_a_length_past_the_end_as_corruption_and_keeps_the_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let d = dir.to_str().unwrap();
    let o = common::simulacra(&[
        "run",
        "--set",
        "simulation.num_agents=10",
        "--set",
        "simulation.timesteps=20",
        "--set",
        "simulation.tax_year_length=5",
        "--quiet",
        "--out",
        d,
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let log = dir.join("run.log");
    let full = std::fs::read(&log).unwrap();
    let lay = layout(&log);
    let k = lay.frames.len() / 2;
    let at = lay.frames[k].0;
    let mut bytes = full.clone();
    bytes[at as usize + 2] ^= 0x10;
    std::fs::write(&log, &bytes).unwrap();
    std::fs::remove_file(dir.join("summary.json")).unwrap();

    // A reader refuses it as corruption instead of reading a short run.
    let o = common::simulacra(&["export", d, "--agents", "csv"]);
    assert!(!o.status.success());
    assert!(common::stderr(&o).contains(&format!("corrupt at byte {at}")));

    let o = common::simulacra(&["resume", d]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let (out, err) = (common::stdout(&o), common::stderr(&o));
    let (steps, _) = lay.after(k);
    assert!(out.contains(&format!("corrupt at byte {at}")), "{out}");
    assert!(
        out.contains(&format!(
            "next valid frame is at byte {}",
            lay.frames[k + 1].0
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("held {steps} more whole steps")),
        "{out}"
    );
    assert!(!out.contains("torn tail"), "{out}");
    let kept = dir.join(format!("run.log.damaged-at-{at}"));
    assert!(err.contains(&kept.display().to_string()), "{err}");
    assert!(err.contains("delete it once"), "{err}");
    assert!(kept.exists());
    assert_eq!(std::fs::read(&log).unwrap(), full);
}

/// An OpenAI-compatible server that answers every prompt well and counts the requests.
fn mock() -> (String, Arc<AtomicUsize>, tokio::sync::oneshot::Sender<()>) {
    use axum::Json;
    use axum::extract::State;
    use serde_json::{Value, json};
    async fn chat(State(count): State<Arc<AtomicUsize>>, Json(body): Json<Value>) -> Json<Value> {
        count.fetch_add(1, Ordering::SeqCst);
        let prompt = common::prompt_of(&body);
        Json(json!({
            "id": "chatcmpl-0", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant",
                "content": common::good_answer(&prompt)}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        }))
    }
    let count = Arc::new(AtomicUsize::new(0));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(chat))
        .with_state(Arc::clone(&count));
    let addr = common::serve(app, true, async {
        let _ = stopped.await;
    });
    (format!("llm.base_url=\"http://{addr}/v1\""), count, stop)
}

/// A flipped length field in an LLM run: the resume asks again only the exchange inside the
/// damaged frame (none when the frame is not an exchange); every answer after it is reused.
#[test]
fn an_llm_runs_answers_past_the_damage_are_reused_not_asked_again() {
    let (url, count, _stop) = mock();
    let s = common::scenario(&[
        "simulation.num_agents=5",
        "simulation.timesteps=6",
        "simulation.tax_year_length=3",
        "workers.policy=llm",
        "planner.policy=llm",
        "llm.backoff_ms=1",
        "llm.timeout_seconds=5",
        &url,
    ]);
    let full_dir = tempfile::tempdir().unwrap();
    let full = run_scenario(&s, full_dir.path(), None).unwrap();
    let log = full_dir.path().join("run.log");
    let bytes = std::fs::read(&log).unwrap();
    let lay = layout(&log);
    let step_of = |f: &Frame| match f {
        Frame::Llm(e) => Some((e.step, "llm")),
        Frame::Decisions { step, .. } => Some((*step, "decisions")),
        Frame::Outcome(o) => Some((o.step, "outcome")),
        _ => None,
    };
    // In step 3 (the middle of the run): a worker's exchange, the decisions, the outcome.
    for kind in ["llm", "decisions", "outcome"] {
        let k = lay
            .frames
            .iter()
            .position(|f| step_of(&f.2) == Some((3, kind)))
            .unwrap();
        let mut damaged = bytes.clone();
        damaged[lay.frames[k].0 as usize + 2] ^= 0x10;
        let before = count.load(Ordering::SeqCst);
        let (dir, r) = resume_damaged(&damaged);
        let asked_again = count.load(Ordering::SeqCst) - before;
        check_corruption(kind, &lay, k, &damaged, dir.path(), &r);
        let inside = usize::from(kind == "llm");
        assert_eq!(
            asked_again, inside,
            "{kind}: {asked_again} requests asked again"
        );
        assert!(
            r.salvaged >= lay.after(k).1,
            "{kind}: {} reused",
            r.salvaged
        );
        assert_eq!(
            std::fs::read(dir.path().join("run.log")).unwrap(),
            bytes,
            "{kind}"
        );
        assert_eq!(r.summary.log_sha256, full.log_sha256, "{kind}");
    }
}
