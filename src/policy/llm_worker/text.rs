//! The LLM worker's prompt text: how numbers are written (money, rates, brackets), what the
//! templates see (the system context, the fields of a history line) and the reflection line on
//! the worker's last change of hours. Kept apart from the decision path so a change of wording
//! never touches how answers are used.

use serde::Serialize;
use serde_json::json;

use super::memory::Entry;
use crate::econ::{TaxSchedule, UtilityType};
use crate::policy::worker::WorkerProfile;

/// The fields of one history line, as the template sees them.
#[derive(Clone, Debug, Serialize)]
pub(super) struct LineFields {
    pub(super) step: u64,
    pub(super) rates: String,
    pub(super) hours: String,
    pub(super) income: String,
    pub(super) tax: String,
    pub(super) rebate: String,
    pub(super) post_tax: String,
    pub(super) utility: String,
    pub(super) satisfaction: Option<f64>,
    #[serde(skip)]
    pub(super) hours_value: f64,
    #[serde(skip)]
    pub(super) utility_value: f64,
}

/// Dollars with cents.
pub(super) fn money(x: f64) -> String {
    format!("{x:.2}")
}

/// The marginal rates of a schedule, as the worker reads them.
pub(super) fn rates_text(s: &TaxSchedule) -> String {
    let pts: Vec<String> = s
        .rates()
        .iter()
        .map(|r| format!("{:.0}%", r * 100.0))
        .collect();
    format!("[{}]", pts.join(", "))
}

/// Bracket list in words, e.g. "[0, 90000), [90000, 159100), [159100, and up)".
pub fn brackets_text(s: &TaxSchedule) -> String {
    let c = s.cutoffs();
    (0..c.len())
        .map(|j| match c.get(j + 1) {
            Some(next) => format!("[{:.0}, {:.0})", c[j], next),
            None => format!("[{:.0}, and up)", c[j]),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the `worker_system` template sees: the worker's identity, skill and objective, and her
/// persona when known.
pub(super) fn system_context(me: &WorkerProfile, persona: Option<String>) -> serde_json::Value {
    json!({
        "id": me.id,
        "skill": money(me.skill),
        "income_at_40": money(me.skill * 40.0),
        "max_hours": me.max_hours,
        "utility_type": match me.utility_type {
            UtilityType::Egotistical => "egotistical",
            UtilityType::Altruistic => "altruistic",
            UtilityType::Adversarial => "adversarial",
        },
        "persona": persona,
    })
}

/// "Increasing labor from 30 to 40 raised your utility: ..." from the last two entries.
pub(super) fn reflection(a: Option<&Entry>, b: Option<&Entry>) -> Option<String> {
    let (a, b) = (a?, b?);
    if a.hours == b.hours {
        return None;
    }
    let up = b.hours > a.hours;
    let better = b.utility > a.utility;
    let (verb, change) = (
        if up { "Increasing" } else { "Decreasing" },
        if better { "raised" } else { "lowered" },
    );
    let advice = if up == better {
        format!("your labor may be too low: try more than {:.1}", b.hours)
    } else {
        format!("your labor may be too high: try less than {:.1}", b.hours)
    };
    Some(format!(
        "{verb} labor from {:.1} to {:.1} {change} your utility, so {advice}.",
        a.hours, b.hours
    ))
}
