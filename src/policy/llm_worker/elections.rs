//! The LLM worker in elections: whether she stands and on which platform, and her ballot.
//! Each is one question with the worker's system prompt; an unusable answer falls back as the
//! policy documents (not running, or an abstention).

use std::any::Any;
use std::sync::Arc;

use serde_json::json;

use super::LlmWorker;
use super::text::{brackets_text, rates_text};
use crate::econ::TaxSchedule;
use crate::governance::Ballot;
use crate::governance::election::{ElectionView, offline_stand};
use crate::governance::platforms::{PlatformOption, option_of};
use crate::llm::prompts::percent_list;
use crate::llm::{Ask, parse};
use crate::policy::worker::{Choice, Turn, WorkerProfile};

/// The turn of an agent whose prompt template failed to render: nothing was asked, and the
/// run stops with the template's error (a silently skipped question would look answered).
pub(crate) fn template_failed<P: Any>(error: String, nothing: P) -> Turn {
    Turn {
        exchanges: Vec::new(),
        fatal: Some(error),
        payload: Box::new(nothing),
    }
}

/// A platform answer: `[]` = not running; else a move that must be one of the book's.
fn parse_platform(
    text: &str,
    brackets: usize,
    book: &[PlatformOption],
) -> Result<Option<usize>, String> {
    if let Ok(obj) = parse::extract_object(text)
        && obj.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("DELTA") && v.as_array().is_some_and(|a| a.is_empty())
        })
    {
        return Ok(None);
    }
    let deltas = parse::deltas(text, brackets, 20)?;
    option_of(book, &deltas)
        .map(Some)
        .ok_or_else(|| format!("the move {deltas:?} is not among the allowed platforms"))
}

impl LlmWorker {
    pub(super) fn ask_stand(
        &mut self,
        me: &WorkerProfile,
        e: &ElectionView,
    ) -> Choice<Option<(usize, f64)>> {
        let offline = offline_stand(u64::from(me.id), me.form, me.max_hours, me.skill, e);
        if !e.llm_platforms {
            // Without LLM platforms a worker stands on her exact favourite (as the paper's
            // leaders, who propose after winning, would).
            return Choice::Now(offline);
        }
        let n = e.cutoffs.len();
        let placeholders = vec!["X"; n].join(", ");
        let schedule = TaxSchedule::new(e.cutoffs.clone(), e.current_rates.clone());
        let Ok(schedule) = schedule else {
            return Choice::Now(offline);
        };
        let (history, earlier_best) = self.history_text();
        let user = self.settings.prompts.render(
            "stand",
            json!({"history": history, "earlier_best": earlier_best,
                   "brackets": brackets_text(&schedule), "rates": rates_text(&schedule),
                   "placeholders": placeholders, "federal": e.federal}),
        );
        let system = self.system_prompt(me, &schedule);
        let (gw, max_tokens, agent, step) = (
            Arc::clone(&self.settings.gateway),
            self.settings.max_tokens,
            u64::from(me.id),
            e.step,
        );
        let book = Arc::clone(&e.book);
        let role = e.role("platform");
        let everyone = e.everyone_stands;
        Choice::Later(Box::pin(async move {
            let (system, user) = match system.and_then(|s| user.map(|u| (s, u))) {
                Ok(prompts) => prompts,
                Err(e) => return template_failed(e, None::<Option<(usize, f64)>>),
            };
            let got = gw
                .ask_parsed(
                    Ask::first(
                        role,
                        agent,
                        step,
                        vec![("system".into(), system), ("user".into(), user)],
                        max_tokens,
                        json!({"type": "object", "properties": {"DELTA": {"type": "array",
                            "items": {"type": "integer", "enum": [-20, -10, 0, 10, 20]}}},
                            "required": ["DELTA"]}),
                    ),
                    |t| parse_platform(t, n, &book),
                    "{\"DELTA\": [...]} or {\"DELTA\": []}",
                )
                .await;
            // Fallback: under "everyone" eligibility she stands on the status quo; otherwise
            // she does not run.
            let platform = match got.value {
                Some(choice) => choice.map(|o| (o, 0.0)),
                None if everyone => Some((0, 0.0)),
                None => None,
            };
            Turn {
                exchanges: got.exchanges,
                fatal: got.fatal,
                payload: Box::new(Some(platform)),
            }
        }))
    }

    pub(super) fn ask_vote(
        &mut self,
        me: &WorkerProfile,
        e: &ElectionView,
    ) -> Choice<Option<Ballot>> {
        let schedule = TaxSchedule::new(e.cutoffs.clone(), e.current_rates.clone());
        let Ok(schedule) = schedule else {
            return Choice::Now(None);
        };
        let candidates: Vec<serde_json::Value> = e
            .candidates
            .iter()
            .map(|c| {
                json!({
                    "label": if e.referendum { format!("option {}", c.id) } else { format!("worker_{}", c.id) },
                    "text": if e.referendum || e.llm_platforms {
                        format!("rates {}", percent_list(&e.book[c.option].rates))
                    } else {
                        "no platform".to_string()
                    },
                })
            })
            .collect();
        let (history, earlier_best) = self.history_text();
        let user = self.settings.prompts.render(
            "vote",
            json!({"history": history, "earlier_best": earlier_best,
                   "rates": rates_text(&schedule), "brackets": brackets_text(&schedule),
                   "candidates": candidates, "referendum": e.referendum, "federal": e.federal}),
        );
        let system = self.system_prompt(me, &schedule);
        let ids: Vec<u64> = e.candidates.iter().map(|c| c.id).collect();
        let role = e.role("vote");
        let (gw, max_tokens, agent, step) = (
            Arc::clone(&self.settings.gateway),
            self.settings.max_tokens,
            u64::from(me.id),
            e.step,
        );
        Choice::Later(Box::pin(async move {
            let (system, user) = match system.and_then(|s| user.map(|u| (s, u))) {
                Ok(prompts) => prompts,
                Err(e) => return template_failed(e, None::<Ballot>),
            };
            let got = gw
                .ask_parsed(
                    Ask::first(
                        role,
                        agent,
                        step,
                        vec![("system".into(), system), ("user".into(), user)],
                        max_tokens,
                        json!({"type": "object", "properties": {"LEADER": {"type": "string"}},
                            "required": ["LEADER"]}),
                    ),
                    |t| {
                        let id = parse::leader(t)?;
                        if ids.contains(&id) {
                            Ok(id)
                        } else {
                            Err(format!("{id} is not on the ballot"))
                        }
                    },
                    "{\"LEADER\": \"X\"} with X one of the numbers listed",
                )
                .await;
            // An unusable ballot is an abstention (counted in llm.fallbacks), never a crash.
            let ballot = got.value.map(|id| Ballot {
                voter: agent,
                ranking: vec![id],
                approvals: vec![id],
            });
            Turn {
                exchanges: got.exchanges,
                fatal: got.fatal,
                payload: Box::new(ballot),
            }
        }))
    }
}
