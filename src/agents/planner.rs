//! The planner actor: holds a planner policy and answers one `ProposeSchedule` per tax year.

use actix::prelude::*;

use crate::econ::TaxSchedule;
use crate::policy::{PlannerInput, PlannerPolicy};

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
}

impl Message for ProposeSchedule {
    type Result = ScheduleProposal;
}

impl Handler<ProposeSchedule> for PlannerActor {
    type Result = MessageResult<ProposeSchedule>;

    fn handle(&mut self, msg: ProposeSchedule, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(ScheduleProposal {
            policy: self.policy.name(),
            schedule: self.policy.propose(&msg.0),
        })
    }
}
