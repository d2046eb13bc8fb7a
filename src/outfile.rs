//! Writing a run's output files atomically: every file simulacra writes beside a log
//! (`summary.json`, `steps.csv`, the exports, the report) is written to a temporary file in
//! the same folder and renamed over the final name only once it is complete, so a full disk,
//! a kill or an error mid-way leaves the previous file (or none), never a truncated one.
//!
//! The temporary file comes from the `tempfile` crate (unique name, removed when dropped
//! uncommitted). With the run's fsync policy at `step`, the file is synced before the rename
//! and the folder after it, so the rename survives a power loss too. A process killed while
//! writing leaves its temporary file behind: the writer holds an `flock` on it while it lives,
//! so [`remove_stale_temps`] can tell a dead writer's file (unlocked) from a live one's.
//!
//! Every I/O error names the output's final path and what to do next ([`failure`]).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

/// What to do after an I/O error of kind `kind` while writing an output.
fn next_step(kind: io::ErrorKind) -> &'static str {
    use io::ErrorKind::*;
    match kind {
        StorageFull | QuotaExceeded | FileTooLarge => {
            "the disk is full (or a size limit was reached): free space, then run the command \
             again; the file under that name was left as it was"
        }
        PermissionDenied | ReadOnlyFilesystem => {
            "the folder cannot be written: make it writable (or write elsewhere), then run the \
             command again"
        }
        _ => {
            "the file under that name was left as it was; run the command again once the cause is fixed"
        }
    }
}

/// The message of an I/O error while writing `path`: the file, the error and the next step.
pub fn failure(path: &Path, e: &io::Error) -> String {
    format!(
        "cannot write {}: {e}; {}",
        path.display(),
        next_step(e.kind())
    )
}

fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), failure(path, &e))
}

/// A handle on an output's temporary file whose errors say which output failed and what to
/// do (see [`failure`]), so that a writer that only sees `io::Error`s (CSV rows, the Parquet
/// encoder) reports them as a person can act on.
pub struct Writer {
    file: File,
    path: PathBuf,
}

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf).map_err(|e| named(&self.path, e))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush().map_err(|e| named(&self.path, e))
    }
}

/// Removes what earlier writers of `path` left behind when they were killed: temporary files
/// `.NAME.XXXXXX.tmp[.ext]` beside it that no live writer holds. Returns the files removed.
/// A file that cannot be opened or removed is left alone (it is not in the way).
pub fn remove_stale_temps(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        // The random part is 6 characters, then `.tmp` and the extension, if any.
        if !(rest.len() > 6 && rest[6..].starts_with(".tmp")) {
            continue;
        }
        let candidate = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let Ok(file) = std::fs::OpenOptions::new().read(true).open(&candidate) else {
            continue;
        };
        // Locked: a live writer's file. Removed while locked here, so no writer takes it.
        if file.try_lock().is_ok() && std::fs::remove_file(&candidate).is_ok() {
            removed.push(candidate);
        }
    }
    removed.sort();
    removed
}

/// An output file being written; nothing is under its final name until [`OutFile::commit`].
pub struct OutFile {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
    fsync: bool,
}

impl OutFile {
    /// Starts writing `path` (through a temporary file beside it). `fsync` syncs the file and
    /// its folder on commit.
    pub fn create(path: &Path, fsync: bool) -> anyhow::Result<OutFile> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .with_context(|| format!("{} is not a file name", path.display()))?;
        // The temporary name keeps the final extension, for writers that choose the format by
        // it (the plots' PNG encoder).
        let suffix = match path.extension() {
            Some(ext) => format!(".tmp.{}", ext.to_string_lossy()),
            None => ".tmp".to_string(),
        };
        let prefix = format!(".{}.", name.to_string_lossy());
        // What a killed writer of the same output left goes first.
        for stale in remove_stale_temps(path) {
            tracing::info!(file = %stale.display(), "removed a temporary file a killed writer left");
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(&suffix);
        // A temporary file is private (0600) by default; an output is an ordinary file, so it
        // is created with the mode `File::create` uses (0666, less the umask) like the log.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder
            .tempfile_in(dir)
            .map_err(|e| anyhow!(failure(path, &e)))?;
        // Held while this file lives (the kernel drops it if the process dies), so that a later
        // writer can tell it from a file a killed writer left; a filesystem without locks only
        // loses that.
        let _ = tmp.as_file().try_lock();
        Ok(OutFile {
            tmp,
            path: path.to_path_buf(),
            fsync,
        })
    }

    /// The temporary file, to write to (`&File` is `Write`).
    pub fn file(&self) -> &File {
        self.tmp.as_file()
    }

    /// A second handle on the temporary file, for writers that want to own one; its errors
    /// name the output (see [`Writer`]).
    pub fn handle(&self) -> anyhow::Result<Writer> {
        let file = self
            .tmp
            .as_file()
            .try_clone()
            .map_err(|e| anyhow!(failure(&self.path, &e)))?;
        Ok(Writer {
            file,
            path: self.path.clone(),
        })
    }

    /// The temporary file's path, for writers that open a path themselves.
    pub fn temp_path(&self) -> &Path {
        self.tmp.path()
    }

    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Puts the complete file under its final name (replacing what was there).
    pub fn commit(self) -> anyhow::Result<()> {
        let path = self.path;
        if self.fsync {
            self.tmp
                .as_file()
                .sync_all()
                .map_err(|e| anyhow!(failure(&path, &e)))?;
        }
        self.tmp
            .persist(&path)
            .map_err(|e| anyhow!(failure(&path, &e.error)))?;
        if self.fsync
            && let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .with_context(|| format!("cannot sync the folder {}", dir.display()))?;
        }
        Ok(())
    }
}

/// Writes `path` atomically through a buffered writer filled by `f`.
pub fn write_with(
    path: &Path,
    fsync: bool,
    f: impl FnOnce(&mut BufWriter<Writer>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let out = OutFile::create(path, fsync)?;
    {
        let mut w = BufWriter::new(out.handle()?);
        f(&mut w)?;
        w.flush()?;
    }
    out.commit()
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes(path: &Path, fsync: bool, bytes: &[u8]) -> anyhow::Result<()> {
    write_with(path, fsync, |w| Ok(w.write_all(bytes)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_previous_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        write_bytes(&path, true, b"old\n").unwrap();
        let err = write_with(&path, false, |w| {
            w.write_all(b"half a fi")?;
            anyhow::bail!("disk full")
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"));
        assert_eq!(std::fs::read(&path).unwrap(), b"old\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("summary.json")]);
    }

    #[test]
    fn an_uncommitted_file_never_appears_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agents.csv");
        let out = OutFile::create(&path, false).unwrap();
        out.file().write_all(b"step,agent\n").unwrap();
        assert!(!path.exists());
        drop(out);
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn an_output_gets_the_mode_of_an_ordinary_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("run.log");
        std::fs::File::create(&plain).unwrap();
        let out = dir.path().join("summary.json");
        write_bytes(&out, false, b"{}\n").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out), mode(&plain));
    }
}
