//! Local public goods in the game (`federation.public_good`): Oates' benchmark (tastes that
//! differ between regions, nobody moving: local provision beats the uniform central level at
//! every step, and the two coincide when tastes are alike), the provision each region logs is
//! the Samuelson level of its residents, movers sort by taste under local provision (Tiebout),
//! competing (Nash) regions score their candidates with the good, replay and resume are
//! identical, and the combinations the provision rule does not cover are refused.

mod common;

use simulacra::config::Scenario;
use simulacra::econ::federation::samuelson_level;
use simulacra::frames::{Frame, MoveRecord, RegionOutcome, StepOutcome};
use simulacra::run::run_scenario;
use simulacra_actors::LogReader;

const N: usize = 400;

/// A two-region scenario with region tastes `tastes` and `sets` on top.
fn scenario(dir: &std::path::Path, tastes: [f64; 2], sets: &[&str]) -> Scenario {
    let toml = dir.join("s.toml");
    std::fs::write(
        &toml,
        format!(
            "[[federation.region]]\npublic_good_taste = {:?}\n\
             [[federation.region]]\npublic_good_taste = {:?}\n",
            tastes[0], tastes[1]
        ),
    )
    .unwrap();
    let mut all = vec![
        format!("simulation.num_agents={N}"),
        "simulation.timesteps=20".into(),
        "simulation.tax_year_length=10".into(),
        "baselines.enabled=false".into(),
        "economy.welfare=utilitarian".into(),
        "planner.policy=fixed".into(),
        "planner.rates=[0.3,0.3,0.3]".into(),
        "federation.regions=2".into(),
    ];
    all.extend(sets.iter().map(|s| s.to_string()));
    Scenario::load(Some(&toml), &all).unwrap()
}

struct Played {
    scenario: Scenario,
    summary: simulacra::run::Summary,
    outcomes: Vec<StepOutcome>,
    regions: Vec<RegionOutcome>,
    moves: Vec<MoveRecord>,
    _dir: tempfile::TempDir,
}

fn play(tastes: [f64; 2], sets: &[&str]) -> Played {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(dir.path(), tastes, sets);
    let out = dir.path().join("run");
    let summary = run_scenario(&scenario, &out, None).unwrap();
    common::assert_replays(&out);
    let mut played = Played {
        scenario,
        summary,
        outcomes: Vec::new(),
        regions: Vec::new(),
        moves: Vec::new(),
        _dir: dir,
    };
    let mut r = LogReader::open(&out.join("run.log")).unwrap();
    for (_, f) in r.read_all::<Frame>().0 {
        match f {
            Frame::Outcome(o) => played.outcomes.push(o),
            Frame::RegionOutcome(o) => played.regions.push(o),
            Frame::Moves(m) => played.moves.push(m),
            _ => {}
        }
    }
    played
}

#[test]
fn oates_local_provision_beats_uniform_provision_when_tastes_differ() {
    let immobile = ["federation.move_every_years=0"];
    let with = |rule: &str, tastes| {
        let rule = format!("federation.public_good={rule}");
        play(tastes, &[immobile[0], &rule])
    };
    let (local, central) = (with("local", [200.0, 20.0]), with("central", [200.0, 20.0]));
    assert_eq!(local.outcomes.len(), 20);
    let mut gap = 0.0;
    for (l, c) in local.outcomes.iter().zip(&central.outcomes) {
        // Nobody moves and hours ignore the rebate (quasi-linear): only provision differs.
        assert_eq!(l.mean_hours, c.mean_hours);
        assert!(
            l.welfare > c.welfare,
            "step {}: {} vs {}",
            l.step,
            l.welfare,
            c.welfare
        );
        gap += (l.welfare - c.welfare) / 20.0;
    }
    // Each region's provision is the Samuelson level of its residents' tastes (the first 200
    // workers start in region 0); the central one is the nation's, everywhere.
    let tastes = simulacra::resolved::public_goods(&local.scenario, N)
        .unwrap()
        .tastes;
    let own = [
        samuelson_level(tastes[..200].iter().copied()),
        samuelson_level(tastes[200..].iter().copied()),
    ];
    let nation = samuelson_level(tastes.iter().copied());
    // Tastes have their region's mean: about (200 / 2)^2 and (20 / 2)^2.
    assert!((own[0] / 10_000.0 - 1.0).abs() < 0.15, "{own:?}");
    assert!((own[1] / 100.0 - 1.0).abs() < 0.15, "{own:?}");
    for o in &local.regions {
        let g = own[o.region as usize];
        assert!(
            (o.public_good() - g).abs() < 1e-6 * g,
            "{} vs {g}",
            o.public_good()
        );
    }
    for o in &central.regions {
        assert!((o.public_good() - nation).abs() < 1e-6 * nation);
    }
    // With the same tastes in both regions the rules nearly coincide: local provision still
    // suits each region's own (sampled) mean, so it is never worse, and the gap is a sliver of
    // the one above.
    let (local, central) = (
        with("local", [110.0, 110.0]),
        with("central", [110.0, 110.0]),
    );
    for (l, c) in local.outcomes.iter().zip(&central.outcomes) {
        let d = l.welfare - c.welfare;
        assert!(d >= -1e-9 * c.welfare.abs(), "step {}: {d}", l.step);
        assert!(d < gap / 20.0, "step {}: {d} against {gap}", l.step);
    }
}

#[test]
fn under_local_provision_movers_sort_by_their_taste_for_it() {
    // Region 0's starters like the good (mean taste 200), region 1's hardly (20). Under local
    // provision those who care little leave region 0's costly good and those who care much
    // join it (Tiebout): the regions' mean tastes draw apart (measured: a gap of 180 became
    // 246 after 86 moves). Under central provision the good is the same everywhere, so the
    // moves, made for the places themselves, mix the starters (the gap fell to 12).
    let mobile = [
        "federation.move_every_years=1",
        "federation.taste_scale=2000",
        "federation.move_expectations=consistent",
    ];
    let spread = |rule: &str| {
        let rule = format!("federation.public_good={rule}");
        let p = play([200.0, 20.0], &[mobile[0], mobile[1], mobile[2], &rule]);
        let tastes = simulacra::resolved::public_goods(&p.scenario, N)
            .unwrap()
            .tastes;
        let mut region_of: Vec<u32> = (0..N).map(|i| u32::from(i >= N / 2)).collect();
        let gap = |region_of: &[u32]| {
            let mean = |r: u32| {
                let t: Vec<f64> = (0..N)
                    .filter(|&i| region_of[i] == r)
                    .map(|i| tastes[i])
                    .collect();
                t.iter().sum::<f64>() / t.len().max(1) as f64
            };
            mean(0) - mean(1)
        };
        let before = gap(&region_of);
        let moved: usize = p.moves.iter().map(|m| m.moves.len()).sum();
        for m in &p.moves {
            for &(id, _, to) in &m.moves {
                region_of[id as usize] = to;
            }
        }
        (before, gap(&region_of), moved)
    };
    let (before, local, moved_local) = spread("local");
    let (_, central, _) = spread("central");
    assert!(moved_local > 0);
    assert!(
        local > before + 20.0,
        "local: the taste gap went from {before} to {local}"
    );
    assert!(
        local > central + 20.0,
        "the taste gap after the moves: local {local}, central {central}"
    );
}

#[test]
fn public_goods_are_refused_where_the_rule_does_not_hold() {
    let refused = |sets: &[&str], says: &str| {
        let mut all: Vec<String> = vec![
            "federation.regions=2".into(),
            "federation.public_good=local".into(),
        ];
        all.extend(sets.iter().map(|s| s.to_string()));
        let err = Scenario::load(None, &all).unwrap_err().to_string();
        assert!(err.contains(says), "{all:?}: {err}");
    };
    refused(
        &["economy.utility=crra"],
        "economy.utility = \"quasi-linear\"",
    );
    refused(&["economy.rebate=none"], "economy.rebate = \"equal\"");
    refused(
        &["federation.federal_governance=election"],
        "elected federal layer",
    );
    refused(&["workers.policy=llm"], "language-model agents");
    let one = Scenario::load(None, &["federation.public_good=local".to_string()])
        .unwrap_err()
        .to_string();
    assert!(one.contains("regions to 2 or more"), "{one}");
    // A taste without a good is a mistake, not a no-op.
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("t.toml");
    std::fs::write(
        &toml,
        "[federation]\nregions = 2\n[[federation.region]]\npublic_good_taste = 50.0\n",
    )
    .unwrap();
    let err = Scenario::load(Some(&toml), &[]).unwrap_err().to_string();
    assert!(err.contains("federation.region.public_good_taste"), "{err}");
}

#[test]
fn a_fork_switches_central_provision_to_local_and_keeps_its_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(
        dir.path(),
        [200.0, 20.0],
        &[
            "federation.move_every_years=0",
            "federation.public_good=central",
        ],
    );
    let parent = dir.path().join("parent");
    run_scenario(&scenario, &parent, None).unwrap();
    let child = dir.path().join("child");
    simulacra::run::fork_run(
        &parent,
        10,
        &["federation.public_good=\"local\"".into()],
        &child,
    )
    .unwrap();
    let (a, b) = (common::frames(&parent), common::frames(&child));
    assert_eq!(
        common::prefix(&a, 10),
        common::prefix(&b, 10),
        "the prefix is the parent's"
    );
    // Before step 10 both regions provide the nation's level; from it each its own.
    let provided: Vec<(u64, u32, f64)> = b
        .iter()
        .filter_map(|f| match f {
            Frame::RegionOutcome(o) => Some((o.step, o.region, o.public_good())),
            _ => None,
        })
        .collect();
    let at = |step, region| {
        provided
            .iter()
            .find(|p| p.0 == step && p.1 == region)
            .unwrap()
            .2
    };
    assert!((at(9, 0) - at(9, 1)).abs() < 1e-6 * at(9, 0));
    assert!(
        at(10, 0) > 20.0 * at(10, 1),
        "{} vs {}",
        at(10, 0),
        at(10, 1)
    );
    common::assert_replays(&child);
}

#[test]
fn a_run_with_public_goods_resumes_from_its_snapshots_to_the_same_log() {
    // Movers valuing the good, and snapshots every tax year: the tastes are not in a snapshot
    // (they are derived from the scenario), so a resumed run must derive them again alike.
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(
        dir.path(),
        [200.0, 20.0],
        &[
            "federation.public_good=local",
            "federation.taste_scale=2000",
            "log.snapshot_every_years=1",
            "simulation.timesteps=60",
        ],
    );
    let full = dir.path().join("full");
    let done = run_scenario(&scenario, &full, None).unwrap();
    let bytes = std::fs::read(full.join("run.log")).unwrap();
    for cut in [bytes.len() / 2, bytes.len() * 5 / 6] {
        let part = dir.path().join(format!("cut{cut}"));
        std::fs::create_dir_all(part.join("snapshots")).unwrap();
        std::fs::write(part.join("run.log"), &bytes[..cut]).unwrap();
        for e in std::fs::read_dir(full.join("snapshots")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), part.join("snapshots").join(e.file_name())).unwrap();
        }
        let r = simulacra::run::resume_run(&part).unwrap_or_else(|e| panic!("cut at {cut}: {e:#}"));
        assert_eq!(r.summary.log_sha256, done.log_sha256, "cut at {cut}");
        assert_eq!(
            std::fs::read(part.join("regions.csv")).unwrap(),
            std::fs::read(full.join("regions.csv")).unwrap(),
            "cut at {cut}"
        );
    }
}

#[test]
fn competing_regions_reach_an_equilibrium_that_counts_the_good() {
    // Nash regions (flat rates on a 25-point grid, migration anticipated) with a local good
    // that the region-0 starters like: no region gains by another rate alone, with the good
    // in every candidate's settlement, and each step's provision is its residents' level.
    let p = play(
        [200.0, 20.0],
        &[
            "planner.policy=nash",
            "planner.initial_rate=0",
            "federation.nash_grid_step=0.25",
            "federation.taste_scale=5000",
            "federation.move_expectations=consistent",
            "federation.public_good=local",
        ],
    );
    let nash = p.summary.federation.as_ref().unwrap().nash.clone().unwrap();
    assert!(nash.deviation_gains.iter().all(|&g| g <= 1e-9), "{nash:?}");
    for o in &p.regions {
        assert_eq!(o.rates, nash.rates[o.region as usize], "step {}", o.step);
    }
    let tastes = simulacra::resolved::public_goods(&p.scenario, N)
        .unwrap()
        .tastes;
    let mut region_of: Vec<u32> = simulacra::resolved::starting_regions(&p.scenario, N);
    let mut moves = p.moves.iter().peekable();
    for o in &p.regions {
        while let Some(m) = moves.next_if(|m| m.step <= o.step) {
            for &(id, _, to) in &m.moves {
                region_of[id as usize] = to;
            }
        }
        let g = samuelson_level(
            (0..N)
                .filter(|&i| region_of[i] == o.region)
                .map(|i| tastes[i]),
        );
        assert!(
            (o.public_good() - g).abs() <= 1e-6 * g.max(1.0),
            "step {}",
            o.step
        );
    }
}
