//! Damage to a valid log: one of the real logs in `fuzz/seeds/log_reader/` has bytes flipped
//! and its end cut off as the input says. Beyond what `log_reader` checks (no panic, errors at
//! the first bad frame, within the file):
//! - every frame that ends before the first damaged byte is read back unchanged, at its
//!   original offset;
//! - a single flipped byte in a frame (header, checksum or payload) with no cut is reported
//!   at exactly that frame's offset, and nothing after it is read.

#![no_main]

mod common;

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

const SEEDS: [&[u8]; 5] = [
    include_bytes!("../seeds/log_reader/default.log"),
    include_bytes!("../seeds/log_reader/digest.log"),
    include_bytes!("../seeds/log_reader/election.log"),
    include_bytes!("../seeds/log_reader/fork.log"),
    include_bytes!("../seeds/log_reader/llm.log"),
];

#[derive(Debug, Arbitrary)]
struct Damage {
    seed: u8,
    /// Bytes cut off the end (modulo the log's length + 1).
    cut: u16,
    /// (position modulo the log's length, XOR mask).
    flips: Vec<(u16, u8)>,
}

/// The frames of each seed log as read intact (the header first).
fn originals() -> &'static Vec<Vec<common::Raw>> {
    static ORIGINALS: OnceLock<Vec<Vec<common::Raw>>> = OnceLock::new();
    ORIGINALS.get_or_init(|| {
        SEEDS
            .iter()
            .map(|bytes| {
                let path = common::write_log(bytes);
                let read = common::read_checked(&path, bytes.len() as u64);
                assert!(read.error.is_none(), "a seed log does not read cleanly");
                assert_eq!(read.decoded, read.raws.len());
                let mut all = vec![read.header.expect("a seed log has a header")];
                all.extend(read.raws);
                all
            })
            .collect()
    })
}

fn end(raw: &common::Raw) -> u64 {
    raw.offset + common::FRAME_HEAD_LEN + raw.payload.len() as u64
}

fuzz_target!(|damage: Damage| {
    let which = damage.seed as usize % SEEDS.len();
    let original = &originals()[which];
    let mut bytes = SEEDS[which].to_vec();
    let len = bytes.len();
    let mut first_flip = None::<usize>;
    let mut flips = 0;
    for &(pos, xor) in &damage.flips {
        let pos = pos as usize % len;
        if xor != 0 {
            bytes[pos] ^= xor;
        }
    }
    // Count the bytes that really changed (two flips of one byte may cancel).
    for (pos, (a, b)) in bytes.iter().zip(SEEDS[which]).enumerate() {
        if a != b {
            first_flip.get_or_insert(pos);
            flips += 1;
        }
    }
    let cut = damage.cut as usize % (len + 1);
    bytes.truncate(len - cut);
    let new_len = bytes.len() as u64;

    let path = common::write_log(&bytes);
    let read = common::read_checked(&path, new_len);

    let first_damage = first_flip.map_or(new_len, |p| (p as u64).min(new_len));
    let Some(header) = &read.header else {
        // Open fails only if the preamble or the header frame is damaged.
        assert!(
            first_damage < end(&original[0]),
            "an intact preamble and header did not open: {:?}",
            read.error
        );
        return;
    };
    if first_damage >= end(&original[0]) {
        assert_eq!(
            header, &original[0],
            "an intact header read back differently"
        );
    }
    let intact = original[1..]
        .iter()
        .filter(|f| end(f) <= first_damage)
        .count();
    assert!(
        read.raws.len() >= intact,
        "only {} of {intact} intact frames were read (error: {:?})",
        read.raws.len(),
        read.error
    );
    assert_eq!(
        &read.raws[..intact],
        &original[1..=intact],
        "an intact frame read back differently"
    );
    assert!(
        read.decoded >= intact,
        "an intact frame did not decode: {:?}",
        read.error
    );

    if flips == 1 && cut == 0 && first_damage >= end(&original[0]) {
        let bad = &original[1 + intact];
        assert_eq!(
            read.raws.len(),
            intact,
            "a frame after the damaged one was read"
        );
        let error = read.error.as_ref().expect("a flipped byte went unnoticed");
        assert_eq!(error.offset(), Some(bad.offset), "{error}");
    }
});
