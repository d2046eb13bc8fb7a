//! What an LLM worker remembers: one entry per step (the numbers it reasons on and the line
//! it was shown), the order of its best steps, and the snapshot form of its memory.

use std::sync::Arc;

use crate::econ::TaxSchedule;

/// What a worker remembers of one step: the numbers it reasons on and the history line it
/// was shown (rendered once, with the `worker_history_line` template, then reused).
#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub(super) step: u64,
    pub(super) hours: f64,
    pub(super) utility: f64,
    pub(super) line: Arc<str>,
}

/// Best utility first; the earlier step wins a tie (deterministic).
pub(super) fn best_first(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    b.utility.total_cmp(&a.utility).then(a.step.cmp(&b.step))
}

/// How many of the oldest of `len` entries to drop so the history fits `window`: none until it
/// overflows, then the oldest half of the window at once. Dropping one line a year would change
/// the start of the history, and so the whole prompt after the system prompt, every year; in
/// blocks, consecutive prompts share everything up to the newest line between two cuts, which
/// a server's prefix cache serves. The worker sees between `window - window / 2` and `window`
/// years once the window has filled.
pub(super) fn overflow(len: usize, window: usize) -> usize {
    if len > window {
        len - (window - window / 2)
    } else {
        0
    }
}

/// What an LLM worker has learned, as a snapshot keeps it: her persona once written, her
/// history and best steps (step, hours, utility, the line she was shown) and her last choice.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct LlmWorkerMemory {
    pub(super) persona: Option<String>,
    pub(super) history: Vec<(u64, f64, f64, String)>,
    pub(super) best: Vec<(u64, f64, f64, String)>,
    pub(super) last_hours: Option<f64>,
    pub(super) last_schedule: Option<TaxSchedule>,
}

#[cfg(test)]
mod tests {
    use super::overflow;

    #[test]
    fn a_full_window_drops_its_oldest_half_at_once() {
        assert_eq!(overflow(50, 50), 0);
        assert_eq!(overflow(51, 50), 26, "keeps the newest 25");
        assert_eq!(overflow(2, 1), 1, "a window of one keeps one");
        assert_eq!(overflow(4, 3), 2, "keeps the newest 2 of an odd window");
        // Simulated: the window only ever grows by one, or is cut to half.
        let (mut len, mut cuts) = (0usize, 0);
        for _ in 0..1000 {
            len += 1;
            let d = overflow(len, 50);
            cuts += usize::from(d > 0);
            len -= d;
            assert!((1..=50).contains(&len));
        }
        // The first cut comes at year 51 (keeping 25), then every 26 years.
        assert_eq!(cuts, (1000 - 51) / 26 + 1);
    }
}
