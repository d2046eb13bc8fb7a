//! Crash safety: a run cut off at any byte (a torn tail, an unfinished step) or killed with
//! SIGKILL at any moment resumes to the byte-identical log of an uninterrupted run.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use simulacra::run::{resume_run, run_scenario};

fn scenario() -> simulacra::config::Scenario {
    common::scenario(&[
        "simulation.num_agents=20",
        "simulation.timesteps=40",
        "simulation.tax_year_length=5",
        "workers.policy=bounded",
        "baselines.enabled=false",
    ])
}

#[test]
fn a_log_cut_at_any_byte_resumes_to_the_same_bytes() {
    let s = scenario();
    let full_dir = tempfile::tempdir().unwrap();
    let full = run_scenario(&s, full_dir.path(), None).unwrap();
    let bytes = std::fs::read(full_dir.path().join("run.log")).unwrap();
    // Cut points across the file: inside the header frame's neighbourhood, mid-frame, on frame
    // boundaries, and one byte short of the end.
    let mut cuts: Vec<usize> = (1..=23).map(|k| bytes.len() * k / 24).collect();
    cuts.push(bytes.len() - 1);
    for cut in cuts {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("run.log");
        std::fs::write(&log, &bytes[..cut]).unwrap();
        let header_len = {
            // A cut inside the header cannot be resumed (the scenario is unreadable): skip it.
            simulacra_actors::LogReader::open(&log).is_ok()
        };
        if !header_len {
            continue;
        }
        let r = resume_run(dir.path()).unwrap_or_else(|e| panic!("cut at {cut}: {e:#}"));
        assert_eq!(r.summary.log_sha256, full.log_sha256, "cut at {cut}");
        assert_eq!(std::fs::read(&log).unwrap(), bytes, "cut at {cut}");
        assert_eq!(r.summary.swf_final, full.swf_final);
    }
}

#[test]
fn sigkill_at_twenty_moments_then_resume_gives_the_uninterrupted_log() {
    let bin = env!("CARGO_BIN_EXE_simulacra");
    let sets = [
        "--set",
        "simulation.num_agents=300",
        "--set",
        "simulation.timesteps=300",
        "--set",
        "simulation.tax_year_length=10",
        "--set",
        "workers.policy=bounded",
        "--set",
        "baselines.enabled=false",
        "--quiet",
    ];
    let reference = tempfile::tempdir().unwrap();
    let ok = Command::new(bin)
        .arg("run")
        .args(sets)
        .arg("--out")
        .arg(reference.path())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let expected = std::fs::read(reference.path().join("run.log")).unwrap();

    let mut killed_mid_run = 0;
    for k in 0..20u64 {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("run.log");
        let mut child = Command::new(bin)
            .arg("run")
            .args(sets)
            .arg("--out")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Spread the kills over the run by how much of its log is written (2% .. 90% of the
        // finished log's bytes): the test awaits that event, not a time, so a loaded machine
        // moves the kill only by what the run writes between a look and the kill.
        let at = expected.len() as u64 * (2 + 88 * k / 19) / 100;
        let finished = loop {
            if child.try_wait().unwrap().is_some() {
                break true;
            }
            if std::fs::metadata(&log).is_ok_and(|m| m.len() >= at) {
                break false;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        if !finished {
            killed_mid_run += 1;
        }
        // Killed between the log's creation and its header reaching the disk (a window of
        // one write): nothing to resume.
        if simulacra_actors::LogReader::open(&log).is_err() {
            continue;
        }
        let out = Command::new(bin)
            .arg("resume")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "resume after a kill at byte {at}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = std::fs::read(&log).unwrap();
        assert!(
            got == expected,
            "kill {k} at byte {at}: resumed log differs"
        );
    }
    // A kill lands after the run's end only if the run wrote the last 10% of its log between
    // a look at its size and the kill.
    assert!(
        killed_mid_run >= 15,
        "only {killed_mid_run} of 20 kills landed mid-run"
    );
}

#[test]
fn a_fork_shares_the_prefix_byte_for_byte_then_diverges_and_replays() {
    let s = common::scenario(&[
        "simulation.num_agents=20",
        "simulation.timesteps=60",
        "simulation.tax_year_length=10",
        "workers.policy=bounded",
        "baselines.enabled=false",
    ]);
    let parent = tempfile::tempdir().unwrap();
    run_scenario(&s, parent.path(), None).unwrap();
    let child = tempfile::tempdir().unwrap();
    let sets = vec![
        "planner.policy=saez".to_string(),
        "simulation.timesteps=80".to_string(),
    ];
    let forked = simulacra::run::fork_run(parent.path(), 30, &sets, child.path()).unwrap();
    assert_eq!(forked.summary.steps_run, 80);

    let frames = |dir: &std::path::Path| {
        let mut r = simulacra_actors::LogReader::open(&dir.join("run.log")).unwrap();
        let mut out = Vec::new();
        while let Some(Ok(raw)) = r.next_raw() {
            let f: simulacra::frames::Frame = raw.decode().unwrap();
            let step = match &f {
                simulacra::frames::Frame::StepBegin { step, .. } => Some(*step),
                _ => None,
            };
            out.push((step, raw.payload));
        }
        out
    };
    let (p, c) = (frames(parent.path()), frames(child.path()));
    let boundary = p.iter().position(|(s, _)| *s == Some(30)).unwrap();
    assert_eq!(
        p[..boundary],
        c[..boundary],
        "the prefix is shared byte for byte"
    );
    assert_ne!(p[boundary..], c[boundary..boundary + (p.len() - boundary)]);

    match simulacra::run::verify_replay(child.path()).unwrap() {
        simulacra::run::ReplayVerdict::Identical { .. } => {}
        simulacra::run::ReplayVerdict::Differs(d) => panic!("{d}"),
        simulacra::run::ReplayVerdict::Failed(f) => panic!("{f}"),
        simulacra::run::ReplayVerdict::Unfinished { steps, .. } => panic!("unfinished at {steps}"),
    }
    // A fork resumes like any run.
    let bytes = std::fs::read(child.path().join("run.log")).unwrap();
    std::fs::write(child.path().join("run.log"), &bytes[..bytes.len() * 3 / 4]).unwrap();
    resume_run(child.path()).unwrap();
    assert_eq!(std::fs::read(child.path().join("run.log")).unwrap(), bytes);

    // Changing the people or the economy is not a fork.
    let err = simulacra::run::fork_run(
        parent.path(),
        30,
        &["economy.labor_exponent=3.0".to_string()],
        tempfile::tempdir().unwrap().path(),
    )
    .err()
    .expect("a changed economy is refused");
    assert!(err.to_string().contains("labor_exponent"), "{err}");
}

/// The rows of a run's `steps.csv`.
fn steps_rows(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("steps.csv"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Asserts two lists of rows are equal, naming the first row that differs.
fn assert_same_rows(a: &[String], b: &[String], what: &str) {
    if let Some((x, y)) = a.iter().zip(b).find(|(x, y)| x != y) {
        panic!("{what}: first differing row\n  {x}\n  {y}");
    }
    assert_eq!(a.len(), b.len(), "{what}: row counts");
}

#[test]
fn a_fork_with_nothing_changed_is_its_parent_and_an_extended_one_continues() {
    // Hill-climbing planner (it learns), a snapshot every 2 years and none: both ways a
    // fork can build its prefix. Forks at a year's start and inside a year.
    for (snapshots, at) in [("2", 30), ("0", 35), ("2", 45)] {
        let s = common::scenario(&[
            "simulation.num_agents=20",
            "simulation.timesteps=120",
            "simulation.tax_year_length=5",
            "workers.policy=bounded",
            "baselines.enabled=false",
            &format!("log.snapshot_every_years={snapshots}"),
        ]);
        let parent = tempfile::tempdir().unwrap();
        run_scenario(&s, parent.path(), None).unwrap();
        let same = tempfile::tempdir().unwrap();
        simulacra::run::fork_run(parent.path(), at, &[], same.path()).unwrap();
        assert_same_rows(
            &steps_rows(same.path()),
            &steps_rows(parent.path()),
            &format!("an unchanged fork at {at} (snapshots every {snapshots} years)"),
        );

        // Extended: the planner's horizon moves, so only its endgame may differ. The
        // hill-climb heads for its best schedule at most 100/20 + 1 years before the end.
        let longer = tempfile::tempdir().unwrap();
        let sets = ["simulation.timesteps=200".to_string()];
        let forked = simulacra::run::fork_run(parent.path(), at, &sets, longer.path()).unwrap();
        assert_eq!(forked.summary.steps_run, 200);
        let shared_years = 120 / 5 - 6;
        let (p, l) = (steps_rows(parent.path()), steps_rows(longer.path()));
        let rows = 1 + shared_years * 5; // the header and the years before the endgame
        assert_same_rows(
            &l[..rows],
            &p[..rows],
            &format!("an extended fork at {at} continues the parent"),
        );
    }
}

#[test]
fn an_unchanged_fork_of_an_elected_run_keeps_its_leader() {
    let s = common::scenario(&[
        "simulation.num_agents=30",
        "simulation.timesteps=80",
        "simulation.tax_year_length=10",
        "governance.mode=election",
        "governance.rule=plurality",
        "governance.term_years=3",
        "baselines.enabled=false",
        "log.snapshot_every_years=0",
    ]);
    let parent = tempfile::tempdir().unwrap();
    run_scenario(&s, parent.path(), None).unwrap();
    let same = tempfile::tempdir().unwrap();
    // Year 4 is inside the second term: a fork that forgot the leader would elect anew.
    simulacra::run::fork_run(parent.path(), 40, &[], same.path()).unwrap();
    assert_same_rows(
        &steps_rows(same.path()),
        &steps_rows(parent.path()),
        "an unchanged elected fork",
    );
    assert_eq!(
        std::fs::read_to_string(same.path().join("elections.csv")).unwrap(),
        std::fs::read_to_string(parent.path().join("elections.csv")).unwrap()
    );
}
