//! The rational worker: exact optimal hours under a piecewise-linear schedule, and the inverse map
//! from a target income to the skill that earns it (used to calibrate skills so that equilibrium
//! incomes under the US 2024 schedule reproduce the census draws).
//!
//! Method: within one bracket the marginal rate is constant, so utility is concave in hours on
//! that bracket's hour-interval and has a unique maximiser there. The global optimum is the best
//! of these per-bracket optima and the interval endpoints (kinks), which also handles non-convex
//! schedules whose utility is not globally concave.

use super::schedule::TaxSchedule;
use super::utility::{CONSUMPTION_FLOOR, UtilityForm};

/// Upper bound on weekly hours in the game's action space.
pub const MAX_HOURS: f64 = 100.0;

/// Bisection stops when the bracket is narrower than this many hours.
const HOURS_TOLERANCE: f64 = 1e-10;
/// Hard cap on bisection steps (a 100-hour interval halves below 1e-10 h in ~40 steps).
const MAX_BISECTIONS: usize = 100;

/// Consumption of a worker of `skill` working `hours`.
fn consumption(skill: f64, hours: f64, schedule: &TaxSchedule, rebate: f64) -> f64 {
    let income = skill * hours;
    income - schedule.tax(income) + rebate
}

/// The per-bracket maximiser of utility on `[lo, hi]` given marginal rate `rate`.
fn bracket_optimum(
    form: &UtilityForm,
    skill: f64,
    rate: f64,
    (lo, hi): (f64, f64),
    schedule: &TaxSchedule,
    rebate: f64,
) -> Vec<f64> {
    let net_wage = skill * (1.0 - rate);
    if net_wage <= 0.0 {
        // A 100 % bracket: more hours only cost, so the interval's best point is its start.
        return vec![lo];
    }
    match *form {
        UtilityForm::QuasiLinear { c, delta } => {
            let interior = (net_wage / (c * delta)).powf(1.0 / (delta - 1.0));
            vec![interior.clamp(lo, hi)]
        }
        UtilityForm::Crra { .. } => {
            // d u / d l = u'(x) * skill * (1-rate) - cost'(l). With u' evaluated at the floored
            // consumption this is non-increasing in l, so bisection finds its sign change. On
            // the floored stretch (x < floor) true utility is flat in x, so we also offer the
            // floor-crossing point; the caller evaluates true utility at every candidate.
            let slope = |l: f64| {
                form.marginal_consumption_utility(consumption(skill, l, schedule, rebate))
                    * net_wage
                    - form.marginal_labor_cost(l)
            };
            let mut candidates = Vec::with_capacity(2);
            let root = if slope(lo) <= 0.0 {
                lo
            } else if slope(hi) >= 0.0 {
                hi
            } else {
                let (mut a, mut b) = (lo, hi);
                for _ in 0..MAX_BISECTIONS {
                    if b - a <= HOURS_TOLERANCE {
                        break;
                    }
                    let mid = 0.5 * (a + b);
                    if slope(mid) > 0.0 {
                        a = mid;
                    } else {
                        b = mid;
                    }
                }
                0.5 * (a + b)
            };
            candidates.push(root);
            // Consumption is linear on the bracket: x(l) = x(lo) + net_wage * (l - lo).
            let x_lo = consumption(skill, lo, schedule, rebate);
            if x_lo < CONSUMPTION_FLOOR {
                let crossing = lo + (CONSUMPTION_FLOOR - x_lo) / net_wage;
                if crossing < hi {
                    candidates.push(crossing);
                }
            }
            candidates
        }
    }
}

/// Exact optimal hours in `[0, max_hours]` for a worker of `skill` (income z = skill*hours) facing
/// `schedule` with lump-sum `rebate` taken as given.
///
/// Every bracket's hour-interval `[b_j/skill, b_{j+1}/skill] ∩ [0, max_hours]` contributes its
/// endpoints (kinks) and its interior optimum (closed form for quasi-linear utility, bisection on
/// the derivative for CRRA); the candidate with the highest utility wins, ties going to fewer
/// hours. `skill <= 0` (or a non-finite input) gives 0 hours.
pub fn best_response(
    form: &UtilityForm,
    skill: f64,
    schedule: &TaxSchedule,
    rebate: f64,
    max_hours: f64,
) -> f64 {
    if !(skill > 0.0 && skill.is_finite() && max_hours > 0.0) || form.validate().is_err() {
        return 0.0;
    }
    let mut candidates = vec![0.0, max_hours];
    let cutoffs = schedule.cutoffs();
    for (j, &rate) in schedule.rates().iter().enumerate() {
        let lo = cutoffs[j] / skill;
        if lo > max_hours {
            break;
        }
        let hi = cutoffs
            .get(j + 1)
            .map_or(max_hours, |&b| (b / skill).min(max_hours));
        candidates.push(lo);
        candidates.push(hi);
        candidates.extend(bracket_optimum(
            form,
            skill,
            rate,
            (lo, hi),
            schedule,
            rebate,
        ));
    }
    candidates.sort_by(f64::total_cmp);
    let mut best_hours = 0.0;
    let mut best_utility = f64::NEG_INFINITY;
    for hours in candidates {
        let utility = form.utility(consumption(skill, hours, schedule, rebate), hours);
        // Strict `>` over ascending hours: ties keep the smaller number of hours.
        if utility > best_utility {
            best_utility = utility;
            best_hours = hours;
        }
    }
    best_hours
}

/// Income earned at the best response (rebate 0).
fn income_at(form: &UtilityForm, skill: f64, schedule: &TaxSchedule, max_hours: f64) -> f64 {
    skill * best_response(form, skill, schedule, 0.0, max_hours)
}

/// Inverse of the best response: the skill `v` whose best-response income `v * l*(v)` under
/// `schedule` (rebate 0) equals `income`. `income <= 0` gives 0.
///
/// Quasi-linear utility on a convex schedule (non-decreasing rates) uses the closed form: in
/// bracket j, `z = v^(delta/(delta-1)) * ((1-rate)/(c delta))^(1/(delta-1))`, inverted in the
/// bracket containing `income`; if the implied hours exceed `max_hours` the worker is at the cap
/// and `v = income / max_hours`; an income exactly at a kink gets the smallest skill that bunches
/// there (the previous bracket's formula). Everything else bisects on `v` for the smallest skill
/// whose best-response income reaches `income` (monotone for convex schedules). If no finite
/// skill reaches `income` (for example above a 100 % bracket), the largest skill tried is returned.
pub fn skill_for_income(
    form: &UtilityForm,
    income: f64,
    schedule: &TaxSchedule,
    max_hours: f64,
) -> f64 {
    if !(income > 0.0 && income.is_finite() && max_hours > 0.0) || form.validate().is_err() {
        return 0.0;
    }
    let convex = schedule.rates().windows(2).all(|r| r[0] <= r[1]);
    if let (UtilityForm::QuasiLinear { c, delta }, true) = (*form, convex) {
        let j = schedule.bracket_of(income);
        // At a kink the smallest skill reaching it is the one whose lower-bracket optimum lands
        // exactly on the kink.
        let j = if j > 0 && income == schedule.cutoffs()[j] {
            j - 1
        } else {
            j
        };
        let rate = schedule.rates()[j];
        if rate < 1.0 {
            let k = ((1.0 - rate) / (c * delta)).powf(1.0 / (delta - 1.0));
            let skill = (income / k).powf((delta - 1.0) / delta);
            return if income / skill > max_hours {
                income / max_hours
            } else {
                skill
            };
        }
    }
    bisect_skill(form, income, schedule, max_hours)
}

/// Smallest skill whose best-response income reaches `income`, by bisection.
fn bisect_skill(form: &UtilityForm, income: f64, schedule: &TaxSchedule, max_hours: f64) -> f64 {
    // Nobody earns more than skill * max_hours, so income / max_hours is a lower bound.
    let mut lo = income / max_hours;
    if income_at(form, lo, schedule, max_hours) >= income {
        return lo;
    }
    let mut hi = lo * 2.0;
    let mut found = false;
    for _ in 0..200 {
        if income_at(form, hi, schedule, max_hours) >= income {
            found = true;
            break;
        }
        lo = hi;
        hi *= 2.0;
    }
    if !found {
        return lo;
    }
    for _ in 0..200 {
        if hi - lo <= 1e-13 * hi {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if income_at(form, mid, schedule, max_hours) >= income {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::econ::gb2::ACS_2023;
    use crate::econ::schedule::us_federal_2024;
    use crate::econ::utility::{DEFAULT_DELTA, DEFAULT_MEDIAN_INCOME, calibrate_labor_cost};

    fn flat(rate: f64) -> TaxSchedule {
        TaxSchedule::new(vec![0.0], vec![rate]).unwrap()
    }

    fn ql(c: f64, delta: f64) -> UtilityForm {
        UtilityForm::QuasiLinear { c, delta }
    }

    fn calibrated() -> UtilityForm {
        ql(
            calibrate_labor_cost(DEFAULT_MEDIAN_INCOME, 0.12, DEFAULT_DELTA, 40.0),
            DEFAULT_DELTA,
        )
    }

    #[test]
    fn flat_rate_interior_optimum() {
        // delta = 3: FOC v(1-t) = 3 c l^2. v = 48, t = 0.25 -> 36 = 3 * 0.0075 * l^2
        // -> l^2 = 36 / 0.0225 = 1,600 -> l = 40.
        let l = best_response(&ql(0.0075, 3.0), 48.0, &flat(0.25), 0.0, MAX_HOURS);
        assert!((l - 40.0).abs() < 1e-9, "l = {l}");
        // A rebate does not change quasi-linear hours (no income effect).
        let l = best_response(&ql(0.0075, 3.0), 48.0, &flat(0.25), 5_000.0, MAX_HOURS);
        assert!((l - 40.0).abs() < 1e-9);
    }

    #[test]
    fn zero_and_bad_inputs() {
        assert_eq!(
            best_response(&ql(1.0, 2.0), 0.0, &flat(0.1), 0.0, 100.0),
            0.0
        );
        assert_eq!(
            best_response(&ql(1.0, 2.0), -5.0, &flat(0.1), 0.0, 100.0),
            0.0
        );
        assert_eq!(
            best_response(&ql(1.0, 2.0), f64::NAN, &flat(0.1), 0.0, 100.0),
            0.0
        );
        // 100 % tax: any hour is pure cost -> 0
        assert_eq!(
            best_response(&ql(1.0, 2.0), 50.0, &flat(1.0), 0.0, 100.0),
            0.0
        );
        assert_eq!(skill_for_income(&ql(1.0, 2.0), 0.0, &flat(0.1), 100.0), 0.0);
    }

    #[test]
    fn hundred_hour_cap() {
        // Paper constants c = 0.0005, delta = 3.5, v = 1,000, t = 0:
        // l = (1000 / 0.00175)^(1/2.5) = 571,428.6^0.4 = e^(0.4 * 13.256) ~ 200.8 > 100 -> 100.
        let l = best_response(&ql(0.0005, 3.5), 1_000.0, &flat(0.0), 0.0, MAX_HOURS);
        assert_eq!(l, 100.0);
        // A lower cap binds too.
        let l = best_response(&ql(0.0005, 3.5), 1_000.0, &flat(0.0), 0.0, 60.0);
        assert_eq!(l, 60.0);
    }

    #[test]
    fn bunching_at_a_kink() {
        // delta = 2, c = 1, v = 100: bracket 0 (10 %) optimum l = 100*0.9/2 = 45 h,
        // bracket 1 (50 %) optimum l = 100*0.5/2 = 25 h; the kink b = 3,000 sits at 30 h,
        // between them, so the worker bunches at exactly 30 h.
        let s = TaxSchedule::new(vec![0.0, 3_000.0], vec![0.1, 0.5]).unwrap();
        let l = best_response(&ql(1.0, 2.0), 100.0, &s, 0.0, MAX_HOURS);
        assert!((l - 30.0).abs() < 1e-12, "l = {l}");
    }

    #[test]
    fn non_convex_schedule_picks_the_global_optimum() {
        // Rates fall from 50 % to 0 at b = 3,000 (30 h for v = 100); delta = 2, c = 1.
        // Local optimum in bracket 0: l = 100*0.5/2 = 25 h, x = 2,500 - 1,250 = 1,250,
        //   u = 1,250 - 625 = 625.
        // Local optimum in bracket 1: l = 100/2 = 50 h, T = 0.5*3,000 = 1,500,
        //   x = 5,000 - 1,500 = 3,500, u = 3,500 - 2,500 = 1,000  -> global optimum.
        let s = TaxSchedule::new(vec![0.0, 3_000.0], vec![0.5, 0.0]).unwrap();
        let l = best_response(&ql(1.0, 2.0), 100.0, &s, 0.0, MAX_HOURS);
        assert!((l - 50.0).abs() < 1e-9, "l = {l}");
        // Move the drop to b = 4,500 (45 h): bracket 1 optimum is still 50 h with
        // T = 2,250, x = 2,750, u = 250 < 625 -> the low local optimum 25 h wins.
        let s = TaxSchedule::new(vec![0.0, 4_500.0], vec![0.5, 0.0]).unwrap();
        let l = best_response(&ql(1.0, 2.0), 100.0, &s, 0.0, MAX_HOURS);
        assert!((l - 25.0).abs() < 1e-9, "l = {l}");
    }

    #[test]
    fn exact_tie_goes_to_fewer_hours() {
        // Same economy as above with the drop at b = 3,750 (37.5 h): bracket 0 optimum 25 h has
        // u = 625; bracket 1 optimum 50 h has T = 0.5*3,750 = 1,875, x = 3,125,
        // u = 3,125 - 2,500 = 625. All numbers are exact in binary, so this is an exact tie.
        let s = TaxSchedule::new(vec![0.0, 3_750.0], vec![0.5, 0.0]).unwrap();
        let l = best_response(&ql(1.0, 2.0), 100.0, &s, 0.0, MAX_HOURS);
        assert_eq!(l, 25.0);
    }

    #[test]
    fn crra_log_closed_form() {
        // eta = 1, flat rate t, no rebate: u = x0 ln(v l (1-t)/x0) - c l^delta, so the FOC is
        // x0 / l = c delta l^(delta-1), i.e. l^delta = x0/(c delta) independent of v and t.
        // x0 = 3,200, c = 1, delta = 2 -> l^2 = 1,600 -> l = 40.
        let form = UtilityForm::Crra {
            c: 1.0,
            delta: 2.0,
            eta: 1.0,
            x0: 3_200.0,
        };
        for (v, t) in [(20.0, 0.0), (500.0, 0.3), (2_000.0, 0.6)] {
            let l = best_response(&form, v, &flat(t), 0.0, MAX_HOURS);
            assert!((l - 40.0).abs() < 1e-8, "v {v} t {t}: l = {l}");
        }
        // A large rebate makes the worker richer and (income effect) work less.
        let l = best_response(&form, 500.0, &flat(0.3), 50_000.0, MAX_HOURS);
        assert!(l < 39.0, "l = {l}");
    }

    #[test]
    fn crra_with_tiny_eta_matches_quasi_linear() {
        // eta -> 0: x0((x/x0) - 1) = x - x0, quasi-linear up to a constant.
        let crra = UtilityForm::Crra {
            c: 0.0237,
            delta: 3.5,
            eta: 1e-9,
            x0: 40_000.0,
        };
        let ql = ql(0.0237, 3.5);
        let s = us_federal_2024();
        for v in [100.0, 300.0, 952.55, 2_500.0, 10_000.0] {
            let a = best_response(&crra, v, &s, 1_000.0, MAX_HOURS);
            let b = best_response(&ql, v, &s, 1_000.0, MAX_HOURS);
            assert!((a - b).abs() < 1e-4, "v {v}: crra {a} vs ql {b}");
        }
    }

    #[test]
    fn median_worker_chooses_forty_hours() {
        let l = best_response(
            &calibrated(),
            38_102.0 / 40.0,
            &us_federal_2024(),
            0.0,
            MAX_HOURS,
        );
        assert!((l - 40.0).abs() < 1e-9, "l = {l}");
        // skill_for_income inverts it: the median income maps back to 952.55 $/yr per h/wk.
        let v = skill_for_income(&calibrated(), 38_102.0, &us_federal_2024(), MAX_HOURS);
        assert!((v - 952.55).abs() < 1e-9, "v = {v}");
    }

    #[test]
    fn skill_for_income_round_trips_gb2_quantiles() {
        let form = calibrated();
        let s = us_federal_2024();
        let ps = [
            0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999,
        ];
        let mut incomes: Vec<f64> = ps.iter().map(|&p| ACS_2023.quantile(p)).collect();
        // Kinks themselves (bunching incomes) must round-trip too.
        incomes.extend(&s.cutoffs()[1..]);
        for z in incomes {
            let v = skill_for_income(&form, z, &s, MAX_HOURS);
            let back = v * best_response(&form, v, &s, 0.0, MAX_HOURS);
            assert!(
                (back - z).abs() <= 1e-6 * z,
                "income {z}: skill {v} earns {back}"
            );
        }
    }

    #[test]
    fn kink_income_gets_the_smallest_bunching_skill() {
        // delta = 2, c = 1, kink at 3,000 between 10 % and 50 %. Bracket-0 income is
        // z = v * (0.9 v/2) = 0.45 v^2, reaching 3,000 at v = sqrt(3,000/0.45) = 81.6497;
        // bracket-1 income is z = 0.25 v^2, leaving the kink only at v = sqrt(12,000) = 109.54.
        // Every v in between bunches at 3,000; the smallest, 81.6497, must be returned.
        let s = TaxSchedule::new(vec![0.0, 3_000.0], vec![0.1, 0.5]).unwrap();
        let v = skill_for_income(&ql(1.0, 2.0), 3_000.0, &s, MAX_HOURS);
        assert!((v - (6_000.0f64 / 0.9).sqrt()).abs() < 1e-9, "v = {v}");
        // Just above the kink we need the 50 % bracket: z = v^2 * 0.25 -> v = sqrt(4 z).
        let v = skill_for_income(&ql(1.0, 2.0), 3_100.0, &s, MAX_HOURS);
        assert!((v - 12_400.0f64.sqrt()).abs() < 1e-9, "v = {v}");
    }

    #[test]
    fn capped_incomes_invert_to_income_over_max_hours() {
        // Paper constants put a 500,000 income far past the cap: v = 500,000/100 = 5,000.
        let v = skill_for_income(&ql(0.0005, 3.5), 500_000.0, &us_federal_2024(), MAX_HOURS);
        assert!((v - 5_000.0).abs() < 1e-9, "v = {v}");
    }

    #[test]
    fn bisection_path_round_trips_crra_and_non_convex() {
        let crra = UtilityForm::Crra {
            c: 0.0237,
            delta: 3.5,
            eta: 0.5,
            x0: 40_000.0,
        };
        let s = us_federal_2024();
        for z in [5_000.0, 38_102.0, 47_150.0, 150_000.0, 900_000.0] {
            let v = skill_for_income(&crra, z, &s, MAX_HOURS);
            let back = v * best_response(&crra, v, &s, 0.0, MAX_HOURS);
            assert!(
                (back - z).abs() <= 1e-6 * z,
                "income {z}: skill {v} earns {back}"
            );
        }
        // Quasi-linear on a schedule whose top rate drops takes the bisection path as well; an
        // income in a reachable region must still round-trip.
        let s = TaxSchedule::new(vec![0.0, 50_000.0], vec![0.3, 0.2]).unwrap();
        let form = calibrated();
        let v = skill_for_income(&form, 20_000.0, &s, MAX_HOURS);
        let back = v * best_response(&form, v, &s, 0.0, MAX_HOURS);
        assert!((back - 20_000.0).abs() <= 1e-6 * 20_000.0, "earns {back}");
    }
}
