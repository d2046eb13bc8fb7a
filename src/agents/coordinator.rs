//! The voting-coordinator actor: it owns the voting rule and the election's random stream, and
//! counts the ballots the game gathered from every worker. The tie-breaking stream is keyed by
//! (seed, "election", tax year), so a count never depends on anything but its ballots.

use actix::prelude::*;
use simulacra_actors::StreamKey;

use crate::governance::{Ballot, CandidateId, Count, VotingRule};

pub struct VotingCoordinator {
    rule: Box<dyn VotingRule>,
    key: StreamKey,
}

impl VotingCoordinator {
    pub fn new(rule: Box<dyn VotingRule>, seed: u64) -> Self {
        VotingCoordinator {
            rule,
            key: StreamKey::new(seed, "election"),
        }
    }
}

impl Actor for VotingCoordinator {
    type Context = Context<Self>;
}

/// Count these ballots over these candidates (sorted by id, never empty).
pub struct CountBallots {
    pub tax_year: u64,
    pub candidates: Vec<CandidateId>,
    pub ballots: Vec<Ballot>,
}

impl Message for CountBallots {
    type Result = Count;
}

impl Handler<CountBallots> for VotingCoordinator {
    type Result = MessageResult<CountBallots>;

    fn handle(&mut self, msg: CountBallots, _ctx: &mut Context<Self>) -> Self::Result {
        let mut rng = self.key.rng(0, msg.tax_year);
        MessageResult(self.rule.count(&msg.candidates, &msg.ballots, &mut rng))
    }
}
