//! The LLM worker: chooses its hours in context, from its own history, as the paper's workers
//! do. Each step (a year) it may first write its persona (once), answer the satisfaction
//! question about last year (asked from her persona and the year's summary alone, so the answer
//! cannot be chosen for what it does: a "no" lowers the utility she perceives), then asks for
//! `{"LABOR": X}`.
//!
//! Memory: a window of up to `history_window` years, its `best_k` years by perceived utility,
//! and on each year's line a reflection on whether its last change of hours paid. Bad answers
//! are re-asked with the reason; if none is usable the worker keeps its previous hours (40 at
//! the first step): the documented fallback, counted in `llm.fallbacks`. Its history is updated
//! with what happened whatever the model said, so a bad answer never desynchronizes it.
//!
//! Prompt layout, for prefix caches: the system prompt opens with the rules every worker shares,
//! then her identity and persona; the user prompt is her history, appended to and, when the
//! window is full, cut by its oldest half at once (so consecutive prompts share everything up to
//! the newest line between cuts), then what changes each year. The vote and stand questions
//! continue the same conversation: system prompt and history, then the question.

use std::any::Any;
use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::json;

use super::worker::{Choice, Feedback, MoveView, Turn, WorkerPolicy, WorkerProfile, WorkerView};
use crate::config::UtilityFormula;
use crate::econ::{TaxSchedule, UtilityType, WelfareKind, perceived_utility};
use crate::governance::Ballot;
use crate::governance::election::ElectionView;
use crate::governance::liquid::LiquidVote;
use crate::llm::{Ask, LlmGateway, Prompts, parse};

mod elections;
mod liquid;
mod memory;
mod moves;
mod planner_state;
mod text;

pub(crate) use elections::template_failed;
use memory::{Entry, LlmWorkerMemory, best_first, overflow};
pub use planner_state::{PlannerState, planner_state_context};
pub use text::brackets_text;
pub(in crate::policy) use text::system_context;
pub(crate) use text::welfare_text;
use text::{
    LineFields, averages, best_years, earlier_best, hours_text, leader_text, money, rates_text,
    reflection,
};

/// Settings shared by every LLM worker of a run.
pub struct LlmWorkerSettings {
    pub gateway: Arc<LlmGateway>,
    pub prompts: Arc<Prompts>,
    pub max_tokens: u32,
    pub history_window: usize,
    pub best_k: usize,
    pub satisfaction: bool,
    pub timesteps: u64,
    /// What the planner maximizes: what altruists and adversaries are told they care about.
    pub welfare: WelfareKind,
    /// In a federation: where her taxes and rebate come from, in place of the nation's rebate
    /// line of `worker_system` (none for one nation, whose prompt keeps its bytes).
    pub rebate_text: Option<String>,
    /// Whether `worker_system` states her utility's formula with its numbers.
    pub utility_formula: UtilityFormula,
    /// Whether the vote question states each platform's equilibrium rebate (an oracle,
    /// `llm.platform_rebates = "shown"`).
    pub platform_rebates_shown: bool,
}

impl LlmWorkerSettings {
    /// The `worker_system` context of a worker under these settings.
    fn system_context(
        &self,
        me: &WorkerProfile,
        schedule: &TaxSchedule,
        persona: Option<String>,
    ) -> serde_json::Value {
        let mut ctx = system_context(me, schedule, self.welfare, self.satisfaction, persona);
        ctx["rebate_text"] = json!(self.rebate_text);
        ctx["utility_formula"] = json!(match self.utility_formula {
            UtilityFormula::Shown => "shown",
            UtilityFormula::Withheld => "withheld",
        });
        ctx
    }
}

/// How a persona is obtained.
#[derive(Clone, Debug)]
pub enum PersonaPlan {
    None,
    /// Ready-made text.
    Text(String),
    /// Ask the LLM once, from these census facts; the template text is the fallback. The
    /// income it is told is the one her prompts imply (skill x 40 weekly hours), not the
    /// census draw, so the persona and the numbers tell one story.
    Generate {
        occupation: String,
        sex: String,
        age: u8,
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
}

impl LlmWorker {
    /// The worker's system prompt (shared rules, then identity, skill, objective, persona).
    fn system_prompt(&self, me: &WorkerProfile, schedule: &TaxSchedule) -> Result<String, String> {
        let ctx = self
            .settings
            .system_context(me, schedule, self.persona_text());
        self.settings.prompts.render("worker_system", ctx)
    }

    /// The lines of the history window, oldest first, joined as every prompt shows them (so
    /// the questions that continue the conversation share its text byte for byte), and the
    /// best years no longer in it.
    fn history_text(&self) -> (String, String) {
        (
            join_lines(self.history.iter()),
            earlier_best(&self.best, self.history.front().map(|e| e.step)),
        )
    }
}

fn join_lines<'a>(entries: impl Iterator<Item = &'a Entry>) -> String {
    let mut text = String::new();
    for e in entries {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&e.line);
    }
    text
}

impl WorkerPolicy for LlmWorker {
    fn decide(&mut self, me: &WorkerProfile, view: &WorkerView, last: Option<Feedback>) -> Choice {
        // What happened last year, in the worker's own terms.
        let entry = match (last, &self.last_schedule) {
            (Some(fb), Some(schedule)) => {
                let income = me.skill * fb.hours;
                let tax = schedule.tax(income);
                // An altruist's (adversary's) utility of that year is its welfare (or minus
                // it), as her prompt says: the game's feedback carries the year before's.
                let utility = match me.utility_type {
                    UtilityType::Egotistical => fb.utility,
                    UtilityType::Altruistic => view.welfare,
                    UtilityType::Adversarial => -view.welfare,
                };
                Some(LineFields {
                    step: view.step.saturating_sub(1),
                    rates: rates_text(schedule),
                    hours: format!("{:.1}", fb.hours),
                    hours_value: fb.hours,
                    income: money(income),
                    tax: money(tax),
                    rebate: money(view.rebate),
                    post_tax: money(income - tax + view.rebate),
                    utility: money(utility),
                    raw_utility: money(utility),
                    utility_value: utility,
                    satisfied: None,
                    reflection: None,
                })
            }
            _ => None,
        };
        self.pending_schedule = Some(view.schedule.clone());

        let settings = Arc::clone(&self.settings);
        let gw = Arc::clone(&settings.gateway);
        // The window the hours question will show once last year's line is added: the same
        // lines, unless adding it overflows the window, which then drops its oldest half at once.
        let mut shown: Vec<Entry> = self.history.iter().cloned().collect();
        let previous = self.history.back().map(|e| (e.hours, e.utility));
        let best = self.best.clone();
        let persona_plan = self.persona.clone();
        let known_persona = self.persona_text();
        let agent = u64::from(me.id);
        let step = view.step;
        // The persona is filled in inside the exchange: it may be written there first.
        let system_ctx = settings.system_context(me, &view.schedule, None);
        let income_at_40 = money(me.skill * 40.0);
        let rates = rates_text(&view.schedule);
        let leader = view.leader.as_ref().map(leader_text);
        // Altruists and adversaries are scored on the welfare: they see the planner's state.
        let planner_state = view
            .planner_state
            .as_deref()
            .filter(|_| me.utility_type != UtilityType::Egotistical)
            .map(planner_state_context);
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
                fallback,
            } = &persona_plan
            {
                let prompt = settings.prompts.render(
                    "persona",
                    json!({"occupation": occupation, "sex": sex, "age": age, "income": income_at_40}),
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
            let mut sys = system_ctx;
            sys["persona"] = json!(persona);
            let system = settings.prompts.render("worker_system", sys);
            let system = match system {
                Ok(system) => system,
                Err(e) => {
                    fatal = fatal.or(Some(e));
                    String::new()
                }
            };

            let mut fields = entry;
            if settings.satisfaction
                && fatal.is_none()
                && let Some(e) = fields.as_mut()
            {
                // From her persona and last year's summary alone, as the reference asks it:
                // neither her utility nor what a "no" does to it is in view, so the answer
                // says how she feels about the policy, not what pays.
                let prompt = settings.prompts.render(
                    "satisfaction",
                    json!({"id": agent, "persona": persona, "step": e.step, "rates": e.rates,
                           "hours": e.hours, "income": e.income, "tax": e.tax,
                           "rebate": e.rebate, "post_tax": e.post_tax}),
                );
                // No usable answer counts as satisfied: the utility is left as it was.
                let satisfied = match prompt {
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
                        got.value
                    }
                    Err(e) => {
                        fatal = fatal.or(Some(e));
                        None
                    }
                };
                e.satisfied = satisfied;
                e.utility_value = perceived_utility(e.utility_value, satisfied);
                e.utility = money(e.utility_value);
            }
            if let Some(f) = fields.as_mut() {
                f.reflection = reflection(previous, (f.hours_value, f.utility_value), max_hours);
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
            let mut best = best;
            if let Some(e) = &entry {
                shown.push(e.clone());
                shown.drain(..overflow(shown.len(), settings.history_window));
                best.push(e.clone());
                best.sort_by(best_first);
                best.truncate(settings.best_k);
            }

            let mut hours = None;
            if fatal.is_none() {
                let user = settings.prompts.render(
                    "worker_user",
                    json!({"history": join_lines(shown.iter()),
                           "earlier_best": earlier_best(&best, shown.first().map(|e| e.step)),
                           "best": best_years(&best),
                           "averages": averages(shown.iter()), "rates": rates, "leader": leader,
                           "max_hours": hours_text(max_hours), "exploit": exploit,
                           "planner_state": planner_state}),
                );
                match user {
                    Err(e) => fatal = Some(e),
                    Ok(user) => {
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
        self.ask_stand(me, e)
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
        self.ask_vote(me, e)
    }

    fn complete_vote(&mut self, _me: &WorkerProfile, payload: Box<dyn Any>) -> Option<Ballot> {
        payload.downcast::<Option<Ballot>>().ok().and_then(|b| *b)
    }

    fn choose_region(&mut self, me: &WorkerProfile, v: &MoveView) -> Choice<Option<u32>> {
        self.ask_move(me, v)
    }

    fn complete_move(&mut self, _me: &WorkerProfile, payload: Box<dyn Any>) -> Option<u32> {
        moves::complete_move(payload)
    }

    fn liquid_vote(&mut self, me: &WorkerProfile, e: &ElectionView) -> Choice<LiquidVote> {
        let Ok(schedule) = TaxSchedule::new(e.cutoffs.clone(), e.current_rates.clone()) else {
            return Choice::Now(LiquidVote::Abstain);
        };
        let system = self.system_prompt(me, &schedule);
        let history = self.history_text();
        liquid::liquid_vote(&self.settings, system, history, &schedule, me, e)
    }

    fn complete_liquid_vote(&mut self, _me: &WorkerProfile, payload: Box<dyn Any>) -> LiquidVote {
        liquid::complete_liquid_vote(payload)
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
            // As the prompt showed it: a full window loses its oldest half at once.
            let drop = overflow(self.history.len(), self.settings.history_window);
            self.history.drain(..drop);
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
        crate::memory::to_bytes(&LlmWorkerMemory {
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
        let m: LlmWorkerMemory = crate::memory::from_bytes(memory)?;
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
