//! The LLM worker: chooses its hours in context, from its own history, as the paper's workers
//! do. Each step it may first write its persona (once), answer the satisfaction question about
//! last step (which scales the utility it perceives), then asks for `{"LABOR": X}`.
//!
//! Memory: a window of its last `history_window` steps, its `best_k` steps by perceived
//! utility, and a reflection line on whether its last change of hours paid. Bad answers are
//! re-asked with the reason; if none is usable the worker keeps its previous hours (40 at the
//! first step): the documented fallback, counted in `llm.fallbacks`. Its history is updated
//! with what happened whatever the model said, so a bad answer never desynchronizes it.

use std::any::Any;
use std::collections::VecDeque;
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use super::worker::{Choice, Feedback, MoveView, Turn, WorkerPolicy, WorkerProfile, WorkerView};
use crate::econ::{TaxSchedule, UtilityType};
use crate::governance::Ballot;
use crate::governance::election::{ElectionView, offline_stand};
use crate::governance::platforms::{PlatformOption, option_of};
use crate::llm::{Ask, LlmGateway, Prompts, parse};

/// Settings shared by every LLM worker of a run.
pub struct LlmWorkerSettings {
    pub gateway: Arc<LlmGateway>,
    pub prompts: Arc<Prompts>,
    pub max_tokens: u32,
    pub history_window: usize,
    pub best_k: usize,
    pub satisfaction: bool,
    pub timesteps: u64,
}

/// What a worker remembers of one step: the numbers it reasons on and the history line it
/// was shown (rendered once, with the `worker_history_line` template, then reused).
#[derive(Clone, Debug)]
struct Entry {
    step: u64,
    hours: f64,
    utility: f64,
    line: Arc<str>,
}

/// The fields of one history line, as the template sees them.
#[derive(Clone, Debug, Serialize)]
struct LineFields {
    step: u64,
    rates: String,
    hours: String,
    income: String,
    tax: String,
    rebate: String,
    post_tax: String,
    utility: String,
    satisfaction: Option<f64>,
    #[serde(skip)]
    hours_value: f64,
    #[serde(skip)]
    utility_value: f64,
}

/// How a persona is obtained.
#[derive(Clone, Debug)]
pub enum PersonaPlan {
    None,
    /// Ready-made text.
    Text(String),
    /// Ask the LLM once, from these census facts; the template text is the fallback.
    Generate {
        occupation: String,
        sex: String,
        age: u8,
        income: f64,
        fallback: String,
    },
}

/// The LLM worker policy.
pub struct LlmWorker {
    settings: Arc<LlmWorkerSettings>,
    persona: PersonaPlan,
    history: VecDeque<Entry>,
    best: Vec<Entry>,
    last_hours: Option<f64>,
    /// The schedule the last decision was made under (to tell the worker what she paid).
    last_schedule: Option<TaxSchedule>,
    pending_schedule: Option<TaxSchedule>,
}

struct WorkerTurn {
    persona: Option<String>,
    entry: Option<Entry>,
    hours: Option<f64>,
}

fn best_first(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    b.utility.total_cmp(&a.utility).then(a.step.cmp(&b.step))
}

fn money(x: f64) -> String {
    format!("{x:.2}")
}

fn rates_text(s: &TaxSchedule) -> String {
    let pts: Vec<String> = s
        .rates()
        .iter()
        .map(|r| format!("{:.0}%", r * 100.0))
        .collect();
    format!("[{}]", pts.join(", "))
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

impl LlmWorker {
    pub fn new(settings: Arc<LlmWorkerSettings>, persona: PersonaPlan) -> Self {
        LlmWorker {
            settings,
            persona,
            history: VecDeque::new(),
            best: Vec::new(),
            last_hours: None,
            last_schedule: None,
            pending_schedule: None,
        }
    }

    fn persona_text(&self) -> Option<String> {
        match &self.persona {
            PersonaPlan::None => None,
            PersonaPlan::Text(t) => Some(t.clone()),
            PersonaPlan::Generate { .. } => None,
        }
    }

    /// "Increasing labor from 30 to 40 raised your utility: ..." from the last two entries.
    fn reflection(a: Option<&Entry>, b: Option<&Entry>) -> Option<String> {
        let (a, b) = (a?, b?);
        if a.hours == b.hours {
            return None;
        }
        let up = b.hours > a.hours;
        let better = b.utility > a.utility;
        let (verb, change) = (
            if up { "Increasing" } else { "Decreasing" },
            if better { "raised" } else { "lowered" },
        );
        let advice = if up == better {
            format!("your labor may be too low: try more than {:.1}", b.hours)
        } else {
            format!("your labor may be too high: try less than {:.1}", b.hours)
        };
        Some(format!(
            "{verb} labor from {:.1} to {:.1} {change} your utility, so {advice}.",
            a.hours, b.hours
        ))
    }
}

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
    /// The worker's system prompt (identity, skill, objective, persona if known).
    fn system_prompt(&self, me: &WorkerProfile) -> Result<String, String> {
        self.settings
            .prompts
            .render("worker_system", system_context(me, self.persona_text()))
    }
}

/// What the `worker_system` template sees: the worker's identity, skill and objective, and her
/// persona when known.
fn system_context(me: &WorkerProfile, persona: Option<String>) -> serde_json::Value {
    json!({
        "id": me.id,
        "skill": money(me.skill),
        "income_at_40": money(me.skill * 40.0),
        "max_hours": me.max_hours,
        "utility_type": match me.utility_type {
            UtilityType::Egotistical => "egotistical",
            UtilityType::Altruistic => "altruistic",
            UtilityType::Adversarial => "adversarial",
        },
        "persona": persona,
    })
}

impl WorkerPolicy for LlmWorker {
    fn decide(&mut self, me: &WorkerProfile, view: &WorkerView, last: Option<Feedback>) -> Choice {
        // What happened last step, in the worker's own terms.
        let entry = match (last, &self.last_schedule) {
            (Some(fb), Some(schedule)) => {
                let income = me.skill * fb.hours;
                let tax = schedule.tax(income);
                Some(LineFields {
                    step: view.step.saturating_sub(1),
                    rates: rates_text(schedule),
                    hours: format!("{:.1}", fb.hours),
                    hours_value: fb.hours,
                    income: money(income),
                    tax: money(tax),
                    rebate: money(view.rebate),
                    post_tax: money(income - tax + view.rebate),
                    utility: money(fb.utility),
                    utility_value: fb.utility,
                    satisfaction: None,
                })
            }
            _ => None,
        };
        self.pending_schedule = Some(view.schedule.clone());

        let settings = Arc::clone(&self.settings);
        let gw = Arc::clone(&settings.gateway);
        // The window's older lines, joined once; the newest line is added in the exchange, after
        // the satisfaction answer that may change it.
        let keep = self
            .settings
            .history_window
            .saturating_sub(usize::from(entry.is_some()));
        let older: Vec<&Entry> = self.history.iter().rev().take(keep).collect();
        let mut history_text = String::with_capacity(older.iter().map(|e| e.line.len() + 1).sum());
        for e in older.iter().rev() {
            history_text.push_str(&e.line);
            history_text.push('\n');
        }
        let previous = self.history.back().cloned();
        let best = self.best.clone();
        let persona_plan = self.persona.clone();
        let known_persona = self.persona_text();
        let agent = u64::from(me.id);
        let step = view.step;
        // The persona is filled in inside the exchange: it may be written there first.
        let system_ctx = system_context(me, None);
        let rates = rates_text(&view.schedule);
        let brackets = brackets_text(&view.schedule);
        let rebate = money(view.rebate);
        let max_hours = me.max_hours;
        let exploit = view.last_step_of_year || view.step * 10 > settings.timesteps * 9;

        Choice::Later(Box::pin(async move {
            let mut exchanges = Vec::new();
            let mut fatal = None;
            let mut persona = known_persona;
            let mut new_persona = None;

            if let PersonaPlan::Generate {
                occupation,
                sex,
                age,
                income,
                fallback,
            } = &persona_plan
            {
                let prompt = settings.prompts.render(
                    "persona",
                    json!({"occupation": occupation, "sex": sex, "age": age, "income": money(*income)}),
                );
                let text = match prompt {
                    Ok(p) => {
                        let got = gw
                            .ask_parsed(
                                Ask::first(
                                    "persona",
                                    agent,
                                    step,
                                    vec![("user".into(), p)],
                                    settings.max_tokens,
                                    json!({"type": "string"}),
                                ),
                                parse::persona,
                                "the persona text",
                            )
                            .await;
                        exchanges.extend(got.exchanges);
                        fatal = fatal.or(got.fatal);
                        got.value.unwrap_or_else(|| fallback.clone())
                    }
                    // A template that cannot render stops the run (it names the template):
                    // a silently skipped question would look like an answered one.
                    Err(e) => {
                        fatal = fatal.or(Some(e));
                        fallback.clone()
                    }
                };
                persona = Some(text.clone());
                new_persona = Some(text);
            }

            let mut fields = entry;
            if settings.satisfaction
                && fatal.is_none()
                && let Some(e) = fields.as_mut()
            {
                let prompt = settings.prompts.render(
                    "satisfaction",
                    json!({"persona": persona.clone().unwrap_or_default(), "rates": e.rates,
                           "hours": e.hours, "income": e.income, "tax": e.tax,
                           "rebate": e.rebate, "post_tax": e.post_tax}),
                );
                // A "no" halves the utility she perceives (the paper's r = 0.5); no usable
                // answer keeps r = 1.
                let r = match prompt {
                    Ok(p) => {
                        let got = gw
                            .ask_parsed(
                                Ask::first(
                                    "satisfaction",
                                    agent,
                                    step,
                                    vec![("user".into(), p)],
                                    settings.max_tokens,
                                    json!({"type": "object", "properties": {
                                        "thought": {"type": "string"},
                                        "ANSWER": {"type": "string", "enum": ["YES", "NO"]}},
                                        "required": ["thought", "ANSWER"]}),
                                ),
                                parse::yes_no,
                                "{\"thought\": \"...\", \"ANSWER\": \"YES or NO\"}",
                            )
                            .await;
                        exchanges.extend(got.exchanges);
                        fatal = fatal.or(got.fatal);
                        if got.value == Some(false) { 0.5 } else { 1.0 }
                    }
                    Err(e) => {
                        fatal = fatal.or(Some(e));
                        1.0
                    }
                };
                e.satisfaction = Some(r);
                e.utility_value *= r;
                e.utility = money(e.utility_value);
            }
            let entry = fields.map(|f| Entry {
                step: f.step,
                hours: f.hours_value,
                utility: f.utility_value,
                line: match settings.prompts.render("worker_history_line", &f) {
                    Ok(line) => line.into(),
                    Err(e) => {
                        fatal = fatal.take().or(Some(e));
                        Arc::from("")
                    }
                },
            });
            if let Some(e) = &entry {
                history_text.push_str(&e.line);
                history_text.push('\n');
            }
            let mut best = best;
            if let Some(e) = &entry {
                best.push(e.clone());
                best.sort_by(best_first);
                best.truncate(settings.best_k);
            }
            let best_text = best.iter().map(|e| &*e.line).collect::<Vec<_>>().join("\n");
            let reflection = LlmWorker::reflection(previous.as_ref(), entry.as_ref());

            let mut hours = None;
            if fatal.is_none() {
                let mut sys = system_ctx;
                sys["persona"] = json!(persona);
                let system = settings.prompts.render("worker_system", sys);
                let user = settings.prompts.render(
                    "worker_user",
                    json!({"history": history_text.trim_end(), "best": best_text,
                           "reflection": reflection, "rates": rates, "brackets": brackets,
                           "rebate": rebate, "max_hours": max_hours, "exploit": exploit}),
                );
                match (system, user) {
                    (Err(e), _) | (_, Err(e)) => fatal = Some(e),
                    (Ok(system), Ok(user)) => {
                        let got = gw
                        .ask_parsed(
                            Ask::first(
                                "worker",
                                agent,
                                step,
                                vec![("system".into(), system), ("user".into(), user)],
                                settings.max_tokens,
                                json!({"type": "object", "properties": {
                                    "LABOR": {"type": "number", "minimum": 0, "maximum": max_hours}},
                                    "required": ["LABOR"]}),
                            ),
                            |t| parse::labor(t, max_hours),
                            "{\"LABOR\": \"X\"}",
                        )
                        .await;
                        exchanges.extend(got.exchanges);
                        fatal = fatal.or(got.fatal);
                        hours = got.value;
                    }
                }
            }
            Turn {
                exchanges,
                fatal,
                payload: Box::new(WorkerTurn {
                    persona: new_persona,
                    entry,
                    hours,
                }),
            }
        }))
    }

    fn stand(&mut self, me: &WorkerProfile, e: &ElectionView) -> Choice<Option<(usize, f64)>> {
        let offline = offline_stand(me.form, me.max_hours, me.skill, e);
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
        let user = self.settings.prompts.render(
            "stand",
            json!({"brackets": brackets_text(&schedule), "rates": rates_text(&schedule),
                   "placeholders": placeholders}),
        );
        let system = self.system_prompt(me);
        let (gw, max_tokens, agent, step) = (
            Arc::clone(&self.settings.gateway),
            self.settings.max_tokens,
            u64::from(me.id),
            e.step,
        );
        let book = Arc::clone(&e.book);
        let everyone = e.everyone_stands;
        Choice::Later(Box::pin(async move {
            let (system, user) = match system.and_then(|s| user.map(|u| (s, u))) {
                Ok(prompts) => prompts,
                Err(e) => return template_failed(e, None::<Option<(usize, f64)>>),
            };
            let got = gw
                .ask_parsed(
                    Ask::first(
                        "platform",
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

    fn complete_stand(
        &mut self,
        _me: &WorkerProfile,
        payload: Box<dyn Any>,
    ) -> Option<(usize, f64)> {
        payload
            .downcast::<Option<Option<(usize, f64)>>>()
            .ok()
            .and_then(|p| *p)
            .flatten()
    }

    fn vote(&mut self, me: &WorkerProfile, e: &ElectionView) -> Choice<Option<Ballot>> {
        let schedule = TaxSchedule::new(e.cutoffs.clone(), e.current_rates.clone());
        let Ok(schedule) = schedule else {
            return Choice::Now(None);
        };
        let candidates: Vec<serde_json::Value> = e
            .candidates
            .iter()
            .map(|c| {
                let rates: Vec<String> =
                    e.book[c.option].rates.iter().map(|r| format!("{:.0}%", r * 100.0)).collect();
                json!({
                    "label": if e.referendum { format!("option {}", c.id) } else { format!("worker_{}", c.id) },
                    "text": if e.referendum || e.llm_platforms {
                        format!("rates [{}]", rates.join(", "))
                    } else {
                        "no platform".to_string()
                    },
                })
            })
            .collect();
        let user = self.settings.prompts.render(
            "vote",
            json!({"rates": rates_text(&schedule), "brackets": brackets_text(&schedule),
                   "candidates": candidates, "referendum": e.referendum}),
        );
        let system = self.system_prompt(me);
        let ids: Vec<u64> = e.candidates.iter().map(|c| c.id).collect();
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
                        "vote",
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

    /// A federation's move: she is shown every region (its schedule, last rebate, amenity and
    /// residents) and answers `{"REGION": "X"}`; an unusable answer keeps her where she is
    /// (counted in `llm.fallbacks`).
    fn choose_region(&mut self, me: &WorkerProfile, v: &MoveView) -> Choice<Option<u32>> {
        let home = v.region_of[me.id as usize];
        let regions: Vec<serde_json::Value> = v
            .regions
            .iter()
            .enumerate()
            .map(|(r, o)| {
                json!({"label": format!("region {r}"), "home": r as u32 == home,
                       "rates": rates_text(&o.schedule), "brackets": brackets_text(&o.schedule),
                       "rebate": format!("{:.0}", o.rebate), "amenity": format!("{:.0}", o.amenity),
                       "residents": o.residents})
            })
            .collect();
        let user = self.settings.prompts.render(
            "move",
            json!({"regions": regions, "moving_cost": format!("{:.0}", v.moving_cost)}),
        );
        let system = self.system_prompt(me);
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

    fn complete_move(&mut self, _me: &WorkerProfile, payload: Box<dyn Any>) -> Option<u32> {
        payload.downcast::<Option<u32>>().ok().and_then(|r| *r)
    }

    fn complete_vote(&mut self, _me: &WorkerProfile, payload: Box<dyn Any>) -> Option<Ballot> {
        payload.downcast::<Option<Ballot>>().ok().and_then(|b| *b)
    }

    fn complete(&mut self, _me: &WorkerProfile, payload: Box<dyn Any>) -> f64 {
        let turn = payload
            .downcast::<WorkerTurn>()
            .expect("an LlmWorker only completes its own turns");
        if let Some(text) = turn.persona {
            self.persona = PersonaPlan::Text(text);
        }
        if let Some(e) = turn.entry {
            self.best.push(e.clone());
            self.best.sort_by(best_first);
            self.best.truncate(self.settings.best_k);
            self.history.push_back(e);
            while self.history.len() > self.settings.history_window {
                self.history.pop_front();
            }
        }
        self.last_schedule = self.pending_schedule.take();
        // The documented fallback: keep the previous hours (40 at the very first step).
        let hours = turn.hours.or(self.last_hours).unwrap_or(40.0);
        self.last_hours = Some(hours);
        hours
    }

    fn save(&self) -> Vec<u8> {
        let entries = |list: &mut dyn Iterator<Item = &Entry>| {
            list.map(|e| (e.step, e.hours, e.utility, e.line.to_string()))
                .collect()
        };
        crate::snapshot::to_bytes(&LlmWorkerMemory {
            persona: match &self.persona {
                PersonaPlan::Text(t) => Some(t.clone()),
                _ => None,
            },
            history: entries(&mut self.history.iter()),
            best: entries(&mut self.best.iter()),
            last_hours: self.last_hours,
            last_schedule: self.last_schedule.clone(),
        })
    }

    fn restore(&mut self, memory: &[u8]) -> Result<(), String> {
        let m: LlmWorkerMemory = crate::snapshot::from_bytes(memory)?;
        let entry = |(step, hours, utility, line): (u64, f64, f64, String)| Entry {
            step,
            hours,
            utility,
            line: line.into(),
        };
        if let Some(text) = m.persona {
            self.persona = PersonaPlan::Text(text);
        }
        self.history = m.history.into_iter().map(entry).collect();
        self.best = m.best.into_iter().map(entry).collect();
        self.last_hours = m.last_hours;
        self.last_schedule = m.last_schedule;
        Ok(())
    }
}

/// What an LLM worker has learned, as a snapshot keeps it: her persona once written, her
/// history and best steps (step, hours, utility, the line she was shown) and her last choice.
#[derive(serde::Serialize, serde::Deserialize)]
struct LlmWorkerMemory {
    persona: Option<String>,
    history: Vec<(u64, f64, f64, String)>,
    best: Vec<(u64, f64, f64, String)>,
    last_hours: Option<f64>,
    last_schedule: Option<TaxSchedule>,
}
