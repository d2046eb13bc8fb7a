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
        "637fd37d7cf70bfa5f2f5a930f2f8333e8b084687372f471078526fb0898c45b"
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
        "ccf0421e159649ee13e4d94d329d027ac218bb177c4f22f3686bb104018fd833"
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
        "1441a2ebea38cbdc16aa8dfc9f7a53c13e81af365657a2a8216c5ac029dce684"
    );
}
