//! What the viewer shows of a federation: who governs each region, each region's population,
//! top rate and welfare step by step, and a round's regions (residents, rates, move or
//! election, welfare with and without location, rebate) with the moves between them.
//!
//! The figures are formatted here, as `inspect` prints them, so the page and the terminal
//! agree to the last digit.

use serde::Serialize;

use crate::config::{GovernanceMode, Scenario};
use crate::frames::{LocationOutcome, MoveRecord, RegionOutcome};
use crate::inspect::pct;
use crate::inspect_regions::RegionYear;

/// Each region's series, by region then step (the steps of the overview's `steps`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RegionSeries {
    /// "region 0: elected (plurality)", "region 1: hill-climb", ...
    pub names: Vec<String>,
    pub population: Vec<Vec<u64>>,
    /// The region's marginal rate in its top bracket.
    pub top_rate: Vec<Vec<f64>>,
    pub welfare: Vec<Vec<f64>>,
}

impl RegionSeries {
    /// Appends one step's region outcomes (in region order).
    pub fn push(&mut self, regions: &[RegionOutcome]) {
        for o in regions {
            let r = o.region as usize;
            if self.population.len() <= r {
                self.population.resize(r + 1, Vec::new());
                self.top_rate.resize(r + 1, Vec::new());
                self.welfare.resize(r + 1, Vec::new());
            }
            self.population[r].push(o.population);
            self.top_rate[r].push(o.rates.last().copied().unwrap_or(f64::NAN));
            self.welfare[r].push(o.welfare);
        }
    }
}

/// How region `r` is governed, in the words of the page's header.
fn governed_by(scenario: &Scenario, f: &crate::config::Federation, r: usize) -> String {
    let c = f.region(r);
    match c.governance.unwrap_or(scenario.governance.mode) {
        GovernanceMode::Election => format!(
            "elected ({})",
            c.rule.unwrap_or_else(|| scenario.governance.rule.clone())
        ),
        GovernanceMode::Planner => {
            serde_json::to_value(c.planner.unwrap_or(scenario.planner.policy))
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "planner".into())
        }
    }
}

/// Who sets the schedules of a federation, for the page's header: each region, and the
/// federal layer when there is one.
pub fn setter(scenario: &Scenario) -> Option<(String, Vec<String>)> {
    let f = scenario.regions()?;
    let names: Vec<String> = (0..f.regions)
        .map(|r| format!("region {r}: {}", governed_by(scenario, f, r)))
        .collect();
    let mut text = format!("{} regions ({})", f.regions, names.join("; "));
    match f.federal_mode() {
        Some(GovernanceMode::Election) => {
            text += &format!(
                ", a federal layer elected ({})",
                f.federal_rule
                    .clone()
                    .unwrap_or_else(|| scenario.governance.rule.clone())
            );
        }
        Some(GovernanceMode::Planner) => {
            let planner = f
                .federal_planner
                .and_then(|p| serde_json::to_value(p).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            text += &format!(", a federal layer set by {planner}");
        }
        None => {}
    }
    Some((text, names))
}

/// One region in a round, as the page's regions table lists it.
#[derive(Clone, Debug, Serialize)]
pub struct RegionRoundView {
    pub region: u32,
    pub name: String,
    /// Residents at the round's first step (after its moves).
    pub population: u64,
    pub rates: Vec<f64>,
    pub rates_text: String,
    /// Its move at the round's start: "won W: +10,0,-10", "+10,0,-10", or "-".
    pub move_text: String,
    pub welfare_text: String,
    /// Mean over the round's steps of its welfare with location (empty for a log from before
    /// it was logged).
    pub welfare_with_location_text: String,
    pub revenue_text: String,
    /// With public goods: the mean over the round's steps of its provision per resident
    /// (empty without them).
    pub public_good_text: String,
}

/// A round's regions, from the year table's rows (`RoundSummary::regions`) and the round's
/// welfare with location.
pub fn round_regions(
    years: &[RegionYear],
    names: &[String],
    locations: &[LocationOutcome],
) -> Vec<RegionRoundView> {
    years
        .iter()
        .map(|g| {
            let r = g.region as usize;
            let with: Vec<f64> = locations
                .iter()
                .filter_map(|l| l.regions.get(r).copied())
                .collect();
            let move_text =
                crate::inspect::move_label(g.planner_move.as_ref(), g.election.as_ref());
            RegionRoundView {
                region: g.region,
                name: names.get(r).cloned().unwrap_or_default(),
                population: g.population,
                rates: g.rates.clone(),
                rates_text: pct(&g.rates),
                move_text,
                welfare_text: format!("{:.4}", g.mean_welfare),
                welfare_with_location_text: if with.is_empty() {
                    String::new()
                } else {
                    format!("{:.4}", with.iter().sum::<f64>() / with.len() as f64)
                },
                revenue_text: crate::plot::thousands(g.mean_revenue),
                public_good_text: g
                    .mean_public_good
                    .map_or(String::new(), crate::plot::thousands),
            }
        })
        .collect()
}

/// The moves at a round's start as (from, to, workers), every pair that moved, in order.
pub fn flows(moves: Option<&MoveRecord>) -> Vec<(u32, u32, u64)> {
    let mut out: Vec<(u32, u32, u64)> = Vec::new();
    for &(_, from, to) in moves.map_or(&[][..], |m| &m.moves) {
        match out.iter_mut().find(|f| f.0 == from && f.1 == to) {
            Some(f) => f.2 += 1,
            None => out.push((from, to, 1)),
        }
    }
    out.sort_unstable();
    out
}
