//! Agent policies: the decision rules behind the worker and planner actors. Actors hold a
//! policy and exchange messages; the policy decides. New kinds of agents (LLM workers and
//! planners) implement these traits.

pub mod llm_leader;
pub mod llm_planner;
pub mod llm_worker;
pub mod planner;
pub mod worker;

pub use llm_planner::LlmPlanner;
pub use llm_worker::{LlmWorker, PlannerState};
pub use planner::{
    FixedSchedule, HillClimb, PlannerAct, PlannerInput, PlannerPolicy, YearObservation,
};
pub use worker::{
    Bounded, Choice, Feedback, Fixed, LeaderNews, MoveView, Rational, RegionOffer, Turn,
    WorkerPolicy, WorkerProfile, WorkerView,
};
