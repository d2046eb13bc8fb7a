//! Damaged and foreign run files: frames with valid checksums that were deleted or reordered,
//! a summary from another run, a FIFO where the log should be. Every reader refuses or warns
//! with the byte offset; none panics, prints wrong numbers with exit 0 or waits forever.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{simulacra, stderr, stdout};
use simulacra::frames::Frame;
use simulacra_actors::LogReader;

const AGENTS: u64 = 20;
const STEPS: u64 = 60;

fn small_run(dir: &Path, seed: &str) {
    let o = simulacra(&[
        "run",
        "--set",
        &format!("simulation.num_agents={AGENTS}"),
        "--set",
        &format!("simulation.timesteps={STEPS}"),
        "--set",
        "simulation.tax_year_length=10",
        "--set",
        &format!("simulation.seed={seed}"),
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "run failed: {}", stderr(&o));
}

/// The byte range of every step's frames, from its `StepBegin` to the next one's.
fn step_ranges(log: &Path) -> Vec<(u64, u64)> {
    let mut reader = LogReader::open(log).unwrap();
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    while let Some(raw) = reader.next_raw() {
        let raw = raw.unwrap();
        if let Frame::StepBegin { .. } = raw.decode::<Frame>().unwrap() {
            ranges.push((raw.offset, raw.end()));
        } else {
            ranges.last_mut().unwrap().1 = raw.end();
        }
    }
    ranges
}

fn cut(bytes: &[u8], (a, b): (u64, u64)) -> &[u8] {
    &bytes[a as usize..b as usize]
}

#[test]
fn deleted_or_reordered_steps_are_refused_with_their_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir, "42");
    let d = dir.to_str().unwrap();
    let log = dir.join("run.log");
    let full = std::fs::read(&log).unwrap();
    let steps = step_ranges(&log);
    assert_eq!(steps.len() as u64, STEPS);

    let o = simulacra(&["export", d, "--agents", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with(&format!("{} rows", AGENTS * STEPS)));
    std::fs::remove_file(dir.join("agents.csv")).unwrap();
    std::fs::remove_file(dir.join("summary.json")).unwrap();

    // Step 25 deleted: every frame left has a valid checksum.
    let mut deleted = full[..steps[25].0 as usize].to_vec();
    deleted.extend_from_slice(&full[steps[26].0 as usize..]);
    // Steps 25 and 26 swapped (neither starts a tax year).
    let mut swapped = full[..steps[25].0 as usize].to_vec();
    swapped.extend_from_slice(cut(&full, steps[26]));
    swapped.extend_from_slice(cut(&full, steps[25]));
    swapped.extend_from_slice(&full[steps[27].0 as usize..]);
    // A planner move deleted (step 30 starts tax year 3).
    let mut no_move = Vec::new();
    {
        let mut reader = LogReader::open(&log).unwrap();
        let mut kept_until = 0usize;
        while let Some(raw) = reader.next_raw() {
            let raw = raw.unwrap();
            if let Frame::PlannerMove(m) = raw.decode::<Frame>().unwrap()
                && m.step == 30
            {
                no_move.extend_from_slice(&full[kept_until..raw.offset as usize]);
                kept_until = raw.end() as usize;
            }
        }
        no_move.extend_from_slice(&full[kept_until..]);
    }
    for (what, bytes) in [
        ("deleted", &deleted),
        ("swapped", &swapped),
        ("no move", &no_move),
    ] {
        std::fs::write(&log, bytes).unwrap();
        let at = format!("byte {}", steps[25].0);
        let at = if what == "no move" {
            // The move follows step 30's StepBegin frame.
            let mut reader = LogReader::open(&log).unwrap();
            let mut found = None;
            while let Some(Ok(raw)) = reader.next_raw() {
                if let Ok(Frame::StepBegin { step: 30, .. }) = raw.decode::<Frame>() {
                    found = Some(raw.end());
                }
            }
            format!("byte {}", found.unwrap())
        } else {
            at
        };

        let o = simulacra(&["report", d]);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", stderr(&o));
        assert!(stderr(&o).contains(&at), "{what}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("out of place"),
            "{what}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{what}: {}", stderr(&o));

        for format in ["csv", "parquet"] {
            let o = simulacra(&["export", d, "--agents", format]);
            assert_eq!(o.status.code(), Some(2), "{what}: {}", stdout(&o));
            assert!(stderr(&o).contains(&at), "{what}: {}", stderr(&o));
            assert!(!dir.join(format!("agents.{format}")).exists(), "{what}");
        }
        let o = simulacra(&["export", d, "--events", "jsonl"]);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", stdout(&o));
        assert!(!dir.join("events.jsonl").exists(), "{what}");

        // inspect refuses the log, and with --partial shows the intact steps and says where
        // the log stops being trustworthy.
        let o = simulacra(&["inspect", d]);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", stdout(&o));
        assert!(stderr(&o).contains(&at), "{what}: {}", stderr(&o));
        let o = simulacra(&["inspect", d, "--partial"]);
        assert!(o.status.success(), "{what}: {}", stderr(&o));
        // The warning goes to stderr, out of the table.
        assert!(stderr(&o).contains(&at), "{what}: {}", stderr(&o));
        assert!(!stdout(&o).contains(&at), "{what}: {}", stdout(&o));
    }
}

#[test]
fn resume_names_corruption_in_the_middle_and_restores_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir, "42");
    let log = dir.join("run.log");
    let full = std::fs::read(&log).unwrap();
    let steps = step_ranges(&log);
    let mut deleted = full[..steps[25].0 as usize].to_vec();
    deleted.extend_from_slice(&full[steps[26].0 as usize..]);
    std::fs::write(&log, &deleted).unwrap();

    let o = simulacra(&["resume", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!("corrupt at byte {}", steps[25].0)),
        "{out}"
    );
    // Steps 26..60 follow the deleted one: 34 whole steps recomputed.
    assert!(out.contains("held 34 more whole steps"), "{out}");
    assert!(!out.contains("unfinished step"), "{out}");
    assert!(stderr(&o).contains("found corruption"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&log).unwrap(), full);
}

#[test]
fn report_refuses_a_summary_of_another_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    small_run(&a, "1");
    small_run(&b, "2");
    let o = simulacra(&["report", a.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::copy(b.join("summary.json"), a.join("summary.json")).unwrap();
    let o = simulacra(&["report", a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("another run"), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn a_fifo_where_the_log_should_be_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(tmp.path().join("run.log"))
        .status()
        .unwrap();
    assert!(made.success());
    let d = tmp.path().to_str().unwrap();
    for cmd in ["inspect", "report", "resume"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_simulacra"))
            .args([cmd, d])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(30) {
                child.kill().unwrap();
                panic!("{cmd} waited on the FIFO");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        assert!(stderr(&o).contains("FIFO"), "{cmd}: {}", stderr(&o));
    }
}
