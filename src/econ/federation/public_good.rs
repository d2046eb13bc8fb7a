//! Local public goods (Tiebout 1956; Oates 1972): each region provides a good to its
//! residents, paid for out of its revenue before the rebate, and each worker values it by her
//! own taste.
//!
//! Worker i living in region r with provision G_r (dollars per resident per step) gains
//! `theta_i * sqrt(G_r)` and pays `G_r` of her rebate (a head tax where the region's revenue
//! falls short), so under quasi-linear utility her utility changes by
//! `theta_i * sqrt(G_r) - G_r`. The provision rule is Samuelson's for that valuation: the
//! level that maximizes the residents' summed utility, `sum_i theta_i / (2 sqrt(G)) = m`, that
//! is `G = (mean theta / 2)^2` over the residents it serves.
//!
//! - "local": each region provides for its own residents' mean taste (decentralized);
//! - "central": every region provides the one level set for the nation's mean taste (the
//!   uniform provision of a central government, Oates' benchmark).
//!
//! With mean tastes that differ between regions and no spillovers, local provision serves
//! each region what its residents want and beats the uniform level (Oates' decentralization
//! theorem); with equal mean tastes the two differ only by the regions' sampled means.

use serde::{Deserialize, Serialize};

use crate::econ::{Settlement, WorldParams, social_welfare, stats};

/// How a federation's regions provide their public good.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProvisionRule {
    /// No public good: every region rebates all its revenue.
    #[default]
    None,
    /// Each region provides the Samuelson level for its own residents.
    Local,
    /// Every region provides the Samuelson level for the whole nation.
    Central,
}

impl ProvisionRule {
    pub fn is_none(&self) -> bool {
        *self == ProvisionRule::None
    }
}

/// A federation's public goods: the rule and every worker's taste, by worker id.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicGoods {
    pub rule: ProvisionRule,
    /// Each worker's taste theta_i >= 0 (utility per square root of a dollar of provision).
    pub tastes: Vec<f64>,
}

/// The Samuelson level of a per-resident good valued `theta * sqrt(G)` by quasi-linear
/// residents whose tastes are `tastes`: `(mean theta / 2)^2`; 0 for nobody.
pub fn samuelson_level(tastes: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = tastes.fold((0.0, 0usize), |(s, c), t| (s + t, c + 1));
    level_of(sum, count)
}

/// The Samuelson level of `count` residents whose tastes sum to `sum`.
fn level_of(sum: f64, count: usize) -> f64 {
    if count == 0 {
        return 0.0;
    }
    let half_mean = sum / count as f64 / 2.0;
    half_mean * half_mean
}

/// Each of `k` regions' provision per resident when everyone lives where `region_of` says. A
/// region nobody lives in provides nothing under "local" (there is nobody to provide for);
/// under "central" every region provides the nation's level.
pub fn provision(goods: &PublicGoods, region_of: &[u32], k: usize) -> Vec<f64> {
    match goods.rule {
        ProvisionRule::None => vec![0.0; k],
        ProvisionRule::Central => vec![samuelson_level(goods.tastes.iter().copied()); k],
        ProvisionRule::Local => {
            let mut sums = vec![0.0; k];
            let mut counts = vec![0usize; k];
            for (&t, &r) in goods.tastes.iter().zip(region_of) {
                sums[r as usize] += t;
                counts[r as usize] += 1;
            }
            sums.iter()
                .zip(&counts)
                .map(|(&s, &c)| level_of(s, c))
                .collect()
        }
    }
}

/// What the good is worth to a worker of taste `theta` under provision `g`: `theta * sqrt(g)`.
pub fn valuation(theta: f64, g: f64) -> f64 {
    theta * g.max(0.0).sqrt()
}

/// The same net of its cost to her (her share `g` of the rebate): `theta * sqrt(g) - g`, in
/// quasi-linear utility.
pub fn net_value(theta: f64, g: f64) -> f64 {
    valuation(theta, g) - g
}

/// A region's settlement with a public good of `g` per resident: the rebate pays for it
/// first (it falls by `g`, below 0 as a head tax when revenue falls short), and each
/// resident's utility changes by her net valuation (quasi-linear utility, which validation
/// requires), so the region's welfare is taken anew.
pub(super) fn provide(
    params: &WorldParams,
    s: &mut Settlement,
    g: f64,
    tastes: &[f64],
    weights: &[f64],
) {
    if s.utilities.is_empty() {
        return;
    }
    s.rebate -= g;
    for (u, &theta) in s.utilities.iter_mut().zip(tastes) {
        *u += net_value(theta, g);
    }
    s.mean_utility = stats::mean(&s.utilities);
    s.welfare = social_welfare(params.welfare, &s.utilities, weights, &s.incomes);
}

/// Each worker's taste for the public good: her starting region's mean taste times a uniform
/// draw on [0, 2) from her own stream (`u`), so tastes differ between regions (by their means)
/// and within them.
pub fn taste(region_mean: f64, u: f64) -> f64 {
    region_mean * 2.0 * u
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::econ::TaxSchedule;

    #[test]
    fn the_samuelson_level_maximizes_the_residents_summed_utility() {
        // Tastes 10 and 30: mean 20, G = 100. Summed net value 40 * 10 - 2 * 100 = 200; at 81
        // or 121 it is lower (360 - 162 = 198, 440 - 242 = 198).
        let g = samuelson_level([10.0, 30.0].into_iter());
        assert_eq!(g, 100.0);
        let total = |g: f64| net_value(10.0, g) + net_value(30.0, g);
        assert_eq!(total(g), 200.0);
        assert!(total(81.0) < 200.0 && total(121.0) < 200.0);
        assert_eq!(samuelson_level(std::iter::empty()), 0.0);
    }

    #[test]
    fn local_provision_follows_each_regions_residents_and_central_the_nation() {
        let goods = |rule| PublicGoods {
            rule,
            tastes: vec![40.0, 40.0, 0.0, 0.0],
        };
        let at = [0, 0, 1, 1];
        // Region 0's mean taste 40 -> (20)^2 = 400; region 1's 0 -> 0; the nation's 20 -> 100.
        assert_eq!(
            provision(&goods(ProvisionRule::Local), &at, 2),
            [400.0, 0.0]
        );
        assert_eq!(
            provision(&goods(ProvisionRule::Central), &at, 2),
            [100.0, 100.0]
        );
        assert_eq!(provision(&goods(ProvisionRule::None), &at, 2), [0.0, 0.0]);
        // An empty region provides nothing locally.
        assert_eq!(
            provision(&goods(ProvisionRule::Local), &[0, 0, 0, 0], 2),
            [100.0, 0.0]
        );
    }

    #[test]
    fn oates_local_provision_beats_uniform_provision_with_tastes_that_differ() {
        // Two residents of taste 40 in region 0, two of taste 0 in region 1, nobody moves.
        // Local: region 0 gets 400 (each gains 40 * 20 - 400 = 400), region 1 gets 0: 800 in
        // all. Central: 100 everywhere: 2 * (40 * 10 - 100) + 2 * (0 - 100) = 400.
        let tastes = [40.0, 40.0, 0.0, 0.0];
        let at = [0u32, 0, 1, 1];
        let total = |rule| {
            let goods = PublicGoods {
                rule,
                tastes: tastes.to_vec(),
            };
            let g = provision(&goods, &at, 2);
            tastes
                .iter()
                .zip(at)
                .map(|(&t, r)| net_value(t, g[r as usize]))
                .sum::<f64>()
        };
        assert_eq!(total(ProvisionRule::Local), 800.0);
        assert_eq!(total(ProvisionRule::Central), 400.0);
        // With the same tastes everywhere the two rules provide the same.
        let same = PublicGoods {
            rule: ProvisionRule::Local,
            tastes: vec![20.0; 4],
        };
        let central = PublicGoods {
            rule: ProvisionRule::Central,
            ..same.clone()
        };
        assert_eq!(provision(&same, &at, 2), provision(&central, &at, 2));
    }

    #[test]
    fn a_public_good_is_paid_from_the_rebate_and_valued_by_each_residents_taste() {
        // settlement.rs's first two-region case with local public goods. Region 0: worker 0,
        // taste 8 -> G = 16, rebate 20 - 16 = 4, u0 = 50 + 8 * 4 - 16 = 66. Region 1: tastes
        // 10 and 30 -> mean 20, G = 100, rebate 200 - 100 = 100, u1 = 200 + 10 * 10 - 100 =
        // 200, u2 = 200 + 30 * 10 - 100 = 400. Revenue is unchanged; rebates paid 4 + 2 * 100.
        let schedules = [
            TaxSchedule::new(vec![0.0], vec![0.2]).unwrap(),
            TaxSchedule::new(vec![0.0], vec![0.5]).unwrap(),
        ];
        let settle = |tastes: Vec<f64>| {
            let goods = PublicGoods {
                rule: ProvisionRule::Local,
                tastes,
            };
            super::super::settle_regions(
                &crate::econ::world::hand_world(),
                &schedules,
                None,
                Some(&goods),
                &[0, 1, 1],
                &[10.0, 20.0, 20.0],
                &[1.0; 3],
                &[10.0, 20.0, 20.0],
            )
        };
        let f = settle(vec![8.0, 10.0, 30.0]);
        assert_eq!(f.provision, vec![16.0, 100.0]);
        assert_eq!((f.regions[0].rebate, f.regions[1].rebate), (4.0, 100.0));
        assert_eq!(f.national.utilities, vec![66.0, 200.0, 400.0]);
        assert_eq!(f.regions[1].welfare, 300.0);
        assert_eq!(f.national.revenue, 420.0);
        assert_eq!(f.national.rebate, 68.0);
        // A good costlier than the revenue per resident is a head tax: a taste of 60 asks for
        // G = 900 in region 0, whose rebate of 20 becomes -880.
        let f = settle(vec![60.0, 10.0, 30.0]);
        assert_eq!(f.regions[0].rebate, -880.0);
        // u0 = 100 - 20 - 880 - 50 + 60 * 30 = 950.
        assert_eq!(f.national.utilities[0], 950.0);
    }

    #[test]
    fn tastes_have_their_regions_mean() {
        assert_eq!(taste(30.0, 0.5), 30.0);
        assert_eq!(taste(30.0, 0.0), 0.0);
        assert_eq!(taste(0.0, 0.9), 0.0);
    }
}
