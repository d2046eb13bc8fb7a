//! Determinism and replay: the same scenario and seed give a byte-identical log whatever the
//! shard (thread) count; another seed gives another log; `replay --verify` re-executes a run
//! and finds it identical, and finds a tampered log different.

mod common;

use simulacra::run::{ReplayVerdict, run_scenario, verify_replay};
use simulacra_actors::Divergence;

fn log_bytes(sets: &[&str]) -> (Vec<u8>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let s = common::scenario(sets);
    let summary = run_scenario(&s, tmp.path(), None).unwrap();
    (
        std::fs::read(tmp.path().join("run.log")).unwrap(),
        summary.log_sha256,
    )
}

const SMALL: [&str; 3] = [
    "simulation.num_agents=40",
    "simulation.timesteps=120",
    "simulation.tax_year_length=10",
];

#[test]
fn same_seed_same_bytes_across_shard_counts() {
    for policy in ["rational", "bounded"] {
        let with = |shards: &str| {
            let mut sets = SMALL.to_vec();
            let p = format!("workers.policy={policy}");
            sets.push(&p);
            sets.push(shards);
            log_bytes(&sets)
        };
        let one = with("simulation.shards=1");
        let two = with("simulation.shards=2");
        let five = with("simulation.shards=5");
        // Compare hashes (a failing byte comparison would print megabytes).
        assert_eq!(one.1, two.1, "{policy}: 1 vs 2 shards");
        assert_eq!(one.1, five.1, "{policy}: 1 vs 5 shards");
        assert_eq!(one.0.len(), two.0.len());
        // The summary's hash is the file's hash.
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("run.log");
        std::fs::write(&p, &one.0).unwrap();
        assert_eq!(one.1, simulacra_actors::log::file_sha256(&p).unwrap());
    }
}

#[test]
fn different_seeds_differ() {
    let mut a = SMALL.to_vec();
    a.push("simulation.seed=1");
    let mut b = SMALL.to_vec();
    b.push("simulation.seed=2");
    assert_ne!(log_bytes(&a).1, log_bytes(&b).1);
}

#[test]
fn replay_verifies_and_catches_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sets = SMALL.to_vec();
    sets.push("workers.policy=bounded");
    let s = common::scenario(&sets);
    run_scenario(&s, tmp.path(), None).unwrap();
    match verify_replay(tmp.path()).unwrap() {
        ReplayVerdict::Identical { frames } => assert!(frames > 120 * 3),
        ReplayVerdict::Differs(d) => panic!("an untouched run must replay identically: {d}"),
        ReplayVerdict::Failed(why) => panic!("an untouched run must replay: {why}"),
        ReplayVerdict::Unfinished { steps, .. } => panic!("a finished run, not at {steps}"),
    }

    // Rewrite one logged hours value (with a valid checksum) so the log is well-formed but
    // no longer what the scenario produces.
    let path = tmp.path().join("run.log");
    let mut reader = simulacra_actors::LogReader::open(&path).unwrap();
    let mut target = None;
    while let Some(Ok(raw)) = reader.next_raw() {
        if let Ok(simulacra::frames::Frame::Decisions { step: 50, .. }) = raw.decode() {
            target = Some(raw);
            break;
        }
    }
    let raw = target.expect("step 50 was logged");
    let mut frame: simulacra::frames::Frame = raw.decode().unwrap();
    if let simulacra::frames::Frame::Decisions { hours, .. } = &mut frame {
        hours[3] = if hours[3] == 10.0 { 20.0 } else { 10.0 };
    }
    let mut payload = Vec::new();
    simulacra_actors::log::encode_payload(&frame, &mut payload).unwrap();
    assert_eq!(
        payload.len(),
        raw.payload.len(),
        "same-size edit keeps later offsets"
    );
    let mut bytes = std::fs::read(&path).unwrap();
    let at = raw.offset as usize;
    bytes[at + 4..at + 8].copy_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes[at + 8..at + 8 + payload.len()].copy_from_slice(&payload);
    std::fs::write(&path, &bytes).unwrap();
    match verify_replay(tmp.path()).unwrap() {
        ReplayVerdict::Differs(Divergence::Differs { offset, .. }) => {
            assert_eq!(offset, raw.offset)
        }
        ReplayVerdict::Differs(d) => panic!("expected the tampered frame to differ, got {d}"),
        ReplayVerdict::Identical { .. } => panic!("a tampered log must not verify"),
        ReplayVerdict::Failed(why) => panic!("expected a frame difference, got {why}"),
        ReplayVerdict::Unfinished { steps, .. } => {
            panic!("a tampered log, not unfinished at {steps}")
        }
    }
}

#[test]
fn an_unfinished_run_replays_as_unfinished_not_as_damaged() {
    // What a Ctrl-C leaves (the log ends on a whole step) and what a kill leaves (then part of
    // a step): every frame matches, and the verdict says the run is unfinished and how many
    // frames of a step it did not finish follow.
    let tmp = tempfile::tempdir().unwrap();
    let s = common::scenario(&SMALL);
    run_scenario(&s, tmp.path(), None).unwrap();
    let path = tmp.path().join("run.log");
    let full = std::fs::read(&path).unwrap();
    // The frame ends: those of step 30's outcome and of the frames after it.
    let mut ends: Vec<(bool, u64)> = Vec::new();
    simulacra::runlog::RunLog::open(tmp.path())
        .unwrap()
        .frames(|frame, end| {
            let outcome_30 = matches!(&frame, simulacra::frames::Frame::Outcome(o) if o.step == 29);
            ends.push((outcome_30, end));
            Ok(())
        })
        .unwrap();
    let at = ends.iter().position(|(o, _)| *o).unwrap();
    for (cut, torn) in [(ends[at].1, 0u64), (ends[at + 3].1, 3)] {
        std::fs::write(&path, &full[..cut as usize]).unwrap();
        match verify_replay(tmp.path()).unwrap() {
            ReplayVerdict::Unfinished {
                frames,
                steps,
                timesteps,
                torn_frames,
            } => {
                assert_eq!((steps, timesteps, torn_frames), (30, 120, torn));
                assert_eq!(frames, at as u64 + 1 + torn);
            }
            ReplayVerdict::Differs(d) => panic!("cut at {cut}: {d}"),
            ReplayVerdict::Identical { .. } => panic!("cut at {cut}: identical"),
            ReplayVerdict::Failed(why) => panic!("cut at {cut}: {why}"),
        }
    }
}

#[test]
fn the_progress_count_runs_through_the_baselines() {
    // One count for the run and its two baselines: it rises step by step to 3 x the run's
    // steps, so a bar does not sit at its end while the baselines are played.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = std::sync::Arc::clone(&seen);
    let progress: simulacra_actors::Progress = Box::new(move |done, total| {
        record.lock().unwrap().push((done, total));
    });
    let tmp = tempfile::tempdir().unwrap();
    let s = common::scenario(&["simulation.num_agents=20", "simulation.timesteps=50"]);
    run_scenario(&s, tmp.path(), Some(progress)).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 150);
    assert!(seen.iter().all(|&(_, total)| total == 150), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[1].0 == w[0].0 + 1), "{seen:?}");
    assert_eq!(seen.last(), Some(&(150, 150)));
}
