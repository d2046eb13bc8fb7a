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
        "55353b65a253f8fd7d513ce797fc4ce2e389eeba483b3606bfb24057fbf7c46d"
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
        "df1f1db3cda2530ce1009d35dbe16ca5d81b49f5069226d6083206871be23a87"
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
        "f3319a591bf3e57dfaecbf127162402d7a3e6132038f739527b847304d35bd2b"
    );
}
