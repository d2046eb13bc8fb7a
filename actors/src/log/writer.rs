//! Writing a log: the shared frame encoder with its running SHA-256, the file writer and the
//! hash-only sink, both [`FrameSink`]s.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::hash::hex;
use super::{
    FORMAT_VERSION, FRAME_HEAD_LEN, FrameSink, LogDigest, LogError, MAGIC, MAX_FRAME_LEN,
    PREAMBLE_LEN, encode_payload,
};

/// When the file is forced to stable storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// Flush to the OS each step; never fsync (fast; survives a process crash, not power loss).
    Never,
    /// fsync at the end of every step (survives power loss; slower).
    EveryStep,
}

/// Shared encoding state of the writing sinks: the frame buffer, the running hash and counts.
pub(crate) struct Encoder {
    pub(crate) payload: Vec<u8>,
    hasher: Sha256,
    pub(crate) frames: u64,
    bytes: u64,
}

impl Encoder {
    pub(crate) fn new() -> Self {
        Encoder {
            payload: Vec::with_capacity(4096),
            hasher: Sha256::new(),
            frames: 0,
            bytes: 0,
        }
    }

    /// The state of an encoder that has seen the first `bytes` bytes of a log (hashed in
    /// `hasher`), `frames` of them frames after the header.
    pub(crate) fn continuing(hasher: Sha256, frames: u64, bytes: u64) -> Self {
        Encoder {
            hasher,
            frames,
            bytes,
            ..Encoder::new()
        }
    }

    /// Encodes `value` and returns the frame head; the payload is in `self.payload`.
    pub(crate) fn frame<T: Serialize>(&mut self, value: &T) -> Result<[u8; 8], LogError> {
        encode_payload(value, &mut self.payload)?;
        self.head()
    }

    /// The head of the payload in `self.payload`, with the frame hashed and counted in bytes.
    fn head(&mut self) -> Result<[u8; 8], LogError> {
        let len = u32::try_from(self.payload.len())
            .ok()
            .filter(|&l| l <= MAX_FRAME_LEN)
            .ok_or_else(|| {
                LogError::Encode(format!(
                    "frame of {} bytes is too large",
                    self.payload.len()
                ))
            })?;
        let crc = crc32fast::hash(&self.payload);
        let mut head = [0u8; 8];
        head[..4].copy_from_slice(&len.to_le_bytes());
        head[4..].copy_from_slice(&crc.to_le_bytes());
        self.hasher.update(head);
        self.hasher.update(&self.payload);
        self.bytes += FRAME_HEAD_LEN + self.payload.len() as u64;
        Ok(head)
    }

    fn preamble(&mut self) -> [u8; 12] {
        let mut pre = [0u8; 12];
        pre[..8].copy_from_slice(&MAGIC);
        pre[8..].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        self.hasher.update(pre);
        self.bytes += PREAMBLE_LEN;
        pre
    }

    pub(crate) fn digest(&self) -> LogDigest {
        LogDigest {
            frames: self.frames,
            bytes: self.bytes,
            sha256: hex(&self.hasher.clone().finalize()),
        }
    }
}

/// Writes a log file.
pub struct LogWriter {
    path: PathBuf,
    out: BufWriter<File>,
    enc: Encoder,
    fsync: Fsync,
}

impl LogWriter {
    /// Creates (truncates) `path` and writes the preamble and the header frame.
    pub fn create<H: Serialize>(path: &Path, header: &H, fsync: Fsync) -> Result<Self, LogError> {
        let io_err = |source| LogError::Io {
            path: path.to_path_buf(),
            cause: source,
        };
        let file = File::create(path).map_err(io_err)?;
        let mut writer = LogWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, file),
            enc: Encoder::new(),
            fsync,
        };
        let pre = writer.enc.preamble();
        writer.write_bytes(&pre)?;
        writer.write_frame(header)?;
        writer.enc.frames = 0; // the header is not counted as a frame
        // On disk at once: a run killed before its first step still leaves a resumable log.
        writer.flush()?;
        Ok(writer)
    }

    /// Opens an existing log to append frames after its last byte (resuming a run). The file
    /// is not read: the caller has checked and, if needed, truncated it.
    pub fn open_append(path: &Path, fsync: Fsync) -> Result<Self, LogError> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| LogError::Io {
                path: path.to_path_buf(),
                cause: source,
            })?;
        Ok(LogWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, file),
            enc: Encoder::new(),
            fsync,
        })
    }

    /// Continues an existing log whose bytes so far `enc` has seen: appends after its last byte.
    pub(crate) fn continue_from(path: &Path, fsync: Fsync, enc: Encoder) -> Result<Self, LogError> {
        let mut writer = LogWriter::open_append(path, fsync)?;
        writer.enc = enc;
        Ok(writer)
    }

    /// Appends a frame already encoded (a payload read from another log by [`LogReader`]): the
    /// same bytes, checksummed and hashed as if encoded here. Forks copy a shared prefix so.
    pub fn append_raw(&mut self, payload: &[u8]) -> Result<(), LogError> {
        self.enc.payload.clear();
        self.enc.payload.extend_from_slice(payload);
        let head = self.enc.head()?;
        self.write_encoded(head)
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), LogError> {
        self.out.write_all(bytes).map_err(|source| LogError::Io {
            path: self.path.clone(),
            cause: source,
        })
    }

    fn write_frame<T: Serialize>(&mut self, value: &T) -> Result<(), LogError> {
        let head = self.enc.frame(value)?;
        self.write_encoded(head)
    }

    /// Writes `head` and the encoder's payload: one frame.
    fn write_encoded(&mut self, head: [u8; 8]) -> Result<(), LogError> {
        self.out
            .write_all(&head)
            .and_then(|_| self.out.write_all(&self.enc.payload))
            .map_err(|source| LogError::Io {
                path: self.path.clone(),
                cause: source,
            })?;
        self.enc.frames += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), LogError> {
        let path = self.path.clone();
        self.out.flush().map_err(|source| LogError::Io {
            path: path.clone(),
            cause: source,
        })?;
        if self.fsync == Fsync::EveryStep {
            self.out
                .get_ref()
                .sync_data()
                .map_err(|source| LogError::Io {
                    path,
                    cause: source,
                })?;
        }
        Ok(())
    }
}

impl<F: Serialize> FrameSink<F> for LogWriter {
    fn append(&mut self, frame: &F) -> Result<(), LogError> {
        self.write_frame(frame)
    }
    fn end_step(&mut self) -> Result<(), LogError> {
        self.flush()
    }
    fn finish(&mut self) -> Result<LogDigest, LogError> {
        self.flush()?;
        Ok(self.enc.digest())
    }
    fn mark(&self) -> Option<LogDigest> {
        Some(self.enc.digest())
    }
}

/// Encodes frames exactly as [`LogWriter`] would, but keeps only the hash: for baseline runs and
/// benchmarks that need the log's identity, not its bytes.
pub struct HashSink {
    enc: Encoder,
}

impl HashSink {
    pub fn new<H: Serialize>(header: &H) -> Result<Self, LogError> {
        let mut enc = Encoder::new();
        enc.preamble();
        enc.frame(header)?;
        Ok(HashSink { enc })
    }
}

impl<F: Serialize> FrameSink<F> for HashSink {
    fn append(&mut self, frame: &F) -> Result<(), LogError> {
        self.enc.frame(frame)?;
        self.enc.frames += 1;
        Ok(())
    }
    fn end_step(&mut self) -> Result<(), LogError> {
        Ok(())
    }
    fn finish(&mut self) -> Result<LogDigest, LogError> {
        Ok(self.enc.digest())
    }
    fn mark(&self) -> Option<LogDigest> {
        Some(self.enc.digest())
    }
}
