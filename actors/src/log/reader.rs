//! Reading a log: frame by frame, each checked against its CRC-32; the reader stops at the
//! first bad frame and names its byte offset.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::{
    FORMAT_VERSION, FRAME_HEAD_LEN, LogError, MAGIC, MAX_FRAME_LEN, PREAMBLE_LEN, decode_payload,
    open_regular,
};

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
pub(super) fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
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
