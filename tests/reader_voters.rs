//! The guard on the election prompts: in a short run of the shipped democratic-llm scenario,
//! reader voters (`tests/reader/elections.rs`), who read only the stand and vote prompts, must
//! elect the winner the offline voting rule elects on the same ballot paper (the same
//! candidates on the same platforms), election by election, by plurality and by instant
//! runoff (LLM ballots name one candidate, so the offline ballots are cut to their first
//! choice). The offline voter ranks platforms by her utility at the platform's equilibrium
//! rebate, an oracle's forecast the default vote prompt does not state: the equality holds
//! under `llm.platform_rebates = "shown"` (the documented key that states it), and the default
//! prompt is shown to fail it.

mod common;
mod reader;

use std::sync::Arc;

use reader::server::Reader;
use simulacra::config::Scenario;
use simulacra::econ::TaxSchedule;
use simulacra::frames::{ElectionRecord, Frame, PlannerMove};
use simulacra::governance::election::{Candidate, ElectionView, offline_ballot};
use simulacra::governance::platforms::{option_of, platform_book};
use simulacra::population::Population;
use simulacra::resolved::ResolvedScenario;
use simulacra::run::{Summary, run_scenario};
use simulacra_actors::{LogReader, StreamKey};

/// democratic-llm, shortened, with `sets`.
fn scenario(sets: &[&str]) -> Scenario {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Scenario::resolve(include_str!("../scenarios/democratic-llm.toml"), &[], &sets).unwrap()
}

/// A reader run of `sets`: its scenario, summary, elections and planner moves.
fn run(sets: &[&str]) -> (Scenario, Summary, Vec<ElectionRecord>, Vec<PlannerMove>) {
    let server = Reader::start(&[reader::worker::answer, reader::elections::answer]);
    let mut all = vec![
        "simulation.timesteps=10",
        "simulation.tax_year_length=2",
        "llm.backoff_ms=1",
        "llm.timeout_seconds=5",
        "llm.max_reasks=1",
        server.base_url.as_str(),
    ];
    all.extend_from_slice(sets);
    let s = scenario(&all);
    let tmp = tempfile::tempdir().unwrap();
    let summary = run_scenario(&s, tmp.path(), None).unwrap();
    let mut log = LogReader::open(&tmp.path().join("run.log")).unwrap();
    let (mut elections, mut moves) = (Vec::new(), Vec::new());
    for (_, f) in log.read_all::<Frame>().0 {
        match f {
            Frame::Election(e) => elections.push(e),
            Frame::PlannerMove(m) => moves.push(m),
            _ => {}
        }
    }
    (s, summary, elections, moves)
}

fn role(s: &Summary, role: &str) -> (u64, u64) {
    s.llm
        .as_ref()
        .unwrap()
        .by_role
        .get(role)
        .map_or((0, 0), |r| (r.decisions, r.fallbacks))
}

/// The winner the offline rule elects from the candidates of `e` (on the rates in force
/// `rates`): every worker's offline ballot (her exact utility under each platform), cut to its
/// first choice as an LLM ballot is, counted by the run's rule with the run's tie stream.
fn offline_winner(s: &Scenario, e: &ElectionRecord, rates: &[f64]) -> u64 {
    let resolved = ResolvedScenario::new(s.clone()).unwrap();
    let population = Population::generate(&resolved);
    let current = TaxSchedule::new(resolved.cutoffs.clone(), rates.to_vec()).unwrap();
    let max_delta = s.planner.max_delta_points;
    let book = platform_book(
        &resolved.world,
        &current,
        &population.skills,
        &population.weights,
        max_delta,
    );
    let candidates: Vec<Candidate> = e
        .candidates
        .iter()
        .map(|(id, deltas)| Candidate {
            id: *id,
            option: option_of(&book, deltas).expect("a platform of the book"),
        })
        .collect();
    let view = ElectionView {
        tax_year: e.tax_year,
        step: e.step,
        cutoffs: resolved.cutoffs.clone(),
        current_rates: rates.to_vec(),
        book: Arc::new(book),
        candidates: candidates.clone(),
        referendum: false,
        everyone_stands: true,
        declare_gain: 0.0,
        noise: 0.0,
        llm_platforms: true,
        rng_key: StreamKey::new(s.simulation.seed, "ballot"),
        liquid_peers: None,
        federal: false,
        utilities: None,
        leader_asked: true,
        max_delta,
    };
    let ballots: Vec<_> = (0..population.len())
        .map(|id| {
            let mut b = offline_ballot(
                id as u64,
                resolved.world.form,
                resolved.world.max_hours,
                population.skills[id],
                &view,
            );
            b.ranking.truncate(1);
            b.approvals = b.ranking.clone();
            b
        })
        .collect();
    let ids: Vec<u64> = candidates.iter().map(|c| c.id).collect();
    let rule = simulacra::governance::rule(&e.rule).unwrap();
    let mut rng = StreamKey::new(s.simulation.seed, "election").rng(0, e.tax_year);
    if std::env::var("DEBUG_VOTERS").is_ok() {
        for (b, r) in ballots.iter().zip(&e.ballots) {
            println!(
                "voter {} offline {:?} reader {:?} skill {:.0}",
                b.voter, b.ranking, r.ranking, population.skills[b.voter as usize]
            );
        }
        for (id, d) in &e.candidates {
            println!("cand {id} {d:?}");
        }
    }
    rule.count(&ids, &ballots, &mut rng).winner
}

/// Every election of a reader run of `sets`, its tax year with the reader's and the offline
/// rule's winner; no vote or platform fell back.
fn elections(sets: &[&str]) -> Vec<(u64, u64, u64)> {
    let (s, summary, elections, moves) = run(sets);
    assert_eq!(role(&summary, "vote"), (5 * 20, 0), "every vote answered");
    assert_eq!(
        role(&summary, "platform"),
        (5 * 20, 0),
        "every platform answered"
    );
    assert_eq!(elections.len(), 5);
    elections
        .iter()
        .map(|e| {
            let m = moves.iter().find(|m| m.tax_year == e.tax_year).unwrap();
            let want = offline_winner(&s, e, &m.previous_rates);
            (e.tax_year, e.count.winner, want)
        })
        .collect()
}

/// Under `llm.platform_rebates = "shown"`, the documented oracle key: each candidate's line
/// states the rebate her platform pays at everyone's best hours.
fn with_rebates(rule: &str) -> Vec<(u64, u64, u64)> {
    let rule = format!("governance.rule=\"{rule}\"");
    elections(&["llm.platform_rebates=\"shown\"", rule.as_str()])
}

#[test]
fn reader_voters_told_each_platforms_rebate_elect_the_offline_plurality_winner() {
    for (year, got, want) in with_rebates("plurality") {
        assert_eq!(got, want, "tax year {year}");
    }
}

#[test]
fn reader_voters_told_each_platforms_rebate_elect_the_offline_instant_runoff_winner() {
    for (year, got, want) in with_rebates("instant-runoff") {
        assert_eq!(got, want, "tax year {year}");
    }
}

#[test]
fn the_default_vote_prompt_lacks_the_rebate_a_platform_pays_and_the_guard_sees_it() {
    // Without each platform's rebate a voter can only guess what the revenue returns (the
    // reader: her own rebate, moving as her tax does); the offline voter knows it, and at
    // least one election goes another way.
    let years = elections(&[]);
    assert!(years.iter().any(|(_, got, want)| got != want), "{years:?}");
}
