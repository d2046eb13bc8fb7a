//! What the viewer shows, read from a run's log (and `summary.json` for the baselines): the
//! whole run step by step, one round in full (schedule, the leader's move, the election as the
//! rule counted it, histograms, every worker's row), pages of the worker table and one worker's
//! trajectory.
//!
//! The numbers a user compares with the command line (rates, welfare, revenue, hours, Gini)
//! are formatted here, in Rust, exactly as `inspect` prints them, so the page cannot round
//! differently from the terminal.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rand::SeedableRng;
use serde::Serialize;

use crate::frames::{LlmExchange, PlannerMove};
use crate::governance::condorcet::pairwise;
use crate::governance::{self, first_choices};
use crate::inspect::{RoundSummary, game_table_with, pct};
use crate::logview::{RunView, scan};
use crate::plot::{hours_histogram, income_histograms};
use crate::run::summary::Summary;
use crate::runlog::{LOG_FILE, RunLog};

/// The pairwise matrix is shown up to this many candidates (it grows with their square).
const PAIRWISE_MAX: usize = 12;
/// A round carries its LLM exchanges up to this many (LLM runs are small; a larger round
/// keeps only the planner's and says so).
const EXCHANGES_MAX: usize = 5_000;

/// A run opened for viewing: the population, the round table and the baselines, read once.
pub struct Run {
    pub dir: PathBuf,
    pub view: RunView,
    pub fork_at: Option<u64>,
    pub rounds: Vec<RoundSummary>,
    pub damaged: Option<String>,
    summary: Option<Summary>,
}

impl Run {
    /// Opens the run in `dir`; a log that holds less of its run than it should is refused
    /// unless `partial` (then shown without `summary.json`'s baselines, which describe the
    /// whole run).
    pub fn open(dir: &Path, partial: bool) -> anyhow::Result<Run> {
        if !dir.join(LOG_FILE).is_file() {
            bail!(
                "{} is not a run folder: it has no run.log (give the folder `simulacra run --out` wrote)",
                dir.display()
            );
        }
        let header = RunLog::open(dir)?.header;
        let view = RunView::open(dir)?;
        let (rounds, damaged) = game_table_with(dir, "the page", partial)?;
        let summary = match damaged {
            None => Summary::read(dir)?,
            Some(_) => None,
        };
        Ok(Run {
            dir: dir.to_path_buf(),
            view,
            fork_at: header.fork.map(|f| f.at_step),
            rounds,
            damaged,
            summary,
        })
    }

    pub fn num_workers(&self) -> usize {
        self.view.population.len()
    }
}

/// The whole run, for the top of the page.
#[derive(Clone, Debug, Serialize)]
pub struct Overview {
    pub name: String,
    pub dir: String,
    pub seed: u64,
    pub num_workers: usize,
    pub tax_year_length: u64,
    /// Who sets the schedule: the planner policy, or "elected (rule)".
    pub setter: String,
    pub llm_workers: bool,
    /// Set when this run is a fork: the first step that differs from its parent.
    pub fork_at: Option<u64>,
    pub steps: StepSeries,
    pub rounds: Vec<RoundRow>,
    pub baselines: Vec<Baseline>,
    pub damaged: Option<String>,
    /// A federation: each region's series and governance (none for one nation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions: Option<super::regions::RegionSeries>,
}

/// Per-step series, column by column (compact for long runs).
#[derive(Clone, Debug, Default, Serialize)]
pub struct StepSeries {
    pub step: Vec<u64>,
    pub tax_year: Vec<u64>,
    pub welfare: Vec<f64>,
    pub gini: Vec<f64>,
    pub revenue: Vec<f64>,
    pub mean_hours: Vec<f64>,
    /// rates[bracket][i]
    pub rates: Vec<Vec<f64>>,
}

/// One tax year in the round list.
#[derive(Clone, Debug, Serialize)]
pub struct RoundRow {
    pub tax_year: u64,
    pub first_step: u64,
    pub steps: u64,
    pub rates: Vec<f64>,
    pub welfare: f64,
    #[serde(flatten)]
    pub text: RoundText,
    pub winner: Option<u64>,
}

/// A round's figures as `inspect` prints them.
#[derive(Clone, Debug, Serialize)]
pub struct RoundText {
    pub rates_text: String,
    pub welfare_text: String,
    pub revenue_text: String,
    pub hours_text: String,
    pub gini_text: String,
}

impl RoundText {
    fn of(r: &RoundSummary) -> RoundText {
        RoundText {
            rates_text: pct(&r.rates),
            welfare_text: format!("{:.4}", r.mean_welfare),
            revenue_text: crate::plot::thousands(r.mean_revenue),
            hours_text: format!("{:.2}", r.mean_hours),
            gini_text: format!("{:.3}", r.mean_gini),
        }
    }
}

/// A baseline schedule from `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    pub name: String,
    pub swf: f64,
    pub swf_text: String,
    pub cutoffs: Vec<f64>,
    pub rates: Vec<f64>,
}

fn baselines(summary: Option<&Summary>) -> Vec<Baseline> {
    let Some(s) = summary else {
        return Vec::new();
    };
    [
        ("2024 US", &s.baselines.us_federal),
        ("Saez", &s.baselines.saez),
    ]
    .into_iter()
    .filter_map(|(name, b)| {
        let b = b.as_ref()?;
        Some(Baseline {
            name: name.into(),
            swf: b.swf,
            swf_text: format!("{:.4}", b.swf),
            cutoffs: b.cutoffs.clone(),
            rates: b.rates.clone(),
        })
    })
    .collect()
}

/// The whole run: one scan of the log without the per-worker hours.
pub fn overview(run: &Run) -> anyhow::Result<Overview> {
    let sc = &run.view.scenario;
    let mut steps = StepSeries::default();
    let federation = super::regions::setter(sc);
    let mut regions = federation
        .as_ref()
        .map(|(_, names)| super::regions::RegionSeries {
            names: names.clone(),
            ..Default::default()
        });
    scan(&run.dir, false, |s| {
        let o = s.outcome.as_ref().expect("scan delivers complete steps");
        if let Some(series) = regions.as_mut() {
            series.push(&s.regions);
        }
        steps.step.push(s.step);
        steps.tax_year.push(s.tax_year);
        steps.welfare.push(o.welfare);
        steps.gini.push(o.gini);
        steps.revenue.push(o.revenue);
        steps.mean_hours.push(o.mean_hours);
        if steps.rates.len() < o.rates.len() {
            steps
                .rates
                .resize(o.rates.len(), vec![f64::NAN; steps.step.len() - 1]);
        }
        for (j, col) in steps.rates.iter_mut().enumerate() {
            col.push(o.rates.get(j).copied().unwrap_or(f64::NAN));
        }
        Ok(())
    })?;
    let setter = match federation {
        Some((text, _)) => text,
        None => match sc.governance.mode {
            crate::config::GovernanceMode::Election => format!("elected ({})", sc.governance.rule),
            // The policy's name as scenarios spell it (hill-climb, saez, ...).
            crate::config::GovernanceMode::Planner => serde_json::to_value(sc.planner.policy)?
                .as_str()
                .map_or_else(|| format!("{:?}", sc.planner.policy), str::to_string),
        },
    };
    Ok(Overview {
        name: sc.name.clone(),
        dir: run.dir.display().to_string(),
        seed: sc.simulation.seed,
        num_workers: run.num_workers(),
        tax_year_length: sc.simulation.tax_year_length,
        setter,
        llm_workers: sc.workers.policy == crate::config::WorkerPolicyName::Llm,
        fork_at: run.fork_at,
        steps,
        rounds: run
            .rounds
            .iter()
            .map(|r| RoundRow {
                tax_year: r.tax_year,
                first_step: r.first_step,
                steps: r.steps,
                rates: r.rates.clone(),
                welfare: r.mean_welfare,
                text: RoundText::of(r),
                winner: r.election.as_ref().map(|e| e.count.winner),
            })
            .collect(),
        baselines: baselines(run.summary.as_ref()),
        damaged: run.damaged.clone(),
        regions,
    })
}

/// A candidate with every way the ballots can be tallied for her.
#[derive(Clone, Debug, Serialize)]
pub struct CandidateView {
    pub id: u64,
    /// Platform move, points per bracket.
    pub platform: Vec<i32>,
    /// The rule's own deciding tally, as logged.
    pub tally: f64,
    pub first_choices: f64,
    pub approvals: f64,
    pub borda: f64,
}

/// An election as the viewer shows it: aggregates of the ballots, not the ballots.
#[derive(Clone, Debug, Serialize)]
pub struct ElectionView {
    pub rule: String,
    pub ballots: usize,
    pub turnout_text: String,
    pub winner: u64,
    pub margin_text: String,
    pub tie_broken: bool,
    pub exhausted: usize,
    pub candidates: Vec<CandidateView>,
    /// pairwise[i][j]: ballots preferring candidate i to j (up to PAIRWISE_MAX candidates).
    pub pairwise: Option<Vec<Vec<f64>>>,
    /// The count's own account (instant-runoff rounds, Condorcet paths, ...).
    pub notes: Vec<String>,
}

/// Tallies the logged ballots every way the rules count them. Borda points and approvals
/// come from the rules' own counts (the seeded tie-break cannot change a tally).
pub fn election_view(e: &crate::frames::ElectionRecord) -> ElectionView {
    let ids: Vec<u64> = e.candidates.iter().map(|c| c.0).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let tallies_of = |rule: &str, rng: &mut rand_chacha::ChaCha8Rng| -> Vec<f64> {
        match governance::rule(rule) {
            Some(r) if !ids.is_empty() => r.count(&ids, &e.ballots, rng).tallies,
            _ => Vec::new(),
        }
        .into_iter()
        .map(|t| t.1)
        .collect()
    };
    let borda = tallies_of("borda", &mut rng);
    let approvals = tallies_of("approval", &mut rng);
    let (firsts, _) = first_choices(&ids, &e.ballots);
    let candidates = e
        .candidates
        .iter()
        .enumerate()
        .map(|(i, (id, platform))| CandidateView {
            id: *id,
            platform: platform.clone(),
            tally: e
                .count
                .tallies
                .iter()
                .find(|t| t.0 == *id)
                .map_or(0.0, |t| t.1),
            first_choices: firsts.get(i).copied().unwrap_or(0.0),
            approvals: approvals.get(i).copied().unwrap_or(0.0),
            borda: borda.get(i).copied().unwrap_or(0.0),
        })
        .collect();
    ElectionView {
        rule: e.rule.clone(),
        ballots: e.ballots.len(),
        turnout_text: format!("{:.0}%", e.turnout * 100.0),
        winner: e.count.winner,
        margin_text: format!("{:.1}%", e.count.margin * 100.0),
        tie_broken: e.count.tie_broken,
        exhausted: e.count.exhausted,
        candidates,
        pairwise: (ids.len() <= PAIRWISE_MAX && !e.ballots.is_empty())
            .then(|| pairwise(&ids, &e.ballots)),
        notes: e.count.notes.clone(),
    }
}

/// One worker at the round's last step (inspect's row), with her persona.
#[derive(Clone, Debug, Serialize)]
pub struct WorkerRow {
    #[serde(flatten)]
    pub row: crate::inspect::WorkerRow,
    pub occupation: String,
    pub sex: String,
    pub age: u8,
    pub kind: crate::econ::UtilityType,
}

/// The columns the worker table sorts by.
pub const SORT_KEYS: [&str; 7] = ["id", "skill", "hours", "income", "tax", "utility", "age"];

/// Round K in full, except the worker rows (paged separately).
#[derive(Clone, Debug, Serialize)]
pub struct RoundView {
    pub tax_year: u64,
    pub first_step: u64,
    pub worker_step: u64,
    pub rates: Vec<f64>,
    pub cutoffs: Vec<f64>,
    #[serde(flatten)]
    pub text: RoundText,
    pub rebate_text: String,
    pub planner_move: Option<PlannerMove>,
    pub election: Option<ElectionView>,
    /// (from, to, workers) bins of weekly hours.
    pub hours_hist: Vec<(f64, f64, f64)>,
    /// (from, to, workers) bins of log10 pre-tax income.
    pub income_hist: Vec<(f64, f64, f64)>,
    /// As a user reads them: a planner's `agent` is null, and a federation's planners say
    /// whose they are (`planner`).
    #[serde(serialize_with = "user_exchanges")]
    pub exchanges: Vec<LlmExchange>,
    /// Why something is missing (digest logs, exchanges left out).
    pub notes: Vec<String>,
    /// A federation: each region in this round, and the moves between them at its start as
    /// (from, to, workers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<super::regions::RegionRoundView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<(u32, u32, u64)>,
}

/// A round with its workers' per-row values (the page's table is paged from these).
pub struct RoundData {
    pub view: RoundView,
    /// (hours, income, tax, utility) by worker id; empty under digest logs.
    pub values: Vec<[f64; 4]>,
}

/// Rounds `ks` in full, in one scan of the log.
pub fn rounds(run: &Run, ks: &[u64]) -> anyhow::Result<Vec<RoundData>> {
    let mut wanted: Vec<(&RoundSummary, Option<RoundData>)> = Vec::new();
    for &k in ks {
        let Some(r) = run.rounds.iter().find(|r| r.tax_year == k) else {
            bail!(
                "round {k} is not in the log: it holds rounds 0 to {}",
                run.rounds.len().saturating_sub(1)
            );
        };
        wanted.push((r, None));
    }
    let mut exchanges: Vec<Vec<LlmExchange>> = vec![Vec::new(); wanted.len()];
    // A federation's moves (at a round's first step) and welfare with location (every step).
    let mut moves: Vec<Option<crate::frames::MoveRecord>> = vec![None; wanted.len()];
    let mut locations: Vec<Vec<crate::frames::LocationOutcome>> = vec![Vec::new(); wanted.len()];
    scan(&run.dir, true, |s| {
        for (i, (r, done)) in wanted.iter_mut().enumerate() {
            let last = r.first_step + r.steps - 1;
            if !(r.first_step..=last).contains(&s.step) {
                continue;
            }
            exchanges[i].extend(s.exchanges.iter().cloned());
            if s.step == r.first_step {
                moves[i] = s.moves.clone();
            }
            locations[i].extend(s.location.iter().cloned());
            if s.step == last {
                *done = Some(round_at(run, r, &s)?);
            }
        }
        Ok(())
    })?;
    let mut out = Vec::new();
    let names = super::regions::setter(&run.view.scenario).map_or_else(Vec::new, |(_, n)| n);
    for ((((r, done), mut ex), moved), located) in
        wanted.into_iter().zip(exchanges).zip(moves).zip(locations)
    {
        let mut d =
            done.with_context(|| format!("round {}: its last step is not in the log", r.tax_year))?;
        d.view.regions = super::regions::round_regions(&r.regions, &names, &located);
        d.view.flows = super::regions::flows(moved.as_ref());
        if ex.len() > EXCHANGES_MAX {
            let all = ex.len();
            ex.retain(|e| crate::frames::is_planner_agent(e.agent));
            d.view.notes.push(format!(
                "this round has {all} LLM exchanges; only the planner's are shown"
            ));
        }
        d.view.exchanges = ex;
        out.push(d);
    }
    Ok(out)
}

fn round_at(
    run: &Run,
    r: &RoundSummary,
    s: &crate::logview::StepData,
) -> anyhow::Result<RoundData> {
    let outcome = s.outcome.as_ref().expect("scan delivers complete steps");
    let mut notes = Vec::new();
    let mut values = Vec::new();
    let (mut hours_hist, mut income_hist) = (Vec::new(), Vec::new());
    match run.view.settle(s)? {
        Some(settled) => {
            let hours = s.hours.as_ref().expect("settled steps have hours");
            hours_hist = hours_histogram(hours);
            income_hist = income_histograms(&[&settled.incomes]).bins.swap_remove(0);
            values = (0..hours.len())
                .map(|i| {
                    [
                        hours[i],
                        settled.incomes[i],
                        settled.taxes[i],
                        settled.utilities[i],
                    ]
                })
                .collect();
        }
        None => notes.push(
            "this run logged digests of the hours (log.decisions = \"digest\"), so per-worker \
             rows and histograms are not available; rerun with log.decisions = \"full\""
                .into(),
        ),
    }
    Ok(RoundData {
        view: RoundView {
            tax_year: r.tax_year,
            first_step: r.first_step,
            worker_step: s.step,
            rates: r.rates.clone(),
            cutoffs: s.cutoffs.clone(),
            text: RoundText::of(r),
            rebate_text: crate::plot::amount(outcome.rebate),
            planner_move: r.planner_move.clone(),
            election: r.election.as_ref().map(election_view),
            hours_hist,
            income_hist,
            exchanges: Vec::new(),
            notes,
            regions: Vec::new(),
            flows: Vec::new(),
        },
        values,
    })
}

/// One page of the worker table.
#[derive(Clone, Debug, Serialize)]
pub struct WorkerPage {
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<WorkerRow>,
}

/// Worker ids of a round ordered by `key` (ties by id, so the order is total and stable).
pub fn order(run: &Run, d: &RoundData, key: &str, desc: bool) -> anyhow::Result<Vec<usize>> {
    let pop = &run.view.population;
    let col: Box<dyn Fn(usize) -> f64> = match key {
        "id" => Box::new(|i| i as f64),
        "skill" => Box::new(|i| pop.skills[i]),
        "hours" => Box::new(|i| d.values[i][0]),
        "income" => Box::new(|i| d.values[i][1]),
        "tax" => Box::new(|i| d.values[i][2]),
        "utility" => Box::new(|i| d.values[i][3]),
        "age" => Box::new(|i| f64::from(pop.persona(i).age)),
        other => bail!(
            "cannot sort workers by {other:?}: use one of {}",
            SORT_KEYS.join(", ")
        ),
    };
    let keys: Vec<f64> = (0..d.values.len()).map(&col).collect();
    let mut ids: Vec<usize> = (0..d.values.len()).collect();
    ids.sort_by(|&a, &b| {
        let o = keys[a].total_cmp(&keys[b]);
        (if desc { o.reverse() } else { o }).then(a.cmp(&b))
    });
    Ok(ids)
}

/// The rows of `ids` (a page of an order).
pub fn worker_rows(run: &Run, d: &RoundData, ids: &[usize]) -> Vec<WorkerRow> {
    ids.iter()
        .filter(|&&i| i < d.values.len())
        .map(|&i| {
            let card = run.view.population.card(i);
            let [hours, income, tax, utility] = d.values[i];
            WorkerRow {
                row: crate::inspect::WorkerRow {
                    id: i,
                    skill: card.skill,
                    hours,
                    income,
                    tax,
                    utility,
                    region: None,
                },
                occupation: card.occupation,
                sex: card.sex,
                age: card.age,
                kind: card.utility_type,
            }
        })
        .collect()
}

/// Workers' trajectories over the run, column by column.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Trajectory {
    pub id: usize,
    pub skill: f64,
    pub census_income: f64,
    pub persona: String,
    pub step: Vec<u64>,
    pub hours: Vec<f64>,
    pub income: Vec<f64>,
    pub tax: Vec<f64>,
    pub utility: Vec<f64>,
}

/// The trajectories of workers `ids`, in one scan (the static page asks for all of them at
/// once; `inspect --agent` scans once per worker).
pub fn trajectories(run: &Run, ids: &[usize]) -> anyhow::Result<Vec<Trajectory>> {
    let pop = &run.view.population;
    if let Some(&bad) = ids.iter().find(|&&i| i >= pop.len()) {
        bail!(
            "worker {bad} is not in this run: it has workers 0 to {}",
            pop.len().saturating_sub(1)
        );
    }
    let mut out: Vec<Trajectory> = ids
        .iter()
        .map(|&i| Trajectory {
            id: i,
            skill: pop.skills[i],
            census_income: pop.census_incomes[i],
            persona: pop.card(i).persona,
            ..Trajectory::default()
        })
        .collect();
    scan(&run.dir, true, |s| {
        if let Some(settled) = run.view.settle(&s)? {
            let hours = s.hours.as_ref().expect("settled steps have hours");
            for t in &mut out {
                t.step.push(s.step);
                t.hours.push(hours[t.id]);
                t.income.push(settled.incomes[t.id]);
                t.tax.push(settled.taxes[t.id]);
                t.utility.push(settled.utilities[t.id]);
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// Exchanges as `LlmExchange::to_user_json` gives them.
fn user_exchanges<S: serde::Serializer>(ex: &[LlmExchange], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::{Error, SerializeSeq};
    let mut seq = s.serialize_seq(Some(ex.len()))?;
    for e in ex {
        seq.serialize_element(&e.to_user_json().map_err(S::Error::custom)?)?;
    }
    seq.end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frames::ElectionRecord;
    use crate::governance::{Ballot, Count};

    fn ballot(voter: u64, ranking: &[u64], approvals: &[u64]) -> Ballot {
        Ballot {
            voter,
            ranking: ranking.to_vec(),
            approvals: approvals.to_vec(),
        }
    }

    #[test]
    fn an_election_is_tallied_every_way_from_its_ballots() {
        // 3 x [1,2,3], 2 x [2,3,1], 2 x [3,2,1]: first choices 3/2/2, Borda 6/9/6,
        // approvals of each ballot's first two 3/7/4.
        let mut ballots = Vec::new();
        for (v, r) in [
            [1, 2, 3],
            [1, 2, 3],
            [1, 2, 3],
            [2, 3, 1],
            [2, 3, 1],
            [3, 2, 1],
            [3, 2, 1],
        ]
        .iter()
        .enumerate()
        {
            ballots.push(ballot(v as u64, r, &r[..2]));
        }
        let e = ElectionRecord {
            step: 0,
            tax_year: 0,
            rule: "plurality".into(),
            candidates: vec![(1, vec![5]), (2, vec![0]), (3, vec![-5])],
            ballots,
            count: Count {
                winner: 1,
                tallies: vec![(1, 3.0), (2, 2.0), (3, 2.0)],
                margin: 1.0 / 7.0,
                tie_broken: false,
                exhausted: 0,
                notes: vec!["one note".into()],
            },
            turnout: 0.7,
        };
        let v = election_view(&e);
        let col = |f: fn(&CandidateView) -> f64| v.candidates.iter().map(f).collect::<Vec<_>>();
        assert_eq!(col(|c| c.tally), [3.0, 2.0, 2.0]);
        assert_eq!(col(|c| c.first_choices), [3.0, 2.0, 2.0]);
        assert_eq!(col(|c| c.borda), [6.0, 9.0, 6.0]);
        assert_eq!(col(|c| c.approvals), [3.0, 7.0, 4.0]);
        // 2 beats 3 on the three [1,2,3] and two [2,3,1] ballots.
        let p = v.pairwise.expect("three candidates");
        assert_eq!(p[1][2], 5.0);
        assert_eq!(p[2][1], 2.0);
        assert_eq!(p[0][1], 3.0);
        assert_eq!(v.turnout_text, "70%");
        assert_eq!(v.margin_text, "14.3%");
        assert_eq!(v.notes, ["one note"]);
    }

    #[test]
    fn many_candidates_leave_out_the_pairwise_matrix() {
        let ids: Vec<u64> = (0..=PAIRWISE_MAX as u64).collect();
        let e = ElectionRecord {
            step: 0,
            tax_year: 0,
            rule: "borda".into(),
            candidates: ids.iter().map(|&i| (i, vec![0])).collect(),
            ballots: vec![ballot(0, &ids, &[])],
            count: Count {
                winner: 0,
                tallies: Vec::new(),
                margin: 0.0,
                tie_broken: false,
                exhausted: 0,
                notes: Vec::new(),
            },
            turnout: 1.0,
        };
        let v = election_view(&e);
        assert!(v.pairwise.is_none());
        assert_eq!(v.candidates[0].borda, PAIRWISE_MAX as f64);
    }
}
