//! What an LLM leader of a federation is told of her office, in place of the nation's rebate
//! line: a region's leader (whose residents, which moves, which federal layer, which objective
//! her "welfare" is) and the federal leader.

use crate::config::Federation;
use crate::econ::federation::RegionalObjective;

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
