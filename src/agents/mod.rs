//! The actors of the economy: one per worker, and the planner. The scheduler (in the runtime
//! crate) drives them through [`crate::game::Economy`].

pub mod planner;
pub mod worker;

pub use planner::{PlannerActor, ProposeSchedule, ScheduleProposal};
pub use worker::Worker;
