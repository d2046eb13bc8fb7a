//! The message log: one append-only binary file per run, the source of truth for replay.
//!
//! ```text
//! offset 0   magic  b"SIMLOG\r\n"          8 bytes (the \r\n catches text-mode mangling)
//! offset 8   format version, u32 LE        currently 1
//! offset 12  header frame                  the run's header (config, seed, versions)
//! ...        frames                        one per logged message, in the scheduler's order
//!
//! frame  = [payload length: u32 LE][CRC-32 of payload: u32 LE][payload: bincode 2, standard config]
//! ```
//!
//! Every frame carries its own checksum, so a reader stops at the first torn or corrupted frame
//! and reports its byte offset; everything before it stays readable. Past a bad frame,
//! [`read_resynced`] finds the next valid one by its checksum: a bad frame is a torn tail only
//! when nothing valid follows it. The writer keeps a running
//! SHA-256 of every byte it writes, so a run knows its log hash without reading the file back.
//!
//! The format is generic over the header and frame types (any serde type); the runtime knows
//! nothing about what the frames mean.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

mod hash;
mod reader;
mod resync;
mod writer;

pub use hash::{file_sha256, prefix_sha256};
pub(crate) use hash::{hash_prefix, hex_of};
pub use reader::{LogReader, RawFrame};
pub use resync::{Piece, next_valid_frame, read_resynced, resync_bytes};
pub(crate) use writer::Encoder;
pub use writer::{Fsync, HashSink, LogWriter};

pub const MAGIC: [u8; 8] = *b"SIMLOG\r\n";
pub const FORMAT_VERSION: u32 = 1;
/// A frame longer than this is treated as corruption rather than allocated.
pub const MAX_FRAME_LEN: u32 = 1 << 30;
const PREAMBLE_LEN: u64 = 12;
/// A frame's head: the payload length and its CRC-32, both u32 LE.
pub const FRAME_HEAD_LEN: u64 = 8;

fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// What can go wrong reading or writing a log. Offsets are byte offsets from the file start.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The OS error is part of the message, not `source()`, so a chained report (`{:#}`)
    /// does not print it twice.
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: io::Error },
    #[error("not a simulacra log: the first 8 bytes are not the log magic")]
    BadMagic,
    #[error(
        "log format version {found} is not supported (this build reads version {FORMAT_VERSION})"
    )]
    UnsupportedVersion { found: u32 },
    #[error("the log is truncated at byte {offset}: {what}; the frames before it are intact")]
    Truncated { offset: u64, what: &'static str },
    #[error(
        "frame at byte {offset} is corrupt: its checksum is {found:08x}, expected {expected:08x}; the frames before it are intact"
    )]
    Checksum {
        offset: u64,
        expected: u32,
        found: u32,
    },
    #[error(
        "frame at byte {offset} declares {len} bytes, more than the {MAX_FRAME_LEN}-byte limit: the length field is corrupt"
    )]
    FrameTooLarge { offset: u64, len: u32 },
    #[error("frame at byte {offset} has a valid checksum but does not decode: {message}")]
    Decode { offset: u64, message: String },
    #[error("could not encode a frame: {0}")]
    Encode(String),
    /// The file does not agree with what a caller knew of it (a snapshot's log prefix).
    #[error("{0}")]
    Inconsistent(String),
}

impl LogError {
    /// The byte offset of the bad frame, when the error is about one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            LogError::Truncated { offset, .. }
            | LogError::Checksum { offset, .. }
            | LogError::FrameTooLarge { offset, .. }
            | LogError::Decode { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}

/// Opens `path` for reading if it is a regular file (following symlinks). A FIFO, a device, a
/// socket or a folder where a run file should be is an error, not a read that waits forever
/// for a writer or never ends.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let kind = std::fs::metadata(path)?.file_type();
    if !kind.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("is {}, not a regular file", file_kind(&kind)),
        ));
    }
    File::open(path)
}

/// What a non-regular file is, for an error message.
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else {
        "not a file"
    }
}

/// Encodes one value as a frame payload.
pub fn encode_payload<T: Serialize>(value: &T, buf: &mut Vec<u8>) -> Result<(), LogError> {
    buf.clear();
    bincode::serde::encode_into_std_write(value, buf, bincode_config())
        .map(|_| ())
        .map_err(|e| LogError::Encode(e.to_string()))
}

/// Decodes a frame payload (the whole payload must be consumed).
pub fn decode_payload<T: DeserializeOwned>(bytes: &[u8], offset: u64) -> Result<T, LogError> {
    decode_bounded::<T, { MAX_FRAME_LEN as usize }>(bytes, offset)
}

/// Decodes a payload, refusing any container or string that claims more than `LIMIT` bytes.
///
/// Why a limit: without one, bincode allocates a string's or vector's declared length before
/// reading it, so a payload with a valid checksum that declares 2^62 bytes aborts the process
/// (found by the `log_reader` fuzz target). With a limit the claim is checked first and the
/// frame is a `Decode` error at its offset, like any other undecodable frame. The limit only
/// bounds decoding: the bytes are those `standard()` writes.
pub fn decode_bounded<T: DeserializeOwned, const LIMIT: usize>(
    bytes: &[u8],
    offset: u64,
) -> Result<T, LogError> {
    let config = bincode_config().with_limit::<LIMIT>();
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, config).map_err(|e| LogError::Decode {
            offset,
            message: crate::decode_error::describe(&e),
        })?;
    if used != bytes.len() {
        return Err(LogError::Decode {
            offset,
            message: format!("{} trailing bytes after the value", bytes.len() - used),
        });
    }
    Ok(value)
}

/// Where the scheduler puts frames: a file ([`LogWriter`]), a hash only ([`HashSink`]), or a
/// comparison against a recorded log ([`crate::replay::VerifySink`]).
pub trait FrameSink<F> {
    /// Appends one frame.
    fn append(&mut self, frame: &F) -> Result<(), LogError>;
    /// Marks the end of a timestep: a file sink flushes here.
    fn end_step(&mut self) -> Result<(), LogError>;
    /// Finishes the log and returns (frames written after the header, SHA-256 hex of all bytes).
    fn finish(&mut self) -> Result<LogDigest, LogError>;
    /// The identity of the log written so far (as `finish` would return it now), for a
    /// checkpoint to name the log prefix it continues. Sinks that do not write a log have none.
    fn mark(&self) -> Option<LogDigest> {
        None
    }
}

/// A log's identity: its frames after the header, its length in bytes and the SHA-256 of those
/// bytes. Of a finished log, or of a prefix of one (a checkpoint's mark).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogDigest {
    pub frames: u64,
    pub bytes: u64,
    pub sha256: String,
}

#[cfg(test)]
mod tests;
