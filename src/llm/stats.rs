//! The LLM accounting: request, token and fallback counts per role ([`RoleStats`], the
//! `llm` block of `summary.json`), and the window of recent live decisions that stops a run
//! whose server keeps failing.

use std::collections::BTreeMap;

use serde::Serialize;

use super::pool::EndpointStats;

/// Request and token counts of one role (or of all).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RoleStats {
    /// Attempts sent to a server (retries included; shared answers excluded).
    pub requests: u64,
    /// Requests answered by an identical request's call.
    pub cache_hits: u64,
    /// Transport retries and re-asks after unusable answers.
    pub retries: u64,
    /// Decisions that fell back to the documented default after every attempt failed.
    pub fallbacks: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Decisions asked (each ends in a usable answer or a fallback). This and the counts
    /// below default to zero when absent, so a summary written before they existed still reads.
    #[serde(default)]
    pub decisions: u64,
    /// Why decisions fell back: the last attempt's failure ("connection", "timeout",
    /// "http 500", "bad response", ...) or "unusable answer" (every answer failed to parse).
    #[serde(default)]
    pub fallback_causes: BTreeMap<String, u64>,
    /// Answers whose server named another model than the one requested.
    #[serde(default)]
    pub model_mismatches: u64,
    /// Prompt tokens the server served from its prefix cache (`usage.prompt_tokens_details.
    /// cached_tokens`, sent by OpenAI, vLLM and SGLang); 0 when it does not say.
    #[serde(default)]
    pub cached_tokens: u64,
}

impl RoleStats {
    /// Adds `o` to these counts (a run's totals, or a sweep's over its runs); counts saturate
    /// (a count at u64::MAX still trips a budget, never wraps).
    pub fn add(&mut self, o: &RoleStats) {
        self.requests = self.requests.saturating_add(o.requests);
        self.cache_hits = self.cache_hits.saturating_add(o.cache_hits);
        self.retries = self.retries.saturating_add(o.retries);
        self.fallbacks = self.fallbacks.saturating_add(o.fallbacks);
        self.prompt_tokens = self.prompt_tokens.saturating_add(o.prompt_tokens);
        self.completion_tokens = self.completion_tokens.saturating_add(o.completion_tokens);
        self.decisions = self.decisions.saturating_add(o.decisions);
        for (cause, n) in &o.fallback_causes {
            let c = self.fallback_causes.entry(cause.clone()).or_default();
            *c = c.saturating_add(*n);
        }
        self.model_mismatches = self.model_mismatches.saturating_add(o.model_mismatches);
        self.cached_tokens = self.cached_tokens.saturating_add(o.cached_tokens);
    }
}

/// The `llm` block of `summary.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LlmStats {
    #[serde(flatten)]
    pub totals: RoleStats,
    pub by_role: BTreeMap<String, RoleStats>,
    /// Per endpoint of the pool, in `llm.base_url` order, as this process saw them (a replay
    /// asks no server and shows none). Not in `summary.json`, whose bytes a resumed run
    /// reproduces: which endpoint answered and how fast depend on the servers and the clock,
    /// so they go to their own file, [`ENDPOINTS_FILE`].
    #[serde(skip)]
    pub endpoints: Vec<EndpointStats>,
    /// Per model of a population that mixes them (`workers.models`): every request of the
    /// workers of each model (absent when one model serves them all).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_model: BTreeMap<String, RoleStats>,
}

impl LlmStats {
    /// The run's LLM use in one line for the terminal: requests, retries, and how many
    /// decisions fell back and why (a run whose answers were all defaults must not look like
    /// a normal one).
    pub fn report_line(&self) -> String {
        let t = &self.totals;
        let mut line = format!(
            "llm: {} requests ({} retries), {} decisions",
            t.requests, t.retries, t.decisions
        );
        if t.fallbacks == 0 {
            line.push_str(", none fell back");
        } else {
            line.push_str(&format!(
                "; {} fell back to their defaults ({:.1}%): {}",
                t.fallbacks,
                100.0 * t.fallbacks as f64 / t.decisions.max(1) as f64,
                causes_text(&t.fallback_causes)
            ));
        }
        if t.model_mismatches > 0 {
            line.push_str(&format!(
                "; {} answers came from another model than the one requested",
                t.model_mismatches
            ));
        }
        if t.cached_tokens > 0 {
            let roles: Vec<String> = self
                .by_role
                .iter()
                .filter(|(_, s)| s.prompt_tokens > 0)
                .map(|(role, s)| {
                    format!(
                        "{role} {:.0}%",
                        100.0 * s.cached_tokens as f64 / s.prompt_tokens as f64
                    )
                })
                .collect();
            line.push_str(&format!(
                "; {} of {} prompt tokens cached ({})",
                t.cached_tokens,
                t.prompt_tokens,
                roles.join(", ")
            ));
        }
        let ejected: Vec<String> = self
            .endpoints
            .iter()
            .filter(|e| e.ejections > 0)
            .map(|e| format!("{} {}x", e.base_url, e.ejections))
            .collect();
        if !ejected.is_empty() {
            line.push_str(&format!("; endpoints ejected: {}", ejected.join(", ")));
        }
        line
    }
}

/// The run folder's file of per-endpoint counts (`{"endpoints": [...]}`), rewritten by each
/// invocation that asked a server (a resume counts only what it asked).
pub const ENDPOINTS_FILE: &str = "llm_endpoints.json";

/// "3 connection, 1 unusable answer", most frequent first.
fn causes_text(causes: &BTreeMap<String, u64>) -> String {
    let mut list: Vec<(&String, &u64)> = causes.iter().collect();
    list.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    list.iter()
        .map(|(cause, n)| format!("{n} {cause}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fallback cause of a decision whose every answer was usable text that did not parse.
pub const UNUSABLE_ANSWER: &str = "unusable answer";

/// Live decisions and fallbacks per played step, for the fallback-share stop. Only decisions
/// a server was asked in this process count: answers taken from a recording (a resume, a
/// fork's prefix) were judged when they were first asked, so a resumed run is not stopped
/// again by the failures that stopped it.
#[derive(Default)]
pub(super) struct LiveWindow {
    /// The step being played: decisions, fallbacks, and the first message of each cause.
    current: (u64, u64, BTreeMap<String, String>),
    /// Finished steps, most recent last, as far back as the window reaches.
    steps: std::collections::VecDeque<(u64, u64)>,
}

/// The fallback share is judged over the most recent steps that hold at least this many live
/// decisions (one step of a 100-worker run, 20 of a 5-worker one): few enough to stop a run
/// with no server after a step or a few, many enough that a healthy server's rare fallbacks
/// (about 3% with a third of answers garbled) cannot reach the 20% default by chance.
pub const FALLBACK_WINDOW: u64 = 100;
/// Fewer decisions are judged too when every one of them fell back.
pub const FALLBACK_ALL_FAILED: u64 = 10;

impl LiveWindow {
    /// Counts one live decision, and its fallback (cause and first message) if it fell back.
    pub(super) fn decided(&mut self, fallback: Option<(String, String)>) {
        self.current.0 += 1;
        if let Some((cause, message)) = fallback {
            self.current.1 += 1;
            self.current.2.entry(cause).or_insert(message);
        }
    }

    /// Closes the step's live tally; names the causes when the recent share of fallbacks is
    /// above `llm.max_fallback_share`.
    pub(super) fn judge(&mut self, max_fallback_share: f64) -> Option<String> {
        let w = self;
        let (decisions, fallbacks, messages) = std::mem::take(&mut w.current);
        if decisions > 0 {
            w.steps.push_back((decisions, fallbacks));
        }
        // Keep the fewest recent steps that still hold a full window.
        while w.steps.len() > 1
            && w.steps.iter().skip(1).map(|s| s.0).sum::<u64>() >= FALLBACK_WINDOW
        {
            w.steps.pop_front();
        }
        let (asked, fell): (u64, u64) = w.steps.iter().fold((0, 0), |(a, f), s| (a + s.0, f + s.1));
        let share = fell as f64 / asked.max(1) as f64;
        // A window of nothing but fallbacks is no chance event even when short (ten in a row
        // at a healthy server's 3% has odds of 1 in 10^15): a dead server stops a small run
        // after its first steps too.
        let judged = asked >= FALLBACK_WINDOW || (asked >= FALLBACK_ALL_FAILED && fell == asked);
        if !judged || share <= max_fallback_share {
            return None;
        }
        let last_step: Vec<String> = messages
            .iter()
            .map(|(cause, message)| format!("{cause}: {message}"))
            .collect();
        Some(format!(
            "{fell} of the last {asked} decisions asked of the LLM server fell back to their \
             defaults ({:.0}%, above llm.max_fallback_share = {}); the last step's causes: {}",
            100.0 * share,
            max_fallback_share,
            if last_step.is_empty() {
                "none (its decisions were answered)".to_string()
            } else {
                last_step.join("; ")
            }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts written as `earlier` wrote them for (role index), in maps of one to four roles,
    /// must be refused as a snapshot (and the log used), never misread as today's.
    fn assert_refused<T: Serialize>(earlier: impl Fn(u64) -> T) {
        for roles in [
            vec!["worker"],
            vec!["planner", "worker"],
            vec!["persona", "planner", "satisfaction", "worker"],
            vec!["platform", "vote", "worker"],
        ] {
            let map: BTreeMap<String, T> = roles
                .iter()
                .enumerate()
                .map(|(i, r)| (r.to_string(), earlier(1000 * (i as u64 + 1))))
                .collect();
            let bytes = crate::snapshot::to_bytes(&Some(map));
            let read: Result<Option<BTreeMap<String, RoleStats>>, String> =
                crate::snapshot::from_bytes(&bytes);
            assert!(read.is_err(), "{roles:?}: {read:?}");
        }
    }

    #[test]
    fn counts_of_an_earlier_snapshot_do_not_decode_as_todays() {
        // The counts as snapshots held them before decisions, causes and mismatches were
        // counted.
        #[derive(Serialize)]
        struct Earlier {
            requests: u64,
            cache_hits: u64,
            retries: u64,
            fallbacks: u64,
            prompt_tokens: u64,
            completion_tokens: u64,
        }
        assert_refused(|n| Earlier {
            requests: n,
            cache_hits: 3,
            retries: 40,
            fallbacks: 5,
            prompt_tokens: 90 * n,
            completion_tokens: 5 * n,
        });
    }

    #[test]
    fn counts_written_before_cached_tokens_do_not_decode_as_todays() {
        #[derive(Serialize)]
        struct Earlier {
            requests: u64,
            cache_hits: u64,
            retries: u64,
            fallbacks: u64,
            prompt_tokens: u64,
            completion_tokens: u64,
            decisions: u64,
            fallback_causes: BTreeMap<String, u64>,
            model_mismatches: u64,
        }
        assert_refused(|n| Earlier {
            requests: n,
            cache_hits: 3,
            retries: 40,
            fallbacks: 5,
            prompt_tokens: 90 * n,
            completion_tokens: 5 * n,
            decisions: n,
            fallback_causes: [("timeout".to_string(), 5)].into(),
            model_mismatches: 0,
        });
    }

    #[test]
    fn counts_saturate_instead_of_wrapping() {
        let mut a = RoleStats {
            prompt_tokens: u64::MAX - 1,
            ..RoleStats::default()
        };
        a.add(&RoleStats {
            prompt_tokens: 5,
            ..RoleStats::default()
        });
        assert_eq!(a.prompt_tokens, u64::MAX);
    }
}
