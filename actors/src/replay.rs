//! Replay verification: re-execute a run and compare every frame with the recorded log.
//!
//! [`VerifySink`] is a [`FrameSink`] that, instead of writing, encodes each frame exactly as the
//! writer would and compares the bytes with the next recorded frame. The first difference stops
//! the run with [`LogError`]-free, user-facing detail: which frame, at which byte offset.

use std::path::Path;

use serde::Serialize;

use crate::log::{FrameSink, LogDigest, LogError, LogReader, encode_payload};

/// Where a re-execution first departed from the recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Divergence {
    /// Frame `index` (0-based, after the header) differs from the recorded one at `offset`.
    Differs { index: u64, offset: u64 },
    /// The re-execution produced frame `index`, but the recording ends before it.
    RecordingEnds { index: u64 },
    /// The recording has more frames than the re-execution produced; the first extra one
    /// is frame `index` at `offset`.
    RecordingLonger { index: u64, offset: u64 },
    /// The recording is damaged at `offset` (frame `index`); frames before it matched.
    RecordingDamaged { index: u64, error: String },
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Divergence::Differs { index, offset } => {
                write!(
                    f,
                    "frame {index} (byte {offset}) differs from the recording"
                )
            }
            Divergence::RecordingEnds { index } => write!(
                f,
                "the re-execution produced frame {index}, but the recording ends before it"
            ),
            Divergence::RecordingLonger { index, offset } => write!(
                f,
                "the recording has more frames than the re-execution: frame {index} (byte {offset}) is extra"
            ),
            Divergence::RecordingDamaged { index, error } => {
                write!(f, "the recording is damaged at frame {index}: {error}")
            }
        }
    }
}

/// Compares re-executed frames against a recorded log.
pub struct VerifySink {
    reader: LogReader,
    buf: Vec<u8>,
    index: u64,
    divergence: Option<Divergence>,
    /// The step each compared frame belongs to is the caller's business; it can read
    /// `frames_matched` to map an index to a step.
    pub frames_matched: u64,
}

impl VerifySink {
    /// Opens the recording. The header is compared by the caller (it rebuilt the run from it).
    pub fn open(path: &Path) -> Result<Self, LogError> {
        Ok(VerifySink {
            reader: LogReader::open(path)?,
            buf: Vec::new(),
            index: 0,
            divergence: None,
            frames_matched: 0,
        })
    }

    /// The first divergence found, if any.
    pub fn divergence(&self) -> Option<&Divergence> {
        self.divergence.as_ref()
    }

    /// After the run: checks the recording has no frames left over.
    pub fn check_end(&mut self) -> Option<&Divergence> {
        if self.divergence.is_none() {
            match self.reader.next_raw() {
                None => {}
                Some(Ok(extra)) => {
                    self.divergence = Some(Divergence::RecordingLonger {
                        index: self.index,
                        offset: extra.offset,
                    })
                }
                Some(Err(e)) => {
                    self.divergence = Some(Divergence::RecordingDamaged {
                        index: self.index,
                        error: e.to_string(),
                    })
                }
            }
        }
        self.divergence.as_ref()
    }

    fn diverged(&mut self, d: Divergence) -> LogError {
        let message = d.to_string();
        self.divergence = Some(d);
        LogError::Encode(format!("replay diverged: {message}"))
    }
}

impl<F: Serialize> FrameSink<F> for VerifySink {
    fn append(&mut self, frame: &F) -> Result<(), LogError> {
        if self.divergence.is_some() {
            return Err(LogError::Encode("replay already diverged".into()));
        }
        encode_payload(frame, &mut self.buf)?;
        let index = self.index;
        self.index += 1;
        match self.reader.next_raw() {
            None => Err(self.diverged(Divergence::RecordingEnds { index })),
            Some(Err(e)) => Err(self.diverged(Divergence::RecordingDamaged {
                index,
                error: e.to_string(),
            })),
            Some(Ok(recorded)) if recorded.payload != self.buf => {
                Err(self.diverged(Divergence::Differs {
                    index,
                    offset: recorded.offset,
                }))
            }
            Some(Ok(_)) => {
                self.frames_matched += 1;
                Ok(())
            }
        }
    }

    fn end_step(&mut self) -> Result<(), LogError> {
        Ok(())
    }

    fn finish(&mut self) -> Result<LogDigest, LogError> {
        Ok(LogDigest {
            frames: self.frames_matched,
            bytes: 0,
            sha256: String::new(),
        })
    }
}

/// Resuming: the re-execution starts at a known point of the log (its first frame, or a
/// checkpoint's mark); the `prefix` frames it produces that are already on disk are checked
/// against them, and every frame after them is appended. The re-execution restores every
/// actor's state exactly; a checkpoint only spares it the steps before its mark, and is trusted
/// only if the log's bytes up to the mark hash to what the checkpoint recorded.
///
/// The sink keeps the running identity (frames, bytes, SHA-256) of the whole file from byte 0,
/// so [`FrameSink::mark`] and `finish` describe the whole log, as an uninterrupted writer's do.
pub struct ResumeSink {
    path: std::path::PathBuf,
    reader: LogReader,
    /// The identity of the log up to the last frame checked or written.
    enc: crate::log::Encoder,
    /// Frames still to check before appending.
    to_check: u64,
    fsync: crate::log::Fsync,
    writer: Option<crate::log::LogWriter>,
    divergence: Option<Divergence>,
}

impl ResumeSink {
    /// Opens `path` to resume after `start` (a checkpoint's mark of this log; `None`: from the
    /// first frame). `prefix` frames after `start` are already in the file, which must end
    /// exactly after them (the caller cut a torn tail).
    pub fn open(
        path: &Path,
        start: Option<&LogDigest>,
        prefix: u64,
        fsync: crate::log::Fsync,
    ) -> Result<Self, LogError> {
        let mut reader = LogReader::open(path)?;
        let (frames, bytes) = match start {
            Some(mark) => (mark.frames, mark.bytes),
            None => (0, reader.header_end()),
        };
        let hasher = crate::log::hash_prefix(path, bytes)?;
        if let Some(mark) = start {
            let found = crate::log::hex_of(hasher.clone());
            if found != mark.sha256 {
                return Err(LogError::Inconsistent(format!(
                    "the first {bytes} bytes of {} hash to {}, not to the checkpoint's {}: the log \
                     is not the one the checkpoint was taken from",
                    path.display(),
                    &found[..12],
                    &mark.sha256[..mark.sha256.len().min(12)]
                )));
            }
            reader.seek_to(bytes)?;
        }
        Ok(ResumeSink {
            path: path.to_path_buf(),
            reader,
            enc: crate::log::Encoder::continuing(hasher, frames, bytes),
            to_check: prefix,
            fsync,
            writer: None,
            divergence: None,
        })
    }

    /// Where the re-execution departed from the recorded prefix, if it did.
    pub fn divergence(&self) -> Option<&Divergence> {
        self.divergence.as_ref()
    }

    fn diverged(&mut self, d: Divergence) -> LogError {
        let message = d.to_string();
        self.divergence = Some(d);
        LogError::Encode(format!("resume diverged from the log: {message}"))
    }

    /// Checks the next re-executed frame against the recorded one.
    fn check<F: Serialize>(&mut self, frame: &F) -> Result<(), LogError> {
        if self.divergence.is_some() {
            return Err(LogError::Encode("resume already diverged".into()));
        }
        let index = self.enc.frames;
        self.enc.frame(frame)?;
        match self.reader.next_raw() {
            None => Err(self.diverged(Divergence::RecordingEnds { index })),
            Some(Err(e)) => Err(self.diverged(Divergence::RecordingDamaged {
                index,
                error: e.to_string(),
            })),
            Some(Ok(recorded)) if recorded.payload != self.enc.payload => {
                Err(self.diverged(Divergence::Differs {
                    index,
                    offset: recorded.offset,
                }))
            }
            Some(Ok(_)) => {
                self.enc.frames += 1;
                self.to_check -= 1;
                Ok(())
            }
        }
    }

    /// Switches from checking to appending; the recorded log must end here.
    fn start_writing(&mut self) -> Result<&mut crate::log::LogWriter, LogError> {
        if self.writer.is_none() {
            if let Some(extra) = self.reader.next_raw() {
                let offset = extra.map_or_else(|e| e.offset().unwrap_or(0), |raw| raw.offset);
                return Err(LogError::Inconsistent(format!(
                    "{} goes on after the frames it was expected to end with (byte {offset})",
                    self.path.display()
                )));
            }
            let enc = std::mem::replace(&mut self.enc, crate::log::Encoder::new());
            self.writer = Some(crate::log::LogWriter::continue_from(
                &self.path, self.fsync, enc,
            )?);
        }
        Ok(self.writer.as_mut().expect("opened above"))
    }
}

impl<F: Serialize> FrameSink<F> for ResumeSink {
    fn append(&mut self, frame: &F) -> Result<(), LogError> {
        if self.to_check > 0 {
            return self.check(frame);
        }
        FrameSink::<F>::append(self.start_writing()?, frame)
    }

    fn end_step(&mut self) -> Result<(), LogError> {
        match self.writer.as_mut() {
            Some(w) => FrameSink::<F>::end_step(w),
            None => Ok(()),
        }
    }

    fn finish(&mut self) -> Result<LogDigest, LogError> {
        match self.writer.as_mut() {
            Some(w) => FrameSink::<F>::finish(w),
            None => Ok(self.enc.digest()),
        }
    }

    fn mark(&self) -> Option<LogDigest> {
        match &self.writer {
            Some(w) => FrameSink::<F>::mark(w),
            None => Some(self.enc.digest()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{Fsync, LogWriter};

    fn record(path: &Path, frames: &[u32]) {
        let mut w = LogWriter::create(path, &"h", Fsync::Never).unwrap();
        for f in frames {
            FrameSink::<u32>::append(&mut w, f).unwrap();
        }
        FrameSink::<u32>::finish(&mut w).unwrap();
    }

    fn verify(path: &Path, frames: &[u32]) -> Option<Divergence> {
        let mut v = VerifySink::open(path).unwrap();
        for f in frames {
            if FrameSink::<u32>::append(&mut v, f).is_err() {
                break;
            }
        }
        v.check_end().cloned()
    }

    #[test]
    fn resuming_checks_the_prefix_and_appends_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let full = dir.path().join("full.log");
        record(&full, &[1, 2, 3, 4, 5]);
        let cut = dir.path().join("cut.log");
        record(&cut, &[1, 2]);
        let mut r = ResumeSink::open(&cut, None, 2, crate::log::Fsync::Never).unwrap();
        for f in [1u32, 2, 3, 4, 5] {
            FrameSink::<u32>::append(&mut r, &f).unwrap();
        }
        let d = FrameSink::<u32>::finish(&mut r).unwrap();
        assert_eq!(std::fs::read(&cut).unwrap(), std::fs::read(&full).unwrap());
        assert_eq!(d.sha256, crate::log::file_sha256(&full).unwrap());
        // A prefix that differs is caught, not silently extended.
        let bad = dir.path().join("bad.log");
        record(&bad, &[1, 9]);
        let mut r = ResumeSink::open(&bad, None, 2, crate::log::Fsync::Never).unwrap();
        FrameSink::<u32>::append(&mut r, &1).unwrap();
        assert!(FrameSink::<u32>::append(&mut r, &2).is_err());
        assert!(r.divergence().is_some());
    }

    #[test]
    fn resuming_from_a_mark_skips_what_is_before_it_and_keeps_the_identity() {
        let dir = tempfile::tempdir().unwrap();
        let full = dir.path().join("full.log");
        record(&full, &[1, 2, 3, 4, 5]);
        // A run that logged 1, 2 (checkpoint), 3, then died.
        let cut = dir.path().join("cut.log");
        let mut w = LogWriter::create(&cut, &"h", Fsync::Never).unwrap();
        FrameSink::<u32>::append(&mut w, &1).unwrap();
        FrameSink::<u32>::append(&mut w, &2).unwrap();
        let mark = FrameSink::<u32>::mark(&w).unwrap();
        FrameSink::<u32>::append(&mut w, &3).unwrap();
        FrameSink::<u32>::finish(&mut w).unwrap();
        assert_eq!(mark.frames, 2);

        let mut r = ResumeSink::open(&cut, Some(&mark), 1, Fsync::Never).unwrap();
        assert_eq!(FrameSink::<u32>::mark(&r), Some(mark.clone()));
        for f in [3u32, 4, 5] {
            FrameSink::<u32>::append(&mut r, &f).unwrap();
        }
        let d = FrameSink::<u32>::finish(&mut r).unwrap();
        assert_eq!(std::fs::read(&cut).unwrap(), std::fs::read(&full).unwrap());
        assert_eq!(d.sha256, crate::log::file_sha256(&full).unwrap());
        assert_eq!(d.frames, 5);
        assert_eq!(d.bytes, std::fs::metadata(&full).unwrap().len());

        // A mark from another log is refused, with a reason.
        let other = dir.path().join("other.log");
        record(&other, &[7, 8, 9]);
        let err = ResumeSink::open(&other, Some(&mark), 1, Fsync::Never)
            .err()
            .expect("a foreign mark is refused");
        assert!(
            err.to_string().contains("not the one the checkpoint"),
            "{err}"
        );
    }

    #[test]
    fn identical_replay_has_no_divergence() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.log");
        record(&p, &[1, 2, 3]);
        assert_eq!(verify(&p, &[1, 2, 3]), None);
    }

    #[test]
    fn first_difference_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.log");
        record(&p, &[1, 2, 3]);
        assert!(matches!(
            verify(&p, &[1, 9, 3]),
            Some(Divergence::Differs { index: 1, .. })
        ));
        assert_eq!(
            verify(&p, &[1, 2, 3, 4]),
            Some(Divergence::RecordingEnds { index: 3 })
        );
        assert!(matches!(
            verify(&p, &[1, 2]),
            Some(Divergence::RecordingLonger { index: 2, .. })
        ));
    }
}
