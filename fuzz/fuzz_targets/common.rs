//! Helpers shared by the log targets: a scratch file per fuzzing process, a checked read of a
//! log, and the checksum fix-up that lets mutated payloads reach the decoders.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use simulacra::frames::{Frame, LogHeader};
use simulacra_actors::{LogError, LogReader};

/// Bytes before the header frame: the magic and the format version.
pub const PREAMBLE_LEN: u64 = 12;
/// A frame's length and checksum fields.
pub const FRAME_HEAD_LEN: u64 = 8;

/// A folder private to this process (in /dev/shm when there is one, so no disk writes).
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("simulacra-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("cannot create the scratch folder");
        dir
    })
}

/// Writes `bytes` as `run.log` in the scratch folder and returns its path.
pub fn write_log(bytes: &[u8]) -> PathBuf {
    let path = scratch_dir().join("run.log");
    std::fs::write(&path, bytes).expect("cannot write the scratch log");
    path
}

/// One frame as the raw reader returned it.
#[derive(Debug, PartialEq, Eq)]
pub struct Raw {
    pub offset: u64,
    pub payload: Vec<u8>,
}

/// What a log read returned, after the consistency checks of [`read_checked`].
pub struct Checked {
    /// The header frame (offset 12), when `LogReader::open` succeeded.
    pub header: Option<Raw>,
    /// The frames after the header with a valid checksum, in order.
    pub raws: Vec<Raw>,
    /// How many of `raws` `read_all::<Frame>` decoded before it stopped.
    pub decoded: usize,
    /// The error that stopped `open` or `read_all`, if any.
    pub error: Option<LogError>,
}

/// Reads the log at `path` (`len` bytes long) both frame by frame and with
/// `read_all::<Frame>()`, and checks what the format promises:
/// - every frame starts where the previous one ended (the header at byte 12);
/// - a read that stops early names the offset of the first bad frame: exactly where the
///   intact prefix ends, never past the end of the file;
/// - a read that does not stop early has consumed the whole file;
/// - `read_all` agrees with the raw walk and yields nothing after its error.
pub fn read_checked(path: &Path, len: u64) -> Checked {
    let mut reader = match LogReader::open(path) {
        Ok(r) => r,
        Err(e) => {
            if let Some(offset) = e.offset() {
                assert!(
                    offset == 0 || offset == 8 || offset == PREAMBLE_LEN,
                    "open failed at byte {offset}, which is not in the preamble or the header: {e}"
                );
                assert!(
                    offset <= len,
                    "error offset {offset} past the end ({len}): {e}"
                );
            }
            return Checked {
                header: None,
                raws: Vec::new(),
                decoded: 0,
                error: Some(e),
            };
        }
    };
    let header = reader.header_raw();
    assert_eq!(
        header.offset, PREAMBLE_LEN,
        "the header frame is not at byte 12"
    );
    let header = Raw {
        offset: header.offset,
        payload: header.payload.clone(),
    };
    // The header may not decode; it must not panic either way.
    if let Err(e) = reader.header::<LogHeader>() {
        assert_eq!(
            e.offset(),
            Some(PREAMBLE_LEN),
            "header error at the wrong offset: {e}"
        );
    }

    // The raw walk.
    let mut expected = PREAMBLE_LEN + FRAME_HEAD_LEN + header.payload.len() as u64;
    let mut raws = Vec::new();
    let mut raw_error = None;
    while let Some(next) = reader.next_raw() {
        match next {
            Ok(f) => {
                assert_eq!(
                    f.offset, expected,
                    "a frame does not start where the last ended"
                );
                expected += FRAME_HEAD_LEN + f.payload.len() as u64;
                assert!(expected <= len, "a frame ends past the end of the file");
                raws.push(Raw {
                    offset: f.offset,
                    payload: f.payload,
                });
            }
            Err(e) => {
                assert_eq!(
                    e.offset(),
                    Some(expected),
                    "the error is not at the first bad frame: {e}"
                );
                assert!(
                    expected <= len,
                    "error offset past the end of the file: {e}"
                );
                raw_error = Some(e);
            }
        }
    }
    assert!(
        reader.next_raw().is_none(),
        "the reader yields after its end"
    );
    if raw_error.is_none() {
        assert_eq!(expected, len, "a clean read did not consume the whole file");
    }

    // The decoding read, on a fresh reader.
    let mut reader = LogReader::open(path).expect("the log opened a moment ago");
    let (frames, error) = reader.read_all::<Frame>();
    assert!(
        reader.next_raw().is_none(),
        "the reader yields after read_all"
    );
    assert!(
        frames.len() <= raws.len(),
        "read_all returned frames the raw walk did not"
    );
    for ((offset, _), raw) in frames.iter().zip(&raws) {
        assert_eq!(
            *offset, raw.offset,
            "read_all and the raw walk disagree on an offset"
        );
    }
    match &error {
        None => assert!(
            raw_error.is_none() && frames.len() == raws.len(),
            "read_all stopped early without an error"
        ),
        Some(e) => {
            let at = raws.get(frames.len()).map(|r| r.offset).unwrap_or(expected);
            assert_eq!(
                e.offset(),
                Some(at),
                "read_all's error is not at the first bad frame: {e}"
            );
            assert!(at <= len);
        }
    }
    Checked {
        header: Some(header),
        raws,
        decoded: frames.len(),
        error,
    }
}

/// Rewrites the checksum of every frame whose length fits in `bytes`, so that a mutated
/// payload is handed to the decoder instead of being stopped by the CRC check.
pub fn fix_checksums(bytes: &mut [u8]) {
    let mut at = PREAMBLE_LEN as usize;
    while at + FRAME_HEAD_LEN as usize <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let start = at + FRAME_HEAD_LEN as usize;
        let Some(end) = start.checked_add(len).filter(|&e| e <= bytes.len()) else {
            return;
        };
        let crc = crc32fast::hash(&bytes[start..end]);
        bytes[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
        at = end;
    }
}
