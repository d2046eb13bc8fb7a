//! More views of a run's log for `simulacra inspect`: one worker's trajectory (`--agent I`) and
//! the LLM prompts and raw answers of a round (`--round K --prompts`).

use std::path::Path;

use anyhow::bail;
use serde::Serialize;

use crate::frames::{ExchangeOutcome, LlmExchange};
use crate::inspect::RoundDetail;
use crate::logview::{RunView, scan};

/// One worker at one step.
#[derive(Clone, Debug, Serialize)]
pub struct AgentStep {
    pub step: u64,
    pub tax_year: u64,
    /// Hours chosen this step.
    pub hours: f64,
    /// Pre-tax income, dollars per year (skill x hours).
    pub income: f64,
    pub tax: f64,
    /// The equal rebate every worker received.
    pub rebate: f64,
    /// Her own utility: income - tax + rebate - labor cost.
    pub utility: f64,
    /// The marginal rate she faced at her income.
    pub marginal_rate: f64,
}

/// A worker's whole trajectory.
#[derive(Clone, Debug, Serialize)]
pub struct AgentTrajectory {
    pub agent: usize,
    /// Dollars per hour.
    pub skill: f64,
    /// Census income (annual dollars; her income at 40 h in the calibrated economy).
    pub census_income: f64,
    pub steps: Vec<AgentStep>,
    pub damaged: Option<String>,
}

/// Worker `agent`'s trajectory, recomputed from the logged hours.
pub fn agent_trajectory(run_dir: &Path, agent: usize) -> anyhow::Result<AgentTrajectory> {
    let view = RunView::open(run_dir)?;
    let n = view.population.len();
    if agent >= n {
        bail!(
            "agent {agent} is not in this run: it has workers 0 to {}",
            n - 1
        );
    }
    let mut steps = Vec::new();
    let mut digest_only = false;
    let damaged = scan(run_dir, true, |s| {
        let Some(settlement) = view.settle(&s)? else {
            digest_only = true;
            return Ok(());
        };
        let outcome = s.outcome.as_ref().expect("settled steps have an outcome");
        let schedule = crate::econ::TaxSchedule::new(s.cutoffs.clone(), outcome.rates.clone())?;
        let hours = s.hours.as_ref().expect("settled steps have hours")[agent];
        steps.push(AgentStep {
            step: s.step,
            tax_year: s.tax_year,
            hours,
            income: settlement.incomes[agent],
            tax: settlement.taxes[agent],
            rebate: settlement.rebate,
            utility: settlement.utilities[agent],
            marginal_rate: schedule.marginal_rate(settlement.incomes[agent]),
        });
        Ok(())
    })?;
    if digest_only && steps.is_empty() {
        bail!(
            "this run logged digests of the hours (log.decisions = \"digest\"), so no worker's \
             trajectory is available; rerun with log.decisions = \"full\""
        );
    }
    Ok(AgentTrajectory {
        agent,
        skill: view.population.skills[agent],
        census_income: view.population.census_incomes[agent],
        steps,
        damaged: damaged.map(|d| d.to_string()),
    })
}

/// Plain-text rendering of a trajectory.
pub fn render_trajectory(t: &AgentTrajectory) -> String {
    let mut s = format!(
        "worker {}: skill {:.2} {}, census income {:.0} $/year\n{:>6} {:>4} {:>7} {:>12} {:>11} {:>10} {:>12} {:>8}\n",
        t.agent,
        t.skill,
        crate::econ::SKILL_UNIT,
        t.census_income,
        "step",
        "year",
        "hours",
        "income",
        "tax",
        "rebate",
        "utility",
        "marg %"
    );
    for r in &t.steps {
        s += &format!(
            "{:>6} {:>4} {:>7.2} {:>12.2} {:>11.2} {:>10.2} {:>12.2} {:>8.1}\n",
            r.step,
            r.tax_year,
            r.hours,
            r.income,
            r.tax,
            r.rebate,
            r.utility,
            r.marginal_rate * 100.0
        );
    }
    s
}

/// A round with its LLM exchanges (`inspect --round K --prompts`).
#[derive(Clone, Debug, Serialize)]
pub struct RoundWithPrompts {
    #[serde(flatten)]
    pub detail: RoundDetail,
    /// Every attempt of every LLM request in the round's steps, in log order (the planner's
    /// with a null `agent`, as in `events.jsonl`).
    #[serde(serialize_with = "user_exchanges")]
    pub exchanges: Vec<LlmExchange>,
}

fn user_exchanges<S: serde::Serializer>(
    exchanges: &[LlmExchange],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::{Error, SerializeSeq};
    let mut seq = serializer.serialize_seq(Some(exchanges.len()))?;
    for e in exchanges {
        seq.serialize_element(&e.to_user_json().map_err(S::Error::custom)?)?;
    }
    seq.end()
}

/// The LLM exchanges of round `detail` (empty for offline runs).
pub fn round_exchanges(run_dir: &Path, detail: &RoundDetail) -> anyhow::Result<Vec<LlmExchange>> {
    let first = detail.summary.first_step;
    let last = detail.worker_step;
    let mut out = Vec::new();
    scan(run_dir, false, |s| {
        if (first..=last).contains(&s.step) {
            out.extend(s.exchanges);
        }
        Ok(())
    })?;
    Ok(out)
}

/// Plain-text rendering of exchanges: who asked, the messages (when logged) and the raw answer.
pub fn render_exchanges(exchanges: &[LlmExchange]) -> String {
    if exchanges.is_empty() {
        return "no LLM exchanges in this round (an offline run)\n".into();
    }
    let mut s = String::new();
    for e in exchanges {
        let who =
            crate::frames::planner_label(e.agent).unwrap_or_else(|| format!("agent {}", e.agent));
        s += &format!(
            "--- step {} {} {} (attempt {}, model {}, request {})\n",
            e.step,
            e.role,
            who,
            e.attempt,
            e.model,
            &e.request_sha256[..e.request_sha256.len().min(12)]
        );
        match &e.messages {
            Some(msgs) => {
                for (role, content) in msgs {
                    s += &format!("[{role}]\n{content}\n");
                }
            }
            None => s += "(prompt not logged: llm.log_prompts = false)\n",
        }
        match &e.outcome {
            ExchangeOutcome::Response {
                text,
                prompt_tokens,
                completion_tokens,
            } => {
                s += &format!("[answer, {prompt_tokens} + {completion_tokens} tokens]\n{text}\n");
            }
            ExchangeOutcome::CachedResponse {
                text,
                prompt_tokens,
                completion_tokens,
                cached_tokens,
            } => {
                s += &format!(
                    "[answer, {prompt_tokens} ({cached_tokens} cached) + {completion_tokens} \
                     tokens]\n{text}\n"
                );
            }
            ExchangeOutcome::Failed { kind, message } => {
                s += &format!("[failed: {kind}] {message}\n");
            }
        }
    }
    s
}
