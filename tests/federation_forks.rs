//! Forks of a federation: from a tax year's first step a fork may change any region's or the
//! federal layer's policy (planner, rates, governance), equalization, the objective and
//! mobility; its prefix is its parent's, and one message says what may change when a fork is
//! refused.

mod common;

use common::{frames, prefix};

use simulacra::config::Scenario;
use simulacra::frames::Frame;
use simulacra::run::{ReplayVerdict, fork_run, run_scenario, verify_replay};

/// scenarios/federation.toml, small: the north elects, the south is planned (hill-climb).
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
fn a_fork_changes_a_regions_planner_and_the_objective_and_keeps_its_prefix() {
    let parent = tempfile::tempdir().unwrap();
    run_scenario(&federation_run(), parent.path(), None).unwrap();
    let child = tempfile::tempdir().unwrap();
    // From tax year 6 (step 30) the south keeps 20/30/40, the north is planned by hill-climb,
    // and regions are scored on their original residents.
    fork_run(
        parent.path(),
        30,
        &[
            "federation.region=[{share = 0.5, governance = \"planner\", planner = \"hill-climb\"}, {share = 0.5, planner = \"fixed\", governance = \"planner\", rates = [0.2, 0.3, 0.4]}]".into(),
            "federation.objective=\"original-residents\"".into(),
        ],
        child.path(),
    )
    .unwrap();
    let (a, b) = (frames(parent.path()), frames(child.path()));
    assert_eq!(prefix(&a, 30), prefix(&b, 30), "the prefix is the parent's");
    // From step 30 on, the south's rates are the fixed ones, and the north moves by its
    // planner (no more elections).
    let mut south = 0;
    let mut north_elections = 0;
    for f in &b[prefix(&b, 30).len()..] {
        match f {
            Frame::RegionOutcome(o) if o.region == 1 => {
                assert_eq!(o.rates, vec![0.2, 0.3, 0.4], "step {}", o.step);
                south += 1;
            }
            Frame::InRegion { region: 0, frame } if matches!(**frame, Frame::Election(_)) => {
                north_elections += 1
            }
            _ => {}
        }
    }
    assert_eq!(south, 30);
    assert_eq!(north_elections, 0);
    assert!(matches!(
        verify_replay(child.path()).unwrap(),
        ReplayVerdict::Identical { .. }
    ));
    // The fork resumes from its own snapshot past the change (step 50) to the same log.
    let whole = std::fs::read(child.path().join("run.log")).unwrap();
    let sha = simulacra_actors::log::file_sha256(&child.path().join("run.log")).unwrap();
    let cut = tempfile::tempdir().unwrap();
    std::fs::write(cut.path().join("run.log"), &whole[..whole.len() * 9 / 10]).unwrap();
    let snaps = cut.path().join("snapshots");
    std::fs::create_dir(&snaps).unwrap();
    for e in std::fs::read_dir(child.path().join("snapshots")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), snaps.join(e.file_name())).unwrap();
    }
    let resumed = simulacra::run::resume_run(cut.path()).unwrap();
    assert!(
        resumed.from_snapshot.is_some_and(|s| s > 30),
        "{:?}",
        resumed.from_snapshot
    );
    assert_eq!(resumed.summary.log_sha256, sha);
}

#[test]
fn a_fork_stops_the_moves_from_a_years_first_step() {
    let parent = tempfile::tempdir().unwrap();
    run_scenario(&federation_run(), parent.path(), None).unwrap();
    let child = tempfile::tempdir().unwrap();
    fork_run(
        parent.path(),
        20,
        &["federation.move_every_years=0".into()],
        child.path(),
    )
    .unwrap();
    let b = frames(child.path());
    // Nobody moves after the fork.
    assert!(
        !b.iter()
            .any(|f| matches!(f, Frame::Moves(m) if m.step >= 20)),
        "moves after the fork"
    );
    assert_eq!(prefix(&frames(parent.path()), 20), prefix(&b, 20));
}

#[test]
fn a_fork_that_may_not_change_what_it_asks_says_what_may_change() {
    let parent = tempfile::tempdir().unwrap();
    run_scenario(&federation_run(), parent.path(), None).unwrap();
    for (at, set, why) in [
        // Inside a tax year.
        (32, "federation.objective=\"national\"", "inside a tax year"),
        // The people's tastes are not a policy.
        (30, "federation.taste_scale=1000", "federation"),
        // Nor is the federal layer's existence.
        (
            30,
            "federation.federal_planner=\"hill-climb\"",
            "federal layer",
        ),
    ] {
        let out = tempfile::tempdir().unwrap();
        let err = format!(
            "{:#}",
            fork_run(parent.path(), at, &[set.into()], out.path())
                .err()
                .unwrap_or_else(|| panic!("{set} at {at} was allowed"))
        );
        assert!(err.contains("a fork may change [planner]"), "{err}");
        assert!(err.contains("each region's planner"), "{err}");
        assert!(err.contains(why), "{set}: {err}");
    }
}

/// A fork that changes only equalization, in a run whose hours never change (fixed rates, no
/// moves): the settlement kept for unchanged hours must not carry the parent's transfers past
/// the fork.
#[test]
fn a_fork_that_changes_equalization_pays_the_new_transfers_from_its_first_step() {
    let scenario = Scenario::load(
        None,
        &[
            "simulation.num_agents=200".into(),
            "simulation.timesteps=20".into(),
            "simulation.tax_year_length=10".into(),
            "baselines.enabled=false".into(),
            "planner.policy=fixed".into(),
            "planner.rates=[0.3,0.3,0.3]".into(),
            "federation.regions=2".into(),
            "federation.move_every_years=0".into(),
            "federation.federal_planner=\"fixed\"".into(),
            "federation.federal_rates=[0.1,0.1,0.1]".into(),
        ],
    )
    .unwrap();
    let parent = tempfile::tempdir().unwrap();
    run_scenario(&scenario, parent.path(), None).unwrap();
    let child = tempfile::tempdir().unwrap();
    fork_run(
        parent.path(),
        10,
        &["federation.equalization=\"gap-fill\"".into()],
        child.path(),
    )
    .unwrap();
    let outcomes = |frames: &[Frame]| -> Vec<(u64, u32, f64, f64, f64)> {
        frames
            .iter()
            .filter_map(|f| match f {
                Frame::RegionOutcome(o) => {
                    Some((o.step, o.region, o.mean_hours, o.transfer, o.rebate))
                }
                _ => None,
            })
            .collect()
    };
    let (a, b) = (frames(parent.path()), frames(child.path()));
    assert_eq!(prefix(&a, 10), prefix(&b, 10), "the prefix is the parent's");
    let (a, b) = (outcomes(&a), outcomes(&b));
    let at = |v: &[(u64, u32, f64, f64, f64)], step, region| {
        *v.iter().find(|o| o.0 == step && o.1 == region).unwrap()
    };
    for region in 0..2 {
        // The hours are the same on both sides of the fork, so the kept settlement was live.
        assert_eq!(at(&b, 9, region).2, at(&b, 10, region).2, "hours moved");
        assert_eq!(
            at(&a, 10, region).3,
            0.0,
            "no transfers without equalization"
        );
    }
    // Gap-fill pays the poorer region from the fork's first step, and its rebate changes.
    let paid: f64 = (0..2).map(|r| at(&b, 10, r).3).sum();
    assert!(paid > 0.0, "no transfer at the fork's first step");
    assert!(
        (0..2).any(|r| at(&b, 10, r).4 != at(&a, 10, r).4),
        "the rebates are the parent's"
    );
    common::assert_replays(child.path());
}
