//! The run's population: each worker's census income, skill, welfare weight, utility type and
//! persona, all derived from the master seed and the population size.
//!
//! Every worker's draws come from her own keyed stream, so the population does not depend on
//! the number of threads that build it and can be rebuilt from a log header. A worker's
//! persona is the same whatever the population size; her income is too under the paper's
//! `independent` model, while under `persona-rank` it is her rank among N sorted GB2 draws,
//! which depends on N.

use serde::Serialize;
use simulacra_actors::StreamKey;

use crate::config::{IncomeModel, Scenario, SkillMode};
use crate::econ::earnings::{rank_match, rank_score, standard_normal, standardised_index};
use crate::econ::{
    Person, Persona, UtilityType, sample_persona, skill_for_income, us_federal_2024,
    welfare_weights,
};
use crate::resolved::ResolvedScenario;
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

/// Runs `f(id)` for every id in `0..n` on all cores; the result does not depend on the
/// thread count because every id's value depends on the id alone.
fn par_map<T, F>(n: usize, f: F) -> Vec<T>
where
    T: Send + Default + Clone,
    F: Fn(usize) -> T + Sync,
{
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let chunk = n.div_ceil(threads).max(1);
    let mut out = vec![T::default(); n];
    std::thread::scope(|scope| {
        for (c, block) in out.chunks_mut(chunk).enumerate() {
            let f = &f;
            scope.spawn(move || {
                for (j, slot) in block.iter_mut().enumerate() {
                    *slot = f(c * chunk + j);
                }
            });
        }
    });
    out
}

/// Worker `id`'s census persona, from her own keyed stream.
fn persona_of(key: &StreamKey, id: usize) -> Persona {
    sample_persona(&mut key.rng(id as u64, 0))
}

/// The census incomes of `scenario`'s workers (annual dollars, by worker id), without skills.
///
/// Every worker draws one GB2 income from her own keyed stream ("income"), so the multiset of
/// incomes is the same under both models. `independent` (the paper's) keeps each draw with its
/// worker; `persona-rank` sorts the draws and hands them out by rank of a persona-conditioned
/// score (`econ::earnings`), with the idiosyncratic normal from the keyed stream "income-rank".
pub fn census_incomes(scenario: &Scenario) -> Vec<f64> {
    let n = scenario.simulation.num_agents;
    let seed = scenario.simulation.seed;
    let gb2 = scenario.economy.income;
    let income_key = StreamKey::new(seed, "income");
    let draws = par_map(n, |id| {
        // An open-interval uniform: the GB2 quantile is infinite at 1 and 0 at 0.
        let p: f64 = income_key.rng(id as u64, 0).random_range(f64::EPSILON..1.0);
        gb2.quantile(p)
    });
    match scenario.population.income_model {
        IncomeModel::Independent => draws,
        IncomeModel::PersonaRank => {
            let weight = scenario.population.persona_weight;
            let persona_key = StreamKey::new(seed, "persona");
            let noise_key = StreamKey::new(seed, "income-rank");
            let scores = par_map(n, |id| {
                // Personas always come from the census table, whose every label has a SOC
                // group (tested); an unknown one would rank on its noise alone.
                let x = standardised_index(&persona_of(&persona_key, id)).unwrap_or(0.0);
                let mut rng = noise_key.rng(id as u64, 0);
                let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]: ln stays finite
                let u2: f64 = rng.random();
                rank_score(x, weight, standard_normal(u1, u2))
            });
            rank_match(draws, &scores)
        }
    }
}

impl Population {
    /// Builds the population of `scenario` (in parallel; the result does not depend on the
    /// thread count).
    pub fn generate(scenario: &ResolvedScenario) -> Population {
        let n = scenario.simulation.num_agents;
        let seed = scenario.simulation.seed;
        let form = scenario.form();
        let max_hours = scenario.economy.max_hours;
        let mode = scenario.economy.skills;
        let us2024 = us_federal_2024();

        let census_incomes = census_incomes(scenario);
        let skills = par_map(n, |id| {
            let income = census_incomes[id];
            match mode {
                SkillMode::Calibrated => skill_for_income(&form, income, &us2024, max_hours),
                SkillMode::IncomeOver40 => income / 40.0,
            }
        });
        let weights = welfare_weights(scenario.world.welfare, &skills);
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
        persona_of(&StreamKey::new(self.seed, "persona"), id)
    }

    /// Every worker's persona, by id.
    pub fn personas(&self) -> Vec<Persona> {
        let key = StreamKey::new(self.seed, "persona");
        (0..self.len()).map(|id| persona_of(&key, id)).collect()
    }

    /// Worker `id`'s persona with her census income: what a prompt should describe.
    pub fn person(&self, id: usize) -> Person {
        Person {
            persona: self.persona(id),
            income: self.census_incomes[id],
        }
    }

    /// Everything about worker `id`.
    pub fn card(&self, id: usize) -> AgentCard {
        let person = self.person(id);
        AgentCard {
            id,
            income: person.income,
            skill: self.skills[id],
            occupation: person.persona.occupation.clone(),
            sex: format!("{:?}", person.persona.sex).to_lowercase(),
            age: person.persona.age,
            utility_type: self.utility_types[id],
            welfare_weight: self.weights[id],
            persona: person.text(),
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

    fn scenario(n: usize, seed: u64) -> ResolvedScenario {
        let mut s = Scenario::default();
        s.simulation.num_agents = n;
        s.simulation.seed = seed;
        ResolvedScenario::new(s).unwrap()
    }

    fn independent(n: usize, seed: u64) -> ResolvedScenario {
        scenario(n, seed)
            .with_changes(|s| s.population.income_model = IncomeModel::Independent)
            .unwrap()
    }

    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        v
    }

    #[test]
    fn an_independent_worker_is_the_same_person_in_any_population_size() {
        let small = Population::generate(&independent(10, 3));
        let large = Population::generate(&independent(1000, 3));
        assert_eq!(small.skills[..], large.skills[..10]);
        assert_eq!(small.census_incomes[..], large.census_incomes[..10]);
        assert_eq!(small.persona(7), large.persona(7));
    }

    #[test]
    fn persona_rank_keeps_personas_and_permutes_the_same_draws() {
        // What does hold under rank matching: personas do not depend on N, and the incomes
        // are exactly the independent draws, reordered.
        let small = Population::generate(&scenario(10, 3));
        let large = Population::generate(&scenario(1000, 3));
        assert_eq!(small.personas()[..], large.personas()[..10]);
        assert_eq!(
            sorted(large.census_incomes.clone()),
            sorted(census_incomes(&independent(1000, 3)))
        );
        assert_ne!(large.census_incomes, census_incomes(&independent(1000, 3)));
    }

    #[test]
    fn weight_one_orders_incomes_by_persona_alone() {
        let s = scenario(2000, 4)
            .with_changes(|s| s.population.persona_weight = 1.0)
            .unwrap();
        let pop = Population::generate(&s);
        let index: Vec<f64> = pop
            .personas()
            .iter()
            .map(|p| standardised_index(p).unwrap())
            .collect();
        for i in 0..pop.len() {
            for j in 0..pop.len() {
                if index[i] > index[j] {
                    assert!(pop.census_incomes[i] >= pop.census_incomes[j], "{i} {j}");
                }
            }
        }
    }

    #[test]
    fn person_text_carries_the_assigned_income() {
        let pop = Population::generate(&scenario(50, 8));
        let person = pop.person(17);
        assert_eq!(person.income, pop.census_incomes[17]);
        assert_eq!(pop.card(17).persona, person.text());
        let dollars = format!("{:.0}", person.income.round());
        assert!(person.text().replace(',', "").contains(&dollars));
    }

    /// The checks on 10^6 agents at the default weight (seed 42). The incomes come from
    /// `census_incomes`, the exact income stage of `Population::generate` (skill calibration,
    /// which cannot change incomes, is skipped to keep the test fast in debug builds).
    #[test]
    fn a_million_agents_keep_the_gb2_marginal_and_the_published_ratios() {
        let s = scenario(1_000_000, 42);
        let gb2 = s.economy.income;
        let incomes = census_incomes(&s);
        let key = StreamKey::new(42, "persona");
        let personas: Vec<Persona> = (0..incomes.len()).map(|id| persona_of(&key, id)).collect();

        let at = |q: f64| {
            let mut ys = incomes.clone();
            let k = ((q * ys.len() as f64) as usize).min(ys.len() - 1);
            *ys.select_nth_unstable_by(k, f64::total_cmp).1
        };
        for (q, tol) in [
            (0.1, 0.05),
            (0.25, 0.02),
            (0.5, 0.02),
            (0.75, 0.02),
            (0.9, 0.02),
        ] {
            let (got, want) = (at(q), gb2.quantile(q));
            assert!((got / want - 1.0).abs() < tol, "p{q}: {got} vs {want}");
        }
        let mean = incomes.iter().sum::<f64>() / incomes.len() as f64;
        let want = gb2.mean().unwrap();
        assert!((mean / want - 1.0).abs() < 0.02, "mean {mean} vs {want}");

        let report = crate::econ::earnings::calibration_report(&personas, &incomes);
        let headline = |k: usize| {
            (
                report.headline[k].simulated.unwrap(),
                report.headline[k].published,
            )
        };
        // Management / Food preparation (OEWS 3.625): within 10 %.
        let (sim, publ) = headline(0);
        assert!(
            (sim / publ - 1.0).abs() < 0.10,
            "management/food {sim} vs {publ}"
        );
        // Women / men (CPS full-time 0.836): within 5 %.
        let (sim, publ) = headline(1);
        assert!((sim / publ - 1.0).abs() < 0.05, "women/men {sim} vs {publ}");
        // Ages 16-24 / 35-44 (CPS full-time 0.571): at most 5 % above and 20 % below; below
        // is expected, young workers work fewer hours than the full-time figure assumes.
        let (sim, publ) = headline(2);
        assert!(
            (0.80..1.05).contains(&(sim / publ)),
            "16-24/35-44 {sim} vs {publ}"
        );

        // No 16-24 food-preparation worker above the GB2's 99.9th percentile.
        let p999 = gb2.quantile(0.999);
        let young_food = personas
            .iter()
            .zip(&incomes)
            .filter(|(p, _)| p.occupation == "Food preparation and serving" && p.age <= 24);
        let (count, top) = young_food.fold((0usize, 0.0f64), |(c, m), (_, &y)| (c + 1, m.max(y)));
        assert!(count > 10_000, "{count} young food workers");
        assert!(
            top < p999,
            "a young food worker earns {top} >= p99.9 {p999}"
        );
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
        let form = s.form();
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
