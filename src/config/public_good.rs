//! The checks of `federation.public_good` and each region's `public_good_taste`: a public good
//! is provided by the Samuelson rule of quasi-linear residents out of an equal rebate, so it
//! needs both, and it is not yet part of the parts of the game that forecast or describe a
//! region's budget for voters and models (an elected federal layer's platforms, language-model
//! prompts). Tax competition (`planner = "nash"`) scores its candidates with the good.

use super::federation::Federation;
use super::{ConfigError, GovernanceMode, RebateRule, Scenario, UtilityName, in_range, invalid};
use crate::econ::federation::ProvisionRule;

impl Federation {
    pub(super) fn validate_public_good(&self, scenario: &Scenario) -> Result<(), ConfigError> {
        for r in 0..self.regions {
            in_range(
                "federation.region.public_good_taste",
                self.region(r).public_good_taste,
                0.0,
                1e6,
                " (utility per square root of a dollar of provision per resident)",
            )?;
        }
        let tastes_set = self.region.iter().any(|r| r.public_good_taste != 0.0);
        if self.public_good == ProvisionRule::None {
            if tastes_set {
                return Err(invalid(
                    "federation.region.public_good_taste",
                    "tastes for a public good are used only when there is one: set \
                     federation.public_good = \"local\" or \"central\", or remove \
                     public_good_taste",
                ));
            }
            return Ok(());
        }
        if self.regions < 2 {
            return Err(invalid(
                "federation.public_good",
                "a public good is provided by regions: set federation.regions to 2 or more",
            ));
        }
        if scenario.economy.utility != UtilityName::QuasiLinear {
            return Err(invalid(
                "federation.public_good",
                "the provision rule (G = (mean taste / 2)^2 per resident) is the Samuelson \
                 level when a dollar is worth the same to everyone: set economy.utility = \
                 \"quasi-linear\"",
            ));
        }
        if scenario.economy.rebate != RebateRule::Equal {
            return Err(invalid(
                "federation.public_good",
                "a region pays for its public good out of its equal rebate: set \
                 economy.rebate = \"equal\"",
            ));
        }
        if self.federal_mode() == Some(GovernanceMode::Election) {
            return Err(invalid(
                "federation.public_good",
                "an elected federal layer's platforms are forecast without public goods: use \
                 federation.federal_planner, or remove federation.public_good",
            ));
        }
        if scenario.uses_llm() {
            return Err(invalid(
                "federation.public_good",
                "language-model agents are not told about public goods yet (their prompts \
                 describe the rebate as all of a region's revenue): use offline agents, or \
                 remove federation.public_good",
            ));
        }
        Ok(())
    }
}
