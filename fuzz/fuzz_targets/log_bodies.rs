//! The bodies of the `log_reader` and `log_edit` targets as plain functions, so that
//! `tests/fuzz_seeds.rs` in the main workspace runs them on stable, on the committed seeds and
//! regressions and on systematic damage to the seed logs, with the same checks the fuzzer runs.

#![allow(dead_code)]

use std::sync::OnceLock;

use simulacra::frames::{ExchangeOutcome, Frame};
use simulacra::runlog::{BeyondDamage, Damage};
use simulacra_actors::log::decode_payload;

use crate::common;

/// The real logs `log_edit` damages (made by `simulacra run`, see the README).
pub const SEEDS: [&[u8]; 5] = [
    include_bytes!("../seeds/log_reader/default.log"),
    include_bytes!("../seeds/log_reader/digest.log"),
    include_bytes!("../seeds/log_reader/election.log"),
    include_bytes!("../seeds/log_reader/fork.log"),
    include_bytes!("../seeds/log_reader/llm.log"),
];

/// What the reads of one input ran into, so a caller can tell that the damage paths ran.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Seen {
    /// Damage in the middle of the log (valid frames follow).
    pub corrupt: usize,
    /// Torn tails (nothing valid follows).
    pub torn: usize,
    /// Frames the resynchronizing reader found after a gap.
    pub resynced_frames: usize,
}

impl Seen {
    pub fn add(&mut self, other: Seen) {
        self.corrupt += other.corrupt;
        self.torn += other.torn;
        self.resynced_frames += other.resynced_frames;
    }
}

/// Writes `bytes` as a run's log and reads it with every reader, checking each:
/// `common::read_checked` (the plain reader), `common::resync_checked` from where the header
/// ends (the resynchronizing reader reads the frames `read_all` decoded, then starts a gap
/// exactly at the frame `read_all` refused, whatever refused it) and `common::damage_checked`
/// (the damage report of a run's log). A log whose header does not open is read by the
/// resynchronizing reader from byte 12 on, as arbitrary bytes.
fn read_everything(bytes: &[u8]) -> (common::Checked, Option<(Damage, BeyondDamage)>, Seen) {
    let len = bytes.len() as u64;
    let path = common::write_log(bytes);
    let read = common::read_checked(&path, len);
    let mut seen = Seen::default();
    let found = match &read.header {
        Some(header) => {
            let header_end = header.offset + common::FRAME_HEAD_LEN + header.payload.len() as u64;
            let found = common::resync_checked(&path, header_end, len);
            let bad = read.error.as_ref().and_then(|e| e.offset());
            let first_gap = found.gaps.first().map(|g| g.0);
            assert_eq!(
                first_gap, bad,
                "the resynchronizing reader's first gap is not where read_all stopped ({:?})",
                read.error
            );
            let before: Vec<u64> = found
                .frames
                .iter()
                .map(|f| f.0)
                .take_while(|&o| bad.is_none_or(|bad| o < bad))
                .collect();
            let decoded: Vec<u64> = read.raws[..read.decoded].iter().map(|r| r.offset).collect();
            assert_eq!(
                before, decoded,
                "the two readers disagree on the frames before the first damage"
            );
            found
        }
        None => common::resync_checked(&path, common::PREAMBLE_LEN.min(len), len),
    };
    seen.resynced_frames = found
        .gaps
        .first()
        .map_or(0, |g| found.frames.iter().filter(|f| f.0 > g.0).count());
    let damage = common::damage_checked(common::scratch_dir(), len);
    if let Some((d, _)) = &damage {
        if d.torn {
            seen.torn += 1;
        } else {
            seen.corrupt += 1;
        }
    }
    (read, damage, seen)
}

/// The `log_reader` target: `data` as a log, read as given and again with every frame's
/// checksum rewritten (so mutated payloads reach the decoder).
pub fn log_reader(data: &[u8]) -> Seen {
    let (_, _, mut seen) = read_everything(data);
    let mut fixed = data.to_vec();
    common::fix_checksums(&mut fixed);
    if fixed != data {
        seen.add(read_everything(&fixed).2);
    }
    seen
}

/// One seed log as read intact: its frames (the header first) and the frames decoded.
pub struct Original {
    pub raws: Vec<common::Raw>,
    pub frames: Vec<Frame>,
    /// Whether it opens as a run's log (its header's scenario validates today): only then is
    /// there a damage report to check.
    pub run: bool,
}

/// The frames of each seed log as read intact; each seed reads cleanly, as a run too.
pub fn originals() -> &'static Vec<Original> {
    static ORIGINALS: OnceLock<Vec<Original>> = OnceLock::new();
    ORIGINALS.get_or_init(|| {
        SEEDS
            .iter()
            .map(|bytes| {
                let path = common::write_log(bytes);
                let read = common::read_checked(&path, bytes.len() as u64);
                assert!(read.error.is_none(), "a seed log does not read cleanly");
                assert_eq!(read.decoded, read.raws.len());
                assert!(
                    common::damage_checked(common::scratch_dir(), bytes.len() as u64).is_none(),
                    "a seed log is damaged as a run's log"
                );
                let run = simulacra::runlog::RunLog::open(common::scratch_dir()).is_ok();
                let frames = read
                    .raws
                    .iter()
                    .map(|r| decode_payload::<Frame>(&r.payload, r.offset).unwrap())
                    .collect();
                let mut raws = vec![read.header.expect("a seed log has a header")];
                raws.extend(read.raws);
                Original { raws, frames, run }
            })
            .collect()
    })
}

fn end(raw: &common::Raw) -> u64 {
    raw.offset + common::FRAME_HEAD_LEN + raw.payload.len() as u64
}

/// The true count of what lies after byte `from` in an undamaged log: the steps that begin
/// and end there, and the LLM answers (not failures).
fn truth_after(original: &Original, from: u64) -> (u64, u64) {
    let after = || {
        original.raws[1..]
            .iter()
            .zip(&original.frames)
            .filter(move |(r, _)| r.offset > from)
            .map(|(_, f)| f)
    };
    let begun: Vec<u64> = after()
        .filter_map(|f| match f {
            Frame::StepBegin { step, .. } => Some(*step),
            _ => None,
        })
        .collect();
    let steps = after()
        .filter(|f| matches!(f, Frame::Outcome(o) if begun.contains(&o.step)))
        .count() as u64;
    let answers = after()
        .filter(
            |f| matches!(f, Frame::Llm(e) if !matches!(e.outcome, ExchangeOutcome::Failed { .. })),
        )
        .count() as u64;
    (steps, answers)
}

/// The `log_edit` target: seed log `seed` (modulo the number of seeds) with each `(position
/// modulo the log's length, XOR mask)` of `flips` applied and `cut` bytes (modulo the length
/// + 1) cut off its end. Beyond what [`log_reader`] checks:
/// - every frame that ends before the first damaged byte is read back unchanged, at its
///   original offset;
/// - a single flipped byte in a frame (header, checksum or payload) with no cut is reported
///   at exactly that frame's offset, and nothing after it is read; the resynchronizing reader
///   finds every frame after it again, with one gap exactly where the damaged frame was, and
///   the damage report names it corrupt (a torn tail when it was the last frame) and counts
///   the true number of whole steps and LLM answers after it;
/// - a cut inside a frame after the header, with no flip, is a torn tail at that frame.
pub fn log_edit(seed: u8, cut: u16, flips: &[(u16, u8)]) -> Seen {
    let which = seed as usize % SEEDS.len();
    let original = &originals()[which];
    let raws = &original.raws;
    let mut bytes = SEEDS[which].to_vec();
    let len = bytes.len();
    for &(pos, xor) in flips {
        bytes[pos as usize % len] ^= xor;
    }
    // Count the bytes that really changed (two flips of one byte may cancel).
    let changed: Vec<usize> = (0..len).filter(|&p| bytes[p] != SEEDS[which][p]).collect();
    let cut = cut as usize % (len + 1);
    bytes.truncate(len - cut);
    let new_len = bytes.len() as u64;

    let (read, damage, seen) = read_everything(&bytes);

    let first_damage = changed
        .first()
        .map_or(new_len, |&p| (p as u64).min(new_len));
    let Some(header) = &read.header else {
        // Open fails only if the preamble or the header frame is damaged.
        assert!(
            first_damage < end(&raws[0]),
            "an intact preamble and header did not open: {:?}",
            read.error
        );
        return seen;
    };
    if first_damage >= end(&raws[0]) {
        assert_eq!(header, &raws[0], "an intact header read back differently");
    }
    let intact = raws[1..].iter().filter(|f| end(f) <= first_damage).count();
    assert!(
        read.raws.len() >= intact,
        "only {} of {intact} intact frames were read (error: {:?})",
        read.raws.len(),
        read.error
    );
    assert_eq!(
        &read.raws[..intact],
        &raws[1..=intact],
        "an intact frame read back differently"
    );
    assert!(
        read.decoded >= intact,
        "an intact frame did not decode: {:?}",
        read.error
    );
    if first_damage < end(&raws[0]) {
        return seen;
    }

    if changed.len() == 1 && cut == 0 {
        let bad = &raws[1 + intact];
        assert_eq!(
            read.raws.len(),
            intact,
            "a frame after the damaged one was read"
        );
        let error = read.error.as_ref().expect("a flipped byte went unnoticed");
        assert_eq!(error.offset(), Some(bad.offset), "{error}");

        let path = common::scratch_dir().join("run.log");
        let found = common::resync_checked(&path, bad.offset, new_len);
        let after: Vec<u64> = raws[2 + intact..].iter().map(|f| f.offset).collect();
        assert_eq!(found.gaps, vec![(bad.offset, after.first().copied())]);
        let frames: Vec<u64> = found.frames.iter().map(|f| f.0).collect();
        assert_eq!(
            frames, after,
            "a frame after the damaged one was not found again"
        );

        if !original.run {
            return seen;
        }
        let (damage, beyond) = damage.expect("a flipped frame was not reported as damage");
        assert_eq!(damage.offset, bad.offset, "{damage}");
        assert_eq!(damage.torn, after.is_empty(), "{damage}");
        let (steps, answers) = truth_after(original, bad.offset);
        assert_eq!(
            (beyond.steps, beyond.llm_answers),
            (steps, answers),
            "the whole steps and LLM answers after the damage are miscounted"
        );
    } else if changed.is_empty() && new_len > end(&raws[0]) && original.run {
        match raws[1..]
            .iter()
            .find(|f| f.offset < new_len && end(f) > new_len)
        {
            Some(torn) => {
                let (damage, beyond) = damage.expect("a cut inside a frame was not reported");
                assert!(
                    damage.torn,
                    "a cut inside the last frame is not a torn tail: {damage}"
                );
                assert_eq!(damage.offset, torn.offset, "{damage}");
                assert_eq!((beyond.steps, beyond.llm_answers), (0, 0));
            }
            None => assert!(
                damage.is_none(),
                "a cut between frames was reported as damage"
            ),
        }
    }
    seen
}
