//! The guard on the worker's prompts: workers answered by the rule-based reader
//! (`tests/reader/worker.rs`), which reads only the prompt text, must play the offline rational
//! run (same planner, same seed) hour for hour. A prompt that drops or misstates a fact the best
//! response needs (skill, brackets, rates, the utility's numbers) fails here. Also: the line an
//! altruist is shown carries the welfare of the year it names.

mod common;
mod reader;

use std::path::Path;

use reader::server::Reader;
use simulacra::frames::Frame;
use simulacra::run::run_scenario;
use simulacra_actors::LogReader;

const GAME: [&str; 5] = [
    "simulation.num_agents=20",
    "simulation.timesteps=30",
    "simulation.tax_year_length=5",
    "baselines.enabled=false",
    "planner.policy=hill-climb",
];

/// A run of `GAME` with `sets` in `dir`; with LLM workers, answered by the reader. Every
/// (system, user) prompt asked.
fn run(dir: &Path, sets: &[&str]) -> Vec<(String, String)> {
    let server = Reader::start(&[reader::worker::answer, reader::elections::answer]);
    let mut all = GAME.to_vec();
    all.extend([
        "llm.backoff_ms=1",
        "llm.timeout_seconds=5",
        server.base_url.as_str(),
    ]);
    all.extend_from_slice(sets);
    run_scenario(&common::scenario(&all), dir, None).unwrap();
    server.prompts()
}

/// Every step's hours, in worker order, and every step's welfare.
fn played(dir: &Path) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut r = LogReader::open(&dir.join("run.log")).unwrap();
    let (mut hours, mut welfare) = (Vec::<Vec<f64>>::new(), Vec::new());
    for (_, f) in r.read_all::<Frame>().0 {
        match f {
            Frame::Decisions { step, hours: h, .. } => {
                if hours.len() <= step as usize {
                    hours.resize(step as usize + 1, Vec::new());
                }
                hours[step as usize].extend(h);
            }
            Frame::Outcome(o) => welfare.push(o.welfare),
            _ => {}
        }
    }
    (hours, welfare)
}

/// Runs the rational and the reader game with `sets` and checks the reader's hours against the
/// rational ones at every step (0.05 h) and the welfare (0.1 %); the largest hours difference.
fn reproduces_rational(sets: &[&str]) -> f64 {
    let tmp = tempfile::tempdir().unwrap();
    let (rational, reader) = (tmp.path().join("rational"), tmp.path().join("reader"));
    let with = |policy: &'static str| {
        let mut all = vec![policy];
        all.extend_from_slice(sets);
        all
    };
    run(&rational, &with("workers.policy=rational"));
    let prompts = run(&reader, &with("workers.policy=llm"));
    // Every hours question was one the reader could read: 20 workers x 30 steps.
    let read = prompts
        .iter()
        .filter(|(s, u)| reader::worker::read(s, u).is_some())
        .count();
    assert_eq!(read, 20 * 30);
    let (want, got) = (played(&rational), played(&reader));
    assert_eq!(want.0.len(), 30);
    assert_eq!(got.0.len(), 30);
    let mut worst = 0.0f64;
    for (step, (a, b)) in want.0.iter().zip(&got.0).enumerate() {
        assert_eq!(a.len(), 20);
        for (id, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 0.05,
                "step {step}, worker {id}: rational {x} h, reader {y} h"
            );
            worst = worst.max((x - y).abs());
        }
    }
    for (step, (a, b)) in want.1.iter().zip(&got.1).enumerate() {
        assert!(
            (a - b).abs() <= 1e-3 * a.abs(),
            "step {step}: welfare {a} rational, {b} reader"
        );
    }
    // The planner saw the same years, so it moved the same way: the rates changed.
    assert!(
        prompts.iter().any(|(_, u)| u.contains("This year TAX = ")
            && !u.contains("This year TAX = [50%, 50%, 50%]")),
        "the hill-climb moved the rates"
    );
    worst
}

#[test]
fn reader_workers_play_the_offline_rational_run() {
    let worst = reproduces_rational(&[]);
    println!("largest hours difference {worst:.2e} h");
}

#[test]
fn reader_crra_workers_play_the_offline_rational_run() {
    // With income effects the rebate matters: the prompt's last line states last year's, the
    // one the rational worker uses too (so no approximation beyond its rounding to cents).
    let worst = reproduces_rational(&["economy.utility=\"crra\""]);
    println!("largest hours difference {worst:.2e} h");
}

#[test]
fn withheld_formula_leaves_the_reader_unable_to_answer() {
    // The documented variant states no numbers: the reader cannot solve it (it falls back to
    // the generic answer), which is the point of withholding them.
    let tmp = tempfile::tempdir().unwrap();
    let prompts = run(
        tmp.path(),
        &[
            "workers.policy=llm",
            "llm.utility_formula=\"withheld\"",
            "simulation.timesteps=2",
            "simulation.tax_year_length=2",
        ],
    );
    assert!(!prompts.is_empty());
    for (s, u) in &prompts {
        assert!(reader::worker::read(s, u).is_none());
        assert!(
            s.contains("You are not told the formula of your utility"),
            "{s}"
        );
    }
}

#[test]
fn an_elected_leader_reads_her_workers_rules_formula_withheld_or_shown() {
    // Her system prompt is her worker's: it follows `llm.utility_formula` as his does.
    for (key, withheld) in [("\"withheld\"", true), ("\"shown\"", false)] {
        let tmp = tempfile::tempdir().unwrap();
        let formula = format!("llm.utility_formula={key}");
        let prompts = run(
            tmp.path(),
            &[
                "workers.policy=llm",
                formula.as_str(),
                "governance.mode=election",
                "governance.rule=plurality",
                "governance.term_years=1",
                "simulation.timesteps=6",
                "simulation.tax_year_length=3",
            ],
        );
        let leader: Vec<_> = prompts
            .iter()
            .filter(|(_, u)| u.contains("You were elected leader"))
            .collect();
        assert!(
            !leader.is_empty(),
            "no leader question among {}",
            prompts.len()
        );
        for (system, _) in leader {
            assert_eq!(
                system.contains("You are not told the formula of your utility"),
                withheld,
                "{system}"
            );
            assert_eq!(system.contains("LABOR^"), !withheld, "{system}");
        }
    }
}

#[test]
fn an_altruists_line_shows_the_welfare_of_the_year_it_names() {
    let tmp = tempfile::tempdir().unwrap();
    let prompts = run(
        tmp.path(),
        &["workers.policy=llm", "workers.altruistic_share=0.3"],
    );
    let (_, welfare) = played(tmp.path());
    let mut checked = 0;
    for (system, user) in &prompts {
        if !system.contains("Your utility u is the social welfare of the year.") {
            continue;
        }
        for line in user.lines().filter(|l| l.starts_with("year ")) {
            let year: usize = line["year ".len()..line.find(':').unwrap()]
                .parse()
                .unwrap();
            let u = &line[line.rfind("; u = ").unwrap() + "; u = ".len()..];
            assert_eq!(u, format!("{:.2}", welfare[year]), "{line}");
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} lines checked");
}

fn percent(r: f64) -> String {
    let t = format!("{:.2}", r * 100.0);
    format!("{}%", t.trim_end_matches('0').trim_end_matches('.'))
}

#[test]
fn workers_are_told_the_leaders_platform_and_last_move_as_the_log_has_them() {
    let tmp = tempfile::tempdir().unwrap();
    let prompts = run(
        tmp.path(),
        &[
            "workers.policy=llm",
            "governance.mode=election",
            "governance.rule=plurality",
            "governance.platforms=true",
            "governance.term_years=1",
        ],
    );
    // Each tax year's leader, the platform she won on and the move she made, from the log.
    let mut r = LogReader::open(&tmp.path().join("run.log")).unwrap();
    let mut years: Vec<String> = Vec::new();
    let mut platform = String::new();
    for (_, f) in r.read_all::<Frame>().0 {
        match f {
            Frame::Election(e) => {
                let won = &e
                    .candidates
                    .iter()
                    .find(|c| c.0 == e.count.winner)
                    .unwrap()
                    .1;
                platform = format!("{}|{won:?}", e.count.winner);
            }
            Frame::PlannerMove(m) => {
                let (winner, won) = platform.split_once('|').unwrap();
                let won: Vec<i32> = serde_json::from_str(won).unwrap();
                let rates: Vec<String> = m
                    .previous_rates
                    .iter()
                    .zip(&won)
                    .map(|(r, d)| percent(r + f64::from(*d) / 100.0))
                    .collect();
                let moved: Vec<String> = m
                    .deltas_points
                    .iter()
                    .map(|&d| if d == 0 { "0".into() } else { format!("{d:+}") })
                    .collect();
                years.push(format!(
                    "Current leader: worker_{winner}, elected on the platform [{}]; her last move changed the rates by [{}] points.",
                    rates.join(", "),
                    moved.join(", ")
                ));
            }
            _ => {}
        }
    }
    assert_eq!(years.len(), 6);
    let mut checked = 0;
    for (_, user) in prompts.iter().filter(|(_, u)| u.contains("{\"LABOR\"")) {
        let step = user
            .lines()
            .filter(|l| l.starts_with("year "))
            .map(|l| {
                l["year ".len()..l.find(':').unwrap()]
                    .parse::<usize>()
                    .unwrap()
                    + 1
            })
            .max()
            .unwrap_or(0);
        let said = user
            .lines()
            .find(|l| l.starts_with("Current leader:"))
            .unwrap();
        assert_eq!(said, years[step / 5], "step {step}");
        checked += 1;
    }
    assert_eq!(checked, 20 * 30);
}
