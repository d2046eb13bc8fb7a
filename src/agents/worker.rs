//! The worker actor's agent: a profile and a policy. Each step it receives the schedule (shared
//! by all) and its own last outcome, and answers with its hours.

use simulacra_actors::{Act, Agent, Remember};

use std::sync::Arc;

use crate::frames::LlmExchange;
use crate::governance::Ballot;
use crate::governance::election::ElectionView;
use crate::governance::liquid::LiquidVote;
use crate::policy::{Choice, Feedback, MoveView, Turn, WorkerPolicy, WorkerProfile, WorkerView};

/// What the game asks every worker.
#[derive(Clone, Debug)]
pub enum WorkerCall {
    /// Choose this step's hours.
    Step(WorkerView),
    /// An election: stand or not, and on which platform.
    Stand(Arc<ElectionView>),
    /// An election: cast a ballot over the candidates.
    Vote(Arc<ElectionView>),
    /// A liquid election: cast a ballot, or delegate the vote to another voter.
    LiquidVote(Arc<ElectionView>),
    /// A federation's step: each worker decides under her own region's view.
    StepIn(Arc<RegionalViews>),
    /// A federation's tax year: where to live.
    Move(Arc<MoveView>),
    /// A question for one region's residents only: the others answer nothing.
    Residents {
        region: u32,
        region_of: Arc<Vec<u32>>,
        call: Box<WorkerCall>,
    },
}

/// A federation's step: one view per region, and where each worker lives (by id).
#[derive(Clone, Debug)]
pub struct RegionalViews {
    pub views: Vec<WorkerView>,
    pub region_of: Vec<u32>,
}

/// Which question a pending exchange answers.
#[derive(Clone, Copy, Debug)]
pub enum CallKind {
    Step,
    Stand,
    Vote,
    LiquidVote,
    Move,
}

/// One worker.
pub struct Worker {
    pub profile: WorkerProfile,
    pub policy: Box<dyn WorkerPolicy>,
}

/// A worker's answer. Kept to 16 bytes on the hot path (a million of them per step): the
/// rare parts (election answers, LLM exchanges, a replay failure) live behind one box.
#[derive(Debug, Default)]
pub struct WorkerReply {
    pub hours: f64,
    pub extra: Option<Box<ReplyExtra>>,
}

/// The rare parts of a reply.
#[derive(Debug, Default)]
pub struct ReplyExtra {
    /// Her candidacy (option, gain), when asked to stand.
    pub platform: Option<(usize, f64)>,
    /// Her ballot, when asked to vote (none: she abstained or her answer was unusable).
    pub ballot: Option<Ballot>,
    /// The voter she delegated to, in a liquid election.
    pub delegate: Option<u64>,
    /// Her region, when asked where to live (none: the offline rule decides).
    pub region: Option<u32>,
    /// The LLM exchanges behind the answer (empty for offline policies).
    pub exchanges: Vec<LlmExchange>,
    /// A replay that cannot go on.
    pub fatal: Option<String>,
}

impl WorkerReply {
    fn with(extra: ReplyExtra) -> Self {
        WorkerReply {
            hours: 0.0,
            extra: Some(Box::new(extra)),
        }
    }

    /// A replay failure carried by this reply.
    pub fn fatal(&self) -> Option<&String> {
        self.extra.as_ref().and_then(|e| e.fatal.as_ref())
    }

    /// The rare parts, taken out (empty if none).
    pub fn into_extra(self) -> ReplyExtra {
        self.extra.map(|b| *b).unwrap_or_default()
    }
}

/// A liquid vote as the reply's fields: a ballot, a delegate, or neither (an abstention).
fn liquid_extra(vote: LiquidVote) -> ReplyExtra {
    let (ballot, delegate) = match vote {
        LiquidVote::Direct(b) => (Some(b), None),
        LiquidVote::Delegate(to) => (None, Some(to)),
        LiquidVote::Abstain => (None, None),
    };
    ReplyExtra {
        ballot,
        delegate,
        ..ReplyExtra::default()
    }
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

impl Worker {
    /// This step's hours under `view`.
    fn decide(&mut self, view: &WorkerView, last: Option<Feedback>) -> Act<Self> {
        match self.policy.decide(&self.profile, view, last) {
            Choice::Now(h) => Act::Ready(WorkerReply {
                hours: self.sane(h),
                ..WorkerReply::default()
            }),
            Choice::Later(fut) => Act::Later(Box::pin(async move { (CallKind::Step, fut.await) })),
        }
    }
}

impl Agent for Worker {
    type Shared = WorkerCall;
    type Private = Option<Feedback>;
    type Output = WorkerReply;
    type Pending = (CallKind, Turn);

    fn act(&mut self, _step: u64, call: &WorkerCall, last: Option<Feedback>) -> Act<Self> {
        let later =
            |kind: CallKind, fut: std::pin::Pin<Box<dyn std::future::Future<Output = Turn>>>| {
                Act::Later(Box::pin(async move { (kind, fut.await) }))
            };
        match call {
            WorkerCall::StepIn(r) => {
                let view = &r.views[r.region_of[self.profile.id as usize] as usize];
                self.decide(view, last)
            }
            WorkerCall::Residents {
                region,
                region_of,
                call,
            } => {
                if region_of[self.profile.id as usize] == *region {
                    self.act(_step, call, last)
                } else {
                    Act::Ready(WorkerReply::with(ReplyExtra::default()))
                }
            }
            WorkerCall::Step(view) => self.decide(view, last),
            WorkerCall::Stand(e) => match self.policy.stand(&self.profile, e) {
                Choice::Now(platform) => Act::Ready(WorkerReply::with(ReplyExtra {
                    platform,
                    ..ReplyExtra::default()
                })),
                Choice::Later(fut) => later(CallKind::Stand, fut),
            },
            WorkerCall::Move(v) => match self.policy.choose_region(&self.profile, v) {
                Choice::Now(region) => Act::Ready(WorkerReply::with(ReplyExtra {
                    region,
                    ..ReplyExtra::default()
                })),
                Choice::Later(fut) => later(CallKind::Move, fut),
            },
            WorkerCall::Vote(e) => match self.policy.vote(&self.profile, e) {
                Choice::Now(ballot) => Act::Ready(WorkerReply::with(ReplyExtra {
                    ballot,
                    ..ReplyExtra::default()
                })),
                Choice::Later(fut) => later(CallKind::Vote, fut),
            },
            WorkerCall::LiquidVote(e) => match self.policy.liquid_vote(&self.profile, e) {
                Choice::Now(vote) => Act::Ready(WorkerReply::with(liquid_extra(vote))),
                Choice::Later(fut) => later(CallKind::LiquidVote, fut),
            },
        }
    }

    fn complete(&mut self, (kind, turn): (CallKind, Turn)) -> WorkerReply {
        let mut extra = ReplyExtra {
            exchanges: turn.exchanges,
            fatal: turn.fatal,
            ..ReplyExtra::default()
        };
        let mut hours = 0.0;
        match kind {
            CallKind::Step => {
                let h = self.policy.complete(&self.profile, turn.payload);
                hours = self.sane(h);
            }
            CallKind::Stand => {
                extra.platform = self.policy.complete_stand(&self.profile, turn.payload)
            }
            CallKind::Vote => extra.ballot = self.policy.complete_vote(&self.profile, turn.payload),
            CallKind::LiquidVote => {
                let vote = self
                    .policy
                    .complete_liquid_vote(&self.profile, turn.payload);
                let answer = liquid_extra(vote);
                (extra.ballot, extra.delegate) = (answer.ballot, answer.delegate);
            }
            CallKind::Move => extra.region = self.policy.complete_move(&self.profile, turn.payload),
        }
        WorkerReply {
            hours,
            extra: Some(Box::new(extra)),
        }
    }
}

/// A snapshot keeps what the worker's policy learned; her profile is rebuilt from the census.
impl Remember for Worker {
    type Memory = Vec<u8>;

    fn save(&self) -> Vec<u8> {
        self.policy.save()
    }

    fn restore(&mut self, memory: Vec<u8>) -> Result<(), String> {
        self.policy.restore(&memory)
    }
}
