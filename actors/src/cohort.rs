//! A cohort of agent actors: one actix actor per agent, sharded over arbiters, with a
//! per-timestep fan-out / fan-in barrier that returns replies in agent-id order.
//!
//! ```text
//!  scheduler ──StepShard──▶ shard 0 (arbiter 0) ──Decide──▶ agents 0..k      (windows of W)
//!            ──StepShard──▶ shard 1 (arbiter 1) ──Decide──▶ agents k..2k
//!            ◀── Vec<Output> per shard, concatenated in shard order = agent-id order
//! ```
//!
//! Why this shape (measured in the project's actix notes): a scheduler that sends to a million
//! `Addr`s across threads is bound by cross-thread queue pushes, and `join_all` over a million
//! futures degenerates into wake storms. Instead one shard actor per arbiter owns a contiguous
//! block of agents, created on its own thread, and sends in small windows, awaiting the replies
//! in id order (actix's `send` enqueues eagerly, so awaiting in order costs no concurrency).
//! The number of shards never changes a result: replies are placed by id, not by arrival.

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix::dev::{MessageResponse, OneshotSender};
use actix::fut::wrap_future;
use actix::prelude::*;

/// How an agent answers one message: now, or after an asynchronous exchange (an LLM call).
pub enum Act<A: Agent> {
    /// The answer is ready.
    Ready(A::Output),
    /// The answer needs I/O: the future's result goes back to [`Agent::complete`], which may
    /// update the agent's memory before the reply leaves. The actor processes nothing else
    /// meanwhile, so its state cannot interleave across steps.
    Later(Pin<Box<dyn Future<Output = A::Pending>>>),
}

/// An agent's behaviour. The runtime wraps it in an actor; the agent itself is plain state.
pub trait Agent: Unpin + Sized + 'static {
    /// The part of a step's message that every agent receives (for example, the tax schedule).
    type Shared: Clone + Send + Sync + 'static;
    /// The part addressed to one agent (for example, its own last outcome).
    type Private: Send + 'static;
    /// The agent's reply.
    type Output: Send + 'static;
    /// What an asynchronous [`Act::Later`] resolves to.
    type Pending: 'static;

    /// Handles the message of `step`.
    fn act(&mut self, step: u64, shared: &Self::Shared, own: Self::Private) -> Act<Self>;

    /// Finishes an asynchronous act. Agents that never return [`Act::Later`] need not
    /// implement it.
    fn complete(&mut self, _pending: Self::Pending) -> Self::Output {
        unreachable!("an agent that returns Act::Later must implement Agent::complete")
    }
}

/// An agent whose memory a checkpoint can save and a resumed run restore. The memory is what
/// the agent learned while the run went on, not what its factory gives it again.
pub trait Remember: Agent {
    /// The saved memory (an empty value for agents that learn nothing).
    type Memory: Send + 'static;
    /// The agent's memory now (called between steps).
    fn save(&self) -> Self::Memory;
    /// Puts back a saved memory into a freshly built agent; an error says why it cannot.
    fn restore(&mut self, memory: Self::Memory) -> Result<(), String>;
}

/// The actor hosting one agent.
pub struct AgentActor<A: Agent> {
    pub agent: A,
}

impl<A: Agent> Actor for AgentActor<A> {
    type Context = Context<Self>;
}

/// One step's message to one agent.
pub struct Decide<A: Agent> {
    pub step: u64,
    pub shared: Arc<A::Shared>,
    pub own: A::Private,
}

impl<A: Agent> Message for Decide<A> {
    type Result = A::Output;
}

impl<A: Agent> Handler<Decide<A>> for AgentActor<A> {
    type Result = AgentReply<A>;

    fn handle(&mut self, msg: Decide<A>, _ctx: &mut Context<Self>) -> AgentReply<A> {
        AgentReply(self.agent.act(msg.step, &msg.shared, msg.own))
    }
}

/// The reply of an agent actor. A ready answer is sent at once with no allocation; a pending
/// one runs with the actor's mailbox paused (`ctx.wait`), so the agent handles nothing else
/// until its exchange completes (actix's `ActorResponse` would let other messages interleave).
pub struct AgentReply<A: Agent>(Act<A>);

impl<A: Agent> MessageResponse<AgentActor<A>, Decide<A>> for AgentReply<A> {
    fn handle(self, ctx: &mut Context<AgentActor<A>>, tx: Option<OneshotSender<A::Output>>) {
        match self.0 {
            Act::Ready(out) => {
                if let Some(tx) = tx {
                    // The receiver may be gone if the run was abandoned; nothing to do then.
                    let _ = tx.send(out);
                }
            }
            Act::Later(fut) => {
                ctx.wait(wrap_future::<_, AgentActor<A>>(fut).map(
                    move |pending, actor: &mut AgentActor<A>, _| {
                        let out = actor.agent.complete(pending);
                        if let Some(tx) = tx {
                            let _ = tx.send(out);
                        }
                    },
                ));
            }
        }
    }
}

/// Failures of the actor machinery itself (not of agents' decisions).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("an agent actor stopped before replying at step {step} (agent {agent}): {source}")]
    AgentGone {
        step: u64,
        agent: usize,
        source: MailboxError,
    },
    #[error("shard {shard} stopped before replying at step {step}: {source}")]
    ShardGone {
        step: u64,
        shard: usize,
        source: MailboxError,
    },
    #[error("agent {agent} could not take back its saved memory: {message}")]
    Restore { agent: usize, message: String },
    #[error("a checkpoint's memories could not be gathered: {0}")]
    Save(MailboxError),
    #[error("step {step}: {got} private messages for a population of {expected}")]
    WrongLength {
        step: u64,
        got: usize,
        expected: usize,
    },
}

/// The shard actor: owns a contiguous block of agents on one arbiter.
struct Shard<A: Agent> {
    first_id: usize,
    agents: Rc<Vec<Addr<AgentActor<A>>>>,
    window: usize,
}

impl<A: Agent> Actor for Shard<A> {
    type Context = Context<Self>;
}

struct StepShard<A: Agent> {
    step: u64,
    shared: Arc<A::Shared>,
    private: Vec<A::Private>,
}

impl<A: Agent> Message for StepShard<A> {
    type Result = Result<Vec<A::Output>, RuntimeError>;
}

impl<A: Agent> Handler<StepShard<A>> for Shard<A> {
    type Result = ResponseFuture<Result<Vec<A::Output>, RuntimeError>>;

    fn handle(&mut self, msg: StepShard<A>, _ctx: &mut Context<Self>) -> Self::Result {
        let agents = Rc::clone(&self.agents);
        let window = self.window;
        let first_id = self.first_id;
        Box::pin(async move {
            let StepShard {
                step,
                shared,
                private,
            } = msg;
            let mut out = Vec::with_capacity(agents.len());
            let mut private = private.into_iter();
            in_windows(
                &agents,
                window,
                |_| Decide {
                    step,
                    shared: Arc::clone(&shared),
                    // The caller checked the length, so `private` has one entry per agent.
                    own: private.next().expect("one private message per agent"),
                },
                |i, reply| {
                    out.push(reply.map_err(|source| RuntimeError::AgentGone {
                        step,
                        agent: first_id + i,
                        source,
                    })?);
                    Ok(())
                },
            )
            .await?;
            Ok(out)
        })
    }
}

/// The one fan-out / fan-in loop of a shard: sends `message(i)` to each agent `i` (index in
/// the shard), `window` at a time, and hands the replies to `reply(i, ..)` in id order.
/// actix's `send` enqueues eagerly, so awaiting in order costs no concurrency; the window
/// bounds the replies waiting in memory.
async fn in_windows<A, M, E>(
    agents: &[Addr<AgentActor<A>>],
    window: usize,
    mut message: impl FnMut(usize) -> M,
    mut reply: impl FnMut(usize, Result<M::Result, MailboxError>) -> Result<(), E>,
) -> Result<(), E>
where
    A: Agent,
    M: Message + Send + 'static,
    M::Result: Send,
    AgentActor<A>: Handler<M>,
    <AgentActor<A> as Actor>::Context: actix::dev::ToEnvelope<AgentActor<A>, M>,
{
    let mut in_flight = Vec::with_capacity(window);
    let mut next = 0;
    for block in agents.chunks(window) {
        for addr in block {
            in_flight.push(addr.send(message(next)));
            next += 1;
        }
        let first = next - block.len();
        for (k, request) in in_flight.drain(..).enumerate() {
            reply(first + k, request.await)?;
        }
    }
    Ok(())
}

/// Builds agent `id` (called on the arbiter thread that will host it).
pub type AgentFactory<A> = Arc<dyn Fn(usize) -> A + Send + Sync>;

/// Options for [`Cohort::spawn`].
#[derive(Clone, Copy, Debug)]
pub struct CohortOptions {
    /// Number of shards, each on its own arbiter thread; 0 means one per available core.
    pub shards: usize,
    /// Messages in flight per shard.
    pub window: usize,
}

impl Default for CohortOptions {
    fn default() -> Self {
        CohortOptions {
            shards: 0,
            window: 128,
        }
    }
}

/// Handle to a running population.
pub struct Cohort<A: Agent> {
    shards: Vec<(Addr<Shard<A>>, Range<usize>)>,
    arbiters: Vec<Arbiter>,
    len: usize,
}

/// Resolves 0 to the number of cores the process may use.
pub fn resolve_shards(requested: usize) -> usize {
    if requested > 0 {
        requested
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

impl<A: Agent> Cohort<A> {
    /// Starts `n` agents over the shards. Must be called inside a running actix `System`.
    pub async fn spawn(n: usize, options: CohortOptions, factory: AgentFactory<A>) -> Self {
        let shard_count = resolve_shards(options.shards).clamp(1, n.max(1));
        let window = options.window.max(1);
        let mut shards = Vec::with_capacity(shard_count);
        let mut arbiters = Vec::with_capacity(shard_count);
        for s in 0..shard_count {
            let range = (n * s / shard_count)..(n * (s + 1) / shard_count);
            let arbiter = Arbiter::new();
            let factory = Arc::clone(&factory);
            let block = range.clone();
            // Agents are built inside the closure, on the shard's own thread: starting a million
            // actors from here would ship a million closures across threads.
            let addr = Shard::start_in_arbiter(&arbiter.handle(), move |_ctx| Shard {
                first_id: block.start,
                agents: Rc::new(
                    block
                        .clone()
                        .map(|id| AgentActor { agent: factory(id) }.start())
                        .collect(),
                ),
                window,
            });
            shards.push((addr, range));
            arbiters.push(arbiter);
        }
        let population = Cohort {
            shards,
            arbiters,
            len: n,
        };
        // Wait until every shard has built its agents, so timing of the first step is honest.
        for (addr, _) in &population.shards {
            let _ = addr.send(Ping).await;
        }
        population
    }

    /// Number of agents.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty population.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Splits one item per agent (in id order) into per-shard blocks: last shard first, so
    /// each split is a cheap tail move.
    fn per_shard<T>(&self, step: u64, mut items: Vec<T>) -> Result<Vec<Vec<T>>, RuntimeError> {
        if items.len() != self.len {
            return Err(RuntimeError::WrongLength {
                step,
                got: items.len(),
                expected: self.len,
            });
        }
        let mut blocks = Vec::with_capacity(self.shards.len());
        for (_, range) in self.shards.iter().rev() {
            blocks.push(items.split_off(range.start));
        }
        blocks.reverse();
        Ok(blocks)
    }

    /// Sends every agent its message for `step` and returns the replies in agent-id order.
    pub async fn step(
        &self,
        step: u64,
        shared: &A::Shared,
        private: Vec<A::Private>,
    ) -> Result<Vec<A::Output>, RuntimeError> {
        let blocks = self.per_shard(step, private)?;
        let requests: Vec<_> = self
            .shards
            .iter()
            .zip(blocks)
            .map(|((addr, _), block)| {
                addr.send(StepShard {
                    step,
                    // One Arc per shard: each shard thread then clones its own Arc, so the
                    // reference count never bounces between cores.
                    shared: Arc::new(shared.clone()),
                    private: block,
                })
            })
            .collect();
        let mut out = Vec::with_capacity(self.len);
        for (shard, request) in requests.into_iter().enumerate() {
            let block = request.await.map_err(|source| RuntimeError::ShardGone {
                step,
                shard,
                source,
            })??;
            out.extend(block);
        }
        Ok(out)
    }

    /// Stops the shard arbiters (and with them every agent).
    pub fn stop(self) {
        for arbiter in &self.arbiters {
            arbiter.stop();
        }
    }
}

struct SaveMemory<A: Remember>(std::marker::PhantomData<fn() -> A>);
impl<A: Remember> Message for SaveMemory<A> {
    type Result = A::Memory;
}
impl<A: Remember> Handler<SaveMemory<A>> for AgentActor<A> {
    type Result = MessageResult<SaveMemory<A>>;
    fn handle(&mut self, _: SaveMemory<A>, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.agent.save())
    }
}

struct RestoreMemory<A: Remember>(A::Memory);
impl<A: Remember> Message for RestoreMemory<A> {
    type Result = Result<(), String>;
}
impl<A: Remember> Handler<RestoreMemory<A>> for AgentActor<A> {
    type Result = Result<(), String>;
    fn handle(&mut self, msg: RestoreMemory<A>, _: &mut Context<Self>) -> Self::Result {
        self.agent.restore(msg.0)
    }
}

/// A shard's memories, in id order.
struct SaveShard<A: Remember>(std::marker::PhantomData<fn() -> A>);
impl<A: Remember> Message for SaveShard<A> {
    type Result = Result<Vec<A::Memory>, MailboxError>;
}
impl<A: Remember> Handler<SaveShard<A>> for Shard<A> {
    type Result = ResponseFuture<Result<Vec<A::Memory>, MailboxError>>;
    fn handle(&mut self, _: SaveShard<A>, _: &mut Context<Self>) -> Self::Result {
        let agents = Rc::clone(&self.agents);
        let window = self.window;
        Box::pin(async move {
            let mut out = Vec::with_capacity(agents.len());
            in_windows(
                &agents,
                window,
                |_| SaveMemory(std::marker::PhantomData),
                |_, memory| {
                    out.push(memory?);
                    Ok(())
                },
            )
            .await?;
            Ok(out)
        })
    }
}

/// Gives a shard's agents their memories back, in id order.
struct RestoreShard<A: Remember>(Vec<A::Memory>);
impl<A: Remember> Message for RestoreShard<A> {
    type Result = Result<(), RuntimeError>;
}
impl<A: Remember> Handler<RestoreShard<A>> for Shard<A> {
    type Result = ResponseFuture<Result<(), RuntimeError>>;
    fn handle(&mut self, msg: RestoreShard<A>, _: &mut Context<Self>) -> Self::Result {
        let agents = Rc::clone(&self.agents);
        let window = self.window;
        let first_id = self.first_id;
        Box::pin(async move {
            let mut memories = msg.0.into_iter();
            in_windows(
                &agents,
                window,
                // `Cohort::restore` split the memories per shard, one per agent.
                |_| RestoreMemory(memories.next().expect("one memory per agent")),
                |i, restored| {
                    let agent = first_id + i;
                    restored
                        .map_err(|source| RuntimeError::AgentGone {
                            step: 0,
                            agent,
                            source,
                        })?
                        .map_err(|message| RuntimeError::Restore { agent, message })
                },
            )
            .await
        })
    }
}

impl<A: Remember> Cohort<A> {
    /// Every agent's memory, in agent-id order (between steps: no step may be running).
    pub async fn save(&self) -> Result<Vec<A::Memory>, RuntimeError> {
        let requests: Vec<_> = self
            .shards
            .iter()
            .map(|(addr, _)| addr.send(SaveShard(std::marker::PhantomData)))
            .collect();
        let mut out = Vec::with_capacity(self.len);
        for request in requests {
            out.extend(
                request
                    .await
                    .map_err(RuntimeError::Save)?
                    .map_err(RuntimeError::Save)?,
            );
        }
        Ok(out)
    }

    /// Gives every agent back its saved memory (`memories` in agent-id order, one per agent).
    pub async fn restore(&self, memories: Vec<A::Memory>) -> Result<(), RuntimeError> {
        let blocks = self.per_shard(0, memories)?;
        let requests: Vec<_> = self
            .shards
            .iter()
            .zip(blocks)
            .map(|((addr, _), block)| addr.send(RestoreShard(block)))
            .collect();
        for (shard, request) in requests.into_iter().enumerate() {
            request.await.map_err(|source| RuntimeError::ShardGone {
                step: 0,
                shard,
                source,
            })??;
        }
        Ok(())
    }
}

struct Ping;
impl Message for Ping {
    type Result = ();
}
impl<A: Agent> Handler<Ping> for Shard<A> {
    type Result = ();
    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::StreamKey;
    use rand::Rng;

    /// A toy agent: replies with its id, the step and a draw from its own stream, and counts
    /// how many messages it has seen (state that must persist across steps).
    struct Toy {
        id: usize,
        seen: u32,
        key: StreamKey,
    }

    type ToyReply = (usize, u64, u32, u32, u32);

    impl Agent for Toy {
        type Shared = u64;
        type Private = u32;
        type Output = ToyReply;
        type Pending = u32;

        fn act(&mut self, step: u64, shared: &u64, own: u32) -> Act<Self> {
            self.seen += 1;
            let draw = self.key.rng(self.id as u64, step).next_u32();
            if self.id.is_multiple_of(3) {
                // Simulate an asynchronous exchange that resolves after a timer.
                let delay = (self.id % 5) as u64;
                Act::Later(Box::pin(async move {
                    tokio::time::sleep(std::time::Duration::from_micros(delay)).await;
                    draw
                }))
            } else {
                Act::Ready((self.id, step + shared, own, self.seen, draw))
            }
        }

        fn complete(&mut self, draw: u32) -> Self::Output {
            (self.id, 0, 0, self.seen, draw)
        }
    }

    fn run(n: usize, shards: usize, window: usize) -> Vec<Vec<ToyReply>> {
        let system = System::new();
        system.block_on(async move {
            let key = StreamKey::new(5, "toy");
            let pop: Cohort<Toy> = Cohort::spawn(
                n,
                CohortOptions { shards, window },
                Arc::new(move |id| Toy { id, seen: 0, key }),
            )
            .await;
            let mut all = Vec::new();
            for step in 0..3 {
                let private = (0..n as u32).map(|i| i * 10).collect();
                all.push(pop.step(step, &100, private).await.unwrap());
            }
            pop.stop();
            all
        })
    }

    #[test]
    fn replies_come_back_in_id_order_whatever_the_sharding() {
        let reference = run(50, 1, 128);
        for (shards, window) in [(2, 1), (3, 7), (4, 128), (7, 2)] {
            assert_eq!(
                run(50, shards, window),
                reference,
                "shards={shards} window={window}"
            );
        }
        for (i, reply) in reference[2].iter().enumerate() {
            assert_eq!(reply.0, i);
            assert_eq!(reply.3, 3, "agent state persists across steps");
            if i % 3 != 0 {
                assert_eq!(reply.1, 102);
                assert_eq!(reply.2, i as u32 * 10);
            }
        }
    }

    impl Remember for Toy {
        type Memory = u32;
        fn save(&self) -> u32 {
            self.seen
        }
        fn restore(&mut self, seen: u32) -> Result<(), String> {
            if seen > 1000 {
                return Err(format!("{seen} is not a plausible count"));
            }
            self.seen = seen;
            Ok(())
        }
    }

    #[test]
    fn memories_are_saved_in_id_order_and_restored_into_fresh_agents() {
        let system = System::new();
        system.block_on(async {
            let key = StreamKey::new(5, "toy");
            let options = CohortOptions {
                shards: 3,
                window: 4,
            };
            let factory: AgentFactory<Toy> = Arc::new(move |id| Toy { id, seen: 0, key });
            let pop = Cohort::spawn(20, options, Arc::clone(&factory)).await;
            // Distinct counts per agent, so a misplaced memory would show.
            let memories: Vec<u32> = (0..20).map(|i| i * 2).collect();
            pop.restore(memories.clone()).await.unwrap();
            assert_eq!(pop.save().await.unwrap(), memories);
            let replies = pop.step(0, &0, vec![0; 20]).await.unwrap();
            for (i, r) in replies.iter().enumerate() {
                assert_eq!(r.3, i as u32 * 2 + 1, "agent {i} counts on from its memory");
            }
            // A memory an agent refuses is named by its agent id.
            let mut bad = memories;
            bad[13] = 5000;
            let err = pop.restore(bad).await.unwrap_err();
            assert!(err.to_string().contains("agent 13"), "{err}");
            pop.stop();
        });
    }

    #[test]
    fn wrong_number_of_messages_is_an_error() {
        let system = System::new();
        system.block_on(async {
            let key = StreamKey::new(5, "toy");
            let pop: Cohort<Toy> = Cohort::spawn(
                4,
                CohortOptions::default(),
                Arc::new(move |id| Toy { id, seen: 0, key }),
            )
            .await;
            let err = pop.step(0, &0, vec![1, 2]).await.unwrap_err();
            assert!(
                err.to_string()
                    .contains("2 private messages for a population of 4")
            );
            pop.stop();
        });
    }
}
