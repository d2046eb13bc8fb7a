//! Ctrl-C (SIGINT) and SIGTERM during a run: the run stops between two steps through the same
//! path as a run stopped by its LLM budget (the game halts after a whole step is logged, the
//! log stays resumable), writes no outputs (an interrupted run is not a result), and the
//! command says where it stopped and how to go on ([`Interrupted`], exit status 130).
//!
//! Only the command line listens for the signals ([`listen`]); a library caller (a sweep, a
//! test, the Python package's child process before it listens) is never stopped by a flag it
//! did not ask for. A second signal ends the process at once, as a kill would: the log is
//! resumable after that too.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use simulacra_actors::{Flow, Game, LogDigest, StepFrames};

/// Set once a signal arrived.
static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The halt reason of a game stopped by a signal (never written: the run ends in
/// [`Interrupted`]).
pub const REASON: &str = "interrupted (SIGINT or SIGTERM)";

/// The exit status of an interrupted command: 128 + SIGINT, what a shell reports for Ctrl-C.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Asks running games to stop after their current step (what a signal does).
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Listens for SIGINT and SIGTERM on a thread of its own: the first asks for a stop, a second
/// ends the process with [`EXIT_INTERRUPTED`].
pub fn listen() -> anyhow::Result<()> {
    // A runtime of its own: the run's actor system starts and stops its runtimes (the game,
    // then each baseline), and the listener must outlive them all.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    // Registered here, before the thread starts, so a signal right after this returns is
    // caught (and so a failure to register is an error the caller sees).
    let (mut int, mut term) = rt.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        anyhow::Ok((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        ))
    })?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            rt.block_on(async move {
                for _ in 0..2 {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                    if requested() {
                        eprintln!("interrupted again: stopping now");
                        std::process::exit(i32::from(EXIT_INTERRUPTED));
                    }
                    eprintln!("interrupt: stopping after the current step (again to stop at once)");
                    request();
                }
            });
        })?;
    Ok(())
}

/// A command stopped by a signal before its run was complete.
#[derive(Debug)]
pub struct Interrupted {
    /// Whole steps in the log.
    pub steps: u64,
    /// The run folder.
    pub dir: PathBuf,
    /// True when every step had been played and the signal came while the baselines were.
    pub in_baselines: bool,
}

impl Interrupted {
    pub fn new(steps: u64, dir: &Path) -> Self {
        Interrupted {
            steps,
            dir: dir.to_path_buf(),
            in_baselines: false,
        }
    }

    /// A run whose `steps` were all played, stopped while its baselines were.
    pub fn in_baselines(steps: u64, dir: &Path) -> Self {
        Interrupted {
            in_baselines: true,
            ..Interrupted::new(steps, dir)
        }
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.in_baselines {
            return write!(
                f,
                "interrupted while the baselines were played, after all {} of the run's steps; \
                 continue with `simulacra resume {}` (it plays the baselines and writes the \
                 tables)",
                self.steps,
                self.dir.display()
            );
        }
        write!(
            f,
            "interrupted at step {}; continue with `simulacra resume {}`",
            self.steps,
            self.dir.display()
        )
    }
}

impl std::error::Error for Interrupted {}

/// A game that also halts, after a whole step, once a stop was [`requested`].
pub(super) struct StopOnRequest<G>(pub(super) G);

impl<G: Game> Game for StopOnRequest<G> {
    type Frame = G::Frame;
    type Error = G::Error;

    async fn step(
        &mut self,
        step: u64,
        frames: &mut StepFrames<G::Frame>,
    ) -> Result<Flow, G::Error> {
        let flow = self.0.step(step, frames).await?;
        Ok(if requested() { Flow::Halt } else { flow })
    }

    fn checkpoint_due(&self, step: u64) -> bool {
        self.0.checkpoint_due(step)
    }

    async fn checkpoint(&mut self, step: u64, log: LogDigest) -> Result<(), G::Error> {
        self.0.checkpoint(step, log).await
    }
}
