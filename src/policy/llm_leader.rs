//! Elected governance with LLM workers: the paper's leader and the liquid-democracy voter.
//!
//! - The leader: between elections (and every year when candidates run without written
//!   platforms) the elected LLM worker is asked, every tax year, for a `{"DELTA": [..]}` that
//!   serves her own utility. She sees what the LLM planner sees (the years' schedules with
//!   their welfare, revenue, hours and Gini; last year's income and utility histograms and
//!   statistics) and her own history as leader (the schedules she set and the income and
//!   utility she had under them). The exchange is logged under the role `leader` and replayed
//!   like any other; an unusable answer is re-asked, then falls back to keeping the schedule
//!   (counted in `llm.fallbacks`). Offline workers keep the exact rule of `game::elected`.
//! - The liquid voter: in a liquid election an LLM worker either votes for a candidate
//!   (`{"LEADER": "X"}`) or hands her vote to a fellow voter (`{"DELEGATE": "Y"}`), offered
//!   the candidates and her most similar fellow voters (template `delegate`, role `vote`).

use std::any::Any;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::llm_planner::{LlmPlanner, YearRecord, delta_ask, delta_hint};
use super::llm_worker::{LlmWorkerSettings, brackets_text, template_failed};
use super::worker::{Choice, Turn, WorkerProfile};
use crate::econ::TaxSchedule;
use crate::frames::StepOutcome;
use crate::governance::Ballot;
use crate::governance::election::ElectionView;
use crate::governance::liquid::LiquidVote;
use crate::llm::gateway::Parsed;
use crate::llm::prompts::percent_list;
use crate::llm::{Ask, parse};

/// What the LLM leader is asked with: the LLM planner's settings (tokens, history, best
/// years, the largest move).
pub type LeaderSettings = super::llm_planner::LlmPlannerSettings;

/// One tax year under a leader, as her own history keeps it (snapshots keep these).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeaderYear {
    pub tax_year: u64,
    pub leader: u64,
    /// The rates in force that year, in points.
    pub rates: Vec<i32>,
    /// The year's mean welfare.
    pub welfare: f64,
    /// The leader's own pre-tax income and utility at the year's last step.
    pub own_income: f64,
    pub own_utility: f64,
}

fn points_text(rates: &[f64]) -> String {
    let p: Vec<String> = rates
        .iter()
        .map(|r| ((r * 100.0).round() as i32).to_string())
        .collect();
    format!("[{}]", p.join(", "))
}

/// The years of `records` (step outcomes, in order), each as the means of its steps, as the
/// planner's history shows them.
fn year_lines(records: &[StepOutcome]) -> Vec<YearRecord> {
    let mut out: Vec<YearRecord> = Vec::new();
    for year in records.chunk_by(|a, b| a.tax_year == b.tax_year) {
        let mean =
            |f: fn(&StepOutcome) -> f64| year.iter().map(f).sum::<f64>() / year.len().max(1) as f64;
        let welfare = mean(|r| r.welfare);
        out.push(YearRecord {
            year: year[0].tax_year,
            rates: points_text(&year[0].rates),
            points: year[0]
                .rates
                .iter()
                .map(|r| (r * 100.0).round() as i32)
                .collect(),
            welfare: format!("{welfare:.4}"),
            welfare_value: welfare,
            revenue: format!("{:.0}", mean(|r| r.revenue)),
            mean_hours: format!("{:.2}", mean(|r| r.mean_hours)),
            gini: format!("{:.3}", mean(|r| r.gini)),
        });
    }
    out
}

/// What the leader's prompt is built from.
pub struct LeaderInput<'a> {
    pub me: WorkerProfile,
    pub tax_year: u64,
    pub years_total: u64,
    pub current: &'a TaxSchedule,
    /// Every step played so far.
    pub records: &'a [StepOutcome],
    /// Last step's incomes and utilities of every worker.
    pub incomes: &'a [f64],
    pub utilities: &'a [f64],
    /// Her own years as leader, oldest first.
    pub own: Vec<&'a LeaderYear>,
}

/// The leader's system and user prompts (the worker's system prompt: she is a worker).
pub fn leader_prompts(s: &LeaderSettings, input: &LeaderInput) -> Result<(String, String), String> {
    let system = s.prompts.render(
        "worker_system",
        super::llm_worker::system_context(&input.me, input.current, s.welfare, false, None),
    )?;
    let n = input.current.num_brackets();
    let lines = year_lines(input.records);
    let start = lines.len().saturating_sub(s.history);
    let mut best: Vec<&YearRecord> = lines.iter().collect();
    best.sort_by(|a, b| {
        b.welfare_value
            .total_cmp(&a.welfare_value)
            .then(a.year.cmp(&b.year))
    });
    best.truncate(s.best_k);
    let own: Vec<serde_json::Value> = input
        .own
        .iter()
        .map(|y| {
            json!({"year": y.tax_year, "rates": format!("[{}]", y.rates.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")),
                   "income": format!("{:.2}", y.own_income), "utility": format!("{:.2}", y.own_utility),
                   "welfare": format!("{:.4}", y.welfare)})
        })
        .collect();
    let (im, imed, isd) = LlmPlanner::describe(input.incomes);
    let (um, umed, usd) = LlmPlanner::describe(input.utilities);
    let placeholders = vec!["X"; n].join(", ");
    let user = s.prompts.render(
        "leader",
        json!({"id": input.me.id, "history": &lines[start..], "best": best, "own": own,
               "rates": points_text(input.current.rates()),
               "brackets": brackets_text(input.current),
               "income_histogram": LlmPlanner::income_histogram(input.current.cutoffs(), input.incomes),
               "utility_histogram": LlmPlanner::utility_histogram(input.utilities),
               "income_mean": im, "income_median": imed, "income_std": isd,
               "utility_mean": um, "utility_median": umed, "utility_std": usd,
               "last_year": input.tax_year.saturating_sub(1),
               "exploit": input.tax_year + 2 >= input.years_total,
               "max_delta": s.max_delta_points, "jurisdiction": s.jurisdiction,
               "n": n, "placeholders": placeholders}),
    )?;
    Ok((system, user))
}

/// Asks the leader for her move: `DELTA` points per bracket (none after the fallback).
pub async fn ask_leader(
    s: &LeaderSettings,
    role: &'static str,
    leader: u64,
    step: u64,
    brackets: usize,
    prompts: (String, String),
) -> Parsed<Vec<i32>> {
    let max_delta = s.max_delta_points;
    s.gateway
        .ask_parsed(
            delta_ask(role, leader, step, prompts, s.max_tokens, brackets),
            |t| parse::deltas(t, brackets, max_delta),
            &delta_hint(brackets),
        )
        .await
}

/// A liquid answer: `{"DELEGATE": "Y"}` with Y among `peers`, else `{"LEADER": "X"}` with X
/// among `candidates`.
fn parse_liquid(text: &str, candidates: &[u64], peers: &[u64]) -> Result<LiquidVote, String> {
    let obj = parse::extract_object(text)?;
    if let Some((_, v)) = obj.iter().find(|(k, _)| k.eq_ignore_ascii_case("DELEGATE")) {
        let x = parse::number(v)?;
        if x < 0.0 || x.fract() != 0.0 || !peers.contains(&(x as u64)) {
            return Err(format!("{v} is not one of the voters you may delegate to"));
        }
        return Ok(LiquidVote::Delegate(x as u64));
    }
    let id = parse::leader(text)?;
    if candidates.contains(&id) {
        Ok(LiquidVote::Direct(Ballot {
            voter: 0,
            ranking: vec![id],
            approvals: vec![id],
        }))
    } else {
        Err(format!("{id} is not on the ballot"))
    }
}

/// An LLM voter's liquid vote: for a candidate, or handed to a fellow voter. An unusable
/// answer is an abstention (counted in `llm.fallbacks`).
/// `history` is the voter's history text and her best earlier years, as her other questions
/// show them (so the question continues her conversation); `schedule` is the one in force.
pub fn liquid_vote(
    settings: &Arc<LlmWorkerSettings>,
    system: Result<String, String>,
    history: (String, String),
    schedule: &TaxSchedule,
    me: &WorkerProfile,
    e: &ElectionView,
) -> Choice<LiquidVote> {
    let agent = u64::from(me.id);
    let peers: Vec<(u64, String)> = e
        .liquid_peers
        .as_ref()
        .and_then(|p| p.get(agent as usize))
        .map(|list| list.iter().map(|p| (p.id, p.text.clone())).collect())
        .unwrap_or_default();
    let candidates: Vec<serde_json::Value> = e
        .candidates
        .iter()
        .map(|c| {
            let text = if e.llm_platforms {
                format!("rates {}", percent_list(&e.book[c.option].rates))
            } else {
                "no platform".to_string()
            };
            json!({"label": format!("worker_{}", c.id), "id": c.id, "text": text})
        })
        .collect();
    let peer_list: Vec<serde_json::Value> = peers
        .iter()
        .map(|(id, text)| json!({"label": format!("worker_{id}"), "id": id, "text": text}))
        .collect();
    let user = settings.prompts.render(
        "delegate",
        json!({"history": history.0, "earlier_best": history.1,
               "rates": percent_list(schedule.rates()), "brackets": brackets_text(schedule),
               "candidates": candidates, "peers": peer_list, "federal": e.federal}),
    );
    let ids: Vec<u64> = e.candidates.iter().map(|c| c.id).collect();
    // Candidates are voters too: she may delegate to one of them (never to herself).
    let delegates: Vec<u64> = peers
        .iter()
        .map(|p| p.0)
        .chain(ids.iter().copied())
        .filter(|&id| id != agent)
        .collect();
    let (gw, max_tokens, step) = (Arc::clone(&settings.gateway), settings.max_tokens, e.step);
    let role = e.role("vote");
    Choice::Later(Box::pin(async move {
        let (system, user) = match system.and_then(|s| user.map(|u| (s, u))) {
            Ok(prompts) => prompts,
            Err(e) => return template_failed(e, LiquidVote::Abstain),
        };
        let got = gw
            .ask_parsed(
                Ask::first(
                    role,
                    agent,
                    step,
                    vec![("system".into(), system), ("user".into(), user)],
                    max_tokens,
                    json!({"type": "object", "properties": {
                        "LEADER": {"type": "string"}, "DELEGATE": {"type": "string"}}}),
                ),
                |t| parse_liquid(t, &ids, &delegates),
                "{\"LEADER\": \"X\"} or {\"DELEGATE\": \"Y\"} with a number listed",
            )
            .await;
        let vote = match got.value {
            Some(LiquidVote::Direct(b)) => LiquidVote::Direct(Ballot { voter: agent, ..b }),
            Some(v) => v,
            None => LiquidVote::Abstain,
        };
        Turn {
            exchanges: got.exchanges,
            fatal: got.fatal,
            payload: Box::new(vote),
        }
    }))
}

/// The liquid vote from a finished exchange.
pub fn complete_liquid_vote(payload: Box<dyn Any>) -> LiquidVote {
    payload
        .downcast::<LiquidVote>()
        .map_or(LiquidVote::Abstain, |v| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_liquid_answer_is_a_vote_a_delegation_or_refused() {
        let direct = parse_liquid(r#"{"LEADER": "3"}"#, &[3, 4], &[7]).unwrap();
        assert!(matches!(direct, LiquidVote::Direct(b) if b.ranking == vec![3]));
        assert_eq!(
            parse_liquid(r#"{"delegate": 7}"#, &[3, 4], &[7]).unwrap(),
            LiquidVote::Delegate(7)
        );
        assert!(parse_liquid(r#"{"DELEGATE": "8"}"#, &[3, 4], &[7]).is_err());
        assert!(parse_liquid(r#"{"LEADER": "9"}"#, &[3, 4], &[7]).is_err());
        assert!(parse_liquid("no idea", &[3, 4], &[7]).is_err());
    }

    #[test]
    fn years_are_the_means_of_their_steps() {
        let step = |step, tax_year, welfare| StepOutcome {
            step,
            tax_year,
            rates: vec![0.1, 0.2],
            revenue: 10.0,
            rebate: 1.0,
            welfare,
            gini: 0.5,
            mean_hours: 40.0,
            mean_income: 1.0,
            mean_utility: 1.0,
        };
        let lines = year_lines(&[step(0, 0, 1.0), step(1, 0, 3.0), step(2, 1, 5.0)]);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (lines[0].welfare.as_str(), lines[0].rates.as_str()),
            ("2.0000", "[10, 20]")
        );
        assert_eq!(lines[1].welfare_value, 5.0);
    }
}
