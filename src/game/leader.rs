//! The elected LLM leader's turn: the history she keeps of her own years in office, and the
//! question of her move (`policy::llm_leader`), asked with her jurisdiction's figures (a
//! region's residents and years, the federal layer's, or the nation's).

use super::electorate::RegionScope;
use super::{Economy, GameError};
use crate::memory::OwnStep;
use crate::policy::WorkerProfile;
use crate::policy::llm_leader::{LeaderInput, LeaderYear, OwnStepLine, ask_leader, leader_prompts};

impl Economy {
    /// Keeps every worker's hours, income and utility of the step just settled, for an LLM
    /// leader's prompt: the steps of the last whole tax year and of the current one.
    pub(super) fn remember_own_step(&mut self, step: u64, tax_year: u64) {
        if self
            .governance
            .as_ref()
            .is_none_or(|g| g.leader_llm.is_none())
        {
            return;
        }
        let (Some((_, hours)), Some(s)) = (&self.state.last_hours, &self.last_settlement) else {
            return;
        };
        let own = OwnStep {
            step,
            tax_year,
            hours: hours.clone(),
            incomes: s.incomes.clone(),
            utilities: s.utilities.clone(),
        };
        if let Some(elected) = self.state.governance.as_mut() {
            elected.recent_steps.retain(|t| t.tax_year + 1 >= tax_year);
            elected.recent_steps.push(own);
        }
    }

    /// Keeps last year in the outgoing LLM leader's own history: the rates she set, the
    /// year's welfare, and her own income and utility at its last step.
    pub(super) fn remember_leader_year(&mut self, tax_year: u64, observed_welfare: Option<f64>) {
        if self
            .governance
            .as_ref()
            .is_none_or(|g| g.leader_llm.is_none())
        {
            return;
        }
        let (Some(welfare), Some(s)) = (observed_welfare, self.last_settlement.as_ref()) else {
            return;
        };
        let rates = self
            .state
            .schedule
            .rates()
            .iter()
            .map(|r| (r * 100.0).round() as i32)
            .collect();
        if let Some(elected) = self.state.governance.as_mut()
            && let Some(l) = elected.leader
            && let (Some(&own_income), Some(&own_utility)) =
                (s.incomes.get(l as usize), s.utilities.get(l as usize))
        {
            elected.leader_years.push(LeaderYear {
                tax_year: tax_year.saturating_sub(1),
                leader: l,
                rates,
                welfare,
                own_income,
                own_utility,
            });
        }
    }

    /// Asks LLM leader `l` for this year's move: the DELTA (none after the fallback) and the
    /// exchanges to log.
    pub(super) async fn ask_leader_move(
        &self,
        l: u64,
        step: u64,
        tax_year: u64,
        scope: Option<&RegionScope>,
    ) -> Result<(Option<Vec<i32>>, Vec<crate::frames::LlmExchange>), GameError> {
        let settings = self
            .governance
            .as_ref()
            .and_then(|g| g.leader_llm.as_ref())
            .expect("called with an LLM leader");
        let id = l as usize;
        // A region's leader sees its residents and its own years; the nation's, everyone's.
        let region = scope.and_then(|s| {
            self.state
                .federation
                .as_ref()
                .map(|f| &f.regions[s.region as usize])
        });
        let federal = self.governance.as_ref().is_some_and(|g| g.federal);
        let (incomes, utilities, records) = match region {
            Some(r) => (&r.incomes[..], &r.utilities[..], &r.years[..]),
            None => {
                let (i, u) = self
                    .last_settlement
                    .as_ref()
                    .map_or((&[][..], &[][..]), |s| (&s.incomes[..], &s.utilities[..]));
                // A federal leader's years are the federal layer's (its rates, the nation's
                // figures).
                let federal_years = self
                    .state
                    .federation
                    .as_ref()
                    .and_then(|f| f.federal.as_ref())
                    .filter(|_| federal)
                    .map(|fed| &fed.years[..]);
                (i, u, federal_years.unwrap_or(&self.records[..]))
            }
        };
        let own = self
            .state
            .governance
            .as_ref()
            .map(|g| g.leader_years.iter().filter(|y| y.leader == l).collect())
            .unwrap_or_default();
        // Her steps of the tax year just ended (the one her history ends on).
        let last_year = tax_year.checked_sub(1);
        let steps = self
            .state
            .governance
            .as_ref()
            .map(|g| {
                g.recent_steps
                    .iter()
                    .filter(|t| Some(t.tax_year) == last_year)
                    .filter_map(|t| {
                        Some(OwnStepLine {
                            step: t.step,
                            tax_year: t.tax_year,
                            hours: *t.hours.get(id)?,
                            income: *t.incomes.get(id)?,
                            utility: *t.utilities.get(id)?,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let persona = settings.personas.then(|| {
            crate::econ::persona_text(
                &self.population.person(id).persona,
                self.population.skills[id] * 40.0,
            )
        });
        let input = LeaderInput {
            persona,
            tax_year_length: self.tax_year_length,
            steps,
            me: WorkerProfile {
                id: id as u32,
                skill: self.population.skills[id],
                utility_type: self.population.utility_types[id],
                form: self.params.form,
                max_hours: self.params.max_hours,
            },
            tax_year,
            years_total: self.state.years_total,
            current: &self.state.schedule,
            records,
            incomes,
            utilities,
            own,
        };
        // A template that cannot render stops the run, naming the template.
        let prompts = leader_prompts(settings, &input)
            .map_err(|message| GameError::Replay { step, message })?;
        let brackets = self.state.schedule.num_brackets();
        let role = if federal { "federal_leader" } else { "leader" };
        let got = ask_leader(settings, role, l, step, brackets, prompts).await;
        if let Some(message) = got.fatal {
            return Err(GameError::Replay { step, message });
        }
        Ok((got.value, got.exchanges))
    }
}
