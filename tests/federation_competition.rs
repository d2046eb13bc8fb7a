//! Tax competition in the game (`planner = "nash"`): the regions' best responses are computed
//! before the run and kept, reported in `summary.json`, replayed byte for byte; one nation, a
//! region left out, an elected region or a federal layer are refused with the key to change.

mod common;

use simulacra::config::Scenario;
use simulacra::frames::{Frame, RegionOutcome};
use simulacra::run::run_scenario;
use simulacra_actors::LogReader;

const COMPETING: [&str; 10] = [
    "simulation.num_agents=60",
    "simulation.timesteps=30",
    "simulation.tax_year_length=5",
    "baselines.enabled=false",
    "federation.regions=2",
    "federation.taste_scale=5000",
    "federation.move_expectations=consistent",
    "planner.policy=nash",
    "federation.nash_grid_step=0.25",
    "planner.initial_rate=0",
];

fn region_outcomes(dir: &std::path::Path) -> Vec<RegionOutcome> {
    let mut r = LogReader::open(&dir.join("run.log")).unwrap();
    r.read_all::<Frame>()
        .0
        .into_iter()
        .filter_map(|(_, f)| match f {
            Frame::RegionOutcome(o) => Some(o),
            _ => None,
        })
        .collect()
}

#[test]
fn competing_regions_keep_their_equilibrium_rates_and_report_them() {
    let dir = tempfile::tempdir().unwrap();
    let summary = run_scenario(&common::scenario(&COMPETING), dir.path(), None).unwrap();
    let nash = summary
        .federation
        .as_ref()
        .and_then(|f| f.nash.clone())
        .expect("a nash block in summary.json");
    assert_eq!(nash.rates.len(), 2);
    assert_eq!(nash.populations.iter().sum::<usize>(), 60);
    // From rates of 0 the regions raise theirs, and settle where neither gains by any other
    // rate of the grid.
    assert!(nash.converged && nash.cycle == 0, "{nash:?}");
    assert!(nash.rates.iter().all(|r| r[0] > 0.0), "{nash:?}");
    assert!(nash.deviation_gains.iter().all(|&g| g <= 1e-9), "{nash:?}");
    // Every rate is on the grid (0, 25, 50, 75, 100 %) and flat across the brackets.
    for rates in &nash.rates {
        assert!(rates.iter().all(|&r| r == rates[0]), "{nash:?}");
        assert!([0.0, 0.25, 0.5, 0.75, 1.0].contains(&rates[0]), "{nash:?}");
    }
    // The regions play those rates from the first step to the last.
    let outcomes = region_outcomes(dir.path());
    assert_eq!(outcomes.len(), 60);
    for o in &outcomes {
        assert_eq!(o.rates, nash.rates[o.region as usize], "step {}", o.step);
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        json["federation"]["nash"]["rates"][0][0].as_f64(),
        Some(nash.rates[0][0])
    );
    common::assert_replays(dir.path());
}

#[test]
fn competition_is_every_regions_or_none_and_needs_regions() {
    let refused = |sets: &[&str], key: &str| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let err = Scenario::load(None, &sets).unwrap_err().to_string();
        assert!(err.contains(key), "{sets:?}: {err}");
        err
    };
    let err = refused(&["planner.policy=nash"], "planner.policy");
    assert!(err.contains("federation.regions to 2 or more"), "{err}");
    let tables = tempfile::tempdir().unwrap();
    let mixed = tables.path().join("mixed.toml");
    std::fs::write(
        &mixed,
        "[planner]\npolicy = \"nash\"\n[federation]\nregions = 2\n\
         [[federation.region]]\nplanner = \"saez\"\n",
    )
    .unwrap();
    let err = Scenario::load(Some(&mixed), &[]).unwrap_err().to_string();
    assert!(
        err.contains("federation.region.planner") && err.contains("for all regions"),
        "{err}"
    );
    refused(
        &[
            "planner.policy=nash",
            "federation.regions=2",
            "governance.mode=election",
        ],
        "federation.region.governance",
    );
    refused(
        &[
            "planner.policy=nash",
            "federation.regions=2",
            "federation.federal_planner=fixed",
            "federation.federal_rates=[0.1,0.1,0.1]",
        ],
        "federation.federal_planner",
    );
    refused(
        &[
            "planner.policy=nash",
            "federation.regions=2",
            "federation.nash_grid_step=0",
        ],
        "federation.nash_grid_step",
    );
}

#[test]
fn with_mobility_rising_in_skill_the_movers_are_the_high_skilled() {
    // Region 1 taxes 20 % and region 0 50 %; everyone starts where her tastes put her, so the
    // moves are for money: under mobility_by_skill = 4 the high-skilled weigh their tastes
    // less and make up more of the movers than when everyone weighs them alike.
    let movers_skill = |b: &str| {
        let mut sets = vec![
            "simulation.num_agents=400",
            "simulation.timesteps=10",
            "simulation.tax_year_length=5",
            "baselines.enabled=false",
            "federation.regions=2",
            "federation.taste_scale=3000",
            "federation.initial_regions=by-taste",
            "planner.policy=fixed",
            "planner.rates=[0.5,0.5,0.5]",
        ];
        let mobility = format!("federation.mobility_by_skill={b}");
        sets.push(&mobility);
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("s.toml");
        std::fs::write(
            &toml,
            "[[federation.region]]\nrates = [0.5, 0.5, 0.5]\n\
             [[federation.region]]\nrates = [0.2, 0.2, 0.2]\n",
        )
        .unwrap();
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let scenario = Scenario::load(Some(&toml), &sets).unwrap();
        run_scenario(&scenario, dir.path(), None).unwrap();
        let resolved = simulacra::resolved::ResolvedScenario::new(scenario).unwrap();
        let skills = simulacra::population::Population::generate(&resolved).skills;
        let mut sorted = skills.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        let mut r = LogReader::open(&dir.path().join("run.log")).unwrap();
        let moved: Vec<u64> = r
            .read_all::<Frame>()
            .0
            .into_iter()
            .filter_map(|(_, f)| match f {
                Frame::Moves(m) => Some(m.moves),
                _ => None,
            })
            .flatten()
            .map(|(id, _, _)| id)
            .collect();
        assert!(!moved.is_empty(), "b = {b}: nobody moved");
        let high = moved
            .iter()
            .filter(|&&id| skills[id as usize] > median)
            .count();
        high as f64 / moved.len() as f64
    };
    // Measured: 0.46 of the movers above the median skill when alike, 0.61 under b = 4 (the
    // top's taste scale sigma / e^2, the bottom's sigma e^2).
    let (alike, rising) = (movers_skill("0"), movers_skill("4"));
    assert!(
        rising > alike + 0.1,
        "high-skilled share of movers: {alike} vs {rising}"
    );
}
