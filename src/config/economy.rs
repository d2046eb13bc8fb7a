//! `[economy]`: the tax brackets, the utility form and its labor cost, skills, the rebate, the
//! welfare function and the income distribution, with their defaults.

use serde::{Deserialize, Serialize};

use super::{ConfigError, compact, invalid};
use crate::econ::Gb2;

/// Either a preset name or explicit bracket lower cut-offs (the first must be 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Brackets {
    Cutoffs(Vec<f64>),
    Preset(String),
}

/// Either "calibrated" or a number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Calibrated {
    Value(f64),
    Named(String),
}

impl Calibrated {
    /// A positive number, or the word "calibrated".
    pub(super) fn check(&self, key: &'static str) -> Result<(), ConfigError> {
        match self {
            Calibrated::Value(v) if !(v.is_finite() && *v > 0.0) => Err(invalid(
                key,
                format!(
                    "must be a positive finite number or \"calibrated\", got {}",
                    compact(*v)
                ),
            )),
            Calibrated::Named(n) if n != "calibrated" => Err(invalid(
                key,
                format!("unknown value {n:?}: use a number or \"calibrated\""),
            )),
            _ => Ok(()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UtilityName {
    QuasiLinear,
    Crra,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkillMode {
    /// Skill chosen so the worker's equilibrium income under the 2024 US schedule equals her
    /// census income draw.
    Calibrated,
    /// The paper's: skill = income / 40.
    #[serde(rename = "income-over-40")]
    IncomeOver40,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RebateRule {
    /// All revenue is returned lump-sum, equally to every worker.
    Equal,
    /// Revenue is not returned (it leaves the economy).
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WelfareName {
    InversePotentialIncome,
    InverseRealizedIncome,
    Utilitarian,
    Rawlsian,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EconomySettings {
    pub brackets: Brackets,
    pub utility: UtilityName,
    /// Labor-cost scale c in c*l^delta: a number, or "calibrated" (the median worker chooses
    /// 40 h under the 2024 US schedule).
    pub labor_cost: Calibrated,
    /// delta in c*l^delta (labor elasticity of interior workers is 1/(delta-1)).
    pub labor_exponent: f64,
    /// CRRA curvature eta (utility = "crra" only).
    pub crra_eta: f64,
    /// Consumption at which CRRA marginal utility is 1 ("calibrated" = the median income).
    pub crra_reference_consumption: Calibrated,
    pub max_hours: f64,
    pub skills: SkillMode,
    pub rebate: RebateRule,
    pub welfare: WelfareName,
    /// Income floor of the inverse-realized-income welfare (the paper uses $1).
    pub welfare_income_floor: f64,
    /// The income distribution (GB2, annual dollars at the 40 h reference).
    pub income: Gb2,
}

impl Default for EconomySettings {
    fn default() -> Self {
        EconomySettings {
            brackets: Brackets::Preset("three".into()),
            utility: UtilityName::QuasiLinear,
            labor_cost: Calibrated::Named("calibrated".into()),
            labor_exponent: 3.5,
            crra_eta: 1.5,
            crra_reference_consumption: Calibrated::Named("calibrated".into()),
            max_hours: 100.0,
            skills: SkillMode::Calibrated,
            rebate: RebateRule::Equal,
            welfare: WelfareName::InversePotentialIncome,
            welfare_income_floor: 1.0,
            income: crate::econ::ACS_2023,
        }
    }
}
