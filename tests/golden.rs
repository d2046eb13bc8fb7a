//! Golden runs: small scenarios whose log hashes are pinned. A change that moves one of these
//! hashes changes what a run produces (or how it is logged); the commit must say why and
//! update the hash here.

mod common;

use simulacra::run::run_scenario;

fn hash_of(sets: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let s = common::scenario(sets);
    run_scenario(&s, tmp.path(), None).unwrap().log_sha256
}

#[test]
fn golden_rational_hill_climb() {
    let got = hash_of(&[
        "simulation.num_agents=25",
        "simulation.timesteps=100",
        "simulation.tax_year_length=10",
        "baselines.enabled=false",
    ]);
    assert_eq!(
        got,
        "9be56f2694bd4df520cad69140d346e3a18865996732122cffc3f946eb62b575"
    );
}

#[test]
fn golden_bounded_mixed_types() {
    let got = hash_of(&[
        "simulation.num_agents=25",
        "simulation.timesteps=100",
        "simulation.tax_year_length=10",
        "workers.policy=bounded",
        "workers.altruistic_share=0.2",
        "workers.adversarial_share=0.1",
        "baselines.enabled=false",
    ]);
    assert_eq!(
        got,
        "94dbd7f2e03111795cfe95acfd045b41b0e5dc6e33933542bcb4d6c231db0423"
    );
}

#[test]
fn golden_paper_constants_us_brackets() {
    let got = hash_of(&[
        "simulation.num_agents=25",
        "simulation.timesteps=60",
        "simulation.tax_year_length=10",
        "economy.brackets=us-federal-2024",
        "economy.labor_cost=0.0005",
        "economy.skills=income-over-40",
        "economy.welfare=inverse-realized-income",
        "baselines.enabled=false",
    ]);
    assert_eq!(
        got,
        "e36316a3299b1885c02ce0da886e5cf852d5f12abe015b98a1808d241a97e03c"
    );
}
