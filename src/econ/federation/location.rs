//! What living in a region is worth beyond consumption and leisure: a worker's location
//! utility (her taste for the region, its amenity, the moving cost in the step she arrived),
//! the welfare with it, and the closed form of the first choice's expected surplus.
//!
//! Why it is reported: the taste surplus of choosing one's region is part of what mobility
//! gives workers (about 9 % of welfare at K = 2 under high mobility), so welfare without it
//! overstates what mobility costs.

use super::FederalSettlement;
use crate::econ::{WelfareKind, social_welfare};

/// What living in region `r` is worth to a worker beyond her consumption and leisure, in the
/// utility units of the comparison that moved her: the region's amenity, her taste for it
/// (`taste_scale` times her standard Gumbel draw), less the moving cost in the step she
/// arrived.
pub fn location_utility(
    amenity: f64,
    taste_scale: f64,
    taste: f64,
    moving_cost: f64,
    arrived: bool,
) -> f64 {
    amenity + taste_scale * taste - if arrived { moving_cost } else { 0.0 }
}

/// The expected location surplus of a worker's first choice over staying, with equal regions
/// otherwise: `sigma * ln(1 + (K - 1) e^(-m / sigma))` (the log-sum of the logit choice, less
/// the home region's expected taste).
pub fn expected_first_choice_surplus(taste_scale: f64, regions: usize, moving_cost: f64) -> f64 {
    if taste_scale <= 0.0 {
        return 0.0;
    }
    taste_scale * (1.0 + (regions as f64 - 1.0) * (-moving_cost / taste_scale).exp()).ln()
}

/// The welfare function over each worker's utility plus her `location` utility (by id): the
/// nation's, and each region's over its residents (`groups`, in id order).
pub fn welfare_with_location(
    kind: WelfareKind,
    settled: &FederalSettlement,
    groups: &[Vec<u32>],
    weights: &[f64],
    location: &[f64],
) -> (f64, Vec<f64>) {
    let n = &settled.national;
    let with: Vec<f64> = n
        .utilities
        .iter()
        .zip(location)
        .map(|(u, l)| u + l)
        .collect();
    let pick =
        |ids: &[u32], v: &[f64]| -> Vec<f64> { ids.iter().map(|&i| v[i as usize]).collect() };
    let regions = groups
        .iter()
        .map(|ids| {
            social_welfare(
                kind,
                &pick(ids, &with),
                &pick(ids, weights),
                &pick(ids, &n.incomes),
            )
        })
        .collect();
    (social_welfare(kind, &with, weights, &n.incomes), regions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::econ::TaxSchedule;
    use crate::econ::federation::{choose_region, gumbel, settle_regions, tastes};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn location_utility_by_hand() {
        assert_eq!(location_utility(3.0, 2.0, 0.5, 10.0, false), 4.0);
        assert_eq!(location_utility(3.0, 2.0, 0.5, 10.0, true), -6.0);
    }

    #[test]
    fn the_first_choice_earns_the_closed_form_surplus() {
        // 40,000 workers at home in region 0 of K = 3 equal regions, sigma 2, cost 1: each
        // chooses the largest sigma * eps_s - m [s != 0]. Her mean location utility less her
        // home taste's mean (sigma times Euler's gamma) is sigma ln(1 + 2 e^(-1/2)).
        let (sigma, m, k, n) = (2.0, 1.0, 3, 40_000);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut total = 0.0;
        for _ in 0..n {
            let t = tastes(&mut rng, k);
            let to = choose_region(0, &[0.0; 3], &t, sigma, m);
            total += location_utility(0.0, sigma, t[to], m, to != 0);
        }
        let euler_gamma = 0.577_215_664_901_532_9;
        let surplus = total / n as f64 - sigma * euler_gamma;
        let closed = expected_first_choice_surplus(sigma, k, m);
        assert!((closed - 2.0 * (1.0 + 2.0 * (-0.5f64).exp()).ln()).abs() < 1e-12);
        // The taste's standard deviation is sigma pi / sqrt 6 = 2.57: four standard errors of
        // the mean over 40,000 workers are 0.05.
        assert!((surplus - closed).abs() < 0.05, "{surplus} vs {closed}");
        assert_eq!(expected_first_choice_surplus(0.0, 3, 1.0), 0.0);
        // The draws are Gumbel: gumbel(e^-1) = 0.
        assert!(gumbel((-1f64).exp()).abs() < 1e-12);
    }

    #[test]
    fn welfare_with_location_adds_each_workers_location_to_her_utility() {
        // Two regions, flat 20 % and 50 %, utilitarian: utilities 50 (worker 2, region 0) and
        // 200 (workers 0 and 1, region 1) as in the settlement tests. Location utilities 10,
        // -20 and 4: region 0's 54, region 1's (210 + 180) / 2 = 195, the nation's 444 / 3.
        let params = crate::econ::world::hand_world();
        let s = settle_regions(
            &params,
            &[
                TaxSchedule::new(vec![0.0], vec![0.2]).unwrap(),
                TaxSchedule::new(vec![0.0], vec![0.5]).unwrap(),
            ],
            None,
            None,
            &[1, 1, 0],
            &[20.0, 20.0, 10.0],
            &[1.0; 3],
            &[20.0, 20.0, 10.0],
        );
        let (nation, regions) = welfare_with_location(
            WelfareKind::Utilitarian,
            &s,
            &[vec![2], vec![0, 1]],
            &[1.0; 3],
            &[10.0, -20.0, 4.0],
        );
        assert_eq!(regions, vec![54.0, 195.0]);
        assert!((nation - 444.0 / 3.0).abs() < 1e-9, "{nation}");
    }
}
