//! Damage to a valid log: one of the real logs in `fuzz/seeds/log_reader/` has bytes flipped
//! and its end cut off as the input says. Beyond what `log_reader` checks (no panic, errors at
//! the first bad frame, within the file, the resynchronizing reader's and the damage report's
//! promises), against the undamaged log: intact frames read back unchanged; a single flipped
//! byte is reported at its frame, every frame after it is found again past one gap, and the
//! whole steps and LLM answers after it are counted right; a cut inside a frame is a torn
//! tail. See `log_bodies::log_edit`, which `tests/fuzz_seeds.rs` runs on stable.

#![no_main]

mod common;
mod log_bodies;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Damage {
    seed: u8,
    /// Bytes cut off the end (modulo the log's length + 1).
    cut: u16,
    /// (position modulo the log's length, XOR mask).
    flips: Vec<(u16, u8)>,
}

fuzz_target!(|damage: Damage| {
    log_bodies::log_edit(damage.seed, damage.cut, &damage.flips);
});
