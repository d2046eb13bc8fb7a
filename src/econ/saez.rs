//! The Saez (2001) baseline planner: per-bracket optimal marginal rates
//! `tau_j = (1 - G_j) / (1 - G_j + a_j * e_j)` from a population's incomes and welfare weights.
//!
//! Differences from the original `saez_optimal_tax_rates`: incomes are passed in directly (no
//! hidden "skill * 100" rescaling), welfare weights are the caller's (so the baseline optimises
//! the same objective as the planner), the top bracket is evaluated at its cut-off as in Saez's
//! top-rate formula, and a single flat bracket uses the optimal linear tax formula.

use super::EconError;
use super::schedule::validate_cutoffs;

/// Pareto parameter used where the income density above a point is empty (as in the original).
const EMPTY_TAIL_PARETO: f64 = 10.0;

/// One bracket's rate and the sufficient statistics that produced it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SaezBracket {
    /// Optimal marginal rate (fraction in [0, 1]).
    pub rate: f64,
    /// Local Pareto parameter `a` (1 for the linear-tax case, whose formula has no `a`).
    pub pareto_a: f64,
    /// Relative mean welfare weight above the evaluation income, `G`.
    pub welfare_ratio_g: f64,
    /// Income at which `a` and `G` were evaluated (dollars per year).
    pub eval_income: f64,
}

/// Rates for every bracket plus diagnostics.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SaezResult {
    pub rates: Vec<f64>,
    pub brackets: Vec<SaezBracket>,
}

/// `(1-G)/(1-G+a e)` clipped to [0, 1]. A weight ratio `G >= 1` means the planner values a
/// marginal dollar above the cut-off at least as much as a dollar of revenue, so the rate is 0.
fn saez_formula(g: f64, a: f64, e: f64) -> f64 {
    let gain = 1.0 - g;
    if gain <= 0.0 {
        return 0.0;
    }
    (gain / (gain + a * e)).clamp(0.0, 1.0)
}

fn check_finite(what: &'static str, xs: &[f64]) -> Result<(), EconError> {
    match xs.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(EconError::NonFinite {
            what,
            index,
            value: xs[index],
        }),
        None => Ok(()),
    }
}

/// Population summary shared by all brackets.
struct Population<'a> {
    incomes: &'a [f64],
    /// Weights divided by their population mean (so "relative to everyone" is just the mean).
    weights: Vec<f64>,
    /// Scott's-rule Gaussian KDE bandwidth (0 when the incomes have no spread).
    bandwidth: f64,
}

impl Population<'_> {
    /// Mean normalized weight over `{i : z_i >= z}`, and how many people that is.
    fn weight_above(&self, z: f64) -> (f64, usize) {
        let (mut sum, mut count) = (0.0, 0usize);
        for (&zi, &wi) in self.incomes.iter().zip(&self.weights) {
            if zi >= z {
                sum += wi;
                count += 1;
            }
        }
        if count == 0 {
            (0.0, 0)
        } else {
            (sum / count as f64, count)
        }
    }

    /// Gaussian KDE density at `z`: `(1/(n h)) sum phi((z - z_i)/h)`.
    fn density(&self, z: f64) -> f64 {
        if self.bandwidth <= 0.0 {
            return 0.0;
        }
        let h = self.bandwidth;
        let norm = 1.0 / ((2.0 * std::f64::consts::PI).sqrt() * h * self.incomes.len() as f64);
        self.incomes
            .iter()
            .map(|&zi| {
                let u = (z - zi) / h;
                (-0.5 * u * u).exp()
            })
            .sum::<f64>()
            * norm
    }

    /// Empirical CDF share of incomes `<= z`.
    fn cdf(&self, z: f64) -> f64 {
        let below = self.incomes.iter().filter(|&&zi| zi <= z).count();
        below as f64 / self.incomes.len() as f64
    }
}

/// Sample standard deviation (n-1 denominator, like SciPy's `gaussian_kde` covariance).
fn sample_std(xs: &[f64]) -> f64 {
    let n = xs.len();
    if n < 2 {
        return 0.0;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
    (ss / (n - 1) as f64).sqrt()
}

/// Saez (2001) per-bracket rates `tau_j = (1-G)/(1-G + a*e_j)`, clipped to [0, 1].
///
/// * `incomes`: annual pre-tax incomes of the population, in dollars per year — the same units
///   as `cutoffs`.
/// * `weights`: the welfare function's weight per person (any positive scale; normalized by
///   their population mean inside). Must be finite, non-negative and not all zero.
/// * `cutoffs`: lower bounds of the brackets, as for [`super::TaxSchedule`].
/// * `elasticities`: elasticity of taxable income, one per bracket, `>= 0`.
///
/// Top bracket (cut-off `b > 0`): taxpayers `T = {i : z_i >= b}`, `m` = their mean income,
/// `a = m/(m-b)` (10 if everyone in T sits exactly at b), `G` = mean weight over T / mean weight
/// over everyone, evaluated at `eval_income = m`. If T is empty the top bracket repeats the
/// previous bracket's rate and reports `pareto_a = 0`, `welfare_ratio_g = 0`, `eval_income = b`.
///
/// Lower brackets: evaluated at the bracket midpoint `z*`; `a(z*) = z* f(z*)/(1-F(z*))` with `f`
/// a Gaussian KDE (Scott's bandwidth `h = std * n^(-1/5)`, `f = 0` if all incomes are equal) and
/// `F` the empirical share of incomes `<= z*`; `G` = mean weight over `{z_i >= z*}` / mean weight
/// over everyone. If `1-F(z*) == 0`, `a = 10` and `G = 0`.
///
/// A single bracket starting at 0 (the flat schedule) is both the bottom and the top bracket;
/// it uses the optimal linear tax formula (Piketty-Saez) `tau = (1-g)/(1-g+e)` with
/// `g = sum(w_i z_i)/(mean(w) sum(z_i))`, the income-weighted relative mean weight, reported
/// with `pareto_a = 1` and `eval_income` = mean income. With no positive total income the
/// rate is 0.
pub fn saez_rates(
    incomes: &[f64],
    weights: &[f64],
    cutoffs: &[f64],
    elasticities: &[f64],
) -> Result<SaezResult, EconError> {
    if incomes.is_empty() {
        return Err(EconError::EmptyPopulation);
    }
    if weights.len() != incomes.len() {
        return Err(EconError::LengthMismatch {
            what: "welfare weights (one per income)",
            expected: incomes.len(),
            got: weights.len(),
        });
    }
    validate_cutoffs(cutoffs)?;
    if elasticities.len() != cutoffs.len() {
        return Err(EconError::LengthMismatch {
            what: "elasticities (one per bracket)",
            expected: cutoffs.len(),
            got: elasticities.len(),
        });
    }
    check_finite("income", incomes)?;
    check_finite("welfare weight", weights)?;
    check_finite("elasticity", elasticities)?;
    if let Some(index) = weights.iter().position(|&w| w < 0.0) {
        return Err(EconError::InvalidWeight {
            index,
            value: weights[index],
        });
    }
    if let Some(index) = elasticities.iter().position(|&e| e < 0.0) {
        return Err(EconError::NegativeElasticity {
            index,
            value: elasticities[index],
        });
    }
    let n = incomes.len() as f64;
    let mean_weight = weights.iter().sum::<f64>() / n;
    if !(mean_weight > 0.0 && mean_weight.is_finite()) {
        return Err(EconError::InvalidWeight {
            index: 0,
            value: weights[0],
        });
    }

    if cutoffs.len() == 1 {
        let bracket = linear_tax(incomes, weights, mean_weight, elasticities[0]);
        return Ok(SaezResult {
            rates: vec![bracket.rate],
            brackets: vec![bracket],
        });
    }

    let population = Population {
        incomes,
        weights: weights.iter().map(|w| w / mean_weight).collect(),
        bandwidth: sample_std(incomes) * n.powf(-0.2),
    };
    let top = cutoffs.len() - 1;
    let mut brackets: Vec<SaezBracket> = Vec::with_capacity(cutoffs.len());
    for (j, &e) in elasticities.iter().enumerate() {
        let bracket = if j == top {
            top_bracket(&population, cutoffs[j], e, brackets.last())
        } else {
            let z = 0.5 * (cutoffs[j] + cutoffs[j + 1]);
            let tail = 1.0 - population.cdf(z);
            let (a, g) = if tail <= 0.0 {
                (EMPTY_TAIL_PARETO, 0.0)
            } else {
                (
                    z * population.density(z) / tail,
                    population.weight_above(z).0,
                )
            };
            SaezBracket {
                rate: saez_formula(g, a, e),
                pareto_a: a,
                welfare_ratio_g: g,
                eval_income: z,
            }
        };
        brackets.push(bracket);
    }
    Ok(SaezResult {
        rates: brackets.iter().map(|b| b.rate).collect(),
        brackets,
    })
}

/// Saez's top-rate formula at cut-off `b`.
fn top_bracket(
    population: &Population,
    b: f64,
    e: f64,
    previous: Option<&SaezBracket>,
) -> SaezBracket {
    let (g, count) = population.weight_above(b);
    if count == 0 {
        return SaezBracket {
            rate: previous.map_or(0.0, |p| p.rate),
            pareto_a: 0.0,
            welfare_ratio_g: 0.0,
            eval_income: b,
        };
    }
    let m = population.incomes.iter().filter(|&&z| z >= b).sum::<f64>() / count as f64;
    let a = if m > b {
        m / (m - b)
    } else {
        EMPTY_TAIL_PARETO
    };
    SaezBracket {
        rate: saez_formula(g, a, e),
        pareto_a: a,
        welfare_ratio_g: g,
        eval_income: m,
    }
}

/// Optimal linear tax `(1-g)/(1-g+e)`, `g` = income-weighted relative mean weight.
fn linear_tax(incomes: &[f64], weights: &[f64], mean_weight: f64, e: f64) -> SaezBracket {
    let total: f64 = incomes.iter().sum();
    let mean_income = total / incomes.len() as f64;
    if total <= 0.0 {
        return SaezBracket {
            rate: 0.0,
            pareto_a: 1.0,
            welfare_ratio_g: 1.0,
            eval_income: mean_income,
        };
    }
    let weighted: f64 = incomes.iter().zip(weights).map(|(z, w)| z * w).sum();
    let g = weighted / (mean_weight * total);
    SaezBracket {
        rate: saez_formula(g, 1.0, e),
        pareto_a: 1.0,
        welfare_ratio_g: g,
        eval_income: mean_income,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic Pareto(alpha, b_min) sample at the quantile midpoints.
    fn pareto_incomes(n: usize, alpha: f64, b_min: f64) -> Vec<f64> {
        (0..n)
            .map(|k| b_min * (1.0 - (k as f64 + 0.5) / n as f64).powf(-1.0 / alpha))
            .collect()
    }

    #[test]
    fn pareto_tail_top_rate() {
        let (alpha, b_min, b, e) = (2.0, 50_000.0, 200_000.0, 0.5);
        let z = pareto_incomes(200_000, alpha, b_min);
        let w: Vec<f64> = z.iter().map(|z| 1.0 / z).collect();
        let r = saez_rates(&z, &w, &[0.0, b], &[e, e]).unwrap();
        let top = &r.brackets[1];
        // Above b the tail is Pareto(alpha, b): mean m = alpha b/(alpha-1) = 2b, a = m/(m-b) = 2.
        assert!(
            (top.pareto_a / alpha - 1.0).abs() < 0.02,
            "a = {}",
            top.pareto_a
        );
        // Weights 1/z: E[1/z | z >= b] = alpha/((alpha+1) b) and E[1/z] = alpha/((alpha+1) b_min),
        // so G = b_min/b = 0.25 and tau = (1-0.25)/(1-0.25+2*0.5) = 0.75/1.75 = 0.428571.
        let g_closed = b_min / b;
        assert!(
            (top.welfare_ratio_g - g_closed).abs() < 2e-3,
            "G = {}",
            top.welfare_ratio_g
        );
        let tau_closed = (1.0 - g_closed) / (1.0 - g_closed + alpha * e);
        assert!((tau_closed - 0.75 / 1.75).abs() < 1e-15);
        assert!((top.rate - tau_closed).abs() < 5e-3, "tau = {}", top.rate);
        assert_eq!(r.rates[1], top.rate);
    }

    #[test]
    fn utilitarian_weights_give_zero_rates() {
        // Equal weights: the mean weight over any group equals the overall mean, G = 1, rate 0.
        let z = pareto_incomes(10_000, 2.0, 50_000.0);
        let w = vec![1.0; z.len()];
        let r = saez_rates(&z, &w, &[0.0, 100_000.0, 200_000.0], &[0.4; 3]).unwrap();
        for bracket in &r.brackets {
            assert!((bracket.welfare_ratio_g - 1.0).abs() < 1e-12);
            assert_eq!(bracket.rate, 0.0);
        }
        // flat schedule, equal weights: g = sum z / sum z = 1 -> 0
        let r = saez_rates(&z, &w, &[0.0], &[0.4]).unwrap();
        assert!((r.brackets[0].welfare_ratio_g - 1.0).abs() < 1e-12);
        assert_eq!(r.rates, vec![0.0]);
    }

    #[test]
    fn linear_tax_four_people() {
        // z = 10,20,30,40, w = 4,3,2,1: mean w = 2.5, sum w z = 40+60+60+40 = 200, sum z = 100,
        // g = 200/(2.5*100) = 0.8; e = 0.5 -> tau = 0.2/(0.2+0.5) = 2/7.
        let r = saez_rates(
            &[10.0, 20.0, 30.0, 40.0],
            &[4.0, 3.0, 2.0, 1.0],
            &[0.0],
            &[0.5],
        )
        .unwrap();
        assert!((r.brackets[0].welfare_ratio_g - 0.8).abs() < 1e-12);
        assert!((r.rates[0] - 2.0 / 7.0).abs() < 1e-12);
        assert_eq!(r.brackets[0].eval_income, 25.0);
        // Zero elasticity: no efficiency cost, tax everything.
        let r = saez_rates(
            &[10.0, 20.0, 30.0, 40.0],
            &[4.0, 3.0, 2.0, 1.0],
            &[0.0],
            &[0.0],
        )
        .unwrap();
        assert_eq!(r.rates[0], 1.0);
    }

    #[test]
    fn kde_bracket_and_empty_top_by_hand() {
        // incomes 0 and 2, weights 3 and 1 (normalized 1.5, 0.5); cut-offs [0, 2, 10].
        // Bracket 0 midpoint z* = 1. std (n-1) = sqrt(((0-1)^2 + (2-1)^2)/1) = sqrt 2,
        // h = sqrt2 * 2^(-1/5) = 1.2311444; f(1) = (1/(2h)) * 2 phi(1/h) = phi(0.8122524)/h
        // = 0.2868436/1.2311444 = 0.2329900; F(1) = 1/2, a = 1 * 0.23299/0.5 = 0.4659800;
        // G = weight of {z >= 1} = 0.5; e = 0.5: tau = 0.5/(0.5 + 0.46598*0.5) = 0.6821375.
        // Bracket 1 midpoint 6: nobody above -> a = 10, G = 0, tau = 1/(1+10*0.5) = 1/6.
        // Top bracket (b = 10) is empty -> repeats bracket 1's rate.
        let r = saez_rates(&[0.0, 2.0], &[3.0, 1.0], &[0.0, 2.0, 10.0], &[0.5; 3]).unwrap();
        let b0 = &r.brackets[0];
        assert!(
            (b0.pareto_a - 0.4659800).abs() < 1e-6,
            "a = {}",
            b0.pareto_a
        );
        assert!((b0.welfare_ratio_g - 0.5).abs() < 1e-12);
        assert!((b0.rate - 0.6821375).abs() < 1e-6, "tau = {}", b0.rate);
        assert_eq!(r.brackets[1].pareto_a, 10.0);
        assert!((r.rates[1] - 1.0 / 6.0).abs() < 1e-12);
        assert_eq!(r.rates[2], r.rates[1]);
        assert_eq!(r.brackets[2].eval_income, 10.0);
    }

    #[test]
    fn errors_are_reported() {
        let z = [1.0, 2.0];
        let w = [1.0, 1.0];
        assert_eq!(
            saez_rates(&[], &[], &[0.0], &[0.5]),
            Err(EconError::EmptyPopulation)
        );
        assert!(matches!(
            saez_rates(&z, &[1.0], &[0.0], &[0.5]),
            Err(EconError::LengthMismatch {
                expected: 2,
                got: 1,
                ..
            })
        ));
        assert!(matches!(
            saez_rates(&z, &w, &[0.0, 5.0], &[0.5]),
            Err(EconError::LengthMismatch {
                expected: 2,
                got: 1,
                ..
            })
        ));
        assert!(matches!(
            saez_rates(&[1.0, f64::NAN], &w, &[0.0], &[0.5]),
            Err(EconError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            saez_rates(&z, &w, &[0.0], &[-0.1]),
            Err(EconError::NegativeElasticity { index: 0, .. })
        ));
        assert!(matches!(
            saez_rates(&z, &[1.0, -1.0], &[0.0], &[0.5]),
            Err(EconError::InvalidWeight { index: 1, .. })
        ));
        assert!(matches!(
            saez_rates(&z, &[0.0, 0.0], &[0.0], &[0.5]),
            Err(EconError::InvalidWeight { .. })
        ));
        assert!(matches!(
            saez_rates(&z, &w, &[3.0], &[0.5]),
            Err(EconError::FirstCutoffNotZero(_))
        ));
    }
}
