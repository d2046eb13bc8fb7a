//! Arbitrary bytes as a run log: `LogReader::open` and `read_all::<Frame>()` never panic, and
//! a read that stops early names the offset of the first bad frame (exactly where the intact
//! prefix ends, within the file); see `common::read_checked`. Each input is read twice: as
//! given (most mutations break a checksum) and with every frame's checksum rewritten, so that
//! mutated payloads reach the bincode decoder.
//!
//! Seed the corpus with the real logs in `fuzz/seeds/log_reader/`.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = common::write_log(data);
    common::read_checked(&path, data.len() as u64);

    let mut fixed = data.to_vec();
    common::fix_checksums(&mut fixed);
    if fixed != data {
        let path = common::write_log(&fixed);
        common::read_checked(&path, fixed.len() as u64);
    }
});
