//! The log fuzz targets' bodies (`fuzz/fuzz_targets/log_bodies.rs`) run on stable, with all
//! their checks: `log_reader` on every committed seed and regression input, `log_edit` on
//! systematic damage to the seed logs (one flipped byte in each field of every frame, a cut
//! inside every frame, two flips far apart). The fuzz crate is its own workspace that needs
//! nightly flags, so this is what keeps its bodies compiling and true in `cargo test`.

#[path = "../fuzz/fuzz_targets/common.rs"]
mod common;
#[path = "../fuzz/fuzz_targets/log_bodies.rs"]
mod log_bodies;

use std::path::Path;

use log_bodies::{Seen, log_edit, log_reader, originals};

/// Removes the thread's scratch folder when the test ends, passed or not.
struct Scratch;

impl Drop for Scratch {
    fn drop(&mut self) {
        common::remove_scratch_dir();
    }
}

fn files(dir: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no inputs in {}", dir.display());
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn log_reader_on_every_seed_and_regression() {
    let _scratch = Scratch;
    let mut seen = Seen::default();
    for bytes in files("fuzz/seeds/log_reader")
        .into_iter()
        .chain(files("fuzz/regressions/log_reader"))
    {
        seen.add(log_reader(&bytes));
    }
    // The seeds are whole runs; the regressions' frames do not decode.
    assert_eq!(seen.torn + seen.corrupt, 0, "{seen:?}");
}

/// Seed `seed` with `flips` applied and `cut` bytes cut off its end, through `log_edit`.
fn damaged(seed: usize, cut: usize, flips: &[(usize, u8)], seen: &mut Seen) {
    let flips: Vec<(u16, u8)> = flips.iter().map(|&(p, x)| (p as u16, x)).collect();
    seen.add(log_edit(seed as u8, cut as u16, &flips));
}

#[test]
fn log_edit_flips_one_byte_in_each_field_of_every_frame() {
    let _scratch = Scratch;
    // The damage report is checked on the seeds that open as runs; at least these two do.
    let runs: Vec<bool> = originals().iter().map(|o| o.run).collect();
    assert!(
        runs[2] && runs[4],
        "the election and LLM seeds do not open as runs: {runs:?}"
    );
    let mut seen = Seen::default();
    for (seed, original) in originals().iter().enumerate() {
        for raw in &original.raws[1..] {
            let at = raw.offset as usize;
            // The length's low byte, its third byte (the length then points past the end of
            // the file), the checksum, and the middle of the payload.
            let payload = at + 8 + raw.payload.len() / 2;
            for (pos, xor) in [(at, 0x01), (at + 2, 0x10), (at + 5, 0x01), (payload, 0x04)] {
                damaged(seed, 0, &[(pos, xor)], &mut seen);
            }
            // As arbitrary bytes too, whose checksum rewrite sends the flipped payload on to
            // the decoder and the frames' grammar.
            let mut bytes = log_bodies::SEEDS[seed].to_vec();
            bytes[payload] ^= 0x04;
            seen.add(log_reader(&bytes));
        }
    }
    assert!(
        seen.corrupt > 0 && seen.torn > 0 && seen.resynced_frames > 0,
        "{seen:?}"
    );
}

#[test]
fn log_edit_cuts_inside_every_frame_and_flips_twice() {
    let _scratch = Scratch;
    let mut seen = Seen::default();
    for (seed, original) in originals().iter().enumerate() {
        let len = log_bodies::SEEDS[seed].len();
        let raws = &original.raws;
        for raw in &raws[1..] {
            let at = raw.offset as usize;
            damaged(seed, len - (at + 3), &[], &mut seen); // inside the frame's head
            damaged(seed, len - at, &[], &mut seen); // between two frames
        }
        // Two damaged frames far apart, with and without a cut after them.
        let n = raws.len();
        for k in 1..n.saturating_sub(6) {
            let (a, b) = (raws[k].offset as usize, raws[k + 5].offset as usize);
            damaged(seed, 0, &[(a + 5, 0x01), (b + 2, 0x10)], &mut seen);
            damaged(seed, len - (b + 3), &[(a + 5, 0x01)], &mut seen);
        }
    }
    assert!(
        seen.corrupt > 0 && seen.torn > 0 && seen.resynced_frames > 0,
        "{seen:?}"
    );
}
