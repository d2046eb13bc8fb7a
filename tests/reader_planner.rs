//! The planner's and the elected leader's prompts checked by the rule-based reader
//! (`tests/reader/planner.rs`), which answers from the prompt text alone as the offline
//! hill-climb planner would: a reader planner reproduces the offline planner's schedules year
//! by year, and a reader leader's moves are the ones her stated history implies.

mod common;
mod reader;

use reader::server::Reader;
use serde_json::Value;
use simulacra::frames::{Frame, PlannerMove};
use simulacra::run::{Summary, run_scenario};
use simulacra_actors::LogReader;

const SMALL: [&str; 4] = [
    "simulation.num_agents=5",
    "simulation.timesteps=36",
    "simulation.tax_year_length=3",
    "baselines.enabled=false",
];

/// A run of `sets` over SMALL; with `with_reader`, its LLM questions answered by the reader. Its
/// summary, its planner moves and every (system, user) prompt asked.
fn run(sets: &[&str], with_reader: bool) -> (Summary, Vec<PlannerMove>, Vec<(String, String)>) {
    let mut all = SMALL.to_vec();
    all.extend_from_slice(sets);
    let server =
        with_reader.then(|| Reader::start(&[reader::planner::answer, reader::elections::answer]));
    if let Some(server) = &server {
        all.extend([
            "llm.backoff_ms=1",
            "llm.timeout_seconds=5",
            "llm.max_reasks=1",
            server.base_url.as_str(),
        ]);
    }
    let tmp = tempfile::tempdir().unwrap();
    let summary = run_scenario(&common::scenario(&all), tmp.path(), None).unwrap();
    let mut log = LogReader::open(&tmp.path().join("run.log")).unwrap();
    let moves = log
        .read_all::<Frame>()
        .0
        .into_iter()
        .filter_map(|(_, f)| match f {
            Frame::PlannerMove(m) => Some(m),
            _ => None,
        })
        .collect();
    let prompts = server.map(|s| s.prompts()).unwrap_or_default();
    (summary, moves, prompts)
}

fn role(s: &Summary, role: &str) -> (u64, u64) {
    s.llm
        .as_ref()
        .unwrap()
        .by_role
        .get(role)
        .map_or((0, 0), |r| (r.decisions, r.fallbacks))
}

fn schedules(moves: &[PlannerMove]) -> Vec<(u64, Vec<f64>)> {
    moves
        .iter()
        .map(|m| (m.tax_year, m.rates.clone()))
        .collect()
}

#[test]
fn a_reader_planner_gives_the_offline_hill_climbs_schedules_year_by_year() {
    let (_, offline, _) = run(&["planner.policy=hill-climb"], false);
    let (s, read, prompts) = run(&["planner.policy=llm"], true);
    // Twelve tax years: the planner is asked from the second on, never falls back.
    assert_eq!(role(&s, "planner"), (11, 0));
    assert_eq!(offline.len(), 12);
    assert_eq!(schedules(&read), schedules(&offline));
    // The climb moved: the test compares more than a standing schedule.
    assert!(offline.iter().any(|m| m.rates != offline[0].rates));

    let (system, user) = prompts
        .iter()
        .rfind(|p| p.0.starts_with("You are an expert tax planner"))
        .unwrap();
    assert!(
        system.contains(
            "The brackets are bracket 1: [0, 90000), bracket 2: [90000, 159100), bracket 3: \
             [159100, and up)."
        ),
        "{system}"
    );
    assert!(system.contains("a tax year is 3 steps, and the run has 12 tax years"));
    assert!(system.contains("a DELTA of -20, -10, 0, 10 or 20 percentage points"));
    assert!(system.contains("one entry per bracket, bracket 1 first"));
    assert!(user.contains("  bracket 1 [0, 90000): "), "{user}");
    assert!(user.contains("Now tax year 11 begins (1 of the run's 12 tax years remain"));
}

#[test]
fn the_planner_reflection_follows_the_real_direction_of_each_move() {
    let (_, _, prompts) = run(&["planner.policy=llm"], true);
    let reflections: Vec<&str> = prompts
        .iter()
        .flat_map(|p| p.1.lines())
        .filter(|l| l.starts_with("Your last change"))
        .collect();
    assert!(reflections.iter().any(|r| r.contains(" was cut from ")));
    assert!(reflections.iter().any(|r| r.contains(" was raised from ")));
    for r in &reflections {
        for part in r.split("; ") {
            let cut = part.contains(" was cut from ");
            let rose = r.contains("change raised welfare");
            let fell = r.contains("change lowered welfare");
            // Same direction after a gain, the other way after a loss.
            let above = part.contains(": try it above ");
            let below = part.contains(": try it below ");
            if rose || fell {
                assert_eq!(above, cut == fell, "{r}");
                assert_eq!(below, cut == rose, "{r}");
            }
            assert!(!part.contains("keep raising"), "{r}");
        }
    }
}

#[test]
fn a_reader_leader_hill_climbs_on_her_stated_utility_with_no_fallback() {
    let (s, moves, prompts) = run(
        &[
            "workers.policy=llm",
            "governance.mode=election",
            "governance.rule=plurality",
            "governance.platforms=true",
            "governance.term_years=3",
        ],
        true,
    );
    let leader_prompts: Vec<&(String, String)> = prompts
        .iter()
        .filter(|p| p.1.starts_with("You were elected leader"))
        .collect();
    // Asked every tax year, answered every time.
    assert_eq!(role(&s, "leader"), (12, 0));
    assert_eq!(leader_prompts.len(), 12);
    for (k, (system, user)) in leader_prompts.iter().enumerate() {
        let m = &moves[k];
        assert_eq!(m.tax_year, k as u64);
        // Her move is what her stated history implies, and the game applied it.
        let answer: Value =
            serde_json::from_str(&reader::planner::answer(system, user).unwrap()).unwrap();
        let deltas: Vec<i32> = serde_json::from_value(answer["DELTA"].clone()).unwrap();
        assert_eq!(m.deltas_points, deltas, "year {k}: {user}");
        // The rates in force are stated exactly.
        let stated = simulacra::llm::prompts::percent_list(&m.previous_rates);
        assert!(
            user.contains(&format!("the rates in force are TAX = {stated}.")),
            "{user}"
        );
        assert!(user.contains("a tax year, the unit of the rates and of the history"));
        assert!(user.contains("is 3 steps, and the run has 12 tax years"));
        assert!(system.contains("You are worker_"));
        if k == 0 {
            assert!(user.contains("No tax year has been played yet"), "{user}");
            assert!(!user.contains("income mean"), "{user}");
            assert!(!user.contains("one of the last tax years"), "{user}");
        } else {
            assert!(
                user.contains(&format!("Your own steps of tax year {}:", k - 1)),
                "{user}"
            );
        }
        assert_eq!(
            user.contains("one of the last tax years"),
            k == 11,
            "{user}"
        );
    }
    // She climbed: not every year kept the schedule.
    assert!(
        moves
            .iter()
            .any(|m| m.deltas_points.iter().any(|d| *d != 0))
    );
}

#[test]
fn a_planner_prompt_that_hides_a_year_fails_the_guard() {
    // The same planner_user without the first year of its history: the reader cannot replay
    // the climb (a documented fallback answers instead) and the schedules leave the offline
    // planner's path.
    let dir = tempfile::tempdir().unwrap();
    let template = include_str!("../scenarios/prompts/planner_user.j2")
        .replace("{% for y in history %}", "{% for y in history[1:] %}");
    std::fs::write(dir.path().join("planner_user.j2"), template).unwrap();
    let prompts_dir = format!("llm.prompts_dir={:?}", dir.path().to_str().unwrap());
    let (_, offline, _) = run(&["planner.policy=hill-climb"], false);
    let (_, read, _) = run(&["planner.policy=llm", prompts_dir.as_str()], true);
    assert_ne!(schedules(&read), schedules(&offline));
}
