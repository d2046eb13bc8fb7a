//! The one reader of a run's message log: its header (checked to be a simulacra run, with the
//! scenario it holds) and its frames, decoded in order up to the end or the first torn or
//! corrupt frame. `resume`, `fork`, `replay`, `inspect`, the exports and the report all read a
//! log through it; the byte layout (frame head length, checksums) stays with
//! `simulacra_actors::log`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use simulacra_actors::LogReader;

use crate::config::Scenario;
use crate::frames::{Frame, LogHeader};

/// The log file inside a run folder.
pub const LOG_FILE: &str = "run.log";

/// A run's log, opened: its header and scenario read, its frames not yet.
pub struct RunLog {
    pub path: PathBuf,
    pub header: LogHeader,
    pub scenario: Scenario,
    reader: LogReader,
}

impl RunLog {
    /// Opens `run_dir/run.log` and reads its header and the scenario it holds.
    pub fn open(run_dir: &Path) -> anyhow::Result<RunLog> {
        let path = run_dir.join(LOG_FILE);
        let reader =
            LogReader::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let header: LogHeader = reader
            .header()
            .with_context(|| format!("{}: the header does not decode", path.display()))?;
        if header.kind != "simulacra-run" {
            bail!(
                "{}: not a simulacra run log (kind {:?})",
                path.display(),
                header.kind
            );
        }
        let scenario = Scenario::from_toml(&header.scenario_toml).with_context(|| {
            format!("{}: the scenario in the header is invalid", path.display())
        })?;
        Ok(RunLog {
            path,
            header,
            scenario,
            reader,
        })
    }

    /// The byte offset where the header frame ends (the first step's frames start there).
    pub fn header_end(&self) -> u64 {
        self.reader.header_end()
    }

    /// The SHA-256 of the header frame's payload (what snapshots are tied to).
    pub fn header_sha256(&self) -> String {
        crate::snapshot::header_sha256(&self.reader.header_raw().payload)
    }

    /// Calls `f(frame, end)` for every frame after the header, in order, where `end` is the
    /// byte offset just past the frame. Stops at the end of the log or at the first frame that
    /// is torn, corrupt or does not decode, and returns what was wrong with it (everything
    /// before it was delivered).
    pub fn frames(
        mut self,
        mut f: impl FnMut(Frame, u64) -> anyhow::Result<()>,
    ) -> anyhow::Result<Option<String>> {
        while let Some(next) = self.reader.next_raw() {
            let (frame, end) = match next.and_then(|raw| Ok((raw.decode::<Frame>()?, raw.end()))) {
                Ok(decoded) => decoded,
                Err(e) => return Ok(Some(e.to_string())),
            };
            f(frame, end)?;
        }
        Ok(None)
    }
}
