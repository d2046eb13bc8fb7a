//! The LLM worker in a federation: whether she moves. One question, asked as a continuation of
//! her labor conversation (her system prompt under her home region's schedule, then her
//! history), listing every region; an unusable answer keeps her where she is (counted in
//! `llm.fallbacks`).

use std::any::Any;
use std::sync::Arc;

use serde_json::json;

use super::LlmWorker;
use super::elections::template_failed;
use super::text::{brackets_text, rates_text};
use crate::llm::{Ask, parse};
use crate::policy::worker::{Choice, MoveView, Turn, WorkerProfile};

impl LlmWorker {
    pub(super) fn ask_move(&mut self, me: &WorkerProfile, v: &MoveView) -> Choice<Option<u32>> {
        let home = v.region_of[me.id as usize];
        let regions: Vec<serde_json::Value> = v
            .regions
            .iter()
            .enumerate()
            .map(|(r, o)| {
                json!({"label": format!("region {r}"), "home": r as u32 == home,
                       "rates": rates_text(&o.schedule), "brackets": brackets_text(&o.schedule),
                       "rebate": format!("{:.0}", o.rebate), "residents": o.residents})
            })
            .collect();
        let (history, earlier_best) = self.history_text();
        let user = self.settings.prompts.render(
            "move",
            json!({"history": history, "earlier_best": earlier_best, "regions": regions,
                   "rebate_year": v.step.saturating_sub(1), "federal": v.federal}),
        );
        let system = match v.regions.get(home as usize) {
            Some(region) => self.system_prompt(me, &region.schedule),
            None => Err(format!("worker {} lives in no listed region", me.id)),
        };
        let (gw, max_tokens, agent, step, k) = (
            Arc::clone(&self.settings.gateway),
            self.settings.max_tokens,
            u64::from(me.id),
            v.step,
            v.regions.len(),
        );
        Choice::Later(Box::pin(async move {
            let (system, user) = match system.and_then(|s| user.map(|u| (s, u))) {
                Ok(prompts) => prompts,
                Err(e) => return template_failed(e, Some(home)),
            };
            let got = gw
                .ask_parsed(
                    Ask::first(
                        "move",
                        agent,
                        step,
                        vec![("system".into(), system), ("user".into(), user)],
                        max_tokens,
                        json!({"type": "object", "properties": {"REGION": {"type": "string"}},
                            "required": ["REGION"]}),
                    ),
                    |t| parse::region(t, k),
                    "{\"REGION\": \"X\"} with X one of the region numbers listed",
                )
                .await;
            Turn {
                exchanges: got.exchanges,
                fatal: got.fatal,
                payload: Box::new(Some(got.value.unwrap_or(home))),
            }
        }))
    }
}

/// The region a finished move question chose (`None` if it was never asked).
pub(super) fn complete_move(payload: Box<dyn Any>) -> Option<u32> {
    payload.downcast::<Option<u32>>().ok().and_then(|r| *r)
}
