//! Persona-conditioned incomes: the published U.S. earnings statistics the model is built from,
//! each persona's log-income index, the rank score, rank matching, and the comparison of a
//! sample's conditional medians with the published figures.
//!
//! The model (see README, "Realistic people"): a persona (occupation group, sex, age) gets a
//! log-income index = ln(OEWS group median / all-occupations median) + a sex term within the
//! group (CPS table 39) + an age term (CPS table 54). Its rank score is
//! `w * standardised index + sqrt(1 - w^2) * z` with `z` standard normal, so `w` is the
//! correlation between the score and the persona index (a Gaussian copula). N i.i.d. GB2
//! incomes are sorted and the k-th highest goes to the agent with the k-th highest score: the
//! population marginal is the GB2 draw exactly, whatever `w`.
//!
//! Data: `data/oews_2023_major_groups.csv` (BLS OEWS May 2023) and
//! `data/cps_2023_weekly_earnings.csv` (BLS CPS 2023 annual averages); sources in
//! `data/README.md`.
//!
//!
//! - `data.rs`: the published tables, parsed from the embedded CSV files;
//! - `index.rs`: the persona log-income index built from them, and its standardisation;
//! - `rank.rs`: the rank score, the normal draw and rank matching;
//! - `calibration.rs`: a sample's conditional medians next to the published figures.

mod calibration;
mod data;
mod index;
mod rank;

pub use calibration::{CalibrationReport, Comparison, Headline, calibration_report};
pub use data::{CPS_AGE_BANDS, EarningsData, OewsGroup, soc_of};
pub use index::{data, log_index, standardised_index};
pub use rank::{DEFAULT_PERSONA_WEIGHT, rank_match, rank_score, standard_normal};
