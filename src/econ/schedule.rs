//! Piecewise-linear income tax schedules: validation, tax / marginal / average rates, the
//! planner's percentage-point moves, and the bracket presets of the LLM Economist (flat, three,
//! US federal 2024/2025 single filer).
//!
//! Unlike the original Engine S (which stops taxing above a $10M "top cap"), the top bracket here
//! has no upper bound: income above the last cut-off is taxed at the top rate.

use super::EconError;

/// A progressive (or not) piecewise-linear tax schedule.
///
/// `cutoffs[j]` is the lower bound of bracket `j`; bracket `j` covers `[cutoffs[j], cutoffs[j+1])`
/// and the last bracket is unbounded above. `rates[j]` is the marginal rate (a fraction) on income
/// inside bracket `j`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaxSchedule {
    cutoffs: Vec<f64>,
    rates: Vec<f64>,
}

/// Rates are snapped to this grid after a planner move so repeated moves never drift.
const RATE_ROUNDING: f64 = 1e-9;

/// Validate bracket cut-offs alone (shared with the Saez baseline, which takes raw cut-offs).
pub(crate) fn validate_cutoffs(cutoffs: &[f64]) -> Result<(), EconError> {
    let Some(&first) = cutoffs.first() else {
        return Err(EconError::NoBrackets);
    };
    for (index, &value) in cutoffs.iter().enumerate() {
        if !value.is_finite() {
            return Err(EconError::NonFinite {
                what: "cut-off",
                index,
                value,
            });
        }
    }
    if first != 0.0 {
        return Err(EconError::FirstCutoffNotZero(first));
    }
    for (index, pair) in cutoffs.windows(2).enumerate() {
        if pair[1] <= pair[0] {
            return Err(EconError::CutoffsNotIncreasing {
                index: index + 1,
                previous: pair[0],
                value: pair[1],
            });
        }
    }
    Ok(())
}

impl TaxSchedule {
    /// Build a schedule. `cutoffs` are the lower bounds of the brackets: `cutoffs[0]` must be 0,
    /// they must be strictly increasing and finite; `rates` are fractions in `[0, 1]`, one per
    /// bracket; at least one bracket. The top bracket has no upper cap.
    pub fn new(cutoffs: Vec<f64>, rates: Vec<f64>) -> Result<Self, EconError> {
        validate_cutoffs(&cutoffs)?;
        if rates.len() != cutoffs.len() {
            return Err(EconError::LengthMismatch {
                what: "tax rates",
                expected: cutoffs.len(),
                got: rates.len(),
            });
        }
        for (index, &rate) in rates.iter().enumerate() {
            if !rate.is_finite() {
                return Err(EconError::NonFinite {
                    what: "tax rate",
                    index,
                    value: rate,
                });
            }
            if !(0.0..=1.0).contains(&rate) {
                return Err(EconError::RateOutOfRange { index, rate });
            }
        }
        Ok(Self { cutoffs, rates })
    }

    /// The same rate in every bracket (the game's initial 50 % schedule, for instance).
    pub fn uniform(cutoffs: Vec<f64>, rate: f64) -> Result<Self, EconError> {
        let rates = vec![rate; cutoffs.len()];
        Self::new(cutoffs, rates)
    }

    /// Lower bounds of the brackets.
    pub fn cutoffs(&self) -> &[f64] {
        &self.cutoffs
    }

    /// Marginal rate of each bracket (fractions).
    pub fn rates(&self) -> &[f64] {
        &self.rates
    }

    /// Number of brackets (>= 1).
    pub fn num_brackets(&self) -> usize {
        self.rates.len()
    }

    /// Total tax owed on `income`; 0 for non-positive (or NaN) income.
    pub fn tax(&self, income: f64) -> f64 {
        // NaN must not poison revenue sums, so it is treated like zero income.
        if income.is_nan() || income <= 0.0 {
            return 0.0;
        }
        let mut total = 0.0;
        for (j, (&lower, &rate)) in self.cutoffs.iter().zip(&self.rates).enumerate() {
            if income <= lower {
                break;
            }
            let upper = self.cutoffs.get(j + 1).copied().unwrap_or(f64::INFINITY);
            total += rate * (income.min(upper) - lower);
        }
        total
    }

    /// Index of the bracket containing `income`. Income exactly at cut-off `b_j` belongs to
    /// bracket `j`; anything below 0 (or NaN) belongs to bracket 0.
    pub fn bracket_of(&self, income: f64) -> usize {
        self.cutoffs
            .partition_point(|&b| b <= income)
            .saturating_sub(1)
    }

    /// Marginal rate at `income` (the rate of [`Self::bracket_of`]).
    pub fn marginal_rate(&self, income: f64) -> f64 {
        self.rates[self.bracket_of(income)]
    }

    /// Same cut-offs, new rates (validated).
    pub fn with_rates(&self, rates: Vec<f64>) -> Result<Self, EconError> {
        Self::new(self.cutoffs.clone(), rates)
    }

    /// The planner's move: add `deltas_points` percentage points (e.g. -20, -10, 0, 10, 20) to
    /// each bracket's rate, clamped to [0, 1].
    ///
    /// Rates that sit on the whole-percent grid are moved in integer points so that a rate that
    /// starts on the 10-point grid stays exactly on it (0.3 + 0.1 would otherwise become
    /// 0.39999999999999997); other rates are moved in floating point and snapped to 1e-9.
    pub fn apply_deltas(&self, deltas_points: &[i32]) -> Result<Self, EconError> {
        if deltas_points.len() != self.rates.len() {
            return Err(EconError::LengthMismatch {
                what: "rate deltas",
                expected: self.rates.len(),
                got: deltas_points.len(),
            });
        }
        let rates = self
            .rates
            .iter()
            .zip(deltas_points)
            .map(|(&rate, &delta)| {
                let points = rate * 100.0;
                let whole = points.round();
                if (points - whole).abs() < 1e-6 {
                    // i64 arithmetic: |whole| <= 100 and |delta| fits in i32, so no overflow.
                    let moved = (whole as i64 + i64::from(delta)).clamp(0, 100);
                    moved as f64 / 100.0
                } else {
                    let moved = (rate + f64::from(delta) / 100.0).clamp(0.0, 1.0);
                    (moved / RATE_ROUNDING).round() * RATE_ROUNDING
                }
            })
            .collect();
        self.with_rates(rates)
    }

    /// Average tax rate `T(z)/z`; 0 for `z <= 0`.
    pub fn average_rate(&self, income: f64) -> f64 {
        if income > 0.0 {
            self.tax(income) / income
        } else {
            0.0
        }
    }
}

/// The named bracket sets of the LLM Economist (`--bracket-setting`) plus the IRS 2025 brackets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BracketPreset {
    /// One bracket, `[0, inf)`.
    Flat,
    /// `[0, 90k)`, `[90k, 159.1k)`, `[159.1k, inf)`.
    Three,
    /// IRS 2024 single-filer cut-offs (the paper's `US_FED`).
    UsFederal2024,
    /// IRS 2025 single-filer cut-offs (Rev. Proc. 2024-40).
    UsFederal2025,
}

/// US federal single-filer marginal rates, identical in 2024 and 2025.
const US_FEDERAL_RATES: [f64; 7] = [0.10, 0.12, 0.22, 0.24, 0.32, 0.35, 0.37];

impl BracketPreset {
    /// Every preset, in a stable order (for CLI help and sweeps).
    pub const ALL: [BracketPreset; 4] = [
        BracketPreset::Flat,
        BracketPreset::Three,
        BracketPreset::UsFederal2024,
        BracketPreset::UsFederal2025,
    ];

    /// Parse a preset name as used on the command line (case-insensitive, surrounding
    /// whitespace ignored): `flat`, `three`, `us-federal-2024`, `us-federal-2025`.
    pub fn parse(name: &str) -> Option<Self> {
        let wanted = name.trim();
        Self::ALL
            .into_iter()
            .find(|preset| preset.name().eq_ignore_ascii_case(wanted))
    }

    /// The canonical name accepted by [`Self::parse`].
    pub fn name(&self) -> &'static str {
        match self {
            BracketPreset::Flat => "flat",
            BracketPreset::Three => "three",
            BracketPreset::UsFederal2024 => "us-federal-2024",
            BracketPreset::UsFederal2025 => "us-federal-2025",
        }
    }

    /// Lower bounds of the preset's brackets, in dollars per year.
    pub fn cutoffs(&self) -> Vec<f64> {
        match self {
            BracketPreset::Flat => vec![0.0],
            BracketPreset::Three => vec![0.0, 90_000.0, 159_100.0],
            BracketPreset::UsFederal2024 => vec![
                0.0, 11_600.0, 47_150.0, 100_525.0, 191_950.0, 243_725.0, 609_350.0,
            ],
            BracketPreset::UsFederal2025 => vec![
                0.0, 11_925.0, 48_475.0, 103_350.0, 197_300.0, 250_525.0, 626_350.0,
            ],
        }
    }
}

/// IRS 2024 single-filer schedule: 10/12/22/24/32/35/37 %.
pub fn us_federal_2024() -> TaxSchedule {
    TaxSchedule {
        cutoffs: BracketPreset::UsFederal2024.cutoffs(),
        rates: US_FEDERAL_RATES.to_vec(),
    }
}

/// IRS 2025 single-filer schedule: same rates as 2024, inflation-adjusted cut-offs.
pub fn us_federal_2025() -> TaxSchedule {
    TaxSchedule {
        cutoffs: BracketPreset::UsFederal2025.cutoffs(),
        rates: US_FEDERAL_RATES.to_vec(),
    }
}

/// The US federal 2024 rates mapped onto arbitrary cut-offs: each bracket gets the 2024 marginal
/// rate in force at its lower cut-off. So `three` ([0, 90k, 159.1k]) gets [0.10, 0.22, 0.24]:
/// $90,000 lies in the 2024 22 % bracket and $159,100 in the 24 % bracket. This is a
/// "status quo" starting point for bracket sets that are not the IRS ones; it is not revenue
/// neutral.
pub fn us_federal_2024_on(cutoffs: &[f64]) -> Result<TaxSchedule, EconError> {
    validate_cutoffs(cutoffs)?;
    let reference = us_federal_2024();
    let rates = cutoffs
        .iter()
        .map(|&b| reference.marginal_rate(b))
        .collect();
    TaxSchedule::new(cutoffs.to_vec(), rates)
}

/// Rates as percentages with the precision they have: `[37.25%, 50%, 12.5%]` (at most two
/// decimals, trailing zeros dropped), so a Saez or fractional rate is not shown rounded.
pub fn percent_list(rates: &[f64]) -> String {
    let items: Vec<String> = rates.iter().map(|r| percent(*r)).collect();
    format!("[{}]", items.join(", "))
}

/// One rate as a percentage, e.g. 0.3725 -> "37.25%", 0.5 -> "50%".
pub fn percent(rate: f64) -> String {
    let text = format!("{:.2}", rate * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    // "-0" for a rate that rounds to zero from below reads as a sign error.
    let text = if text == "-0" { "0" } else { text };
    format!("{text}%")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn three(rates: [f64; 3]) -> TaxSchedule {
        TaxSchedule::new(BracketPreset::Three.cutoffs(), rates.to_vec()).unwrap()
    }

    #[test]
    fn rejects_bad_schedules() {
        assert_eq!(TaxSchedule::new(vec![], vec![]), Err(EconError::NoBrackets));
        assert_eq!(
            TaxSchedule::new(vec![1.0], vec![0.1]),
            Err(EconError::FirstCutoffNotZero(1.0))
        );
        assert!(matches!(
            TaxSchedule::new(vec![0.0, 5.0, 5.0], vec![0.1; 3]),
            Err(EconError::CutoffsNotIncreasing { index: 2, .. })
        ));
        assert!(matches!(
            TaxSchedule::new(vec![0.0, f64::INFINITY], vec![0.1; 2]),
            Err(EconError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            TaxSchedule::new(vec![0.0], vec![0.1, 0.2]),
            Err(EconError::LengthMismatch {
                expected: 1,
                got: 2,
                ..
            })
        ));
        // 22 (a percentage) is the classic mistake; it must be rejected, not clamped.
        assert!(matches!(
            TaxSchedule::new(vec![0.0], vec![22.0]),
            Err(EconError::RateOutOfRange { index: 0, .. })
        ));
        assert!(matches!(
            TaxSchedule::new(vec![0.0], vec![f64::NAN]),
            Err(EconError::NonFinite { .. })
        ));
    }

    #[test]
    fn tax_us_2024_by_hand() {
        let s = us_federal_2024();
        // 38,102: 0.10*11,600 + 0.12*(38,102-11,600) = 1,160 + 3,180.24 = 4,340.24
        assert!((s.tax(38_102.0) - 4_340.24).abs() < 1e-9);
        // 700,000: 1,160 + 0.12*35,550 (=4,266) + 0.22*53,375 (=11,742.5) + 0.24*91,425 (=21,942)
        // + 0.32*51,775 (=16,568) + 0.35*365,625 (=127,968.75) + 0.37*90,650 (=33,540.5)
        // = 217,187.75 -- the top bracket is not capped.
        assert!((s.tax(700_000.0) - 217_187.75).abs() < 1e-6);
        assert_eq!(s.tax(0.0), 0.0);
        assert_eq!(s.tax(-5.0), 0.0);
        assert_eq!(s.tax(f64::NAN), 0.0);
        // average rate at 38,102 = 4,340.24 / 38,102
        assert!((s.average_rate(38_102.0) - 4_340.24 / 38_102.0).abs() < 1e-15);
        assert_eq!(s.average_rate(0.0), 0.0);
    }

    #[test]
    fn bracket_membership_at_cutoffs() {
        let s = us_federal_2024();
        assert_eq!(s.bracket_of(0.0), 0);
        assert_eq!(s.bracket_of(-1.0), 0);
        assert_eq!(s.bracket_of(11_599.99), 0);
        assert_eq!(s.bracket_of(11_600.0), 1); // exactly at b_1 -> bracket 1
        assert_eq!(s.bracket_of(609_350.0), 6);
        assert_eq!(s.bracket_of(1e12), 6);
        assert_eq!(s.marginal_rate(47_150.0), 0.22);
        assert_eq!(s.marginal_rate(47_149.0), 0.12);
    }

    #[test]
    fn deltas_stay_on_the_ten_point_grid() {
        let s = TaxSchedule::uniform(BracketPreset::Three.cutoffs(), 0.5).unwrap();
        let s = s.apply_deltas(&[-20, -10, 20]).unwrap();
        assert_eq!(s.rates(), &[0.3, 0.4, 0.7]);
        // 0.3 + 0.1 in floats is 0.39999999999999997; the integer path must give exactly 0.4.
        let s = s.apply_deltas(&[10, 0, 0]).unwrap();
        assert_eq!(s.rates()[0], 0.4);
        // clamping at both ends
        let s = three([0.1, 0.5, 0.9]).apply_deltas(&[-20, 0, 20]).unwrap();
        assert_eq!(s.rates(), &[0.0, 0.5, 1.0]);
        // off-grid rate: 0.1234 + 0.10 = 0.2234 (snapped to 1e-9)
        let s = three([0.1234, 0.5, 0.5]).apply_deltas(&[10, 0, 0]).unwrap();
        assert!((s.rates()[0] - 0.2234).abs() < 1e-12);
        assert!(matches!(
            s.apply_deltas(&[0, 0]),
            Err(EconError::LengthMismatch {
                expected: 3,
                got: 2,
                ..
            })
        ));
    }

    #[test]
    fn presets_round_trip_and_values() {
        for preset in BracketPreset::ALL {
            assert_eq!(BracketPreset::parse(preset.name()), Some(preset));
            assert!(TaxSchedule::uniform(preset.cutoffs(), 0.5).is_ok());
        }
        assert_eq!(BracketPreset::parse(" Three "), Some(BracketPreset::Three));
        assert_eq!(BracketPreset::parse("us_fed"), None);
        assert_eq!(us_federal_2025().cutoffs()[6], 626_350.0);
        assert_eq!(us_federal_2025().rates(), us_federal_2024().rates());
    }

    #[test]
    fn us_rates_on_other_cutoffs() {
        // 0 -> 10 %, 90,000 in [47,150, 100,525) -> 22 %, 159,100 in [100,525, 191,950) -> 24 %.
        let s = us_federal_2024_on(&BracketPreset::Three.cutoffs()).unwrap();
        assert_eq!(s.rates(), &[0.10, 0.22, 0.24]);
        assert_eq!(us_federal_2024_on(&[0.0]).unwrap().rates(), &[0.10]);
        // On its own cut-offs it reproduces the 2024 schedule exactly.
        assert_eq!(
            us_federal_2024_on(&BracketPreset::UsFederal2024.cutoffs()).unwrap(),
            us_federal_2024()
        );
        assert!(us_federal_2024_on(&[5.0]).is_err());
    }

    proptest! {
        // Tax is continuous and non-decreasing, and the marginal rate matches the slope.
        #[test]
        fn tax_is_monotone_with_bracket_slope(z in 0.0f64..2e6, dz in 0.01f64..100.0) {
            let s = us_federal_2024();
            let (t0, t1) = (s.tax(z), s.tax(z + dz));
            prop_assert!(t1 >= t0);
            if s.bracket_of(z) == s.bracket_of(z + dz) {
                let slope = (t1 - t0) / dz;
                prop_assert!((slope - s.marginal_rate(z)).abs() < 1e-6);
            }
            prop_assert!(t0 <= 0.37 * z + 1e-9);
        }

        #[test]
        fn deltas_keep_rates_valid(steps in proptest::collection::vec(-2i32..=2, 1..30)) {
            let mut s = TaxSchedule::uniform(vec![0.0], 0.5).unwrap();
            for step in steps {
                s = s.apply_deltas(&[step * 10]).unwrap();
                let points = s.rates()[0] * 100.0;
                // exactly a multiple of 10 points, i.e. k/10 as the nearest double
                prop_assert_eq!(s.rates()[0], (points / 10.0).round() / 10.0);
            }
        }
    }
}
