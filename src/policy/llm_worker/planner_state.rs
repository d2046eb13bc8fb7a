//! The planner's state as altruistic and adversarial workers are told it (the reference hands
//! them the planner's observation): the last step's pre-tax incomes per bracket, its utilities
//! in ten bins, their mean, median and spread, and its welfare, each sentence naming its step,
//! tax year and unit. Rendered into `worker_user.j2` when the game supplies the state.

use serde_json::{Value, json};

use crate::llm::prompts::percent_list;
use crate::policy::llm_planner::LlmPlanner;
pub use crate::policy::worker::PlannerState;

/// The template context of `s` (`planner_state` in `worker_user.j2`).
pub fn planner_state_context(s: &PlannerState) -> Value {
    let (im, imed, isd) = LlmPlanner::describe(&s.incomes);
    let (um, umed, usd) = LlmPlanner::describe(&s.utilities);
    json!({
        "step": s.step, "tax_year": s.tax_year, "rates": percent_list(s.schedule.rates()),
        "workers": s.incomes.len(),
        "income_histogram": LlmPlanner::income_histogram(s.schedule.cutoffs(), &s.incomes),
        "utility_histogram": LlmPlanner::utility_histogram(&s.utilities),
        "income_mean": im, "income_median": imed, "income_std": isd,
        "utility_mean": um, "utility_median": umed, "utility_std": usd,
        "welfare": format!("{:.4}", s.welfare),
    })
}
