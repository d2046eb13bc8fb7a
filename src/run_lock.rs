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
//! the same name); while held it names its holder (`host pid unix-seconds command`), so a
//! refusal can say who holds it. That text is only for people: the lock itself is the `flock`.
//!
//! Every command that writes into a run folder (run, resume, fork on its `--out`, export,
//! report, view into the folder, each run of a sweep) takes the lock for as long as it writes,
//! through [`lock_run_dir`]; readers (inspect, replay) take none.

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
    /// What the holder wrote: `host pid unix-seconds command` (empty if it had not written it
    /// yet).
    pub holder: String,
}

impl Busy {
    /// The holder for people: `pid 123 on node7, `simulacra run`, started Fri, 27 Nov 2026
    /// 18:40:00 GMT`. A line in another form (an older version's) is shown as it is.
    pub fn holder_text(&self) -> String {
        let mut parts = self.holder.splitn(4, ' ');
        let (Some(host), Some(pid), Some(since)) = (parts.next(), parts.next(), parts.next())
        else {
            return self.holder.clone();
        };
        let Ok(since) = since.parse::<u64>() else {
            return self.holder.clone();
        };
        let started =
            httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(since));
        match parts.next().filter(|c| !c.is_empty()) {
            Some(command) => format!("pid {pid} on {host}, `{command}`, started {started}"),
            None => format!("pid {pid} on {host}, started {started}"),
        }
    }
}

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.holder.is_empty() {
            write!(f, "another process writes it")
        } else {
            write!(f, "another process writes it ({})", self.holder_text())
        }
    }
}

/// The command this process runs, for the holder line: the program's file name and its
/// subcommand (`simulacra run`); arguments are left out (they may be long, or hold a path a
/// user would rather not show).
fn this_command() -> String {
    let mut args = std::env::args_os();
    let program = args
        .next()
        .map(|p| {
            Path::new(&p)
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let sub = args
        .next()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{program} {sub}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Locks `run_dir` for a command that writes into it, for as long as the returned lock lives;
/// when another process holds it, an error that names the folder and the holder and says what
/// to do.
pub fn lock_run_dir(run_dir: &Path) -> anyhow::Result<RunLock> {
    match RunLock::try_acquire(run_dir)? {
        Ok(lock) => Ok(lock),
        Err(busy) => anyhow::bail!(
            "{} is being written by another simulacra process ({}); wait for it to end or stop \
             it, then run this command again",
            run_dir.display(),
            if busy.holder.is_empty() {
                "it has not said which yet".to_string()
            } else {
                busy.holder_text()
            }
        ),
    }
}

/// [`lock_run_dir`] for a folder that should already hold a run: none is taken (and none
/// created) when `run_dir` is not a folder, so the command reports the missing run itself.
pub fn lock_existing_run_dir(run_dir: &Path) -> anyhow::Result<Option<RunLock>> {
    if run_dir.is_dir() {
        lock_run_dir(run_dir).map(Some)
    } else {
        Ok(None)
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
        let line = format!(
            "{} {} {since} {}\n",
            host_name(),
            std::process::id(),
            this_command()
        );
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
        assert!(busy.to_string().contains(&format!("pid {pid} on ")));
        assert!(
            busy.holder_text().contains(" GMT"),
            "{}",
            busy.holder_text()
        );
        let refused = lock_run_dir(&dir).unwrap_err().to_string();
        assert!(
            refused.contains(&dir.display().to_string()) && refused.contains(&pid),
            "{refused}"
        );
        drop(first);
        let again = RunLock::try_acquire(&dir).unwrap().expect("released");
        assert_eq!(again.path(), dir.join(LOCK_FILE));
    }

    #[test]
    fn a_holder_line_is_shown_with_its_command_and_start_time_or_as_it_is() {
        let busy = |h: &str| Busy { holder: h.into() };
        assert_eq!(
            busy("node7 123 0 simulacra run").holder_text(),
            "pid 123 on node7, `simulacra run`, started Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            busy("node7 123 0").holder_text(),
            "pid 123 on node7, started Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(busy("something else").holder_text(), "something else");
    }
}
