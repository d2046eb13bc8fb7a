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
//! Size: about 910 lines before its tests, over the house's 600, and kept one piece: the
//! schema's sections, their defaults and their validation sit side by side so a key's type,
//! default and check are read together, and `validate` is one function over the cross-key
//! rules (a key's check often reads another section); splitting the schema from its validation
//! would put a key's type and its range in two files. The derived layer, the one clean cut, is
//! `resolved.rs`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::econ::{BracketPreset, Gb2, TaxSchedule};

/// The embedded default scenario (`scenarios/default.toml`).
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.toml");

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

/// A role's own settings are in the ranges of the `[llm]` ones.
fn check_role_override(role: &str, o: &RoleOverride) -> Result<(), ConfigError> {
    // The key names the table; the message says which setting of it.
    let key = match role {
        "worker" => "llm.worker",
        "planner" => "llm.planner",
        "persona" => "llm.persona",
        "satisfaction" => "llm.satisfaction",
        "stand" => "llm.stand",
        "vote" => "llm.vote",
        "move" => "llm.move",
        _ => "llm.leader",
    };
    if o.model.as_ref().is_some_and(|m| m.is_empty()) {
        return Err(invalid(
            key,
            "model: name the model to request, or leave it out",
        ));
    }
    if let Some(t) = o.temperature
        && !(t.is_finite() && (0.0..=2.0).contains(&t))
    {
        return Err(invalid(
            key,
            format!("temperature must be within [0, 2], got {t}"),
        ));
    }
    if let Some(m) = o.max_tokens
        && !(1..=MAX_TOKENS).contains(&m)
    {
        return Err(invalid(
            key,
            format!("max_tokens must be within [1, {MAX_TOKENS}], got {m}"),
        ));
    }
    if let Some(u) = &o.base_url {
        check_base_urls(key, u)?;
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
    fn check(&self, key: &'static str) -> Result<(), ConfigError> {
        match self {
            Calibrated::Value(v) if !(v.is_finite() && *v > 0.0) => {
                Err(invalid(key, "must be positive or \"calibrated\""))
            }
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerPolicyName {
    /// The exact best response.
    Rational,
    /// An in-context learner over its own history (the offline stand-in for an LLM worker).
    Bounded,
    /// Always the same hours.
    Fixed,
    /// A language model chooses, in context, from its own history (see `[llm]`).
    Llm,
}

/// Whether workers carry a persona text, and where it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PersonaSource {
    /// No persona in prompts (the paper's `rational` scenario).
    None,
    /// The deterministic census template.
    Template,
    /// Written by the LLM once per agent from its census draw, the template as fallback.
    Llm,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workers {
    pub policy: WorkerPolicyName,
    /// Hours of `fixed` workers.
    pub fixed_hours: f64,
    /// Share of workers whose utility is last step's welfare (the paper's altruistic type).
    pub altruistic_share: f64,
    /// Share of workers whose utility is minus last step's welfare.
    pub adversarial_share: f64,
    /// `bounded`: steps spent exploring after each schedule change.
    pub explore_steps: u32,
    /// `bounded`: probability of a random exploratory choice after exploring.
    pub exploration_rate: f64,
    /// `llm`: persona texts in the worker prompts.
    pub personas: PersonaSource,
    /// `llm`: ask every worker each step whether she is satisfied with the tax policy; a "no"
    /// halves the utility she perceives (the paper's bounded scenario).
    pub satisfaction: bool,
    /// `llm`: a population mixing models by share (empty = every worker on `llm.model`).
    /// Workers are assigned by id, deterministically (see [`crate::llm::models`]). Left out of
    /// the log header when empty, so headers of runs on one model keep their bytes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<WorkerModel>,
}

/// One model of a mixed worker population: `{ model = "a", share = 0.5, base_url = "..." }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerModel {
    pub model: String,
    /// Its share of the workers; the shares sum to 1.
    pub share: f64,
    /// The server (or pool) these workers ask, when not `llm.base_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<BaseUrls>,
}

impl Default for Workers {
    fn default() -> Self {
        Workers {
            policy: WorkerPolicyName::Rational,
            fixed_hours: 40.0,
            altruistic_share: 0.0,
            adversarial_share: 0.0,
            explore_steps: 6,
            exploration_rate: 0.05,
            personas: PersonaSource::None,
            satisfaction: false,
            models: Vec::new(),
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

/// Who sets the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GovernanceMode {
    /// The planner policy (`[planner]`).
    Planner,
    /// The population elects, every `term_years`, a worker who sets it (or adopts a schedule
    /// directly, with `rule = "referendum"`).
    Election,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Eligibility {
    /// Every worker is a candidate.
    Everyone,
    /// Only workers who declare (offline: whose platform gains them `declare_gain`).
    Declared,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeaderObjective {
    /// The paper's: the leader moves to maximize her own utility.
    OwnUtility,
    /// A variant: the leader maximizes social welfare.
    Welfare,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Governance {
    pub mode: GovernanceMode,
    /// One of plurality, approval, borda, instant-runoff, condorcet, random-ballot, sortition,
    /// referendum, liquid.
    pub rule: String,
    /// Elections every this many tax years; the leader moves every year of her term.
    pub term_years: u64,
    pub eligibility: Eligibility,
    /// Relative utility gain over the status quo that makes an offline worker declare.
    pub declare_gain: f64,
    /// With declared candidates: at most this many, those with the largest gains.
    pub max_candidates: usize,
    pub leader_objective: LeaderObjective,
    /// Relative noise on the utilities offline voters compare (0 = exact best responses).
    pub ballot_noise: f64,
    /// LLM workers: ask each one for a platform (otherwise they vote by candidate id only).
    pub platforms: bool,
    /// Liquid democracy, offline voters: the share who delegate (each by a draw from her own
    /// stream) to the most similar direct voter. Not written when default, so scenarios that
    /// do not use it keep their header.
    #[serde(skip_serializing_if = "is_default_delegation_share")]
    pub delegation_share: f64,
    /// Liquid democracy: the rule that counts the weighted ballots (plurality of weights by
    /// default).
    #[serde(skip_serializing_if = "is_default_liquid_count")]
    pub liquid_count: String,
    /// Liquid democracy, LLM voters: how many of the most similar fellow voters each is offered
    /// as delegates (besides the candidates).
    #[serde(skip_serializing_if = "is_default_delegate_peers")]
    pub delegate_peers: usize,
}

pub const DEFAULT_DELEGATION_SHARE: f64 = 0.5;
pub const DEFAULT_DELEGATE_PEERS: usize = 5;

fn is_default_delegation_share(share: &f64) -> bool {
    *share == DEFAULT_DELEGATION_SHARE
}

fn is_default_liquid_count(rule: &str) -> bool {
    rule == "plurality"
}

fn is_default_delegate_peers(k: &usize) -> bool {
    *k == DEFAULT_DELEGATE_PEERS
}

impl Default for Governance {
    fn default() -> Self {
        Governance {
            mode: GovernanceMode::Planner,
            rule: "plurality".into(),
            term_years: 1,
            eligibility: Eligibility::Everyone,
            declare_gain: 0.01,
            max_candidates: 10,
            leader_objective: LeaderObjective::OwnUtility,
            ballot_noise: 0.0,
            platforms: true,
            delegation_share: DEFAULT_DELEGATION_SHARE,
            liquid_count: "plurality".into(),
            delegate_peers: DEFAULT_DELEGATE_PEERS,
        }
    }
}

/// Most regions a federation may have.
pub const MAX_REGIONS: usize = 64;

/// `[federation]`: the economy split into regions, each with its own schedule, governance and
/// budget, and workers who may move between them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Federation {
    /// K >= 1; K = 1 is the one-nation game (the section is then dropped when resolving).
    pub regions: usize,
    /// Workers may move every this many tax years (0 = nobody moves).
    pub move_every_years: u64,
    /// Scale (utility units) of each worker's persistent type-I extreme-value taste for each
    /// region; 0 = no taste (deterministic choice).
    pub taste_scale: f64,
    /// Utility a move costs, paid in the comparison (not in consumption).
    pub moving_cost: f64,
    /// The federal layer's planner (unset, with no federal election: no federal layer). Its
    /// schedule sits on top of the regions' (marginal rates add, capped at 100 %).
    pub federal_planner: Option<PlannerPolicyName>,
    /// The federal schedule's starting rate in every bracket.
    pub federal_initial_rate: f64,
    /// The federal schedule of `federal_planner = "fixed"`, one rate per bracket.
    pub federal_rates: Vec<f64>,
    /// "planner" (the federal layer's planner sets the federal schedule) or "election" (a
    /// leader elected by every worker of the nation sets it). Unset: "planner" when
    /// `federal_planner` is set.
    pub federal_governance: Option<GovernanceMode>,
    /// The federal election's rule (unset: `governance.rule`).
    pub federal_rule: Option<String>,
    /// The federal leader's term (unset: `governance.term_years`).
    pub federal_term_years: Option<u64>,
    /// Where federal revenue goes: "none" (rebated to every worker), "per-capita" or
    /// "revenue-sharing" (paid to the regions).
    pub equalization: crate::econ::federation::Equalization,
    /// One table per region (none: K equal regions under `[planner]` and `[governance]`).
    pub region: Vec<RegionConfig>,
}

impl Default for Federation {
    fn default() -> Self {
        Federation {
            regions: 1,
            move_every_years: 1,
            taste_scale: 0.0,
            moving_cost: 0.0,
            federal_planner: None,
            federal_initial_rate: 0.0,
            federal_rates: Vec::new(),
            federal_governance: None,
            federal_rule: None,
            federal_term_years: None,
            equalization: crate::econ::federation::Equalization::None,
            region: Vec::new(),
        }
    }
}

/// `[[federation.region]]`: one region. Unset keys take the national `[planner]` and
/// `[governance]` values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegionConfig {
    /// The region's share of the workers at the start (shares are normalized; unset = equal).
    pub share: Option<f64>,
    /// Utility every resident draws from living there.
    pub amenity: f64,
    /// Starting rate in every bracket (unset: `planner.initial_rate`).
    pub initial_rate: Option<f64>,
    /// The region's planner policy (unset: `planner.policy`).
    pub planner: Option<PlannerPolicyName>,
    /// The region's schedule under `planner = "fixed"`, one rate per bracket (empty:
    /// `planner.rates`).
    pub rates: Vec<f64>,
    /// "planner" or "election" (unset: `governance.mode`).
    pub governance: Option<GovernanceMode>,
    /// The region's voting rule (unset: `governance.rule`).
    pub rule: Option<String>,
    /// The region's term (unset: `governance.term_years`).
    pub term_years: Option<u64>,
}

impl Federation {
    /// Region `r`'s settings (an empty table when the scenario gives none).
    pub fn region(&self, r: usize) -> RegionConfig {
        self.region.get(r).cloned().unwrap_or_default()
    }

    /// How the federal layer is governed, if there is one: by its planner, or by a leader the
    /// nation elects.
    pub fn federal_mode(&self) -> Option<GovernanceMode> {
        self.federal_governance
            .or(self.federal_planner.map(|_| GovernanceMode::Planner))
    }

    /// The rates of region `r` under `planner = "fixed"`: its own, else the national ones.
    pub fn fixed_rates<'a>(&'a self, r: usize, national: &'a [f64]) -> &'a [f64] {
        match self.region.get(r) {
            Some(c) if !c.rates.is_empty() => &c.rates,
            _ => national,
        }
    }

    /// Each region's starting share of the workers, normalized to sum to 1.
    pub fn shares(&self) -> Vec<f64> {
        let raw: Vec<f64> = (0..self.regions)
            .map(|r| self.region(r).share.unwrap_or(1.0))
            .collect();
        let total: f64 = raw.iter().sum();
        raw.iter().map(|s| s / total).collect()
    }

    fn validate(&self, scenario: &Scenario) -> Result<(), ConfigError> {
        in_range(
            "federation.regions",
            self.regions,
            1,
            MAX_REGIONS,
            " (1 = one nation)",
        )?;
        if self.regions == 1 && !self.region.is_empty() {
            return Err(invalid(
                "federation.region",
                "with regions = 1 the whole economy is one region, governed by [planner] and \
                 [governance]: remove the [[federation.region]] tables or raise \
                 federation.regions",
            ));
        }
        if self.region.len() > self.regions {
            return Err(invalid(
                "federation.region",
                format!(
                    "{} [[federation.region]] tables for federation.regions = {}: give at most \
                     one table per region",
                    self.region.len(),
                    self.regions
                ),
            ));
        }
        in_range(
            "federation.move_every_years",
            self.move_every_years,
            0,
            MAX_STEPS,
            " (0 = nobody moves)",
        )?;
        in_range(
            "federation.taste_scale",
            self.taste_scale,
            0.0,
            1e9,
            " (utility units; 0 = no idiosyncratic taste)",
        )?;
        in_range(
            "federation.moving_cost",
            self.moving_cost,
            0.0,
            1e12,
            " (utility units)",
        )?;
        in_range(
            "federation.federal_initial_rate",
            self.federal_initial_rate,
            0.0,
            1.0,
            " (a fraction: write 0.1 for 10 %)",
        )?;
        let brackets = scenario.cutoffs()?.len();
        let rates_ok = |key: &'static str, rates: &[f64], what: &str| -> Result<(), ConfigError> {
            if rates.len() != brackets {
                return Err(invalid(
                    key,
                    format!(
                        "{what} needs {brackets} rates (one per bracket of economy.brackets), \
                         got {}",
                        rates.len()
                    ),
                ));
            }
            if rates.iter().any(|r| !(0.0..=1.0).contains(r)) {
                return Err(invalid(
                    key,
                    "rates are fractions in [0, 1] (write 0.35, not 35)",
                ));
            }
            Ok(())
        };
        match (self.federal_governance, self.federal_planner) {
            (Some(GovernanceMode::Election), Some(_)) => {
                return Err(invalid(
                    "federation.federal_planner",
                    "the federal layer is elected (federation.federal_governance = \"election\"): \
                     remove federation.federal_planner, or set federal_governance = \"planner\"",
                ));
            }
            (Some(GovernanceMode::Planner), None) => {
                return Err(invalid(
                    "federation.federal_governance",
                    "a planned federal layer needs federation.federal_planner (for example \
                     \"hill-climb\")",
                ));
            }
            (_, Some(PlannerPolicyName::Fixed)) => rates_ok(
                "federation.federal_rates",
                &self.federal_rates,
                "federation.federal_planner = \"fixed\"",
            )?,
            _ => {}
        }
        if self.federal_mode().is_none()
            && self.equalization != crate::econ::federation::Equalization::None
        {
            return Err(invalid(
                "federation.equalization",
                "equalization shares federal revenue: set federation.federal_planner \
                 (for example \"hill-climb\") or federation.federal_governance = \"election\" \
                 to add a federal layer",
            ));
        }
        if !self.federal_rates.is_empty() && self.federal_planner != Some(PlannerPolicyName::Fixed)
        {
            return Err(invalid(
                "federation.federal_rates",
                "only a fixed federal layer has federal_rates: set federation.federal_planner = \
                 \"fixed\", or remove them",
            ));
        }
        if let Some(rule) = &self.federal_rule
            && crate::governance::rule(rule).is_none()
        {
            return Err(invalid(
                "federation.federal_rule",
                format!(
                    "unknown rule {rule:?}: use one of {}",
                    crate::governance::RULES.join(", ")
                ),
            ));
        }
        if let Some(term) = self.federal_term_years {
            in_range("federation.federal_term_years", term, 1, MAX_STEPS, "")?;
        }
        if (self.federal_rule.is_some() || self.federal_term_years.is_some())
            && self.federal_mode() != Some(GovernanceMode::Election)
        {
            return Err(invalid(
                "federation.federal_rule",
                "federal_rule and federal_term_years apply to an elected federal layer: set \
                 federation.federal_governance = \"election\"",
            ));
        }
        for r in &self.region {
            if let Some(share) = r.share
                && !(share.is_finite() && share > 0.0 && share <= 1e6)
            {
                return Err(invalid(
                    "federation.region.share",
                    format!("must be positive (shares are normalized), got {share}"),
                ));
            }
            in_range(
                "federation.region.amenity",
                r.amenity,
                -1e12,
                1e12,
                " (utility units)",
            )?;
            if let Some(rate) = r.initial_rate {
                in_range(
                    "federation.region.initial_rate",
                    rate,
                    0.0,
                    1.0,
                    " (a fraction: write 0.3 for 30 %)",
                )?;
            }
            if !r.rates.is_empty() {
                rates_ok("federation.region.rates", &r.rates, "a region's rates")?;
                if r.planner.unwrap_or(scenario.planner.policy) != PlannerPolicyName::Fixed {
                    return Err(invalid(
                        "federation.region.rates",
                        "only a fixed region has rates: set planner = \"fixed\" in its \
                         [[federation.region]] table, or remove them",
                    ));
                }
            }
            if r.planner == Some(PlannerPolicyName::Fixed) && r.rates.is_empty() {
                rates_ok(
                    "federation.region.rates",
                    &scenario.planner.rates,
                    "a region with planner = \"fixed\" and no rates of its own uses planner.rates; it",
                )?;
            }
            if let Some(rule) = &r.rule
                && crate::governance::rule(rule).is_none()
            {
                return Err(invalid(
                    "federation.region.rule",
                    format!(
                        "unknown rule {rule:?}: use one of {}",
                        crate::governance::RULES.join(", ")
                    ),
                ));
            }
            if let Some(term) = r.term_years {
                in_range("federation.region.term_years", term, 1, MAX_STEPS, "")?;
            }
        }
        let shares = self.shares();
        let n = scenario.simulation.num_agents as f64;
        if self.regions > 1 && shares.iter().any(|s| (s * n).floor() < 1.0) {
            return Err(invalid(
                "federation.region.share",
                format!(
                    "every region needs at least one worker at the start: with {} workers, \
                     shares must be at least 1/{}",
                    scenario.simulation.num_agents, scenario.simulation.num_agents
                ),
            ));
        }
        if self.regions > 1
            && scenario.workers.policy == WorkerPolicyName::Llm
            && scenario.llm.archetypes > 0
        {
            return Err(invalid(
                "federation.regions",
                "archetype mode (llm.archetypes > 0) shares one decision across regions; \
                 set llm.archetypes = 0 in a federation",
            ));
        }
        Ok(())
    }
}

/// One or several OpenAI-compatible base URLs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BaseUrls {
    One(String),
    Many(Vec<String>),
}

/// How answers are requested in a structured form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResponseFormat {
    /// `response_format: {type: json_schema}` (OpenAI, vLLM, SGLang, llama.cpp server, Ollama).
    JsonSchema,
    /// `response_format: {type: json_object}`.
    JsonObject,
    /// No response_format; the answer is parsed from plain text.
    Text,
}

/// The language-model backend and how agents use it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// The OpenAI-compatible API base, e.g. "http://127.0.0.1:8000/v1", or a list (a pool).
    pub base_url: BaseUrls,
    /// Relative weights of the pool's endpoints (empty = equal).
    pub weights: Vec<f64>,
    pub model: String,
    /// The name of the environment variable holding the API key ("" = send none). The key is
    /// read at run time and never written anywhere.
    pub api_key_env: String,
    pub temperature: f64,
    pub max_tokens: u32,
    pub planner_max_tokens: u32,
    pub response_format: ResponseFormat,
    /// Most requests in flight at once, over the whole run.
    pub concurrency: usize,
    pub timeout_seconds: f64,
    /// Transport retries (429, 5xx, timeouts, dropped connections) per request.
    pub max_retries: u32,
    /// First retry delay; doubles each retry.
    pub backoff_ms: u64,
    /// Re-asks after an answer that does not parse, before the fallback.
    pub max_reasks: u32,
    /// Stop the run cleanly once this many requests were sent (0 = no limit).
    pub budget_requests: u64,
    /// Stop the run cleanly once this many tokens were used (0 = no limit).
    pub budget_tokens: u64,
    /// Stop the run cleanly, between steps, once more than this share of the recent decisions
    /// asked of a server fell back to their defaults (1 = never stop). See
    /// `docs/llm-failures.md` for the window and why 0.2 is the default. Written into the
    /// log's header only when set otherwise (a resume keeps it; headers, and so the logs, of
    /// runs that leave it alone are those of earlier versions).
    #[serde(skip_serializing_if = "is_default_fallback_share")]
    pub max_fallback_share: f64,
    /// Past steps shown to a worker.
    pub history_window: usize,
    /// Best past steps (by perceived utility / welfare) shown as memory.
    pub best_k: usize,
    /// Tax years shown to the planner.
    pub planner_history: usize,
    /// A folder whose `*.j2` files replace the built-in prompt templates of the same name.
    pub prompts_dir: String,
    /// Store each request's rendered messages in the log (for inspection).
    pub log_prompts: bool,
    /// Archetype mode: 0 = off; k > 0 = workers are grouped into k skill buckets and one LLM
    /// call per bucket decides for all its members.
    pub archetypes: usize,
    /// At start every endpoint is probed (`GET {base}/models`); a dead one is an error naming
    /// it, unless this is set: then it is a warning and the run goes on without it. The keys
    /// below say only how servers are reached, and are written into the log's header only
    /// when set otherwise than their defaults (headers of runs that leave them alone keep
    /// their bytes).
    #[serde(skip_serializing_if = "is_false")]
    pub skip_dead_endpoints: bool,
    /// Consecutive transport failures (connection, timeout, 5xx) after which an endpoint is
    /// ejected from the pool for `eject_seconds`; its agents go to their next endpoint.
    #[serde(skip_serializing_if = "is_default_eject_after")]
    pub eject_after: u32,
    /// An ejected endpoint's cool-down; it returns after a successful probe.
    #[serde(skip_serializing_if = "is_default_eject_seconds")]
    pub eject_seconds: f64,
    /// Most requests in flight at once to one endpoint (0 = only `concurrency` caps them).
    #[serde(skip_serializing_if = "is_zero")]
    pub endpoint_concurrency: usize,
    /// Longest wait a server's `Retry-After` (on 429 and 503) may impose before a retry.
    #[serde(skip_serializing_if = "is_default_retry_after_cap")]
    pub retry_after_cap_seconds: f64,
    /// Per-role settings (`[llm.planner] model = "..."`), each left out of the header when
    /// unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<RoleOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planner: Option<RoleOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persona: Option<RoleOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<RoleOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stand: Option<RoleOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vote: Option<RoleOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leader: Option<RoleOverride>,
    /// A federation's question of where to live.
    #[serde(rename = "move", skip_serializing_if = "Option::is_none")]
    pub moving: Option<RoleOverride>,
}

/// The LLM roles that can have settings of their own (`[llm.ROLE]`).
pub const LLM_ROLES: [&str; 8] = [
    "worker",
    "planner",
    "persona",
    "satisfaction",
    "stand",
    "vote",
    "leader",
    "move",
];

/// The `[llm.ROLE]` table whose settings a request of `role` (as logged) takes: a stand is
/// logged as "platform", and a federal election's questions ("federal_platform",
/// "federal_vote", "federal_leader") take the tables of their national twins.
pub fn role_table(role: &str) -> &str {
    match role.strip_prefix("federal_").unwrap_or(role) {
        "platform" => "stand",
        other => other,
    }
}

/// What one role's requests use instead of the `[llm]` settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoleOverride {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The server (or pool) this role asks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<BaseUrls>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            base_url: BaseUrls::One("http://127.0.0.1:8000/v1".into()),
            weights: Vec::new(),
            model: "mock-llm".into(),
            api_key_env: String::new(),
            temperature: 0.7,
            max_tokens: 256,
            planner_max_tokens: 512,
            response_format: ResponseFormat::JsonObject,
            concurrency: 256,
            timeout_seconds: 60.0,
            max_retries: 4,
            backoff_ms: 200,
            max_reasks: 2,
            budget_requests: 0,
            budget_tokens: 0,
            max_fallback_share: DEFAULT_MAX_FALLBACK_SHARE,
            history_window: 50,
            best_k: 5,
            planner_history: 20,
            prompts_dir: String::new(),
            log_prompts: true,
            archetypes: 0,
            skip_dead_endpoints: false,
            eject_after: DEFAULT_EJECT_AFTER,
            eject_seconds: DEFAULT_EJECT_SECONDS,
            endpoint_concurrency: 0,
            retry_after_cap_seconds: DEFAULT_RETRY_AFTER_CAP,
            worker: None,
            planner: None,
            persona: None,
            satisfaction: None,
            stand: None,
            vote: None,
            leader: None,
            moving: None,
        }
    }
}

/// The `[llm]` keys that say only how the inference servers are reached: which servers (and
/// the pool's weights, which go with its URLs), the API key's variable, the request timeout and
/// the requests in flight. They cannot change a run's results (answers are placed by worker
/// id, never by arrival, and what the model answered is in the log), so a run resumed on
/// another machine takes them from its command line rather than from its log's header.
pub const LLM_ENDPOINT_KEYS: [&str; 17] = [
    "llm.base_url",
    "llm.weights",
    "llm.api_key_env",
    "llm.timeout_seconds",
    "llm.concurrency",
    "llm.skip_dead_endpoints",
    "llm.eject_after",
    "llm.eject_seconds",
    "llm.endpoint_concurrency",
    "llm.retry_after_cap_seconds",
    "llm.worker.base_url",
    "llm.planner.base_url",
    "llm.persona.base_url",
    "llm.satisfaction.base_url",
    "llm.stand.base_url",
    "llm.vote.base_url",
    "llm.leader.base_url",
];

/// The settings of [`LLM_ENDPOINT_KEYS`].
#[derive(Clone, Debug, PartialEq)]
pub struct LlmEndpoint {
    pub base_url: BaseUrls,
    pub weights: Vec<f64>,
    pub api_key_env: String,
    pub timeout_seconds: f64,
    pub concurrency: usize,
    pub skip_dead_endpoints: bool,
    pub eject_after: u32,
    pub eject_seconds: f64,
    pub endpoint_concurrency: usize,
    pub retry_after_cap_seconds: f64,
    /// `llm.ROLE.base_url`, in [`LLM_ROLES`] order.
    pub role_base_urls: Vec<Option<BaseUrls>>,
}

/// The default `llm.max_fallback_share`.
pub const DEFAULT_MAX_FALLBACK_SHARE: f64 = 0.2;

fn is_default_fallback_share(share: &f64) -> bool {
    *share == DEFAULT_MAX_FALLBACK_SHARE
}

/// The default `llm.eject_after`: three failures in a row are no chance event on a healthy
/// server, and few enough that a dead one costs a handful of retries.
pub const DEFAULT_EJECT_AFTER: u32 = 3;
/// The default `llm.eject_seconds`.
pub const DEFAULT_EJECT_SECONDS: f64 = 30.0;
/// The default `llm.retry_after_cap_seconds`.
pub const DEFAULT_RETRY_AFTER_CAP: f64 = 60.0;

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_default_eject_after(n: &u32) -> bool {
    *n == DEFAULT_EJECT_AFTER
}

fn is_default_eject_seconds(s: &f64) -> bool {
    *s == DEFAULT_EJECT_SECONDS
}

fn is_default_retry_after_cap(s: &f64) -> bool {
    *s == DEFAULT_RETRY_AFTER_CAP
}

impl LlmConfig {
    /// Its endpoint settings.
    pub fn endpoint(&self) -> LlmEndpoint {
        LlmEndpoint {
            base_url: self.base_url.clone(),
            weights: self.weights.clone(),
            api_key_env: self.api_key_env.clone(),
            timeout_seconds: self.timeout_seconds,
            concurrency: self.concurrency,
            skip_dead_endpoints: self.skip_dead_endpoints,
            eject_after: self.eject_after,
            eject_seconds: self.eject_seconds,
            endpoint_concurrency: self.endpoint_concurrency,
            retry_after_cap_seconds: self.retry_after_cap_seconds,
            role_base_urls: LLM_ROLES
                .iter()
                .map(|r| self.role(r).and_then(|o| o.base_url.clone()))
                .collect(),
        }
    }

    /// Replaces its endpoint settings with `e`.
    pub fn set_endpoint(&mut self, e: LlmEndpoint) {
        self.base_url = e.base_url;
        self.weights = e.weights;
        self.api_key_env = e.api_key_env;
        self.timeout_seconds = e.timeout_seconds;
        self.concurrency = e.concurrency;
        self.skip_dead_endpoints = e.skip_dead_endpoints;
        self.eject_after = e.eject_after;
        self.eject_seconds = e.eject_seconds;
        self.endpoint_concurrency = e.endpoint_concurrency;
        self.retry_after_cap_seconds = e.retry_after_cap_seconds;
        for (role, url) in LLM_ROLES.iter().zip(e.role_base_urls) {
            let slot = self.role_mut(role);
            match (slot.as_mut(), url) {
                (Some(o), url) => o.base_url = url,
                (None, Some(url)) => {
                    *slot = Some(RoleOverride {
                        base_url: Some(url),
                        ..RoleOverride::default()
                    })
                }
                (None, None) => {}
            }
        }
    }

    /// The settings of role `role` (one of [`LLM_ROLES`]), if it has its own.
    pub fn role(&self, role: &str) -> Option<&RoleOverride> {
        match role {
            "worker" => self.worker.as_ref(),
            "planner" => self.planner.as_ref(),
            "persona" => self.persona.as_ref(),
            "satisfaction" => self.satisfaction.as_ref(),
            "stand" => self.stand.as_ref(),
            "vote" => self.vote.as_ref(),
            "leader" => self.leader.as_ref(),
            "move" => self.moving.as_ref(),
            _ => None,
        }
    }

    fn role_mut(&mut self, role: &str) -> &mut Option<RoleOverride> {
        match role {
            "worker" => &mut self.worker,
            "planner" => &mut self.planner,
            "persona" => &mut self.persona,
            "satisfaction" => &mut self.satisfaction,
            "stand" => &mut self.stand,
            "vote" => &mut self.vote,
            "move" => &mut self.moving,
            _ => &mut self.leader,
        }
    }

    /// The pool's base URLs.
    pub fn base_urls(&self) -> Vec<String> {
        match &self.base_url {
            BaseUrls::One(u) => vec![u.clone()],
            BaseUrls::Many(v) => v.clone(),
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
        let g = &self.governance;
        if crate::governance::rule(&g.rule).is_none() {
            return Err(invalid(
                "governance.rule",
                format!(
                    "unknown rule {:?}: use one of {}",
                    g.rule,
                    crate::governance::RULES.join(", ")
                ),
            ));
        }
        in_range("governance.term_years", g.term_years, 1, MAX_STEPS, "")?;
        in_range(
            "governance.max_candidates",
            g.max_candidates,
            1,
            MAX_AGENTS,
            "",
        )?;
        in_range(
            "governance.ballot_noise",
            g.ballot_noise,
            0.0,
            10.0,
            " (relative noise on compared utilities)",
        )?;
        in_range(
            "governance.declare_gain",
            g.declare_gain,
            -1.0,
            1e6,
            " (a relative utility gain)",
        )?;
        in_range(
            "governance.delegation_share",
            g.delegation_share,
            0.0,
            1.0,
            " (the share of offline voters who delegate in a liquid election)",
        )?;
        if !crate::governance::liquid::UNDERLYING.contains(&g.liquid_count.as_str()) {
            return Err(invalid(
                "governance.liquid_count",
                format!(
                    "unknown rule {:?} to count a liquid election's weighted ballots: use one \
                     of {}",
                    g.liquid_count,
                    crate::governance::liquid::UNDERLYING.join(", ")
                ),
            ));
        }
        in_range(
            "governance.delegate_peers",
            g.delegate_peers,
            1,
            50,
            " (fellow voters an LLM voter may delegate to)",
        )?;
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
                    || f.region
                        .iter()
                        .any(|r| r.planner == Some(PlannerPolicyName::Llm))
            })
    }

    fn validate_worker_models(&self) -> Result<(), ConfigError> {
        let models = &self.workers.models;
        if models.is_empty() {
            return Ok(());
        }
        if self.workers.policy != WorkerPolicyName::Llm {
            return Err(invalid(
                "workers.models",
                "mixes the models of LLM workers: set workers.policy = \"llm\", or leave it out",
            ));
        }
        for m in models {
            if m.model.is_empty() {
                return Err(invalid("workers.models", "every entry names a model"));
            }
            if !(m.share.is_finite() && m.share > 0.0 && m.share <= 1.0) {
                return Err(invalid(
                    "workers.models",
                    format!(
                        "the share of {:?} must be within (0, 1], got {}",
                        m.model, m.share
                    ),
                ));
            }
            if let Some(u) = &m.base_url {
                check_base_urls("workers.models", u)?;
            }
        }
        let sum: f64 = models.iter().map(|m| m.share).sum();
        if (sum - 1.0).abs() > 1e-9 {
            return Err(invalid(
                "workers.models",
                format!("the shares sum to {sum}; they must sum to 1"),
            ));
        }
        if models.len() > u16::MAX as usize {
            return Err(invalid("workers.models", "at most 65535 models"));
        }
        Ok(())
    }

    fn validate_llm(&self) -> Result<(), ConfigError> {
        let l = &self.llm;
        let urls = l.base_urls();
        if urls.is_empty() {
            return Err(invalid("llm.base_url", "give at least one base URL"));
        }
        for u in &urls {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(invalid(
                    "llm.base_url",
                    format!("{u:?} is not an http(s) URL (for example http://127.0.0.1:8000/v1)"),
                ));
            }
        }
        if !l.weights.is_empty()
            && (l.weights.len() != urls.len()
                || l.weights.iter().any(|w| !(w.is_finite() && *w > 0.0)))
        {
            return Err(invalid(
                "llm.weights",
                format!(
                    "give {} positive weights, one per base URL, or none",
                    urls.len()
                ),
            ));
        }
        if l.model.is_empty() {
            return Err(invalid("llm.model", "name the model to request"));
        }
        if !(l.temperature.is_finite() && (0.0..=2.0).contains(&l.temperature)) {
            return Err(invalid("llm.temperature", "must be within [0, 2]"));
        }
        in_range("llm.max_tokens", l.max_tokens, 1, MAX_TOKENS, "")?;
        in_range(
            "llm.planner_max_tokens",
            l.planner_max_tokens,
            1,
            MAX_TOKENS,
            "",
        )?;
        in_range(
            "llm.concurrency",
            l.concurrency,
            1,
            4096,
            " (requests in flight at once)",
        )?;
        if !(l.timeout_seconds > 0.0 && l.timeout_seconds <= 3600.0) {
            return Err(invalid(
                "llm.timeout_seconds",
                format!("must be positive, at most 3600 (got {})", l.timeout_seconds),
            ));
        }
        in_range(
            "llm.max_retries",
            l.max_retries,
            0,
            20,
            " (each retry waits twice as long as the one before, up to 30 s)",
        )?;
        in_range(
            "llm.backoff_ms",
            l.backoff_ms,
            0,
            60_000,
            " (the first retry's delay, in milliseconds)",
        )?;
        in_range("llm.max_reasks", l.max_reasks, 0, 10, "")?;
        for role in LLM_ROLES {
            if let Some(o) = l.role(role) {
                check_role_override(role, o)?;
            }
        }
        self.validate_worker_models()?;
        in_range(
            "llm.eject_after",
            l.eject_after,
            1,
            1000,
            " (consecutive failures that eject an endpoint)",
        )?;
        if !(l.eject_seconds > 0.0 && l.eject_seconds <= 3600.0) {
            return Err(invalid(
                "llm.eject_seconds",
                format!(
                    "must be positive, at most 3600 (an ejected endpoint's cool-down; got {})",
                    l.eject_seconds
                ),
            ));
        }
        in_range(
            "llm.endpoint_concurrency",
            l.endpoint_concurrency,
            0,
            4096,
            " (requests in flight at once to one endpoint; 0 = no cap of its own)",
        )?;
        if !(l.retry_after_cap_seconds >= 0.0 && l.retry_after_cap_seconds <= 3600.0) {
            return Err(invalid(
                "llm.retry_after_cap_seconds",
                format!(
                    "must be within [0, 3600] (the longest Retry-After waited out; got {})",
                    l.retry_after_cap_seconds
                ),
            ));
        }
        in_range(
            "llm.max_fallback_share",
            l.max_fallback_share,
            0.0,
            1.0,
            " (a share of decisions; 1 = never stop)",
        )?;
        in_range("llm.history_window", l.history_window, 1, 10_000, "")?;
        in_range("llm.best_k", l.best_k, 0, 1000, "")?;
        in_range("llm.planner_history", l.planner_history, 0, 10_000, "")?;
        in_range("llm.archetypes", l.archetypes, 0, MAX_AGENTS, " (0 = off)")?;
        if !l.api_key_env.is_empty()
            && !l
                .api_key_env
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(
                "llm.api_key_env",
                "is the NAME of an environment variable (letters, digits, _), not the key itself",
            ));
        }
        Ok(())
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

    fn err_of(sets: &[&str]) -> String {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Scenario::resolve(DEFAULT_SCENARIO, &[], &sets)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_resume_takes_only_the_endpoint_keys() {
        let logged = Scenario::resolve(DEFAULT_SCENARIO, &[], &[]).unwrap();
        let sets: Vec<String> = [
            "llm.base_url=[\"http://10.0.0.7:8000/v1\",\"http://10.0.0.8:8000/v1\"]",
            "llm.weights=[1,3]",
            "llm.api_key_env=NODE_KEY",
            "llm.timeout_seconds=120",
            "llm.concurrency=8",
        ]
        .map(String::from)
        .into();
        let now = logged.with_endpoint_sets(&sets).unwrap();
        assert_eq!(now.llm.base_urls().len(), 2);
        assert_eq!(
            (now.llm.weights.as_slice(), now.llm.concurrency),
            (&[1.0, 3.0][..], 8)
        );
        assert_eq!(
            (now.llm.api_key_env.as_str(), now.llm.timeout_seconds),
            ("NODE_KEY", 120.0)
        );
        // Everything else is the logged scenario's.
        let mut back = now.clone();
        back.llm.set_endpoint(logged.llm.endpoint());
        assert_eq!(back, logged);
        // A key that can change results is refused, naming the allowed ones.
        for bad in ["llm.model=other", "simulation.seed=3", "llm.base_url_x=1"] {
            let e = logged
                .with_endpoint_sets(&[bad.to_string()])
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(bad) && e.contains(&LLM_ENDPOINT_KEYS.join(", ")),
                "{e}"
            );
        }
        // Endpoint values are still checked.
        let e = logged
            .with_endpoint_sets(&["llm.base_url=ftp://x".to_string()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("llm.base_url"), "{e}");
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
    fn liquid_democracy_keys_are_ranged_and_stay_out_of_headers_by_default() {
        for (set, key) in [
            (
                "governance.delegation_share=1.5",
                "governance.delegation_share",
            ),
            (
                "governance.delegation_share=nan",
                "governance.delegation_share",
            ),
            (
                "governance.liquid_count=sortition",
                "governance.liquid_count",
            ),
            ("governance.liquid_count=liquid", "governance.liquid_count"),
            ("governance.delegate_peers=0", "governance.delegate_peers"),
            ("governance.delegate_peers=51", "governance.delegate_peers"),
        ] {
            assert!(err_of(&[set]).contains(key), "{set}");
        }
        let plain = Scenario::default().to_toml();
        assert!(
            !plain.contains("delegat") && !plain.contains("liquid"),
            "{plain}"
        );
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
