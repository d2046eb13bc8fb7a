//! `governance compare`: one scenario run under its planner and under each voting rule, on the
//! same population and seed.

use std::path::Path;

use serde::Serialize;

use crate::config::Scenario;

use super::run_scenario;

/// One row of a governance comparison.
#[derive(Clone, Debug, Serialize)]
pub struct RuleComparison {
    pub rule: String,
    pub swf_final: f64,
    pub swf_mean: f64,
    pub gini_final: f64,
    pub mean_hours_final: f64,
    pub tax_rates_final: Vec<f64>,
    pub bottom_decile_utility: f64,
    pub median_decile_utility: f64,
    /// Distinct winners over the run's elections: leaders, or under a referendum the schedules
    /// adopted (`winners_are_schedules`); none for the planner's row.
    pub distinct_winners: Option<usize>,
    pub winners_are_schedules: bool,
    /// Mean turnout; none for the planner's row and for a rule that takes no ballots
    /// (sortition).
    pub mean_turnout: Option<f64>,
}

/// Runs `scenario` once under each governance rule (same population and seed; the first row
/// is the scenario's own planner, for reference) into `out/<rule>/`.
pub fn compare_rules(
    scenario: &Scenario,
    rules: &[String],
    out: &Path,
) -> anyhow::Result<Vec<RuleComparison>> {
    let mut rows = Vec::new();
    let mut runs: Vec<(String, Scenario)> = Vec::new();
    let mut planner = scenario.clone();
    planner.governance.mode = crate::config::GovernanceMode::Planner;
    planner.baselines.enabled = false;
    let planner_name = serde_json::to_value(planner.planner.policy)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    runs.push((format!("planner {planner_name}"), planner));
    for rule in rules {
        // `validate` names an unknown rule and the rules there are.
        let mut s = scenario.clone();
        s.governance.mode = crate::config::GovernanceMode::Election;
        s.governance.rule = rule.clone();
        s.baselines.enabled = false;
        s.validate()?;
        runs.push((rule.clone(), s));
    }
    for (label, s) in runs {
        let dir = out.join(label.replace([':', ' '], "_"));
        // One writer per run folder, as for `run` (a second compare into the same --out is
        // refused, naming this one).
        let lock = crate::run_lock::lock_run_dir(&dir)?;
        let summary = run_scenario(&s, &dir, None)?;
        drop(lock);
        let g = summary.governance.as_ref();
        let rule = g.and_then(|g| crate::governance::rule(&g.rule));
        let balloted = rule.as_ref().is_some_and(|r| r.needs_ballots());
        rows.push(RuleComparison {
            rule: label,
            swf_final: summary.swf_final,
            swf_mean: summary.swf_mean,
            gini_final: summary.gini_final,
            mean_hours_final: summary.mean_hours_final,
            tax_rates_final: summary.tax_rates_final.clone(),
            bottom_decile_utility: summary.deciles.bottom,
            median_decile_utility: summary.deciles.median,
            distinct_winners: g.map(|g| g.distinct_winners),
            winners_are_schedules: rule.as_ref().is_some_and(|r| r.adopts_schedule()),
            mean_turnout: g.filter(|_| balloted).map(|g| g.mean_turnout),
        });
    }
    Ok(rows)
}
