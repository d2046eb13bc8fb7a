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
//! `log.snapshots_keep` of them that it can read back and that are its own (a damaged, foreign
//! or stray file is neither counted nor removed), and each holds state that does not grow with
//! the steps played (the steps' outcomes are read back from the log), so snapshot disk use is
//! bounded.
//!
//! The file's own head (magic, container version, checksum) is
//! [`simulacra_actors::snapshot`]'s; the payload starts with [`STATE_MAGIC`] and
//! [`STATE_FORMAT`], the layout of what this crate stores in it, so that a snapshot of a build
//! with another layout is refused by name instead of failing to decode halfway.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::de::{Error as _, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use simulacra_actors::LogDigest;
use simulacra_actors::snapshot::{SnapshotError, read_snapshot};

use crate::llm::RoleStats;
use crate::memory::EconomyState;

/// The folder of a run's snapshots.
pub const SNAPSHOT_DIR: &str = "snapshots";

/// The first bytes of every snapshot payload this crate writes (before [`STATE_FORMAT`]).
pub const STATE_MAGIC: [u8; 8] = *b"SIMSTATE";

/// The layout of a [`RunSnapshot`] payload: its fields, and the [`EconomyState`] and the
/// policies' memories in it. Bump it with any change that changes their bytes: a snapshot of
/// another format is then refused by name and the run starts from the log instead.
/// (Snapshots written before this number existed carry no [`STATE_MAGIC`] and are refused as
/// an earlier layout.)
pub const STATE_FORMAT: u32 = 1;

/// How a refusal of a snapshot of another layout begins (see [`RunSnapshot`]'s `Deserialize`).
const OTHER_LAYOUT: &str = "it was written by another version of simulacra";

/// One snapshot of a run. Its bytes are [`STATE_MAGIC`], [`STATE_FORMAT`], then these fields
/// in order (bincode); see the `Serialize` and `Deserialize` impls below.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Self")]
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

impl Serialize for RunSnapshot {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Fields<'a>(&'a RunSnapshot);
        impl Serialize for Fields<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                RunSnapshot::serialize(self.0, s)
            }
        }
        (STATE_MAGIC, STATE_FORMAT, Fields(self)).serialize(s)
    }
}

/// Reads the magic and the format first and refuses another layout before reading a field,
/// with a message saying so (what a decode error of the fields would not).
impl<'de> Deserialize<'de> for RunSnapshot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields(RunSnapshot);
        impl<'de> Deserialize<'de> for Fields {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                RunSnapshot::deserialize(d).map(Fields)
            }
        }
        struct Versioned;
        impl<'de> Visitor<'de> for Versioned {
            type Value = RunSnapshot;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a simulacra run snapshot")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RunSnapshot, A::Error> {
                let magic: [u8; 8] = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                if magic != STATE_MAGIC {
                    return Err(A::Error::custom(format!(
                        "{OTHER_LAYOUT}: it has no snapshot format number, so it is an earlier \
                         version's layout (this build reads format {STATE_FORMAT})"
                    )));
                }
                let format: u32 = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                if format != STATE_FORMAT {
                    return Err(A::Error::custom(format!(
                        "{OTHER_LAYOUT}: it is in snapshot format {format}, this build reads \
                         format {STATE_FORMAT}"
                    )));
                }
                let Fields(snapshot) = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(2, &self))?;
                Ok(snapshot)
            }
        }
        d.deserialize_tuple(3, Versioned)
    }
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
                remember_own(&path, &self.header_sha256);
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
    /// snapshots of this run up to it (later ones, left by an earlier pass of a resumed run,
    /// are rewritten as the run reaches them). Only snapshots this run can use count toward
    /// `keep` and only they are removed: a file named like one that does not read back (damaged,
    /// another layout, not a snapshot), belongs to another run or restores to another step
    /// than its name says is left alone and not counted, so it cannot push a good snapshot
    /// out. One that cannot be removed is reported.
    fn prune(&self, newest: u64) {
        let Some(run_dir) = self.dir.parent() else {
            return;
        };
        let own = list(run_dir)
            .into_iter()
            .filter(|(step, path)| *step <= newest && is_own(*step, path, &self.header_sha256));
        for (step, path) in own.skip(self.keep.max(1) as usize) {
            if let Err(e) = std::fs::remove_file(&path) {
                eprintln!(
                    "warning: the old snapshot {} could not be removed ({e})",
                    path.display()
                );
            } else {
                tracing::debug!(step, path = %path.display(), "old snapshot removed");
            }
            forget(&path);
        }
    }
}

/// Snapshot files known to be whole and of a run, by path: (the file's length and modification
/// time when it was checked, the run's header SHA-256). Those this process wrote or read back
/// once, so that pruning reads each file once rather than every kept one at every snapshot (at
/// a million workers a snapshot is 26 MB). A file changed since (another length or time) is
/// read again.
static KNOWN_OWN: Mutex<BTreeMap<PathBuf, (u64, SystemTime, String)>> = Mutex::new(BTreeMap::new());

fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

fn remember_own(path: &Path, header_sha256: &str) {
    if let (Some((len, time)), Ok(mut known)) = (stamp(path), KNOWN_OWN.lock()) {
        known.insert(path.to_path_buf(), (len, time, header_sha256.to_string()));
    }
}

fn forget(path: &Path) {
    if let Ok(mut known) = KNOWN_OWN.lock() {
        known.remove(path);
    }
}

/// Whether the file `path`, named as the snapshot restoring to `step`, is one of the run whose
/// header hashes to `header_sha256`: it reads back whole (checksum, layout) and says so.
fn is_own(step: u64, path: &Path, header_sha256: &str) -> bool {
    let now = stamp(path);
    if let (Some((len, time)), Ok(known)) = (now, KNOWN_OWN.lock())
        && known.get(path) == Some(&(len, time, header_sha256.to_string()))
    {
        return true;
    }
    let own = matches!(read_snapshot::<RunSnapshot>(path),
        Ok(s) if s.header_sha256 == header_sha256 && s.next_step == step);
    if own && stamp(path) == now {
        remember_own(path, header_sha256);
    }
    own
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
            Err(SnapshotError::Decode { message, .. }) if message.contains(OTHER_LAYOUT) => {
                // The refusal without the decoder's framing around it.
                let why = &message[message.find(OTHER_LAYOUT).unwrap_or(0)..];
                format!(
                    "{why}; an older snapshot of this run is used instead, or with none the \
                     run is re-executed from step 0 (its log is kept and checked, so the result \
                     is the same, only slower); remove the file to stop this warning"
                )
            }
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
