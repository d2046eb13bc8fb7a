//! Hashing log files: the SHA-256 of a whole file or of a prefix of one (a checkpoint's log
//! mark), and the hex spelling of digests.

use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{LogError, open_regular};

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
