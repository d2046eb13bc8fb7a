//! The liquid-democracy voter: in a liquid election an LLM worker either votes for a candidate
//! (`{"LEADER": "X"}`) or hands her vote to a fellow voter (`{"DELEGATE": "Y"}`), offered the
//! candidates and her most similar fellow voters (template `delegate`, role `vote`).

use std::any::Any;
use std::sync::Arc;

use serde_json::json;

use super::LlmWorkerSettings;
use super::elections::template_failed;
use super::text::brackets_text;
use crate::econ::TaxSchedule;
use crate::governance::Ballot;
use crate::governance::election::ElectionView;
use crate::governance::liquid::LiquidVote;
use crate::llm::prompts::percent_list;
use crate::llm::{Ask, parse};
use crate::policy::worker::{Choice, Turn, WorkerProfile};

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
               "candidates": candidates, "peers": peer_list, "federal": e.federal,
               "leader_asked": e.leader_asked && e.llm_platforms}),
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
}
