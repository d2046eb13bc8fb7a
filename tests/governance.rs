//! Elected governance end to end: the offline democratic scenario is deterministic and
//! replays; every rule runs; elections are logged and summarized; the comparison table is
//! produced.

mod common;

use simulacra::governance::RULES;
use simulacra::run::{ReplayVerdict, compare_rules, run_scenario, verify_replay};

const SMALL: [&str; 5] = [
    "simulation.num_agents=30",
    "simulation.timesteps=60",
    "simulation.tax_year_length=10",
    "governance.mode=election",
    "baselines.enabled=false",
];

fn with(extra: &[&str]) -> simulacra::config::Scenario {
    let mut sets = SMALL.to_vec();
    sets.extend_from_slice(extra);
    common::scenario(&sets)
}

#[test]
fn democratic_runs_are_deterministic_logged_and_replay() {
    let s = with(&["governance.rule=plurality"]);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let sa = run_scenario(&s, a.path(), None).unwrap();
    let sb = run_scenario(&s, b.path(), None).unwrap();
    assert_eq!(sa.log_sha256, sb.log_sha256);
    let g = sa.governance.as_ref().unwrap();
    assert_eq!(g.elections, 6, "one election per tax year");
    assert_eq!(g.mean_turnout, 1.0);
    let csv = std::fs::read_to_string(a.path().join("elections.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
    assert!(csv.starts_with("tax_year,step,rule,winner,winner_income_decile,margin,turnout"));
    match verify_replay(a.path()).unwrap() {
        ReplayVerdict::Identical { .. } => {}
        ReplayVerdict::Differs(d) => panic!("{d}"),
        ReplayVerdict::Failed(f) => panic!("{f}"),
        ReplayVerdict::Unfinished { steps, .. } => panic!("unfinished at step {steps}"),
    }
    // The round view shows the election.
    let round = simulacra::inspect::round_detail(a.path(), 2).unwrap();
    let e = round.summary.election.expect("an election at round 2");
    assert_eq!(e.ballots.len(), 30);
    assert_eq!(e.candidates.len(), 30);
    assert!(
        round
            .summary
            .planner_move
            .unwrap()
            .policy
            .starts_with("elected worker")
    );
}

#[test]
fn every_rule_runs_and_terms_space_elections() {
    for rule in RULES {
        let set = format!("governance.rule={rule}");
        let s = with(&[
            set.as_str(),
            "governance.eligibility=declared",
            "governance.term_years=2",
        ]);
        let tmp = tempfile::tempdir().unwrap();
        let summary = run_scenario(&s, tmp.path(), None).unwrap_or_else(|e| panic!("{rule}: {e}"));
        let g = summary.governance.unwrap();
        // Six tax years, elections every second one: years 0, 2, 4 (if anyone declared).
        assert!(g.elections <= 3, "{rule}: {} elections", g.elections);
        assert!(summary.swf_final.is_finite());
    }
}

#[test]
fn the_welfare_objective_never_does_worse_for_welfare_than_own_utility_in_one_year() {
    // With one tax year, the welfare-maximizing leader picks the best reachable schedule by
    // construction; the self-interested leader can do no better.
    let base = ["simulation.timesteps=10", "governance.rule=plurality"];
    let own = run_scenario(&with(&base), tempfile::tempdir().unwrap().path(), None).unwrap();
    let mut w = base.to_vec();
    w.push("governance.leader_objective=welfare");
    let welfare = run_scenario(&with(&w), tempfile::tempdir().unwrap().path(), None).unwrap();
    assert!(welfare.swf_final >= own.swf_final - 1e-9);
}

#[test]
fn comparison_table_covers_the_planner_and_each_rule() {
    let s = with(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let rules: Vec<String> = ["plurality", "borda", "sortition"]
        .iter()
        .map(|r| r.to_string())
        .collect();
    let rows = compare_rules(&s, &rules, tmp.path()).unwrap();
    assert_eq!(rows.len(), 4);
    assert!(rows[0].rule.starts_with("planner"));
    assert_eq!(rows[1].rule, "plurality");
    for r in &rows {
        assert!(r.swf_final.is_finite() && r.bottom_decile_utility.is_finite());
    }
    assert!(tmp.path().join("plurality").join("elections.csv").exists());
    assert!(compare_rules(&s, &["dictatorship".to_string()], tmp.path()).is_err());
}

fn verify(dir: &std::path::Path) {
    match verify_replay(dir).unwrap() {
        ReplayVerdict::Identical { .. } => {}
        ReplayVerdict::Differs(d) => panic!("{d}"),
        ReplayVerdict::Failed(f) => panic!("{f}"),
        ReplayVerdict::Unfinished { steps, .. } => panic!("unfinished at step {steps}"),
    }
}

#[test]
fn liquid_elections_concentrate_weight_report_it_and_replay() {
    let s = with(&["governance.rule=liquid", "governance.delegation_share=0.6"]);
    let tmp = tempfile::tempdir().unwrap();
    let summary = run_scenario(&s, tmp.path(), None).unwrap();
    let g = summary.governance.as_ref().unwrap();
    assert_eq!(g.elections, 6);
    assert_eq!(g.liquid.len(), 6, "one weights entry per election");
    for e in &g.liquid {
        // Offline voters delegate only to direct voters: no chains, nothing lost, and every
        // vote is counted.
        assert_eq!(e.measures.lost, 0);
        assert!(
            e.measures.delegated > 5 && e.measures.delegated < 30,
            "{e:?}"
        );
        assert!(e.measures.largest_weight > 1, "{e:?}");
        assert!(
            e.measures.weight_gini > 0.0 && e.measures.weight_gini < 1.0,
            "{e:?}"
        );
    }
    assert_eq!(g.mean_turnout, 1.0);
    let csv = std::fs::read_to_string(tmp.path().join("elections.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.ends_with(",welfare,largest_weight,weight_gini,delegated,lost"),
        "{header}"
    );
    let first: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first.len(), 16);
    assert_eq!(first[12], g.liquid[0].measures.largest_weight.to_string());
    // The round view names the weights.
    let round = simulacra::inspect::round_detail(tmp.path(), 1).unwrap();
    let text = simulacra::inspect::render_round(&round);
    assert!(
        text.contains("liquid: ") && text.contains("weight Gini"),
        "{text}"
    );
    let e = round.summary.election.unwrap();
    // The log keeps the direct ballots; the delegated votes are in their weights.
    assert_eq!(e.ballots.len() + g.liquid[1].measures.delegated, 30);
    verify(tmp.path());
}

#[test]
fn liquid_without_delegation_is_plurality_and_other_rules_keep_their_tables() {
    let liquid = with(&["governance.rule=liquid", "governance.delegation_share=0"]);
    let plurality = with(&["governance.rule=plurality"]);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sa = run_scenario(&liquid, a.path(), None).unwrap();
    let sb = run_scenario(&plurality, b.path(), None).unwrap();
    let steps = |d: &std::path::Path| std::fs::read_to_string(d.join("steps.csv")).unwrap();
    assert_eq!(steps(a.path()), steps(b.path()));
    assert_eq!(sa.swf_final, sb.swf_final);
    let m = &sa.governance.as_ref().unwrap().liquid[0].measures;
    assert_eq!((m.largest_weight, m.weight_gini, m.delegated), (1, 0.0, 0));
    // A plurality run's outputs carry no liquid columns or block.
    let csv = std::fs::read_to_string(b.path().join("elections.csv")).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",tie_broken,welfare"));
    let json = std::fs::read_to_string(b.path().join("summary.json")).unwrap();
    assert!(!json.contains("largest_weight"));
}
