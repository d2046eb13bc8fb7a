//! The generalized beta of the second kind (GB2) income prior, in the GAMLSS parameterisation the
//! LLM Economist fitted to ACS 2023 U.S. incomes: quantile (for inverse-CDF sampling), CDF, mean.
//!
//! `(y/mu)^sigma` follows a beta-prime(nu, tau) law, so `B = (y/mu)^sigma / (1 + (y/mu)^sigma)`
//! is Beta(nu, tau); every function here goes through statrs's regularized incomplete beta.
//! Only `sigma > 0` is supported (GAMLSS also allows negative sigma, which flips the tail).

use statrs::distribution::{Beta, ContinuousCDF};
use statrs::function::beta::{beta_reg, ln_beta};

use super::EconError;

/// GB2 parameters: scale `mu` (dollars), shape `sigma` and tail shapes `nu` (lower) and `tau`
/// (upper).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Gb2 {
    pub mu: f64,
    pub sigma: f64,
    pub nu: f64,
    pub tau: f64,
}

/// The ACS 2023 fit used by the LLM Economist (income at 40 hours a week, dollars per year).
pub const ACS_2023: Gb2 = Gb2 {
    mu: 72402.78177917618,
    sigma: 2.0721070746154746,
    nu: 0.48651871959386955,
    tau: 1.1410398548220329,
};

/// Probabilities are clamped into `[P_EPS, 1 - P_EPS]` so the quantile stays finite; a uniform
/// draw lands outside that range with probability 2e-12.
const P_EPS: f64 = 1e-12;

impl Gb2 {
    /// All four parameters must be finite and positive.
    pub fn validate(&self) -> Result<(), EconError> {
        for (name, value) in [
            ("mu", self.mu),
            ("sigma", self.sigma),
            ("nu", self.nu),
            ("tau", self.tau),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(EconError::InvalidGb2 { name, value });
            }
        }
        Ok(())
    }

    /// Inverse CDF: with `B` the Beta(nu, tau) quantile of `p`, `y = mu * (B/(1-B))^(1/sigma)`.
    /// `p` is clamped into the open unit interval; NaN `p` or invalid parameters give NaN.
    pub fn quantile(&self, p: f64) -> f64 {
        if p.is_nan() || self.validate().is_err() {
            return f64::NAN;
        }
        let Ok(beta) = Beta::new(self.nu, self.tau) else {
            return f64::NAN;
        };
        let b = beta.inverse_cdf(p.clamp(P_EPS, 1.0 - P_EPS));
        self.mu * (b / (1.0 - b)).powf(1.0 / self.sigma)
    }

    /// `P(Y <= y) = I_x(nu, tau)` with `x = r/(1+r)`, `r = (y/mu)^sigma`; 0 for `y <= 0`.
    /// NaN `y` or invalid parameters give NaN.
    pub fn cdf(&self, y: f64) -> f64 {
        if y.is_nan() || self.validate().is_err() {
            return f64::NAN;
        }
        if y <= 0.0 {
            return 0.0;
        }
        let r = (y / self.mu).powf(self.sigma);
        if r.is_infinite() {
            return 1.0;
        }
        // 1/(1 + 1/r) keeps x from rounding to exactly 1 for moderately large r.
        let x = 1.0 / (1.0 + r.recip());
        beta_reg(self.nu, self.tau, x)
    }

    /// `mu * B(nu + 1/sigma, tau - 1/sigma) / B(nu, tau)`, finite only when `tau > 1/sigma`
    /// (otherwise the upper tail is too heavy and `None` is returned).
    pub fn mean(&self) -> Option<f64> {
        self.validate().ok()?;
        let s = 1.0 / self.sigma;
        if self.tau <= s {
            return None;
        }
        Some(self.mu * (ln_beta(self.nu + s, self.tau - s) - ln_beta(self.nu, self.tau)).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_the_reference_table() {
        // Reference §2.2 (SciPy, rounded to whole dollars).
        let table = [
            (0.01, 695.0),
            (0.05, 3_434.0),
            (0.10, 6_851.0),
            (0.25, 17_393.0),
            (0.50, 38_102.0),
            (0.75, 72_159.0),
            (0.90, 124_509.0),
            (0.95, 175_432.0),
            (0.99, 361_313.0),
            (0.999, 967_607.0),
        ];
        for (p, expected) in table {
            let q = ACS_2023.quantile(p);
            assert!(
                (q / expected - 1.0).abs() < 1e-3,
                "p {p}: {q} vs {expected}"
            );
        }
    }

    #[test]
    fn mean_matches_reference() {
        // Reference §2.2: 59,249 (finite because tau = 1.141 > 1/sigma = 0.4826).
        let m = ACS_2023.mean().unwrap();
        assert!((m / 59_249.0 - 1.0).abs() < 1e-3, "mean {m}");
        let heavy = Gb2 {
            tau: 0.4,
            ..ACS_2023
        };
        assert_eq!(heavy.mean(), None);
    }

    #[test]
    fn cdf_inverts_quantile() {
        for p in [1e-6, 0.001, 0.01, 0.2, 0.5, 0.8, 0.99, 0.999_99] {
            let back = ACS_2023.cdf(ACS_2023.quantile(p));
            assert!((back - p).abs() < 1e-9 * p.max(1e-3), "p {p}: {back}");
        }
        assert_eq!(ACS_2023.cdf(0.0), 0.0);
        assert_eq!(ACS_2023.cdf(-1.0), 0.0);
        assert_eq!(ACS_2023.cdf(f64::INFINITY), 1.0);
    }

    #[test]
    fn edge_probabilities_do_not_panic() {
        assert!(ACS_2023.quantile(0.0).is_finite());
        assert!(ACS_2023.quantile(1.0).is_finite());
        assert!(ACS_2023.quantile(-3.0) < ACS_2023.quantile(0.01));
        assert!(ACS_2023.quantile(f64::NAN).is_nan());
        let bad = Gb2 {
            nu: -1.0,
            ..ACS_2023
        };
        assert!(matches!(
            bad.validate(),
            Err(EconError::InvalidGb2 { name: "nu", .. })
        ));
        assert!(bad.quantile(0.5).is_nan());
        assert!(bad.mean().is_none());
    }
}
