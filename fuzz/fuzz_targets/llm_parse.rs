//! Arbitrary model answers (the input as lossy UTF-8, after two parameter bytes) through every
//! public parser of `simulacra::llm::parse`: none panics, and what they accept is in range:
//! hours in [0, max_hours], one rate move per bracket within +-max_points on the 10-point grid,
//! finite numbers, a persona of at most 1,000 characters.

#![no_main]

use libfuzzer_sys::fuzz_target;
use simulacra::llm::parse;

fuzz_target!(|data: &[u8]| {
    let (params, text) = data.split_at(data.len().min(2));
    let p0 = params.first().copied().unwrap_or(0);
    let p1 = params.get(1).copied().unwrap_or(0);
    // The ranges the callers use: max_hours > 0 and max_points a positive multiple of 10
    // (validated in the scenario); 1 to 8 brackets.
    let max_hours = [100.0, 40.0, 1.0, 168.0][usize::from(p0 % 4)];
    let brackets = usize::from(p0 / 4 % 8) + 1;
    let max_points = 10 * (i32::from(p1 % 10) + 1);
    let text = String::from_utf8_lossy(text);

    if let Ok(obj) = parse::extract_object(&text) {
        for v in obj.values() {
            if let Ok(x) = parse::number(v) {
                assert!(x.is_finite(), "number() returned {x}");
            }
        }
    }
    if let Ok(h) = parse::labor(&text, max_hours) {
        assert!((0.0..=max_hours).contains(&h), "labor() returned {h} hours");
    }
    if let Ok(d) = parse::deltas(&text, brackets, max_points) {
        assert_eq!(d.len(), brackets, "deltas() returned {d:?}");
        for x in d {
            assert!(
                x.abs() <= max_points && x % 10 == 0,
                "deltas() returned {x}"
            );
        }
    }
    let _ = parse::yes_no(&text);
    let _ = parse::leader(&text);
    if let Ok(p) = parse::persona(&text) {
        assert!(
            !p.is_empty() && p.chars().count() <= 1000,
            "persona() returned {p:?}"
        );
    }
});
