//! A federation's regions in `inspect`'s year table: each region's tax year (its residents,
//! rates, move or election, and mean figures), listed under the nation's row.

use serde::Serialize;

use crate::frames::{ElectionRecord, PlannerMove, RegionOutcome};

/// One region's tax year, as the game table lists it under the nation's row.
#[derive(Clone, Debug, Serialize)]
pub struct RegionYear {
    pub region: u32,
    /// Residents at the year's first step (after that year's moves).
    pub population: u64,
    pub rates: Vec<f64>,
    /// Its planner's move, or its elected leader's, at the start of the year.
    pub planner_move: Option<PlannerMove>,
    /// Its election at the start of the year, if it held one.
    pub election: Option<ElectionRecord>,
    pub mean_welfare: f64,
    pub mean_revenue: f64,
    pub mean_hours: f64,
    pub mean_gini: f64,
    /// With public goods: the mean over the year's steps of its provision per resident (what
    /// its revenue and transfer per resident paid beyond the rebate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_public_good: Option<f64>,
}

/// Each region's tax year `year` (empty outside a federation), with its mean provision when
/// the regions provide a `public_good`.
pub fn region_years(
    outcomes: &[RegionOutcome],
    moves: &[(u32, PlannerMove)],
    elections: &[(u32, ElectionRecord)],
    year: u64,
    public_good: bool,
) -> Vec<RegionYear> {
    let mut out: Vec<RegionYear> = Vec::new();
    // Region outcomes come in step order, then region order.
    for o in outcomes.iter().filter(|o| o.tax_year == year) {
        let i = match out.iter().position(|r| r.region == o.region) {
            Some(i) => i,
            None => {
                let find_move = |list: &[(u32, PlannerMove)]| {
                    list.iter()
                        .find(|(r, m)| *r == o.region && m.tax_year == year)
                        .map(|(_, m)| m.clone())
                };
                out.push(RegionYear {
                    region: o.region,
                    population: o.population,
                    rates: o.rates.clone(),
                    planner_move: find_move(moves),
                    election: elections
                        .iter()
                        .find(|(r, e)| *r == o.region && e.tax_year == year)
                        .map(|(_, e)| e.clone()),
                    mean_welfare: 0.0,
                    mean_revenue: 0.0,
                    mean_hours: 0.0,
                    mean_gini: 0.0,
                    mean_public_good: public_good.then_some(0.0),
                });
                out.len() - 1
            }
        };
        // Sums for now; divided by the step count below.
        let r = &mut out[i];
        r.mean_welfare += o.welfare;
        r.mean_revenue += o.revenue;
        r.mean_hours += o.mean_hours;
        r.mean_gini += o.gini;
        if let Some(g) = r.mean_public_good.as_mut() {
            *g += o.public_good();
        }
    }
    for r in &mut out {
        let n = outcomes
            .iter()
            .filter(|o| o.tax_year == year && o.region == r.region)
            .count() as f64;
        r.mean_welfare /= n;
        r.mean_revenue /= n;
        r.mean_hours /= n;
        r.mean_gini /= n;
        if let Some(g) = r.mean_public_good.as_mut() {
            *g /= n;
        }
    }
    out.sort_by_key(|r| r.region);
    out
}
