//! Pure economics core of the LLM Economist tax game.
//!
//! Everything here is deterministic, allocation-light and free of I/O: tax schedules and the
//! planner's rate moves ([`schedule`]), worker utility ([`utility`]), the rational worker's exact
//! best response and its inverse used for skill calibration ([`best_response`]), social welfare
//! functions ([`welfare`]), descriptive statistics ([`stats`]), the GB2 income prior ([`gb2`]),
//! census-weighted personas ([`census`]), persona-conditioned incomes from published
//! earnings statistics ([`earnings`]), the Saez (2001) baseline ([`saez`]) and the
//! world's settlement of a timestep ([`world`]).
//!
//! Units: incomes and cut-offs are dollars per year; hours are hours per period (at most
//! [`MAX_HOURS`]); skill is dollars per hour, so income = skill * hours.

pub mod best_response;
pub mod census;
pub mod earnings;
pub mod federation;
pub mod gb2;
pub mod saez;
pub mod schedule;
pub mod stats;
pub mod utility;
pub mod welfare;
pub mod world;

pub use best_response::{MAX_HOURS, best_response, skill_for_income};

/// The unit of a skill, short, for table headers: income is annual dollars and hours are
/// weekly, so a skill (income per hour of work) is dollars per year per weekly hour.
pub const SKILL_UNIT: &str = "$/yr per h/wk";
pub use census::{Person, Persona, Sex, occupations, persona_text, sample_persona};
pub use gb2::{ACS_2023, Gb2};
pub use saez::{SaezBracket, SaezResult, saez_rates};
pub use schedule::{
    BracketPreset, TaxSchedule, us_federal_2024, us_federal_2024_on, us_federal_2025,
};
pub use stats::{gini, gini_sorted, mean};
pub use utility::{
    DEFAULT_DELTA, DEFAULT_MEDIAN_INCOME, UtilityForm, calibrate_labor_cost, perceived_utility,
};
pub use welfare::{WelfareKind, potential_income, social_welfare, welfare_weights};
pub use world::{Settlement, UtilityType, WorldParams, best_response_hours, equilibrium, settle};

/// Why an economics input was rejected. Every message names the offending value and what a
/// valid one looks like, so a config author can fix it without reading the code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EconError {
    /// A tax schedule needs at least one bracket.
    #[error("a tax schedule needs at least one bracket; pass cutoffs like [0.0] and one rate")]
    NoBrackets,
    /// Two parallel lists have different lengths.
    #[error("{what}: expected {expected} entries (one per bracket / person), got {got}")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// The lowest bracket must start at zero income.
    #[error("the first cut-off must be 0 (the lowest bracket starts at zero income), got {0}")]
    FirstCutoffNotZero(f64),
    /// Cut-offs must be strictly increasing.
    #[error(
        "cut-offs must be strictly increasing: cut-off {index} ({value}) is not above the previous one ({previous})"
    )]
    CutoffsNotIncreasing {
        index: usize,
        previous: f64,
        value: f64,
    },
    /// A number that must be finite was NaN or infinite.
    #[error("{what} must be a finite number, got {value} (at index {index})")]
    NonFinite {
        what: &'static str,
        index: usize,
        value: f64,
    },
    /// A tax rate outside [0, 1].
    #[error(
        "tax rate {index} is {rate}; rates are fractions in [0, 1] (write 0.22 for 22 %), not percentages"
    )]
    RateOutOfRange { index: usize, rate: f64 },
    /// A utility parameter is out of its valid domain.
    #[error("invalid utility parameter {name} = {value}: {requirement}")]
    InvalidUtility {
        name: &'static str,
        value: f64,
        requirement: &'static str,
    },
    /// A GB2 parameter is out of its valid domain.
    #[error("invalid GB2 parameter {name} = {value}: must be finite and > 0")]
    InvalidGb2 { name: &'static str, value: f64 },
    /// A population-level computation got no people.
    #[error("the population is empty; pass at least one income")]
    EmptyPopulation,
    /// A welfare weight is negative, or all weights are zero.
    #[error(
        "welfare weights must be finite, >= 0 and not all zero (weight {index} is {value}); any positive scale works"
    )]
    InvalidWeight { index: usize, value: f64 },
    /// A behavioural elasticity below zero.
    #[error("elasticity {index} is {value}; elasticities of taxable income must be >= 0")]
    NegativeElasticity { index: usize, value: f64 },
}
