//! What each region and the federal layer start from: their own scenarios (governance keys and
//! a voting coordinator seed of their own), and what an LLM leader of a federation is told of
//! her office in place of the nation's rebate line: a region's leader (whose residents, which
//! moves, which federal layer, which objective her "welfare" is) and the federal leader.

use crate::config::{Federation, GovernanceMode, Scenario};
use crate::econ::federation::RegionalObjective;

/// Region `r`'s own scenario: the national one with its governance keys, and a voting
/// coordinator seed of its own (so regions do not break ties alike).
pub(super) fn region_scenario(scenario: &Scenario, f: &Federation, r: usize) -> Scenario {
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
