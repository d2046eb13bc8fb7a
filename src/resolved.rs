//! The resolved scenario: a [`Scenario`] together with everything derived from it, computed
//! once (the bracket cut-offs, the calibrated utility form, the welfare function, the world
//! parameters, Saez's elasticities, the initial schedule).
//!
//! `Scenario` stays the serializable schema (what the log header stores, byte for byte); the
//! run owns a `ResolvedScenario` and reads the derived values as plain fields. The scenario
//! inside is reachable only by shared reference, so a derived value cannot go stale: a
//! variant (a baseline, a fork's parent, an experiment's phase) is made with
//! [`ResolvedScenario::with_changes`], which resolves the changed scenario anew.

use std::ops::Deref;

use crate::config::{Calibrated, ConfigError, RebateRule, Scenario, UtilityName, WelfareName};
use crate::econ::{TaxSchedule, UtilityForm, WelfareKind, WorldParams};

/// A scenario and the values derived from it.
#[derive(Clone, Debug)]
pub struct ResolvedScenario {
    scenario: Scenario,
    /// The bracket lower cut-offs (`economy.brackets`).
    pub cutoffs: Vec<f64>,
    /// The utility form (calibrated constants resolved), welfare function, rebate rule and
    /// hours cap every settlement uses.
    pub world: WorldParams,
    /// Saez's elasticities, one per bracket (`planner.elasticity`).
    pub elasticities: Vec<f64>,
    /// The schedule in force before the first move: `planner.initial_rate` in every bracket.
    pub initial_schedule: TaxSchedule,
}

/// Reading the scenario's own keys through the resolved one keeps the callers that need both
/// (most of them) to one parameter; there is no `DerefMut`, so nothing can change the
/// scenario under its derived values.
impl Deref for ResolvedScenario {
    type Target = Scenario;

    fn deref(&self) -> &Scenario {
        &self.scenario
    }
}

impl ResolvedScenario {
    /// Derives everything from `scenario`. The scenario is expected to be validated (as
    /// [`Scenario::load`] and [`Scenario::resolve`] do); the derivation itself fails only on
    /// brackets or an initial rate that make no schedule.
    pub fn new(scenario: Scenario) -> Result<ResolvedScenario, ConfigError> {
        let cutoffs = scenario.cutoffs()?;
        let initial_schedule = TaxSchedule::uniform(cutoffs.clone(), scenario.planner.initial_rate)
            .map_err(|e| ConfigError::Invalid {
                key: "planner.initial_rate",
                message: e.to_string(),
            })?;
        let world = WorldParams {
            form: utility_form(&scenario),
            welfare: welfare_kind(&scenario),
            rebate_equal: scenario.economy.rebate == RebateRule::Equal,
            max_hours: scenario.economy.max_hours,
        };
        let elasticities = elasticities(&scenario, cutoffs.len());
        Ok(ResolvedScenario {
            scenario,
            cutoffs,
            world,
            elasticities,
            initial_schedule,
        })
    }

    /// The scenario itself (the schema, as the log header stores it).
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// A variant: the scenario changed by `change`, resolved anew.
    pub fn with_changes(
        &self,
        change: impl FnOnce(&mut Scenario),
    ) -> Result<ResolvedScenario, ConfigError> {
        let mut scenario = self.scenario.clone();
        change(&mut scenario);
        ResolvedScenario::new(scenario)
    }

    /// The utility form, with calibrated constants resolved.
    pub fn form(&self) -> UtilityForm {
        self.world.form
    }
}

/// The welfare function of `economy.welfare`.
fn welfare_kind(scenario: &Scenario) -> WelfareKind {
    match scenario.economy.welfare {
        WelfareName::InversePotentialIncome => WelfareKind::InversePotentialIncome,
        WelfareName::InverseRealizedIncome => WelfareKind::InverseRealizedIncome {
            floor: scenario.economy.welfare_income_floor,
        },
        WelfareName::Utilitarian => WelfareKind::Utilitarian,
        WelfareName::Rawlsian => WelfareKind::Rawlsian,
    }
}

/// The utility form, with calibrated constants resolved: "calibrated" labor cost makes the
/// median worker choose 40 h under the 2024 US schedule; "calibrated" CRRA reference
/// consumption is the median income.
fn utility_form(scenario: &Scenario) -> UtilityForm {
    let e = &scenario.economy;
    let median = e.income.quantile(0.5);
    let c = match e.labor_cost {
        Calibrated::Value(c) => c,
        Calibrated::Named(_) => {
            let us = crate::econ::us_federal_2024();
            crate::econ::calibrate_labor_cost(
                median,
                us.marginal_rate(median),
                e.labor_exponent,
                40.0,
            )
        }
    };
    match e.utility {
        UtilityName::QuasiLinear => UtilityForm::QuasiLinear {
            c,
            delta: e.labor_exponent,
        },
        UtilityName::Crra => UtilityForm::Crra {
            c,
            delta: e.labor_exponent,
            eta: e.crra_eta,
            x0: match e.crra_reference_consumption {
                Calibrated::Value(x) => x,
                Calibrated::Named(_) => median,
            },
        },
    }
}

/// Saez's elasticities, one per bracket: none given = 1/(labor_exponent - 1) everywhere; one
/// value = that value everywhere; else one per bracket (validation checks the count).
fn elasticities(scenario: &Scenario, brackets: usize) -> Vec<f64> {
    let e = &scenario.planner.elasticity;
    match e.len() {
        0 => vec![1.0 / (scenario.economy.labor_exponent - 1.0); brackets],
        1 => vec![e[0]; brackets],
        _ => e.clone(),
    }
}

/// A federation's workers' persistent tastes for its regions (standard Gumbel draws, one per
/// region), each from her own "taste" stream at step 0: the same every year and in every
/// reader of the log.
pub fn region_tastes(scenario: &Scenario, workers: usize) -> Vec<Vec<f64>> {
    let k = scenario.federation.as_ref().map_or(1, |f| f.regions);
    (0..workers)
        .map(|id| {
            crate::econ::federation::tastes(
                &mut simulacra_actors::stream(scenario.simulation.seed, "taste", id as u64, 0),
                k,
            )
        })
        .collect()
}

/// A federation's public goods (`federation.public_good`), if it has them: the rule and each
/// worker's taste, her starting region's `public_good_taste` times a uniform draw on [0, 2)
/// from her own "public-good" stream at step 0 (the same in every reader of the log).
pub fn public_goods(
    scenario: &Scenario,
    workers: usize,
) -> Option<crate::econ::federation::PublicGoods> {
    use rand::RngExt;
    let f = scenario.regions()?;
    if f.public_good.is_none() {
        return None;
    }
    let start = starting_regions(scenario, workers);
    let tastes = (0..workers)
        .map(|id| {
            let u: f64 =
                simulacra_actors::stream(scenario.simulation.seed, "public-good", id as u64, 0)
                    .random();
            crate::econ::federation::public_good_taste(
                f.region(start[id] as usize).public_good_taste,
                u,
            )
        })
        .collect();
    Some(crate::econ::federation::PublicGoods {
        rule: f.public_good,
        tastes,
    })
}

/// Where each of a federation's `workers` lives at the start (`federation.initial_regions`).
pub fn starting_regions(scenario: &Scenario, workers: usize) -> Vec<u32> {
    let Some(f) = scenario.regions() else {
        return vec![0; workers];
    };
    match f.initial_regions {
        crate::config::InitialRegions::Blocks => {
            crate::econ::federation::assign_regions(&f.shares(), workers)
        }
        crate::config::InitialRegions::ByTaste => {
            let amenities: Vec<f64> = (0..f.regions).map(|r| f.region(r).amenity).collect();
            crate::econ::federation::regions_by_taste(
                &region_tastes(scenario, workers),
                &amenities,
                f.taste_scale,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_SCENARIO;

    fn resolved(sets: &[&str]) -> ResolvedScenario {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        ResolvedScenario::new(Scenario::resolve(DEFAULT_SCENARIO, &[], &sets).unwrap()).unwrap()
    }

    #[test]
    fn calibrated_labor_cost_is_the_documented_value() {
        // c = 0.88 * (38102/40) / (3.5 * 40^2.5) = 838.24 / 35417.6 = 0.023667
        let c = ResolvedScenario::new(Scenario::default())
            .unwrap()
            .form()
            .c();
        assert!((c - 0.023667).abs() < 2e-5, "c = {c}");
    }

    #[test]
    fn derived_values_follow_the_scenario() {
        let r = resolved(&[
            "economy.brackets=us-federal-2024",
            "economy.labor_cost=0.5",
            "economy.labor_exponent=3",
            "economy.welfare=utilitarian",
            "economy.rebate=none",
            "planner.initial_rate=0.3",
        ]);
        assert_eq!(r.cutoffs.len(), 7);
        assert_eq!(r.form().c(), 0.5);
        assert_eq!(r.form().delta(), 3.0);
        assert_eq!(r.world.welfare, WelfareKind::Utilitarian);
        assert!(!r.world.rebate_equal);
        assert_eq!(r.elasticities, vec![0.5; 7]);
        assert_eq!(r.initial_schedule.rates(), &[0.3; 7]);
        assert_eq!(r.initial_schedule.cutoffs(), r.cutoffs.as_slice());
    }

    #[test]
    fn a_variant_is_resolved_anew_not_copied() {
        let base = resolved(&[]);
        let variant = base
            .with_changes(|s| {
                s.economy.labor_exponent = 2.0;
                s.planner.elasticity = vec![0.25];
                s.economy.brackets = crate::config::Brackets::Cutoffs(vec![0.0, 50_000.0]);
            })
            .unwrap();
        assert_eq!(variant.form().delta(), 2.0);
        assert_ne!(variant.form().c(), base.form().c());
        assert_eq!(variant.elasticities, vec![0.25, 0.25]);
        assert_eq!(variant.cutoffs, vec![0.0, 50_000.0]);
        // The original keeps its own values.
        assert_eq!(base.form().delta(), 3.5);
        assert_eq!(base.cutoffs.len(), 3);
    }

    #[test]
    fn a_variant_with_impossible_brackets_is_an_error_naming_the_key() {
        let err = resolved(&[])
            .with_changes(|s| {
                s.economy.brackets = crate::config::Brackets::Preset("four".into());
            })
            .unwrap_err();
        assert!(err.to_string().contains("economy.brackets"), "{err}");
    }
}
