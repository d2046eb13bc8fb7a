//! Rank matching: the rank score that mixes the persona index with noise at a chosen
//! correlation, the standard normal draw behind it, and the assignment of sorted income draws
//! to agents by score.

/// The default persona weight: the correlation between an agent's rank score and her persona
/// index. Calibrated on 10^6 agents so the Management / Food-preparation median ratio, the
/// women / men ratio and the 16-24 / 35-44 ratio come out near the published figures (README,
/// "Realistic people"). 0.40^2 = 16 % of the score's variance comes from the persona, close to
/// the ~13 % of Var(ln income) that occupation, age and sex explain in the published tables.
pub const DEFAULT_PERSONA_WEIGHT: f64 = 0.40;

/// The rank score: `weight * standardised index + sqrt(1 - weight^2) * z`, `z` a standard
/// normal draw. With `weight` in [0, 1] the score has unit variance and correlation `weight`
/// with the persona index; 0 makes incomes independent of the persona.
pub fn rank_score(standardised_index: f64, weight: f64, z: f64) -> f64 {
    let w = weight.clamp(0.0, 1.0);
    w * standardised_index + (1.0 - w * w).sqrt() * z
}

/// A standard normal from two uniforms in (0, 1] x [0, 1) (Box-Muller, cosine branch): exact,
/// cheap, and deterministic from the two numbers.
pub fn standard_normal(u1: f64, u2: f64) -> f64 {
    let u1 = u1.clamp(f64::MIN_POSITIVE, 1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Rank matching: sorts `draws` and gives the k-th highest to the agent with the k-th highest
/// score; equal scores go to the lower agent id first. Returns incomes by agent id (a
/// permutation of `draws`). NaN scores rank lowest.
pub fn rank_match(draws: Vec<f64>, scores: &[f64]) -> Vec<f64> {
    let n = draws.len().min(scores.len()).min(u32::MAX as usize);
    // Descending keys: a stable ascending sort by `!ordered_bits` puts the highest value first
    // and keeps equal values in id order.
    let by_key = |values: &[f64]| -> Vec<(u64, u32)> {
        let mut pairs: Vec<(u64, u32)> = values[..n]
            .iter()
            .enumerate()
            .map(|(id, &v)| {
                let v = if v.is_nan() { f64::NEG_INFINITY } else { v };
                (!ordered_bits(v), id as u32)
            })
            .collect();
        radix_sort(&mut pairs);
        pairs
    };
    let draws_desc = by_key(&draws);
    let order = by_key(scores);
    let mut incomes = vec![0.0; n];
    for (&(_, from), &(_, to)) in draws_desc.iter().zip(&order) {
        incomes[to as usize] = draws[from as usize];
    }
    incomes
}

/// Maps an f64 to a u64 whose unsigned order is the float's total order.
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

/// Stable LSD radix sort by the u64 key, one byte per pass (passes where every key has the
/// same byte are skipped). Linear time: a million keys sort several times faster than a
/// comparison sort, which keeps `Population::generate` and the 10^6-agent tests fast.
fn radix_sort(items: &mut Vec<(u64, u32)>) {
    let mut buffer = vec![(0u64, 0u32); items.len()];
    for pass in 0..8 {
        let shift = pass * 8;
        let mut counts = [0usize; 256];
        for &(key, _) in items.iter() {
            counts[((key >> shift) & 0xff) as usize] += 1;
        }
        if counts.contains(&items.len()) {
            continue;
        }
        let mut offset = 0;
        for c in counts.iter_mut() {
            let here = *c;
            *c = offset;
            offset += here;
        }
        for &item in items.iter() {
            let byte = ((item.0 >> shift) & 0xff) as usize;
            buffer[counts[byte]] = item;
            counts[byte] += 1;
        }
        std::mem::swap(items, &mut buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_score_weights() {
        assert_eq!(rank_score(2.0, 0.0, -0.5), -0.5);
        assert_eq!(rank_score(2.0, 1.0, -0.5), 2.0);
        // w = 0.6: 0.6 * 2 + 0.8 * (-0.5) = 0.8
        assert!((rank_score(2.0, 0.6, -0.5) - 0.8).abs() < 1e-15);
        assert_eq!(rank_score(2.0, 7.0, -0.5), 2.0); // clamped into [0, 1]
    }

    #[test]
    fn box_muller_is_standard_normal() {
        // u1 = e^-2 gives radius 2; u2 = 0 gives cos 0 = 1; u2 = 1/2 gives -1.
        assert!((standard_normal((-2.0f64).exp(), 0.0) - 2.0).abs() < 1e-12);
        assert!((standard_normal((-2.0f64).exp(), 0.5) + 2.0).abs() < 1e-12);
        assert!(standard_normal(0.0, 0.0).is_finite());
        // Moments on a grid of uniforms.
        let k = 400;
        let (mut s1, mut s2) = (0.0, 0.0);
        for i in 0..k {
            for j in 0..k {
                let z = standard_normal((i as f64 + 0.5) / k as f64, (j as f64 + 0.5) / k as f64);
                s1 += z;
                s2 += z * z;
            }
        }
        let n = (k * k) as f64;
        assert!((s1 / n).abs() < 1e-3, "mean {}", s1 / n);
        assert!((s2 / n - 1.0).abs() < 1e-2, "var {}", s2 / n);
    }

    #[test]
    fn rank_match_orders_by_score_and_breaks_ties_by_id() {
        let draws = vec![10.0, 30.0, 20.0, 40.0, 50.0];
        let scores = [0.5, -1.0, 0.5, f64::NAN, 2.0];
        let incomes = rank_match(draws, &scores);
        // order: id 4 (2.0) -> 50, id 0 (0.5, lower id) -> 40, id 2 (0.5) -> 30,
        // id 1 (-1.0) -> 20, id 3 (NaN, lowest) -> 10.
        assert_eq!(incomes, vec![40.0, 20.0, 30.0, 10.0, 50.0]);
    }

    #[test]
    fn ordered_bits_and_radix_sort_agree_with_total_order() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -0.0,
            0.0,
            1e-300,
            3.0,
            7e200,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(ordered_bits(w[0]) < ordered_bits(w[1]), "{} {}", w[0], w[1]);
        }
        // A shuffled sample with duplicate keys: sorted and stable (equal keys keep id order).
        let mut pairs: Vec<(u64, u32)> = (0..1000u32)
            .map(|i| {
                (
                    u64::from(i.wrapping_mul(2_654_435_761) % 97) << 40 | u64::from(i % 3),
                    i,
                )
            })
            .collect();
        let mut expected = pairs.clone();
        expected.sort_by_key(|&(k, _)| k); // std's stable sort
        radix_sort(&mut pairs);
        assert_eq!(pairs, expected);
    }
}
