//! The run's population: each worker's census income draw, skill, welfare weight, utility type
//! and persona, all derived from (master seed, worker id) alone.
//!
//! Because every worker's draws come from her own keyed stream, worker i is the same person
//! whatever the population size or the number of threads used to build it, and the whole
//! population can be rebuilt from a log header.

use serde::Serialize;
use simulacra_actors::StreamKey;

use crate::config::{Scenario, SkillMode};
use crate::econ::{
    Persona, UtilityType, persona_text, sample_persona, skill_for_income, us_federal_2024,
    welfare_weights,
};
use rand::RngExt;

/// The population of a run (indexed by worker id).
#[derive(Clone, Debug)]
pub struct Population {
    /// Annual income drawn from the scenario's GB2 (dollars; the census income at 40 h).
    pub census_incomes: Vec<f64>,
    /// Dollars per hour.
    pub skills: Vec<f64>,
    /// The welfare function's exogenous weights (mean 1 for inverse-potential-income).
    pub weights: Vec<f64>,
    pub utility_types: Vec<UtilityType>,
    seed: u64,
}

/// One worker, as `simulacra econ population` prints her.
#[derive(Clone, Debug, Serialize)]
pub struct AgentCard {
    pub id: usize,
    pub income: f64,
    pub skill: f64,
    pub occupation: String,
    pub sex: String,
    pub age: u8,
    pub utility_type: UtilityType,
    pub welfare_weight: f64,
    pub persona: String,
}

impl Population {
    /// Builds the population of `scenario` (in parallel; the result does not depend on the
    /// thread count).
    pub fn generate(scenario: &Scenario) -> Population {
        let n = scenario.simulation.num_agents;
        let seed = scenario.simulation.seed;
        let gb2 = scenario.economy.income;
        let form = scenario.utility_form();
        let max_hours = scenario.economy.max_hours;
        let mode = scenario.economy.skills;
        let us2024 = us_federal_2024();
        let key = StreamKey::new(seed, "income");

        let person = |id: usize| -> (f64, f64) {
            // An open-interval uniform: the GB2 quantile is infinite at 1 and 0 at 0.
            let p: f64 = key.rng(id as u64, 0).random_range(f64::EPSILON..1.0);
            let income = gb2.quantile(p);
            let skill = match mode {
                SkillMode::Calibrated => skill_for_income(&form, income, &us2024, max_hours),
                SkillMode::IncomeOver40 => income / 40.0,
            };
            (income, skill)
        };

        let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
        let chunk = n.div_ceil(threads).max(1);
        let mut pairs = vec![(0.0, 0.0); n];
        std::thread::scope(|scope| {
            for (c, block) in pairs.chunks_mut(chunk).enumerate() {
                let person = &person;
                scope.spawn(move || {
                    for (j, slot) in block.iter_mut().enumerate() {
                        *slot = person(c * chunk + j);
                    }
                });
            }
        });
        let (census_incomes, skills): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let weights = welfare_weights(scenario.welfare_kind(), &skills);
        let utility_types = assign_types(
            seed,
            n,
            scenario.workers.altruistic_share,
            scenario.workers.adversarial_share,
        );
        Population {
            census_incomes,
            skills,
            weights,
            utility_types,
            seed,
        }
    }

    pub fn len(&self) -> usize {
        self.skills.len()
    }

    pub fn is_empty(&self) -> bool {
        self.skills.is_empty()
    }

    /// Worker `id`'s census persona (occupation group, sex, age), drawn from her own stream.
    pub fn persona(&self, id: usize) -> Persona {
        sample_persona(&mut StreamKey::new(self.seed, "persona").rng(id as u64, 0))
    }

    /// Everything about worker `id`.
    pub fn card(&self, id: usize) -> AgentCard {
        let persona = self.persona(id);
        AgentCard {
            id,
            income: self.census_incomes[id],
            skill: self.skills[id],
            occupation: persona.occupation.clone(),
            sex: format!("{:?}", persona.sex).to_lowercase(),
            age: persona.age,
            utility_type: self.utility_types[id],
            welfare_weight: self.weights[id],
            persona: persona_text(&persona, self.census_incomes[id]),
        }
    }
}

/// Exactly round(share * n) altruistic and adversarial workers, the rest egotistical; who gets
/// which type is decided by a keyed draw per worker (the lowest draws), so it is a seeded
/// shuffle that does not depend on iteration order.
fn assign_types(seed: u64, n: usize, altruistic: f64, adversarial: f64) -> Vec<UtilityType> {
    let mut types = vec![UtilityType::Egotistical; n];
    let n_alt = (altruistic * n as f64).round() as usize;
    let n_adv = ((adversarial * n as f64).round() as usize).min(n - n_alt.min(n));
    if n_alt + n_adv == 0 {
        return types;
    }
    let key = StreamKey::new(seed, "utility-type");
    let mut order: Vec<(u64, usize)> = (0..n)
        .map(|id| (key.rng(id as u64, 0).random::<u64>(), id))
        .collect();
    order.sort_unstable();
    for (rank, &(_, id)) in order.iter().enumerate() {
        if rank < n_alt {
            types[id] = UtilityType::Altruistic;
        } else if rank < n_alt + n_adv {
            types[id] = UtilityType::Adversarial;
        }
    }
    types
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(n: usize, seed: u64) -> Scenario {
        let mut s = Scenario::default();
        s.simulation.num_agents = n;
        s.simulation.seed = seed;
        s
    }

    #[test]
    fn a_worker_is_the_same_person_in_any_population_size() {
        let small = Population::generate(&scenario(10, 3));
        let large = Population::generate(&scenario(1000, 3));
        assert_eq!(small.skills[..], large.skills[..10]);
        assert_eq!(small.census_incomes[..], large.census_incomes[..10]);
        assert_eq!(small.persona(7), large.persona(7));
    }

    #[test]
    fn different_seeds_give_different_people() {
        let a = Population::generate(&scenario(10, 1));
        let b = Population::generate(&scenario(10, 2));
        assert_ne!(a.census_incomes, b.census_incomes);
    }

    #[test]
    fn calibrated_skills_reproduce_census_incomes_under_the_us_schedule() {
        let s = scenario(200, 5);
        let pop = Population::generate(&s);
        let form = s.utility_form();
        let us = us_federal_2024();
        for (y, v) in pop.census_incomes.iter().zip(&pop.skills) {
            let z = v * crate::econ::best_response(&form, *v, &us, 0.0, 100.0);
            assert!((z - y).abs() <= 1e-6 * y.max(1.0), "income {y} -> {z}");
        }
    }

    #[test]
    fn type_shares_are_exact() {
        let types = assign_types(9, 101, 0.2, 0.1);
        let alt = types
            .iter()
            .filter(|t| **t == UtilityType::Altruistic)
            .count();
        let adv = types
            .iter()
            .filter(|t| **t == UtilityType::Adversarial)
            .count();
        assert_eq!((alt, adv), (20, 10));
    }
}
