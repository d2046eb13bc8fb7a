//! Snapshot files: one serde value, checksummed, written atomically, read back with errors that
//! say what is wrong.
//!
//! ```text
//! offset 0   magic  b"SIMSNAP\n"     8 bytes
//! offset 8   format version, u32 LE   currently 1
//! offset 12  CRC-32 of the payload    u32 LE
//! offset 16  payload length           u64 LE
//! offset 24  payload                  bincode 2, standard config (as log frames)
//! ```
//!
//! A snapshot is written to a temporary name, then renamed, so a crash of the process leaves
//! the old file or the new one, never half of one. With `sync`, the file and its folder are
//! also fsynced, for power loss; without, a power loss may leave a torn file, which fails its
//! checksum, and the caller falls back to an older snapshot or to the log. What a snapshot holds, and how it is
//! tied to a log, is the caller's business.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::log::{decode_bounded, encode_payload};

pub const SNAPSHOT_MAGIC: [u8; 8] = *b"SIMSNAP\n";
pub const SNAPSHOT_VERSION: u32 = 1;
const HEAD_LEN: usize = 24;
/// The most a snapshot's payload may claim while decoding (16 GiB).
const SNAPSHOT_DECODE_LIMIT: usize = 1 << 34;

/// Why a snapshot could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The OS error is part of the message, not `source()` (see `LogError::Io`).
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path} is not a simulacra snapshot (its first bytes are not the snapshot magic)")]
    NotASnapshot { path: PathBuf },
    #[error("{path} is a version {found} snapshot; this build reads version {SNAPSHOT_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("{path} is truncated: {found} bytes of payload, {expected} expected")]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("{path} is corrupt: its payload does not match its checksum")]
    Checksum { path: PathBuf },
    #[error("{path} does not decode: {message}")]
    Decode { path: PathBuf, message: String },
    #[error("could not encode a snapshot: {0}")]
    Encode(String),
}

/// Writes `value` to `path` atomically (temporary file, rename; with `sync`, fsync of the file
/// before the rename and of the folder after). Returns the file's size in bytes.
pub fn write_snapshot<T: Serialize>(
    path: &Path,
    value: &T,
    sync: bool,
) -> Result<u64, SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        cause: source,
    };
    let mut payload = Vec::new();
    encode_payload(value, &mut payload).map_err(|e| SnapshotError::Encode(e.to_string()))?;
    let mut head = Vec::with_capacity(HEAD_LEN);
    head.extend_from_slice(&SNAPSHOT_MAGIC);
    head.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
    head.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    head.extend_from_slice(&(payload.len() as u64).to_le_bytes());

    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    {
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        file.write_all(&head)
            .and_then(|_| file.write_all(&payload))
            .and_then(|_| if sync { file.sync_all() } else { Ok(()) })
            .map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    if !sync {
        return Ok((HEAD_LEN + payload.len()) as u64);
    }
    // The rename is durable once the folder is synced; where a folder cannot be opened for
    // that (some filesystems), the snapshot is still whole, only perhaps not yet durable.
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    {
        let _ = d.sync_all();
    }
    Ok((HEAD_LEN + payload.len()) as u64)
}

/// Reads a snapshot written by [`write_snapshot`], checking its magic, version and checksum.
pub fn read_snapshot<T: DeserializeOwned>(path: &Path) -> Result<T, SnapshotError> {
    let bytes = crate::log::open_regular(path)
        .and_then(|mut f| {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut bytes).map(|_| bytes)
        })
        .map_err(|source| SnapshotError::Io {
            path: path.to_path_buf(),
            cause: source,
        })?;
    let p = || path.to_path_buf();
    if bytes.len() < 8 || bytes[..8] != SNAPSHOT_MAGIC {
        return Err(SnapshotError::NotASnapshot { path: p() });
    }
    if bytes.len() < HEAD_LEN {
        return Err(SnapshotError::Truncated {
            path: p(),
            expected: HEAD_LEN as u64,
            found: bytes.len() as u64,
        });
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let version = word(8);
    if version != SNAPSHOT_VERSION {
        return Err(SnapshotError::Version {
            path: p(),
            found: version,
        });
    }
    let crc = word(12);
    let len = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
    let payload = &bytes[HEAD_LEN..];
    if payload.len() as u64 != len {
        return Err(SnapshotError::Truncated {
            path: p(),
            expected: len,
            found: payload.len() as u64,
        });
    }
    if crc32fast::hash(payload) != crc {
        return Err(SnapshotError::Checksum { path: p() });
    }
    // A snapshot may exceed a log frame's limit (every memory of a huge population), so it
    // gets its own bound; see `decode_bounded` for why there is one.
    decode_bounded::<T, SNAPSHOT_DECODE_LIMIT>(payload, HEAD_LEN as u64).map_err(|e| {
        SnapshotError::Decode {
            path: p(),
            message: e.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.snap");
        let value = (7u64, vec![1.5f64, -2.0], String::from("memory"));
        let size = write_snapshot(&path, &value, true).unwrap();
        assert_eq!(size, std::fs::metadata(&path).unwrap().len());
        assert!(!dir.path().join("a.snap.tmp").exists());
        let back: (u64, Vec<f64>, String) = read_snapshot(&path).unwrap();
        assert_eq!(back, value);

        let good = std::fs::read(&path).unwrap();
        let damaged = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            read_snapshot::<(u64, Vec<f64>, String)>(&path).unwrap_err()
        };
        assert!(matches!(
            damaged(b"hello"),
            SnapshotError::NotASnapshot { .. }
        ));
        assert!(matches!(
            damaged(&good[..good.len() - 3]),
            SnapshotError::Truncated { .. }
        ));
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 0x40;
        assert!(matches!(damaged(&flipped), SnapshotError::Checksum { .. }));
        let mut newer = good.clone();
        newer[8] = 9;
        let err = damaged(&newer);
        assert!(err.to_string().contains("version 9"), "{err}");
        // A whole file of another type is a decode error, not a panic.
        write_snapshot(&path, &"just text", false).unwrap();
        assert!(matches!(
            read_snapshot::<(u64, Vec<f64>, String)>(&path),
            Err(SnapshotError::Decode { .. })
        ));
    }
}
