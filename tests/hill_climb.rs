//! The offline planner against the leader's optimum: in the rational economy the hill-climb
//! planner must end within 1% of the best schedule on the 10-point grid, found here by
//! exhaustive search over exact best responses.

mod common;

use simulacra::econ::{TaxSchedule, equilibrium};
use simulacra::population::Population;
use simulacra::resolved::ResolvedScenario;
use simulacra::run::run_scenario;

#[test]
fn hill_climb_ends_within_one_percent_of_the_grid_optimum() {
    // Rational workers reach their best response at once, so one step per tax year suffices.
    let s = common::scenario(&[
        "simulation.num_agents=100",
        "simulation.tax_year_length=1",
        "simulation.timesteps=80",
        "baselines.enabled=false",
    ]);
    let resolved = ResolvedScenario::new(s.clone()).unwrap();
    let population = Population::generate(&resolved);
    let params = &resolved.world;
    let cutoffs = resolved.cutoffs.clone();

    // Exhaustive search over 11^3 schedules.
    let mut best = (f64::NEG_INFINITY, vec![]);
    for a in 0..=10 {
        for b in 0..=10 {
            for c in 0..=10 {
                let rates = vec![a as f64 / 10.0, b as f64 / 10.0, c as f64 / 10.0];
                let schedule = TaxSchedule::new(cutoffs.clone(), rates.clone()).unwrap();
                let w =
                    equilibrium(params, &schedule, &population.skills, &population.weights).welfare;
                if w > best.0 {
                    best = (w, rates);
                }
            }
        }
    }

    let tmp = tempfile::tempdir().unwrap();
    let summary = run_scenario(&s, tmp.path(), None).unwrap();
    let gap = (best.0 - summary.swf_final) / best.0.abs();
    assert!(
        gap <= 0.01,
        "hill-climb ended at {:?} with welfare {} ; grid optimum {:?} with {} (gap {:.3}%)",
        summary.tax_rates_final,
        summary.swf_final,
        best.1,
        best.0,
        gap * 100.0
    );
    // And the welfare it reports for its final schedule is the exact equilibrium welfare.
    let last = TaxSchedule::new(cutoffs, summary.tax_rates_final.clone()).unwrap();
    let exact = equilibrium(params, &last, &population.skills, &population.weights).welfare;
    assert!((exact - summary.swf_final).abs() <= 1e-9 * exact.abs());
}
