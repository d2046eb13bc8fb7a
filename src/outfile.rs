//! Writing a run's output files atomically: every file simulacra writes beside a log
//! (`summary.json`, `steps.csv`, the exports, the report) is written to a temporary file in
//! the same folder and renamed over the final name only once it is complete, so a full disk,
//! a kill or an error mid-way leaves the previous file (or none), never a truncated one.
//!
//! The temporary file comes from the `tempfile` crate (unique name, removed when dropped
//! uncommitted). With the run's fsync policy at `step`, the file is synced before the rename
//! and the folder after it, so the rename survives a power loss too.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

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
            .with_context(|| format!("cannot write {}", path.display()))?;
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

    /// A second handle on the temporary file, for writers that want to own one.
    pub fn handle(&self) -> anyhow::Result<File> {
        self.tmp
            .as_file()
            .try_clone()
            .with_context(|| format!("cannot write {}", self.path.display()))
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
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        self.tmp
            .persist(&path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", path.display()))?;
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
    f: impl FnOnce(&mut BufWriter<&File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let out = OutFile::create(path, fsync)?;
    {
        let mut w = BufWriter::new(out.file());
        f(&mut w)?;
        w.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    out.commit()
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes(path: &Path, fsync: bool, bytes: &[u8]) -> anyhow::Result<()> {
    write_with(path, fsync, |w| {
        w.write_all(bytes)
            .with_context(|| format!("cannot write {}", path.display()))
    })
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
