//! Prompts a reader can check: runs whose election and move questions are answered by the
//! rule-based reader (`tests/reader/`), which reads only the prompt text, with checks on the
//! rendered text (every allowed move listed, no sentence the game does not make true) and on
//! what the game did with the answers (no fallback, the leader asked every tax year).

mod common;
mod reader;

use reader::server::Reader;
use simulacra::run::{Summary, run_scenario};

/// A run of the small LLM game with `sets`, answered by the reader; its summary and every
/// (system, user) prompt asked.
fn reader_run(sets: &[&str]) -> (Summary, Vec<(String, String)>) {
    let server = Reader::start(&[reader::elections::answer, reader::moves::answer]);
    let mut all = vec![
        "simulation.num_agents=5",
        "simulation.timesteps=6",
        "simulation.tax_year_length=3",
        "workers.policy=llm",
        "llm.backoff_ms=1",
        "llm.timeout_seconds=5",
        "llm.max_reasks=1",
        server.base_url.as_str(),
    ];
    all.extend_from_slice(sets);
    let tmp = tempfile::tempdir().unwrap();
    let summary = run_scenario(&common::scenario(&all), tmp.path(), None).unwrap();
    (summary, server.prompts())
}

fn role(s: &Summary, role: &str) -> (u64, u64) {
    s.llm
        .as_ref()
        .unwrap()
        .by_role
        .get(role)
        .map_or((0, 0), |r| (r.decisions, r.fallbacks))
}

const ELECTION: [&str; 4] = [
    "governance.mode=election",
    "governance.rule=plurality",
    "governance.platforms=true",
    "governance.term_years=1",
];

#[test]
fn reader_candidates_never_fall_back_with_seven_brackets_from_zero_rates() {
    for brackets in ["economy.brackets=us-federal-2024", "simulation.seed=42"] {
        let mut sets = ELECTION.to_vec();
        sets.extend(["planner.initial_rate=0", brackets]);
        let (s, prompts) = reader_run(&sets);
        let (asked, fallbacks) = role(&s, "platform");
        assert_eq!(asked, 10, "{brackets}");
        assert_eq!(fallbacks, 0, "{brackets}");
        let stand = prompts
            .iter()
            .map(|p| &p.1)
            .find(|u| u.contains("The changes allowed"))
            .unwrap();
        assert!(stand.contains("bracket 1 (now 0%): 0, 10 or 20"), "{stand}");
        assert!(!stand.contains("-20, -10, 0, 10 or 20 percentage points per bracket"));
        assert_eq!(
            stand.contains("at most one bracket"),
            brackets.contains("us-federal"),
            "{stand}"
        );
    }
}

#[test]
fn the_elected_llm_leader_is_asked_every_tax_year_and_her_platform_is_a_promise() {
    // democratic-llm's governance: platforms on, one-year terms. Two tax years, two elections,
    // and the winner is asked both years (her platform is not applied for her).
    let (s, prompts) = reader_run(&ELECTION);
    assert_eq!(role(&s, "leader").0, 2);
    let stand = prompts
        .iter()
        .find(|p| p.1.contains("The changes allowed"))
        .unwrap();
    assert!(stand.1.contains(
        "that you promise voters. If you win, you set the rates yourself every year of your term."
    ));
    let vote = prompts
        .iter()
        .find(|p| p.1.contains("The candidates are:"))
        .unwrap();
    assert!(
        vote.1
            .contains("A candidate's platform is the rates she promises"),
        "{}",
        vote.1
    );
}

#[test]
fn referendum_options_come_from_the_llm_voters_not_exact_utilities() {
    // Platforms off: still every option on the ballot was proposed through the model.
    let (s, prompts) = reader_run(&[
        "governance.mode=election",
        "governance.rule=referendum",
        "governance.platforms=false",
    ]);
    assert_eq!(role(&s, "platform"), (10, 0));
    let vote = prompts
        .iter()
        .map(|p| &p.1)
        .find(|u| u.contains("The options are:"))
        .unwrap();
    assert!(!vote.contains("you vote for the tax planner"), "{vote}");
    assert!(
        vote.contains("the tax rates are put to a referendum"),
        "{vote}"
    );
    assert!(vote.contains("option 0: rates "), "{vote}");
    let stand = prompts
        .iter()
        .map(|p| &p.1)
        .find(|u| u.contains("The changes allowed"))
        .unwrap();
    assert!(stand.contains("Your proposal is a DELTA"), "{stand}");
}

#[test]
fn without_platforms_everyone_stands_and_nothing_is_decided_from_exact_utilities() {
    let (s, _) = reader_run(&[
        "governance.mode=election",
        "governance.rule=plurality",
        "governance.platforms=false",
    ]);
    // No platform question; every year the leader is asked.
    assert_eq!(role(&s, "platform").0, 0);
    assert_eq!(role(&s, "leader").0, 2);
}

#[test]
fn delegates_are_shown_with_the_income_the_game_pays_them() {
    let (_, prompts) = reader_run(&[
        "governance.mode=election",
        "governance.rule=liquid",
        "governance.platforms=false",
    ]);
    let (system, user) = prompts
        .iter()
        .find(|p| p.1.contains("\"DELEGATE\""))
        .unwrap();
    assert!(system.contains("40 hours a week earn you $"), "{system}");
    let peer = user
        .lines()
        .find(|l| l.starts_with("worker_") && l.contains("earns $"))
        .unwrap();
    assert!(
        peer.contains(" a year at 40 hours a week; works in "),
        "{peer}"
    );
}

#[test]
fn reader_movers_see_true_rates_rebates_and_costs_with_a_federal_layer() {
    let (s, prompts) = reader_run(&[
        "simulation.timesteps=9",
        "planner.policy=hill-climb",
        "federation.regions=2",
        "federation.move_every_years=1",
        "federation.federal_planner=\"hill-climb\"",
        "federation.federal_initial_rate=0.1",
    ]);
    assert_eq!(role(&s, "move"), (10, 0));
    let mv = prompts
        .iter()
        .map(|p| &p.1)
        .find(|u| u.contains("{\"REGION\""))
        .unwrap();
    assert!(!mv.contains("amenity"), "{mv}");
    assert!(!mv.contains("Moving costs"), "{mv}");
    assert!(mv.contains("Moving is free."), "{mv}");
    assert!(
        mv.contains("the rates and rebates below include it"),
        "{mv}"
    );
    assert!(mv.contains("the rebate per resident of year 2"), "{mv}");
    assert!(
        mv.contains("may change them this year, after the moves"),
        "{mv}"
    );
}

#[test]
fn the_planner_state_an_altruist_is_shown_is_the_state_it_renders() {
    use simulacra::econ::TaxSchedule;
    use simulacra::llm::Prompts;
    use simulacra::policy::llm_worker::{PlannerState, planner_state_context};
    let state = PlannerState {
        step: 7,
        tax_year: 2,
        schedule: TaxSchedule::new(vec![0.0, 20000.0, 40000.0], vec![0.5, 0.325, 0.1]).unwrap(),
        incomes: vec![10000.0, 25000.0, 30000.0, 50000.0, 0.0],
        utilities: vec![9000.0, 21000.0, 24500.0, 36000.0, 3000.0],
        welfare: 18700.5,
    };
    let user = Prompts::load(None)
        .unwrap()
        .render(
            "worker_user",
            serde_json::json!({"rates": "[50%, 32.5%, 10%]",
                               "planner_state": planner_state_context(&state)}),
        )
        .unwrap();
    assert!(
        user.contains(
            "What the tax planner saw at step 7 (the last step, in tax year 2), under TAX = \
             [50%, 32.5%, 10%], over all 5 workers:\npre-tax incomes in dollars a year, \
             workers per bracket:\n"
        ),
        "{user}"
    );
    // Each bracket's count is the number of incomes in it.
    let cutoffs = state.schedule.cutoffs();
    for (j, lo) in cutoffs.iter().enumerate() {
        let hi = cutoffs.get(j + 1).copied().unwrap_or(f64::INFINITY);
        let n = state
            .incomes
            .iter()
            .filter(|z| **z >= *lo && **z < hi)
            .count();
        let label = if hi.is_finite() {
            format!("  bracket {} [{lo:.0}, {hi:.0}): ", j + 1)
        } else {
            format!("  bracket {} [{lo:.0}, and up): ", j + 1)
        };
        let line = user.lines().find(|l| l.starts_with(&label)).unwrap();
        assert!(line.ends_with(&format!(" {n}")), "{line}");
    }
    // The utility bins count every worker once.
    let start = user.find("(10 bins):\n").unwrap() + "(10 bins):\n".len();
    let binned: usize = user[start..]
        .lines()
        .take(10)
        .map(|l| l.rsplit(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(binned, state.incomes.len());
    // Mean, median and spread (population std) of both, and the step's welfare.
    let stats = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        (m, s[s.len() / 2], sd)
    };
    let (im, imed, isd) = stats(&state.incomes);
    let (um, umed, usd) = stats(&state.utilities);
    assert!(
        user.contains(&format!(
            "income mean {im:.2}, median {imed:.2}, std {isd:.2} (dollars a year); utility mean \
             {um:.2}, median {umed:.2}, std {usd:.2}\nsocial welfare at step 7 = 18700.5000\n"
        )),
        "{user}"
    );
}

#[test]
fn altruists_are_shown_the_planners_state_of_the_last_step_and_egotists_are_not() {
    // Two of five LLM workers are altruists (scored on the welfare): their hours question
    // carries the planner's state of the step before, with that step's welfare as steps.csv
    // has it; the egotists' does not. The run replays from its log.
    let server = Reader::start(&[reader::worker::answer]);
    let sets = [
        "simulation.num_agents=5",
        "simulation.timesteps=6",
        "simulation.tax_year_length=3",
        "workers.policy=llm",
        "workers.altruistic_share=0.4",
        "llm.backoff_ms=1",
        "llm.timeout_seconds=5",
        "llm.max_reasks=1",
        server.base_url.as_str(),
    ];
    let tmp = tempfile::tempdir().unwrap();
    run_scenario(&common::scenario(&sets), tmp.path(), None).unwrap();
    let steps = std::fs::read_to_string(tmp.path().join("steps.csv")).unwrap();
    let header: Vec<&str> = steps.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "welfare").unwrap();
    let welfare: Vec<f64> = steps
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    let (mut shown, mut hidden) = (0, 0);
    for (system, user) in server.prompts() {
        if !user.contains("work this year") && !user.contains("LABOR") {
            continue;
        }
        let altruist = system.contains("social welfare");
        match user.find("What the tax planner saw at step ") {
            Some(i) => {
                assert!(
                    altruist,
                    "an egotist was shown the planner's state:\n{user}"
                );
                let rest = &user[i + "What the tax planner saw at step ".len()..];
                let step: usize = rest.split(' ').next().unwrap().parse().unwrap();
                let line = format!("social welfare at step {step} = {:.4}", welfare[step]);
                assert!(user.contains(&line), "{line} not in:\n{user}");
                shown += 1;
            }
            None => hidden += 1,
        }
    }
    // Two altruists, steps 1..=5.
    assert_eq!(shown, 10, "{shown} shown, {hidden} without");
    common::assert_replays(tmp.path());
}
