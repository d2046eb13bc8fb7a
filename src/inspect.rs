//! Reading a run back from its message log alone: the game tax year by tax year, or one round
//! in full (the schedule in force, the planner's move and what it saw, and every worker's
//! hours, income, tax and utility, recomputed from the logged hours with the pure settlement).

use std::path::Path;

use anyhow::bail;
use serde::Serialize;

use crate::econ::federation::settle_regions;
use crate::econ::{TaxSchedule, settle};
use crate::frames::{Frame, PlannerMove, StepOutcome};
use crate::population::Population;
use crate::resolved::ResolvedScenario;
use crate::runlog::RunLog;

/// One tax year of the game.
#[derive(Clone, Debug, Serialize)]
pub struct RoundSummary {
    pub tax_year: u64,
    pub first_step: u64,
    pub steps: u64,
    pub planner_move: Option<PlannerMove>,
    /// The election held at the start of this tax year, if any.
    pub election: Option<crate::frames::ElectionRecord>,
    pub rates: Vec<f64>,
    pub mean_welfare: f64,
    pub mean_revenue: f64,
    pub mean_hours: f64,
    pub mean_gini: f64,
    /// LLM endpoints ejected from the pool or back in it during this tax year.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endpoint_events: Vec<crate::frames::EndpointEvent>,
    /// A federation: each region's year (the nation's `rates` are then the regions' marginal
    /// rates averaged by population, which no region need have used).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<crate::inspect_regions::RegionYear>,
}

/// One worker at the last step of a round.
#[derive(Clone, Debug, Serialize)]
pub struct WorkerRow {
    pub id: usize,
    pub skill: f64,
    pub hours: f64,
    pub income: f64,
    pub tax: f64,
    pub utility: f64,
    /// Where she lives (federation runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<u32>,
}

/// One region in a round of a federation.
#[derive(Clone, Debug, Serialize)]
pub struct RegionRound {
    pub region: u32,
    /// Its move at the start of the round (none when no move was logged).
    pub planner_move: Option<PlannerMove>,
    /// Its outcome at the round's last step.
    pub outcome: Option<crate::frames::RegionOutcome>,
    /// With public goods: its provision per resident at that step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_good: Option<f64>,
}

/// A round in full.
#[derive(Clone, Debug, Serialize)]
pub struct RoundDetail {
    #[serde(flatten)]
    pub summary: RoundSummary,
    pub cutoffs: Vec<f64>,
    /// The step whose per-worker outcomes are listed (the round's last logged step).
    pub worker_step: u64,
    pub rebate: f64,
    /// Empty when the run logged only digests of the hours.
    pub workers: Vec<WorkerRow>,
    pub note: Option<String>,
    /// A federation: each region, and the moves at the start of the round.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<RegionRound>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moves: Option<crate::frames::MoveRecord>,
    /// A federation's federal layer: its move at the start of the round.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federal_move: Option<PlannerMove>,
}

/// Everything in a log, grouped by step.
struct Recorded {
    /// The scenario in the log's header.
    scenario: crate::config::Scenario,
    moves: Vec<PlannerMove>,
    outcomes: Vec<StepOutcome>,
    /// (step, first agent, hours) blocks.
    decisions: Vec<(u64, u64, Vec<f64>)>,
    exchanges: Vec<crate::frames::LlmExchange>,
    endpoint_events: Vec<crate::frames::EndpointEvent>,
    elections: Vec<crate::frames::ElectionRecord>,
    /// A federation: the regions' moves, elections, outcomes and the workers' moves.
    region_moves: Vec<(u32, PlannerMove)>,
    region_elections: Vec<(u32, crate::frames::ElectionRecord)>,
    regions: Vec<crate::frames::RegionOutcome>,
    year_moves: Vec<crate::frames::MoveRecord>,
    federal_moves: Vec<PlannerMove>,
    /// A federation: how each year's movers' fixed point ended, and each step's welfare with
    /// location.
    expectations: Vec<crate::frames::ExpectationRecord>,
    locations: Vec<crate::frames::LocationOutcome>,
    damaged: Option<crate::runlog::Damage>,
}

fn read(run_dir: &Path, keep_decisions_of: Option<u64>) -> anyhow::Result<Recorded> {
    let log = RunLog::open(run_dir)?;
    let mut rec = Recorded {
        scenario: log.scenario.clone(),
        moves: Vec::new(),
        outcomes: Vec::new(),
        decisions: Vec::new(),
        exchanges: Vec::new(),
        endpoint_events: Vec::new(),
        elections: Vec::new(),
        region_moves: Vec::new(),
        region_elections: Vec::new(),
        regions: Vec::new(),
        year_moves: Vec::new(),
        federal_moves: Vec::new(),
        expectations: Vec::new(),
        locations: Vec::new(),
        damaged: None,
    };
    rec.damaged = log.frames(|frame, _| {
        match frame {
            Frame::PlannerMove(m) => rec.moves.push(m),
            Frame::Outcome(o) => rec.outcomes.push(o),
            Frame::Decisions {
                step,
                first_agent,
                hours,
            } => {
                if keep_decisions_of == Some(step) {
                    rec.decisions.push((step, first_agent, hours));
                }
            }
            Frame::StepBegin { .. } | Frame::DecisionDigest { .. } => {}
            Frame::Llm(e) => rec.exchanges.push(e),
            Frame::Endpoint(e) => rec.endpoint_events.push(e),
            Frame::Election(e) => rec.elections.push(e),
            Frame::InRegion { region, frame } => match *frame {
                Frame::PlannerMove(m) => rec.region_moves.push((region, m)),
                Frame::Election(e) => rec.region_elections.push((region, e)),
                _ => {}
            },
            Frame::RegionOutcome(o) => rec.regions.push(o),
            Frame::Moves(m) => rec.year_moves.push(m),
            Frame::FederalMove(m) => rec.federal_moves.push(m),
            Frame::MoverExpectations(e) => rec.expectations.push(e),
            Frame::Location(l) => rec.locations.push(l),
        }
        Ok(())
    })?;
    Ok(rec)
}

fn rounds(rec: &Recorded) -> Vec<RoundSummary> {
    let mut out: Vec<RoundSummary> = Vec::new();
    for o in &rec.outcomes {
        if out.last().is_none_or(|r| r.tax_year != o.tax_year) {
            out.push(RoundSummary {
                tax_year: o.tax_year,
                first_step: o.step,
                steps: 0,
                planner_move: rec.moves.iter().find(|m| m.tax_year == o.tax_year).cloned(),
                election: rec
                    .elections
                    .iter()
                    .find(|e| e.tax_year == o.tax_year)
                    .cloned(),
                rates: o.rates.clone(),
                mean_welfare: 0.0,
                mean_revenue: 0.0,
                mean_hours: 0.0,
                mean_gini: 0.0,
                endpoint_events: Vec::new(),
                regions: Vec::new(),
            });
        }
        let r = out.last_mut().expect("pushed above");
        r.steps += 1;
        r.mean_welfare += o.welfare;
        r.mean_revenue += o.revenue;
        r.mean_hours += o.mean_hours;
        r.mean_gini += o.gini;
        r.endpoint_events.extend(
            rec.endpoint_events
                .iter()
                .filter(|e| e.step == o.step)
                .cloned(),
        );
    }
    for r in &mut out {
        let n = r.steps as f64;
        r.mean_welfare /= n;
        r.mean_revenue /= n;
        r.mean_hours /= n;
        r.mean_gini /= n;
        r.regions = crate::inspect_regions::region_years(
            &rec.regions,
            &rec.region_moves,
            &rec.region_elections,
            r.tax_year,
            rec.scenario.has_public_good(),
        );
    }
    out
}

/// The move column of a year row: the election's winner and her move, the move in points, or
/// "set" for a schedule set without a move in points.
pub fn move_label(
    planner_move: Option<&PlannerMove>,
    election: Option<&crate::frames::ElectionRecord>,
) -> String {
    planner_move.map_or(String::from("-"), |m| {
        let points = || {
            m.deltas_points
                .iter()
                .map(|d| format!("{d:+}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        if let Some(e) = election {
            format!("won {}: {}", e.count.winner, points())
        } else if m.deltas_points.is_empty() {
            "set".into()
        } else {
            points()
        }
    })
}

/// Whether `rec` holds the whole run: refused when it does not, unless `partial` (then the
/// warning is returned); see [`crate::logview::check_whole`].
fn check(
    run_dir: &Path,
    rec: &Recorded,
    view: &str,
    partial: bool,
) -> anyhow::Result<Option<String>> {
    crate::logview::check_whole(
        run_dir,
        rec.outcomes.len() as u64,
        rec.damaged.as_ref(),
        view,
        partial,
    )
}

/// The whole game, one row per tax year; a log that holds less than its run is refused (see
/// [`crate::logview::check_whole`]).
pub fn game_table(run_dir: &Path) -> anyhow::Result<(Vec<RoundSummary>, Option<String>)> {
    game_table_with(run_dir, "the table", false)
}

/// The whole game, one row per tax year, and why the log holds less than the whole run
/// when `partial` let it through. `view` names what the caller makes of it ("the table").
pub fn game_table_with(
    run_dir: &Path,
    view: &str,
    partial: bool,
) -> anyhow::Result<(Vec<RoundSummary>, Option<String>)> {
    let rec = read(run_dir, None)?;
    let short = check(run_dir, &rec, view, partial)?;
    Ok((rounds(&rec), short))
}

/// Round (tax year) `k` in full; a log short of its run is refused.
pub fn round_detail(run_dir: &Path, k: u64) -> anyhow::Result<RoundDetail> {
    round_detail_with(run_dir, k, false)
}

/// Round (tax year) `k` in full; a log short of its run is refused unless `partial`.
pub fn round_detail_with(run_dir: &Path, k: u64, partial: bool) -> anyhow::Result<RoundDetail> {
    let all = read(run_dir, None)?;
    check(run_dir, &all, "the round", partial)?;
    let scenario = ResolvedScenario::new(all.scenario.clone())?;
    let summaries = rounds(&all);
    let Some(summary) = summaries.iter().find(|r| r.tax_year == k).cloned() else {
        bail!(
            "round {k} is not in the log: it holds rounds 0 to {}",
            summaries.len().saturating_sub(1)
        );
    };
    let worker_step = summary.first_step + summary.steps - 1;
    let rec = read(run_dir, Some(worker_step))?;
    let outcome = rec
        .outcomes
        .iter()
        .find(|o| o.step == worker_step)
        .expect("the round's steps come from these outcomes");
    let cutoffs = rec
        .moves
        .iter()
        .rev()
        .find(|m| m.tax_year <= k)
        .map(|m| m.cutoffs.clone())
        .unwrap_or_else(|| scenario.cutoffs.clone());
    let mut hours: Vec<f64> = Vec::new();
    for (_, first, block) in &rec.decisions {
        if *first as usize != hours.len() {
            bail!("the log's decision blocks for step {worker_step} are out of order");
        }
        hours.extend_from_slice(block);
    }
    let mut workers = Vec::new();
    let mut note = None;
    // A federation: where everyone lived in round k, and each region's schedule.
    let region_of = scenario.regions().map(|_| {
        let mut map = crate::resolved::starting_regions(&scenario, scenario.simulation.num_agents);
        for m in rec.year_moves.iter().filter(|m| m.tax_year <= k) {
            for &(id, _, to) in &m.moves {
                if let Some(r) = map.get_mut(id as usize) {
                    *r = to;
                }
            }
        }
        map
    });
    let outcomes: Vec<&crate::frames::RegionOutcome> = rec
        .regions
        .iter()
        .filter(|o| o.step == worker_step)
        .collect();
    let regions: Vec<RegionRound> = outcomes
        .iter()
        .map(|o| RegionRound {
            region: o.region,
            planner_move: rec
                .region_moves
                .iter()
                .find(|(r, m)| *r == o.region && m.tax_year == k)
                .map(|(_, m)| m.clone()),
            outcome: Some((*o).clone()),
            public_good: rec.scenario.has_public_good().then(|| o.public_good()),
        })
        .collect();
    if hours.len() == scenario.simulation.num_agents {
        let population = Population::generate(&scenario);
        let public_good = crate::resolved::public_goods(&scenario, population.len());
        let s = match &region_of {
            Some(map) => {
                let schedules = outcomes
                    .iter()
                    .map(|o| TaxSchedule::new(o.cutoffs.clone(), o.rates.clone()))
                    .collect::<Result<Vec<_>, _>>()?;
                let federal = rec
                    .federal_moves
                    .iter()
                    .rev()
                    .find(|m| m.tax_year <= k)
                    .map(|m| TaxSchedule::new(m.cutoffs.clone(), m.rates.clone()))
                    .transpose()?;
                settle_regions(
                    &scenario.world,
                    &schedules,
                    crate::logview::federal_layer(&scenario, federal.as_ref()),
                    public_good.as_ref(),
                    map,
                    &population.skills,
                    &population.weights,
                    &hours,
                )
                .national
            }
            None => settle(
                &scenario.world,
                &TaxSchedule::new(cutoffs.clone(), outcome.rates.clone())?,
                &population.skills,
                &population.weights,
                &hours,
            ),
        };
        workers = (0..hours.len())
            .map(|i| WorkerRow {
                id: i,
                skill: population.skills[i],
                hours: hours[i],
                income: s.incomes[i],
                tax: s.taxes[i],
                utility: s.utilities[i],
                region: region_of.as_ref().map(|m| m[i]),
            })
            .collect();
    } else {
        note = Some(
            "this run logged digests of the hours (log.decisions = \"digest\"), so per-worker \
             rows are not available; rerun with log.decisions = \"full\""
                .into(),
        );
    }
    Ok(RoundDetail {
        summary,
        cutoffs,
        worker_step,
        rebate: outcome.rebate,
        workers,
        note,
        regions,
        federal_move: rec.federal_moves.iter().find(|m| m.tax_year == k).cloned(),
        moves: rec.year_moves.into_iter().find(|m| m.tax_year == k),
    })
}

/// Rates in percent joined by `/`, as every command prints them (`70/70/50`).
pub fn pct(rates: &[f64]) -> String {
    rates
        .iter()
        .map(|r| format!("{:.0}", r * 100.0))
        .collect::<Vec<_>>()
        .join("/")
}

/// Plain-text rendering of the game table (a damaged log's warning is the caller's to print,
/// on stderr, so the table stays a table).
pub fn render_table(rows: &[RoundSummary]) -> String {
    // A federation's nation row is the population-weighted mean of its regions' rows below it.
    let moves: Vec<String> = rows
        .iter()
        .map(|r| {
            if r.regions.is_empty() {
                move_label(r.planner_move.as_ref(), r.election.as_ref())
            } else {
                "regions' mean".into()
            }
        })
        .collect();
    let rates: Vec<String> = rows.iter().map(|r| pct(&r.rates)).collect();
    // The rates and move columns widen for many brackets or a long winner label, rather
    // than pushing the rest of their row out of line.
    let region_cells: Vec<(String, String)> = rows
        .iter()
        .flat_map(|r| &r.regions)
        .map(|g| {
            (
                pct(&g.rates),
                move_label(g.planner_move.as_ref(), g.election.as_ref()),
            )
        })
        .collect();
    // Each column is as wide as its widest cell, the regions' rows included.
    let rates_w = crate::table::width(
        "rates %",
        rates.iter().chain(region_cells.iter().map(|c| &c.0)),
    )
    .max(22);
    let move_w = crate::table::width(
        "move (points)",
        moves.iter().chain(region_cells.iter().map(|c| &c.1)),
    )
    .max(18);
    let pad = |cell: &str, w: usize| format!("{cell:>w$}");
    // With public goods the regions' rows end with their provision per resident.
    let goods = rows
        .iter()
        .flat_map(|r| &r.regions)
        .any(|g| g.mean_public_good.is_some());
    let mut s = format!(
        "{:>4} {:>6} {} {} {:>12} {:>12} {:>8} {:>6}{}\n",
        "year",
        "step",
        pad("rates %", rates_w),
        pad("move (points)", move_w),
        "welfare",
        "revenue",
        "hours",
        "gini",
        if goods {
            "  public good $/resident"
        } else {
            ""
        }
    );
    let mut cells = region_cells.iter();
    for ((r, rates), mv) in rows.iter().zip(&rates).zip(&moves) {
        s += &format!(
            "{:>4} {:>6} {} {} {:>12.4} {:>12.0} {:>8.2} {:>6.3}\n",
            r.tax_year,
            r.first_step,
            pad(rates, rates_w),
            pad(mv, move_w),
            r.mean_welfare,
            r.mean_revenue,
            r.mean_hours,
            r.mean_gini
        );
        for (g, (rates, mv)) in r.regions.iter().zip(cells.by_ref()) {
            // "region 1 (52)": the region and its residents, under the year and step columns.
            let label = format!("region {} ({})", g.region, g.population);
            let good = g
                .mean_public_good
                .map_or(String::new(), |x| format!(" {x:>23.2}"));
            s += &format!(
                "{label:>11} {} {} {:>12.4} {:>12.0} {:>8.2} {:>6.3}{good}\n",
                pad(rates, rates_w),
                pad(mv, move_w),
                g.mean_welfare,
                g.mean_revenue,
                g.mean_hours,
                g.mean_gini
            );
        }
    }
    let events: Vec<&crate::frames::EndpointEvent> =
        rows.iter().flat_map(|r| &r.endpoint_events).collect();
    if !events.is_empty() {
        s += "LLM endpoints:\n";
        for e in events {
            s += &format!(
                "  step {:>5}: {} {} ({})\n",
                e.step, e.base_url, e.change, e.reason
            );
        }
    }
    s
}

/// Plain-text rendering of one round.
pub fn render_round(d: &RoundDetail) -> String {
    let r = &d.summary;
    let mut s = format!(
        "round {} (steps {}..={}), schedule in force: rates {}% on cut-offs {:?}\n",
        r.tax_year,
        r.first_step,
        d.worker_step,
        pct(&r.rates),
        d.cutoffs
    );
    match &r.planner_move {
        Some(m) => {
            s += &format!(
                "planner ({}) saw welfare {} and moved {:?} points from {}%\n",
                m.policy,
                m.observed_welfare
                    .map_or("none (no tax year before this one)".to_string(), |w| {
                        format!("{w:.4}")
                    }),
                m.deltas_points,
                pct(&m.previous_rates)
            );
        }
        None => s += "planner: no move logged for this round\n",
    }
    if let Some(e) = &r.election {
        // A federation's only nation-wide election is the federal one.
        let which = if d.regions.is_empty() {
            "election"
        } else {
            "federal election"
        };
        s += &format!(
            "{which} ({}): {} candidates, {} ballots (turnout {:.0}%), winner {} by a margin of {:.1}%{}\n",
            e.rule,
            e.candidates.len(),
            e.ballots.len(),
            e.turnout * 100.0,
            e.count.winner,
            e.count.margin * 100.0,
            if e.count.tie_broken {
                " (tie broken by lot)"
            } else {
                ""
            }
        );
        for (id, platform) in &e.candidates {
            let tally = e
                .count
                .tallies
                .iter()
                .find(|t| t.0 == *id)
                .map_or(0.0, |t| t.1);
            s += &format!("  candidate {id}: platform {platform:?}, tally {tally}\n");
        }
        for note in &e.count.notes {
            s += &format!("  {note}\n");
        }
    }
    s += &format!(
        "mean welfare {:.4}, revenue {:.0}, mean hours {:.2}, gini {:.3}; rebate at step {}: {:.2}\n",
        r.mean_welfare, r.mean_revenue, r.mean_hours, r.mean_gini, d.worker_step, d.rebate
    );
    if let Some(m) = &d.moves {
        s += &format!(
            "moves at the start of the round: {} workers (income segregation {:.4} -> {:.4})\n",
            m.moves.len(),
            m.segregation_before,
            m.segregation_after
        );
        for (id, from, to) in m.moves.iter().take(20) {
            s += &format!("  worker {id}: region {from} -> {to}\n");
        }
        if m.moves.len() > 20 {
            s += &format!("  ... and {} more\n", m.moves.len() - 20);
        }
    }
    for r in &d.regions {
        let Some(o) = &r.outcome else { continue };
        let mv = r
            .planner_move
            .as_ref()
            .map_or(String::from("no move"), |m| {
                format!("{} moved {:?} points", m.policy, m.deltas_points)
            });
        let good = r
            .public_good
            .map_or(String::new(), |g| format!(", public good {g:.2}/resident"));
        s += &format!(
            "region {}: {} residents, rates {}% ({mv}), welfare {:.4}, rebate {:.2}{good}, hours {:.2}, gini {:.3}\n",
            r.region,
            o.population,
            pct(&o.rates),
            o.welfare,
            o.rebate,
            o.mean_hours,
            o.gini
        );
    }
    if let Some(m) = &d.federal_move {
        s += &format!(
            "federal layer: rates {}% ({} moved {:?} points)\n",
            pct(&m.rates),
            m.policy,
            m.deltas_points
        );
    }
    if let Some(note) = &d.note {
        s += note;
        s += "\n";
    }
    if !d.workers.is_empty() {
        // A federation's rows end with the worker's region.
        let regional = d.workers.iter().any(|w| w.region.is_some());
        s += &format!(
            "{:>7} {:>21} {:>7} {:>12} {:>11} {:>12}{}\n",
            "worker",
            format!("skill {}", crate::econ::SKILL_UNIT),
            "hours",
            "income",
            "tax",
            "utility",
            if regional { "  region" } else { "" }
        );
        for w in &d.workers {
            s += &format!(
                "{:>7} {:>21.2} {:>7.2} {:>12.2} {:>11.2} {:>12.2}{}\n",
                w.id,
                w.skill,
                w.hours,
                w.income,
                w.tax,
                w.utility,
                w.region.map_or(String::new(), |r| format!(" {r:>7}"))
            );
        }
    }
    s
}
