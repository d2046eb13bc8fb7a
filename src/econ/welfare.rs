//! Social welfare functions the planner can maximise, and their exogenous per-person weights.
//!
//! The paper's default objective weights utility by 1/realized income, which makes the planner's
//! target depend on the workers' own choices (and lets a zero earner dominate the sum); the
//! default here weights by 1/potential income, which is fixed by skill. The paper's form is kept
//! for replication.

use super::stats::mean;

/// Hours at which potential income is measured (the census income is income at 40 hours).
const POTENTIAL_HOURS: f64 = 40.0;

/// Potential incomes below this (dollars) are floored so a zero-skill worker gets a large but
/// finite weight.
const POTENTIAL_INCOME_FLOOR: f64 = 1.0;

/// Floor used by [`WelfareKind::InverseRealizedIncome`] when the configured floor is not a
/// positive number (Engine S's value).
const DEFAULT_REALIZED_FLOOR: f64 = 1.0;

/// Which social welfare function to evaluate.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum WelfareKind {
    /// Each worker's utility weighted by 1/(potential income), weights normalized to mean 1;
    /// SWF = mean(w_i * u_i). Potential income = skill*40 (exogenous).
    InversePotentialIncome,
    /// The paper's: SWF = sum_i u_i / max(z_i, floor)  (a SUM over workers, weights depend on
    /// realized income z_i). Replication only. A non-positive or NaN floor is replaced by 1.0.
    InverseRealizedIncome { floor: f64 },
    /// mean(u_i)
    Utilitarian,
    /// min(u_i)
    Rawlsian,
}

/// Income at 40 hours: `skill * 40`.
pub fn potential_income(skill: f64) -> f64 {
    skill * POTENTIAL_HOURS
}

/// Exogenous weights for the population, one per skill.
///
/// InversePotentialIncome: `1/max(potential, $1)`, normalized to mean 1. Utilitarian and
/// Rawlsian: all 1. InverseRealizedIncome: all 1 here, because its weights depend on realized
/// incomes and are applied inside [`social_welfare`].
pub fn welfare_weights(kind: WelfareKind, skills: &[f64]) -> Vec<f64> {
    match kind {
        WelfareKind::InversePotentialIncome => {
            let raw: Vec<f64> = skills
                .iter()
                .map(|&v| 1.0 / potential_income(v).max(POTENTIAL_INCOME_FLOOR))
                .collect();
            let scale = mean(&raw);
            raw.iter().map(|w| w / scale).collect()
        }
        WelfareKind::InverseRealizedIncome { .. }
        | WelfareKind::Utilitarian
        | WelfareKind::Rawlsian => vec![1.0; skills.len()],
    }
}

/// Evaluate the welfare function. `weights` (from [`welfare_weights`]) is read only by
/// InversePotentialIncome, `incomes` (pre-tax realized) only by InverseRealizedIncome; entries
/// beyond the shorter of the paired slices are ignored. Sums run in index order so results are
/// bit-for-bit reproducible. An empty population has welfare 0.
pub fn social_welfare(
    kind: WelfareKind,
    utilities: &[f64],
    weights: &[f64],
    incomes: &[f64],
) -> f64 {
    match kind {
        WelfareKind::InversePotentialIncome => {
            let n = utilities.len().min(weights.len());
            if n == 0 {
                return 0.0;
            }
            let total: f64 = utilities.iter().zip(weights).map(|(u, w)| u * w).sum();
            total / n as f64
        }
        WelfareKind::InverseRealizedIncome { floor } => {
            let floor = if floor > 0.0 {
                floor
            } else {
                DEFAULT_REALIZED_FLOOR
            };
            utilities
                .iter()
                .zip(incomes)
                .map(|(u, z)| u / z.max(floor))
                .sum()
        }
        WelfareKind::Utilitarian => mean(utilities),
        WelfareKind::Rawlsian => {
            if utilities.is_empty() {
                0.0
            } else {
                utilities.iter().copied().fold(f64::INFINITY, f64::min)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_potential_weights_by_hand() {
        // skills 10, 20, 40 -> potentials 400, 800, 1,600 -> raw 1/400, 1/800, 1/1600
        // = (4, 2, 1)/1600, mean 7/4800 -> normalized (4, 2, 1) * 3/7 = 12/7, 6/7, 3/7.
        let w = welfare_weights(WelfareKind::InversePotentialIncome, &[10.0, 20.0, 40.0]);
        let expected = [12.0 / 7.0, 6.0 / 7.0, 3.0 / 7.0];
        for (a, b) in w.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{w:?}");
        }
        assert!((mean(&w) - 1.0).abs() < 1e-15);
        // zero skill is floored at $1 potential rather than producing an infinite weight
        let w = welfare_weights(WelfareKind::InversePotentialIncome, &[0.0, 1.0]);
        assert!(w.iter().all(|x| x.is_finite()));
        assert_eq!(
            welfare_weights(WelfareKind::Rawlsian, &[3.0, 4.0]),
            vec![1.0, 1.0]
        );
        assert!(welfare_weights(WelfareKind::InversePotentialIncome, &[]).is_empty());
    }

    #[test]
    fn welfare_values_by_hand() {
        let u = [100.0, 50.0, -10.0];
        let w = [12.0 / 7.0, 6.0 / 7.0, 3.0 / 7.0];
        let z = [0.0, 500.0, 2_000.0];
        // (100*12 + 50*6 - 10*3)/7 / 3 = (1,200 + 300 - 30)/21 = 1,470/21 = 70
        let swf = social_welfare(WelfareKind::InversePotentialIncome, &u, &w, &z);
        assert!((swf - 70.0).abs() < 1e-12);
        // 100/max(0,1) + 50/500 - 10/2,000 = 100 + 0.1 - 0.005 = 100.095
        let swf = social_welfare(
            WelfareKind::InverseRealizedIncome { floor: 1.0 },
            &u,
            &w,
            &z,
        );
        assert!((swf - 100.095).abs() < 1e-12);
        // floor 1,000: 100/1,000 + 50/1,000 - 10/2,000 = 0.1 + 0.05 - 0.005 = 0.145
        let swf = social_welfare(
            WelfareKind::InverseRealizedIncome { floor: 1_000.0 },
            &u,
            &w,
            &z,
        );
        assert!((swf - 0.145).abs() < 1e-12);
        // a nonsense floor falls back to 1.0
        let swf = social_welfare(
            WelfareKind::InverseRealizedIncome { floor: -3.0 },
            &u,
            &w,
            &z,
        );
        assert!((swf - 100.095).abs() < 1e-12);
        // (100 + 50 - 10)/3 = 46.67
        let swf = social_welfare(WelfareKind::Utilitarian, &u, &w, &z);
        assert!((swf - 140.0 / 3.0).abs() < 1e-12);
        assert_eq!(social_welfare(WelfareKind::Rawlsian, &u, &w, &z), -10.0);
        assert_eq!(social_welfare(WelfareKind::Rawlsian, &[], &[], &[]), 0.0);
        assert_eq!(
            social_welfare(WelfareKind::InversePotentialIncome, &[], &[], &[]),
            0.0
        );
    }
}
