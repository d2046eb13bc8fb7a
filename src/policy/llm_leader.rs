//! Elected governance with LLM workers: the paper's leader.
//!
//! The leader: between elections (and every year when candidates run without written
//!   platforms) the elected LLM worker is asked, every tax year, for a `{"DELTA": [..]}` that
//!   serves her own utility. She sees what the LLM planner sees (the years' schedules with
//!   their welfare, revenue, hours and Gini; last year's income and utility histograms and
//!   statistics) and her own history as leader (the schedules she set and the income and
//!   utility she had under them). The exchange is logged under the role `leader` and replayed
//!   like any other; an unusable answer is re-asked, then falls back to keeping the schedule
//!   (counted in `llm.fallbacks`). Offline workers keep the exact rule of `game::elected`.

use serde_json::json;

use super::llm_planner::{LlmPlanner, YearRecord, delta_ask, delta_hint};
use super::llm_worker::brackets_text;
use super::worker::WorkerProfile;
use crate::econ::TaxSchedule;
use crate::frames::StepOutcome;
use crate::llm::gateway::Parsed;
use crate::llm::parse;

/// What the LLM leader is asked with: the LLM planner's settings (tokens, history, best
/// years, the largest move).
pub type LeaderSettings = super::llm_planner::LlmPlannerSettings;

pub use crate::memory::LeaderYear;

fn points_text(rates: &[f64]) -> String {
    let p: Vec<String> = rates
        .iter()
        .map(|r| ((r * 100.0).round() as i32).to_string())
        .collect();
    format!("[{}]", p.join(", "))
}

/// The years of `records` (step outcomes, in order), each as the means of its steps, as the
/// planner's history shows them.
fn year_lines(records: &[StepOutcome]) -> Vec<YearRecord> {
    let mut out: Vec<YearRecord> = Vec::new();
    for year in records.chunk_by(|a, b| a.tax_year == b.tax_year) {
        let mean =
            |f: fn(&StepOutcome) -> f64| year.iter().map(f).sum::<f64>() / year.len().max(1) as f64;
        let welfare = mean(|r| r.welfare);
        out.push(YearRecord {
            year: year[0].tax_year,
            rates: points_text(&year[0].rates),
            points: year[0]
                .rates
                .iter()
                .map(|r| (r * 100.0).round() as i32)
                .collect(),
            welfare: format!("{welfare:.4}"),
            welfare_value: welfare,
            revenue: format!("{:.0}", mean(|r| r.revenue)),
            mean_hours: format!("{:.2}", mean(|r| r.mean_hours)),
            gini: format!("{:.3}", mean(|r| r.gini)),
        });
    }
    out
}

/// What the leader's prompt is built from.
pub struct LeaderInput<'a> {
    pub me: WorkerProfile,
    pub tax_year: u64,
    pub years_total: u64,
    pub current: &'a TaxSchedule,
    /// Every step played so far.
    pub records: &'a [StepOutcome],
    /// Last step's incomes and utilities of every worker.
    pub incomes: &'a [f64],
    pub utilities: &'a [f64],
    /// Her own years as leader, oldest first.
    pub own: Vec<&'a LeaderYear>,
}

/// The leader's system and user prompts (the worker's system prompt: she is a worker).
pub fn leader_prompts(s: &LeaderSettings, input: &LeaderInput) -> Result<(String, String), String> {
    let system = s.prompts.render(
        "worker_system",
        super::llm_worker::system_context(&input.me, input.current, s.welfare, false, None),
    )?;
    let n = input.current.num_brackets();
    let lines = year_lines(input.records);
    let start = lines.len().saturating_sub(s.history);
    let mut best: Vec<&YearRecord> = lines.iter().collect();
    best.sort_by(|a, b| {
        b.welfare_value
            .total_cmp(&a.welfare_value)
            .then(a.year.cmp(&b.year))
    });
    best.truncate(s.best_k);
    let own: Vec<serde_json::Value> = input
        .own
        .iter()
        .map(|y| {
            json!({"year": y.tax_year, "rates": format!("[{}]", y.rates.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")),
                   "income": format!("{:.2}", y.own_income), "utility": format!("{:.2}", y.own_utility),
                   "welfare": format!("{:.4}", y.welfare)})
        })
        .collect();
    let (im, imed, isd) = LlmPlanner::describe(input.incomes);
    let (um, umed, usd) = LlmPlanner::describe(input.utilities);
    let placeholders = vec!["X"; n].join(", ");
    let user = s.prompts.render(
        "leader",
        json!({"id": input.me.id, "history": &lines[start..], "best": best, "own": own,
               "rates": points_text(input.current.rates()),
               "brackets": brackets_text(input.current),
               "income_histogram": LlmPlanner::income_histogram(input.current.cutoffs(), input.incomes),
               "utility_histogram": LlmPlanner::utility_histogram(input.utilities),
               "income_mean": im, "income_median": imed, "income_std": isd,
               "utility_mean": um, "utility_median": umed, "utility_std": usd,
               "last_year": input.tax_year.saturating_sub(1),
               "exploit": input.tax_year + 2 >= input.years_total,
               "max_delta": s.max_delta_points, "jurisdiction": s.jurisdiction,
               "n": n, "placeholders": placeholders}),
    )?;
    Ok((system, user))
}

/// Asks the leader for her move: `DELTA` points per bracket (none after the fallback).
pub async fn ask_leader(
    s: &LeaderSettings,
    role: &'static str,
    leader: u64,
    step: u64,
    brackets: usize,
    prompts: (String, String),
) -> Parsed<Vec<i32>> {
    let max_delta = s.max_delta_points;
    s.gateway
        .ask_parsed(
            delta_ask(role, leader, step, prompts, s.max_tokens, brackets),
            |t| parse::deltas(t, brackets, max_delta),
            &delta_hint(brackets),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_are_the_means_of_their_steps() {
        let step = |step, tax_year, welfare| StepOutcome {
            step,
            tax_year,
            rates: vec![0.1, 0.2],
            revenue: 10.0,
            rebate: 1.0,
            welfare,
            gini: 0.5,
            mean_hours: 40.0,
            mean_income: 1.0,
            mean_utility: 1.0,
        };
        let lines = year_lines(&[step(0, 0, 1.0), step(1, 0, 3.0), step(2, 1, 5.0)]);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (lines[0].welfare.as_str(), lines[0].rates.as_str()),
            ("2.0000", "[10, 20]")
        );
        assert_eq!(lines[1].welfare_value, 5.0);
    }
}
