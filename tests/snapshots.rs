//! Snapshots: `resume` and `fork` start from the newest usable snapshot instead of step 0, and
//! end with the very bytes of an uninterrupted run (or of a fork re-executed from step 0).
//! Damaged, foreign and stale snapshots are skipped in favour of older ones.

mod common;

use std::path::Path;

use simulacra::run::{fork_run, resume_run, run_scenario};

/// Copies a run's folder with its log cut to `log_bytes` (a crash at that byte).
fn crashed_copy(run: &Path, log_bytes: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::read(run.join("run.log")).unwrap();
    std::fs::write(dir.path().join("run.log"), &log[..log_bytes]).unwrap();
    let snaps = run.join("snapshots");
    if snaps.exists() {
        std::fs::create_dir(dir.path().join("snapshots")).unwrap();
        for e in std::fs::read_dir(&snaps).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(
                &p,
                dir.path().join("snapshots").join(p.file_name().unwrap()),
            )
            .unwrap();
        }
    }
    dir
}

fn snapshot_steps(run: &Path) -> Vec<u64> {
    let mut steps: Vec<u64> = simulacra::snapshot::list(run)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    steps.sort_unstable();
    steps
}

/// Every output file of a run folder, by name (the log, the CSVs, the summary, snapshots).
fn outputs(run: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for dir in [run.to_path_buf(), run.join("snapshots")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_file() {
                let name = p.strip_prefix(run).unwrap().display().to_string();
                files.push((name, std::fs::read(&p).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// Runs `sets` with a snapshot every tax year, then crashes copies of it at several points and
/// resumes each: each must start from the newest snapshot the log still reaches and end with
/// every output file identical to the uninterrupted run's, snapshots included.
fn resumes_from_snapshots(sets: &[&str]) {
    let mut all = vec!["log.snapshot_every_years=1", "log.snapshots_keep=1000"];
    all.extend_from_slice(sets);
    let s = common::scenario(&all);
    let full = tempfile::tempdir().unwrap();
    run_scenario(&s, full.path(), None).unwrap();
    let years = s.simulation.timesteps / s.simulation.tax_year_length;
    let l = s.simulation.tax_year_length;
    assert_eq!(
        snapshot_steps(full.path()),
        (1..=years).map(|y| y * l).collect::<Vec<_>>()
    );
    let expected = outputs(full.path());
    let log_len = std::fs::metadata(full.path().join("run.log"))
        .unwrap()
        .len() as usize;
    for fraction in [0.3, 0.55, 0.8, 0.999] {
        let cut = (log_len as f64 * fraction) as usize;
        let dir = crashed_copy(full.path(), cut);
        let r = resume_run(dir.path()).unwrap_or_else(|e| panic!("cut at {cut}: {e:#}"));
        let newest = r.steps_kept / l * l;
        assert_eq!(
            r.from_snapshot,
            (newest > 0).then_some(newest),
            "cut at {cut}, {} steps kept",
            r.steps_kept
        );
        let got = outputs(dir.path());
        assert_eq!(
            got.iter().map(|f| &f.0).collect::<Vec<_>>(),
            expected.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        for (g, e) in got.iter().zip(&expected) {
            assert!(g.1 == e.1, "cut at {cut}: {} differs", g.0);
        }
    }
}

#[test]
fn bounded_workers_and_the_hill_climber_resume_from_snapshots() {
    resumes_from_snapshots(&[
        "simulation.num_agents=30",
        "simulation.timesteps=60",
        "simulation.tax_year_length=6",
        "workers.policy=bounded",
    ]);
}

#[test]
fn elections_resume_from_snapshots() {
    resumes_from_snapshots(&[
        "simulation.num_agents=25",
        "simulation.timesteps=40",
        "simulation.tax_year_length=5",
        "workers.policy=bounded",
        "governance.mode=election",
        "governance.rule=instant-runoff",
        "governance.term_years=2",
        "baselines.enabled=false",
    ]);
}

#[test]
fn crra_workers_with_mixed_types_resume_from_snapshots() {
    resumes_from_snapshots(&[
        "simulation.num_agents=20",
        "simulation.timesteps=30",
        "simulation.tax_year_length=5",
        "economy.utility=crra",
        "workers.policy=bounded",
        "workers.altruistic_share=0.2",
        "baselines.enabled=false",
    ]);
}

#[test]
fn damaged_foreign_and_stale_snapshots_are_skipped() {
    let sets = [
        "log.snapshot_every_years=1",
        "log.snapshots_keep=1000",
        "simulation.num_agents=20",
        "simulation.timesteps=40",
        "simulation.tax_year_length=5",
        "workers.policy=bounded",
        "baselines.enabled=false",
    ];
    let s = common::scenario(&sets);
    let full = tempfile::tempdir().unwrap();
    run_scenario(&s, full.path(), None).unwrap();
    let expected = std::fs::read(full.path().join("run.log")).unwrap();
    let snap = |dir: &Path, step: u64| dir.join(format!("snapshots/step-{step:08}.snap"));

    // Crash after step 27 is logged: the newest reachable snapshot restores to step 25.
    let log_len = expected.len();
    let dir = crashed_copy(full.path(), log_len * 28 / 40 + 10);
    // Damage it: the one before (step 20) is used instead.
    let mut bytes = std::fs::read(snap(dir.path(), 25)).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    std::fs::write(snap(dir.path(), 25), &bytes).unwrap();
    // And replace step 20's with another run's (another seed): step 15's is used.
    let other = tempfile::tempdir().unwrap();
    let mut other_sets = sets.to_vec();
    other_sets.push("simulation.seed=7");
    run_scenario(&common::scenario(&other_sets), other.path(), None).unwrap();
    std::fs::copy(snap(other.path(), 20), snap(dir.path(), 20)).unwrap();

    let r = resume_run(dir.path()).unwrap();
    assert_eq!(r.from_snapshot, Some(15));
    assert_eq!(std::fs::read(dir.path().join("run.log")).unwrap(), expected);
    // The resumed run wrote the snapshots it passed again, whole and identical.
    for step in [20, 25, 30] {
        let (a, b): (
            simulacra::snapshot::RunSnapshot,
            simulacra::snapshot::RunSnapshot,
        ) = (
            simulacra_actors::snapshot::read_snapshot(&snap(dir.path(), step)).unwrap(),
            simulacra_actors::snapshot::read_snapshot(&snap(full.path(), step)).unwrap(),
        );
        assert_eq!(a.log, b.log, "snapshot {step} log");
        assert_eq!(a.header_sha256, b.header_sha256, "snapshot {step} header");
        assert!(a.workers == b.workers, "snapshot {step} workers");
        assert!(a.planner == b.planner, "snapshot {step} planner");
        assert!(
            simulacra::snapshot::to_bytes(&a.economy) == simulacra::snapshot::to_bytes(&b.economy),
            "snapshot {step} economy"
        );
        assert!(
            std::fs::read(snap(dir.path(), step)).unwrap()
                == std::fs::read(snap(full.path(), step)).unwrap(),
            "snapshot {step}"
        );
    }

    // Snapshots the log no longer reaches (taken after the point the log was cut back to)
    // are passed over for the newest one within it.
    let dir = crashed_copy(full.path(), log_len / 3);
    let r = resume_run(dir.path()).unwrap();
    assert_eq!(r.from_snapshot, Some(r.steps_kept / 5 * 5));
    assert!(r.steps_kept < 15);
    assert!(std::fs::read(dir.path().join("run.log")).unwrap() == expected);

    // A snapshot whose log prefix is not the log's (its recorded hash differs) is refused
    // when resuming opens the log against it; the one before is used.
    let dir = crashed_copy(full.path(), log_len * 28 / 40 + 10);
    let mut s25: simulacra::snapshot::RunSnapshot =
        simulacra_actors::snapshot::read_snapshot(&snap(dir.path(), 25)).unwrap();
    s25.log.sha256 = "0".repeat(64);
    simulacra_actors::snapshot::write_snapshot(&snap(dir.path(), 25), &s25, false).unwrap();
    let r = resume_run(dir.path()).unwrap();
    assert_eq!(r.from_snapshot, Some(20));
    assert!(std::fs::read(dir.path().join("run.log")).unwrap() == expected);

    // A snapshot that is whole and of this run but whose memories do not fit the agents
    // (written by a bug, say) stops the resume with what to do about it.
    let dir = crashed_copy(full.path(), log_len * 28 / 40 + 10);
    let mut s25: simulacra::snapshot::RunSnapshot =
        simulacra_actors::snapshot::read_snapshot(&snap(dir.path(), 25)).unwrap();
    s25.workers[3] = vec![0xff; 3];
    simulacra_actors::snapshot::write_snapshot(&snap(dir.path(), 25), &s25, false).unwrap();
    let err = format!(
        "{:#}",
        resume_run(dir.path()).err().expect("a bad memory stops it")
    );
    assert!(err.contains("agent 3"), "{err}");
    assert!(err.contains("step-00000025.snap"), "{err}");
    std::fs::remove_file(snap(dir.path(), 25)).unwrap();
    resume_run(dir.path()).unwrap();
    assert!(std::fs::read(dir.path().join("run.log")).unwrap() == expected);
}

#[test]
fn a_fork_from_a_snapshot_is_the_fork_from_step_zero() {
    let s = common::scenario(&[
        "log.snapshot_every_years=1",
        "log.snapshots_keep=1000",
        "simulation.num_agents=20",
        "simulation.timesteps=60",
        "simulation.tax_year_length=10",
        "workers.policy=bounded",
        "baselines.enabled=false",
    ]);
    let parent = tempfile::tempdir().unwrap();
    run_scenario(&s, parent.path(), None).unwrap();
    let sets = vec![
        "planner.policy=saez".to_string(),
        "simulation.timesteps=80".to_string(),
    ];
    for at in [30, 35] {
        let fast = tempfile::tempdir().unwrap();
        let forked = fork_run(parent.path(), at, &sets, fast.path()).unwrap();
        assert_eq!(forked.from_snapshot, Some(30), "fork at {at}");

        // The same fork from a parent without snapshots re-executes from step 0.
        let bare = crashed_copy(
            parent.path(),
            std::fs::metadata(parent.path().join("run.log"))
                .unwrap()
                .len() as usize,
        );
        std::fs::remove_dir_all(bare.path().join("snapshots")).unwrap();
        let slow = tempfile::tempdir().unwrap();
        let from_zero = fork_run(bare.path(), at, &sets, slow.path()).unwrap();
        assert_eq!(from_zero.from_snapshot, None);
        assert_eq!(
            std::fs::read(fast.path().join("run.log")).unwrap(),
            std::fs::read(slow.path().join("run.log")).unwrap(),
            "fork at {at}: the log"
        );
        assert_eq!(
            std::fs::read(fast.path().join("summary.json")).unwrap(),
            std::fs::read(slow.path().join("summary.json")).unwrap(),
            "fork at {at}: the summary"
        );
        assert_eq!(forked.summary.steps_run, 80);
    }

    // A fork into its parent's own folder is refused before anything is written.
    let before = std::fs::read(parent.path().join("run.log")).unwrap();
    let err = fork_run(parent.path(), 30, &sets, parent.path())
        .err()
        .expect("forking into the parent's folder is refused");
    assert!(err.to_string().contains("parent run's own folder"), "{err}");
    assert!(std::fs::read(parent.path().join("run.log")).unwrap() == before);

    // A fork resumes from its own snapshots (taken after the change of hands, too).
    let child = tempfile::tempdir().unwrap();
    fork_run(parent.path(), 30, &sets, child.path()).unwrap();
    let bytes = std::fs::read(child.path().join("run.log")).unwrap();
    let dir = crashed_copy(child.path(), bytes.len() * 9 / 10);
    let r = resume_run(dir.path()).unwrap();
    assert!(
        r.from_snapshot.is_some_and(|s| s > 30),
        "{:?}",
        r.from_snapshot
    );
    assert_eq!(std::fs::read(dir.path().join("run.log")).unwrap(), bytes);
}

#[test]
fn a_snapshot_that_cannot_be_written_is_reported_and_the_run_goes_on() {
    let sets = [
        "run",
        "--quiet",
        "--set",
        "simulation.num_agents=10",
        "--set",
        "simulation.timesteps=20",
        "--set",
        "simulation.tax_year_length=5",
        "--set",
        "log.snapshot_every_years=1",
        "--set",
        "baselines.enabled=false",
        "--out",
    ];
    let good = tempfile::tempdir().unwrap();
    let mut args = sets.to_vec();
    args.push(good.path().to_str().unwrap());
    assert!(common::simulacra(&args).status.success());

    // `snapshots` is taken by a plain file, so no snapshot can be written.
    let blocked = tempfile::tempdir().unwrap();
    std::fs::write(blocked.path().join("snapshots"), b"in the way").unwrap();
    let mut args = sets.to_vec();
    args.push(blocked.path().to_str().unwrap());
    let out = common::simulacra(&args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let err = common::stderr(&out);
    assert_eq!(err.matches("could not be written").count(), 4, "{err}");
    assert!(
        std::fs::read(blocked.path().join("run.log")).unwrap()
            == std::fs::read(good.path().join("run.log")).unwrap()
    );
}

#[test]
fn a_full_disk_stops_the_run_with_a_clear_error() {
    if !Path::new("/dev/full").exists() {
        return; // only where the OS offers a device that is always full
    }
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/full", dir.path().join("run.log")).unwrap();
    let out = common::simulacra(&[
        "run",
        "--quiet",
        "--set",
        "simulation.num_agents=10",
        "--set",
        "simulation.timesteps=20",
        "--set",
        "simulation.tax_year_length=20",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("the message log failed"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_run_keeps_its_newest_snapshots_and_each_stays_the_same_size() {
    let sets = [
        "log.snapshot_every_years=1",
        "log.snapshots_keep=2",
        "simulation.num_agents=10",
        "simulation.timesteps=60",
        "simulation.tax_year_length=5",
        "baselines.enabled=false",
    ];
    let s = common::scenario(&sets);
    let dir = tempfile::tempdir().unwrap();
    let summary = run_scenario(&s, dir.path(), None).unwrap();
    assert_eq!(summary.snapshots.written, 12);
    assert_eq!(snapshot_steps(dir.path()), vec![55, 60]);

    // The economy's part of a snapshot does not grow with the steps played: the outcomes of
    // the steps before it are read back from the log. (The hill climber's history grows with
    // the schedules it has tried, which the grid of rates in points bounds.)
    let longer = tempfile::tempdir().unwrap();
    let mut s12 = s.clone();
    s12.simulation.timesteps = 120;
    run_scenario(&s12, longer.path(), None).unwrap();
    let size = |d: &Path, step: u64| {
        let snap: simulacra::snapshot::RunSnapshot = simulacra_actors::snapshot::read_snapshot(
            &d.join(format!("snapshots/step-{step:08}.snap")),
        )
        .unwrap();
        simulacra::snapshot::to_bytes(&snap.economy).len()
    };
    assert_eq!(size(longer.path(), 120), size(dir.path(), 60));

    // Resumed from the newest snapshot after a crash late in the run: the same log, and the
    // same steps.csv (whose early rows come from the log, not the snapshot).
    let log = std::fs::read(longer.path().join("run.log")).unwrap();
    let crashed = crashed_copy(longer.path(), log.len() - 200);
    let r = resume_run(crashed.path()).unwrap();
    assert_eq!(r.from_snapshot, Some(115));
    for file in ["run.log", "steps.csv"] {
        assert!(
            std::fs::read(crashed.path().join(file)).unwrap()
                == std::fs::read(longer.path().join(file)).unwrap(),
            "{file}"
        );
    }
}
