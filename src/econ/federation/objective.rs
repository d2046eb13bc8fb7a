//! What a region's planner maximizes: the regional objective, chosen by `[federation]
//! objective`, and its value at one step's settlement.
//!
//! The objective decides whether population swings count as a planner's success. Under
//! `per-capita` (the default) a region is scored on the welfare function over whoever lives
//! there, so a schedule that drives the poor away scores as an improvement even if nobody is
//! better off; `original-residents` scores the same people wherever they move, which no
//! migration can game.

use serde::{Deserialize, Serialize};

use super::FederalSettlement;
use crate::econ::{WelfareKind, social_welfare};

/// A region's objective.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegionalObjective {
    /// The welfare function over the region's current residents (the "average resident" of
    /// the fiscal-competition literature): moving people in or out changes the score.
    #[default]
    PerCapita,
    /// The per-capita figure times the number of residents (total, Benthamite welfare of the
    /// residents): a region gains from attracting people.
    Residents,
    /// The welfare function over the workers who lived in the region at the start of the
    /// run, wherever they live now (the welfare of natives, Mirrlees 1982): migration moves
    /// nobody in or out of the scored group.
    OriginalResidents,
    /// The nation's welfare (a cooperative region, the central planner's objective).
    National,
}

impl RegionalObjective {
    /// Every objective by its scenario name.
    pub const NAMES: [&'static str; 4] =
        ["per-capita", "residents", "original-residents", "national"];

    /// What a region's yearly score is, in words for a leader's or planner's prompt.
    pub fn describe(self) -> &'static str {
        match self {
            RegionalObjective::PerCapita => {
                "the region's welfare is the social welfare function over its current residents"
            }
            RegionalObjective::Residents => {
                "the region's welfare is the social welfare function over its current residents \
                 times their number, so it grows with the region's population"
            }
            RegionalObjective::OriginalResidents => {
                "the region's welfare is the social welfare function over the workers who lived \
                 in it at the start, wherever they live now"
            }
            RegionalObjective::National => {
                "the region's welfare is the whole nation's social welfare"
            }
        }
    }
}

/// Region `region`'s objective at one settlement. `region_of` is where each worker lives now
/// and `origin` where she lived at the start (both by worker id); `weights` are the welfare
/// weights by id.
pub fn objective_value(
    objective: RegionalObjective,
    kind: WelfareKind,
    region: usize,
    settled: &FederalSettlement,
    region_of: &[u32],
    origin: &[u32],
    weights: &[f64],
) -> f64 {
    match objective {
        RegionalObjective::PerCapita => settled.regions[region].welfare,
        RegionalObjective::Residents => {
            let residents = region_of.iter().filter(|&&r| r as usize == region).count();
            settled.regions[region].welfare * residents as f64
        }
        RegionalObjective::OriginalResidents => {
            let n = &settled.national;
            let ids: Vec<usize> = origin
                .iter()
                .enumerate()
                .filter(|&(_, &r)| r as usize == region)
                .map(|(i, _)| i)
                .collect();
            let pick = |v: &[f64]| -> Vec<f64> { ids.iter().map(|&i| v[i]).collect() };
            social_welfare(kind, &pick(&n.utilities), &pick(weights), &pick(&n.incomes))
        }
        RegionalObjective::National => settled.national.welfare,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::econ::TaxSchedule;
    use crate::econ::federation::settle_regions;

    /// Two regions, three workers: worker 0 was born in region 0 and moved to region 1;
    /// workers 1 and 2 live where they started (regions 1 and 0).
    fn case() -> (FederalSettlement, Vec<u32>, Vec<u32>) {
        let params = crate::econ::world::hand_world();
        // Region 0 (flat 20 %): worker 2, skill 10, 10 h -> z 100, tax 20, rebate 20,
        // u = 100 - 20 + 20 - 50 = 50. Region 1 (flat 50 %): workers 0 and 1, skill 20,
        // 20 h -> z 400, tax 200 each, rebate 200, u = 400 - 200 + 200 - 200 = 200.
        let region_of = vec![1, 1, 0];
        let origin = vec![0, 1, 0];
        let s = settle_regions(
            &params,
            &[
                TaxSchedule::new(vec![0.0], vec![0.2]).unwrap(),
                TaxSchedule::new(vec![0.0], vec![0.5]).unwrap(),
            ],
            None,
            None,
            &region_of,
            &[20.0, 20.0, 10.0],
            &[1.0; 3],
            &[20.0, 20.0, 10.0],
        );
        (s, region_of, origin)
    }

    fn value(objective: RegionalObjective, region: usize) -> f64 {
        let (s, region_of, origin) = case();
        objective_value(
            objective,
            WelfareKind::Utilitarian,
            region,
            &s,
            &region_of,
            &origin,
            &[1.0; 3],
        )
    }

    #[test]
    fn each_objective_scores_the_hand_computed_group() {
        // Per capita: region 0's one resident (50); region 1's two (200).
        assert_eq!(value(RegionalObjective::PerCapita, 0), 50.0);
        assert_eq!(value(RegionalObjective::PerCapita, 1), 200.0);
        // Residents: times the population, 50 x 1 and 200 x 2.
        assert_eq!(value(RegionalObjective::Residents, 0), 50.0);
        assert_eq!(value(RegionalObjective::Residents, 1), 400.0);
        // Original residents: region 0 was home to workers 0 (now at 200 in region 1) and 2
        // (50): mean 125; region 1 to worker 1 alone (200).
        assert_eq!(value(RegionalObjective::OriginalResidents, 0), 125.0);
        assert_eq!(value(RegionalObjective::OriginalResidents, 1), 200.0);
        // National: (200 + 200 + 50) / 3 = 150 for both.
        assert_eq!(value(RegionalObjective::National, 0), 150.0);
        assert_eq!(value(RegionalObjective::National, 1), 150.0);
    }

    #[test]
    fn only_original_residents_is_blind_to_who_moved_in() {
        // Worker 1 moves from region 1 to region 0 with the same outcome as before (a
        // settlement is rebuilt by hand: only the residence changes). Region 0's per-capita
        // score now averages a newcomer; its original residents' score cannot change.
        let (s, _, origin) = case();
        let moved = vec![1, 0, 0];
        let stay = objective_value(
            RegionalObjective::OriginalResidents,
            WelfareKind::Utilitarian,
            0,
            &s,
            &[1, 1, 0],
            &origin,
            &[1.0; 3],
        );
        let after = objective_value(
            RegionalObjective::OriginalResidents,
            WelfareKind::Utilitarian,
            0,
            &s,
            &moved,
            &origin,
            &[1.0; 3],
        );
        assert_eq!(stay, after);
        let residents_before = objective_value(
            RegionalObjective::Residents,
            WelfareKind::Utilitarian,
            0,
            &s,
            &[1, 1, 0],
            &origin,
            &[1.0; 3],
        );
        let residents_after = objective_value(
            RegionalObjective::Residents,
            WelfareKind::Utilitarian,
            0,
            &s,
            &moved,
            &origin,
            &[1.0; 3],
        );
        assert_eq!(residents_after, 2.0 * residents_before);
    }
}
