//! The text helpers every reader parses its prompts with: the numbers, percent lists and
//! bracket cutoffs a prompt states, and the tax those rates take from an income.

#![allow(dead_code)]

/// The number right after `marker` (spaces and a `$` skipped; a sentence's final dot dropped).
pub fn number_after(text: &str, marker: &str) -> Option<f64> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let num: String = rest
        .trim_start()
        .trim_start_matches('$')
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    num.trim_end_matches('.').parse().ok()
}

/// `[50%, 37.5%]` at the start of `text` (after spaces), in points.
pub fn points(text: &str) -> Option<Vec<f64>> {
    let inner = text.trim_start().strip_prefix('[')?.split(']').next()?;
    inner
        .split(',')
        .map(|p| p.trim().trim_end_matches('%').parse::<f64>().ok())
        .collect()
}

/// `[50%, 37.5%]` right after `marker`, in points.
pub fn points_after(text: &str, marker: &str) -> Option<Vec<f64>> {
    points(&text[text.find(marker)? + marker.len()..])
}

/// `[50%, 37.5%]` at the start of `text` (after spaces), as fractions.
pub fn percents(text: &str) -> Option<Vec<f64>> {
    Some(points(text)?.into_iter().map(|x| x / 100.0).collect())
}

/// The numbers in `[a, b), [c, and up)` after `marker`: the lower ends of the brackets.
pub fn cutoffs_after(text: &str, marker: &str) -> Option<Vec<f64>> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let end = rest.find("and up)")?;
    Some(
        rest[..end]
            .split('[')
            .skip(1)
            .filter_map(|b| b.split(',').next()?.trim().parse().ok())
            .collect(),
    )
}

/// The tax `rates` (fractions) on brackets starting at `cutoffs` take from income `z`.
pub fn tax(cutoffs: &[f64], rates: &[f64], z: f64) -> f64 {
    (0..cutoffs.len())
        .map(|j| {
            let hi = cutoffs.get(j + 1).copied().unwrap_or(f64::INFINITY);
            (z.min(hi) - cutoffs[j]).max(0.0) * rates[j]
        })
        .sum()
}
