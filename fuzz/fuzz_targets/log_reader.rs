//! Arbitrary bytes as a run log: `LogReader::open` and `read_all::<Frame>()` never panic, and
//! a read that stops early names the offset of the first bad frame (exactly where the intact
//! prefix ends, within the file); see `common::read_checked`. The resynchronizing reader reads
//! each input too, from where the header ends (`common::resync_checked`: its pieces tile the
//! file, a torn tail has nothing valid after it, every frame it finds after a gap is valid; its
//! first gap is where `read_all` stopped), and so does the damage report `resume` gives
//! (`common::damage_checked`). Each input is read twice: as given (most mutations break a
//! checksum) and with every frame's checksum rewritten, so that mutated payloads reach the
//! bincode decoder. The body is `log_bodies::log_reader`, which `tests/fuzz_seeds.rs` runs on
//! stable.
//!
//! Seed the corpus with the real logs in `fuzz/seeds/log_reader/`.

#![no_main]

mod common;
mod log_bodies;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    log_bodies::log_reader(data);
});
