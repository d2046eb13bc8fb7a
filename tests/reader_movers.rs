//! The guard on the move prompt: in a short run of the shipped federation-llm scenario, reader
//! movers (`tests/reader/moves.rs`), who read only the move prompt, must choose the region the
//! offline rule chooses, worker by worker, move by move. The offline rule with tastes off
//! (`federation.taste_scale` = 0, the default) is a deterministic argmax of her exact utility in
//! each region at its schedule in force and its last rebate, plus its amenity, less the moving
//! cost; LLM movers are charged no moving cost and given no amenity (the prompt says moving is
//! free and names none), so the rule is taken on those terms.

mod common;
mod reader;

use reader::server::Reader;
use simulacra::config::Scenario;
use simulacra::econ::TaxSchedule;
use simulacra::econ::federation::{assign_regions, choose_region, combine, region_utility};
use simulacra::frames::{Frame, RegionOutcome};
use simulacra::population::Population;
use simulacra::resolved::ResolvedScenario;
use simulacra::run::{Summary, run_scenario};
use simulacra_actors::LogReader;

/// One tax year's moves: (worker, from, to).
type Moves = Vec<(u64, u32, u32)>;

/// A tax year with moves: the regions' last outcomes before them, the federal layer's rebate
/// per worker at that step (0 without one), and the moves.
type Year = (Vec<RegionOutcome>, f64, Moves);

/// federation-llm, shortened, with `sets`, answered by the reader: its scenario, summary, and
/// for every tax year with moves, the regions' last outcomes before them and the moves.
fn run(sets: &[&str]) -> (Scenario, Summary, Vec<Year>) {
    let server = Reader::start(&[
        reader::worker::answer,
        reader::moves::answer,
        reader::planner::answer,
        reader::elections::answer,
    ]);
    let mut all = vec![
        "simulation.timesteps=12",
        "simulation.tax_year_length=3",
        "llm.backoff_ms=1",
        "llm.timeout_seconds=5",
        "llm.max_reasks=1",
        server.base_url.as_str(),
    ];
    all.extend_from_slice(sets);
    let sets: Vec<String> = all.iter().map(|s| s.to_string()).collect();
    let s =
        Scenario::resolve(include_str!("../scenarios/federation-llm.toml"), &[], &sets).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let summary = run_scenario(&s, tmp.path(), None).unwrap();
    let mut log = LogReader::open(&tmp.path().join("run.log")).unwrap();
    let k = s.federation.as_ref().unwrap().regions;
    let mut last: Vec<Option<RegionOutcome>> = vec![None; k];
    let mut federal_rebate = 0.0;
    let mut years = Vec::new();
    for (_, f) in log.read_all::<Frame>().0 {
        match f {
            Frame::RegionOutcome(o) => {
                let r = o.region as usize;
                last[r] = Some(o);
            }
            // The nation's revenue is the regions' and the federal layer's; the federal
            // revenue is rebated equally to every worker (equalization "none").
            Frame::Outcome(o) => {
                let own: f64 = last.iter().flatten().map(|r| r.revenue).sum();
                federal_rebate = (o.revenue - own) / s.simulation.num_agents as f64;
            }
            Frame::Moves(m) => years.push((
                last.iter()
                    .map(|o| o.clone().expect("a year was played"))
                    .collect(),
                federal_rebate,
                m.moves,
            )),
            _ => {}
        }
    }
    (s, summary, years)
}

fn role(s: &Summary, role: &str) -> (u64, u64) {
    s.llm
        .as_ref()
        .unwrap()
        .by_role
        .get(role)
        .map_or((0, 0), |r| (r.decisions, r.fallbacks))
}

/// Every tax year's moves of a reader run of `sets` and the offline rule's on the same state
/// (the regions' schedules and last rebates, from the log); every move answered.
fn moves(sets: &[&str]) -> Vec<(Moves, Moves)> {
    let (s, summary, years) = run(sets);
    let resolved = ResolvedScenario::new(s.clone()).unwrap();
    let population = Population::generate(&resolved);
    let n = population.len();
    assert_eq!(
        role(&summary, "move"),
        (3 * n as u64, 0),
        "every move answered"
    );
    assert_eq!(years.len(), 3);
    let f = s.federation.as_ref().unwrap();
    let mut region_of = assign_regions(&f.shares(), n);
    // A fixed federal layer's schedule, on top of every region's (none: no federal layer).
    let federal = (!f.federal_rates.is_empty())
        .then(|| TaxSchedule::new(resolved.cutoffs.clone(), f.federal_rates.clone()).unwrap());
    let mut out = Vec::new();
    for (outcomes, federal_rebate, moves) in &years {
        let values = |id: usize| -> Vec<f64> {
            outcomes
                .iter()
                .map(|o| {
                    let own = TaxSchedule::new(o.cutoffs.clone(), o.rates.clone()).unwrap();
                    let schedule = match &federal {
                        Some(fed) => combine(&own, fed),
                        None => own,
                    };
                    let rebate = o.rebate + federal_rebate;
                    region_utility(&resolved.world, population.skills[id], &schedule, rebate)
                })
                .collect()
        };
        let mut want = Vec::new();
        for (id, home) in region_of.iter_mut().enumerate() {
            let to = choose_region(*home as usize, &values(id), &[], 0.0, 0.0) as u32;
            if to != *home {
                want.push((id as u64, *home, to));
                *home = to;
            }
        }
        out.push((moves.clone(), want));
    }
    out
}

#[test]
fn reader_movers_choose_what_the_offline_rule_chooses_worker_by_worker() {
    let years = moves(&[]);
    for (year, (got, want)) in years.iter().enumerate() {
        assert_eq!(got, want, "moves of tax year {}", year + 1);
    }
    // The comparison covers moves, not only staying put.
    assert!(years.iter().any(|(got, _)| !got.is_empty()));
}

#[test]
fn a_move_prompt_that_hides_the_rebates_fails_the_guard() {
    // The same move.j2 stating no rebate: the reader still answers (no fallback), by the taxes
    // alone, and leaves the offline rule's moves.
    let dir = tempfile::tempdir().unwrap();
    let shipped = include_str!("../scenarios/prompts/move.j2");
    let line = "rebate per resident ${{ r.rebate }}";
    assert!(shipped.contains(line));
    let template = shipped.replace(line, "rebate per resident $0");
    std::fs::write(dir.path().join("move.j2"), template).unwrap();
    let prompts = format!("llm.prompts_dir={:?}", dir.path().to_str().unwrap());
    let years = moves(&[prompts.as_str()]);
    assert!(years.iter().any(|(got, want)| got != want), "{years:?}");
}

#[test]
fn reader_movers_under_a_federal_layer_choose_what_the_offline_rule_chooses() {
    // A fixed federal layer of 10 % in every bracket: the move prompt states each region's
    // rates and rebate with the federal ones included, and the reader must move as the
    // offline rule does on the combined schedule and the region's plus the federal rebate.
    let years = moves(&[
        "federation.federal_planner=\"fixed\"",
        "federation.federal_rates=[0.1, 0.1, 0.1]",
    ]);
    for (year, (got, want)) in years.iter().enumerate() {
        assert_eq!(got, want, "moves of tax year {}", year + 1);
    }
    assert!(years.iter().any(|(got, _)| !got.is_empty()));
}
