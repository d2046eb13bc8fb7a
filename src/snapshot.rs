//! Snapshots of a run, every `log.snapshot_every_years` tax years, so that `resume` and `fork`
//! start from the latest one instead of re-executing from step 0.
//!
//! A snapshot is taken after the last step of a tax year is logged. It holds everything a
//! restored run cannot rebuild from the scenario: the economy's state between steps (see
//! [`crate::memory::EconomyState`]), the planner's and every worker's memory, and the LLM
//! counts. Randomness needs nothing: every stream is keyed by (seed, actor, step).
//!
//! The log stays the source of truth. A snapshot names the log prefix it continues (frames,
//! bytes, SHA-256) and the run's header; it is used only when the log on disk still has that
//! exact prefix, and a damaged, foreign or stale snapshot is skipped with a warning in favour
//! of an older one, or of step 0. Resuming from a snapshot re-executes the steps after it,
//! checked frame by frame against the log, so the final log is byte-identical either way.
//!
//! Files: `RUN_DIR/snapshots/step-NNNNNNNN.snap`, named by the first step they restore to,
//! written atomically by [`simulacra_actors::snapshot`]. A run keeps the newest
//! `log.snapshots_keep` of them, and each holds state that does not grow with the steps played
//! (the steps' outcomes are read back from the log), so snapshot disk use is bounded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use simulacra_actors::LogDigest;
use simulacra_actors::snapshot::read_snapshot;

use crate::llm::RoleStats;
use crate::memory::EconomyState;

/// The folder of a run's snapshots.
pub const SNAPSHOT_DIR: &str = "snapshots";

/// One snapshot of a run.
#[derive(Serialize, Deserialize)]
pub struct RunSnapshot {
    /// The step the restored run plays first (the first step of a tax year).
    pub next_step: u64,
    /// The log through step `next_step - 1`.
    pub log: LogDigest,
    /// SHA-256 of the log's header frame: the run this snapshot belongs to.
    pub header_sha256: String,
    /// The run's `log.snapshot_every_years` (not in the log's header): a resumed run keeps it.
    pub every_years: u64,
    /// The run's `log.snapshots_keep` (not in the log's header either), kept the same way.
    pub keep: u64,
    pub economy: EconomyState,
    /// The planner policy's memory (see `PlannerPolicy::save`).
    pub planner: Vec<u8>,
    /// Every worker's memory, in id order (see `WorkerPolicy::save`).
    pub workers: Vec<Vec<u8>>,
    /// The LLM gateway's counts by role, when agents use an LLM.
    pub llm_stats: Option<BTreeMap<String, RoleStats>>,
}

/// Where and how often a run writes snapshots.
#[derive(Clone, Debug)]
pub struct SnapshotPlan {
    pub dir: PathBuf,
    /// Tax years between snapshots, and the tax year's length in steps.
    pub every_years: u64,
    pub tax_year_length: u64,
    pub header_sha256: String,
    /// fsync each snapshot (with `log.fsync = "step"`).
    pub sync: bool,
    /// Snapshots kept: after writing one, all but the newest `keep` are removed.
    pub keep: u64,
}

impl SnapshotPlan {
    /// Whether a snapshot is due once step `step` is played (after each `every_years`-th year).
    pub fn due_after(&self, step: u64) -> bool {
        let every = self.every_years.saturating_mul(self.tax_year_length);
        every > 0 && (step + 1).is_multiple_of(every)
    }

    /// Writes `snapshot` (the one that restores to `snapshot.next_step`) into the plan's
    /// folder; true when it was written. A snapshot that cannot be written (a full disk, say)
    /// is reported on stderr and the run goes on: the log alone can always be resumed.
    pub fn store(&self, snapshot: &RunSnapshot) -> bool {
        let step = snapshot.next_step - 1;
        let path = path_for(&self.dir, snapshot.next_step);
        let written = std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("{}: {e}", self.dir.display()))
            .and_then(|_| {
                simulacra_actors::snapshot::write_snapshot(&path, snapshot, self.sync)
                    .map_err(|e| e.to_string())
            });
        match written {
            Ok(bytes) => {
                tracing::debug!(step, bytes, path = %path.display(), "snapshot written");
                self.prune(snapshot.next_step);
                true
            }
            Err(e) => {
                let _ = std::fs::remove_file(path.with_extension("snap.tmp"));
                eprintln!(
                    "warning: the snapshot after step {step} could not be written ({e}); the \
                     run goes on, and a resume would start from an earlier snapshot or the log"
                );
                false
            }
        }
    }
}

impl SnapshotPlan {
    /// Once the snapshot restoring to `newest` is written, removes all but the newest `keep`
    /// snapshots up to it (later ones, left by an earlier pass of a resumed run, are rewritten
    /// as the run reaches them). Only files named as snapshots are touched (anything else in the
    /// folder is the user's); one that cannot be removed is reported.
    fn prune(&self, newest: u64) {
        let Some(run_dir) = self.dir.parent() else {
            return;
        };
        let older = list(run_dir)
            .into_iter()
            .filter(|(step, _)| *step <= newest);
        for (step, path) in older.skip(self.keep.max(1) as usize) {
            if let Err(e) = std::fs::remove_file(&path) {
                eprintln!(
                    "warning: the old snapshot {} could not be removed ({e})",
                    path.display()
                );
            } else {
                tracing::debug!(step, path = %path.display(), "old snapshot removed");
            }
        }
    }
}

pub use crate::memory::{expect_no_memory, from_bytes, to_bytes};

/// SHA-256 (hex) of a log header frame's payload.
pub fn header_sha256(payload: &[u8]) -> String {
    Sha256::digest(payload)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The file of the snapshot that restores to `next_step`.
pub fn path_for(dir: &Path, next_step: u64) -> PathBuf {
    dir.join(format!("step-{next_step:08}.snap"))
}

/// The snapshots in `run_dir`, newest first, as (next step, path). Other files are ignored.
pub fn list(run_dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(run_dir.join(SNAPSHOT_DIR)) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_str()?;
            let step = name
                .strip_prefix("step-")?
                .strip_suffix(".snap")?
                .parse()
                .ok()?;
            Some((step, path))
        })
        .collect();
    found.sort_by_key(|e| std::cmp::Reverse(e.0));
    found
}

/// What a resume or fork may start from: the log's header and how much of the log is whole.
pub struct Wanted<'a> {
    pub header_sha256: &'a str,
    /// The snapshot must restore to a step at or before this one.
    pub latest_step: u64,
    /// ... and its log prefix must lie within the whole part of the log.
    pub whole_frames: u64,
    pub whole_bytes: u64,
}

/// The newest snapshot of `run_dir` that fits `wanted` and that `accept` (which checks its log
/// prefix against the file) takes. Every snapshot passed over is reported in `skipped`, with
/// the reason, for the user to read.
pub fn newest_usable(
    run_dir: &Path,
    wanted: &Wanted,
    mut accept: impl FnMut(&RunSnapshot) -> Result<(), String>,
    skipped: &mut Vec<String>,
) -> Option<RunSnapshot> {
    for (step, path) in list(run_dir) {
        if step > wanted.latest_step {
            continue;
        }
        let reason = match read_snapshot::<RunSnapshot>(&path) {
            Err(e) => {
                // The error names the file already.
                skipped.push(e.to_string());
                continue;
            }
            Ok(s) if s.header_sha256 != wanted.header_sha256 => {
                "it belongs to another run (its header differs from the log's)".to_string()
            }
            Ok(s) if s.next_step != step => {
                format!(
                    "it restores to step {}, not to {step} as its name says",
                    s.next_step
                )
            }
            Ok(s) if s.log.frames > wanted.whole_frames || s.log.bytes > wanted.whole_bytes => {
                "the log no longer reaches the point it was taken at".to_string()
            }
            Ok(s) => match accept(&s) {
                Ok(()) => return Some(s),
                Err(reason) => reason,
            },
        };
        skipped.push(format!("{}: {reason}", path.display()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_listed_newest_first_and_strangers_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let snaps = dir.path().join(SNAPSHOT_DIR);
        std::fs::create_dir_all(&snaps).unwrap();
        for name in [
            "step-00000010.snap",
            "step-00000030.snap",
            "step-00000020.snap",
            "step-00000040.snap.tmp",
            "notes.txt",
            "step-x.snap",
        ] {
            std::fs::write(snaps.join(name), b"").unwrap();
        }
        let steps: Vec<u64> = list(dir.path()).into_iter().map(|(s, _)| s).collect();
        assert_eq!(steps, vec![30, 20, 10]);
        assert_eq!(path_for(&snaps, 20), snaps.join("step-00000020.snap"));
    }

    #[test]
    fn memories_round_trip_and_garbage_is_an_error() {
        let v = (3u64, vec![Some(1.5f64), None]);
        assert_eq!(from_bytes::<(u64, Vec<Option<f64>>)>(&to_bytes(&v)), Ok(v));
        assert!(from_bytes::<(u64, Vec<Option<f64>>)>(&[0xff, 0xff, 0xff]).is_err());
    }
}
