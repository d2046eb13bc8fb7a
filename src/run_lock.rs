//! The run-folder lock: at most one process writes a run folder at a time, on one machine or
//! on a shared filesystem, and a holder that dies never leaves the folder locked.
//!
//! How it works: `RUN_DIR/writer.lock` is locked with `flock(2)` (through std's
//! [`std::fs::File::try_lock`]). The lock belongs to the open file, so the kernel drops it
//! when the holder exits for any reason, SIGKILL included; nothing stale is left to clean up.
//! On NFS (v4, or v3 with lockd) Linux turns `flock` into a lock the server holds, which the
//! server releases when the holder exits or, for a node that crashed or lost the network, when
//! the node's lease runs out (90 s by default on NFSv4). Lustre needs the `flock` mount option
//! (`localflock` only locks within one node); GPFS, BeeGFS and CephFS lock across nodes. A
//! filesystem that refuses locks is an error, never a silent "no lock".
//!
//! The file is never removed (removing a locked file lets a second process lock a new file of
//! the same name); while held it names its holder (`host pid unix-seconds`), so a refusal can
//! say who holds it. That text is only for people: the lock itself is the `flock`.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The lock file's name inside a run folder.
pub const LOCK_FILE: &str = "writer.lock";

/// A held run-folder lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
}

/// Another process holds the lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Busy {
    /// What the holder wrote: `host pid unix-seconds` (empty if it had not written it yet).
    pub holder: String,
}

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.holder.is_empty() {
            write!(f, "another process writes it")
        } else {
            write!(f, "another process writes it ({})", self.holder)
        }
    }
}

/// This machine's name, for the holder line (`unknown` where the kernel does not say).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

impl RunLock {
    /// Locks `run_dir` (created if absent) without waiting: `Ok(Err(Busy))` when another
    /// process holds it; an error when the lock cannot be taken at all.
    pub fn try_acquire(run_dir: &Path) -> anyhow::Result<Result<RunLock, Busy>> {
        std::fs::create_dir_all(run_dir)
            .with_context(|| format!("cannot create {}", run_dir.display()))?;
        let path = run_dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the lock {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // The holder line is informative: an unreadable one is reported as empty.
                let _ = file.read_to_string(&mut holder);
                return Ok(Err(Busy {
                    holder: holder.trim().to_string(),
                }));
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot lock {} (does this filesystem support flock? see docs/cluster.md)",
                        path.display()
                    )
                });
            }
        }
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let line = format!("{} {} {since}\n", host_name(), std::process::id());
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(line.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Ok(RunLock { file, path }))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Clear the holder line first, so a reader after release does not see a stale name;
        // the kernel releases the lock itself when the file closes.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_told_who_holds_it_until_the_first_lets_go() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        let first = RunLock::try_acquire(&dir).unwrap().expect("free");
        // flock locks belong to the open file, so a second open in this process conflicts
        // just as another process's would.
        let busy = RunLock::try_acquire(&dir).unwrap().unwrap_err();
        let pid = std::process::id().to_string();
        assert_eq!(busy.holder.split(' ').nth(1), Some(pid.as_str()));
        assert!(busy.to_string().contains(&pid));
        drop(first);
        let again = RunLock::try_acquire(&dir).unwrap().expect("released");
        assert_eq!(again.path(), dir.join(LOCK_FILE));
    }
}
