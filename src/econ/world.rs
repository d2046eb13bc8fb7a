//! The world's settlement of a timestep: from every worker's hours to incomes, taxes, the
//! rebate, utilities, welfare and the summary metrics. A pure function of its inputs; sums run
//! in worker-id order so the result is the same bits on every machine and thread count.

use serde::{Deserialize, Serialize};

use super::{TaxSchedule, UtilityForm, WelfareKind, best_response, social_welfare, stats};

/// How utility enters each worker's own feedback. Welfare always uses the worker's own
/// (egotistical) utility, as the paper's planner does (its altruistic and adversarial workers
/// are scored by their recomputed own utility).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UtilityType {
    /// Her own utility.
    Egotistical,
    /// Last step's social welfare.
    Altruistic,
    /// Minus last step's social welfare.
    Adversarial,
}

/// The parts of the economy that do not change during a run.
#[derive(Clone, Debug, PartialEq)]
pub struct WorldParams {
    pub form: UtilityForm,
    pub welfare: WelfareKind,
    /// True: revenue is rebated equally; false: revenue leaves the economy.
    pub rebate_equal: bool,
    pub max_hours: f64,
}

/// One timestep's outcome for the whole population.
#[derive(Clone, Debug, PartialEq)]
pub struct Settlement {
    pub incomes: Vec<f64>,
    pub taxes: Vec<f64>,
    /// Each worker's own utility: consumption (income - tax + rebate) minus labor cost.
    pub utilities: Vec<f64>,
    pub revenue: f64,
    pub rebate: f64,
    pub welfare: f64,
    pub gini: f64,
    pub mean_hours: f64,
    pub mean_income: f64,
    pub mean_utility: f64,
}

/// Settles one step. `skills`, `weights` (the welfare function's exogenous weights) and `hours`
/// are indexed by worker id and have the same length.
pub fn settle(
    params: &WorldParams,
    schedule: &TaxSchedule,
    skills: &[f64],
    weights: &[f64],
    hours: &[f64],
) -> Settlement {
    let n = hours.len();
    debug_assert_eq!(skills.len(), n);
    let incomes: Vec<f64> = skills.iter().zip(hours).map(|(v, l)| v * l).collect();
    let taxes: Vec<f64> = incomes.iter().map(|&z| schedule.tax(z)).collect();
    let revenue: f64 = taxes.iter().sum();
    let rebate = if params.rebate_equal && n > 0 {
        revenue / n as f64
    } else {
        0.0
    };
    let utilities: Vec<f64> = incomes
        .iter()
        .zip(&taxes)
        .zip(hours)
        .map(|((z, t), l)| params.form.utility(z - t + rebate, *l))
        .collect();
    let welfare = social_welfare(params.welfare, &utilities, weights, &incomes);
    Settlement {
        gini: stats::gini(&incomes),
        mean_hours: stats::mean(hours),
        mean_income: stats::mean(&incomes),
        mean_utility: stats::mean(&utilities),
        incomes,
        taxes,
        utilities,
        revenue,
        rebate,
        welfare,
    }
}

/// The hours every worker chooses when she best-responds exactly to `schedule`.
///
/// Quasi-linear workers ignore the rebate, so one pass is exact. CRRA workers care about the
/// rebate, which depends on everyone's hours: iterate hours -> rebate -> hours to a fixed point
/// (a contraction in practice; capped at 50 rounds).
pub fn best_response_hours(
    params: &WorldParams,
    schedule: &TaxSchedule,
    skills: &[f64],
) -> Vec<f64> {
    let respond = |rebate: f64| -> Vec<f64> {
        skills
            .iter()
            .map(|&v| best_response(&params.form, v, schedule, rebate, params.max_hours))
            .collect()
    };
    let mut hours = respond(0.0);
    if matches!(params.form, UtilityForm::QuasiLinear { .. }) || !params.rebate_equal {
        return hours;
    }
    let n = skills.len().max(1) as f64;
    let mut rebate = 0.0;
    for _ in 0..50 {
        let revenue: f64 = skills
            .iter()
            .zip(&hours)
            .map(|(v, l)| schedule.tax(v * l))
            .sum();
        let next = revenue / n;
        if (next - rebate).abs() <= 1e-9 * next.abs().max(1.0) {
            break;
        }
        rebate = next;
        hours = respond(rebate);
    }
    hours
}

/// The settlement when every worker best-responds exactly: the leader's view of a schedule.
pub fn equilibrium(
    params: &WorldParams,
    schedule: &TaxSchedule,
    skills: &[f64],
    weights: &[f64],
) -> Settlement {
    let hours = best_response_hours(params, schedule, skills);
    settle(params, schedule, skills, weights, &hours)
}

/// The small world the economics' unit tests compute by hand: quasi-linear utility with c = 0.5
/// and delta = 2 (so a flat rate t gives hours l = (1 - t) skill), utilitarian welfare, equal
/// rebate, at most 100 hours.
#[cfg(test)]
pub(crate) fn hand_world() -> WorldParams {
    WorldParams {
        form: UtilityForm::QuasiLinear { c: 0.5, delta: 2.0 },
        welfare: WelfareKind::Utilitarian,
        rebate_equal: true,
        max_hours: 100.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> WorldParams {
        hand_world()
    }

    #[test]
    fn settlement_by_hand() {
        // Flat 20% tax. Worker A: skill 10, 10 h -> z = 100, tax 20. Worker B: skill 20, 20 h
        // -> z = 400, tax 80. Revenue 100, rebate 50.
        // u_A = 100 - 20 + 50 - 0.5*10^2 = 80; u_B = 400 - 80 + 50 - 0.5*20^2 = 170.
        let flat = TaxSchedule::new(vec![0.0], vec![0.2]).unwrap();
        let s = settle(&params(), &flat, &[10.0, 20.0], &[1.0, 1.0], &[10.0, 20.0]);
        assert_eq!(s.incomes, vec![100.0, 400.0]);
        assert_eq!(s.taxes, vec![20.0, 80.0]);
        assert_eq!(s.revenue, 100.0);
        assert_eq!(s.rebate, 50.0);
        assert_eq!(s.utilities, vec![80.0, 170.0]);
        assert_eq!(s.welfare, 125.0);
        assert_eq!(s.mean_hours, 15.0);
        assert_eq!(s.mean_income, 250.0);
        // Gini of [100, 400]: 2*(1*100 + 2*400)/(2*500) - 3/2 = 1.8 - 1.5 = 0.3
        assert!((s.gini - 0.3).abs() < 1e-12);
    }

    #[test]
    fn no_rebate_rule_keeps_revenue_out() {
        let mut p = params();
        p.rebate_equal = false;
        let flat = TaxSchedule::new(vec![0.0], vec![0.2]).unwrap();
        let s = settle(&p, &flat, &[10.0], &[1.0], &[10.0]);
        assert_eq!(s.rebate, 0.0);
        assert_eq!(s.utilities, vec![100.0 - 20.0 - 50.0]);
    }

    #[test]
    fn equilibrium_hours_are_the_analytic_optimum() {
        // u = (1-t) v l - c l^2  =>  l* = (1-t) v / (2c) = 0.8 * 10 / 1 = 8 h.
        let flat = TaxSchedule::new(vec![0.0], vec![0.2]).unwrap();
        let s = equilibrium(&params(), &flat, &[10.0], &[1.0]);
        assert!((s.mean_hours - 8.0).abs() < 1e-9);
    }

    #[test]
    fn crra_equilibrium_reaches_a_rebate_fixed_point() {
        let p = WorldParams {
            form: UtilityForm::Crra {
                c: 0.02,
                delta: 2.0,
                eta: 1.0,
                x0: 500.0,
            },
            welfare: WelfareKind::Utilitarian,
            rebate_equal: true,
            max_hours: 100.0,
        };
        let flat = TaxSchedule::new(vec![0.0], vec![0.3]).unwrap();
        let skills = [5.0, 10.0, 20.0];
        let hours = best_response_hours(&p, &flat, &skills);
        let s = settle(&p, &flat, &skills, &[1.0; 3], &hours);
        // At the fixed point each worker's hours are her best response to the realized rebate.
        for (v, l) in skills.iter().zip(&hours) {
            let again = best_response(&p.form, *v, &flat, s.rebate, 100.0);
            assert!((again - l).abs() < 1e-6, "{again} vs {l}");
        }
    }
}
