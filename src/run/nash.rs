//! The regions' tax competition before a run (`planner = "nash"`): the game of
//! [`crate::econ::federation::Competition`] set up from the scenario and its population, each
//! region starting from `planner.initial_rate` (or its own `initial_rate`), and the outcome
//! reported (a warning when the best responses cycle or run out of rounds).

use crate::config::PlannerPolicyName;
use crate::econ::federation::{Competition, Movers, NashOutcome, nearest, taste_scales};
use crate::population::Population;
use crate::resolved::ResolvedScenario;

/// Whether the scenario's regions compete (`planner = "nash"`, every region: validated).
fn competes(scenario: &ResolvedScenario) -> bool {
    scenario.regions().is_some_and(|f| {
        f.region(0).planner.unwrap_or(scenario.planner.policy) == PlannerPolicyName::Nash
    })
}

/// The regions' equilibrium rates, none unless they compete.
pub fn equilibrium(scenario: &ResolvedScenario, population: &Population) -> Option<NashOutcome> {
    if !competes(scenario) {
        return None;
    }
    let f = scenario.regions()?;
    let n = population.skills.len();
    let grid = f.nash_grid();
    let amenities: Vec<f64> = (0..f.regions).map(|r| f.region(r).amenity).collect();
    let tastes = crate::resolved::region_tastes(scenario, n);
    let scales = taste_scales(f.taste_scale, &population.skills, f.mobility_by_skill);
    let origin = crate::resolved::starting_regions(scenario, n);
    let public = crate::resolved::public_goods(scenario, n);
    let game = Competition {
        movers: Movers {
            params: &scenario.world,
            skills: &population.skills,
            weights: &population.weights,
            amenities: &amenities,
            public: public.as_ref(),
            tastes: &tastes,
            taste_scales: &scales,
            moving_cost: f.moving_cost,
        },
        objective: f.objective,
        cutoffs: &scenario.cutoffs,
        grid: &grid,
        flat: f.nash_strategy == crate::config::NashStrategy::Flat,
        origin: &origin,
    };
    let start: Vec<Vec<usize>> = (0..f.regions)
        .map(|r| {
            let rate = f
                .region(r)
                .initial_rate
                .unwrap_or(scenario.planner.initial_rate);
            vec![nearest(&grid, rate); scenario.cutoffs.len()]
        })
        .collect();
    let out = game.nash(start);
    if out.converged {
        tracing::info!(rounds = out.rounds, "the regions' best responses settled");
    } else {
        tracing::warn!(
            rounds = out.rounds,
            cycle = out.cycle,
            "the regions' best responses did not settle ({}): the last round's rates are kept",
            if out.cycle > 0 {
                format!("they cycle through {} profiles", out.cycle)
            } else {
                format!("{} rounds ran out", out.rounds)
            }
        );
    }
    Some(out)
}
