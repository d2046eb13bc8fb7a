//! Elected governance with LLM workers: the paper's leader.
//!
//! The leader: between elections (and every year when candidates run without written
//!   platforms) the elected LLM worker is asked, every tax year, for a `{"DELTA": [..]}` that
//!   serves her own utility. She sees what the LLM planner sees (the years' schedules with
//!   their welfare, revenue, hours and Gini; last year's income and utility histograms and
//!   statistics, once a year has been played) and her own history: the schedules she set as
//!   leader with the income and utility she had under them, and her hours, income and utility
//!   at each step of the last tax year. Her system prompt is her worker's, with her persona;
//!   rates are shown exactly, and the units (steps, tax years, the run's length) are stated. The exchange is logged under the role `leader` and replayed
//!   like any other; an unusable answer is re-asked, then falls back to keeping the schedule
//!   (counted in `llm.fallbacks`). Offline workers keep the exact rule of `game::elected`.

use serde_json::json;

use super::llm_planner::{
    LlmPlanner, YearRecord, delta_ask, delta_hint, labelled_brackets, moves_text,
};
use super::worker::WorkerProfile;
use crate::econ::TaxSchedule;
use crate::frames::StepOutcome;
use crate::llm::gateway::Parsed;
use crate::llm::parse;

/// What the LLM leader is asked with: the LLM planner's settings (tokens, history, best
/// years, the largest move).
pub type LeaderSettings = super::llm_planner::LlmPlannerSettings;

pub use crate::memory::LeaderYear;

fn rates_text(rates: &[f64]) -> String {
    crate::llm::prompts::percent_list(rates)
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
            rates: rates_text(&year[0].rates),
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

/// One of her own steps, as her prompt lists it.
pub struct OwnStepLine {
    pub step: u64,
    pub tax_year: u64,
    pub hours: f64,
    pub income: f64,
    pub utility: f64,
}

/// What the leader's prompt is built from.
pub struct LeaderInput<'a> {
    pub me: WorkerProfile,
    /// Her persona, when the workers have one (the census card's text).
    pub persona: Option<String>,
    pub tax_year: u64,
    pub years_total: u64,
    pub tax_year_length: u64,
    pub current: &'a TaxSchedule,
    /// Every step played so far.
    pub records: &'a [StepOutcome],
    /// Last step's incomes and utilities of every worker.
    pub incomes: &'a [f64],
    pub utilities: &'a [f64],
    /// Her own years as leader, oldest first.
    pub own: Vec<&'a LeaderYear>,
    /// Her own steps of the last tax year, oldest first.
    pub steps: Vec<OwnStepLine>,
}

/// Whether the cue says these are the last years: the last tenth of the run's tax years (as
/// the planner's), or its last tax year.
fn last_years(tax_year: u64, years_total: u64) -> bool {
    tax_year + 1 >= years_total || tax_year * 10 > years_total * 9
}

/// The leader's system and user prompts (the worker's system prompt, with her persona: she
/// is a worker).
pub fn leader_prompts(s: &LeaderSettings, input: &LeaderInput) -> Result<(String, String), String> {
    let mut system_ctx = super::llm_worker::system_context(
        &input.me,
        input.current,
        s.welfare,
        false,
        input.persona.clone(),
    );
    // She reads her worker's rules: the formula is stated or withheld as it is for him.
    system_ctx["utility_formula"] = serde_json::json!(if s.utility_formula_shown {
        "shown"
    } else {
        "withheld"
    });
    let system = s.prompts.render("worker_system", system_ctx)?;
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
    // Her years show the rates in force exactly, as the history has them (the memory keeps
    // whole points).
    let own: Vec<serde_json::Value> = input
        .own
        .iter()
        .map(|y| {
            let rates = lines.iter().find(|l| l.year == y.tax_year).map_or_else(
                || {
                    rates_text(
                        &y.rates
                            .iter()
                            .map(|p| f64::from(*p) / 100.0)
                            .collect::<Vec<_>>(),
                    )
                },
                |l| l.rates.clone(),
            );
            json!({"year": y.tax_year, "rates": rates,
                   "income": format!("{:.2}", y.own_income), "utility": format!("{:.2}", y.own_utility),
                   "welfare": format!("{:.4}", y.welfare)})
        })
        .collect();
    let steps: Vec<serde_json::Value> = input
        .steps
        .iter()
        .map(|t| {
            json!({"step": t.step, "year": t.tax_year, "hours": format!("{}", t.hours),
                   "income": format!("{:.2}", t.income), "utility": format!("{:.2}", t.utility)})
        })
        .collect();
    // Nothing is shown of a year that has not been played (the first tax year).
    let played = !input.incomes.is_empty() && !input.records.is_empty();
    let (im, imed, isd) = LlmPlanner::describe(input.incomes);
    let (um, umed, usd) = LlmPlanner::describe(input.utilities);
    let placeholders = vec!["X"; n].join(", ");
    let user = s.prompts.render(
        "leader",
        json!({"id": input.me.id, "history": &lines[start..], "best": best, "own": own,
               "steps": steps, "played": played,
               "rates": rates_text(input.current.rates()),
               "brackets": labelled_brackets(input.current),
               "income_histogram": LlmPlanner::income_histogram(input.current.cutoffs(), input.incomes),
               "utility_histogram": LlmPlanner::utility_histogram(input.utilities),
               "income_mean": im, "income_median": imed, "income_std": isd,
               "utility_mean": um, "utility_median": umed, "utility_std": usd,
               "last_year": input.tax_year.saturating_sub(1), "tax_year": input.tax_year,
               "years_total": input.years_total, "tax_year_length": input.tax_year_length,
               "exploit": last_years(input.tax_year, input.years_total),
               "moves": moves_text(s.max_delta_points), "jurisdiction": s.jurisdiction,
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
            delta_ask(
                role,
                leader,
                step,
                prompts,
                s.max_tokens,
                brackets,
                max_delta,
            ),
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
            ("2.0000", "[10%, 20%]")
        );
        assert_eq!(lines[1].welfare_value, 5.0);
    }

    #[test]
    fn rates_in_force_are_shown_exactly() {
        assert_eq!(rates_text(&[0.575, 0.475, 0.275]), "[57.5%, 47.5%, 27.5%]");
    }

    #[test]
    fn the_last_years_are_the_last_tenth_or_the_last_one() {
        // The shipped T = 50 in 25-step years: two tax years, the first is not "one of the last".
        assert!(!last_years(0, 2));
        assert!(last_years(1, 2));
        assert!(!last_years(17, 20));
        assert!(last_years(19, 20));
    }
}
