//! Agent policies: the decision rules behind the worker and planner actors. Actors hold a
//! policy and exchange messages; the policy decides. New kinds of agents (LLM workers and
//! planners) implement these traits.

pub mod planner;
pub mod worker;

pub use planner::{FixedSchedule, HillClimb, PlannerInput, PlannerPolicy};
pub use worker::{Bounded, Feedback, Fixed, Rational, WorkerPolicy, WorkerProfile, WorkerView};
