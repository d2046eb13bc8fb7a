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
use crate::governance::election::ElectionView;
use crate::governance::platforms::{AllowedMoves, PlatformOption, option_of};
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
    allowed: &AllowedMoves,
    max_delta: i32,
    book: &[PlatformOption],
) -> Result<Option<usize>, String> {
    let brackets = allowed.per_bracket.len();
    if let Ok(obj) = parse::extract_object(text)
        && obj.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("DELTA") && v.as_array().is_some_and(|a| a.is_empty())
        })
    {
        return Ok(None);
    }
    let deltas = parse::deltas(text, brackets, max_delta)?;
    if !allowed.allows(&deltas) {
        return Err(format!(
            "the move {deltas:?} is not allowed: {}",
            if allowed.one_bracket {
                "change at most one bracket, keeping every rate within 0% and 100%"
            } else {
                "keep every rate within 0% and 100%"
            }
        ));
    }
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
        if !e.llm_platforms {
            // No platform is asked (everyone stands, the leader is asked for her moves once
            // elected): nothing is decided from exact utilities.
            return Choice::Now(e.everyone_stands.then_some((0, 0.0)));
        }
        let n = e.cutoffs.len();
        let placeholders = vec!["X"; n].join(", ");
        let schedule = TaxSchedule::new(e.cutoffs.clone(), e.current_rates.clone());
        let Ok(schedule) = schedule else {
            return Choice::Now(None);
        };
        let allowed = AllowedMoves::from_rates(&e.current_rates, e.max_delta);
        let (history, earlier_best) = self.history_text();
        let user = self.settings.prompts.render(
            "stand",
            json!({"history": history, "earlier_best": earlier_best,
                   "brackets": brackets_text(&schedule), "rates": rates_text(&schedule),
                   "moves": allowed.describe(&e.current_rates),
                   "placeholders": placeholders, "federal": e.federal,
                   "referendum": e.referendum, "leader_asked": e.leader_asked}),
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
        let max_delta = e.max_delta;
        let steps: Vec<i32> = (-max_delta / 10..=max_delta / 10).map(|s| s * 10).collect();
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
                            "items": {"type": "integer", "enum": steps}}},
                            "required": ["DELTA"]}),
                    ),
                    |t| parse_platform(t, &allowed, max_delta, &book),
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
                    // The rebate per worker of the platform's equilibrium (every worker at
                    // her best response), the fact an offline voter ranks by: an oracle's
                    // forecast, stated only under `llm.platform_rebates = "shown"`.
                    "rebate": self.settings.platform_rebates_shown
                        .then(|| format!("{:.2}", e.book[c.option].rebate)),
                })
            })
            .collect();
        let (history, earlier_best) = self.history_text();
        let user = self.settings.prompts.render(
            "vote",
            json!({"history": history, "earlier_best": earlier_best,
                   "rates": rates_text(&schedule), "brackets": brackets_text(&schedule),
                   "candidates": candidates, "referendum": e.referendum, "federal": e.federal,
                   "leader_asked": e.leader_asked && e.llm_platforms}),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Prompts;

    fn stand(rates: &[f64]) -> (String, AllowedMoves) {
        let allowed = AllowedMoves::from_rates(rates, 20);
        let cutoffs: Vec<f64> = (0..rates.len()).map(|j| j as f64 * 1000.0).collect();
        let s = TaxSchedule::new(cutoffs, rates.to_vec()).unwrap();
        let text = Prompts::load(None)
            .unwrap()
            .render(
                "stand",
                json!({"history": "", "earlier_best": "", "brackets": brackets_text(&s),
                       "rates": rates_text(&s), "moves": allowed.describe(rates),
                       "placeholders": vec!["X"; rates.len()].join(", "), "federal": false,
                       "referendum": false, "leader_asked": true}),
            )
            .unwrap();
        (text, allowed)
    }

    #[test]
    fn the_stand_question_lists_exactly_the_moves_the_game_accepts() {
        let (three, allowed) = stand(&[0.5, 0.0, 1.0]);
        assert!(
            three.contains(
                "Any combination of brackets may change, but no rate may go below 0% or above \
                 100%. The changes allowed, in the order of the brackets: bracket 1 (now 50%): \
                 -20, -10, 0, 10 or 20; bracket 2 (now 0%): 0, 10 or 20; bracket 3 (now 100%): \
                 -20, -10 or 0."
            ),
            "{three}"
        );
        assert!(three.contains("that you promise voters. If you win, you set the rates yourself"));
        assert!(!three.contains("-20, -10, 0, 10 or 20 percentage points per bracket"));
        let book = |rates: &[f64]| {
            let cutoffs: Vec<f64> = (0..rates.len()).map(|j| j as f64 * 1000.0).collect();
            let s = TaxSchedule::new(cutoffs, rates.to_vec()).unwrap();
            let p = crate::econ::WorldParams {
                form: crate::econ::UtilityForm::QuasiLinear {
                    c: 0.0237,
                    delta: 3.5,
                },
                welfare: crate::econ::WelfareKind::Utilitarian,
                rebate_equal: true,
                max_hours: 100.0,
            };
            crate::governance::platforms::platform_book(&p, &s, &[20.0, 40.0], &[1.0; 2], 20)
        };
        let b3 = book(&[0.5, 0.0, 1.0]);
        assert_eq!(
            parse_platform(r#"{"DELTA": [10, 20, -20]}"#, &allowed, 20, &b3)
                .unwrap()
                .map(|o| b3[o].deltas.clone()),
            Some(vec![10, 20, -20])
        );
        assert!(parse_platform(r#"{"DELTA": [0, -10, 0]}"#, &allowed, 20, &b3).is_err());

        let rates7 = [0.0, 0.0, 0.5, 0.5, 0.5, 0.9, 1.0];
        let (seven, allowed) = stand(&rates7);
        assert!(
            seven.contains(
                "You may change at most one bracket (every other entry of DELTA is 0), and no \
                 rate may go below 0% or above 100%. The changes allowed, in the order of the \
                 brackets: bracket 1 (now 0%): 0, 10 or 20; bracket 2 (now 0%): 0, 10 or 20; \
                 bracket 3 (now 50%): -20, -10, 0, 10 or 20;"
            ),
            "{seven}"
        );
        assert!(seven.contains(
            "bracket 6 (now 90%): -20, -10, 0 or 10; bracket 7 (now 100%): -20, -10 or 0."
        ));
        let b7 = book(&rates7);
        assert!(parse_platform(r#"{"DELTA": [0, 0, 0, 0, 0, 10, 0]}"#, &allowed, 20, &b7).is_ok());
        assert!(
            parse_platform(r#"{"DELTA": [10, 0, 0, 0, 0, 10, 0]}"#, &allowed, 20, &b7).is_err()
        );
        assert!(parse_platform(r#"{"DELTA": [0, 0, 0, 0, 0, 20, 0]}"#, &allowed, 20, &b7).is_err());
    }
}
