//! The worker actor's agent: a profile and a policy. Each step it receives the schedule (shared
//! by all) and its own last outcome, and answers with its hours.

use simulacra_actors::{Act, Agent};

use crate::frames::LlmExchange;
use crate::policy::{Choice, Feedback, Turn, WorkerPolicy, WorkerProfile, WorkerView};

/// One worker.
pub struct Worker {
    pub profile: WorkerProfile,
    pub policy: Box<dyn WorkerPolicy>,
}

/// A worker's answer to a step.
#[derive(Debug, Default)]
pub struct WorkerReply {
    pub hours: f64,
    /// The LLM exchanges behind the decision (empty for offline policies).
    pub exchanges: Vec<LlmExchange>,
    /// A replay that cannot go on.
    pub fatal: Option<String>,
}

impl Worker {
    /// A policy bug must not reach the world as NaN or out-of-range hours.
    fn sane(&self, hours: f64) -> f64 {
        if hours.is_finite() {
            hours.clamp(0.0, self.profile.max_hours)
        } else {
            0.0
        }
    }
}

impl Agent for Worker {
    type Shared = WorkerView;
    type Private = Option<Feedback>;
    type Output = WorkerReply;
    type Pending = Turn;

    fn act(&mut self, _step: u64, view: &WorkerView, last: Option<Feedback>) -> Act<Self> {
        match self.policy.decide(&self.profile, view, last) {
            Choice::Hours(h) => Act::Ready(WorkerReply {
                hours: self.sane(h),
                ..WorkerReply::default()
            }),
            Choice::Later(fut) => Act::Later(fut),
        }
    }

    fn complete(&mut self, turn: Turn) -> WorkerReply {
        let hours = self.policy.complete(&self.profile, turn.payload);
        WorkerReply {
            hours: self.sane(hours),
            exchanges: turn.exchanges,
            fatal: turn.fatal,
        }
    }
}
