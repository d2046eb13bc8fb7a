//! The LLM worker's prompt text: how numbers are written (money, rates, brackets), what the
//! templates see (the system context, the fields of a history line, the best years and the
//! running averages) and the reflection line on the worker's last change of hours. Kept apart
//! from the decision path so a change of wording never touches how answers are used.
//!
//! Units, as the prompts state them: a step is a year; hours are per week; skill is dollars a
//! year per weekly hour, so income `z = skill x hours` is annual, as are taxes and brackets.

use serde::Serialize;
use serde_json::json;

use super::memory::Entry;
use crate::econ::{TaxSchedule, UtilityForm, UtilityType, WelfareKind};
use crate::llm::prompts::percent_list;
use crate::policy::worker::{LeaderNews, WorkerProfile};

/// The fields of one history line, as the template sees them.
#[derive(Clone, Debug, Serialize)]
pub(super) struct LineFields {
    pub(super) step: u64,
    pub(super) rates: String,
    pub(super) hours: String,
    pub(super) income: String,
    pub(super) tax: String,
    pub(super) rebate: String,
    pub(super) post_tax: String,
    /// The utility she counts (adjusted by her satisfaction answer when asked).
    pub(super) utility: String,
    /// The utility before the satisfaction answer.
    pub(super) raw_utility: String,
    /// Her satisfaction answer (none when not asked or unusable).
    pub(super) satisfied: Option<bool>,
    /// Whether changing her hours since the year before paid, and which way to go.
    pub(super) reflection: Option<String>,
    #[serde(skip)]
    pub(super) hours_value: f64,
    #[serde(skip)]
    pub(super) utility_value: f64,
}

/// Dollars with cents.
pub(super) fn money(x: f64) -> String {
    format!("{x:.2}")
}

/// The marginal rates of a schedule, with the precision they have (e.g. `[37.25%, 50%]`).
pub(super) fn rates_text(s: &TaxSchedule) -> String {
    percent_list(s.rates())
}

/// Hours as a person writes them: "100", "37.5".
pub(super) fn hours_text(h: f64) -> String {
    format!("{h}")
}

/// Bracket list in words, e.g. "[0, 90000), [90000, 159100), [159100, and up)".
pub fn brackets_text(s: &TaxSchedule) -> String {
    let c = s.cutoffs();
    (0..c.len())
        .map(|j| match c.get(j + 1) {
            Some(next) => format!("[{:.0}, {:.0})", c[j], next),
            None => format!("[{:.0}, and up)", c[j]),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A number with six significant digits and no trailing zeros ("0.0236712", "3.5"): enough
/// that hours solved from a stated parameter match the exact ones to well under 0.01 h.
pub(super) fn significant(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let decimals = (5 - x.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').into()
    } else {
        text
    }
}

/// The utility's form with its numbers, as `worker_system` states it (`formula`): `c` and `d`
/// of the effort cost `c * LABOR^d`, and for CRRA utility `eta` and `x0` (none otherwise).
pub(super) fn formula(form: &UtilityForm) -> serde_json::Value {
    let (eta, x0) = match *form {
        UtilityForm::QuasiLinear { .. } => (None, None),
        UtilityForm::Crra { eta, x0, .. } => (Some(significant(eta)), Some(money(x0))),
    };
    json!({
        "c": significant(form.c()),
        "d": significant(form.delta()),
        "eta": eta,
        "log": matches!(*form, UtilityForm::Crra { eta, .. } if (eta - 1.0).abs() < 1e-9),
        "x0": x0,
    })
}

/// What the `worker_system` template sees: first what every worker shares (the rules, the
/// brackets, the hour range, the utility's form), then her identity, skill, objective and
/// persona when known. The formula is shown unless the caller withholds it
/// (`utility_formula = "withheld"`).
pub(in crate::policy) fn system_context(
    me: &WorkerProfile,
    schedule: &TaxSchedule,
    welfare: WelfareKind,
    satisfaction: bool,
    persona: Option<String>,
) -> serde_json::Value {
    json!({
        "id": me.id,
        "skill": money(me.skill),
        "income_at_40": money(me.skill * 40.0),
        "max_hours": hours_text(me.max_hours),
        "brackets": brackets_text(schedule),
        "utility_type": match me.utility_type {
            UtilityType::Egotistical => "egotistical",
            UtilityType::Altruistic => "altruistic",
            UtilityType::Adversarial => "adversarial",
        },
        "welfare": welfare_text(welfare),
        "satisfaction": satisfaction,
        "persona": persona,
        "formula": formula(&me.form),
        "utility_formula": "shown",
    })
}

/// The leader in office as `worker_user` tells of her (`leader`): `id`, the `platform` she
/// was elected on (rates, or none when drawn by lot) and her `last_move` in signed points
/// (none before her first).
pub(super) fn leader_text(l: &LeaderNews) -> serde_json::Value {
    json!({
        "id": l.id,
        "platform": l.platform.as_deref().map(percent_list),
        "last_move": l.last_move.as_ref().map(|m| {
            let points: Vec<String> = m
                .iter()
                .map(|&d| if d == 0 { "0".into() } else { format!("{d:+}") })
                .collect();
            format!("[{}]", points.join(", "))
        }),
    })
}

/// One of the best years, as `worker_user` lists them after the history, best first.
#[derive(Serialize)]
pub(super) struct BestYear {
    step: u64,
    hours: String,
    utility: String,
}

/// The best years, best first, in a compact form that refers to the lines shown.
pub(super) fn best_years(best: &[Entry]) -> Vec<BestYear> {
    best.iter()
        .map(|e| BestYear {
            step: e.step,
            hours: format!("{:.1}", e.hours),
            utility: money(e.utility),
        })
        .collect()
}

/// The full lines of the best years that are no longer in the history window, oldest first
/// (the reference shows every best year with its whole block). They go before the history, so
/// they change the prompt's early text only when that set changes, which is rare once the
/// worker has settled; listed after it, they would be new text every year.
pub(super) fn earlier_best(best: &[Entry], first_shown: Option<u64>) -> String {
    let mut earlier: Vec<&Entry> = best
        .iter()
        .filter(|e| first_shown.is_none_or(|first| e.step < first))
        .collect();
    earlier.sort_by_key(|e| e.step);
    let lines: Vec<&str> = earlier.iter().map(|e| &*e.line).collect();
    lines.join("\n")
}

/// The running averages of hours and utility over the years shown (the reference's "average
/// labor and utility" line), or none before the first year.
pub(super) fn averages<'a>(shown: impl Iterator<Item = &'a Entry>) -> Option<serde_json::Value> {
    let (mut n, mut hours, mut utility) = (0usize, 0.0, 0.0);
    for e in shown {
        n += 1;
        hours += e.hours;
        utility += e.utility;
    }
    (n > 0).then(|| {
        json!({"years": n, "hours": format!("{:.1}", hours / n as f64),
               "utility": money(utility / n as f64)})
    })
}

/// "More labor (30.0 -> 40.0) raised u: try more than 40.0." from the last two years: the
/// reference's directional nudge, short because it is new text on every year's line. At a bound
/// of the hours allowed (`0..=max_hours`) it never points past it.
pub(super) fn reflection(a: Option<(f64, f64)>, b: (f64, f64), max_hours: f64) -> Option<String> {
    let ((a_hours, a_utility), (b_hours, b_utility)) = (a?, b);
    if a_hours == b_hours {
        return None;
    }
    let up = b_hours > a_hours;
    let better = b_utility > a_utility;
    let more = up == better;
    let change = format!(
        "{} labor ({a_hours:.1} -> {b_hours:.1}) {} u",
        if up { "More" } else { "Less" },
        if better { "raised" } else { "lowered" },
    );
    Some(match (more, b_hours <= 0.0, b_hours >= max_hours) {
        (false, true, _) => format!("{change}: {b_hours:.1} is the fewest hours allowed."),
        (true, _, true) => format!("{change}: {b_hours:.1} is the most hours allowed."),
        _ => format!(
            "{change}: try {} than {b_hours:.1}.",
            if more { "more" } else { "less" }
        ),
    })
}

/// The welfare function in words (also what altruistic and adversarial workers are told).
pub(crate) fn welfare_text(kind: WelfareKind) -> &'static str {
    match kind {
        WelfareKind::InversePotentialIncome => {
            "the average of every worker's utility weighted by the inverse of her potential income (what she would earn at 40 hours), so the poor count more"
        }
        WelfareKind::InverseRealizedIncome { .. } => {
            "the sum over workers of utility divided by pre-tax income (u_1/z_1 + ... + u_N/z_N)"
        }
        WelfareKind::Utilitarian => "the average utility of all workers",
        WelfareKind::Rawlsian => "the utility of the worst-off worker",
    }
}

#[cfg(test)]
mod tests {
    //! The rendered text of the built-in templates: what each prompt tells the model.
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::econ::UtilityForm;
    use crate::llm::Prompts;

    fn worker(id: u32, utility_type: UtilityType) -> WorkerProfile {
        WorkerProfile {
            id,
            skill: 131.71,
            utility_type,
            form: UtilityForm::QuasiLinear {
                c: 0.0005,
                delta: 3.5,
            },
            max_hours: 100.0,
        }
    }

    fn schedule() -> TaxSchedule {
        TaxSchedule::new(vec![0.0, 90_000.0, 159_100.0], vec![0.3725, 0.5, 0.5]).unwrap()
    }

    fn system(id: u32, t: UtilityType, satisfaction: bool) -> String {
        let ctx = system_context(
            &worker(id, t),
            &schedule(),
            WelfareKind::Utilitarian,
            satisfaction,
            Some("You are a nurse.".into()),
        );
        Prompts::load(None)
            .unwrap()
            .render("worker_system", ctx)
            .unwrap()
    }

    fn entry(step: u64, hours: f64, utility: f64) -> Entry {
        Entry {
            step,
            hours,
            utility,
            line: Arc::from(format!("year {step}: LABOR = {hours}")),
        }
    }

    #[test]
    fn skill_is_dollars_a_year_per_weekly_hour_and_a_step_is_a_year() {
        let s = system(7, UtilityType::Egotistical, false);
        assert!(
            s.contains("Your skill is $131.71 a year per weekly hour: 40 hours a week earn you $5268.40 a year"),
            "{s}"
        );
        assert!(!s.contains("per hour:"), "{s}");
        assert!(s.contains("each step is one year"), "{s}");
        assert!(s.contains("Incomes, taxes, tax brackets and rebates are all per year"));
        assert!(!s.to_lowercase().contains("week:"));
        assert!(s.contains("You are worker_7. You are a nurse."), "{s}");
        assert!(
            s.contains("from 0 to 100 (for example 0, 10, 20, ..., 100);"),
            "{s}"
        );
    }

    #[test]
    fn every_worker_shares_the_rules_before_her_identity() {
        let (a, b) = (
            system(1, UtilityType::Egotistical, false),
            system(2, UtilityType::Altruistic, false),
        );
        let shared = a.find("You are worker_").unwrap();
        assert!(shared > 800, "the shared rules come first: {shared} chars");
        assert_eq!(a[..shared], b[..shared]);
        assert!(!a[..shared].contains("worker_"));
    }

    #[test]
    fn altruists_and_adversaries_are_told_the_welfare_they_care_about() {
        let alt = system(1, UtilityType::Altruistic, false);
        assert!(alt.contains("maximize social welfare, the quantity the tax planner maximizes: the average utility of all workers"), "{alt}");
        let adv = system(1, UtilityType::Adversarial, false);
        assert!(adv.contains("minimize social welfare"), "{adv}");
        assert!(
            adv.contains("minus the social welfare of the year"),
            "{adv}"
        );
        // Their u is the year's welfare: the line of year t shows step t's (the worker takes it
        // from the view, not from the game's one-step-late feedback; `tests/reader_workers.rs`).
        assert!(alt.contains("Your utility u is the social welfare of the year."));
        // The hours prompt says what an adjusted u on a line is; the satisfaction question,
        // asked apart, does not (see `satisfaction_is_asked_from_the_persona_alone`).
        let sat = system(1, UtilityType::Egotistical, true);
        assert!(
            sat.contains("in a question of its own, whether you are satisfied with the tax policy; your history shows your answer and the utility you count after it (adjusted u: after a NO, u lowered by half its size)."),
            "{sat}"
        );
    }

    fn rendered(me: &WorkerProfile, shown: &str) -> String {
        let mut ctx = system_context(me, &schedule(), WelfareKind::Utilitarian, false, None);
        ctx["utility_formula"] = json!(shown);
        Prompts::load(None)
            .unwrap()
            .render("worker_system", ctx)
            .unwrap()
    }

    #[test]
    fn the_utility_formula_is_shown_with_its_numbers_unless_withheld() {
        let mut me = worker(1, UtilityType::Egotistical);
        me.form = UtilityForm::QuasiLinear {
            c: 0.023_671_234_5,
            delta: 3.5,
        };
        let s = rendered(&me, "shown");
        assert!(
            s.contains("A citizen's own utility is u = x - 0.0236712 * LABOR^3.5, in dollars a year: x = z - tax + rebate is what she kept, and 0.0236712 * LABOR^3.5 is the cost of her effort, which grows faster than her hours."),
            "{s}"
        );
        assert!(s.contains("Your goal is to maximize your own utility u, by the formula above."));
        assert!(!s.contains("not told the formula"), "{s}");
        // The formula is in the rules every worker shares, before her identity.
        assert!(s.find("LABOR^3.5").unwrap() < s.find("You are worker_").unwrap());
        let w = rendered(&me, "withheld");
        assert!(
            w.contains("You are not told the formula of your utility: learn from your history which hours pay best."),
            "{w}"
        );
        assert!(w.contains("Your goal is to maximize your utility u: your income after tax plus the rebate, minus the cost of the effort of working"));
        assert!(!w.contains("LABOR^"), "{w}");
        me.form = UtilityForm::Crra {
            c: 0.0005,
            delta: 3.5,
            eta: 1.5,
            x0: 38_102.0,
        };
        let crra = rendered(&me, "shown");
        assert!(
            crra.contains("u = 38102.00 * ((x / 38102.00)^(1 - 1.5) - 1) / (1 - 1.5) - 0.0005 * LABOR^3.5, in dollars a year: x = z - tax + rebate is what she kept (counted as at least 1),"),
            "{crra}"
        );
        me.form = UtilityForm::Crra {
            c: 0.0005,
            delta: 3.5,
            eta: 1.0,
            x0: 38_102.0,
        };
        assert!(
            rendered(&me, "shown")
                .contains("u = 38102.00 * ln(x / 38102.00) - 0.0005 * LABOR^3.5,")
        );
        assert_eq!(significant(131.714_285), "131.714");
        assert_eq!(significant(3.5), "3.5");
        assert_eq!(significant(0.000_512_345_67), "0.000512346");
    }

    #[test]
    fn the_reflection_never_points_past_the_hours_allowed() {
        let r = |a, b| reflection(Some(a), b, 100.0).unwrap();
        assert_eq!(
            r((20.0, 1.0), (0.0, 2.0)),
            "Less labor (20.0 -> 0.0) raised u: 0.0 is the fewest hours allowed."
        );
        assert_eq!(
            r((90.0, 1.0), (100.0, 2.0)),
            "More labor (90.0 -> 100.0) raised u: 100.0 is the most hours allowed."
        );
        // At a bound but pointing back inside: the ordinary nudge.
        assert_eq!(
            r((20.0, 2.0), (0.0, 1.0)),
            "Less labor (20.0 -> 0.0) lowered u: try more than 0.0."
        );
        assert_eq!(
            r((90.0, 2.0), (100.0, 1.0)),
            "More labor (90.0 -> 100.0) lowered u: try less than 100.0."
        );
        assert_eq!(reflection(Some((40.0, 1.0)), (40.0, 2.0), 100.0), None);
    }

    #[test]
    fn rates_keep_their_precision_in_lines_and_prompts() {
        assert_eq!(rates_text(&schedule()), "[37.25%, 50%, 50%]");
    }

    #[test]
    fn the_hours_prompt_has_averages_compact_best_years_and_the_first_year() {
        let p = Prompts::load(None).unwrap();
        let shown = [entry(3, 40.0, 10.0), entry(4, 20.0, 30.0)];
        let best = [entry(4, 20.0, 30.0), entry(1, 60.0, 20.0)];
        let user = p
            .render(
                "worker_user",
                json!({"history": "year 3: ...\nyear 4: ...",
                       "best": best_years(&best),
                       "earlier_best": earlier_best(&best, Some(3)),
                       "averages": averages(shown.iter()), "rates": "[37.25%]",
                       "max_hours": "100", "exploit": false}),
            )
            .unwrap();
        assert!(
            user.contains("Averages over the 2 years above: LABOR = 30.0, u = 20.00."),
            "{user}"
        );
        // Year 4 is in the history shown, year 1 is not: its whole line comes before the
        // history; the ranking after it is compact.
        assert!(
            user.starts_with("Your best earlier years, no longer in the history below:\nyear 1: LABOR = 60\nYour history (most recent last):\nyear 3"),
            "{user}"
        );
        assert!(
            user.contains(
                "Your best years by utility: year 4 (LABOR = 20.0, u = 30.00); year 1 (LABOR = 60.0, u = 20.00)."
            ),
            "{user}"
        );
        assert!(user.ends_with("{\"LABOR\": \"X\"}."), "{user}");
        assert!(
            !user.contains("leader"),
            "no leader line without elected governance"
        );
        let leader = |platform: Option<Vec<f64>>, last_move: Option<Vec<i32>>| {
            let news = LeaderNews {
                id: 5,
                platform,
                last_move,
            };
            p.render(
                "worker_user",
                json!({"history": "", "best": [], "averages": null, "rates": "[50%]",
                       "max_hours": "100", "exploit": false, "leader": leader_text(&news)}),
            )
            .unwrap()
        };
        let first = leader(Some(vec![0.6, 0.5, 0.375]), Some(vec![10, 0, -15]));
        assert!(first.starts_with("This is your first year"), "{first}");
        assert!(
            first.contains("\nCurrent leader: worker_5, elected on the platform [60%, 50%, 37.5%]; her last move changed the rates by [+10, 0, -15] points.\n"),
            "{first}"
        );
        // Drawn by lot, before her first move: only who she is.
        assert!(leader(None, None).contains("\nCurrent leader: worker_5.\n"));
    }

    #[test]
    fn a_history_line_says_what_satisfaction_did_and_carries_the_reflection() {
        let p = Prompts::load(None).unwrap();
        let fields = LineFields {
            step: 3,
            rates: "[50%]".into(),
            hours: "40.0".into(),
            income: "5268.40".into(),
            tax: "2634.20".into(),
            rebate: "100.00".into(),
            post_tax: "2734.20".into(),
            utility: "-150.00".into(),
            raw_utility: "-100.00".into(),
            satisfied: Some(false),
            reflection: reflection(Some((30.0, -50.0)), (40.0, -150.0), 100.0),
            hours_value: 40.0,
            utility_value: -150.0,
        };
        let line = p.render("worker_history_line", &fields).unwrap();
        assert!(
            line.starts_with("year 3: TAX [50%]; LABOR = 40.0; z = 5268.40;"),
            "{line}"
        );
        assert!(
            line.contains("u before satisfaction = -100.00; satisfied: NO; adjusted u = -150.00"),
            "{line}"
        );
        assert!(
            line.ends_with("\nMore labor (30.0 -> 40.0) lowered u: try less than 40.0."),
            "{line}"
        );
    }

    #[test]
    fn satisfaction_is_asked_from_the_persona_alone() {
        let p = Prompts::load(None).unwrap();
        let sat = p
            .render(
                "satisfaction",
                json!({"id": 3, "persona": "You are a nurse.", "step": 1, "rates": "[50%]",
                       "hours": "40.0", "income": "5268.40", "tax": "2634.20",
                       "rebate": "100.00", "post_tax": "2734.20"}),
            )
            .unwrap();
        assert!(
            sat.starts_with("You are worker_3, a citizen of Princetonia, an economy in which each step is one year; incomes, taxes and rebates are per year. You are a nurse.\nYour summary of year 1:"),
            "{sat}"
        );
        assert!(
            sat.contains("Your summary of year 1: TAX [50%]; you worked 40.0 hours a week"),
            "{sat}"
        );
        // What she kept includes the rebate, and says so.
        assert!(
            sat.contains("rebate $100.00; kept after tax and rebate $2734.20."),
            "{sat}"
        );
        assert!(!sat.contains("after tax $"), "{sat}");
        // Nothing says what an answer does to her utility, nor shows one.
        for word in ["utility", "adjusted", "half", "u =", "history"] {
            assert!(!sat.contains(word), "{word}: {sat}");
        }
        assert!(!sat.contains("last week"), "{sat}");
    }

    #[test]
    fn vote_and_stand_continue_the_history_and_ask_their_own_key() {
        let p = Prompts::load(None).unwrap();
        let history = "year 0: TAX [50%]; LABOR = 40.0";
        let vote = p
            .render(
                "vote",
                json!({"history": history, "rates": "[50%]", "brackets": "b",
                       "candidates": [{"label": "worker_1", "text": "rates [60%]"}],
                       "referendum": false}),
            )
            .unwrap();
        assert!(
            vote.starts_with("Your history (most recent last):\nyear 0:"),
            "{vote}"
        );
        assert!(
            vote.ends_with("where X is the number of your choice."),
            "{vote}"
        );
        let stand = p
            .render(
                "stand",
                json!({"history": history, "rates": "[50%]", "brackets": "b",
                       "placeholders": "X"}),
            )
            .unwrap();
        assert!(
            stand.starts_with("Your history (most recent last):\nyear 0:"),
            "{stand}"
        );
        // The system prompt they share asks for hours only when hours are asked.
        let s = system(1, UtilityType::Egotistical, false);
        assert!(
            s.contains("When asked for your hours, answer with a JSON object {\"LABOR\": \"X\"}"),
            "{s}"
        );
        assert!(s.contains("Other questions say how to answer them."), "{s}");
    }
}
