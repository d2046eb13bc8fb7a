//! What a run does with files in its snapshot folder that are not its own good snapshots:
//! retention counts only snapshots of the run that read back, and leaves damaged, foreign and
//! stray files alone; a snapshot of another layout (an earlier version's, or another format
//! number) is refused by name, and the resume goes on from the log to the same bytes.

mod common;

use std::path::{Path, PathBuf};

use simulacra::run::{resume_run, run_scenario};
use simulacra::snapshot::{RunSnapshot, STATE_FORMAT, STATE_MAGIC};
use simulacra_actors::snapshot::read_snapshot;

const SETS: [&str; 6] = [
    "log.snapshot_every_years=1",
    "simulation.num_agents=10",
    "simulation.timesteps=40",
    "simulation.tax_year_length=5",
    "workers.policy=bounded",
    "baselines.enabled=false",
];

fn run(extra: &[&str]) -> tempfile::TempDir {
    let mut sets = SETS.to_vec();
    sets.extend_from_slice(extra);
    let dir = tempfile::tempdir().unwrap();
    run_scenario(&common::scenario(&sets), dir.path(), None).unwrap();
    dir
}

fn snap(dir: &Path, step: u64) -> PathBuf {
    dir.join(format!("snapshots/step-{step:08}.snap"))
}

fn steps(dir: &Path) -> Vec<u64> {
    let mut steps: Vec<u64> = simulacra::snapshot::list(dir)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    steps.sort_unstable();
    steps
}

/// A copy of `run`'s folder with only its log, cut to `share` of its bytes (a crash).
fn crashed(run: &Path, share: f64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::read(run.join("run.log")).unwrap();
    let cut = (log.len() as f64 * share) as usize;
    std::fs::write(dir.path().join("run.log"), &log[..cut]).unwrap();
    std::fs::create_dir(dir.path().join("snapshots")).unwrap();
    dir
}

#[test]
fn retention_counts_only_readable_snapshots_of_the_run_and_leaves_others_alone() {
    // The run keeps 2; the same run keeping every snapshot, to copy older ones from.
    let kept = run(&["log.snapshots_keep=2"]);
    assert_eq!(steps(kept.path()), vec![35, 40]);
    let all = run(&["log.snapshots_keep=1000"]);
    // Another run (another seed, tax years of 6 steps): its snapshots are foreign here.
    let other = run(&["simulation.seed=7", "simulation.tax_year_length=6"]);

    // A crash after step 37: the resume restores the snapshot at 35 (and its `keep` of 2).
    let dir = crashed(kept.path(), 37.5 / 40.0);
    let d = dir.path();
    std::fs::copy(snap(kept.path(), 35), snap(d, 35)).unwrap();
    std::fs::copy(snap(all.path(), 30), snap(d, 30)).unwrap();
    // Named like snapshots the run does not write (it writes multiples of 5) and newer than
    // its good ones: a stray text, a damaged copy of the run's own, a foreign one, and the
    // run's own renamed (whole and of the run, but it restores to another step than named).
    std::fs::write(snap(d, 39), "not a snapshot").unwrap();
    let mut damaged = std::fs::read(snap(all.path(), 35)).unwrap();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0x20;
    std::fs::write(snap(d, 38), &damaged).unwrap();
    std::fs::copy(snap(all.path(), 30), snap(d, 37)).unwrap();
    std::fs::copy(snap(other.path(), 36), snap(d, 36)).unwrap();
    let planted: Vec<(u64, Vec<u8>)> = [36, 37, 38, 39]
        .iter()
        .map(|&s| (s, std::fs::read(snap(d, s)).unwrap()))
        .collect();

    let r = resume_run(d).unwrap();
    assert_eq!(r.from_snapshot, Some(35));
    assert!(
        std::fs::read(d.join("run.log")).unwrap()
            == std::fs::read(kept.path().join("run.log")).unwrap()
    );
    // The run's own two newest are kept (the files of the uninterrupted run), its older one
    // removed, and none of the others counted, removed or changed.
    assert_eq!(steps(d), vec![35, 36, 37, 38, 39, 40]);
    for step in [35, 40] {
        let s: RunSnapshot = read_snapshot(&snap(d, step)).unwrap();
        assert_eq!(s.next_step, step);
        assert!(
            std::fs::read(snap(d, step)).unwrap()
                == std::fs::read(snap(kept.path(), step)).unwrap()
        );
    }
    for (step, bytes) in planted {
        assert!(
            std::fs::read(snap(d, step)).unwrap() == bytes,
            "step {step} was changed"
        );
    }
}

/// Rewrites the snapshot file at `path` with its payload changed by `edit` and the container's
/// checksum and length made to match (as a build of another layout would have written it).
fn rewrite_payload(path: &Path, edit: impl FnOnce(&[u8]) -> Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let payload = edit(&bytes[24..]);
    let mut out = bytes[..12].to_vec(); // SIMSNAP\n and the container version
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&payload);
    std::fs::write(path, out).unwrap();
}

/// A change to a snapshot's payload.
type Edit = fn(&[u8]) -> Vec<u8>;

#[test]
fn a_snapshot_of_another_layout_is_refused_by_name_and_the_log_takes_over() {
    let full = run(&["log.snapshots_keep=1000"]);
    let good = std::fs::read(snap(full.path(), 10)).unwrap();
    // The payload opens with the state magic and the format (1 < 251: one varint byte).
    assert_eq!(good[24..32], STATE_MAGIC);
    assert_eq!(u32::from(good[32]), STATE_FORMAT);

    let log = std::fs::read(full.path().join("run.log")).unwrap();
    let cases: [(&str, Edit); 2] = [
        // An earlier version's snapshot: the fields alone, no magic or format.
        (
            "it has no snapshot format number, so it is an earlier version's layout",
            |p| p[9..].to_vec(),
        ),
        // A later version's: another format number.
        (
            "it is in snapshot format 2, this build reads format 1",
            |p| {
                let mut p = p.to_vec();
                p[8] = 2;
                p
            },
        ),
    ];
    for (says, edit) in cases {
        // A crash after step 20: the snapshot at 10 is within the log.
        let dir = crashed(full.path(), 0.5);
        let d = dir.path();
        std::fs::copy(snap(full.path(), 10), snap(d, 10)).unwrap();
        rewrite_payload(&snap(d, 10), edit);
        let err = match read_snapshot::<RunSnapshot>(&snap(d, 10)) {
            Ok(_) => panic!("a snapshot of another layout was read"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(says), "{err}");

        let o = common::simulacra(&["resume", d.to_str().unwrap()]);
        let (out, err) = (common::stdout(&o), common::stderr(&o));
        assert!(o.status.success(), "{err}");
        assert!(
            err.contains("warning: snapshot not used")
                && err.contains("step-00000010.snap")
                && err.contains("written by another version of simulacra")
                && err.contains(says)
                && err.contains("re-executed from step 0")
                && err.contains("remove the file"),
            "{err}"
        );
        assert!(out.contains("re-executed from step 0"), "{out}");
        assert!(std::fs::read(d.join("run.log")).unwrap() == log);
        // It is not this build's to read, so not its to remove either.
        assert!(snap(d, 10).exists());
    }
}
