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
