//! Which model, sampling settings and endpoint pool each request uses: a role's own settings
//! (`[llm.ROLE]`), else the model of the worker asking in a population that mixes models by
//! share (`workers.models`), else the `[llm]` ones.
//!
//! A mixed population's assignment is a pure function of (shares, worker count, seed): the
//! counts are the largest-remainder apportionment of the shares, and workers take the models
//! in the order of a seeded hash of their id, so the models do not follow the id order (nor
//! anything the population generator correlates with it).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{BaseUrls, LLM_ROLES, ResponseFormat, Scenario};

/// Workers per model: the largest-remainder apportionment of `shares` (summing to 1) over
/// `workers` (ties go to the earlier model).
pub fn apportion(shares: &[f64], workers: usize) -> Vec<usize> {
    let exact: Vec<f64> = shares.iter().map(|s| s * workers as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut left = workers.saturating_sub(counts.iter().sum());
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().cycle().take(shares.len().max(1) * 2) {
        if left == 0 {
            break;
        }
        counts[i] += 1;
        left -= 1;
    }
    counts
}

/// Each worker's model index.
pub fn assign(shares: &[f64], workers: usize, seed: u64) -> Vec<u16> {
    let counts = apportion(shares, workers);
    let mut order: Vec<(u64, u32)> = (0..workers as u32)
        .map(|id| (super::pool::mix(seed ^ super::pool::mix(u64::from(id))), id))
        .collect();
    order.sort_unstable();
    let mut model = vec![0u16; workers];
    let mut at = 0;
    for (m, &n) in counts.iter().enumerate() {
        for &(_, id) in &order[at..at + n] {
            model[id as usize] = m as u16;
        }
        at += n;
    }
    model
}

/// A role's settings as the gateway applies them (`None`: the `[llm]` one).
#[derive(Clone, Debug, Default)]
pub struct RoleSettings {
    pub model: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub response_format: Option<ResponseFormat>,
    /// Index into [`Routes::pools`].
    pub pool: Option<usize>,
}

/// Every request's model and pool, resolved once for the run.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    pub roles: BTreeMap<String, RoleSettings>,
    /// The models of a mixed population and their pools (empty: one model).
    pub worker_models: Vec<(String, Option<usize>)>,
    /// Each worker's index into `worker_models`.
    pub assignment: Arc<Vec<u16>>,
    /// The endpoint pools' base URLs; pool 0 is `llm.base_url`.
    pub pools: Vec<Vec<String>>,
}

fn urls(b: &BaseUrls) -> Vec<String> {
    match b {
        BaseUrls::One(u) => vec![u.clone()],
        BaseUrls::Many(v) => v.clone(),
    }
}

impl Routes {
    /// The routes of `scenario`.
    pub fn of(scenario: &Scenario) -> Routes {
        let l = &scenario.llm;
        let mut pools = vec![l.base_urls()];
        let mut pool_of = |b: &Option<BaseUrls>| {
            b.as_ref().map(|b| {
                let list = urls(b);
                pools.iter().position(|p| *p == list).unwrap_or_else(|| {
                    pools.push(list);
                    pools.len() - 1
                })
            })
        };
        let mut roles = BTreeMap::new();
        for role in LLM_ROLES {
            if let Some(o) = l.role(role) {
                roles.insert(
                    role.to_string(),
                    RoleSettings {
                        model: o.model.clone(),
                        temperature: o.temperature,
                        max_tokens: o.max_tokens,
                        response_format: o.response_format,
                        pool: pool_of(&o.base_url),
                    },
                );
            }
        }
        let models = &scenario.workers.models;
        let worker_models = models
            .iter()
            .map(|m| (m.model.clone(), pool_of(&m.base_url)))
            .collect();
        let assignment = if models.is_empty() {
            Vec::new()
        } else {
            let shares: Vec<f64> = models.iter().map(|m| m.share).collect();
            assign(
                &shares,
                scenario.simulation.num_agents,
                scenario.simulation.seed,
            )
        };
        Routes {
            roles,
            worker_models,
            assignment: Arc::new(assignment),
            pools,
        }
    }

    /// The model of worker `agent` in a mixed population (none otherwise).
    pub fn worker_model(&self, agent: u64) -> Option<&(String, Option<usize>)> {
        let m = *self.assignment.get(usize::try_from(agent).ok()?)?;
        self.worker_models.get(usize::from(m))
    }

    /// Every pool's URL once, in order of first appearance: the endpoints of the run.
    pub fn all_urls(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for u in self.pools.iter().flatten() {
            if !all.contains(u) {
                all.push(u.clone());
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_apportioned_exactly_by_largest_remainder() {
        assert_eq!(apportion(&[0.5, 0.5], 5), vec![3, 2]);
        assert_eq!(apportion(&[0.2, 0.3, 0.5], 7), vec![1, 2, 4]);
        assert_eq!(apportion(&[1.0 / 3.0; 3], 10), vec![4, 3, 3]);
        assert_eq!(apportion(&[0.1, 0.9], 0), vec![0, 0]);
        for n in [1, 2, 9, 100, 1001] {
            assert_eq!(apportion(&[0.25, 0.25, 0.5], n).iter().sum::<usize>(), n);
        }
    }

    #[test]
    fn workers_take_models_by_a_seeded_hash_of_their_id() {
        let a = assign(&[0.5, 0.5], 1000, 7);
        assert_eq!(a.iter().filter(|&&m| m == 0).count(), 500);
        assert_eq!(a, assign(&[0.5, 0.5], 1000, 7), "deterministic");
        assert_ne!(a, assign(&[0.5, 0.5], 1000, 8), "the seed matters");
        // Not in id blocks: both halves of the ids hold both models in about equal numbers.
        let low = a[..500].iter().filter(|&&m| m == 0).count();
        assert!((200..300).contains(&low), "{low}");
    }
}
