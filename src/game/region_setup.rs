//! What each region and the federal layer start from: their own scenarios (governance keys and
//! a voting coordinator seed of their own), what an LLM leader of a federation is told of her
//! office in place of the nation's rebate line (a region's leader: whose residents, which moves,
//! which federal layer, which objective her "welfare" is; and the federal leader), and a fork's
//! change of a federation's policies at a tax-year boundary.

use actix::prelude::*;

use super::Economy;
use super::elected::GovernanceState;
use crate::agents::PlannerActor;
use crate::config::{Federation, GovernanceMode, Scenario};
use crate::econ::federation::RegionalObjective;
use crate::memory::ElectedState;
use crate::policy::PlannerPolicy;

/// What a fork of a federation changes at its first step (a tax year's first): the child's
/// `[federation]`, and a fresh planner or governance for each region and for the federal layer
/// whose own changed (the others keep their memory, as a nation's planner does in a fork).
pub struct RegionSwap {
    pub config: Federation,
    /// A fresh planner for each region whose planner changed (none: it keeps its own).
    pub planners: Vec<Option<Box<dyn PlannerPolicy>>>,
    /// Whether each region's governance changed (a new one starts with no leader).
    pub governance: Vec<bool>,
    pub federal_planner: Option<Box<dyn PlannerPolicy>>,
    pub federal_governance: bool,
}

impl Economy {
    /// Applies a fork's change of a federation's policies (`child` is the fork's scenario).
    pub(super) fn apply_region_swap(&mut self, child: &Scenario, swap: RegionSwap) {
        let welfare = self.params.welfare;
        let llm = self.llm.as_ref();
        let (Some(actors), Some(state)) = (self.regions.as_mut(), self.state.federation.as_mut())
        else {
            return;
        };
        let f = &swap.config;
        for (r, planner) in swap.planners.into_iter().enumerate() {
            let rs = region_scenario(child, f, r);
            let planned = rs.governance.mode == GovernanceMode::Planner;
            if let Some(p) = planner {
                actors.planners[r] = planned.then(|| PlannerActor::new(p).start());
            }
            if swap.governance[r] {
                // Elections held stay on the record when the region is elected again.
                let held = state.regions[r]
                    .governance
                    .take()
                    .map(|g| g.held)
                    .unwrap_or_default();
                let gov = GovernanceState::start(&rs, welfare, llm)
                    .map(|g| g.in_region(region_leader_text(f, r)));
                state.regions[r].governance = gov.as_ref().map(|_| ElectedState {
                    held,
                    ..ElectedState::default()
                });
                actors.governance[r] = gov;
                if !planned {
                    actors.planners[r] = None;
                }
            }
        }
        if let Some(p) = swap.federal_planner {
            actors.federal = Some(PlannerActor::new(p).start());
        }
        if swap.federal_governance
            && let Some(fed) = state.federal.as_mut()
        {
            let held = fed.governance.take().map(|g| g.held).unwrap_or_default();
            actors.federal_governance = (f.federal_mode() == Some(GovernanceMode::Election))
                .then(|| federal_scenario(child, f))
                .and_then(|fs| GovernanceState::start(&fs, welfare, llm))
                .map(|g| g.federal(federal_leader_text(f)));
            fed.governance = actors.federal_governance.as_ref().map(|_| ElectedState {
                held,
                ..ElectedState::default()
            });
            if actors.federal_governance.is_some() {
                actors.federal = None;
            }
        }
        actors.config = swap.config;
        // The provision may change (and a kept settlement would carry the old one).
        actors.public_good = crate::resolved::public_goods(child, self.population.len());
        actors.settled = None;
    }
}

/// Region `r`'s own scenario: the national one with its governance keys, and a voting
/// coordinator seed of its own (so regions do not break ties alike).
pub fn region_scenario(scenario: &Scenario, f: &Federation, r: usize) -> Scenario {
    let c = f.region(r);
    let mut s = scenario.clone();
    if let Some(mode) = c.governance {
        s.governance.mode = mode;
    }
    if let Some(rule) = c.rule {
        s.governance.rule = rule;
    }
    if let Some(term) = c.term_years {
        s.governance.term_years = term;
    }
    if let Some(policy) = c.planner {
        s.planner.policy = policy;
    }
    s.simulation.seed = coordinator_seed(scenario, r + 1);
    s
}

/// The voting coordinator seed of a federation's `slot` (1..=K: the regions; K + 1: the federal
/// election), so no two elections break ties alike.
fn coordinator_seed(scenario: &Scenario, slot: usize) -> u64 {
    scenario
        .simulation
        .seed
        .wrapping_add((slot as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// The federal election's own scenario: the national one with the federal rule and term, and
/// a voting coordinator seed of its own.
pub(super) fn federal_scenario(scenario: &Scenario, f: &Federation) -> Scenario {
    let mut s = scenario.clone();
    s.governance.mode = GovernanceMode::Election;
    if let Some(rule) = &f.federal_rule {
        s.governance.rule = rule.clone();
    }
    if let Some(term) = f.federal_term_years {
        s.governance.term_years = term;
    }
    s.simulation.seed = coordinator_seed(scenario, f.regions + 1);
    s
}

/// What an LLM federal leader is told of her office, in place of the nation's rebate line.
pub(super) fn federal_leader_text(f: &Federation) -> String {
    format!(
        "you lead the federal layer of a federation of {} regions: your rates add to each \
         region's own, and each region rebates its own revenue to its residents. Below, revenue \
         is the federal layer's; welfare, hours, Gini, incomes and utilities are the nation's.",
        f.regions
    )
}

/// What region `r`'s LLM leader is told of her office, in place of the nation's rebate line.
pub(super) fn region_leader_text(f: &Federation, r: usize) -> String {
    let mut text = format!(
        "you lead region {r} of a federation of {} regions: its tax revenue is shared equally \
         among its residents as a rebate, and every figure below is theirs.",
        f.regions
    );
    if f.move_every_years > 0 {
        text += " Workers may move between regions, you among them.";
    }
    if f.federal_mode().is_some() {
        text += " A federal schedule adds its rates to yours.";
    }
    if f.objective != RegionalObjective::PerCapita {
        text += &format!(" In your history, {}.", f.objective.describe());
    }
    text
}
