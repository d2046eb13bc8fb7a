//! The reader's answers to the election questions (stand, vote, delegate), from the prompt text
//! alone: it parses the skill, brackets, rates in force, allowed moves, candidates and her last
//! history line that the prompts state, and answers as a rational voter who can compute only
//! what they state.
//!
//! The utility the prompts let her compute: her income z at her last hours (40 before any
//! history), minus the tax the rates take from it, plus a rebate that moves with the revenue as
//! hers does (her last rebate scaled by her new tax over her old). The equilibrium rebate of
//! every worker's best response is not stated, so it is not used.

#![allow(dead_code)]

use super::text::{cutoffs_after, number_after, percents, tax};

/// The answer to a stand, vote or delegate question; `None` for any other question.
pub fn answer(system: &str, user: &str) -> Option<String> {
    if user.contains("The changes allowed, in the order of the brackets:") {
        return stand(system, user);
    }
    if user.contains("{\"DELEGATE\"") {
        return delegate(system, user);
    }
    if user.contains("{\"LEADER\"") {
        return vote(system, user).map(|id| format!("{{\"LEADER\": \"{id}\"}}"));
    }
    None
}

/// What she reads about herself: her income z at her last hours and her last rebate.
struct Me {
    id: Option<u64>,
    z: f64,
    rebate: f64,
}

fn me(system: &str, user: &str) -> Option<Me> {
    let skill = number_after(system, "Your skill is $")?;
    let last = user
        .lines()
        .rev()
        .find(|l| l.starts_with("year ") && l.contains("LABOR = "));
    let hours = last
        .and_then(|l| number_after(l, "LABOR = "))
        .unwrap_or(40.0);
    let rebate = last
        .and_then(|l| number_after(l, "rebate = "))
        .unwrap_or(0.0);
    Some(Me {
        id: number_after(system, "You are worker_").map(|x| x as u64),
        z: skill * hours,
        rebate,
    })
}

/// Her gain from moving the rates in force `now` to `new` on `cutoffs`.
fn gain(m: &Me, cutoffs: &[f64], now: &[f64], new: &[f64]) -> f64 {
    let (tc, tn) = (tax(cutoffs, now, m.z), tax(cutoffs, new, m.z));
    let rebate = if tc > 0.0 {
        m.rebate * (tn / tc - 1.0)
    } else {
        0.0
    };
    tc - tn + rebate
}

fn stand(system: &str, user: &str) -> Option<String> {
    let m = me(system, user)?;
    let cutoffs = cutoffs_after(user, "The brackets are ")?;
    let marker = "The changes allowed, in the order of the brackets: ";
    let list = &user[user.find(marker)? + marker.len()..];
    let list = list.split(".\n").next()?.trim_end_matches('.');
    let mut now = Vec::new();
    let mut allowed: Vec<Vec<i32>> = Vec::new();
    for b in list.split("; ") {
        now.push(number_after(b, "(now ")? / 100.0);
        let ds = b.split("): ").nth(1)?.replace(" or ", ", ");
        allowed.push(
            ds.split(", ")
                .map(|d| d.parse().ok())
                .collect::<Option<_>>()?,
        );
    }
    let k = now.len();
    let mut moves: Vec<Vec<i32>> = vec![vec![0; k]];
    if user.contains("at most one bracket") {
        for (j, ds) in allowed.iter().enumerate() {
            for d in ds.iter().filter(|d| **d != 0) {
                let mut v = vec![0; k];
                v[j] = *d;
                moves.push(v);
            }
        }
    } else {
        let mut all: Vec<Vec<i32>> = vec![Vec::new()];
        for ds in &allowed {
            all = all
                .into_iter()
                .flat_map(|p| ds.iter().map(move |d| [p.clone(), vec![*d]].concat()))
                .collect();
        }
        moves.extend(all);
    }
    let value = |v: &Vec<i32>| {
        let new: Vec<f64> = now
            .iter()
            .zip(v)
            .map(|(r, d)| r + f64::from(*d) / 100.0)
            .collect();
        gain(&m, &cutoffs, &now, &new)
    };
    // Ties: the smaller change (the status quo first).
    let size = |v: &Vec<i32>| v.iter().map(|d| d.abs()).sum::<i32>();
    let mut best = &moves[0];
    for v in &moves {
        let (a, b) = (value(v), value(best));
        if a > b + 1e-9 || (a > b - 1e-9 && size(v) < size(best)) {
            best = v;
        }
    }
    Some(format!("{{\"DELTA\": {best:?}}}"))
}

/// The candidates (or options) listed, by number, with the rates they stand for (none: "no
/// platform") and the rebate their line says the platform pays at everyone's best hours (no
/// shipped template states it: the book's equilibrium rebate, which an offline voter ranks
/// by).
fn candidates(user: &str) -> Vec<(u64, Option<Vec<f64>>, Option<f64>)> {
    let start = user
        .find("The candidates are:\n")
        .or_else(|| user.find("The options are:\n"))
        .map_or(user.len(), |p| p + user[p..].find('\n').unwrap_or(0) + 1);
    user[start..]
        .lines()
        .map_while(|l| {
            let (label, text) = l.split_once(": ")?;
            let id = label.rsplit(['_', ' ']).next()?.parse().ok()?;
            Some((
                id,
                text.strip_prefix("rates ").and_then(percents),
                number_after(text, "pays a rebate of $"),
            ))
        })
        .collect()
}

/// The rates in force and their brackets, as a vote or delegate question states them.
fn in_force(user: &str) -> Option<(Vec<f64>, Vec<f64>)> {
    let rates = percents(&user[user.find(" now are ")? + " now are ".len()..])?;
    Some((rates, cutoffs_after(user, "on the brackets ")?))
}

fn vote(system: &str, user: &str) -> Option<u64> {
    let m = me(system, user)?;
    let (now, cutoffs) = in_force(user)?;
    let list = candidates(user);
    // With each platform's rebate stated and the utility's formula shown, her exact utility
    // under it at her best hours; otherwise her gain at her last hours, the rebate moving as
    // her tax does.
    let exact = |rates: &[f64], rebate: Option<f64>| {
        let mut q = super::worker::formula(system)?;
        q.rates = rates.to_vec();
        q.rebate = rebate?;
        Some(super::worker::utility(&q, super::worker::best_hours(&q)))
    };
    let scored: Vec<(u64, f64)> = list
        .iter()
        .filter_map(|(id, r, rebate)| {
            let r = r.as_ref()?;
            Some((
                *id,
                exact(r, *rebate).unwrap_or_else(|| gain(&m, &cutoffs, &now, r)),
            ))
        })
        .collect();
    if scored.is_empty() {
        // No platform to compare: she trusts herself if she runs, else the first listed.
        return m
            .id
            .filter(|me| list.iter().any(|c| c.0 == *me))
            .or(list.first().map(|c| c.0));
    }
    let mut best = scored[0];
    for s in &scored {
        if s.1 > best.1 + 1e-9 {
            best = *s;
        }
    }
    Some(best.0)
}

fn delegate(system: &str, user: &str) -> Option<String> {
    let list = candidates(user);
    if list.iter().any(|c| c.1.is_some()) {
        return vote(system, user).map(|id| format!("{{\"LEADER\": \"{id}\"}}"));
    }
    // No platforms: hand her vote to the fellow citizen whose income is nearest hers at 40
    // hours (the peers' incomes are stated at 40 hours).
    let skill_income = number_after(system, "40 hours a week earn you $")?;
    let marker = "(candidates too may receive it):\n";
    let peers = &user[user.find(marker).map_or(user.len(), |p| p + marker.len())..];
    let mut best: Option<(u64, f64)> = None;
    for l in peers.lines() {
        let Some((label, text)) = l.split_once(": ") else {
            break;
        };
        let (Some(id), Some(income)) = (
            label.strip_prefix("worker_").and_then(|x| x.parse().ok()),
            number_after(text, "earns $"),
        ) else {
            break;
        };
        let d = (income - skill_income).abs();
        if best.is_none_or(|b| d < b.1) {
            best = Some((id, d));
        }
    }
    match best {
        Some((id, _)) => Some(format!("{{\"DELEGATE\": \"{id}\"}}")),
        None => vote(system, user).map(|id| format!("{{\"LEADER\": \"{id}\"}}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use simulacra::econ::TaxSchedule;
    use simulacra::governance::platforms::AllowedMoves;
    use simulacra::llm::Prompts;
    use simulacra::llm::prompts::percent_list;

    const SYSTEM: &str = "You are worker_3.\nYour skill is $1000.00 a year per weekly hour: 40 \
                          hours a week earn you $40000.00 a year before tax.";
    const HISTORY: &str = "year 4: TAX [50%, 50%, 50%]; LABOR = 40.0; z = 40000.00; tax = \
                           20000.00; rebate = 30000.00; z - tax + rebate = 50000.00; u = 1.00";

    fn brackets(s: &TaxSchedule) -> String {
        simulacra::policy::llm_worker::brackets_text(s)
    }

    fn stand_prompt(rates: &[f64], history: &str) -> String {
        let cutoffs: Vec<f64> = (0..rates.len()).map(|j| j as f64 * 20000.0).collect();
        let s = TaxSchedule::new(cutoffs, rates.to_vec()).unwrap();
        Prompts::load(None)
            .unwrap()
            .render(
                "stand",
                json!({"history": history, "brackets": brackets(&s),
                       "rates": percent_list(rates),
                       "moves": AllowedMoves::from_rates(rates, 20).describe(rates),
                       "placeholders": vec!["X"; rates.len()].join(", "),
                       "leader_asked": true}),
            )
            .unwrap()
    }

    #[test]
    fn a_reader_candidate_proposes_only_allowed_moves() {
        // Three brackets, one at 0 % and one at 100 %: any combination in bounds. She earns
        // 40,000 (brackets [0, 20000), [20000, 40000), [40000, ...)) and gets back more than she
        // pays: she raises the rates she pays, as far as allowed.
        let rates = [0.0, 0.5, 1.0];
        let got = answer(SYSTEM, &stand_prompt(&rates, HISTORY)).unwrap();
        assert_eq!(got, "{\"DELTA\": [20, 20, 0]}");
        // Seven brackets, two at 0 %: one bracket only, never below 0 %. With no history (no
        // rebate seen) she cuts the one rate she pays.
        let rates = [0.0, 0.5, 0.0, 0.5, 0.5, 0.5, 0.5];
        let user = stand_prompt(&rates, "");
        let got = answer(SYSTEM, &user).unwrap();
        let d: Vec<i32> = serde_json::from_str::<serde_json::Value>(&got).unwrap()["DELTA"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap() as i32)
            .collect();
        assert!(AllowedMoves::from_rates(&rates, 20).allows(&d), "{d:?}");
        assert_eq!(d, vec![0, -20, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn a_reader_voter_picks_the_platform_best_for_her_and_delegates_by_income() {
        let s = TaxSchedule::new(vec![0.0, 20000.0, 40000.0], vec![0.5; 3]).unwrap();
        let vote = Prompts::load(None)
            .unwrap()
            .render(
                "vote",
                json!({"history": HISTORY, "rates": percent_list(s.rates()),
                       "brackets": brackets(&s), "referendum": false, "leader_asked": true,
                       "candidates": [
                           {"label": "worker_1", "text": "rates [30%, 30%, 30%]"},
                           {"label": "worker_2", "text": "rates [70%, 70%, 50%]"}]}),
            )
            .unwrap();
        assert_eq!(answer(SYSTEM, &vote).unwrap(), "{\"LEADER\": \"2\"}");
        let delegate = Prompts::load(None)
            .unwrap()
            .render(
                "delegate",
                json!({"history": HISTORY, "rates": percent_list(s.rates()),
                       "brackets": brackets(&s),
                       "candidates": [{"label": "worker_1", "text": "no platform"}],
                       "peers": [
                           {"label": "worker_5", "text": "earns $90000 a year at 40 hours a week; works in Law"},
                           {"label": "worker_6", "text": "earns $41000 a year at 40 hours a week; works in Sales"}]}),
            )
            .unwrap();
        assert_eq!(answer(SYSTEM, &delegate).unwrap(), "{\"DELEGATE\": \"6\"}");
    }
}
