//! Mobility between regions. A worker i in region r values region s at
//! `V_is = U_i(schedule_s, rebate_s) + amenity_s + sigma * eps_is - m * [s != r]`
//! (McFadden's conditional logit: with eps i.i.d. Gumbel, the share of equal workers choosing
//! s is `exp(W_s / sigma) / sum_k exp(W_k / sigma)`); the segregation index measures how far
//! the moves sort incomes by region.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::econ::{TaxSchedule, WorldParams, best_response, stats};

/// A worker's own utility in a region: her exact best response to its schedule and rebate.
pub fn region_utility(
    params: &WorldParams,
    skill: f64,
    schedule: &TaxSchedule,
    rebate: f64,
) -> f64 {
    let l = best_response(&params.form, skill, schedule, rebate, params.max_hours);
    let z = skill * l;
    params.form.utility(z - schedule.tax(z) + rebate, l)
}

/// Each worker's taste scale when mobility differs by skill (`federation.mobility_by_skill`
/// = b): `sigma * exp(-b * (q - 1/2))`, where q is her skill's percentile in the population
/// ((rank + 1/2) / n, ties in id order). With b > 0 the high-skilled weigh their tastes less
/// against money, so they move more readily (the more mobile tax base of Kleven, Landais and
/// Saez 2013): at b = 2 the top's scale is sigma / e and the bottom's sigma * e. Percentiles,
/// not skill ratios, keep the scales within those bounds whatever the skill distribution's
/// tails. b = 0 gives everyone `sigma`, exactly.
pub fn taste_scales(sigma: f64, skills: &[f64], b: f64) -> Vec<f64> {
    let n = skills.len();
    if b == 0.0 || n == 0 {
        return vec![sigma; n];
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &c| skills[a].total_cmp(&skills[c]).then(a.cmp(&c)));
    let mut scales = vec![sigma; n];
    for (rank, &i) in order.iter().enumerate() {
        let q = (rank as f64 + 0.5) / n as f64;
        scales[i] = sigma * (-b * (q - 0.5)).exp();
    }
    scales
}

/// A standard Gumbel (type-I extreme value) draw from a uniform `u` in (0, 1).
pub fn gumbel(u: f64) -> f64 {
    -(-u.ln()).ln()
}

/// A worker's persistent tastes for `k` regions: standard Gumbel draws from her own stream
/// (the same every year, so nobody moves for the noise alone).
pub fn tastes(rng: &mut ChaCha8Rng, k: usize) -> Vec<f64> {
    (0..k)
        .map(|_| gumbel(rng.random_range(f64::MIN_POSITIVE..1.0)))
        .collect()
}

/// The region a worker living in `current` chooses: the largest
/// `values[s] + scale * tastes[s] - moving_cost * [s != current]`; ties keep her where she is,
/// then go to the lower region.
pub fn choose_region(
    current: usize,
    values: &[f64],
    tastes: &[f64],
    scale: f64,
    moving_cost: f64,
) -> usize {
    let score = |s: usize| {
        values[s] + scale * tastes.get(s).copied().unwrap_or(0.0)
            - if s == current { 0.0 } else { moving_cost }
    };
    let mut best = current;
    let mut best_score = score(current);
    for s in 0..values.len() {
        let v = score(s);
        if v > best_score {
            best = s;
            best_score = v;
        }
    }
    best
}

/// The logit shares `exp(w_s / scale) / sum_k exp(w_k / scale)` (computed stably): the
/// expected share of equal workers choosing each region, given `w` (values net of moving
/// costs).
pub fn logit_shares(w: &[f64], scale: f64) -> Vec<f64> {
    let top = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = w.iter().map(|x| ((x - top) / scale).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|x| x / sum).collect()
}

/// Income segregation across regions: the share of the variance of incomes that lies between
/// the regions' means (0: every region has the same mean income; 1: incomes differ only
/// across regions). 0 when incomes do not vary.
pub fn segregation_index(incomes: &[f64], region_of: &[u32], k: usize) -> f64 {
    let n = incomes.len();
    if n == 0 {
        return 0.0;
    }
    let mean = stats::mean(incomes);
    let total: f64 = incomes.iter().map(|y| (y - mean).powi(2)).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let mut sums = vec![0.0; k];
    let mut counts = vec![0usize; k];
    for (y, &r) in incomes.iter().zip(region_of) {
        sums[r as usize] += y;
        counts[r as usize] += 1;
    }
    let between: f64 = sums
        .iter()
        .zip(&counts)
        .filter(|(_, c)| **c > 0)
        .map(|(s, &c)| c as f64 * (s / c as f64 - mean).powi(2))
        .sum();
    between / total
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn params() -> WorldParams {
        crate::econ::world::hand_world()
    }

    #[test]
    fn region_utility_is_the_best_response_utility() {
        // Flat 20 %, c = 0.5, delta 2: l* = 0.8 * 10 / 1 = 8, z = 80, u = 64 + 5 - 32 = 37.
        let flat = TaxSchedule::new(vec![0.0], vec![0.2]).unwrap();
        let u = region_utility(&params(), 10.0, &flat, 5.0);
        assert!((u - 37.0).abs() < 1e-6, "{u}");
    }

    #[test]
    fn choice_pays_the_moving_cost_and_keeps_ties_home() {
        // Region 1 is better by 3: she moves when the cost is 2, stays when it is 3 (a tie).
        assert_eq!(choose_region(0, &[0.0, 3.0], &[0.0, 0.0], 1.0, 2.0), 1);
        assert_eq!(choose_region(0, &[0.0, 3.0], &[0.0, 0.0], 1.0, 3.0), 0);
        // A taste of 2 at scale 2 for region 0 outweighs region 1's edge of 3.
        assert_eq!(choose_region(1, &[0.0, 3.0], &[2.0, 0.0], 2.0, 0.0), 0);
    }

    #[test]
    fn logit_shares_by_hand() {
        // w = (0, ln 3) at scale 1: exp = (1, 3) -> (1/4, 3/4).
        let s = logit_shares(&[0.0, 3f64.ln()], 1.0);
        assert!((s[0] - 0.25).abs() < 1e-12 && (s[1] - 0.75).abs() < 1e-12);
        // Stable for large values.
        let s = logit_shares(&[1e6, 1e6], 1.0);
        assert_eq!(s, vec![0.5, 0.5]);
    }

    #[test]
    fn gumbel_draws_choose_as_the_logit_formula_says() {
        // 20,000 workers with values (0, 1) at scale 1 and no cost: P(1) = e/(1+e) = 0.7311.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 20_000;
        let moved = (0..n)
            .filter(|_| {
                let t = tastes(&mut rng, 2);
                choose_region(0, &[0.0, 1.0], &t, 1.0, 0.0) == 1
            })
            .count();
        let p = logit_shares(&[0.0, 1.0], 1.0)[1];
        let share = moved as f64 / n as f64;
        // Four standard errors: sqrt(0.73 * 0.27 / 20000) = 0.0031.
        assert!((share - p).abs() < 0.0125, "{share} vs {p}");
    }

    #[test]
    fn segregation_by_hand() {
        // Incomes 1, 3 | 5, 7: mean 4, total SS 9+1+1+9 = 20; region means 2 and 6, between
        // SS 2*4 + 2*4 = 16 -> 0.8.
        let s = segregation_index(&[1.0, 3.0, 5.0, 7.0], &[0, 0, 1, 1], 2);
        assert!((s - 0.8).abs() < 1e-12);
        // Mixed regions with equal means: 0.
        assert_eq!(
            segregation_index(&[1.0, 7.0, 3.0, 5.0], &[0, 0, 1, 1], 2),
            0.0
        );
        assert_eq!(segregation_index(&[2.0, 2.0], &[0, 1], 2), 0.0);
    }
}
