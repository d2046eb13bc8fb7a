//! `[workers]`: the workers' decision policy, their shares of altruistic and adversarial types,
//! personas, and a mixed-model LLM population (`workers.models`) with its check.

use serde::{Deserialize, Serialize};

use super::{BaseUrls, ConfigError, Scenario, check_base_urls, compact, invalid};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerPolicyName {
    /// The exact best response.
    Rational,
    /// An in-context learner over its own history (the offline stand-in for an LLM worker).
    Bounded,
    /// Always the same hours.
    Fixed,
    /// A language model chooses, in context, from its own history (see `[llm]`).
    Llm,
}

/// Whether workers carry a persona text, and where it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PersonaSource {
    /// No persona in prompts (the paper's `rational` scenario).
    None,
    /// The deterministic census template.
    Template,
    /// Written by the LLM once per agent from its census draw, the template as fallback.
    Llm,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workers {
    pub policy: WorkerPolicyName,
    /// Hours of `fixed` workers.
    pub fixed_hours: f64,
    /// Share of workers whose utility is last step's welfare (the paper's altruistic type).
    pub altruistic_share: f64,
    /// Share of workers whose utility is minus last step's welfare.
    pub adversarial_share: f64,
    /// `bounded`: steps spent exploring after each schedule change.
    pub explore_steps: u32,
    /// `bounded`: probability of a random exploratory choice after exploring.
    pub exploration_rate: f64,
    /// `llm`: persona texts in the worker prompts.
    pub personas: PersonaSource,
    /// `llm`: ask every worker each step whether she is satisfied with the tax policy; a "no"
    /// halves the utility she perceives (the paper's bounded scenario).
    pub satisfaction: bool,
    /// `llm`: a population mixing models by share (empty = every worker on `llm.model`).
    /// Workers are assigned by id, deterministically (see [`crate::llm::models`]). Left out of
    /// the log header when empty, so headers of runs on one model keep their bytes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<WorkerModel>,
}

/// One model of a mixed worker population: `{ model = "a", share = 0.5, base_url = "..." }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerModel {
    pub model: String,
    /// Its share of the workers; the shares sum to 1.
    pub share: f64,
    /// The server (or pool) these workers ask, when not `llm.base_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<BaseUrls>,
}

impl Default for Workers {
    fn default() -> Self {
        Workers {
            policy: WorkerPolicyName::Rational,
            fixed_hours: 40.0,
            altruistic_share: 0.0,
            adversarial_share: 0.0,
            explore_steps: 6,
            exploration_rate: 0.05,
            personas: PersonaSource::None,
            satisfaction: false,
            models: Vec::new(),
        }
    }
}

impl Scenario {
    /// Checks `workers.models` (called from the `[llm]` checks, in their order).
    pub(super) fn validate_worker_models(&self) -> Result<(), ConfigError> {
        let models = &self.workers.models;
        if models.is_empty() {
            return Ok(());
        }
        if self.workers.policy != WorkerPolicyName::Llm {
            return Err(invalid(
                "workers.models",
                "mixes the models of LLM workers: set workers.policy = \"llm\", or leave it out",
            ));
        }
        for m in models {
            if m.model.is_empty() {
                return Err(invalid("workers.models", "every entry names a model"));
            }
            if !(m.share.is_finite() && m.share > 0.0 && m.share <= 1.0) {
                return Err(invalid(
                    "workers.models",
                    format!(
                        "the share of {:?} must be within (0, 1], got {}",
                        m.model,
                        compact(m.share)
                    ),
                ));
            }
            if let Some(u) = &m.base_url {
                check_base_urls("workers.models", u)?;
            }
        }
        let sum: f64 = models.iter().map(|m| m.share).sum();
        if (sum - 1.0).abs() > 1e-9 {
            return Err(invalid(
                "workers.models",
                format!("the shares sum to {sum}; they must sum to 1"),
            ));
        }
        if models.len() > u16::MAX as usize {
            return Err(invalid("workers.models", "at most 65535 models"));
        }
        Ok(())
    }
}
