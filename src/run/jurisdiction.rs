//! What an LLM planner of a federation is told of its office, in place of the nation's rebate
//! line: a region's planner (whose residents, which moves, which objective, the federal rates
//! on top) and the federal planner (where federal revenue goes).

/// What an LLM planner of region `r` is told about whose schedule it sets.
pub(super) fn region_jurisdiction(f: &crate::config::Federation, r: usize) -> String {
    use crate::econ::federation::RegionalObjective;
    let mut text = if f.objective == RegionalObjective::PerCapita {
        format!(
            "You set the taxes of region {r} of a federation of {} regions. Social welfare, \
             revenue and the rebate are those of your region's residents: its tax revenue is \
             rebated equally to them as a lump sum, so taxes can redistribute.",
            f.regions
        )
    } else {
        format!(
            "You set the taxes of region {r} of a federation of {} regions. Revenue and the \
             rebate are those of your region's residents: its tax revenue is rebated equally to \
             them as a lump sum, so taxes can redistribute. Social welfare is your region's \
             objective: {}.",
            f.regions,
            f.objective.describe()
        )
    };
    if f.move_every_years > 0 {
        let every = match f.move_every_years {
            1 => "every tax year".to_string(),
            n => format!("every {n} tax years"),
        };
        text += &format!(
            " Workers may move to another region {every}, comparing what they would keep in each."
        );
    }
    if f.federal_mode().is_some() {
        text += " A federal schedule adds its rates to yours.";
    }
    text
}

/// What an LLM federal planner is told about whose schedule it sets.
pub(super) fn federal_jurisdiction(f: &crate::config::Federation) -> String {
    use crate::econ::federation::Equalization;
    let revenue = match f.equalization {
        Equalization::None => "rebated equally to every worker in the nation as a lump sum",
        Equalization::PerCapita => "paid to the regions in proportion to their populations",
        Equalization::GapFill => {
            return format!(
                "You set the federal schedule of a federation of {} regions: its rates add to \
                 each region's own, and social welfare is the whole nation's. Federal revenue \
                 pays each region whose own revenue per resident falls below the national mean \
                 {:.0} % of its shortfall (times its residents), as far as the revenue goes; the \
                 rest is rebated equally to every worker in the nation. Each region rebates its \
                 own revenue and what it receives to its residents.",
                f.regions,
                f.equalization_rate * 100.0
            );
        }
        Equalization::UncappedGapShare => {
            "paid, all of it, to the regions whose own revenue per resident falls below the \
             national mean, in proportion to their shortfall"
        }
    };
    format!(
        "You set the federal schedule of a federation of {} regions: its rates add to each \
         region's own, and social welfare is the whole nation's. Federal revenue is {revenue}; \
         each region rebates its own revenue to its residents.",
        f.regions
    )
}
