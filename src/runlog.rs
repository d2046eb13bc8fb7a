//! The one reader of a run's message log: its header (checked to be a simulacra run, with the
//! scenario it holds) and its frames, decoded in order up to the end or the first torn, corrupt
//! or out-of-place frame. `resume`, `fork`, `replay`, `inspect`, the exports and the report all
//! read a log through it; the byte layout (frame head length, checksums) stays with
//! `simulacra_actors::log`.
//!
//! Checksums prove each frame's bytes, not its place: frames with valid checksums can still
//! have been deleted, duplicated or reordered. So the reader also checks the frames' grammar
//! ([`crate::frames`]): steps count up from 0 without a gap, a tax year starts with the
//! planner's move, every step's decisions cover every worker in order, and every step ends on
//! its outcome. The log format does not change for this: the frames already carry their step.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use simulacra_actors::LogReader;
use simulacra_actors::log::{LogError, Piece};

use crate::config::Scenario;
use crate::frames::{ElectionRecord, Frame, LogHeader, MoveRecord, PlannerMove};

/// The log file inside a run folder.
pub const LOG_FILE: &str = "run.log";

/// A run's log, opened: its header and scenario read, its frames not yet.
pub struct RunLog {
    pub path: PathBuf,
    pub header: LogHeader,
    pub scenario: Scenario,
    reader: LogReader,
}

/// Where and how a log stops being readable. Everything before `offset` is intact.
#[derive(Clone, Debug, PartialEq)]
pub struct Damage {
    /// Byte offset of the first bad frame.
    pub offset: u64,
    /// Nothing valid follows the bad frame (what a killed writer leaves: the file ends inside
    /// a frame, or in a frame never fully written), rather than a frame that is corrupt or out
    /// of place in the middle of the log (what damage or tampering leaves).
    pub torn: bool,
    pub message: String,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Damage {
    /// The damage a frame that cannot be read at `offset` is: a torn tail when no valid frame
    /// follows it (found by checksum, see [`simulacra_actors::log::read_resynced`]), else
    /// corruption in the middle of the log, named with the next valid frame's offset.
    fn from_log_error(path: &Path, e: &LogError, fallback_offset: u64) -> anyhow::Result<Damage> {
        let Some(offset) = e.offset() else {
            return Ok(Damage {
                offset: fallback_offset,
                torn: false,
                message: e.to_string(),
            });
        };
        let next = simulacra_actors::log::next_valid_frame::<Frame>(path, offset)
            .map_err(|e| cannot_read(path, e))?;
        Ok(match next {
            None => Damage {
                offset,
                torn: true,
                message: format!("{e}; no valid frame follows it: a torn tail"),
            },
            Some(next) => {
                let why = match e {
                    LogError::Truncated { .. } => {
                        "its length field points past the end of the file".to_string()
                    }
                    LogError::Checksum {
                        expected, found, ..
                    } => format!("its checksum is {found:08x}, expected {expected:08x}"),
                    LogError::FrameTooLarge { len, .. } => {
                        format!("it declares {len} bytes, more than the frame limit")
                    }
                    LogError::Decode { message, .. } => {
                        format!("it has a valid checksum but does not decode: {message}")
                    }
                    other => other.to_string(),
                };
                Damage {
                    offset,
                    torn: false,
                    message: format!(
                        "the log is corrupt at byte {offset}: {why}; valid frames follow from \
                         byte {next} on, so this is damage in the middle of the log, not a torn \
                         tail; the frames before it are intact"
                    ),
                }
            }
        })
    }
}

/// What a log holds after a damaged frame, counted from the valid frames found past it by
/// checksum (never by trusting a corrupt length): whole steps and recorded LLM answers that a
/// resume cuts and recomputes. Past a second damage the count goes on from the next valid frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BeyondDamage {
    /// Bytes from the damaged frame to the end of the file.
    pub bytes: u64,
    /// The first valid frame after the damaged one, if any.
    pub next_valid: Option<u64>,
    /// Steps found whole (their begin and outcome, no damage between) after the damage.
    pub steps: u64,
    /// LLM exchanges with an answer (not a failure) found after the damage.
    pub llm_answers: u64,
    /// Everything readable from the damaged frame on, in order, with the gaps between.
    pub pieces: Vec<Piece<Frame>>,
}

/// Reads the log from the damaged frame at `damage` to its end, resynchronizing past every bad
/// stretch, and counts what follows.
pub fn beyond_damage(path: &Path, damage: &Damage) -> anyhow::Result<BeyondDamage> {
    let len = std::fs::metadata(path)?.len();
    let pieces = simulacra_actors::log::read_resynced::<Frame>(path, damage.offset)
        .map_err(|e| cannot_read(path, e))?;
    let mut out = BeyondDamage {
        bytes: len.saturating_sub(damage.offset),
        next_valid: pieces.iter().find_map(|p| match p {
            Piece::Frame { offset, .. } => Some(*offset),
            Piece::Gap { .. } => None,
        }),
        ..BeyondDamage::default()
    };
    out.steps = whole_steps_in(&pieces).len() as u64;
    out.llm_answers = pieces
        .iter()
        .filter(|p| {
            matches!(p, Piece::Frame { frame: Frame::Llm(e), .. }
                if !matches!(e.outcome, crate::frames::ExchangeOutcome::Failed { .. }))
        })
        .count() as u64;
    out.pieces = pieces;
    Ok(out)
}

/// The steps whose begin and outcome both are among `pieces` with no gap between them.
pub fn whole_steps_in(pieces: &[Piece<Frame>]) -> std::collections::BTreeSet<u64> {
    let mut whole = std::collections::BTreeSet::new();
    let mut open = None;
    for piece in pieces {
        match piece {
            Piece::Gap { .. } => open = None,
            Piece::Frame { frame, .. } => match frame {
                Frame::StepBegin { step, .. } => open = Some(*step),
                Frame::Outcome(o) if open == Some(o.step) => {
                    whole.insert(o.step);
                    open = None;
                }
                _ => {}
            },
        }
    }
    whole
}

/// Where the reader is in a step's grammar.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// Before a `StepBegin` (the start of the log, or after an `Outcome`).
    Between,
    /// After the `StepBegin` of a tax year's first step: an `Election` may come, then the move.
    AwaitMove { election_seen: bool },
    /// Decisions expected, `covered` workers so far.
    Deciding { covered: u64 },
    /// Every worker decided: LLM exchanges, then the outcome.
    Decided,
}

/// The frame grammar of [`crate::frames`], checked one frame at a time.
struct Grammar {
    agents: u64,
    next_step: u64,
    step: u64,
    tax_year: u64,
    last_year: Option<u64>,
    phase: Phase,
}

impl Grammar {
    fn new(agents: u64) -> Grammar {
        Grammar {
            agents,
            next_step: 0,
            step: 0,
            tax_year: 0,
            last_year: None,
            phase: Phase::Between,
        }
    }

    /// Checks that `frame` may come next; says what was expected when it may not.
    fn check(&mut self, frame: &Frame) -> Result<(), String> {
        let (step, kind) = (self.step, frame_kind(frame));
        let wrong_step =
            |found: u64| Err(format!("a {kind} frame of step {found} inside step {step}"));
        match (self.phase, frame) {
            (Phase::Between, Frame::StepBegin { step, tax_year }) => {
                if *step != self.next_step {
                    return Err(format!(
                        "step {step} begins where step {} should (steps were deleted, \
                         duplicated or reordered)",
                        self.next_step
                    ));
                }
                let year_start = match self.last_year {
                    None => *tax_year == 0,
                    Some(y) if *tax_year == y => false,
                    Some(y) if *tax_year == y + 1 => true,
                    Some(y) => {
                        return Err(format!(
                            "step {step} is in tax year {tax_year}, after a step of year {y}"
                        ));
                    }
                };
                if self.last_year.is_none() && !year_start {
                    return Err(format!("the first step is in tax year {tax_year}, not 0"));
                }
                self.step = *step;
                self.tax_year = *tax_year;
                self.phase = if year_start {
                    Phase::AwaitMove {
                        election_seen: false,
                    }
                } else {
                    Phase::Deciding { covered: 0 }
                };
                Ok(())
            }
            (Phase::Between, _) => Err(format!(
                "a {kind} frame where step {} should begin",
                self.next_step
            )),
            (_, Frame::StepBegin { step: s, .. }) => Err(format!(
                "step {s} begins before step {step} has its outcome"
            )),
            (
                Phase::AwaitMove {
                    election_seen: false,
                },
                Frame::Election(e),
            ) => {
                if e.step != step {
                    return wrong_step(e.step);
                }
                self.phase = Phase::AwaitMove {
                    election_seen: true,
                };
                Ok(())
            }
            (Phase::AwaitMove { .. }, Frame::Moves(MoveRecord { step: s, .. }))
            | (
                Phase::AwaitMove { .. },
                Frame::MoverExpectations(crate::frames::ExpectationRecord { step: s, .. }),
            )
            | (Phase::AwaitMove { .. }, Frame::FederalMove(PlannerMove { step: s, .. })) => {
                if *s != step {
                    return wrong_step(*s);
                }
                Ok(())
            }
            (Phase::AwaitMove { .. }, Frame::InRegion { frame, .. }) => match frame.as_ref() {
                Frame::PlannerMove(PlannerMove { step: s, .. })
                | Frame::Election(ElectionRecord { step: s, .. }) => {
                    if *s != step {
                        return wrong_step(*s);
                    }
                    Ok(())
                }
                other => Err(format!(
                    "a region's {} frame where step {step} needs the regions' moves",
                    frame_kind(other)
                )),
            },
            (Phase::AwaitMove { .. }, Frame::PlannerMove(m)) => {
                if m.step != step || m.tax_year != self.tax_year {
                    return wrong_step(m.step);
                }
                self.phase = Phase::Deciding { covered: 0 };
                Ok(())
            }
            (Phase::AwaitMove { .. }, _) => Err(format!(
                "a {kind} frame where step {step}, the first of tax year {}, needs the \
                 planner's move",
                self.tax_year
            )),
            (_, Frame::PlannerMove(_) | Frame::Election(_)) => Err(format!(
                "a {kind} frame inside step {step}, which does not start a tax year"
            )),
            (
                Phase::Deciding { covered },
                Frame::Decisions {
                    step: s,
                    first_agent,
                    hours,
                },
            ) => {
                if *s != step {
                    return wrong_step(*s);
                }
                let end = first_agent.saturating_add(hours.len() as u64);
                if *first_agent != covered || hours.is_empty() || end > self.agents {
                    return Err(format!(
                        "step {step}'s decisions for workers {first_agent}..{end} where workers \
                         {covered}.. of {} were due",
                        self.agents
                    ));
                }
                self.phase = if end == self.agents {
                    Phase::Decided
                } else {
                    Phase::Deciding { covered: end }
                };
                Ok(())
            }
            (
                Phase::Deciding { covered: 0 },
                Frame::DecisionDigest {
                    step: s, agents, ..
                },
            ) => {
                if *s != step {
                    return wrong_step(*s);
                }
                if *agents != self.agents {
                    return Err(format!(
                        "step {step}'s decision digest covers {agents} workers, not {}",
                        self.agents
                    ));
                }
                self.phase = Phase::Decided;
                Ok(())
            }
            (Phase::Deciding { covered }, Frame::Llm(_)) if covered > 0 => Err(format!(
                "an LLM exchange between step {step}'s decision blocks"
            )),
            (Phase::Deciding { covered }, Frame::Endpoint(_)) if covered > 0 => Err(format!(
                "an LLM endpoint event between step {step}'s decision blocks"
            )),
            (Phase::Deciding { .. } | Phase::Decided, Frame::Endpoint(e)) => {
                if e.step != step {
                    return wrong_step(e.step);
                }
                Ok(())
            }
            (Phase::Deciding { .. } | Phase::Decided, Frame::Llm(e)) => {
                if e.step != step {
                    return wrong_step(e.step);
                }
                Ok(())
            }
            (Phase::Deciding { covered }, _) => Err(format!(
                "a {kind} frame where step {step} has decided for {covered} of {} workers",
                self.agents
            )),
            (Phase::Decided, Frame::RegionOutcome(o)) => {
                if o.step != step || o.tax_year != self.tax_year {
                    return wrong_step(o.step);
                }
                Ok(())
            }
            (Phase::Decided, Frame::Location(o)) => {
                if o.step != step || o.tax_year != self.tax_year {
                    return wrong_step(o.step);
                }
                Ok(())
            }
            (Phase::Decided, Frame::Outcome(o)) => {
                if o.step != step || o.tax_year != self.tax_year {
                    return wrong_step(o.step);
                }
                self.phase = Phase::Between;
                self.last_year = Some(self.tax_year);
                self.next_step = step + 1;
                Ok(())
            }
            (Phase::Decided, _) => Err(format!(
                "a {kind} frame after step {step} decided, where its outcome was due"
            )),
        }
    }
}

fn frame_kind(frame: &Frame) -> &'static str {
    match frame {
        Frame::StepBegin { .. } => "step-begin",
        Frame::PlannerMove(_) => "planner-move",
        Frame::Decisions { .. } => "decisions",
        Frame::DecisionDigest { .. } => "decision-digest",
        Frame::Outcome(_) => "outcome",
        Frame::Election(_) => "election",
        Frame::Llm(_) => "LLM-exchange",
        Frame::InRegion { .. } => "region",
        Frame::RegionOutcome(_) => "region-outcome",
        Frame::Moves(_) => "moves",
        Frame::FederalMove(_) => "federal-move",
        Frame::Endpoint(_) => "LLM-endpoint",
        Frame::MoverExpectations(_) => "mover-expectations",
        Frame::Location(_) => "location",
    }
}

/// `cannot read PATH: why`, with the path once: an OS error of a log already names its file
/// (`LogError::Io`), so it is not wrapped in a second mention of it.
pub fn cannot_read(path: &Path, e: LogError) -> anyhow::Error {
    match e {
        LogError::Io { cause, .. } => anyhow::anyhow!("cannot read {}: {cause}", path.display()),
        other => anyhow::Error::new(other).context(format!("cannot read {}", path.display())),
    }
}

impl RunLog {
    /// Opens `run_dir/run.log` and reads its header and the scenario it holds.
    pub fn open(run_dir: &Path) -> anyhow::Result<RunLog> {
        let path = run_dir.join(LOG_FILE);
        let reader = LogReader::open(&path).map_err(|e| cannot_read(&path, e))?;
        let header: LogHeader = reader
            .header()
            .with_context(|| format!("{}: the header does not decode", path.display()))?;
        if header.kind != "simulacra-run" {
            bail!(
                "{}: not a simulacra run log (kind {:?})",
                path.display(),
                header.kind
            );
        }
        let scenario = Scenario::from_toml(&header.scenario_toml).with_context(|| {
            format!("{}: the scenario in the header is invalid", path.display())
        })?;
        Ok(RunLog {
            path,
            header,
            scenario,
            reader,
        })
    }

    /// The byte offset where the header frame ends (the first step's frames start there).
    pub fn header_end(&self) -> u64 {
        self.reader.header_end()
    }

    /// The SHA-256 of the header frame's payload (what snapshots are tied to).
    pub fn header_sha256(&self) -> String {
        crate::snapshot::header_sha256(&self.reader.header_raw().payload)
    }

    /// Calls `f(frame, end)` for every frame after the header, in order, where `end` is the
    /// byte offset just past the frame. Stops at the end of the log or at the first frame that
    /// is torn, corrupt, does not decode or is out of place in the frame grammar, and returns
    /// where and what was wrong with it (everything before it was delivered): a torn tail only
    /// when no valid frame follows it. A log that ends between two frames of an unfinished step
    /// is not damaged.
    pub fn frames(
        mut self,
        mut f: impl FnMut(Frame, u64) -> anyhow::Result<()>,
    ) -> anyhow::Result<Option<Damage>> {
        let mut grammar = Grammar::new(self.scenario.simulation.num_agents as u64);
        let mut offset = self.header_end();
        while let Some(next) = self.reader.next_raw() {
            let (frame, end) = match next.and_then(|raw| Ok((raw.decode::<Frame>()?, raw.end()))) {
                Ok(decoded) => decoded,
                Err(e) => return Damage::from_log_error(&self.path, &e, offset).map(Some),
            };
            if let Err(what) = grammar.check(&frame) {
                return Ok(Some(Damage {
                    offset,
                    torn: false,
                    message: format!(
                        "frame at byte {offset} is out of place: {what}; the frames before it \
                         are intact"
                    ),
                }));
            }
            f(frame, end)?;
            offset = end;
        }
        Ok(None)
    }
}
