//! The worker actor's agent: a profile and a policy. Each step it receives the schedule (shared
//! by all) and its own last outcome, and answers with its hours.

use simulacra_actors::{Act, Agent};

use crate::policy::{Feedback, WorkerPolicy, WorkerProfile, WorkerView};

/// One worker.
pub struct Worker {
    pub profile: WorkerProfile,
    pub policy: Box<dyn WorkerPolicy>,
}

impl Agent for Worker {
    type Shared = WorkerView;
    type Private = Option<Feedback>;
    type Output = f64;
    type Pending = f64;

    fn act(&mut self, _step: u64, view: &WorkerView, last: Option<Feedback>) -> Act<Self> {
        let hours = self.policy.decide(&self.profile, view, last);
        // A policy bug must not reach the world as NaN or out-of-range hours.
        let hours = if hours.is_finite() {
            hours.clamp(0.0, self.profile.max_hours)
        } else {
            0.0
        };
        Act::Ready(hours)
    }
}
