//! The planner actor: holds a planner policy and answers one `ProposeSchedule` per tax year.

use actix::fut::wrap_future;
use actix::prelude::*;

use crate::econ::TaxSchedule;
use crate::frames::LlmExchange;
use crate::policy::{PlannerAct, PlannerInput, PlannerPolicy};

/// The leader of the Stackelberg game.
pub struct PlannerActor {
    policy: Box<dyn PlannerPolicy>,
}

impl PlannerActor {
    pub fn new(policy: Box<dyn PlannerPolicy>) -> Self {
        PlannerActor { policy }
    }
}

impl Actor for PlannerActor {
    type Context = Context<Self>;
}

/// Asks for the schedule of the coming tax year.
pub struct ProposeSchedule(pub PlannerInput);

/// The planner's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleProposal {
    pub policy: &'static str,
    pub schedule: TaxSchedule,
    /// The LLM exchanges behind the move (empty for offline planners).
    pub exchanges: Vec<LlmExchange>,
    /// A replay that cannot go on.
    pub fatal: Option<String>,
}

impl Message for ProposeSchedule {
    type Result = ScheduleProposal;
}

impl Handler<ProposeSchedule> for PlannerActor {
    type Result = AtomicResponse<Self, ScheduleProposal>;

    fn handle(&mut self, msg: ProposeSchedule, _ctx: &mut Context<Self>) -> Self::Result {
        let policy = self.policy.name();
        match self.policy.propose(&msg.0) {
            PlannerAct::Now(schedule) => {
                let proposal = ScheduleProposal {
                    policy,
                    schedule,
                    exchanges: Vec::new(),
                    fatal: None,
                };
                AtomicResponse::new(Box::pin(actix::fut::ready(proposal)))
            }
            // The mailbox waits while the planner thinks: one move per tax year, in order.
            PlannerAct::Later(fut) => AtomicResponse::new(Box::pin(
                wrap_future::<_, Self>(fut).map(move |turn, actor, _| ScheduleProposal {
                    policy,
                    schedule: actor.policy.complete(turn.payload),
                    exchanges: turn.exchanges,
                    fatal: turn.fatal,
                }),
            )),
        }
    }
}

/// Asks for the planner's memory (for a snapshot, between tax years).
pub struct SavePlanner;

impl Message for SavePlanner {
    type Result = Vec<u8>;
}

impl Handler<SavePlanner> for PlannerActor {
    type Result = MessageResult<SavePlanner>;

    fn handle(&mut self, _: SavePlanner, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(self.policy.save())
    }
}

/// Gives a freshly started planner back the memory a snapshot kept.
pub struct RestorePlanner(pub Vec<u8>);

impl Message for RestorePlanner {
    type Result = Result<(), String>;
}

impl Handler<RestorePlanner> for PlannerActor {
    type Result = Result<(), String>;

    fn handle(&mut self, msg: RestorePlanner, _ctx: &mut Context<Self>) -> Self::Result {
        self.policy.restore(&msg.0)
    }
}
