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
        "ba644ffa037efae1d3df1f5da4f0a90d842b112e8e73000c1485c1025cedd804"
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
        "5d34355ccf21a3d6d3e869044b59973901a665364e30687a64e7653cd9bfa8f1"
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
        "ef91e32051327c0245eae530feab0905fe0fdef158a16c58963c22098a8128f6"
    );
}
