//! Scenario configuration: the TOML schema, its defaults, layering and validation.
//!
//! A scenario is resolved from, in increasing priority: the built-in defaults (every key has
//! one), the scenario file, environment variables `SIMULACRA__SECTION__KEY`, and `--set
//! key=value` flags (TOML values; bare words are read as strings). Unknown keys and bad values
//! are errors that name the key. The resolved scenario is written, as TOML, into the header of
//! every run's log, so a log alone is enough to replay the run.
//!
//! What is derived from a scenario (cut-offs, the calibrated utility form, welfare, world
//! parameters, elasticities) is computed once, in [`crate::resolved`], not here.
//!
//! Where each section lives (a section's types, defaults and checks sit together, so a key's
//! type, default and range are read in one file; every item is re-exported here, so paths are
//! `crate::config::X` whichever file holds it):
//!
//! - this file: [`Scenario`], the error type, the shared checks (`invalid`, `in_range`,
//!   which shows a huge or tiny number as `1e300`, not in 301 digits, `check_base_urls`), the
//!   run-wide limits, and the small sections `[simulation]`,
//!   `[planner]`, `[log]`, `[baselines]` and `[population]`;
//! - `load.rs`: resolving a scenario (`load`, `resolve`, `with_endpoint_sets`), the `--set`
//!   parsing and the TOML round trip;
//! - `validate.rs`: [`Scenario::validate`], which runs every check in one fixed order (some
//!   read more than one section, such as `workers.fixed_hours` against `economy.max_hours`, so
//!   they stay in it), and the bracket cut-offs;
//! - `economy.rs`: `[economy]` (brackets, utility, labor cost, welfare, the income law);
//! - `workers.rs`: `[workers]`, its mixed-model population and that population's check;
//! - `llm.rs`: `[llm]` and its `[llm.ROLE]` tables, the endpoint keys a resume may change,
//!   and the `[llm]` checks;
//! - `governance.rs`: `[governance]`, the liquid-democracy defaults and the section's checks;
//! - `federation.rs`: `[federation]` and its `[[federation.region]]` tables, with their checks.

use serde::{Deserialize, Serialize};

mod economy;
mod federation;
mod governance;
mod llm;
mod load;
mod public_good;
mod validate;
mod workers;

pub use economy::{
    Brackets, Calibrated, EconomySettings, RebateRule, SkillMode, UtilityName, WelfareName,
};
pub use federation::{
    Federation, InitialRegions, MAX_REGIONS, MoveExpectations, NashStrategy, RegionConfig,
};
pub use governance::{
    DEFAULT_DELEGATE_PEERS, DEFAULT_DELEGATION_SHARE, Eligibility, Governance, GovernanceMode,
    LeaderObjective,
};
pub use llm::{
    BaseUrls, DEFAULT_EJECT_AFTER, DEFAULT_EJECT_SECONDS, DEFAULT_MAX_FALLBACK_SHARE,
    DEFAULT_RETRY_AFTER_CAP, LLM_ENDPOINT_KEYS, LLM_ROLES, LlmConfig, LlmEndpoint, PlatformRebates,
    ResponseFormat, RoleOverride, UtilityFormula, role_table,
};
pub use load::{parse_set, set_value_to_toml};
pub use workers::{PersonaSource, WorkerModel, WorkerPolicyName, Workers};

/// The embedded default scenario (`scenarios/default.toml`).
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.toml");

/// A configuration problem, in words that say which key and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The OS error is part of the message, not `source()`, so a chained report does not
    /// print it twice.
    #[error("cannot read scenario {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("{0}")]
    Parse(String),
    #[error("--set {0:?}: expected key=value, for example --set simulation.seed=7")]
    BadSet(String),
    #[error("--set {set:?}: {why}")]
    SetValue { set: String, why: String },
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
    #[error(
        "--set {0:?}: a resumed run takes only the settings that cannot change its results \
         ({keys}); everything else comes from its log",
        keys = LLM_ENDPOINT_KEYS.join(", ")
    )]
    NotEndpoint(String),
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

/// Most workers a run may have: memory, not time, binds first.
pub const MAX_AGENTS: usize = 20_000_000;
/// Most steps a run (and a tax year) may have.
pub const MAX_STEPS: u64 = 10_000_000;
/// Largest `llm.max_tokens` (and `llm.planner_max_tokens`).
pub const MAX_TOKENS: u32 = 131_072;
/// The labor exponent's range: nearer to 1 the elasticity 1/(delta-1) explodes and best
/// responses overflow to infinity (NaN welfare); above 10 labor hardly responds to taxes.
pub const MIN_LABOR_EXPONENT: f64 = 1.1;
pub const MAX_LABOR_EXPONENT: f64 = 10.0;

/// A floating-point number as a message shows it: as Rust prints it (the shortest digits that
/// read back to it) when that is short, in exponent form when it is huge or tiny (`1e300`,
/// `2.5e-9`), which plain notation writes out in hundreds of digits.
fn compact(x: f64) -> String {
    if x.is_finite() && x != 0.0 && !(1e-5..1e15).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// A value a range message shows: integers in full (at most 20 digits), floating-point
/// numbers [`compact`].
trait Shown: PartialOrd + Copy {
    fn shown(self) -> String;
}

impl Shown for f64 {
    fn shown(self) -> String {
        compact(self)
    }
}

macro_rules! shown_in_full {
    ($($t:ty),*) => {$(
        impl Shown for $t {
            fn shown(self) -> String {
                self.to_string()
            }
        }
    )*};
}
shown_in_full!(u8, u16, u32, u64, usize, i32, i64);

/// `value` within `lo..=hi`, or an error naming `key`, the range and the value (see
/// [`Shown`]). A NaN is outside every range.
fn in_range<T: Shown>(
    key: &'static str,
    value: T,
    lo: T,
    hi: T,
    why: &str,
) -> Result<(), ConfigError> {
    if lo <= value && value <= hi {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!(
                "must be within [{}, {}]{why}, got {}",
                lo.shown(),
                hi.shown(),
                value.shown()
            ),
        ))
    }
}

/// Every URL of `urls` is an http(s) URL, and there is one at least.
fn check_base_urls(key: &'static str, urls: &BaseUrls) -> Result<(), ConfigError> {
    let list = match urls {
        BaseUrls::One(u) => std::slice::from_ref(u),
        BaseUrls::Many(v) => v.as_slice(),
    };
    if list.is_empty() {
        return Err(invalid(key, "give at least one base URL"));
    }
    for u in list {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(invalid(
                key,
                format!("{u:?} is not an http(s) URL (for example http://127.0.0.1:8000/v1)"),
            ));
        }
    }
    Ok(())
}

/// A whole scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// A label for reports.
    pub name: String,
    pub simulation: Simulation,
    pub economy: EconomySettings,
    pub workers: Workers,
    pub planner: Planner,
    pub log: LogConfig,
    pub baselines: Baselines,
    pub llm: LlmConfig,
    pub population: PopulationConfig,
    pub governance: Governance,
    /// Regions that tax and govern themselves (absent: one nation, today's game). Skipped
    /// when absent, so scenarios without it keep their log header byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federation: Option<Federation>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "default".into(),
            simulation: Simulation::default(),
            economy: EconomySettings::default(),
            workers: Workers::default(),
            planner: Planner::default(),
            log: LogConfig::default(),
            baselines: Baselines::default(),
            llm: LlmConfig::default(),
            population: PopulationConfig::default(),
            governance: Governance::default(),
            federation: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Simulation {
    /// The master seed: every random draw of the run derives from it.
    pub seed: u64,
    pub num_agents: usize,
    pub timesteps: u64,
    /// Steps per tax year; the planner acts at the first step of each.
    pub tax_year_length: u64,
    /// Worker shards (one arbiter thread each); 0 = one per core. Never changes results.
    pub shards: usize,
}

impl Default for Simulation {
    fn default() -> Self {
        Simulation {
            seed: 42,
            num_agents: 100,
            timesteps: 1000,
            tax_year_length: 25,
            shards: 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlannerPolicyName {
    /// Per-bracket moves of -20..+20 points once per tax year, searching its history (the
    /// offline stand-in for the LLM planner).
    HillClimb,
    /// The real 2024 US federal schedule (its seven brackets).
    UsFederal,
    /// Saez's optimal rates computed from the population on the scenario's brackets.
    Saez,
    /// `planner.rates` on the scenario's brackets.
    Fixed,
    /// A language model proposes per-bracket moves by in-context learning over its history.
    Llm,
    /// Tax competition (a federation's regions only, all of them): each region's schedule is
    /// its best response to the others', with migration anticipated, iterated to a fixed
    /// point or a cycle before the run (`federation.nash_grid_step`); the regions then keep
    /// those rates.
    Nash,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Planner {
    pub policy: PlannerPolicyName,
    /// Rates (fractions) for `fixed`, one per bracket.
    pub rates: Vec<f64>,
    /// Starting rate in every bracket for `hill-climb` (the paper starts at 50%).
    pub initial_rate: f64,
    /// Saez elasticities: empty = 1/(labor_exponent-1) in every bracket; one value = all
    /// brackets; else one per bracket.
    pub elasticity: Vec<f64>,
    /// Largest per-bracket move, in percentage points (the paper: 20).
    pub max_delta_points: i32,
}

impl Default for Planner {
    fn default() -> Self {
        Planner {
            policy: PlannerPolicyName::HillClimb,
            rates: Vec::new(),
            initial_rate: 0.5,
            elasticity: Vec::new(),
            max_delta_points: 20,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionLog {
    /// Every worker's hours at every step.
    Full,
    /// A checksum of the hours per step (for very large runs; replay still verifies).
    Digest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FsyncPolicy {
    Never,
    Step,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub decisions: DecisionLog,
    pub fsync: FsyncPolicy,
    /// A snapshot every this many tax years (0: none), for `resume` and `fork` to start from.
    /// It cannot change a result, so it is not written into the log's header (a resumed run
    /// uses the default unless given `--set`).
    #[serde(skip_serializing)]
    pub snapshot_every_years: u64,
    /// How many snapshots a run keeps (the newest; older ones it wrote are removed), so that
    /// snapshot disk use stays bounded however long the run. Not in the log's header either.
    #[serde(skip_serializing)]
    pub snapshots_keep: u64,
}

/// Snapshots a run keeps by default: resume loses at most one cadence of work, and a fork can
/// start near any step of the last few cadences.
pub const DEFAULT_SNAPSHOTS_KEEP: u64 = 4;

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            decisions: DecisionLog::Full,
            fsync: FsyncPolicy::Never,
            snapshot_every_years: 5,
            snapshots_keep: DEFAULT_SNAPSHOTS_KEEP,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Baselines {
    /// Also run the US-federal and Saez baselines on the same population and seed.
    pub enabled: bool,
    /// Who works under the baselines' schedules. Unset: the run's own workers, except that
    /// LLM workers become rational ones (so baselines cost no LLM calls). Left out of the
    /// log header when unset, so runs that do not set it keep their bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<BaselineWorkers>,
}

impl Default for Baselines {
    fn default() -> Self {
        Baselines {
            enabled: true,
            workers: None,
        }
    }
}

impl Baselines {
    /// Who works under the baselines when the run's workers follow `policy`.
    pub fn workers_for(&self, policy: WorkerPolicyName) -> BaselineWorkers {
        self.workers.unwrap_or(if policy == WorkerPolicyName::Llm {
            BaselineWorkers::Rational
        } else {
            BaselineWorkers::Same
        })
    }
}

/// Who works under the baselines' schedules (`baselines.workers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaselineWorkers {
    /// The run's own workers (LLM workers too, asked live: each baseline costs a run's calls).
    Same,
    /// Rational workers (exact best responses), whatever the run's workers are.
    Rational,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IncomeModel {
    /// Sorted i.i.d. GB2 draws assigned by rank of a persona-conditioned score (the marginal
    /// stays the GB2 exactly; see README, "Realistic people").
    PersonaRank,
    /// The paper's: each worker's income drawn independently of her persona.
    Independent,
}

/// How census incomes are paired with personas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PopulationConfig {
    pub income_model: IncomeModel,
    /// `persona-rank` only: the correlation, in [0, 1], between an agent's rank score and her
    /// persona's log-income index (0 = incomes independent of personas, 1 = ordered by persona
    /// alone).
    pub persona_weight: f64,
}

impl Default for PopulationConfig {
    fn default() -> Self {
        PopulationConfig {
            income_model: IncomeModel::PersonaRank,
            persona_weight: crate::econ::earnings::DEFAULT_PERSONA_WEIGHT,
        }
    }
}

impl Scenario {
    /// The federation of more than one region, if the scenario has one.
    pub fn regions(&self) -> Option<&Federation> {
        self.federation.as_ref().filter(|f| f.regions > 1)
    }

    /// True when a federation's regions provide a public good (`federation.public_good`).
    pub fn has_public_good(&self) -> bool {
        self.regions().is_some_and(|f| !f.public_good.is_none())
    }

    /// True when any agent talks to a language model (a federation's planners included).
    pub fn uses_llm(&self) -> bool {
        self.workers.policy == WorkerPolicyName::Llm
            || self.planner.policy == PlannerPolicyName::Llm
            || self.regions().is_some_and(|f| {
                f.federal_planner == Some(PlannerPolicyName::Llm)
                    || f.region.iter().any(|r| {
                        // An elected region's planner is never asked.
                        r.planner == Some(PlannerPolicyName::Llm)
                            && r.governance.unwrap_or(self.governance.mode)
                                == GovernanceMode::Planner
                    })
            })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn embedded_default_parses_and_matches_the_issue() {
        let s = Scenario::from_toml(DEFAULT_SCENARIO).unwrap();
        assert_eq!(s.simulation.num_agents, 100);
        assert_eq!(s.simulation.tax_year_length, 25);
        assert_eq!(s.cutoffs().unwrap(), vec![0.0, 90_000.0, 159_100.0]);
        assert_eq!(s.workers.policy, WorkerPolicyName::Rational);
        assert_eq!(s.planner.policy, PlannerPolicyName::HillClimb);
        assert_eq!(s.planner.initial_rate, 0.5);
        assert_eq!(s.population.income_model, IncomeModel::PersonaRank);
        assert_eq!(s.population.persona_weight, 0.40);
    }

    #[test]
    fn the_paper_scenario_draws_incomes_independently() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/paper.toml");
        let s = Scenario::load(Some(Path::new(path)), &[]).unwrap();
        assert_eq!(s.population.income_model, IncomeModel::Independent);
        let set = Scenario::resolve(
            DEFAULT_SCENARIO,
            &[],
            &["population.income_model=independent".into()],
        )
        .unwrap();
        assert_eq!(set.population.income_model, IncomeModel::Independent);
    }

    #[test]
    fn shipped_scenarios_parse() {
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                Scenario::load(Some(&path), &[])
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    }

    /// The error text of resolving the default scenario with `sets` (shared with the
    /// section modules' tests).
    pub(super) fn err_of(sets: &[&str]) -> String {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Scenario::resolve(DEFAULT_SCENARIO, &[], &sets)
            .unwrap_err()
            .to_string()
    }
}
