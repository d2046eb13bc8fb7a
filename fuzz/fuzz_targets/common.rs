//! Helpers shared by the log targets: a scratch folder per fuzzing thread, a checked read of a
//! log, the checksum fix-up that lets mutated payloads reach the decoders, and the checks of
//! the resynchronizing reader (`simulacra_actors::log::read_resynced`) and of the damage report
//! `resume` builds on it (`simulacra::runlog::beyond_damage`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use simulacra::frames::{ExchangeOutcome, Frame, LogHeader};
use simulacra::runlog::{BeyondDamage, Damage, RunLog, beyond_damage};
use simulacra_actors::log::{MAX_FRAME_LEN, Piece, decode_payload, read_resynced};
use simulacra_actors::{LogError, LogReader};

/// Bytes before the header frame: the magic and the format version.
pub const PREAMBLE_LEN: u64 = 12;
/// A frame's length and checksum fields.
pub const FRAME_HEAD_LEN: u64 = 8;

/// A folder private to this thread (in /dev/shm when there is one, so no disk writes):
/// `simulacra-fuzz-PID` for the first thread that asks, `simulacra-fuzz-PID-N` for others, so
/// the stable test that runs the bodies on the seeds may use several threads.
pub fn scratch_dir() -> &'static Path {
    static THREADS: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static DIR: &'static Path = {
            let shm = Path::new("/dev/shm");
            let base = if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            };
            let name = match THREADS.fetch_add(1, Ordering::Relaxed) {
                0 => format!("simulacra-fuzz-{}", std::process::id()),
                n => format!("simulacra-fuzz-{}-{n}", std::process::id()),
            };
            let dir = base.join(name);
            std::fs::create_dir_all(&dir).expect("cannot create the scratch folder");
            Box::leak(dir.into_boxed_path())
        };
    }
    DIR.with(|dir| *dir)
}

/// Removes this thread's scratch folder (the stable test's clean-up; a fuzzing process keeps
/// its folder, see the README).
pub fn remove_scratch_dir() {
    let _ = std::fs::remove_dir_all(scratch_dir());
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

/// Whether a valid frame starts at byte `pos` of `bytes` (a whole log), judged here without
/// the resynchronizing reader: its length is within the limit and the file, its CRC-32
/// matches and its payload decodes as a `Frame`.
pub fn valid_frame_at(bytes: &[u8], pos: usize) -> bool {
    let Some(head) = bytes.get(pos..pos + FRAME_HEAD_LEN as usize) else {
        return false;
    };
    let len = u32::from_le_bytes(head[..4].try_into().unwrap());
    let crc = u32::from_le_bytes(head[4..].try_into().unwrap());
    let start = pos + FRAME_HEAD_LEN as usize;
    if len > MAX_FRAME_LEN || start + len as usize > bytes.len() {
        return false;
    }
    let payload = &bytes[start..start + len as usize];
    crc32fast::hash(payload) == crc && decode_payload::<Frame>(payload, 0).is_ok()
}

/// What [`resync_checked`] found: the frames (offset, frame) and the gaps (offset, next valid
/// frame or `None` for a torn tail), in order.
pub struct Resynced {
    pub frames: Vec<(u64, Frame)>,
    pub gaps: Vec<(u64, Option<u64>)>,
}

/// Reads the log at `path` (`len` bytes long) from byte `from` with the resynchronizing reader
/// and checks its promises:
/// - the pieces tile the bytes from `from` to the end, with no hole and no overlap;
/// - a gap is followed by the frame it names, or is the last piece (a torn tail), never by a
///   second gap, and no valid frame starts where a gap starts;
/// - a torn tail means nothing valid follows: no offset from the gap on holds a valid frame
///   (checked at every byte);
/// - every frame it yields, after a gap too, is valid at its offset by length, checksum and
///   decoding, and is the frame its payload decodes to;
/// - `next_valid_frame` from a gap's offset names the same next frame.
pub fn resync_checked(path: &Path, from: u64, len: u64) -> Resynced {
    use simulacra_actors::log::next_valid_frame;
    let pieces = read_resynced::<Frame>(path, from).expect("the log is readable");
    let bytes = std::fs::read(path).expect("the log is readable");
    assert_eq!(bytes.len() as u64, len);
    let mut out = Resynced {
        frames: Vec::new(),
        gaps: Vec::new(),
    };
    let mut at = from;
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Frame { offset, end, frame } => {
                assert_eq!(
                    *offset, at,
                    "a frame does not start where the last piece ended"
                );
                assert!(*end <= len, "a frame ends past the end of the file");
                let (start, stop) = (*offset as usize, *end as usize);
                assert!(
                    valid_frame_at(&bytes, start),
                    "the frame found at byte {offset} is not valid"
                );
                let declared = u32::from_le_bytes(bytes[start..start + 4].try_into().unwrap());
                assert_eq!(
                    u64::from(declared) + FRAME_HEAD_LEN,
                    end - offset,
                    "the frame at byte {offset} does not end where its length says"
                );
                let payload = &bytes[start + FRAME_HEAD_LEN as usize..stop];
                assert_eq!(
                    &decode_payload::<Frame>(payload, 0).unwrap(),
                    frame,
                    "the frame at byte {offset} is not what its payload decodes to"
                );
                out.frames.push((*offset, frame.clone()));
                at = *end;
            }
            Piece::Gap { offset, next } => {
                assert_eq!(
                    *offset, at,
                    "a gap does not start where the last piece ended"
                );
                assert!(*offset < len, "a gap starts at the end of the file");
                assert!(
                    !valid_frame_at(&bytes, *offset as usize),
                    "a gap starts on a valid frame at byte {offset}"
                );
                assert_eq!(
                    next_valid_frame::<Frame>(path, *offset).expect("the log is readable"),
                    *next,
                    "next_valid_frame and read_resynced disagree on the gap at byte {offset}"
                );
                match next {
                    Some(next) => {
                        assert!(
                            *next > *offset && *next < len,
                            "the gap at byte {offset} names a next frame out of range: {next}"
                        );
                        assert!(
                            matches!(pieces.get(i + 1), Some(Piece::Frame { offset, .. }) if offset == next),
                            "the gap at byte {offset} is not followed by the frame it names"
                        );
                        at = *next;
                    }
                    None => {
                        assert_eq!(i + 1, pieces.len(), "a torn tail is not the last piece");
                        if let Some(p) =
                            (*offset as usize..bytes.len()).find(|&p| valid_frame_at(&bytes, p))
                        {
                            panic!("a torn tail at byte {offset}, but a valid frame is at {p}");
                        }
                        at = len;
                    }
                }
                out.gaps.push((*offset, *next));
            }
        }
    }
    assert_eq!(at, len, "the pieces do not reach the end of the file");
    out
}

/// Reads the log `run.log` in `dir` (`len` bytes long) as every command does
/// (`RunLog::frames`: checksums, decoding and the frames' grammar). When it stops at damage,
/// checks the report `resume` builds from it:
/// - the damage is at the frame right after the last one delivered, inside the file;
/// - it is a torn tail exactly when no valid frame follows (`beyond_damage` finds none), and
///   the message says which of the two it is, with the next valid frame's offset;
/// - `beyond_damage` counts the bytes to the end, names the first valid frame as its next one,
///   and counts no more whole steps or LLM answers than the valid frames found hold.
///
/// Returns `None` when the log does not open as a run or has no damage (then every byte was
/// delivered).
pub fn damage_checked(dir: &Path, len: u64) -> Option<(Damage, BeyondDamage)> {
    let log = RunLog::open(dir).ok()?;
    let path = log.path.clone();
    let mut last = log.header_end();
    let damage = log
        .frames(|_, end| {
            assert!(
                end > last && end <= len,
                "a frame ends at {end}, after {last}"
            );
            last = end;
            Ok(())
        })
        .expect("the log is readable");
    let Some(damage) = damage else {
        assert_eq!(last, len, "an undamaged log was not read to its end");
        return None;
    };
    assert_eq!(
        damage.offset, last,
        "the damage is not where the intact frames end"
    );
    assert!(damage.offset < len, "the damage is at the end of the file");
    let beyond = beyond_damage(&path, &damage).expect("the log is readable");
    let found = resync_checked(&path, damage.offset, len);
    assert_eq!(beyond.bytes, len - damage.offset);
    assert_eq!(beyond.next_valid, found.frames.first().map(|f| f.0));
    assert_eq!(
        damage.torn,
        beyond.next_valid.is_none(),
        "torn is not 'nothing valid follows': {damage}"
    );
    if damage.torn {
        assert_eq!(found.gaps, vec![(damage.offset, None)]);
        assert!(damage.message.contains("torn tail"), "{damage}");
    } else if let Some(&(_, Some(next))) = found.gaps.first().filter(|g| g.0 == damage.offset) {
        assert!(
            damage
                .message
                .contains(&format!("corrupt at byte {}:", damage.offset))
                && damage.message.contains(&format!("from byte {next} on")),
            "{damage}"
        );
    } else {
        // A valid frame at the damage: one out of place in the grammar.
        assert_eq!(found.frames.first().map(|f| f.0), Some(damage.offset));
        assert!(damage.message.contains("out of place"), "{damage}");
    }
    let count = |f: fn(&Frame) -> bool| found.frames.iter().filter(|(_, fr)| f(fr)).count() as u64;
    let begins = count(|f| matches!(f, Frame::StepBegin { .. }));
    let outcomes = count(|f| matches!(f, Frame::Outcome(_)));
    let answers = count(
        |f| matches!(f, Frame::Llm(e) if !matches!(e.outcome, ExchangeOutcome::Failed { .. })),
    );
    assert!(
        beyond.steps <= begins.min(outcomes),
        "{} whole steps counted past the damage, from {begins} step beginnings and {outcomes} outcomes",
        beyond.steps
    );
    assert_eq!(
        beyond.llm_answers, answers,
        "LLM answers past the damage miscounted"
    );
    Some((damage, beyond))
}
