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
//! - this file: [`Scenario`] and its loading (`load`, `resolve`, `with_endpoint_sets`), the
//!   error type, the shared checks (`invalid`, `in_range`, `check_base_urls`, `check_name`),
//!   the run-wide limits, the small sections `[simulation]`, `[planner]`, `[log]`,
//!   `[baselines]` and `[population]`, and [`Scenario::validate`], which runs every check in
//!   one fixed order (some read more than one section, such as `workers.fixed_hours` against
//!   `economy.max_hours`, so they stay in it);
//! - `economy.rs`: `[economy]` (brackets, utility, labor cost, welfare, the income law);
//! - `workers.rs`: `[workers]`, its mixed-model population and that population's check;
//! - `llm.rs`: `[llm]` and its `[llm.ROLE]` tables, the endpoint keys a resume may change,
//!   and the `[llm]` checks;
//! - `governance.rs`: `[governance]`, the liquid-democracy defaults and the section's checks;
//! - `federation.rs`: `[federation]` and its `[[federation.region]]` tables, with their checks.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::econ::{BracketPreset, TaxSchedule};

mod economy;
mod federation;
mod governance;
mod llm;
mod workers;

pub use economy::{
    Brackets, Calibrated, EconomySettings, RebateRule, SkillMode, UtilityName, WelfareName,
};
pub use federation::{Federation, MAX_REGIONS, RegionConfig};
pub use governance::{
    DEFAULT_DELEGATE_PEERS, DEFAULT_DELEGATION_SHARE, Eligibility, Governance, GovernanceMode,
    LeaderObjective,
};
pub use llm::{
    BaseUrls, DEFAULT_EJECT_AFTER, DEFAULT_EJECT_SECONDS, DEFAULT_MAX_FALLBACK_SHARE,
    DEFAULT_RETRY_AFTER_CAP, LLM_ENDPOINT_KEYS, LLM_ROLES, LlmConfig, LlmEndpoint, ResponseFormat,
    RoleOverride, UtilityFormula, role_table,
};
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

/// `value` within `lo..=hi`, or an error naming `key`, the range and the value. A NaN is
/// outside every range.
fn in_range<T: PartialOrd + std::fmt::Display>(
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
            format!("must be within [{lo}, {hi}]{why}, got {value}"),
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

/// A scenario's name becomes a folder under `runs/`: plain characters only, so it can
/// never point elsewhere (`../x`, `/tmp/x`) or hide (`.x`).
fn check_name(name: &str) -> Result<(), ConfigError> {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if name.is_empty() || name.len() > 100 || !plain || name.starts_with('.') {
        return Err(invalid(
            "name",
            format!(
                "{name:?} is not a plain name: use 1 to 100 letters, digits, '-', '_' or '.', \
                 not starting with '.' (it names the run's folder under runs/)"
            ),
        ));
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

/// Turns one `--set key=value` into a TOML line. Values are TOML; a value that is not valid
/// TOML (a bare word such as `three` or `saez`) is taken as a string.
fn set_to_toml(set: &str) -> Result<String, ConfigError> {
    let (key, value) = set
        .split_once('=')
        .ok_or_else(|| ConfigError::BadSet(set.to_string()))?;
    let (key, value) = (key.trim(), value.trim());
    let valid_key = !key.is_empty()
        && key
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if !valid_key {
        return Err(ConfigError::BadSet(set.to_string()));
    }
    let line = format!("{key} = {value}");
    if toml::from_str::<toml::Table>(&line).is_ok() {
        Ok(line)
    } else {
        Ok(format!(
            "{key} = {}",
            toml::Value::String(value.to_string())
        ))
    }
}

/// A merged configuration that does not deserialize, in words: the config crate names the
/// key, but of a misspelt enum value it says only "does not have variant constructor"; serde's
/// own message, from the same values through `toml`, lists the valid ones.
fn explain_parse_error(merged: &config::Config, e: &config::ConfigError) -> String {
    let text = e.to_string();
    if !text.contains("does not have variant constructor") {
        return format!("scenario: {text}");
    }
    let key = text
        .split_once("for key `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(key, _)| key.to_string());
    let valid = merged
        .clone()
        .try_deserialize::<toml::Value>()
        .ok()
        .and_then(|v| v.try_into::<Scenario>().err())
        .map(|e| e.message().trim().to_string())
        .filter(|m| m.contains("expected"));
    match (key, valid) {
        (Some(key), Some(valid)) => format!("scenario: {key}: {valid}"),
        (None, Some(valid)) => format!("scenario: {valid}"),
        _ => format!("scenario: {text}"),
    }
}

impl Scenario {
    /// Resolves a scenario: `path` (or the embedded default), then the environment, then
    /// `sets`; then validates.
    pub fn load(path: Option<&Path>, sets: &[String]) -> Result<Scenario, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.display().to_string(),
                cause: source,
            })?,
            None => DEFAULT_SCENARIO.to_string(),
        };
        let env: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("SIMULACRA__"))
            .collect();
        Self::resolve(&text, &env, sets)
    }

    /// Resolves from scenario text, environment pairs and `--set`s (testable without a
    /// process environment).
    pub fn resolve(
        text: &str,
        env: &[(String, String)],
        sets: &[String],
    ) -> Result<Scenario, ConfigError> {
        use config::{Config, Environment, File, FileFormat};
        let mut builder = Config::builder().add_source(File::from_str(text, FileFormat::Toml));
        let env_map: std::collections::HashMap<String, String> = env.iter().cloned().collect();
        builder = builder.add_source(
            Environment::with_prefix("SIMULACRA")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("planner.rates")
                .with_list_parse_key("planner.elasticity")
                .with_list_parse_key("economy.brackets")
                .source(Some(env_map)),
        );
        for set in sets {
            builder = builder.add_source(File::from_str(&set_to_toml(set)?, FileFormat::Toml));
        }
        let merged = builder
            .build()
            .map_err(|e| ConfigError::Parse(format!("scenario: {e}")))?;
        let scenario: Scenario = match merged.clone().try_deserialize() {
            Ok(s) => s,
            Err(e) => return Err(ConfigError::Parse(explain_parse_error(&merged, &e))),
        };
        let mut scenario = scenario;
        scenario.validate()?;
        // One region is the one-nation game: the section goes, so its log is today's.
        if scenario.federation.as_ref().is_some_and(|f| f.regions == 1) {
            scenario.federation = None;
        }
        Ok(scenario)
    }

    /// This scenario with `sets` applied, each of which must name one of [`LLM_ENDPOINT_KEYS`]
    /// (what a resumed run may change); validated as a whole.
    pub fn with_endpoint_sets(&self, sets: &[String]) -> Result<Scenario, ConfigError> {
        for set in sets {
            let key = set
                .split_once('=')
                .ok_or_else(|| ConfigError::BadSet(set.clone()))?
                .0
                .trim();
            if !LLM_ENDPOINT_KEYS.contains(&key) {
                return Err(ConfigError::NotEndpoint(set.clone()));
            }
        }
        Self::resolve(&self.to_toml(), &[], sets)
    }

    /// Parses a scenario from TOML text alone (defaults for missing keys).
    pub fn from_toml(text: &str) -> Result<Scenario, ConfigError> {
        Self::resolve(text, &[], &[])
    }

    /// The scenario as TOML (what the log header stores).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a scenario always serializes to TOML")
    }

    /// Checks ranges and cross-key consistency.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name(&self.name)?;
        let s = &self.simulation;
        in_range(
            "simulation.num_agents",
            s.num_agents,
            1,
            MAX_AGENTS,
            " (a worker takes about 1.5 KB of memory: 10 million need about 14 GiB)",
        )?;
        in_range(
            "simulation.timesteps",
            s.timesteps,
            1,
            MAX_STEPS,
            " (a run keeps a record of about 100 bytes per step)",
        )?;
        in_range(
            "simulation.tax_year_length",
            s.tax_year_length,
            1,
            MAX_STEPS,
            "",
        )?;
        in_range(
            "simulation.shards",
            s.shards,
            0,
            1024,
            " (0 = one per core)",
        )?;
        if self.log.snapshots_keep == 0 {
            return Err(invalid(
                "log.snapshots_keep",
                "must be at least 1 (turn snapshots off with log.snapshot_every_years = 0)",
            ));
        }
        let e = &self.economy;
        let cutoffs = self.cutoffs()?;
        if !(e.max_hours > 0.0 && e.max_hours <= 168.0) {
            return Err(invalid(
                "economy.max_hours",
                format!(
                    "must be a positive number of weekly hours, at most 168 (got {})",
                    e.max_hours
                ),
            ));
        }
        in_range(
            "economy.labor_exponent",
            e.labor_exponent,
            MIN_LABOR_EXPONENT,
            MAX_LABOR_EXPONENT,
            " (the labor elasticity 1/(delta-1) is then between 0.11 and 10; near 1 the best \
             responses overflow: 1.0000001 gives NaN welfare)",
        )?;
        e.labor_cost.check("economy.labor_cost")?;
        e.crra_reference_consumption
            .check("economy.crra_reference_consumption")?;
        if !(e.crra_eta > 0.0 && e.crra_eta <= 20.0) {
            return Err(invalid(
                "economy.crra_eta",
                format!("must be positive, at most 20 (got {})", e.crra_eta),
            ));
        }
        if !(e.welfare_income_floor > 0.0 && e.welfare_income_floor <= 1e6) {
            return Err(invalid(
                "economy.welfare_income_floor",
                format!(
                    "must be a positive number of dollars, at most 1e6 (got {})",
                    e.welfare_income_floor
                ),
            ));
        }
        e.income
            .validate()
            .map_err(|err| invalid("economy.income", err.to_string()))?;
        let w = &self.workers;
        if !(0.0..=e.max_hours).contains(&w.fixed_hours) {
            return Err(invalid(
                "workers.fixed_hours",
                format!("must be within [0, economy.max_hours = {}]", e.max_hours),
            ));
        }
        for (key, share) in [
            ("workers.altruistic_share", w.altruistic_share),
            ("workers.adversarial_share", w.adversarial_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(invalid(key, "must be a fraction in [0, 1]"));
            }
        }
        if w.altruistic_share + w.adversarial_share > 1.0 {
            return Err(invalid(
                "workers.altruistic_share",
                "altruistic_share + adversarial_share must not exceed 1",
            ));
        }
        if w.policy == WorkerPolicyName::Rational
            && (w.altruistic_share > 0.0 || w.adversarial_share > 0.0)
        {
            return Err(invalid(
                "workers.policy",
                "rational workers best-respond to their own utility; altruistic and adversarial \
                 workers learn from welfare feedback: use workers.policy = \"bounded\"",
            ));
        }
        in_range("workers.explore_steps", w.explore_steps, 0, 100_000, "")?;
        if !(0.0..=1.0).contains(&w.exploration_rate) {
            return Err(invalid(
                "workers.exploration_rate",
                "must be a probability in [0, 1]",
            ));
        }
        if w.policy != WorkerPolicyName::Llm && (w.personas == PersonaSource::Llm || w.satisfaction)
        {
            return Err(invalid(
                "workers.personas",
                "LLM personas and the satisfaction question need workers.policy = \"llm\"",
            ));
        }
        self.validate_llm()?;
        self.governance.validate()?;
        let pw = self.population.persona_weight;
        if !(pw.is_finite() && (0.0..=1.0).contains(&pw)) {
            return Err(invalid(
                "population.persona_weight",
                format!(
                    "must be in [0, 1] (a correlation; the default is {}), got {}",
                    crate::econ::earnings::DEFAULT_PERSONA_WEIGHT,
                    pw
                ),
            ));
        }
        if let Some(f) = &self.federation {
            f.validate(self)?;
        }
        let p = &self.planner;
        if !(0.0..=1.0).contains(&p.initial_rate) {
            return Err(invalid(
                "planner.initial_rate",
                "must be a fraction in [0, 1]",
            ));
        }
        if !(10..=100).contains(&p.max_delta_points) || p.max_delta_points % 10 != 0 {
            return Err(invalid(
                "planner.max_delta_points",
                "must be a positive multiple of 10, at most 100 (the paper uses 20)",
            ));
        }
        if p.policy == PlannerPolicyName::Fixed && p.rates.len() != cutoffs.len() {
            return Err(invalid(
                "planner.rates",
                format!(
                    "planner.policy = \"fixed\" needs {} rates (one per bracket of economy.brackets), got {}",
                    cutoffs.len(),
                    p.rates.len()
                ),
            ));
        }
        if p.rates.iter().any(|r| !(0.0..=1.0).contains(r)) {
            return Err(invalid(
                "planner.rates",
                "rates are fractions in [0, 1] (write 0.35, not 35)",
            ));
        }
        if !p.elasticity.is_empty() {
            if p.elasticity.len() != 1 && p.elasticity.len() != cutoffs.len() {
                return Err(invalid(
                    "planner.elasticity",
                    format!("give one value or {} (one per bracket)", cutoffs.len()),
                ));
            }
            if p.elasticity.iter().any(|e| !(*e > 0.0 && *e <= 100.0)) {
                return Err(invalid(
                    "planner.elasticity",
                    "elasticities must be positive, at most 100",
                ));
            }
        }
        Ok(())
    }

    /// The federation of more than one region, if the scenario has one.
    pub fn regions(&self) -> Option<&Federation> {
        self.federation.as_ref().filter(|f| f.regions > 1)
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

    /// The bracket lower cut-offs of the scenario: checked by validation, and derived once
    /// into [`crate::resolved::ResolvedScenario::cutoffs`], which the rest of the code reads.
    pub(crate) fn cutoffs(&self) -> Result<Vec<f64>, ConfigError> {
        let cutoffs = match &self.economy.brackets {
            Brackets::Preset(name) => BracketPreset::parse(name)
                .ok_or_else(|| {
                    invalid(
                        "economy.brackets",
                        format!(
                            "unknown preset {name:?}: use one of {} or a list of cut-offs such as [0, 50000, 150000]",
                            BracketPreset::ALL.map(|p| p.name()).join(", ")
                        ),
                    )
                })?
                .cutoffs(),
            Brackets::Cutoffs(c) => c.clone(),
        };
        TaxSchedule::uniform(cutoffs.clone(), 0.0)
            .map_err(|e| invalid("economy.brackets", e.to_string()))?;
        Ok(cutoffs)
    }
}

#[cfg(test)]
mod tests {
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
    fn sets_override_and_bare_words_are_strings() {
        let sets = vec![
            "simulation.seed=7".to_string(),
            "economy.brackets=us-federal-2024".to_string(),
            "planner.policy=fixed".to_string(),
            "planner.rates=[0.1,0.2,0.3,0.4,0.5,0.6,0.7]".to_string(),
        ];
        let s = Scenario::resolve(DEFAULT_SCENARIO, &[], &sets).unwrap();
        assert_eq!(s.simulation.seed, 7);
        assert_eq!(s.cutoffs().unwrap().len(), 7);
        assert_eq!(s.planner.rates[6], 0.7);
    }

    #[test]
    fn environment_overrides_the_file_and_sets_override_the_environment() {
        let env = vec![
            (
                "SIMULACRA__SIMULATION__NUM_AGENTS".to_string(),
                "12".to_string(),
            ),
            ("SIMULACRA__SIMULATION__SEED".to_string(), "5".to_string()),
        ];
        let s = Scenario::resolve(DEFAULT_SCENARIO, &env, &["simulation.seed=9".into()]).unwrap();
        assert_eq!(s.simulation.num_agents, 12);
        assert_eq!(s.simulation.seed, 9);
    }

    /// The error text of resolving the default scenario with `sets` (shared with the
    /// section modules' tests).
    pub(super) fn err_of(sets: &[&str]) -> String {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Scenario::resolve(DEFAULT_SCENARIO, &[], &sets)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        assert!(err_of(&["simulation.num_agent=5"]).contains("num_agent"));
        assert!(err_of(&["simulaton.seed=5"]).contains("simulaton"));
        assert!(err_of(&["workers.policy=genius"]).contains("genius"));
        assert!(err_of(&["simulation.num_agents=0"]).contains("simulation.num_agents"));
        assert!(err_of(&["economy.brackets=four"]).contains("economy.brackets"));
        assert!(err_of(&["economy.brackets=[0, 5000, 100]"]).contains("economy.brackets"));
        assert!(err_of(&["planner.policy=fixed", "planner.rates=[0.1]"]).contains("planner.rates"));
        assert!(err_of(&["planner.rates=[35, 10, 10]"]).contains("fractions"));
        assert!(err_of(&["simulation.seed=-3"]).contains("seed"));
        assert!(err_of(&["workers.altruistic_share=0.5"]).contains("workers.policy"));
        assert!(err_of(&["noequals"]).contains("key=value"));
        assert!(err_of(&["population.persona_weight=1.5"]).contains("population.persona_weight"));
        assert!(err_of(&["population.persona_weight=-0.1"]).contains("population.persona_weight"));
        assert!(err_of(&["population.income_model=magic"]).contains("magic"));
        assert!(err_of(&["population.weight=0.3"]).contains("weight"));
    }

    #[test]
    fn every_number_has_a_range_and_the_name_stays_under_runs() {
        // Each of these panicked, hung or aborted before it was refused.
        for (set, key) in [
            ("llm.timeout_seconds=1e20", "llm.timeout_seconds"),
            ("llm.timeout_seconds=nan", "llm.timeout_seconds"),
            ("llm.concurrency=2305843009213693952", "llm.concurrency"),
            ("llm.backoff_ms=18446744073709551615", "llm.backoff_ms"),
            ("llm.max_retries=4294967295", "llm.max_retries"),
            ("llm.max_reasks=1000", "llm.max_reasks"),
            ("llm.max_tokens=4294967295", "llm.max_tokens"),
            ("llm.max_fallback_share=1.5", "llm.max_fallback_share"),
            ("llm.max_fallback_share=-0.1", "llm.max_fallback_share"),
            ("simulation.num_agents=4000000000", "simulation.num_agents"),
            ("simulation.timesteps=1000000000000", "simulation.timesteps"),
            ("economy.labor_exponent=1.0000001", "economy.labor_exponent"),
            ("economy.labor_exponent=1e300", "economy.labor_exponent"),
            ("economy.max_hours=1e300", "economy.max_hours"),
            ("governance.ballot_noise=inf", "governance.ballot_noise"),
            (
                "planner.max_delta_points=2147483640",
                "planner.max_delta_points",
            ),
        ] {
            let err = err_of(&[set]);
            assert!(err.starts_with(key), "{set}: {err}");
        }
        let err = err_of(&["llm.concurrency=2305843009213693952"]);
        assert!(
            err.contains("[1, 4096]") && err.contains("2305843009213693952"),
            "{err}"
        );
        for name in ["../../x", "/tmp/x", ".hidden", "", "a b", "runs\\x"] {
            let err = err_of(&[&format!("name={name:?}")]);
            assert!(err.starts_with("name:"), "{name:?}: {err}");
        }
        // The range ends themselves are accepted.
        for set in [
            "economy.labor_exponent=1.1",
            "economy.labor_exponent=10",
            "llm.max_fallback_share=1",
            "llm.timeout_seconds=3600",
            "name=my-run_2.b",
        ] {
            Scenario::resolve(DEFAULT_SCENARIO, &[], &[set.to_string()])
                .unwrap_or_else(|e| panic!("{set}: {e}"));
        }
    }

    #[test]
    fn unknown_environment_key_is_an_error() {
        let env = vec![("SIMULACRA__SIMULATION__SPEED".to_string(), "1".to_string())];
        let err = Scenario::resolve(DEFAULT_SCENARIO, &env, &[]).unwrap_err();
        assert!(err.to_string().contains("speed"), "{err}");
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

    #[test]
    fn a_misspelt_enum_value_names_the_key_and_the_valid_values() {
        let err = Scenario::resolve(DEFAULT_SCENARIO, &[], &["planner.policy=hillclimb".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "scenario: planner.policy: unknown variant `hillclimb`, expected one of \
             `hill-climb`, `us-federal`, `saez`, `fixed`, `llm`"
        );
        let err = Scenario::resolve(DEFAULT_SCENARIO, &[], &["baselines.workers=mine".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected `same` or `rational`"), "{err}");
    }

    #[test]
    fn resolved_scenario_round_trips_through_toml() {
        let s = Scenario::resolve(DEFAULT_SCENARIO, &[], &["simulation.seed=3".into()]).unwrap();
        assert_eq!(Scenario::from_toml(&s.to_toml()).unwrap(), s);
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// No scenario text, environment value or --set makes the loader panic: it parses
            /// or names the problem.
            #[test]
            fn the_loader_never_panics(
                text in "[a-z_\\[\\]=. 0-9\"\n-]{0,120}",
                key in "[a-z_.]{1,30}",
                value in ".{0,30}",
            ) {
                let _ = Scenario::from_toml(&text);
                let _ = Scenario::resolve(DEFAULT_SCENARIO, &[], &[format!("{key}={value}")]);
                let env = vec![(format!("SIMULACRA__{}", key.to_uppercase().replace('.', "__")), value)];
                let _ = Scenario::resolve(DEFAULT_SCENARIO, &env, &[]);
            }
        }
    }
}
