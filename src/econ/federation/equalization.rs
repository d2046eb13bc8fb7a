//! Where the federal layer's revenue goes: the equalization rules, each region's fiscal gap,
//! and the transfers each rule pays the regions out of the federal pool.

use serde::{Deserialize, Serialize};

/// Where the federal layer's revenue goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Equalization {
    /// Rebated equally to every worker in the nation.
    #[default]
    None,
    /// Paid to the regions in proportion to their populations (into their budgets).
    PerCapita,
    /// Fills each region's fiscal gap (residents times the shortfall of its own revenue per
    /// resident below the standard, the national mean) at `gap_fill_rate`, from the federal
    /// pool and never beyond it (transfers are scaled down together when the gaps exceed it);
    /// what the gaps leave is rebated equally to every worker in the nation.
    GapFill,
    /// The whole federal pool, however large, paid to the regions short of the national mean
    /// in proportion to their gaps (per capita when no region falls short): no standard and
    /// no cap, so one small region short of the mean receives everything.
    UncappedGapShare,
}

impl Equalization {
    /// Whether federal revenue the regions do not receive is rebated to every worker.
    pub fn rebates_leftover(self) -> bool {
        matches!(self, Equalization::None | Equalization::GapFill)
    }
}

/// Each region's fiscal gap: its residents times the shortfall of its own revenue per
/// resident below the national mean own revenue per worker (0 for a region at or above it,
/// or empty).
pub fn fiscal_gaps(own_revenue: &[f64], populations: &[usize]) -> Vec<f64> {
    let n: usize = populations.iter().sum();
    let mean = own_revenue.iter().sum::<f64>() / n.max(1) as f64;
    own_revenue
        .iter()
        .zip(populations)
        .map(|(&r, &p)| {
            if p == 0 {
                0.0
            } else {
                p as f64 * (mean - r / p as f64).max(0.0)
            }
        })
        .collect()
}

/// The federal transfers to each region: `federal_revenue` shared by `equalization`
/// (nothing under `None`, whose revenue is rebated to people directly). Under `GapFill`
/// they sum to at most `federal_revenue`; the rest is the caller's to rebate.
pub fn transfers(
    equalization: Equalization,
    gap_fill_rate: f64,
    federal_revenue: f64,
    own_revenue: &[f64],
    populations: &[usize],
) -> Vec<f64> {
    let n: usize = populations.iter().sum();
    let per_capita = || -> Vec<f64> {
        populations
            .iter()
            .map(|&p| federal_revenue * p as f64 / n.max(1) as f64)
            .collect()
    };
    match equalization {
        Equalization::None => vec![0.0; populations.len()],
        Equalization::PerCapita => per_capita(),
        Equalization::GapFill => {
            let wanted: Vec<f64> = fiscal_gaps(own_revenue, populations)
                .iter()
                .map(|g| g * gap_fill_rate)
                .collect();
            let total: f64 = wanted.iter().sum();
            // The pool caps what is paid: every region's fill is scaled down alike.
            let scale = if total > federal_revenue.max(0.0) {
                federal_revenue.max(0.0) / total
            } else {
                1.0
            };
            wanted.iter().map(|w| w * scale).collect()
        }
        Equalization::UncappedGapShare => {
            let gaps = fiscal_gaps(own_revenue, populations);
            let total: f64 = gaps.iter().sum();
            if total > 0.0 {
                gaps.iter().map(|g| federal_revenue * g / total).collect()
            } else {
                per_capita()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_fill_pays_the_rate_of_each_gap_and_never_more_than_the_pool() {
        // Own revenue 0, 30 and 90 for 1, 1 and 2 residents: the mean per head is 120 / 4 = 30,
        // so the gaps are 30, 0 and 0 (region 2 has 45 a head).
        assert_eq!(
            fiscal_gaps(&[0.0, 30.0, 90.0], &[1, 1, 2]),
            vec![30.0, 0.0, 0.0]
        );
        // Own revenue 0 and 10 for 2 and 3 residents: mean 2 a head; region 0 is 2 short a
        // head (gap 4), region 1 has 10 / 3 a head (no gap).
        let own = [0.0, 10.0];
        let pop = [2, 3];
        // A rate of 0.75 fills 3 of the gap of 4 from a pool of 100.
        assert_eq!(
            transfers(Equalization::GapFill, 0.75, 100.0, &own, &pop),
            vec![3.0, 0.0]
        );
        // A pool of 1 caps it at 1.
        let capped = transfers(Equalization::GapFill, 0.75, 1.0, &own, &pop);
        assert!(
            (capped[0] - 1.0).abs() < 1e-12 && capped[1] == 0.0,
            "{capped:?}"
        );
        // Two regions short: the mean is (3 + 0 + 17) / 5 = 4 a head, so the gaps are
        // 3 x (4 - 1) = 9 and 1 x (4 - 0) = 4; at rate 1 they want 13, and a pool of 6.5 pays
        // half of each.
        assert_eq!(
            transfers(
                Equalization::GapFill,
                1.0,
                6.5,
                &[3.0, 0.0, 17.0],
                &[3, 1, 1]
            ),
            vec![4.5, 2.0, 0.0]
        );
        // A rate of 0 pays nothing: the pool is all rebated.
        assert_eq!(
            transfers(Equalization::GapFill, 0.0, 5.0, &own, &pop),
            vec![0.0, 0.0]
        );
    }
}
