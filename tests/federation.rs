//! Federations: one region is today's game, a region without mobility is a run over its own
//! residents, identical regions keep everyone home, amenity gaps move the logit share, and
//! federation runs replay, resume from snapshots and fork.

mod common;

use simulacra::config::{DEFAULT_SCENARIO, Scenario};
use simulacra::run::{ReplayVerdict, fork_run, resume_run, run_scenario, verify_replay};

/// The default scenario with `extra` TOML appended (region tables) and `sets` applied.
fn with_toml(extra: &str, sets: &[&str]) -> Scenario {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Scenario::resolve(&format!("{DEFAULT_SCENARIO}\n{extra}"), &[], &sets)
        .expect("valid test scenario")
}

const SMALL: [&str; 4] = [
    "simulation.num_agents=40",
    "simulation.timesteps=60",
    "simulation.tax_year_length=5",
    "baselines.enabled=false",
];

#[test]
fn one_region_is_todays_game_byte_for_byte() {
    let plain = common::scenario(&SMALL);
    let one = with_toml("[federation]\nregions = 1\ntaste_scale = 500.0\n", &SMALL);
    assert!(
        one.federation.is_none(),
        "one region resolves to no section"
    );
    assert_eq!(one.to_toml(), plain.to_toml());
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sa = run_scenario(&plain, a.path(), None).unwrap();
    let sb = run_scenario(&one, b.path(), None).unwrap();
    assert_eq!(sa.log_sha256, sb.log_sha256);
    assert_eq!(
        std::fs::read(a.path().join("steps.csv")).unwrap(),
        std::fs::read(b.path().join("steps.csv")).unwrap()
    );
    assert!(sb.regions.is_empty() && sb.federation.is_none());
}

#[test]
fn one_region_with_region_tables_is_an_error_naming_the_key() {
    let err = Scenario::resolve(
        &format!(
            "{DEFAULT_SCENARIO}\n[federation]\nregions = 1\n[[federation.region]]\namenity = 1.0\n"
        ),
        &[],
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("federation.region"), "{err}");
    for (set, key) in [
        ("federation.taste_scale=-1", "federation.taste_scale"),
        ("federation.regions=65", "federation.regions"),
        (
            "federation.equalization=\"per-capita\"",
            "federation.equalization",
        ),
        (
            "federation.federal_planner=\"fixed\"",
            "federation.federal_rates",
        ),
        (
            "federation.federal_rates=[0.1, 0.2, 0.3]",
            "federation.federal_rates",
        ),
        (
            "federation.region=[{planner = \"hill-climb\", rates = [0.1, 0.2, 0.3]}]",
            "federation.region.rates",
        ),
        (
            "federation.region=[{planner = \"fixed\", rates = [0.1]}]",
            "federation.region.rates",
        ),
        (
            "federation.federal_governance=\"planner\"",
            "federation.federal_governance",
        ),
        (
            "federation.federal_rule=\"borda\"",
            "federation.federal_rule",
        ),
        (
            "federation.federal_rule=\"nonsense\"",
            "federation.federal_rule",
        ),
        (
            "federation.region=[{governance = \"election\", planner = \"fixed\", rates = [0.1, 0.2, 0.3]}]",
            "federation.region.rates",
        ),
    ] {
        let bad = Scenario::resolve(
            DEFAULT_SCENARIO,
            &[],
            &["federation.regions=2".into(), set.into()],
        )
        .unwrap_err()
        .to_string();
        assert!(bad.contains(key), "{set}: {bad}");
    }
    // Keys that would be ignored are refused: a federal layer over one region, and a fixed
    // federal layer's starting rate.
    for (sets, key) in [
        (
            vec![
                "federation.regions=1",
                "federation.federal_planner=\"hill-climb\"",
            ],
            "federation.regions",
        ),
        (
            vec![
                "federation.regions=2",
                "federation.federal_planner=\"fixed\"",
                "federation.federal_rates=[0.1, 0.1, 0.1]",
                "federation.federal_initial_rate=0.2",
            ],
            "federation.federal_initial_rate",
        ),
    ] {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let bad = Scenario::resolve(DEFAULT_SCENARIO, &[], &sets)
            .unwrap_err()
            .to_string();
        assert!(bad.contains(key), "{sets:?}: {bad}");
    }
}

#[test]
fn a_region_without_mobility_is_a_separate_run_over_its_residents() {
    // Incomes drawn per worker id and an unnormalized welfare function make the first half of
    // a 40-worker population the whole of a 20-worker one: region 0 (ids 0..20) is then a
    // separate run over its residents, hill-climbing planner and all.
    let people = [
        "population.income_model=independent",
        "economy.welfare=utilitarian",
        "simulation.timesteps=60",
        "simulation.tax_year_length=5",
        "baselines.enabled=false",
    ];
    let mut sets = people.to_vec();
    sets.extend([
        "simulation.num_agents=40",
        "federation.regions=2",
        "federation.move_every_years=0",
    ]);
    let fed = common::scenario(&sets);
    let mut sets = people.to_vec();
    sets.push("simulation.num_agents=20");
    let alone = common::scenario(&sets);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let f = run_scenario(&fed, a.path(), None).unwrap();
    let s = run_scenario(&alone, b.path(), None).unwrap();
    let r0 = &f.regions[0];
    assert_eq!(r0.population, 20);
    assert_eq!(r0.rates, s.tax_rates_final);
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * y.abs().max(1.0);
    assert!(close(r0.swf, s.swf_final), "{} vs {}", r0.swf, s.swf_final);
    assert!(close(r0.mean_hours, s.mean_hours_final));
    assert!(close(r0.gini, s.gini_final));
    assert_eq!(f.federation.as_ref().unwrap().moves_total, 0);
}

#[test]
fn identical_regions_without_taste_keep_everyone_home() {
    // The same schedule everywhere and no rebate: every region is worth the same to everyone.
    let s = common::scenario(&[
        "simulation.num_agents=40",
        "simulation.timesteps=30",
        "simulation.tax_year_length=5",
        "baselines.enabled=false",
        "planner.policy=us-federal",
        "economy.rebate=none",
        "federation.regions=3",
        "federation.move_every_years=1",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let sum = run_scenario(&s, dir.path(), None).unwrap();
    let fed = sum.federation.unwrap();
    assert_eq!(fed.moves_total, 0);
    assert_eq!(fed.moves_per_year.len(), 5);
    let pops: Vec<usize> = sum.regions.iter().map(|r| r.population).collect();
    assert_eq!(pops, vec![14, 13, 13]);
}

#[test]
fn an_amenity_gap_moves_the_logit_share() {
    // Equal schedules, no rebate, no moving cost: everyone compares amenity plus taste alone,
    // so region 1's share is exp(A/s) / (1 + exp(A/s)) = 3/4 for A = s ln 3, from any start.
    let scale = 1000.0_f64;
    let extra = format!(
        "[federation]\nregions = 2\nmove_every_years = 1\ntaste_scale = {scale}\n\
         [[federation.region]]\namenity = 0.0\n[[federation.region]]\namenity = {}\n",
        scale * 3f64.ln()
    );
    let n = 2000;
    let agents = format!("simulation.num_agents={n}");
    let s = with_toml(
        &extra,
        &[
            &agents,
            "simulation.timesteps=4",
            "simulation.tax_year_length=2",
            "baselines.enabled=false",
            "planner.policy=us-federal",
            "economy.rebate=none",
            "log.decisions=digest",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let sum = run_scenario(&s, dir.path(), None).unwrap();
    let share = sum.regions[1].population as f64 / n as f64;
    // Four standard errors: sqrt(0.75 * 0.25 / 2000) = 0.0097.
    assert!((share - 0.75).abs() < 0.039, "share {share}");
    let fed = sum.federation.unwrap();
    assert_eq!(
        fed.moves_total,
        sum.regions[1].moves_in + sum.regions[0].moves_in
    );
}

fn federation_run() -> Scenario {
    Scenario::load(
        Some(std::path::Path::new("scenarios/federation.toml")),
        &[
            "simulation.num_agents=30".into(),
            "simulation.timesteps=60".into(),
            "simulation.tax_year_length=5".into(),
            "baselines.enabled=false".into(),
            "log.snapshot_every_years=2".into(),
        ],
    )
    .unwrap()
}

#[test]
fn a_federation_replays_resumes_and_forks() {
    let s = federation_run();
    let full = tempfile::tempdir().unwrap();
    let done = run_scenario(&s, full.path(), None).unwrap();
    assert!(done.federation.is_some());
    assert!(matches!(
        verify_replay(full.path()).unwrap(),
        ReplayVerdict::Identical { .. }
    ));
    // Cut the log at two points and resume from the snapshots before them.
    let bytes = std::fs::read(full.path().join("run.log")).unwrap();
    for cut in [bytes.len() / 2, bytes.len() * 5 / 6] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("run.log"), &bytes[..cut]).unwrap();
        let snaps = full.path().join("snapshots");
        std::fs::create_dir(dir.path().join("snapshots")).unwrap();
        for e in std::fs::read_dir(&snaps).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join("snapshots").join(e.file_name())).unwrap();
        }
        let r = resume_run(dir.path()).unwrap_or_else(|e| panic!("cut at {cut}: {e:#}"));
        assert_eq!(r.summary.log_sha256, done.log_sha256, "cut at {cut}");
        assert_eq!(r.summary.regions.len(), 2);
        assert_eq!(
            r.summary.federation.as_ref().unwrap().moves_total,
            done.federation.as_ref().unwrap().moves_total
        );
    }
    // A fork that changes nothing the regions use plays on as its parent did.
    let forked = tempfile::tempdir().unwrap();
    let f = fork_run(
        full.path(),
        30,
        &["baselines.enabled=false".into()],
        forked.path(),
    )
    .unwrap();
    assert_eq!(f.summary.swf_final, done.swf_final);
    assert_eq!(
        f.summary.federation.unwrap().moves_per_year,
        done.federation.unwrap().moves_per_year
    );
}

#[test]
fn inspect_and_export_recompute_every_worker_in_her_region() {
    // A federal layer with revenue sharing and moves: the per-worker rows the readers
    // recompute from the log must settle to the game's own outcome at every step.
    let mut sets = SMALL.to_vec();
    sets.extend([
        "federation.regions=2",
        "federation.taste_scale=5000",
        "federation.moving_cost=1000",
        "federation.federal_planner=hill-climb",
        "federation.equalization=uncapped-gap-share",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let sum = run_scenario(&common::scenario(&sets), dir.path(), None).unwrap();
    let d = simulacra::inspect::round_detail(dir.path(), 5).unwrap();
    assert_eq!(d.regions.len(), 2);
    let mut counts = [0u64; 2];
    for w in &d.workers {
        counts[w.region.unwrap() as usize] += 1;
    }
    let populations: Vec<u64> = d
        .regions
        .iter()
        .map(|r| r.outcome.as_ref().unwrap().population)
        .collect();
    assert_eq!(counts.to_vec(), populations);
    assert!(simulacra::inspect::render_round(&d).contains("region 1:"));

    let csv = dir.path().join("agents.csv");
    simulacra::export::export_agents(dir.path(), &csv, simulacra::export::AgentFormat::Csv)
        .unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",utility,region"));
    let steps = std::fs::read_to_string(dir.path().join("steps.csv")).unwrap();
    let header: Vec<&str> = steps.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "mean_utility").unwrap();
    let mut sums = vec![0.0; 60];
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        sums[f[0].parse::<usize>().unwrap()] += f[7].parse::<f64>().unwrap() / 40.0;
    }
    for (line, sum) in steps.lines().skip(1).zip(&sums) {
        let want: f64 = line.split(',').nth(col).unwrap().parse().unwrap();
        assert!(
            (sum - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{sum} vs {want}"
        );
    }
    assert!(sum.federation.as_ref().unwrap().federal_rates.is_some());
    // The run wrote its regions.csv itself; an export of the log writes the same bytes.
    let regions = dir.path().join("regions.csv");
    let written = std::fs::read(&regions).expect("a federation run writes regions.csv");
    assert_eq!(
        simulacra::export::export_regions(dir.path(), &regions).unwrap(),
        120
    );
    assert_eq!(std::fs::read(&regions).unwrap(), written);
    let text = std::fs::read_to_string(&regions).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(header[header.len() - 2..], ["moves_in", "moves_out"]);
    // Every step's populations add up to the nation, and a region's population changes only
    // by its moves in and out, at a year's first step.
    let mut people = vec![0u64; 60];
    let mut last = [None::<i64>; 2];
    let mut moved = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (step, region) = (
            f[0].parse::<usize>().unwrap(),
            f[2].parse::<usize>().unwrap(),
        );
        let population: i64 = f[3].parse().unwrap();
        let moves_in: i64 = f[f.len() - 2].parse().unwrap();
        let moves_out: i64 = f[f.len() - 1].parse().unwrap();
        people[step] += population as u64;
        if let Some(before) = last[region] {
            assert_eq!(population, before + moves_in - moves_out, "{line}");
        }
        if step % 5 != 0 {
            assert_eq!((moves_in, moves_out), (0, 0), "{line}");
        }
        moved += moves_in;
        last[region] = Some(population);
    }
    assert!(people.iter().all(|&p| p == 40), "{people:?}");
    assert_eq!(moved as u64, sum.federation.as_ref().unwrap().moves_total);

    // One nation: no region column.
    let plain = tempfile::tempdir().unwrap();
    run_scenario(&common::scenario(&SMALL), plain.path(), None).unwrap();
    let csv = plain.path().join("agents.csv");
    simulacra::export::export_agents(plain.path(), &csv, simulacra::export::AgentFormat::Csv)
        .unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",utility"));
    let err = simulacra::export::export_regions(plain.path(), &plain.path().join("regions.csv"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a federation run"), "{err}");
    assert!(!plain.path().join("regions.csv").exists());
}

#[test]
fn liquid_elections_in_regions_count_only_their_residents_and_replay() {
    // Two regions of 20 (ids 0..20 and 20..40), nobody moves, both elect under liquid
    // democracy with half the voters delegating: every ballot and every carried vote of a
    // region's election is its residents'.
    let s = with_toml(
        "[federation]\nregions = 2\nmove_every_years = 0\n\
         [[federation.region]]\ngovernance = \"election\"\nrule = \"liquid\"\n\
         [[federation.region]]\ngovernance = \"election\"\nrule = \"liquid\"\n",
        &[
            "simulation.num_agents=40",
            "simulation.timesteps=30",
            "simulation.tax_year_length=5",
            "baselines.enabled=false",
            "governance.delegation_share=0.5",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    run_scenario(&s, dir.path(), None).unwrap();
    let mut reader = simulacra_actors::log::LogReader::open(&dir.path().join("run.log")).unwrap();
    let mut elections = 0;
    for (_, frame) in reader.read_all::<simulacra::frames::Frame>().0 {
        let simulacra::frames::Frame::InRegion { region, frame } = frame else {
            continue;
        };
        let simulacra::frames::Frame::Election(e) = *frame else {
            continue;
        };
        elections += 1;
        let residents = u64::from(region) * 20..u64::from(region) * 20 + 20;
        assert!(!e.ballots.is_empty(), "year {}: nobody voted", e.tax_year);
        assert!(e.ballots.len() < 20, "half the voters delegate");
        for b in &e.ballots {
            assert!(
                residents.contains(&b.voter),
                "voter {} in region {region}",
                b.voter
            );
        }
        // The plurality count over weighted ballots: no more votes than residents.
        let carried: f64 = e.count.tallies.iter().map(|t| t.1).sum();
        assert!(
            carried > e.ballots.len() as f64 && carried <= 20.0,
            "{carried}"
        );
    }
    assert_eq!(elections, 2 * 6);
    assert!(matches!(
        verify_replay(dir.path()).unwrap(),
        ReplayVerdict::Identical { .. }
    ));
}

#[test]
fn fixed_regions_and_a_fixed_federal_layer_keep_their_own_rates() {
    // Region 0 has rates of its own, region 1 takes planner.rates; the federal layer is fixed.
    let s = with_toml(
        "[federation]\nregions = 2\nfederal_planner = \"fixed\"\n\
         federal_rates = [0.05, 0.1, 0.15]\n\
         [[federation.region]]\nplanner = \"fixed\"\nrates = [0.1, 0.2, 0.4]\n\
         [[federation.region]]\nplanner = \"fixed\"\n",
        &[SMALL.as_slice(), &["planner.rates=[0.3, 0.3, 0.3]"]].concat(),
    );
    let dir = tempfile::tempdir().unwrap();
    let sum = run_scenario(&s, dir.path(), None).unwrap();
    assert_eq!(sum.regions[0].rates, vec![0.1, 0.2, 0.4]);
    assert_eq!(sum.regions[1].rates, vec![0.3, 0.3, 0.3]);
    let fed = sum.federation.unwrap();
    assert_eq!(fed.federal_rates.unwrap(), vec![0.05, 0.1, 0.15]);
    assert!(fed.federal_revenue.unwrap() > 0.0);
}

#[test]
fn the_nation_elects_the_federal_layer_and_the_run_replays_and_resumes() {
    // Two regions under hill-climbing planners, a federal layer elected by every worker of
    // the nation (plurality, two-year terms), workers free to move.
    let s = with_toml(
        "[federation]\nregions = 2\nmove_every_years = 1\ntaste_scale = 200.0\n\
         federal_governance = \"election\"\nfederal_rule = \"plurality\"\n\
         federal_term_years = 2\nfederal_initial_rate = 0.1\n",
        &[
            "simulation.num_agents=30",
            "simulation.timesteps=60",
            "simulation.tax_year_length=5",
            "baselines.enabled=false",
            "log.snapshot_every_years=2",
        ],
    );
    let full = tempfile::tempdir().unwrap();
    let done = run_scenario(&s, full.path(), None).unwrap();
    let mut reader = simulacra_actors::log::LogReader::open(&full.path().join("run.log")).unwrap();
    let (mut elections, mut federal_moves, mut region_moves) = (Vec::new(), Vec::new(), 0);
    for (_, frame) in reader.read_all::<simulacra::frames::Frame>().0 {
        match frame {
            simulacra::frames::Frame::Election(e) => elections.push(e),
            simulacra::frames::Frame::FederalMove(m) => federal_moves.push(m),
            simulacra::frames::Frame::InRegion { .. } => region_moves += 1,
            _ => {}
        }
    }
    // Twelve tax years: an election every second one, the federal leader moving each year.
    assert_eq!(elections.len(), 6);
    assert_eq!(federal_moves.len(), 12);
    assert_eq!(region_moves, 2 * 12);
    for e in &elections {
        // Every worker of the nation votes, whichever region she lives in.
        assert_eq!(e.ballots.len(), 30, "year {}", e.tax_year);
        assert_eq!(e.rule, "plurality");
    }
    let winner = elections[0].count.winner;
    assert_eq!(federal_moves[0].policy, format!("elected worker {winner}"));
    assert!(
        federal_moves
            .iter()
            .any(|m| m.deltas_points.iter().any(|d| *d != 0)),
        "the federal leaders never moved"
    );
    let fed = done.federation.as_ref().unwrap();
    let g = fed.federal_governance.as_ref().unwrap();
    assert_eq!((g.elections, g.term_years), (6, 2));
    assert_eq!(
        fed.federal_rates.as_ref().unwrap(),
        &federal_moves.last().unwrap().rates
    );
    assert!(matches!(
        verify_replay(full.path()).unwrap(),
        ReplayVerdict::Identical { .. }
    ));
    // inspect names the federal election and shows the federal layer's move.
    let shown = common::stdout(&common::simulacra(&[
        "inspect",
        full.path().to_str().unwrap(),
        "--round",
        "2",
    ]));
    assert!(shown.contains("federal election (plurality): "), "{shown}");
    let m = &federal_moves[2];
    assert!(
        shown.contains(&format!(
            "federal layer: rates {}% ({} moved {:?} points)",
            simulacra::inspect::pct(&m.rates),
            m.policy,
            m.deltas_points
        )),
        "{shown}"
    );
    // Cut the log and resume from the snapshots before the cut.
    let bytes = std::fs::read(full.path().join("run.log")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("run.log"), &bytes[..bytes.len() * 2 / 3]).unwrap();
    std::fs::create_dir(dir.path().join("snapshots")).unwrap();
    for e in std::fs::read_dir(full.path().join("snapshots")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join("snapshots").join(e.file_name())).unwrap();
    }
    let r = resume_run(dir.path()).unwrap();
    assert!(r.from_snapshot.is_some(), "resumed from a snapshot");
    assert_eq!(r.summary.log_sha256, done.log_sha256);
}

#[test]
fn elected_regions_under_a_federal_layer_value_platforms_with_it_and_replay() {
    // Both regions elect; a federal planner taxes on top. Each region's election book values
    // its platforms at the federation's equilibrium, federal tax and rebate included.
    let s = with_toml(
        "[federation]\nregions = 2\nmove_every_years = 0\nfederal_planner = \"hill-climb\"\n\
         federal_initial_rate = 0.2\n\
         [[federation.region]]\ngovernance = \"election\"\n\
         [[federation.region]]\ngovernance = \"election\"\n",
        &SMALL,
    );
    let dir = tempfile::tempdir().unwrap();
    let sum = run_scenario(&s, dir.path(), None).unwrap();
    let mut reader = simulacra_actors::log::LogReader::open(&dir.path().join("run.log")).unwrap();
    let mut elections = 0;
    for (_, frame) in reader.read_all::<simulacra::frames::Frame>().0 {
        if let simulacra::frames::Frame::InRegion { frame, .. } = frame
            && let simulacra::frames::Frame::Election(e) = *frame
        {
            elections += 1;
            assert_eq!(e.ballots.len(), 20, "every resident votes");
        }
    }
    assert_eq!(elections, 2 * 12);
    assert!(sum.federation.unwrap().federal_revenue.unwrap() > 0.0);
    assert!(matches!(
        verify_replay(dir.path()).unwrap(),
        ReplayVerdict::Identical { .. }
    ));
}
