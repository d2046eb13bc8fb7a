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
        "1fb39e6f49dcc6a9a70a73ddbd70cbbe28ff2a81f70106d86d5ca54add37c232"
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
        "99ca49be826eeede20dc78776a63098b7f9b986cec2bd383b00b0dd9f318b1af"
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
        "48710fbbe8d3e55a498ab9da1443a2002906aa32609c46b6b8bf403c9dacd72e"
    );
}

#[test]
fn golden_democratic_borda() {
    let got = hash_of(&[
        "simulation.num_agents=25",
        "simulation.timesteps=60",
        "simulation.tax_year_length=10",
        "governance.mode=election",
        "governance.rule=borda",
        "governance.eligibility=declared",
        "governance.ballot_noise=0.05",
        "baselines.enabled=false",
    ]);
    assert_eq!(
        got,
        "f97f5160324c621a7f7dffc5bf2cbcb6ae17ee555194e465e0898e2bbf8ad4da"
    );
}
