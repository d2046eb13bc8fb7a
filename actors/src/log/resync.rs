//! Reading past damage: after a frame that cannot be read, finds the next offset where a valid
//! frame starts, so that a bad frame is told apart as mid-log corruption (valid frames follow)
//! or a torn tail (nothing valid follows), and what follows it can still be counted and used.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde::de::DeserializeOwned;

use super::{FRAME_HEAD_LEN, LogError, MAX_FRAME_LEN, decode_payload, open_regular};

/// How many of a candidate's following frame heads must be plausible (fit in the file) before
/// its checksum is computed. Real frames chain to the end of the file; random bytes whose first
/// four happen to be a small length almost never do, so the CRC (whose cost is the declared
/// length) runs at few offsets and the scan stays near linear in the bytes scanned.
const CHAIN: usize = 2;

/// CRC work (bytes) the fallback pass may spend on candidates whose chain breaks (a valid
/// frame just before a second damage or a torn end). Past it the scan gives up: a lower bound.
const WEAK_BUDGET: u64 = 256 << 20;

/// One piece of a log read from a given offset on: a valid frame, or a stretch of bytes that
/// holds none.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece<F> {
    /// A frame whose checksum matches and whose payload decodes; `end` is just past it.
    Frame { offset: u64, end: u64, frame: F },
    /// Unreadable bytes from `offset`: up to the next valid frame at `next`, or to the end of
    /// the file (`None`: a torn tail).
    Gap { offset: u64, next: Option<u64> },
}

/// Reads a log file from byte `from` to its end, skipping over every stretch of damage to the
/// next valid frame (its checksum matches, it decodes as `F`). `from` need not be a frame
/// boundary.
pub fn read_resynced<F: DeserializeOwned>(
    path: &Path,
    from: u64,
) -> Result<Vec<Piece<F>>, LogError> {
    let bytes = read_tail(path, from)?;
    Ok(resync_bytes(&bytes, from))
}

/// The offset of the first valid frame (checksum matches, payload decodes as `F`) that starts
/// after byte `bad` (the offset of a frame that could not be read), or `None` when nothing
/// valid follows it: then the bad frame is a torn tail.
pub fn next_valid_frame<F: DeserializeOwned>(
    path: &Path,
    bad: u64,
) -> Result<Option<u64>, LogError> {
    let bytes = read_tail(path, bad)?;
    Ok(next_frame::<F>(&bytes, 1).map(|(at, _, _)| bad + at as u64))
}

/// [`read_resynced`] on bytes already in memory: `bytes` are the log's from byte `base` on.
pub fn resync_bytes<F: DeserializeOwned>(bytes: &[u8], base: u64) -> Vec<Piece<F>> {
    let mut pieces = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        if let Some((end, frame)) = frame_at::<F>(bytes, pos) {
            pieces.push(Piece::Frame {
                offset: base + pos as u64,
                end: base + end as u64,
                frame,
            });
            pos = end;
            continue;
        }
        match next_frame::<F>(bytes, pos + 1) {
            Some((at, end, frame)) => {
                pieces.push(Piece::Gap {
                    offset: base + pos as u64,
                    next: Some(base + at as u64),
                });
                pieces.push(Piece::Frame {
                    offset: base + at as u64,
                    end: base + end as u64,
                    frame,
                });
                pos = end;
            }
            None => {
                pieces.push(Piece::Gap {
                    offset: base + pos as u64,
                    next: None,
                });
                break;
            }
        }
    }
    pieces
}

fn read_tail(path: &Path, from: u64) -> Result<Vec<u8>, LogError> {
    let io = |cause| LogError::Io {
        path: path.to_path_buf(),
        cause,
    };
    let mut file = open_regular(path).map_err(io)?;
    file.seek(SeekFrom::Start(from)).map_err(io)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// Where the frame whose head is at `pos` ends, if its head is plausible: a length within the
/// limit and within the bytes left.
fn fits(bytes: &[u8], pos: usize) -> Option<usize> {
    let head = bytes.get(pos..pos.checked_add(FRAME_HEAD_LEN as usize)?)?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    if len > MAX_FRAME_LEN {
        return None;
    }
    let end = pos + FRAME_HEAD_LEN as usize + len as usize;
    (end <= bytes.len()).then_some(end)
}

/// The frame at `pos` when it is valid: its head fits, its CRC-32 matches, it decodes as `F`.
fn frame_at<F: DeserializeOwned>(bytes: &[u8], pos: usize) -> Option<(usize, F)> {
    let end = fits(bytes, pos)?;
    let crc = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().ok()?);
    let payload = &bytes[pos + FRAME_HEAD_LEN as usize..end];
    if crc32fast::hash(payload) != crc {
        return None;
    }
    let frame = decode_payload::<F>(payload, 0).ok()?;
    Some((end, frame))
}

/// Whether the `CHAIN` frame heads after the (fitting) one at `pos` fit too, or the chain
/// reaches the end of the file (exactly, or with fewer bytes left than a head: a torn end).
fn chained(bytes: &[u8], pos: usize) -> bool {
    let mut end = match fits(bytes, pos) {
        Some(end) => end,
        None => return false,
    };
    for _ in 0..CHAIN {
        if bytes.len() - end < FRAME_HEAD_LEN as usize {
            return true;
        }
        match fits(bytes, end) {
            Some(next) => end = next,
            None => return false,
        }
    }
    true
}

/// The first valid frame starting at or after `from`: (offset, end, frame), offsets in `bytes`.
/// A first pass checks only candidates whose following heads chain; if it finds none, a
/// second pass checks the rest, within [`WEAK_BUDGET`] of checksummed bytes.
fn next_frame<F: DeserializeOwned>(bytes: &[u8], from: usize) -> Option<(usize, usize, F)> {
    let last = bytes.len().checked_sub(FRAME_HEAD_LEN as usize)?;
    for pos in from..=last {
        if chained(bytes, pos)
            && let Some((end, frame)) = frame_at::<F>(bytes, pos)
        {
            return Some((pos, end, frame));
        }
    }
    let mut budget = WEAK_BUDGET;
    for pos in from..=last {
        let Some(end) = fits(bytes, pos) else {
            continue;
        };
        if chained(bytes, pos) {
            continue; // checked in the first pass
        }
        budget = budget.checked_sub((end - pos) as u64)?;
        if let Some((end, frame)) = frame_at::<F>(bytes, pos) {
            return Some((pos, end, frame));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{FrameSink, Fsync, LogReader, LogWriter};

    type Frame = (u64, Vec<f64>);

    fn sample(dir: &Path) -> (std::path::PathBuf, Vec<u64>) {
        let path = dir.join("run.log");
        let mut w = LogWriter::create(&path, &"header".to_string(), Fsync::Never).unwrap();
        for step in 0..20u64 {
            let frame: Frame = (step, vec![0.0; (step % 5) as usize * 3]);
            FrameSink::<Frame>::append(&mut w, &frame).unwrap();
        }
        FrameSink::<Frame>::finish(&mut w).unwrap();
        let (frames, _) = LogReader::open(&path).unwrap().read_all::<Frame>();
        (path, frames.iter().map(|f| f.0).collect())
    }

    #[test]
    fn a_length_pointing_past_the_end_is_corruption_when_frames_follow() {
        let dir = tempfile::tempdir().unwrap();
        let (path, offsets) = sample(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        let at = offsets[7] as usize;
        bytes[at + 2] ^= 0x10; // the length now points far past the end of the file
        std::fs::write(&path, &bytes).unwrap();
        let (_, err) = LogReader::open(&path).unwrap().read_all::<Frame>();
        assert!(matches!(err, Some(LogError::Truncated { offset, .. }) if offset == offsets[7]));
        assert_eq!(
            next_valid_frame::<Frame>(&path, offsets[7]).unwrap(),
            Some(offsets[8])
        );
        let pieces = read_resynced::<Frame>(&path, offsets[7]).unwrap();
        assert_eq!(
            pieces[0],
            Piece::Gap {
                offset: offsets[7],
                next: Some(offsets[8])
            }
        );
        let frames: Vec<u64> = pieces[1..]
            .iter()
            .map(|p| match p {
                Piece::Frame { frame, .. } => frame.0,
                Piece::Gap { .. } => panic!("a second gap"),
            })
            .collect();
        assert_eq!(frames, (8..20).collect::<Vec<_>>());
    }

    #[test]
    fn a_cut_inside_the_last_frame_is_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let (path, offsets) = sample(dir.path());
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert_eq!(next_valid_frame::<Frame>(&path, offsets[19]).unwrap(), None);
        assert_eq!(
            read_resynced::<Frame>(&path, offsets[19]).unwrap(),
            vec![Piece::Gap {
                offset: offsets[19],
                next: None
            }]
        );
    }

    #[test]
    fn zeros_are_not_frames_and_two_gaps_are_both_found() {
        let dir = tempfile::tempdir().unwrap();
        let (path, offsets) = sample(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        // Frame 3's payload zeroed (its CRC no longer matches; an empty frame of eight zero
        // bytes would pass a CRC check, not the decoding), frame 12's checksum flipped.
        bytes[offsets[3] as usize + 8..offsets[4] as usize].fill(0);
        bytes[offsets[12] as usize + 5] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let pieces = read_resynced::<Frame>(&path, offsets[3]).unwrap();
        let gaps: Vec<_> = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Gap { offset, next } => Some((*offset, *next)),
                Piece::Frame { .. } => None,
            })
            .collect();
        assert_eq!(
            gaps,
            vec![
                (offsets[3], Some(offsets[4])),
                (offsets[12], Some(offsets[13]))
            ]
        );
        assert_eq!(pieces.len(), 2 + 15); // frames 3..20 but 3 and 12, and the two gaps
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(
                std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
            ))]
            /// One flipped byte in frame k: every frame after it is found again, and the gap
            /// runs from frame k to frame k + 1.
            #[test]
            fn one_flip_loses_only_its_frame(k in 0usize..20, at in 0usize..1000, xor in 1u8..=255) {
                let dir = tempfile::tempdir().unwrap();
                let (path, offsets) = sample(dir.path());
                let mut bytes = std::fs::read(&path).unwrap();
                let end = offsets.get(k + 1).map_or(bytes.len() as u64, |&e| e);
                let pos = offsets[k] as usize + at % (end - offsets[k]) as usize;
                bytes[pos] ^= xor;
                std::fs::write(&path, &bytes).unwrap();
                let pieces = read_resynced::<Frame>(&path, offsets[k]).unwrap();
                let next = offsets.get(k + 1).copied();
                prop_assert_eq!(&pieces[0], &Piece::Gap { offset: offsets[k], next });
                let found: Vec<u64> = pieces[1..].iter().map(|p| match p {
                    Piece::Frame { offset, .. } => *offset,
                    Piece::Gap { offset, .. } => panic!("a second gap at {offset}"),
                }).collect();
                prop_assert_eq!(found, offsets[k + 1..].to_vec());
            }
        }
    }
}
