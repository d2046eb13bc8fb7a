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
//! and reports its byte offset; everything before it stays readable. The writer keeps a running
//! SHA-256 of every byte it writes, so a run knows its log hash without reading the file back.
//!
//! The format is generic over the header and frame types (any serde type); the runtime knows
//! nothing about what the frames mean.
//!
//! One piece on purpose (about 670 lines of code): the writer, the reader, the verifying and
//! hashing sinks share the frame layout and its invariants, and a change to one must be read
//! against the others.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

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

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

/// One frame as stored: its offset, and its payload bytes (checksum already verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    pub offset: u64,
    pub payload: Vec<u8>,
}

impl RawFrame {
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, LogError> {
        decode_payload(&self.payload, self.offset)
    }

    /// The byte offset just past this frame (where the next one starts).
    pub fn end(&self) -> u64 {
        self.offset + FRAME_HEAD_LEN + self.payload.len() as u64
    }
}

/// Reads a log frame by frame. After the first error the reader yields nothing more.
pub struct LogReader {
    input: BufReader<File>,
    path: PathBuf,
    offset: u64,
    header: RawFrame,
    failed: bool,
}

impl LogReader {
    /// Opens `path` and checks the preamble and the header frame.
    pub fn open(path: &Path) -> Result<Self, LogError> {
        let file = open_regular(path).map_err(|source| LogError::Io {
            path: path.to_path_buf(),
            cause: source,
        })?;
        let mut input = BufReader::with_capacity(1 << 20, file);
        let mut pre = [0u8; 12];
        let got = read_full(&mut input, &mut pre).map_err(|source| LogError::Io {
            path: path.to_path_buf(),
            cause: source,
        })?;
        if got < 8 || pre[..8] != MAGIC {
            return Err(if got < 8 && MAGIC.starts_with(&pre[..got]) && got > 0 {
                LogError::Truncated {
                    offset: 0,
                    what: "the file ends inside the magic number",
                }
            } else {
                LogError::BadMagic
            });
        }
        if got < 12 {
            return Err(LogError::Truncated {
                offset: 8,
                what: "the file ends inside the format version",
            });
        }
        let version = u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]]);
        if version != FORMAT_VERSION {
            return Err(LogError::UnsupportedVersion { found: version });
        }
        let mut reader = LogReader {
            input,
            path: path.to_path_buf(),
            offset: PREAMBLE_LEN,
            header: RawFrame {
                offset: 0,
                payload: Vec::new(),
            },
            failed: false,
        };
        reader.header = match reader.next_raw() {
            Some(Ok(frame)) => frame,
            Some(Err(e)) => return Err(e),
            None => {
                return Err(LogError::Truncated {
                    offset: PREAMBLE_LEN,
                    what: "the file has no header frame",
                });
            }
        };
        Ok(reader)
    }

    /// The header frame, undecoded.
    pub fn header_raw(&self) -> &RawFrame {
        &self.header
    }

    /// Decodes the header.
    pub fn header<H: DeserializeOwned>(&self) -> Result<H, LogError> {
        self.header.decode()
    }

    /// The byte offset just after the header frame (where the first frame starts).
    pub fn header_end(&self) -> u64 {
        PREAMBLE_LEN + FRAME_HEAD_LEN + self.header.payload.len() as u64
    }

    /// Moves to the frame starting at byte `offset` (a frame boundary the caller knows, such
    /// as a checkpoint's mark); reading goes on from there.
    pub fn seek_to(&mut self, offset: u64) -> Result<(), LogError> {
        use std::io::Seek;
        self.input
            .seek(io::SeekFrom::Start(offset))
            .map_err(|source| LogError::Io {
                path: self.path.clone(),
                cause: source,
            })?;
        self.offset = offset;
        self.failed = false;
        Ok(())
    }

    /// The path this reader reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next frame: `None` at a clean end of file, `Some(Err(..))` once at the first bad
    /// frame (then `None`).
    pub fn next_raw(&mut self) -> Option<Result<RawFrame, LogError>> {
        if self.failed {
            return None;
        }
        let result = self.read_frame();
        match result {
            Ok(None) => None,
            Ok(Some(frame)) => Some(Ok(frame)),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }

    fn read_frame(&mut self) -> Result<Option<RawFrame>, LogError> {
        let offset = self.offset;
        let io = |source| LogError::Io {
            path: self.path.clone(),
            cause: source,
        };
        let mut head = [0u8; 8];
        let got = read_full(&mut self.input, &mut head).map_err(io)?;
        if got == 0 {
            return Ok(None);
        }
        if got < 8 {
            return Err(LogError::Truncated {
                offset,
                what: "the file ends inside a frame header",
            });
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if len > MAX_FRAME_LEN {
            return Err(LogError::FrameTooLarge { offset, len });
        }
        let mut payload = vec![0u8; len as usize];
        let got = read_full(&mut self.input, &mut payload).map_err(|source| LogError::Io {
            path: self.path.clone(),
            cause: source,
        })?;
        if got < payload.len() {
            return Err(LogError::Truncated {
                offset,
                what: "the file ends inside a frame payload",
            });
        }
        let found = crc32fast::hash(&payload);
        if found != crc {
            return Err(LogError::Checksum {
                offset,
                expected: crc,
                found,
            });
        }
        self.offset += FRAME_HEAD_LEN + u64::from(len);
        Ok(Some(RawFrame { offset, payload }))
    }

    /// Decodes every remaining frame. Returns the intact prefix and, if the log ends badly,
    /// the error that stopped the reading.
    pub fn read_all<F: DeserializeOwned>(&mut self) -> (Vec<(u64, F)>, Option<LogError>) {
        let mut frames = Vec::new();
        while let Some(next) = self.next_raw() {
            match next.and_then(|raw| raw.decode::<F>().map(|f| (raw.offset, f))) {
                Ok(frame) => frames.push(frame),
                Err(e) => {
                    self.failed = true;
                    return (frames, Some(e));
                }
            }
        }
        (frames, None)
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The SHA-256 state after the first `len` bytes of a file (an error if it is shorter).
pub(crate) fn hash_prefix(path: &Path, len: u64) -> Result<Sha256, LogError> {
    let io = |source| LogError::Io {
        path: path.to_path_buf(),
        cause: source,
    };
    let mut file = BufReader::new(open_regular(path).map_err(io)?).take(len);
    let mut hasher = Sha256::new();
    let copied = io::copy(&mut file, &mut HashWriter(&mut hasher)).map_err(io)?;
    if copied < len {
        return Err(LogError::Inconsistent(format!(
            "{} has {copied} bytes, fewer than the {len} expected",
            path.display()
        )));
    }
    Ok(hasher)
}

/// Lets `io::copy` feed a hasher.
struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// SHA-256 (hex) of the first `len` bytes of a file (an error if it is shorter).
pub fn prefix_sha256(path: &Path, len: u64) -> Result<String, LogError> {
    hash_prefix(path, len).map(hex_of)
}

/// Hex of a finished hash.
pub(crate) fn hex_of(hasher: Sha256) -> String {
    hex(&hasher.finalize())
}

/// SHA-256 (hex) of a file's bytes.
pub fn file_sha256(path: &Path) -> Result<String, LogError> {
    let io = |source| LogError::Io {
        path: path.to_path_buf(),
        cause: source,
    };
    let mut file = BufReader::new(open_regular(path).map_err(io)?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|source| LogError::Io {
            path: path.to_path_buf(),
            cause: source,
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Header {
        seed: u64,
        name: String,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Frame {
        Begin { step: u64 },
        Values(Vec<f64>),
    }

    fn write_sample(path: &Path) -> LogDigest {
        let mut w = LogWriter::create(
            path,
            &Header {
                seed: 7,
                name: "t".into(),
            },
            Fsync::Never,
        )
        .unwrap();
        for step in 0..3u64 {
            FrameSink::<Frame>::append(&mut w, &Frame::Begin { step }).unwrap();
            FrameSink::<Frame>::append(&mut w, &Frame::Values(vec![step as f64, 0.5])).unwrap();
            FrameSink::<Frame>::end_step(&mut w).unwrap();
        }
        FrameSink::<Frame>::finish(&mut w).unwrap()
    }

    #[test]
    fn round_trip_and_hashes_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        let digest = write_sample(&path);
        assert_eq!(digest.frames, 6);
        assert_eq!(digest.sha256, file_sha256(&path).unwrap());
        assert_eq!(digest.bytes, std::fs::metadata(&path).unwrap().len());

        let mut hs = HashSink::new(&Header {
            seed: 7,
            name: "t".into(),
        })
        .unwrap();
        for step in 0..3u64 {
            FrameSink::<Frame>::append(&mut hs, &Frame::Begin { step }).unwrap();
            FrameSink::<Frame>::append(&mut hs, &Frame::Values(vec![step as f64, 0.5])).unwrap();
        }
        assert_eq!(FrameSink::<Frame>::finish(&mut hs).unwrap(), digest);

        let mut r = LogReader::open(&path).unwrap();
        let h: Header = r.header().unwrap();
        assert_eq!(h.seed, 7);
        let (frames, err) = r.read_all::<Frame>();
        assert!(err.is_none());
        assert_eq!(frames.len(), 6);
        assert_eq!(frames[5].1, Frame::Values(vec![2.0, 0.5]));
    }

    #[test]
    fn truncated_log_keeps_its_prefix_and_names_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        write_sample(&path);
        let full = std::fs::read(&path).unwrap();
        let mut r = LogReader::open(&path).unwrap();
        let (frames, _) = r.read_all::<Frame>();
        let last_offset = frames[5].0;
        // Cut three bytes into the last frame's payload.
        std::fs::write(&path, &full[..last_offset as usize + 11]).unwrap();
        let mut r = LogReader::open(&path).unwrap();
        let (frames, err) = r.read_all::<Frame>();
        assert_eq!(frames.len(), 5);
        let err = err.expect("truncation must be reported");
        assert_eq!(err.offset(), Some(last_offset));
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn flipped_byte_is_a_checksum_error_at_that_frame() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        write_sample(&path);
        let mut bytes = std::fs::read(&path).unwrap();
        let (frames, _) = LogReader::open(&path).unwrap().read_all::<Frame>();
        let target = frames[2].0 as usize + 9; // first payload byte of frame 2
        bytes[target] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        let (frames2, err) = LogReader::open(&path).unwrap().read_all::<Frame>();
        assert_eq!(frames2.len(), 2);
        assert!(matches!(err, Some(LogError::Checksum { offset, .. }) if offset == frames[2].0));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_a_device_is_refused_not_read_forever() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("run.log");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Without the check, opening a FIFO with no writer blocks this thread forever.
        let err = LogReader::open(&fifo).err().unwrap().to_string();
        assert!(err.contains("FIFO"), "{err}");
        let err = file_sha256(&fifo).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let err = LogReader::open(Path::new("/dev/zero"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("a device"), "{err}");
    }

    #[test]
    fn not_a_log_and_bad_version_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, b"hello world, not a log").unwrap();
        assert!(matches!(LogReader::open(&path), Err(LogError::BadMagic)));
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&99u32.to_le_bytes());
        std::fs::write(&path, &v).unwrap();
        assert!(matches!(
            LogReader::open(&path),
            Err(LogError::UnsupportedVersion { found: 99 })
        ));
        std::fs::write(&path, &MAGIC[..5]).unwrap();
        assert!(matches!(
            LogReader::open(&path),
            Err(LogError::Truncated { .. })
        ));
        std::fs::write(&path, b"").unwrap();
        assert!(LogReader::open(&path).is_err());
    }

    #[test]
    fn absurd_length_is_not_allocated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        write_sample(&path);
        let mut bytes = std::fs::read(&path).unwrap();
        let (frames, _) = LogReader::open(&path).unwrap().read_all::<Frame>();
        let at = frames[1].0 as usize;
        bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let (_, err) = LogReader::open(&path).unwrap().read_all::<Frame>();
        assert!(matches!(err, Some(LogError::FrameTooLarge { .. })));
    }

    /// The fuzz target's finds: frames with valid checksums whose strings declare 2^62 and
    /// 2^63 + 1 bytes aborted the process (allocation failure) or panicked (capacity
    /// overflow) in the decoder. They are decode errors at the frame's offset now.
    #[test]
    fn declared_lengths_beyond_the_frame_are_decode_errors_not_aborts() {
        let frame = |payload: &[u8]| {
            let mut f = (payload.len() as u32).to_le_bytes().to_vec();
            f.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
            f.extend_from_slice(payload);
            f
        };
        let log = |frames: &[Vec<u8>]| {
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
            for f in frames {
                bytes.extend_from_slice(f);
            }
            bytes
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        // A header (a String) declaring 2^62 and 2^63 + 1 bytes: varint tag 0xfd, u64 LE.
        for len in [1u64 << 62, (1u64 << 63) + 1] {
            let mut payload = vec![0xfd];
            payload.extend_from_slice(&len.to_le_bytes());
            std::fs::write(&path, log(&[frame(&payload)])).unwrap();
            let reader = LogReader::open(&path).unwrap();
            let err = reader.header::<String>().unwrap_err();
            assert!(matches!(err, LogError::Decode { offset: 12, .. }), "{err}");
        }
        // A frame after an empty header: a variant whose string claims 2^62 bytes.
        let mut payload = vec![0x01, 0xfd];
        payload.extend_from_slice(&(1u64 << 62).to_le_bytes());
        std::fs::write(&path, log(&[frame(&[]), frame(&payload)])).unwrap();
        let (frames, err) = LogReader::open(&path).unwrap().read_all::<(u8, String)>();
        assert!(frames.is_empty());
        assert!(
            matches!(err, Some(LogError::Decode { offset: 20, .. })),
            "{err:?}"
        );
        // A vector of a billion f64 claimed by a 10-byte frame: refused before allocating.
        let mut payload = vec![0xfc];
        payload.extend_from_slice(&1_000_000_000u32.to_le_bytes());
        std::fs::write(&path, log(&[frame(&[]), frame(&payload)])).unwrap();
        let (_, err) = LogReader::open(&path).unwrap().read_all::<Vec<f64>>();
        assert!(matches!(err, Some(LogError::Decode { .. })), "{err:?}");
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            // 64 cases in the test suite; PROPTEST_CASES=1000000 for the long run.
            #![proptest_config(ProptestConfig::with_cases(
                std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
            ))]
            /// Any corruption of any byte after the preamble is either caught or leaves a
            /// prefix of the original frames: the reader never panics and never invents frames.
            #[test]
            fn corrupted_logs_never_panic(pos in 12usize..400, xor in 1u8..=255, cut in 0usize..400) {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("run.log");
                write_sample(&path);
                let original: Vec<Frame> = LogReader::open(&path).unwrap().read_all::<Frame>().0.into_iter().map(|f| f.1).collect();
                let mut bytes = std::fs::read(&path).unwrap();
                if pos < bytes.len() { bytes[pos] ^= xor; }
                bytes.truncate(bytes.len().saturating_sub(cut % 64));
                std::fs::write(&path, &bytes).unwrap();
                if let Ok(mut r) = LogReader::open(&path) {
                    let (frames, _) = r.read_all::<Frame>();
                    for (i, (_, f)) in frames.iter().enumerate() {
                        // A flip inside a payload is caught by the CRC, so surviving frames match.
                        prop_assert_eq!(f, &original[i]);
                    }
                }
            }
        }
    }
}
