//! The actors of the economy: one per worker, the planner, and the voting coordinator. The scheduler (in the runtime
//! crate) drives them through [`crate::game::Economy`].

pub mod coordinator;
pub mod planner;
pub mod worker;

pub use coordinator::{CountBallots, VotingCoordinator};
pub use planner::{PlannerActor, ProposeSchedule, ScheduleProposal};
pub use worker::{CallKind, RegionalViews, ReplyExtra, Worker, WorkerCall, WorkerReply};
