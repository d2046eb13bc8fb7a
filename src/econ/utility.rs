//! Worker utility: consumption minus a power labor cost, in the paper's quasi-linear form or an
//! isoelastic (CRRA) form with income effects, plus the calibration of the labor-cost scale `c`.
//!
//! Consumption is post-tax income including the lump-sum rebate: `x = z - T(z) + rebate`.

use super::EconError;

/// The paper's labor-cost exponent (`c * l^3.5`).
pub const DEFAULT_DELTA: f64 = 3.5;

/// Median of the ACS 2023 GB2 income prior (dollars per year at 40 hours a week); the
/// reference's SciPy value, used to calibrate `c` so the median worker chooses 40 hours.
pub const DEFAULT_MEDIAN_INCOME: f64 = 38_102.0;

/// CRRA consumption is floored here (dollars) so that utility stays finite when a worker earns
/// nothing and gets no rebate.
pub const CONSUMPTION_FLOOR: f64 = 1.0;

/// How a worker values consumption and hours.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum UtilityForm {
    /// u = consumption - c * l^delta  (the paper's form; consumption = z - T(z) + rebate)
    QuasiLinear { c: f64, delta: f64 },
    /// Isoelastic (CRRA) consumption utility with income effects, scaled so marginal utility is
    /// 1 at consumption x0:
    /// u = x0 * ((x/x0)^(1-eta) - 1)/(1-eta) - c*l^delta  (eta == 1: x0*ln(x/x0)); x floored at
    /// [`CONSUMPTION_FLOOR`] so u is finite.
    Crra {
        c: f64,
        delta: f64,
        eta: f64,
        x0: f64,
    },
}

/// Below this distance from 1 the CRRA formula switches to its log limit, where
/// `((x/x0)^(1-eta) - 1)/(1-eta)` would cancel catastrophically.
const LOG_LIMIT_TOLERANCE: f64 = 1e-9;

fn check(
    name: &'static str,
    value: f64,
    ok: bool,
    requirement: &'static str,
) -> Result<(), EconError> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(EconError::InvalidUtility {
            name,
            value,
            requirement,
        })
    }
}

impl UtilityForm {
    /// Check the parameters: c > 0, delta > 1 (strictly convex labor cost, so each bracket has a
    /// unique optimum), eta > 0, x0 > 0, all finite.
    pub fn validate(&self) -> Result<(), EconError> {
        check("c", self.c(), self.c() > 0.0, "must be finite and > 0")?;
        check(
            "delta",
            self.delta(),
            self.delta() > 1.0,
            "must be finite and > 1 (convex labor cost)",
        )?;
        if let UtilityForm::Crra { eta, x0, .. } = *self {
            check("eta", eta, eta > 0.0, "must be finite and > 0")?;
            check("x0", x0, x0 > 0.0, "must be finite and > 0 (dollars)")?;
        }
        Ok(())
    }

    /// Labor-cost scale `c`.
    pub fn c(&self) -> f64 {
        match *self {
            UtilityForm::QuasiLinear { c, .. } | UtilityForm::Crra { c, .. } => c,
        }
    }

    /// Labor-cost exponent `delta`.
    pub fn delta(&self) -> f64 {
        match *self {
            UtilityForm::QuasiLinear { delta, .. } | UtilityForm::Crra { delta, .. } => delta,
        }
    }

    /// Disutility of working `hours` (negative hours count as 0).
    pub fn labor_cost(&self, hours: f64) -> f64 {
        self.c() * hours.max(0.0).powf(self.delta())
    }

    /// Derivative of [`Self::labor_cost`] with respect to hours.
    pub fn marginal_labor_cost(&self, hours: f64) -> f64 {
        let delta = self.delta();
        self.c() * delta * hours.max(0.0).powf(delta - 1.0)
    }

    /// Utility of consuming `consumption` dollars after working `hours`.
    pub fn utility(&self, consumption: f64, hours: f64) -> f64 {
        self.consumption_utility(consumption) - self.labor_cost(hours)
    }

    /// The consumption part of utility.
    pub fn consumption_utility(&self, consumption: f64) -> f64 {
        match *self {
            UtilityForm::QuasiLinear { .. } => consumption,
            UtilityForm::Crra { eta, x0, .. } => {
                let ratio = consumption.max(CONSUMPTION_FLOOR) / x0;
                if (eta - 1.0).abs() < LOG_LIMIT_TOLERANCE {
                    x0 * ratio.ln()
                } else {
                    x0 * (ratio.powf(1.0 - eta) - 1.0) / (1.0 - eta)
                }
            }
        }
    }

    /// Marginal utility of consumption at `consumption`, evaluated at the floor below it so that
    /// it is non-increasing in consumption (what the best-response bisection needs).
    pub fn marginal_consumption_utility(&self, consumption: f64) -> f64 {
        match *self {
            UtilityForm::QuasiLinear { .. } => 1.0,
            UtilityForm::Crra { eta, x0, .. } => {
                (consumption.max(CONSUMPTION_FLOOR) / x0).powf(-eta)
            }
        }
    }
}

/// The `c` such that a worker of skill `v = median_income / target_hours` facing marginal rate
/// `marginal_rate` chooses `target_hours` under quasi-linear utility:
/// the first-order condition `(1-m) v = c delta l^(delta-1)` at `l = target_hours` gives
/// `c = (1-m) v / (delta * target_hours^(delta-1))`.
/// With median 38,102, m = 0.12, delta 3.5 and 40 hours this is about 0.0237 (the paper's 0.0005
/// puts most GB2 workers at the 100-hour cap).
pub fn calibrate_labor_cost(
    median_income: f64,
    marginal_rate: f64,
    delta: f64,
    target_hours: f64,
) -> f64 {
    let skill = median_income / target_hours;
    (1.0 - marginal_rate) * skill / (delta * target_hours.powf(delta - 1.0))
}

/// The utility a worker perceives after answering the satisfaction question: her utility when
/// satisfied (or when there was no usable answer), lowered by half its size when not.
///
/// The paper multiplies by r = 0.5 on a "no", which *raises* a negative utility (common under
/// the calibrated labor cost): subtracting half the absolute value lowers it whatever its sign,
/// and equals the paper's factor for positive utility.
pub fn perceived_utility(utility: f64, satisfied: Option<bool>) -> f64 {
    match satisfied {
        Some(false) => utility - 0.5 * utility.abs(),
        _ => utility,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_bad_parameter() {
        assert!(
            UtilityForm::QuasiLinear {
                c: 0.0005,
                delta: 3.5
            }
            .validate()
            .is_ok()
        );
        let bad = UtilityForm::QuasiLinear {
            c: 0.01,
            delta: 1.0,
        }
        .validate();
        assert!(matches!(
            bad,
            Err(EconError::InvalidUtility { name: "delta", .. })
        ));
        let bad = UtilityForm::QuasiLinear {
            c: -1.0,
            delta: 2.0,
        }
        .validate();
        assert!(matches!(
            bad,
            Err(EconError::InvalidUtility { name: "c", .. })
        ));
        let bad = UtilityForm::Crra {
            c: 1.0,
            delta: 2.0,
            eta: 0.0,
            x0: 1.0,
        }
        .validate();
        assert!(matches!(
            bad,
            Err(EconError::InvalidUtility { name: "eta", .. })
        ));
        let bad = UtilityForm::Crra {
            c: 1.0,
            delta: 2.0,
            eta: 1.0,
            x0: f64::NAN,
        }
        .validate();
        assert!(matches!(
            bad,
            Err(EconError::InvalidUtility { name: "x0", .. })
        ));
    }

    #[test]
    fn paper_labor_cost_table() {
        // Reference §2.4: c = 0.0005, delta = 3.5: l=40 -> 0.0005 * 40^3.5 = 0.0005 * 404,771.3
        // = 202.4; l=100 -> 0.0005 * 10^7 = 5,000; marginal at 100 = 0.0005*3.5*10^5 = 175.
        let u = UtilityForm::QuasiLinear {
            c: 0.0005,
            delta: 3.5,
        };
        assert!((u.labor_cost(40.0) - 202.385).abs() < 1e-2);
        assert!((u.labor_cost(100.0) - 5_000.0).abs() < 1e-9);
        assert!((u.marginal_labor_cost(100.0) - 175.0).abs() < 1e-9);
        assert_eq!(u.labor_cost(-3.0), 0.0);
        // quasi-linear: u = x - cost = 1,000 - 5,000
        assert!((u.utility(1_000.0, 100.0) + 4_000.0).abs() < 1e-9);
    }

    #[test]
    fn crra_values() {
        let log = UtilityForm::Crra {
            c: 1.0,
            delta: 2.0,
            eta: 1.0,
            x0: 100.0,
        };
        // eta = 1: 100 * ln(100e / 100) = 100; minus 1 * 3^2 = 9
        assert!((log.utility(100.0 * std::f64::consts::E, 3.0) - 91.0).abs() < 1e-9);
        // floor: consumption -50 -> 1 -> 100 * ln(0.01) = -460.517...
        assert!((log.utility(-50.0, 0.0) - 100.0 * (0.01f64).ln()).abs() < 1e-9);
        let half = UtilityForm::Crra {
            c: 1.0,
            delta: 2.0,
            eta: 0.5,
            x0: 100.0,
        };
        // eta = 0.5: 100 * ((400/100)^0.5 - 1)/0.5 = 100 * (2-1) * 2 = 200
        assert!((half.utility(400.0, 0.0) - 200.0).abs() < 1e-9);
        // marginal utility (x/x0)^-eta = 4^-0.5 = 0.5; equals 1 at x0
        assert!((half.marginal_consumption_utility(400.0) - 0.5).abs() < 1e-12);
        assert!((half.marginal_consumption_utility(100.0) - 1.0).abs() < 1e-12);
        // eta -> 1 from either side agrees with the log form (continuity of the limit switch)
        let near = UtilityForm::Crra {
            c: 1.0,
            delta: 2.0,
            eta: 1.0 + 1e-7,
            x0: 100.0,
        };
        assert!((near.utility(250.0, 0.0) - log.utility(250.0, 0.0)).abs() < 1e-3);
    }

    #[test]
    fn calibration_matches_the_brief() {
        // v = 38,102/40 = 952.55; (1-0.12)*952.55 = 838.244; 40^2.5 = 10,119.29;
        // 3.5 * 10,119.29 = 35,417.5; c = 838.244 / 35,417.5 = 0.023667
        let c = calibrate_labor_cost(DEFAULT_MEDIAN_INCOME, 0.12, DEFAULT_DELTA, 40.0);
        assert!((c - 0.023667).abs() < 1e-6, "c = {c}");
        // and the first-order condition holds at 40 hours
        let u = UtilityForm::QuasiLinear {
            c,
            delta: DEFAULT_DELTA,
        };
        assert!((u.marginal_labor_cost(40.0) - 0.88 * 952.55).abs() < 1e-9);
    }

    #[test]
    fn dissatisfaction_lowers_perceived_utility_whatever_its_sign() {
        assert_eq!(perceived_utility(100.0, Some(false)), 50.0);
        assert_eq!(perceived_utility(-100.0, Some(false)), -150.0);
        assert_eq!(perceived_utility(0.0, Some(false)), 0.0);
        assert_eq!(perceived_utility(-100.0, Some(true)), -100.0);
        assert_eq!(perceived_utility(-100.0, None), -100.0);
        for u in [-1e6, -3.5, 0.25, 7e4] {
            assert!(perceived_utility(u, Some(false)) < u || u == 0.0);
        }
    }
}
