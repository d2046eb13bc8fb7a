//! The LLM planner: in-context reinforcement learning over its own history of tax years, as in
//! the paper. Each year (from the second on) it sees its past schedules with the welfare each
//! produced, its best schedules, last year's income and utility distributions and summary
//! statistics, and a reflection on its last move; it answers `{"DELTA": [..]}`, one move of
//! -20..+20 points per bracket. Unusable answers are re-asked; the fallback is no move.
//! Every figure of a year's history line is a mean over that year's steps (the prompt says
//! so); the histograms and summary statistics are of the year's last step (labelled so).
//! Rates are shown with the precision they have (a Saez rate of 37.25 % is not "37 %").
//!
//! Its memory is per tax year and never depends on the number of workers (the reference's
//! window `(H // N) * 20` vanished for N > 20).

use std::any::Any;
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use super::llm_worker::welfare_text;
use super::planner::{PlannerAct, PlannerInput, PlannerPolicy, YearObservation};
use super::worker::Turn;
use crate::econ::{TaxSchedule, WelfareKind, stats};
use crate::frames::PLANNER_AGENT;
use crate::llm::{Ask, LlmGateway, Prompts, parse};

/// Settings of the LLM planner.
pub struct LlmPlannerSettings {
    pub gateway: Arc<LlmGateway>,
    pub prompts: Arc<Prompts>,
    pub max_tokens: u32,
    pub history: usize,
    pub best_k: usize,
    pub max_delta_points: i32,
    pub welfare: WelfareKind,
    /// The agent id its exchanges carry: the nation's planner, or a federation's federal or
    /// regional one (see [`crate::frames::planner_label`]).
    pub agent: u64,
    /// For a federation's planners: whose schedule it sets, in a sentence of the system
    /// prompt (none for the nation's planner, whose prompt keeps its bytes).
    pub jurisdiction: Option<String>,
    /// Whether the workers have personas: an elected LLM leader, a worker, is given hers.
    pub personas: bool,
    /// Whether an elected LLM leader's system prompt (her worker's) states her utility's
    /// formula, as her worker's does (`llm.utility_formula`).
    pub utility_formula_shown: bool,
}

impl LlmPlannerSettings {
    /// The settings `scenario` gives the LLM planner (and the LLM leader, who is asked as one).
    pub fn of(
        scenario: &crate::config::Scenario,
        welfare: WelfareKind,
        rt: &crate::llm::LlmRuntime,
    ) -> Self {
        LlmPlannerSettings {
            gateway: Arc::clone(&rt.gateway),
            prompts: Arc::clone(&rt.prompts),
            max_tokens: scenario.llm.planner_max_tokens,
            history: scenario.llm.planner_history,
            best_k: scenario.llm.best_k,
            max_delta_points: scenario.planner.max_delta_points,
            welfare,
            agent: PLANNER_AGENT,
            jurisdiction: None,
            personas: scenario.workers.personas != crate::config::PersonaSource::None,
            utility_formula_shown: scenario.llm.utility_formula
                == crate::config::UtilityFormula::Shown,
        }
    }

    /// The same settings for a planner of a federation: its own agent id and jurisdiction.
    pub fn for_jurisdiction(mut self, agent: u64, jurisdiction: String) -> Self {
        self.agent = agent;
        self.jurisdiction = Some(jurisdiction);
        self
    }
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct YearRecord {
    pub(super) year: u64,
    pub(super) rates: String,
    #[serde(skip)]
    pub(super) points: Vec<i32>,
    pub(super) welfare: String,
    #[serde(skip)]
    pub(super) welfare_value: f64,
    pub(super) revenue: String,
    pub(super) mean_hours: String,
    pub(super) gini: String,
}

#[derive(Serialize)]
pub(super) struct Bin {
    label: String,
    bar: String,
    count: usize,
}

/// The LLM planner policy.
pub struct LlmPlanner {
    settings: LlmPlannerSettings,
    years: Vec<YearRecord>,
    pending: Option<TaxSchedule>,
}

fn points(s: &TaxSchedule) -> Vec<i32> {
    s.rates()
        .iter()
        .map(|r| (r * 100.0).round() as i32)
        .collect()
}

fn rates_text(s: &TaxSchedule) -> String {
    crate::llm::prompts::percent_list(s.rates())
}

fn bar(count: usize, max: usize) -> String {
    let width = if max == 0 {
        0
    } else {
        (count * 20).div_ceil(max)
    };
    "#".repeat(width)
}

/// Whether this call should exploit the best schedule seen rather than explore: only in the
/// last tenth of the run (as the reference's "best" cue after 0.9 T) and only once there are at
/// least two years to choose from. At the shipped T = 50 with 25-step years the one call comes
/// after a single year, and explores.
fn exploit(tax_year: u64, years_total: u64, years_seen: usize) -> bool {
    years_seen >= 2 && tax_year * 10 > years_total * 9
}

impl LlmPlanner {
    pub fn new(settings: LlmPlannerSettings) -> Self {
        LlmPlanner {
            settings,
            years: Vec::new(),
            pending: None,
        }
    }

    pub(super) fn income_histogram(cutoffs: &[f64], incomes: &[f64]) -> Vec<Bin> {
        let schedule = TaxSchedule::uniform(cutoffs.to_vec(), 0.0).expect("valid cut-offs");
        let mut counts = vec![0usize; cutoffs.len()];
        for &z in incomes {
            counts[schedule.bracket_of(z)] += 1;
        }
        let max = counts.iter().copied().max().unwrap_or(0);
        counts
            .iter()
            .enumerate()
            .map(|(j, &c)| Bin {
                label: match cutoffs.get(j + 1) {
                    Some(n) => format!("bracket {} [{:.0}, {:.0})", j + 1, cutoffs[j], n),
                    None => format!("bracket {} [{:.0}, and up)", j + 1, cutoffs[j]),
                },
                bar: bar(c, max),
                count: c,
            })
            .collect()
    }

    pub(super) fn utility_histogram(values: &[f64]) -> Vec<Bin> {
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if values.is_empty() || !lo.is_finite() {
            return Vec::new();
        }
        let width = ((hi - lo) / 10.0).max(f64::MIN_POSITIVE);
        let mut counts = [0usize; 10];
        for &x in values {
            counts[(((x - lo) / width) as usize).min(9)] += 1;
        }
        let max = counts.iter().copied().max().unwrap_or(0);
        (0..10)
            .map(|i| Bin {
                label: format!(
                    "[{:.0}, {:.0})",
                    lo + width * i as f64,
                    lo + width * (i + 1) as f64
                ),
                bar: bar(counts[i], max),
                count: counts[i],
            })
            .collect()
    }

    pub(super) fn describe(values: &[f64]) -> (String, String, String) {
        let m = stats::mean(values);
        let median = stats::median(values);
        let var = values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / values.len().max(1) as f64;
        (
            format!("{m:.2}"),
            format!("{median:.2}"),
            format!("{:.2}", var.sqrt()),
        )
    }

    fn reflection(&self) -> Option<String> {
        let [.., a, b] = self.years.as_slice() else {
            return None;
        };
        reflection(a, b)
    }
}

/// The rates of a history line's `[37.25%, 50%]`, as the prompt shows them.
fn shown_rates(text: &str) -> Vec<&str> {
    text.trim_matches(|c| c == '[' || c == ']')
        .split(", ")
        .collect()
}

/// What the last move did, bracket by bracket: the direction it really went (raised or cut)
/// and where welfare went, so the advice follows from both.
fn reflection(a: &YearRecord, b: &YearRecord) -> Option<String> {
    let value = |t: &str| t.trim_end_matches('%').parse::<f64>().unwrap_or(0.0);
    let (from, to) = (shown_rates(&a.rates), shown_rates(&b.rates));
    if from == to {
        return None;
    }
    let outcome = match b.welfare_value.total_cmp(&a.welfare_value) {
        std::cmp::Ordering::Greater => "raised",
        std::cmp::Ordering::Less => "lowered",
        std::cmp::Ordering::Equal => "did not change",
    };
    let moves: Vec<String> = from
        .iter()
        .zip(&to)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(j, (x, y))| {
            let raised = value(y) > value(x);
            let verb = if raised { "raised" } else { "cut" };
            let advice = match (raised, outcome) {
                (_, "did not change") => String::new(),
                // Welfare rose: the same direction again; it fell: the other way.
                (true, "raised") | (false, "lowered") => format!(": try it above {y}"),
                _ => format!(": try it below {y}"),
            };
            format!("bracket {} was {verb} from {x} to {y}{advice}", j + 1)
        })
        .collect();
    Some(format!(
        "Your last change {outcome} welfare ({} -> {}): {}.",
        a.welfare,
        b.welfare,
        moves.join("; ")
    ))
}

/// The brackets, numbered from 1 as the DELTA list is ordered: "bracket 1: [0, 90000), ...".
pub(super) fn labelled_brackets(s: &TaxSchedule) -> String {
    super::llm_worker::brackets_text(s)
        .split("), ")
        .enumerate()
        .map(|(j, b)| {
            let b = b.trim_end_matches(')');
            format!("bracket {}: {b})", j + 1)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The moves allowed per bracket, e.g. "-20, -10, 0, 10 or 20".
pub(super) fn moves_text(max_delta: i32) -> String {
    let steps: Vec<String> = (-max_delta / 10..=max_delta / 10)
        .map(|k| (k * 10).to_string())
        .collect();
    match steps.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => steps.join(""),
    }
}

/// A request for a `{"DELTA": [..]}` move over `n` brackets (from the planner, or from an
/// LLM leader, who is asked as one).
pub(super) fn delta_ask(
    role: &'static str,
    agent: u64,
    step: u64,
    (system, user): (String, String),
    max_tokens: u32,
    n: usize,
    max_delta: i32,
) -> Ask {
    let moves: Vec<i32> = (-max_delta / 10..=max_delta / 10).map(|k| k * 10).collect();
    Ask::first(
        role,
        agent,
        step,
        vec![("system".into(), system), ("user".into(), user)],
        max_tokens,
        json!({"type": "object", "properties": {"DELTA": {
            "type": "array",
            "items": {"type": "integer", "enum": moves},
            "minItems": n, "maxItems": n}}, "required": ["DELTA"]}),
    )
}

/// The answer's form, for a re-ask.
pub(super) fn delta_hint(n: usize) -> String {
    format!("{{\"DELTA\": [{}]}}", vec!["X"; n].join(", "))
}

impl PlannerPolicy for LlmPlanner {
    fn name(&self) -> &'static str {
        "llm"
    }

    fn propose(&mut self, input: &PlannerInput) -> PlannerAct {
        let Some(obs): Option<&YearObservation> = input.last_year.as_ref() else {
            // The first year: nothing observed yet, keep the starting schedule (the paper's).
            return PlannerAct::Now(input.current.clone());
        };
        let pts = points(&input.current);
        self.years.push(YearRecord {
            year: input.tax_year.saturating_sub(1),
            rates: rates_text(&input.current),
            points: pts,
            welfare: format!("{:.4}", obs.welfare),
            welfare_value: obs.welfare,
            revenue: format!("{:.0}", obs.revenue),
            mean_hours: format!("{:.2}", obs.mean_hours),
            gini: format!("{:.3}", obs.gini),
        });
        self.pending = Some(input.current.clone());

        let s = &self.settings;
        let n = input.current.num_brackets();
        let placeholders = vec!["X"; n].join(", ");
        let brackets = labelled_brackets(&input.current);
        // Asked from the second tax year on, at its first step: the step is a whole number of
        // tax years.
        let tax_year_length = input.step / input.tax_year.max(1);
        let start = self.years.len().saturating_sub(s.history);
        let mut best = self.years.clone();
        best.sort_by(|a, b| {
            b.welfare_value
                .total_cmp(&a.welfare_value)
                .then(a.year.cmp(&b.year))
        });
        best.truncate(s.best_k);
        let (im, imed, isd) = Self::describe(&obs.incomes);
        let (um, umed, usd) = Self::describe(&obs.utilities);
        let exploit = exploit(input.tax_year, input.years_total, self.years.len());
        let system = s.prompts.render(
            "planner_system",
            json!({"welfare_text": welfare_text(s.welfare), "brackets": brackets, "placeholders": placeholders,
                   "jurisdiction": s.jurisdiction, "moves": moves_text(s.max_delta_points),
                   "tax_year_length": tax_year_length, "years_total": input.years_total}),
        );
        let user = s.prompts.render(
            "planner_user",
            json!({"history": &self.years[start..], "best": best, "rates": rates_text(&input.current),
                   "last_year": input.tax_year.saturating_sub(1),
                   "income_histogram": Self::income_histogram(input.current.cutoffs(), &obs.incomes),
                   "utility_histogram": Self::utility_histogram(&obs.utilities),
                   "income_mean": im, "income_median": imed, "income_std": isd,
                   "utility_mean": um, "utility_median": umed, "utility_std": usd,
                   "welfare": format!("{:.4}", obs.welfare), "reflection": self.reflection(),
                   "exploit": exploit, "n": n, "placeholders": placeholders,
                   "tax_year": input.tax_year, "years_total": input.years_total}),
        );
        let gw = Arc::clone(&s.gateway);
        let max_tokens = s.max_tokens;
        let max_delta = s.max_delta_points;
        let step = input.step;
        let agent = s.agent;
        PlannerAct::Later(Box::pin(async move {
            // A template that cannot render stops the run, naming the template.
            let (system, user) = match system.and_then(|s| user.map(|u| (s, u))) {
                Ok(prompts) => prompts,
                Err(e) => return super::llm_worker::template_failed(e, None::<Vec<i32>>),
            };
            let got = gw
                .ask_parsed(
                    delta_ask(
                        "planner",
                        agent,
                        step,
                        (system, user),
                        max_tokens,
                        n,
                        max_delta,
                    ),
                    |t| parse::deltas(t, n, max_delta),
                    &delta_hint(n),
                )
                .await;
            Turn {
                exchanges: got.exchanges,
                fatal: got.fatal,
                payload: Box::new(got.value),
            }
        }))
    }

    fn complete(&mut self, payload: Box<dyn Any>) -> TaxSchedule {
        let current = self.pending.take().expect("complete follows propose");
        let deltas = payload
            .downcast::<Option<Vec<i32>>>()
            .ok()
            .and_then(|d| *d)
            // The documented fallback: no move.
            .unwrap_or_else(|| vec![0; current.num_brackets()]);
        current.apply_deltas(&deltas).unwrap_or(current)
    }

    fn save(&self) -> Vec<u8> {
        let years: Vec<YearMemory> = self
            .years
            .iter()
            .map(|y| YearMemory {
                year: y.year,
                rates: y.rates.clone(),
                points: y.points.clone(),
                welfare: y.welfare.clone(),
                welfare_value: y.welfare_value,
                revenue: y.revenue.clone(),
                mean_hours: y.mean_hours.clone(),
                gini: y.gini.clone(),
            })
            .collect();
        crate::memory::to_bytes(&years)
    }

    fn restore(&mut self, memory: &[u8]) -> Result<(), String> {
        let years: Vec<YearMemory> = crate::memory::from_bytes(memory)?;
        self.years = years
            .into_iter()
            .map(|y| YearRecord {
                year: y.year,
                rates: y.rates,
                points: y.points,
                welfare: y.welfare,
                welfare_value: y.welfare_value,
                revenue: y.revenue,
                mean_hours: y.mean_hours,
                gini: y.gini,
            })
            .collect();
        Ok(())
    }
}

/// A year of the planner's history as a snapshot keeps it (every field, the ones the prompt
/// does not show included).
#[derive(serde::Serialize, serde::Deserialize)]
struct YearMemory {
    year: u64,
    rates: String,
    points: Vec<i32>,
    welfare: String,
    welfare_value: f64,
    revenue: String,
    mean_hours: String,
    gini: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_planner_explores_until_late_and_never_exploits_a_best_of_one() {
        // The shipped T = 50 with 25-step years: one call, after one year seen.
        assert!(!exploit(1, 2, 1));
        // Twenty years: explore early, exploit in the last tenth.
        assert!(!exploit(10, 20, 10));
        assert!(exploit(19, 20, 19));
        assert!(!exploit(19, 20, 1), "nothing to choose among");
    }

    fn year(rates: &str, welfare: f64) -> YearRecord {
        YearRecord {
            year: 0,
            rates: rates.into(),
            points: Vec::new(),
            welfare: format!("{welfare:.4}"),
            welfare_value: welfare,
            revenue: String::new(),
            mean_hours: String::new(),
            gini: String::new(),
        }
    }

    #[test]
    fn the_reflection_says_which_way_each_bracket_moved() {
        // A cut that lowered welfare: go back above, never "keep raising".
        let r = reflection(&year("[50%, 38%]", 2.0), &year("[50%, 28%]", 1.0)).unwrap();
        assert_eq!(
            r,
            "Your last change lowered welfare (2.0000 -> 1.0000): bracket 2 was cut from 38% \
             to 28%: try it above 28%."
        );
        let r = reflection(&year("[57.5%, 38%]", 1.0), &year("[37.5%, 38%]", 2.0)).unwrap();
        assert!(r.ends_with("bracket 1 was cut from 57.5% to 37.5%: try it below 37.5%."));
        let r = reflection(&year("[10%]", 1.0), &year("[20%]", 1.0)).unwrap();
        assert!(
            r.starts_with("Your last change did not change welfare"),
            "{r}"
        );
        assert!(r.ends_with("bracket 1 was raised from 10% to 20%."), "{r}");
        assert!(reflection(&year("[10%]", 1.0), &year("[10%]", 2.0)).is_none());
    }

    #[test]
    fn brackets_are_numbered_from_one_as_the_delta_list() {
        let s = TaxSchedule::new(vec![0.0, 90_000.0], vec![0.3725, 0.5]).unwrap();
        assert_eq!(
            labelled_brackets(&s),
            "bracket 1: [0, 90000), bracket 2: [90000, and up)"
        );
        let bins = LlmPlanner::income_histogram(s.cutoffs(), &[1.0, 100_000.0]);
        assert_eq!(bins[1].label, "bracket 2 [90000, and up)");
        assert_eq!(moves_text(20), "-20, -10, 0, 10 or 20");
        assert_eq!(moves_text(10), "-10, 0 or 10");
    }

    #[test]
    fn rates_are_shown_with_their_precision() {
        let s = TaxSchedule::new(vec![0.0, 90_000.0], vec![0.3725, 0.5]).unwrap();
        assert_eq!(rates_text(&s), "[37.25%, 50%]");
    }
}
