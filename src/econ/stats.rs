//! Descriptive statistics used in metrics and by the Saez baseline: mean and Gini coefficient.

/// Arithmetic mean, summed in index order for determinism; 0 for an empty slice.
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// The median (the mean of the two middle values for an even count; 0 when empty).
pub fn median(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Gini coefficient of non-negative values (any order): sorts a copy with `f64::total_cmp` and
/// calls [`gini_sorted`].
pub fn gini(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    gini_sorted(&sorted)
}

/// Gini coefficient of values already sorted ascending:
/// `G = 2 * sum_i i * x_(i) / (n * sum x) - (n + 1) / n` with `i = 1..n`.
/// 0 if the sum is 0 or there are fewer than two values.
pub fn gini_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    let total: f64 = sorted.iter().sum();
    if n < 2 || total == 0.0 {
        return 0.0;
    }
    let weighted: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| (i + 1) as f64 * x)
        .sum();
    let n = n as f64;
    2.0 * weighted / (n * total) - (n + 1.0) / n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn means() {
        assert_eq!(mean(&[]), 0.0);
        // (1 + 2 + 6) / 3 = 3
        assert_eq!(mean(&[1.0, 2.0, 6.0]), 3.0);
    }

    #[test]
    fn gini_hand_values() {
        // equal: sum i*x = 1+2+3+4 = 10, sum = 4: 2*10/(4*4) - 5/4 = 1.25 - 1.25 = 0
        assert!(gini(&[1.0, 1.0, 1.0, 1.0]).abs() < 1e-15);
        // one holds all: sum i*x = 4*1 = 4, sum = 1: 2*4/(4*1) - 5/4 = 2 - 1.25 = 0.75
        assert!((gini(&[0.0, 1.0, 0.0, 0.0]) - 0.75).abs() < 1e-15);
        // 1..4: sum i*x = 1+4+9+16 = 30, sum = 10: 60/40 - 1.25 = 0.25 (input unsorted on purpose)
        assert!((gini(&[3.0, 1.0, 4.0, 2.0]) - 0.25).abs() < 1e-15);
        assert!((gini_sorted(&[1.0, 2.0, 3.0, 4.0]) - 0.25).abs() < 1e-15);
        assert_eq!(gini(&[5.0]), 0.0);
        assert_eq!(gini(&[0.0, 0.0]), 0.0);
        assert_eq!(gini(&[]), 0.0);
    }

    proptest! {
        #[test]
        fn gini_is_bounded_and_scale_free(xs in proptest::collection::vec(0.0f64..1e6, 2..50), k in 0.1f64..100.0) {
            let g = gini(&xs);
            let n = xs.len() as f64;
            // 0 <= G <= (n-1)/n for non-negative data
            prop_assert!(g >= -1e-12 && g <= (n - 1.0) / n + 1e-12);
            let scaled: Vec<f64> = xs.iter().map(|x| x * k).collect();
            prop_assert!((gini(&scaled) - g).abs() < 1e-9);
        }
    }
}
