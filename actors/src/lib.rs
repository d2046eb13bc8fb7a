//! simulacra-actors: a generic deterministic actor runtime on actix.
//!
//! - [`scheduler`]: the scheduler actor, the one owner of simulated time and log order;
//! - [`cohort`]: one actor per agent, sharded over arbiters, with an id-ordered
//!   fan-out / fan-in barrier per timestep;
//! - [`rng`]: randomness keyed by (master seed, domain, actor, step), with no stored state;
//! - [`log`]: the checksummed, length-prefixed bincode message log;
//! - [`replay`]: re-execution checked frame by frame against a recorded log, and resuming;
//! - [`snapshot`]: checksummed, atomically written snapshot files.
//!
//! It knows nothing about taxes: the economy lives in the `simulacra` crate.

pub mod cohort;
mod decode_error;
pub mod log;
pub mod replay;
pub mod rng;
pub mod scheduler;
pub mod snapshot;

pub use cohort::{Act, Agent, AgentFactory, Cohort, CohortOptions, Remember, RuntimeError};
pub use log::{FrameSink, Fsync, HashSink, LogDigest, LogError, LogReader, LogWriter, RawFrame};
pub use replay::{Divergence, ResumeSink, VerifySink};
pub use rng::{StreamKey, stream};
pub use scheduler::{Failed, Finished, Flow, Game, Progress, StepFrames, run_game};
