//! The movers' equilibrium end to end: staggered moves (`move_share`), consistent rebate
//! expectations (`move_expectations = "consistent"`), starting regions drawn from tastes
//! (`initial_regions = "by-taste"`), and the welfare with location every federation logs.

mod common;

use simulacra::frames::{ExpectationRecord, Frame, LocationOutcome, MoveRecord, RegionOutcome};
use simulacra::run::run_scenario;
use simulacra_actors::LogReader;

const N: usize = 200;

/// Two regions under the same fixed schedule, high mobility (taste scale 5000, moving cost
/// 1000), 20 tax years of 5 steps.
fn run(sets: &[&str]) -> (tempfile::TempDir, Logged) {
    let mut all = vec![
        "simulation.num_agents=200",
        "simulation.timesteps=100",
        "simulation.tax_year_length=5",
        "baselines.enabled=false",
        "planner.policy=\"fixed\"",
        "planner.rates=[0.3, 0.4, 0.5]",
        "federation.regions=2",
        "federation.taste_scale=5000",
        "federation.moving_cost=1000",
    ];
    all.extend_from_slice(sets);
    let dir = tempfile::tempdir().unwrap();
    run_scenario(&common::scenario(&all), dir.path(), None).unwrap();
    let mut logged = Logged::default();
    let mut r = LogReader::open(&dir.path().join("run.log")).unwrap();
    for (_, frame) in r.read_all::<Frame>().0 {
        match frame {
            Frame::Moves(m) => logged.moves.push(m),
            Frame::MoverExpectations(e) => logged.expectations.push(e),
            Frame::RegionOutcome(o) => logged.regions.push(o),
            Frame::Location(l) => logged.locations.push(l),
            _ => {}
        }
    }
    (dir, logged)
}

#[derive(Default)]
struct Logged {
    moves: Vec<MoveRecord>,
    expectations: Vec<ExpectationRecord>,
    regions: Vec<RegionOutcome>,
    locations: Vec<LocationOutcome>,
}

fn populations_at_end(l: &Logged) -> Vec<u64> {
    let last = l.regions.last().unwrap().step;
    l.regions
        .iter()
        .filter(|o| o.step == last)
        .map(|o| o.population)
        .collect()
}

#[test]
fn staggered_consistent_movers_make_no_waves() {
    let (_dir, l) = run(&[
        "federation.move_share=0.2",
        "federation.move_expectations=\"consistent\"",
        "federation.initial_regions=\"by-taste\"",
    ]);
    // 19 years with moves (years 1..=19), each with its fixed point.
    assert_eq!(l.moves.len(), 19);
    assert_eq!(l.expectations.len(), 19);
    let due = (0.2 * N as f64).ceil() as u64;
    for (m, e) in l.moves.iter().zip(&l.expectations) {
        // Exactly the share re-decides, so no year moves more than it.
        assert_eq!(e.deciders, due);
        assert!(
            m.moves.len() as u64 <= due,
            "year {}: {} moved",
            m.tax_year,
            m.moves.len()
        );
        assert!(e.converged, "year {}: {e:?}", e.tax_year);
    }
    // Equal schedules and amenities: each region's expected share is one half, and workers
    // start where their tastes put them. Binomial standard deviation sqrt(200 / 4) = 7.1:
    // within four of it.
    for p in populations_at_end(&l) {
        assert!(
            (p as f64 - 100.0).abs() <= 4.0 * 7.1,
            "{:?}",
            populations_at_end(&l)
        );
    }
}

#[test]
fn workers_placed_in_blocks_sort_by_taste_in_year_one() {
    // The contrast: blocks of ids, everyone re-deciding at last rebates. Year 1 is a sorting
    // by taste that moves about half the workers at once.
    let (_dir, l) = run(&[]);
    assert!(l.expectations.is_empty());
    let first = l.moves[0].moves.len();
    assert!(first as f64 > 0.3 * N as f64, "{first}");
}

#[test]
fn the_expected_rebates_are_the_ones_paid() {
    // Under consistent expectations the rebates the movers expected are those the regions
    // pay at the year's first step, up to the best responses of rational workers who react
    // to last step's rebate.
    let (_dir, l) = run(&["federation.move_expectations=\"consistent\""]);
    for e in l.expectations.iter().filter(|e| e.converged) {
        for o in l.regions.iter().filter(|o| o.step == e.step) {
            let want = e.rebates[o.region as usize];
            assert!(
                (o.rebate - want).abs() <= 1e-6 * want.abs().max(1.0),
                "year {} region {}: paid {} expected {want}",
                e.tax_year,
                o.region,
                o.rebate
            );
        }
    }
    assert!(l.expectations.iter().any(|e| e.converged));
}

#[test]
fn welfare_with_location_is_logged_and_written_beside_welfare() {
    let (dir, l) = run(&["federation.initial_regions=\"by-taste\""]);
    assert_eq!(l.locations.len(), 100);
    let steps = std::fs::read_to_string(dir.path().join("steps.csv")).unwrap();
    let header: Vec<&str> = steps.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "welfare_with_location")
        .expect("a federation's steps.csv has welfare with location");
    for (line, loc) in steps.lines().skip(1).zip(&l.locations) {
        let got: f64 = line.split(',').nth(col).unwrap().parse().unwrap();
        assert_eq!(got, loc.welfare);
    }
    let regions = std::fs::read_to_string(dir.path().join("regions.csv")).unwrap();
    let header: Vec<&str> = regions.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "welfare_with_location")
        .unwrap();
    for line in regions.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (step, region): (u64, usize) = (f[0].parse().unwrap(), f[2].parse().unwrap());
        let got: f64 = f[col].parse().unwrap();
        assert_eq!(got, l.locations[step as usize].regions[region]);
    }
    // Nobody moves (by-taste start, equal regions, a moving cost): the location utility of
    // each worker is her taste, so welfare with location exceeds welfare by the weighted mean
    // taste, a positive figure since everyone lives where her taste is largest.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    let with = summary["federation"]["swf_with_location"].as_f64().unwrap();
    let without = summary["swf_final"].as_f64().unwrap();
    assert!(with > without, "{with} vs {without}");
}
