//! `[federation]`: regions that tax and govern themselves, their `[[federation.region]]`
//! tables, the federal layer's keys, and their checks.

use serde::{Deserialize, Serialize};

use super::{
    ConfigError, GovernanceMode, MAX_STEPS, PlannerPolicyName, Scenario, WorkerPolicyName, compact,
    in_range, invalid,
};

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
    /// How mobility changes with skill: a worker's taste scale is `taste_scale *
    /// exp(-mobility_by_skill * (q - 1/2))` at her skill's percentile q, so above 0 the
    /// high-skilled move more readily (0: everyone alike).
    #[serde(skip_serializing_if = "is_zero")]
    pub mobility_by_skill: f64,
    /// The share of workers who re-decide where to live in a year that allows moves, each
    /// drawn from her own stream (1: everyone, every time).
    #[serde(skip_serializing_if = "is_one")]
    pub move_share: f64,
    /// What movers expect a region to pay: "last" (its last rebate) or "consistent" (the
    /// rebates that hold after everyone's moves: a fixed point; offline movers).
    #[serde(skip_serializing_if = "MoveExpectations::is_last")]
    pub move_expectations: MoveExpectations,
    /// Where workers start: "blocks" (contiguous blocks of ids sized by the shares) or
    /// "by-taste" (each in the region her tastes and its amenity favour).
    #[serde(skip_serializing_if = "InitialRegions::is_blocks")]
    pub initial_regions: InitialRegions,
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
    /// Where federal revenue goes: "none" (rebated to every worker), "per-capita",
    /// "gap-fill" or "uncapped-gap-share" (paid to the regions).
    pub equalization: crate::econ::federation::Equalization,
    /// The share of each region's fiscal gap that `equalization = "gap-fill"` fills, within
    /// the federal pool.
    #[serde(skip_serializing_if = "is_full_fill")]
    pub equalization_rate: f64,
    /// What a region's planner maximizes (and what its leader is shown as the region's
    /// welfare): "per-capita", "residents", "original-residents" or "national".
    #[serde(skip_serializing_if = "is_per_capita")]
    pub objective: crate::econ::federation::RegionalObjective,
    /// The step of the rate grid on which `planner = "nash"` regions choose each bracket's
    /// rate (0, step, 2 step, ... up to 100 %).
    #[serde(skip_serializing_if = "is_tenth")]
    pub nash_grid_step: f64,
    /// What a `"nash"` region chooses: "flat" (one rate for all its brackets, the strategy of
    /// the tax-competition models) or "brackets" (each bracket's rate, searched bracket by
    /// bracket: slower, and its best responses cycle more often).
    #[serde(skip_serializing_if = "NashStrategy::is_flat")]
    pub nash_strategy: NashStrategy,
    /// The regions' public good: "none", "local" (each region provides the Samuelson level
    /// for its own residents' tastes) or "central" (every region provides the nation's level),
    /// paid out of the rebate; tastes come from `public_good_taste` (`public_good.rs`).
    #[serde(skip_serializing_if = "crate::econ::federation::ProvisionRule::is_none")]
    pub public_good: crate::econ::federation::ProvisionRule,
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
            mobility_by_skill: 0.0,
            move_share: 1.0,
            move_expectations: MoveExpectations::Last,
            initial_regions: InitialRegions::Blocks,
            federal_planner: None,
            federal_initial_rate: 0.0,
            federal_rates: Vec::new(),
            federal_governance: None,
            federal_rule: None,
            federal_term_years: None,
            equalization: crate::econ::federation::Equalization::None,
            equalization_rate: 1.0,
            objective: crate::econ::federation::RegionalObjective::PerCapita,
            nash_grid_step: 0.1,
            nash_strategy: NashStrategy::Flat,
            public_good: crate::econ::federation::ProvisionRule::None,
            region: Vec::new(),
        }
    }
}

/// What movers expect a region to pay them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MoveExpectations {
    /// The region's last rebate (myopic: arrivals then dilute it).
    #[default]
    Last,
    /// The rebates that hold once everyone has chosen (the movers' fixed point).
    Consistent,
}

impl MoveExpectations {
    fn is_last(&self) -> bool {
        *self == MoveExpectations::Last
    }
}

/// What a competing region chooses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NashStrategy {
    /// One rate for all its brackets.
    #[default]
    Flat,
    /// Each bracket's rate.
    Brackets,
}

impl NashStrategy {
    fn is_flat(&self) -> bool {
        *self == NashStrategy::Flat
    }
}

/// Where workers live at the start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitialRegions {
    /// Contiguous blocks of ids, sized by the regions' shares.
    #[default]
    Blocks,
    /// Each worker in the region with the largest amenity plus taste.
    ByTaste,
}

impl InitialRegions {
    fn is_blocks(&self) -> bool {
        *self == InitialRegions::Blocks
    }
}

/// The default grid step is left out of a run's header, as the other defaults are.
fn is_tenth(x: &f64) -> bool {
    *x == 0.1
}

/// A zero key is left out of a run's header, so runs that do not set it keep their log hash.
fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

/// The default `equalization_rate` is left out of a run's header, so runs that do not set it
/// keep the header (and log hash) they had before the key existed.
fn is_full_fill(rate: &f64) -> bool {
    *rate == 1.0
}

/// The default objective is left out of a run's header, as `equalization_rate` is.
fn is_per_capita(objective: &crate::econ::federation::RegionalObjective) -> bool {
    *objective == crate::econ::federation::RegionalObjective::PerCapita
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
    /// The mean taste for the public good of the workers who start here (each draws hers
    /// uniformly on [0, 2x this]); used only with `federation.public_good`.
    #[serde(skip_serializing_if = "is_zero")]
    pub public_good_taste: f64,
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

    /// The federal layer of a step under `schedule`, with this federation's equalization.
    pub fn federal_layer<'a>(
        &self,
        schedule: &'a crate::econ::TaxSchedule,
    ) -> crate::econ::federation::FederalLayer<'a> {
        crate::econ::federation::FederalLayer {
            schedule,
            equalization: self.equalization,
            gap_fill_rate: self.equalization_rate,
        }
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

    pub(super) fn validate(&self, scenario: &Scenario) -> Result<(), ConfigError> {
        in_range(
            "federation.regions",
            self.regions,
            1,
            MAX_REGIONS,
            " (1 = one nation)",
        )?;
        let federal_keys = self.federal_planner.is_some()
            || self.federal_governance.is_some()
            || self.federal_rule.is_some()
            || self.federal_term_years.is_some()
            || !self.federal_rates.is_empty()
            || self.federal_initial_rate != 0.0
            || self.equalization != crate::econ::federation::Equalization::None;
        if self.regions == 1 && federal_keys {
            return Err(invalid(
                "federation.regions",
                "a federal layer sits above two or more regions; with regions = 1 the economy \
                 is one nation: remove the federal_* and equalization keys or raise \
                 federation.regions",
            ));
        }
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
        self.validate_nash(scenario)?;
        self.validate_public_good(scenario)?;
        in_range(
            "federation.mobility_by_skill",
            self.mobility_by_skill,
            -5.0,
            5.0,
            " (a worker's taste scale is taste_scale * exp(-b * (her skill percentile - 1/2)); \
             0 = everyone alike, above 0 the high-skilled move more readily)",
        )?;
        if !(self.move_share > 0.0 && self.move_share <= 1.0) {
            return Err(invalid(
                "federation.move_share",
                format!(
                    "must be in (0, 1]: the share of workers who re-decide in a year that \
                     allows moves (1 = everyone), got {}",
                    self.move_share
                ),
            ));
        }
        if self.initial_regions == InitialRegions::ByTaste {
            if self.region.iter().any(|r| r.share.is_some()) {
                return Err(invalid(
                    "federation.region.share",
                    "with initial_regions = \"by-taste\" workers start where their tastes and \
                     the amenities put them, not by shares: remove the shares, or set \
                     initial_regions = \"blocks\"",
                ));
            }
            if self.taste_scale <= 0.0 {
                return Err(invalid(
                    "federation.initial_regions",
                    "\"by-taste\" needs tastes: set federation.taste_scale > 0",
                ));
            }
        }
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
            (_, Some(PlannerPolicyName::Fixed)) => {
                rates_ok(
                    "federation.federal_rates",
                    &self.federal_rates,
                    "federation.federal_planner = \"fixed\"",
                )?;
                if self.federal_initial_rate != 0.0 {
                    return Err(invalid(
                        "federation.federal_initial_rate",
                        "a fixed federal layer starts and stays on federation.federal_rates: \
                         remove federal_initial_rate",
                    ));
                }
            }
            _ => {}
        }
        in_range(
            "federation.equalization_rate",
            self.equalization_rate,
            0.0,
            1.0,
            " (the share of each region's fiscal gap that gap-fill equalization fills)",
        )?;
        if self.equalization_rate != 1.0
            && self.equalization != crate::econ::federation::Equalization::GapFill
        {
            return Err(invalid(
                "federation.equalization_rate",
                "only equalization = \"gap-fill\" fills a share of each region's gap: set it, \
                 or remove equalization_rate",
            ));
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
                    format!(
                        "must be positive, at most 1e6 (shares are normalized), got {}",
                        compact(share)
                    ),
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
                if r.governance.unwrap_or(scenario.governance.mode) == GovernanceMode::Election {
                    return Err(invalid(
                        "federation.region.rates",
                        "an elected region's schedule is its leader's: remove its rates, or set \
                         governance = \"planner\" and planner = \"fixed\" in its table",
                    ));
                }
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
        if self.regions > 1
            && self.initial_regions == InitialRegions::Blocks
            && shares.iter().any(|s| (s * n).floor() < 1.0)
        {
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
impl Federation {
    /// Tax competition is every region's or none: `planner = "nash"` regions best-respond to
    /// each other, which needs two or more of them, all planned by it, and no federal layer.
    fn validate_nash(&self, scenario: &Scenario) -> Result<(), ConfigError> {
        let nash: Vec<bool> = (0..self.regions)
            .map(|r| {
                self.region(r).planner.unwrap_or(scenario.planner.policy) == PlannerPolicyName::Nash
            })
            .collect();
        if self.federal_planner == Some(PlannerPolicyName::Nash) {
            return Err(invalid(
                "federation.federal_planner",
                "\"nash\" is the regions' tax competition, not a federal planner: use \
                 hill-climb, saez, fixed or llm",
            ));
        }
        if !nash.iter().any(|&n| n) {
            return Ok(());
        }
        if self.regions < 2 {
            return Err(invalid(
                "planner.policy",
                "\"nash\" is tax competition between regions: set federation.regions to 2 or \
                 more",
            ));
        }
        if !nash.iter().all(|&n| n) {
            return Err(invalid(
                "federation.region.planner",
                "tax competition needs every region to best-respond: set planner = \"nash\" \
                 for all regions, or for none",
            ));
        }
        let elected = (0..self.regions).any(|r| {
            self.region(r)
                .governance
                .unwrap_or(scenario.governance.mode)
                == GovernanceMode::Election
        });
        if elected {
            return Err(invalid(
                "federation.region.governance",
                "a \"nash\" region's schedule is its best response, not an elected leader's: \
                 set governance = \"planner\" for every region",
            ));
        }
        if self.federal_mode().is_some()
            || self.equalization != crate::econ::federation::Equalization::None
        {
            return Err(invalid(
                "federation.federal_planner",
                "the regions' tax competition is computed without a federal layer: remove the \
                 federal_* and equalization keys, or use another regional planner",
            ));
        }
        if !(self.nash_grid_step > 0.0 && self.nash_grid_step <= 0.5) {
            return Err(invalid(
                "federation.nash_grid_step",
                format!(
                    "must be in (0, 0.5]: the step of the rate grid the regions choose from \
                     (0.1 = 0, 10 %, ..., 100 %), got {}",
                    self.nash_grid_step
                ),
            ));
        }
        Ok(())
    }

    /// The rates a `"nash"` region chooses from: 0, step, ..., up to 100 %.
    pub fn nash_grid(&self) -> Vec<f64> {
        let n = (1.0 / self.nash_grid_step + 1e-9).floor() as usize;
        (0..=n)
            .map(|i| ((i as f64 * self.nash_grid_step) * 1e9).round() / 1e9)
            .collect()
    }
}
