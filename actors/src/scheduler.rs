//! The scheduler actor: the one place that owns simulated time and the order of the log.
//!
//! A run is a [`Game`] driven step by step. At each step the scheduler asks the game to play
//! the step (the game exchanges typed messages with its actors and computes the outcome), takes
//! the step's frames in the order the game produced them, appends them to the log and ends the
//! step (a file sink flushes). Nothing else writes to the log, and no step starts before the
//! previous one is logged, so the log is a total order of the run.
//!
//! The scheduler knows nothing about what a step means; the game knows nothing about files.

use std::future::Future;

use actix::prelude::*;

use crate::log::{FrameSink, LogDigest, LogError};
use std::ops::Range;

/// What a step produced for the log, in order.
pub struct StepFrames<F> {
    frames: Vec<F>,
}

impl<F> Default for StepFrames<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F> StepFrames<F> {
    /// An empty record (the scheduler makes one per step; benchmarks and tests may too).
    pub fn new() -> Self {
        StepFrames { frames: Vec::new() }
    }
    /// The frames pushed so far.
    pub fn frames(&self) -> &[F] {
        &self.frames
    }
    /// Appends a frame to this step's record.
    pub fn push(&mut self, frame: F) {
        self.frames.push(frame);
    }
}

/// Whether the run goes on after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop cleanly after this step (for example, a budget ran out); the log stays valid.
    Halt,
}

/// A simulation the scheduler can drive.
pub trait Game: Send + 'static {
    /// The type of a log frame.
    type Frame: serde::Serialize;
    /// The error a step can fail with (it ends the run; frames already logged stay).
    type Error: std::fmt::Display + From<LogError> + Send + 'static;

    /// Plays step `step`, pushing the step's frames in order.
    fn step(
        &mut self,
        step: u64,
        frames: &mut StepFrames<Self::Frame>,
    ) -> impl Future<Output = Result<Flow, Self::Error>>;

    /// Whether the game wants a checkpoint once step `step` is logged (default: never).
    fn checkpoint_due(&self, _step: u64) -> bool {
        false
    }

    /// Takes a checkpoint after step `step` is logged and flushed. `log` is the identity of
    /// the log through that step, so the checkpoint can name the exact prefix it continues.
    /// Called only when [`Game::checkpoint_due`] says so and the sink writes a log.
    fn checkpoint(
        &mut self,
        _step: u64,
        _log: LogDigest,
    ) -> impl Future<Output = Result<(), Self::Error>> {
        async { Ok(()) }
    }
}

/// The result of a run: the game (for its final state), the sink, and the log's identity.
pub struct Finished<G, S> {
    pub game: G,
    pub sink: S,
    pub digest: LogDigest,
    pub steps_run: u64,
    pub halted: bool,
}

/// A run that failed: the game and sink are returned so the caller can still report and keep
/// what was logged.
pub struct Failed<G, S, E> {
    pub game: G,
    pub sink: S,
    pub error: E,
    pub step: u64,
}

/// Progress callback: (steps done, total steps).
pub type Progress = Box<dyn FnMut(u64, u64) + Send>;

/// The scheduler actor.
pub struct Scheduler<G: Game, S> {
    parts: Option<Box<(G, S)>>,
    progress: Option<Progress>,
}

impl<G: Game, S: FrameSink<G::Frame> + Send + 'static> Scheduler<G, S> {
    pub fn new(game: G, sink: S) -> Self {
        Scheduler {
            parts: Some(Box::new((game, sink))),
            progress: None,
        }
    }

    /// Calls `progress` after every step (for progress bars; it never reaches the log).
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }
}

impl<G: Game, S: FrameSink<G::Frame> + Send + 'static> Actor for Scheduler<G, S> {
    type Context = Context<Self>;
}

type RunResult<G, S> = Result<Finished<G, S>, Failed<G, S, <G as Game>::Error>>;

/// Message that runs the game over `steps` (a whole run is `0..n`; a resumed one starts
/// where its checkpoint left off) and hands back the result.
pub struct RunToEnd<G: Game, S> {
    pub steps: Range<u64>,
    _marker: std::marker::PhantomData<fn() -> (G, S)>,
}

impl<G: Game, S> RunToEnd<G, S> {
    pub fn new(steps: Range<u64>) -> Self {
        RunToEnd {
            steps,
            _marker: std::marker::PhantomData,
        }
    }
}

impl<G: Game, S: FrameSink<G::Frame> + Send + 'static> Message for RunToEnd<G, S> {
    type Result = Option<RunResult<G, S>>;
}

impl<G: Game, S: FrameSink<G::Frame> + Send + 'static> Handler<RunToEnd<G, S>> for Scheduler<G, S> {
    type Result = ResponseFuture<Option<RunResult<G, S>>>;

    fn handle(&mut self, msg: RunToEnd<G, S>, _ctx: &mut Context<Self>) -> Self::Result {
        // The game and the sink move into the run's future: a run owns them until it ends,
        // and a second `RunToEnd` while one is going gets `None`.
        let Some(parts) = self.parts.take() else {
            return Box::pin(async { None });
        };
        let (mut game, mut sink) = *parts;
        let mut progress = self.progress.take();
        Box::pin(async move {
            let total = msg.steps.end;
            let mut halted = false;
            let mut steps_run = msg.steps.start;
            for step in msg.steps {
                let mut frames = StepFrames::new();
                let flow = match game.step(step, &mut frames).await {
                    Ok(flow) => flow,
                    Err(error) => {
                        // Log what the failed step produced so far: the log shows where it broke.
                        let _ = append_all(&mut sink, &frames.frames);
                        let _ = sink.end_step();
                        return Some(Err(Failed {
                            game,
                            sink,
                            error,
                            step,
                        }));
                    }
                };
                if let Err(e) = append_all(&mut sink, &frames.frames).and_then(|_| sink.end_step())
                {
                    return Some(Err(Failed {
                        game,
                        sink,
                        error: e.into(),
                        step,
                    }));
                }
                steps_run = step + 1;
                if game.checkpoint_due(step)
                    && let Some(mark) = sink.mark()
                    && let Err(error) = game.checkpoint(step, mark).await
                {
                    return Some(Err(Failed {
                        game,
                        sink,
                        error,
                        step,
                    }));
                }
                if let Some(p) = progress.as_mut() {
                    p(steps_run, total);
                }
                if flow == Flow::Halt {
                    halted = true;
                    break;
                }
            }
            match sink.finish() {
                Ok(digest) => Some(Ok(Finished {
                    game,
                    sink,
                    digest,
                    steps_run,
                    halted,
                })),
                Err(e) => Some(Err(Failed {
                    game,
                    sink,
                    error: e.into(),
                    step: steps_run,
                })),
            }
        })
    }
}

fn append_all<F, S: FrameSink<F>>(sink: &mut S, frames: &[F]) -> Result<(), LogError> {
    frames.iter().try_for_each(|f| sink.append(f))
}

/// Starts a scheduler for `game` writing to `sink`, runs the steps `steps` and returns the
/// result. Must be called inside a running actix `System`.
pub async fn run_game<G, S>(
    game: G,
    sink: S,
    steps: Range<u64>,
    progress: Option<Progress>,
) -> Result<Finished<G, S>, Failed<G, S, G::Error>>
where
    G: Game,
    S: FrameSink<G::Frame> + Send + 'static,
{
    let mut scheduler = Scheduler::new(game, sink);
    if let Some(p) = progress {
        scheduler = scheduler.with_progress(p);
    }
    let addr = scheduler.start();
    let result = addr
        .send(RunToEnd::new(steps))
        .await
        .ok()
        .flatten()
        .expect("a fresh scheduler runs exactly once and does not stop while running");
    // The scheduler has handed everything back; stop it so it does not outlive the run.
    addr.do_send(StopScheduler);
    result
}

struct StopScheduler;
impl Message for StopScheduler {
    type Result = ();
}
impl<G: Game, S: FrameSink<G::Frame> + Send + 'static> Handler<StopScheduler> for Scheduler<G, S> {
    type Result = ();
    fn handle(&mut self, _: StopScheduler, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::HashSink;

    struct Counter {
        value: u64,
        fail_at: Option<u64>,
        halt_at: Option<u64>,
        checkpoints: Vec<(u64, u64)>,
    }

    #[derive(Debug)]
    struct Oops(String);
    impl std::fmt::Display for Oops {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl From<LogError> for Oops {
        fn from(e: LogError) -> Self {
            Oops(e.to_string())
        }
    }

    impl Game for Counter {
        type Frame = (u64, u64);
        type Error = Oops;
        async fn step(
            &mut self,
            step: u64,
            frames: &mut StepFrames<(u64, u64)>,
        ) -> Result<Flow, Oops> {
            if self.fail_at == Some(step) {
                return Err(Oops(format!("broke at {step}")));
            }
            self.value += step;
            frames.push((step, self.value));
            Ok(if self.halt_at == Some(step) {
                Flow::Halt
            } else {
                Flow::Continue
            })
        }
        fn checkpoint_due(&self, step: u64) -> bool {
            step % 3 == 2
        }
        async fn checkpoint(&mut self, step: u64, log: LogDigest) -> Result<(), Oops> {
            self.checkpoints.push((step, log.frames));
            Ok(())
        }
    }

    fn go(
        fail_at: Option<u64>,
        halt_at: Option<u64>,
    ) -> Result<(u64, u64, bool, u64), (String, u64)> {
        System::new().block_on(async move {
            let game = Counter {
                value: 0,
                fail_at,
                halt_at,
                checkpoints: Vec::new(),
            };
            let sink = HashSink::new(&"header").unwrap();
            match run_game(game, sink, 0..10, None).await {
                Ok(f) => Ok((f.game.value, f.steps_run, f.halted, f.digest.frames)),
                Err(f) => Err((f.error.0, f.step)),
            }
        })
    }

    #[test]
    fn checkpoints_come_after_their_step_is_logged_and_a_run_can_start_midway() {
        let (full, tail) = System::new().block_on(async {
            let counter = || Counter {
                value: 0,
                fail_at: None,
                halt_at: None,
                checkpoints: Vec::new(),
            };
            let full = run_game(counter(), HashSink::new(&"header").unwrap(), 0..10, None)
                .await
                .ok()
                .unwrap();
            let tail = run_game(counter(), HashSink::new(&"header").unwrap(), 6..10, None)
                .await
                .ok()
                .unwrap();
            (full, tail)
        });
        // Steps 2, 5, 8 end with 3, 6, 9 frames logged.
        assert_eq!(full.game.checkpoints, vec![(2, 3), (5, 6), (8, 9)]);
        assert_eq!(full.steps_run, 10);
        // A run over 6..10 plays only those steps: 6 + 7 + 8 + 9.
        assert_eq!((tail.game.value, tail.steps_run), (30, 10));
        assert_eq!(tail.game.checkpoints, vec![(8, 3)]);
    }

    #[test]
    fn runs_every_step_in_order() {
        assert_eq!(go(None, None), Ok((45, 10, false, 10)));
    }

    #[test]
    fn halting_stops_cleanly_after_the_step() {
        assert_eq!(go(None, Some(3)), Ok((6, 4, true, 4)));
    }

    #[test]
    fn a_failing_step_reports_its_step() {
        assert_eq!(go(Some(5), None), Err(("broke at 5".to_string(), 5)));
    }
}
