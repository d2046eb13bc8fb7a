//! The federation's defined choices, end to end: what a region's planner is scored on
//! (`objective`), equalization that fills a share of each gap within the federal pool
//! (`gap-fill`), and what a reader of a federation sees (`elections.csv`'s `region` column,
//! each region's row in `inspect`'s year table).

mod common;

use simulacra::config::Scenario;
use simulacra::frames::{Frame, PlannerMove, RegionOutcome, StepOutcome};
use simulacra::run::run_scenario;
use simulacra_actors::LogReader;

const SMALL: [&str; 6] = [
    "simulation.num_agents=40",
    "simulation.timesteps=30",
    "simulation.tax_year_length=5",
    "baselines.enabled=false",
    "federation.regions=2",
    "federation.taste_scale=5000",
];

struct Logged {
    outcomes: Vec<StepOutcome>,
    regions: Vec<RegionOutcome>,
    /// Each region's planner moves, as (region, move).
    moves: Vec<(u32, PlannerMove)>,
    /// Each region's elections, by region.
    elections: Vec<u32>,
}

fn read(dir: &std::path::Path) -> Logged {
    let mut r = LogReader::open(&dir.join("run.log")).unwrap();
    let mut logged = Logged {
        outcomes: Vec::new(),
        regions: Vec::new(),
        moves: Vec::new(),
        elections: Vec::new(),
    };
    for (_, frame) in r.read_all::<Frame>().0 {
        match frame {
            Frame::Outcome(o) => logged.outcomes.push(o),
            Frame::RegionOutcome(o) => logged.regions.push(o),
            Frame::InRegion { region, frame } => match *frame {
                Frame::PlannerMove(m) => logged.moves.push((region, m)),
                Frame::Election(_) => logged.elections.push(region),
                _ => {}
            },
            _ => {}
        }
    }
    logged
}

fn run(sets: &[&str]) -> (tempfile::TempDir, Logged) {
    let mut all = SMALL.to_vec();
    all.extend_from_slice(sets);
    let dir = tempfile::tempdir().unwrap();
    run_scenario(&common::scenario(&all), dir.path(), None).unwrap();
    let logged = read(dir.path());
    (dir, logged)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// The mean of `values` over the steps of tax year `year` (5 steps a year).
fn year_mean(values: impl Iterator<Item = (u64, f64)>, year: u64) -> f64 {
    let v: Vec<f64> = values
        .filter(|&(step, _)| step / 5 == year)
        .map(|(_, x)| x)
        .collect();
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn a_regions_planner_observes_its_objective() {
    // Per capita (the default): a region's planner observes the mean over last year's steps
    // of its residents' welfare; under "national", the nation's welfare; under "residents",
    // its residents' welfare times their number.
    for objective in ["per-capita", "national", "residents"] {
        let set = format!("federation.objective=\"{objective}\"");
        let (_dir, logged) = run(&[set.as_str()]);
        let mut checked = 0;
        for (region, m) in &logged.moves {
            let Some(observed) = m.observed_welfare else {
                continue;
            };
            let year = m.tax_year - 1;
            let want = match objective {
                "national" => year_mean(logged.outcomes.iter().map(|o| (o.step, o.welfare)), year),
                "per-capita" => year_mean(
                    logged
                        .regions
                        .iter()
                        .filter(|o| o.region == *region)
                        .map(|o| (o.step, o.welfare)),
                    year,
                ),
                _ => year_mean(
                    logged
                        .regions
                        .iter()
                        .filter(|o| o.region == *region)
                        .map(|o| (o.step, o.welfare * o.population as f64)),
                    year,
                ),
            };
            assert!(
                close(observed, want),
                "{objective}: region {region} year {year}: {observed} vs {want}"
            );
            checked += 1;
        }
        // Two regions, years 1..=5 observed.
        assert_eq!(checked, 10, "{objective}");
    }
}

#[test]
fn gap_fill_pays_the_share_of_each_gap_the_pool_allows() {
    // A fixed federal layer of 20 % on top of two fixed regions taxing 10 % and 40 %; gap-fill
    // at 30 %. Each step: the standard is the nation's own revenue per head; a region short of
    // it receives 30 % of residents x shortfall, scaled down together if the pool is short.
    let (_dir, logged) = run(&[
        "planner.policy=\"fixed\"",
        "planner.rates=[0.1, 0.1, 0.1]",
        "federation.region=[{rates = [0.1, 0.1, 0.1]}, {rates = [0.4, 0.4, 0.4]}]",
        "federation.federal_planner=\"fixed\"",
        "federation.federal_rates=[0.2, 0.2, 0.2]",
        "federation.equalization=\"gap-fill\"",
        "federation.equalization_rate=0.3",
    ]);
    let mut paid = 0;
    for o in &logged.outcomes {
        let regions: Vec<&RegionOutcome> =
            logged.regions.iter().filter(|r| r.step == o.step).collect();
        let own: f64 = regions.iter().map(|r| r.revenue).sum();
        let people: u64 = regions.iter().map(|r| r.population).sum();
        let pool = o.revenue - own;
        let standard = own / people as f64;
        let wanted: Vec<f64> = regions
            .iter()
            .map(|r| {
                let p = r.population as f64;
                0.3 * p * (standard - r.revenue / p).max(0.0)
            })
            .collect();
        let total: f64 = wanted.iter().sum();
        let scale = if total > pool { pool / total } else { 1.0 };
        for (r, want) in regions.iter().zip(&wanted) {
            assert!(
                (r.transfer - want * scale).abs() <= 1e-6 * want.max(1.0),
                "step {}: region {} got {} want {}",
                o.step,
                r.region,
                r.transfer,
                want * scale
            );
            if r.transfer > 0.0 {
                paid += 1;
            }
        }
        assert!(regions.iter().map(|r| r.transfer).sum::<f64>() <= pool * (1.0 + 1e-12));
    }
    assert!(paid > 0, "some region was short of the standard");
}

#[test]
fn a_federations_elections_csv_says_where_each_was_held() {
    let scenario = Scenario::load(
        Some(std::path::Path::new("scenarios/federation.toml")),
        &[
            "simulation.num_agents=30".into(),
            "simulation.timesteps=40".into(),
            "simulation.tax_year_length=5".into(),
            "baselines.enabled=false".into(),
        ],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    run_scenario(&scenario, dir.path(), None).unwrap();
    let logged = read(dir.path());
    let csv = std::fs::read_to_string(dir.path().join("elections.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[..4], ["tax_year", "step", "region", "rule"]);
    let places: Vec<u32> = lines
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    // The north (region 0) elects every two years: 4 elections in 8 years, all in the table.
    assert_eq!(places, logged.elections);
    assert_eq!(places, vec![0; 4]);
}

#[test]
fn a_key_of_another_rule_is_refused() {
    let err = Scenario::resolve(
        simulacra::config::DEFAULT_SCENARIO,
        &[],
        &[
            "federation.regions=2".into(),
            "federation.federal_planner=\"hill-climb\"".into(),
            "federation.equalization=\"per-capita\"".into(),
            "federation.equalization_rate=0.5".into(),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("federation.equalization_rate") && err.contains("gap-fill"),
        "{err}"
    );
    // The old name of the uncapped rule is gone, and the message lists the names there are.
    let err = Scenario::resolve(
        simulacra::config::DEFAULT_SCENARIO,
        &[],
        &[
            "federation.regions=2".into(),
            "federation.federal_planner=\"hill-climb\"".into(),
            "federation.equalization=\"revenue-sharing\"".into(),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("gap-fill") && err.contains("uncapped-gap-share"),
        "{err}"
    );
}

#[test]
fn inspect_lists_each_regions_year_under_the_nations() {
    let (dir, logged) = run(&[]);
    let rows = simulacra::inspect::game_table(dir.path()).unwrap().0;
    assert_eq!(rows.len(), 6);
    for row in &rows {
        assert_eq!(row.regions.len(), 2, "year {}", row.tax_year);
        for g in &row.regions {
            // Its rates and residents at the year's first step, as logged.
            let first = logged
                .regions
                .iter()
                .find(|o| o.step == row.first_step && o.region == g.region)
                .unwrap();
            assert_eq!(g.rates, first.rates);
            assert_eq!(g.population, first.population);
            let move_logged = logged
                .moves
                .iter()
                .find(|(r, m)| *r == g.region && m.tax_year == row.tax_year)
                .map(|(_, m)| m.rates.clone());
            assert_eq!(
                g.planner_move.as_ref().map(|m| m.rates.clone()),
                move_logged
            );
        }
    }
    let table = simulacra::inspect::render_table(&rows);
    let lines: Vec<&str> = table.lines().collect();
    // The nation's row says its rates are the regions' mean; each region's row follows it.
    assert!(lines[1].contains("regions' mean"), "{table}");
    assert!(lines[2].trim_start().starts_with("region 0 ("), "{table}");
    assert!(lines[3].trim_start().starts_with("region 1 ("), "{table}");
    assert!(!table.contains(" set "), "{table}");
}
