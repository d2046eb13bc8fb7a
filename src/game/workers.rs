//! Building the workers of a scenario: archetype representatives, the factory that gives each
//! worker actor its policy (called on each shard's thread), and the planner's state LLM
//! altruists and adversaries are shown.

use std::sync::Arc;

use simulacra_actors::cohort::AgentFactory;

use super::Economy;
use crate::agents::Worker;
use crate::config::{PersonaSource, WorkerPolicyName};
use crate::econ::UtilityType;
use crate::llm::LlmRuntime;
use crate::policy::llm_worker::{LlmWorkerSettings, PersonaPlan};
use crate::policy::{Bounded, Fixed, LlmWorker, Rational, WorkerPolicy, WorkerProfile};
use crate::population::Population;
use crate::resolved::ResolvedScenario;

/// Archetype mode: workers sorted by skill are cut into `buckets` groups of (nearly) equal
/// size, and each group's median-skill member decides for the whole group (one LLM exchange
/// per group instead of one per worker, as AgentTorch does). Returns each worker's
/// representative.
pub fn archetype_representatives(skills: &[f64], buckets: usize) -> Vec<u32> {
    let n = skills.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by(|&a, &b| {
        skills[a as usize]
            .total_cmp(&skills[b as usize])
            .then(a.cmp(&b))
    });
    let k = buckets.clamp(1, n.max(1));
    let mut rep = vec![0u32; n];
    for g in 0..k {
        let group = &order[n * g / k..n * (g + 1) / k];
        if let Some(&median) = group.get(group.len() / 2) {
            for &w in group {
                rep[w as usize] = median;
            }
        }
    }
    rep
}

/// Worker `id`'s template persona as an LLM worker reads it: with the yearly income her skill
/// gives at 40 weekly hours, the figure her system prompt states.
fn llm_persona(population: &Population, id: usize) -> String {
    crate::econ::persona_text(&population.person(id).persona, population.skills[id] * 40.0)
}

/// The worker-policy factory of a scenario (called on each shard's thread).
pub(super) fn worker_factory(
    scenario: &ResolvedScenario,
    population: &Arc<Population>,
    llm: Option<&LlmRuntime>,
    representatives: Option<Arc<Vec<u32>>>,
) -> AgentFactory<Worker> {
    let population = Arc::clone(population);
    let form = scenario.form();
    let max_hours = scenario.economy.max_hours;
    let w = scenario.workers.clone();
    let llm_settings = llm.map(|rt| {
        Arc::new(LlmWorkerSettings {
            gateway: Arc::clone(&rt.gateway),
            prompts: Arc::clone(&rt.prompts),
            max_tokens: scenario.llm.max_tokens,
            history_window: scenario.llm.history_window,
            best_k: scenario.llm.best_k,
            satisfaction: w.satisfaction,
            timesteps: scenario.simulation.timesteps,
            welfare: scenario.world.welfare,
            rebate_text: scenario.regions().map(worker_rebate_text),
            utility_formula: scenario.llm.utility_formula,
            platform_rebates_shown: scenario.llm.platform_rebates
                == crate::config::PlatformRebates::Shown,
        })
    });
    Arc::new(move |id| {
        let follows = representatives
            .as_ref()
            .is_some_and(|r| r[id] as usize != id);
        let policy: Box<dyn WorkerPolicy> = match (w.policy, &llm_settings) {
            // A follower's hours are its representative's; it asks nothing itself.
            (WorkerPolicyName::Llm, _) if follows => Box::new(Fixed(0.0)),
            (WorkerPolicyName::Rational, _) => Box::new(Rational::default()),
            (WorkerPolicyName::Bounded, _) => {
                Box::new(Bounded::new(w.explore_steps, w.exploration_rate))
            }
            (WorkerPolicyName::Fixed, _) => Box::new(Fixed(w.fixed_hours)),
            (WorkerPolicyName::Llm, Some(settings)) => {
                let persona = match w.personas {
                    PersonaSource::None => PersonaPlan::None,
                    // The persona's income is the one her prompts imply (skill x 40 weekly
                    // hours), not the census draw the calibrated skill came from.
                    PersonaSource::Template => PersonaPlan::Text(llm_persona(&population, id)),
                    PersonaSource::Llm => {
                        let card = population.card(id);
                        PersonaPlan::Generate {
                            occupation: card.occupation,
                            sex: card.sex,
                            age: card.age,
                            fallback: llm_persona(&population, id),
                        }
                    }
                };
                Box::new(LlmWorker::new(Arc::clone(settings), persona))
            }
            // Economy::start always passes the runtime when workers use the LLM.
            (WorkerPolicyName::Llm, None) => Box::new(Fixed(40.0)),
        };
        Worker {
            profile: WorkerProfile {
                id: id as u32,
                skill: population.skills[id],
                utility_type: population.utility_types[id],
                form,
                max_hours,
            },
            policy,
        }
    })
}

/// What an LLM worker of a federation is told of her taxes and rebate, in place of the
/// nation's rebate line.
fn worker_rebate_text(f: &crate::config::Federation) -> String {
    use crate::econ::federation::Equalization;
    let mut text = format!(
        "You live in one of {} regions, each with its own tax rates; your region's tax revenue \
         is shared equally among its residents as a rebate.",
        f.regions
    );
    if f.federal_mode().is_some() {
        text += match f.equalization {
            Equalization::None => {
                " The rates you face are your region's plus the federal ones; federal revenue \
                 is shared equally among all citizens, and your rebate includes your share."
            }
            Equalization::GapFill => {
                " The rates you face are your region's plus the federal ones; federal revenue \
                 first fills part of the shortfall of regions whose own revenue per resident is \
                 below the national mean, and the rest is shared equally among all citizens; \
                 your rebate includes your region's rebate and your federal share."
            }
            Equalization::PerCapita | Equalization::UncappedGapShare => {
                " The rates you face are your region's plus the federal ones; federal revenue \
                 is paid to the regions, and your region's rebate includes what it receives."
            }
        };
    }
    text
}

impl Economy {
    /// What the planner observed at the step before `step` (its schedule, every worker's
    /// income and utility, the welfare), for LLM altruists and adversaries; none when no LLM
    /// worker is one, or before the first step. Read before the year's turn changes the
    /// schedule (and after a restore, from the snapshot's schedule and resettled step).
    pub(super) fn planner_state(&self, step: u64) -> Option<Arc<crate::policy::PlannerState>> {
        let wanted = self.llm.is_some()
            && self
                .population
                .utility_types
                .iter()
                .any(|t| *t != UtilityType::Egotistical);
        let s = self
            .last_settlement
            .as_ref()
            .filter(|_| wanted && step > 0)?;
        Some(Arc::new(crate::policy::PlannerState {
            step: step - 1,
            tax_year: (step - 1) / self.tax_year_length,
            schedule: self.state.schedule.clone(),
            incomes: s.incomes.clone(),
            utilities: s.utilities.clone(),
            welfare: s.welfare,
        }))
    }
}
