//! Resume and replay: continuing a run that stopped from its log (and newest usable snapshot),
//! and re-executing a recorded run to compare every frame.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix::System;
use anyhow::Context;
use simulacra_actors::{Divergence, VerifySink, run_game};

use crate::config::LlmEndpoint;
use crate::frames::{ExchangeOutcome, Frame, LlmExchange};
use crate::llm::{Answers, LlmRuntime, Recording};
use crate::population::Population;
use crate::resolved::ResolvedScenario;
use crate::runlog::{BeyondDamage, Damage, RunLog, beyond_damage, whole_steps_in};
use simulacra_actors::log::Piece;

use super::assemble::{RunStart, run_into, start_economy, warn_skipped};
use super::header::fsync_of;
use super::summary::Summary;

/// The whole steps of a log: how many, and the frames and bytes they end at.
pub(super) struct WholeSteps {
    pub(super) steps: u64,
    pub(super) frames: u64,
    pub(super) bytes: u64,
    pub(super) header_sha256: String,
    /// The LLM exchanges found on the way, the unfinished step's too (a resume reuses only
    /// the whole steps').
    pub(super) exchanges: Vec<crate::frames::LlmExchange>,
    /// The endpoint ejections and returns found on the way.
    pub(super) endpoint_events: Vec<crate::frames::EndpointEvent>,
    /// Where the log stopped being readable, if it did.
    pub(super) damage: Option<Damage>,
    /// The whole steps' outcomes, in step order (a run restored from a snapshot takes those
    /// before it from here: snapshots do not hold them).
    pub(super) outcomes: Vec<crate::frames::StepOutcome>,
    /// Every readable frame, an unfinished step's after the last whole one included.
    pub(super) all_frames: u64,
}

/// Reads `log` up to its last whole step (the last `Outcome` frame before the end or the first
/// bad frame).
pub(super) fn whole_steps(log: RunLog) -> anyhow::Result<WholeSteps> {
    let mut w = WholeSteps {
        steps: 0,
        frames: 0,
        bytes: log.header_end(),
        header_sha256: log.header_sha256(),
        exchanges: Vec::new(),
        endpoint_events: Vec::new(),
        damage: None,
        outcomes: Vec::new(),
        all_frames: 0,
    };
    let mut frames = 0u64;
    w.damage = log.frames(|frame, end| {
        frames += 1;
        match frame {
            Frame::Outcome(o) => {
                w.frames = frames;
                w.bytes = end;
                w.steps = o.step + 1;
                w.outcomes.push(o);
            }
            Frame::Llm(e) => w.exchanges.push(e),
            Frame::Endpoint(e) => w.endpoint_events.push(e),
            _ => {}
        }
        Ok(())
    })?;
    w.all_frames = frames;
    Ok(w)
}

/// What `resume` found and did.
pub struct Resumed {
    pub summary: Summary,
    /// Whole steps that were already in the log.
    pub steps_kept: u64,
    /// Bytes of a torn or incomplete step cut from the end of the log.
    pub bytes_cut: u64,
    /// A corrupt or out-of-place frame the log was cut at (rather than a torn end), with what
    /// could still be read after it: steps and recorded LLM answers that are recomputed.
    pub corruption: Option<(Damage, BeyondDamage)>,
    /// Where the bytes cut from a corrupt log were kept (`run.log.damaged-at-OFFSET`, from the
    /// cut point to the old end), and from which byte of the log they came.
    pub kept: Option<(PathBuf, u64)>,
    /// Recorded LLM exchanges found past the damage and reused by the re-executed steps.
    pub salvaged: u64,
    /// Steps this resume executed (re-executed and checked against the kept log, then new).
    pub steps_executed: u64,
    /// The step the run was restored to from a snapshot (none: re-executed from step 0).
    pub from_snapshot: Option<u64>,
}

/// Resumes a run that stopped (a crash, a kill, a power loss): cuts the log back to its last
/// whole step, restores the run from its newest usable snapshot (or starts over from its
/// header), re-executes the steps after that point (checking every frame against the kept
/// log, and answering LLM requests from the recorded exchanges, so nothing is paid twice),
/// and appends the rest. The final log is byte-identical to an uninterrupted run's.
pub fn resume_run(run_dir: &Path) -> anyhow::Result<Resumed> {
    resume(run_dir, None)
}

/// [`resume_run`] against the inference servers of `endpoint` (the current base URLs, API key
/// variable, timeout and concurrency) instead of those in the log's header: a run requeued on
/// another node reaches that node's server. These settings cannot change the run's results, and
/// the header is kept as it was, so the final log is the uninterrupted run's still.
pub fn resume_run_at(run_dir: &Path, endpoint: LlmEndpoint) -> anyhow::Result<Resumed> {
    resume(run_dir, Some(endpoint))
}

fn resume(run_dir: &Path, endpoint: Option<LlmEndpoint>) -> anyhow::Result<Resumed> {
    let opened = RunLog::open(run_dir)?;
    let (run_header, mut scenario, log) = (
        opened.header.clone(),
        opened.scenario.clone(),
        opened.path.clone(),
    );
    if let Some(e) = endpoint {
        scenario.llm.set_endpoint(e);
    }
    let whole = whole_steps(opened)?;
    let corruption = match &whole.damage {
        Some(d) if !d.torn => Some((d.clone(), beyond_damage(&log, d)?)),
        _ => None,
    };
    if let Some((d, beyond)) = &corruption {
        tracing::warn!(
            offset = d.offset,
            next_valid = beyond.next_valid,
            steps_lost = beyond.steps,
            llm_answers_lost = beyond.llm_answers,
            "resume cuts a corrupt log: {d}"
        );
    }
    let len = std::fs::metadata(&log)
        .with_context(|| format!("cannot read {}", log.display()))?
        .len();
    let mut kept = None;
    if len > whole.bytes {
        if let Some((d, _)) = &corruption {
            let to = log.with_file_name(format!(
                "{}.damaged-at-{}",
                crate::runlog::LOG_FILE,
                d.offset
            ));
            keep_tail(&log, whole.bytes, &to)?;
            kept = Some((to, whole.bytes));
        }
        let file = std::fs::OpenOptions::new().write(true).open(&log)?;
        file.set_len(whole.bytes)
            .with_context(|| format!("cannot cut {} back to its last whole step", log.display()))?;
        file.sync_all()?;
    }
    let fsync = fsync_of(&scenario);
    let mut skipped = Vec::new();
    let mut sink = None;
    let start = crate::snapshot::newest_usable(
        run_dir,
        &crate::snapshot::Wanted {
            header_sha256: &whole.header_sha256,
            latest_step: whole.steps,
            whole_frames: whole.frames,
            whole_bytes: whole.bytes,
        },
        |s| {
            let opened = simulacra_actors::ResumeSink::open(
                &log,
                Some(&s.log),
                whole.frames - s.log.frames,
                fsync,
            )
            .map_err(|e| e.to_string())?;
            sink = Some(opened);
            Ok(())
        },
        &mut skipped,
    );
    warn_skipped(&skipped);
    let sink = match sink {
        Some(sink) => sink,
        None => simulacra_actors::ResumeSink::open(&log, None, whole.frames, fsync)?,
    };
    let from_snapshot = start.as_ref().map(|s| s.next_step);
    // The cadence is not in the log's header; a run restored from a snapshot keeps its own.
    if let Some(s) = &start {
        scenario.log.snapshot_every_years = s.every_years;
        scenario.log.snapshots_keep = s.keep;
    }
    // Only whole steps' answers are reused. The unfinished step's may end inside a request's
    // retries (a kill between two attempts, when the writer's buffer filled mid-step): its
    // first attempt would be served from the log and the retry found missing. That step is
    // asked again in full, unless the log is corrupt and the step went on past the damage.
    let (mut answers, unfinished): (Vec<_>, Vec<_>) = whole
        .exchanges
        .into_iter()
        .partition(|e| e.step < whole.steps);
    let salvaged = match &corruption {
        Some((_, beyond)) => salvage(&beyond.pieces, whole.steps, unfinished),
        None => Vec::new(),
    };
    let salvaged_count = salvaged.len() as u64;
    answers.extend(salvaged);
    let summary = run_into(
        &scenario,
        run_header.fork.as_ref(),
        run_dir,
        None,
        sink,
        Answers::Resume(
            Recording::new(answers).with_endpoint_events(whole.endpoint_events, whole.steps),
        ),
        RunStart::new(&run_header, start, run_dir, whole.outcomes)?,
    )?;
    Ok(Resumed {
        steps_executed: summary.steps_run.saturating_sub(from_snapshot.unwrap_or(0)),
        summary,
        steps_kept: whole.steps,
        bytes_cut: len - whole.bytes,
        corruption,
        kept,
        salvaged: salvaged_count,
        from_snapshot,
    })
}

/// Copies the bytes of `log` from `from` to its end into `to` (created or replaced), and
/// forces them to disk before the log is cut.
fn keep_tail(log: &Path, from: u64, to: &Path) -> anyhow::Result<()> {
    use std::io::{Seek, SeekFrom};
    let mut input = simulacra_actors::log::open_regular(log)
        .with_context(|| format!("cannot read {}", log.display()))?;
    input.seek(SeekFrom::Start(from))?;
    let mut out = std::fs::File::create(to)
        .with_context(|| format!("cannot keep the damaged bytes in {}", to.display()))?;
    std::io::copy(&mut input, &mut out)
        .and_then(|_| out.sync_all())
        .with_context(|| format!("cannot keep the damaged bytes in {}", to.display()))?;
    Ok(())
}

/// The recorded LLM exchanges of a corrupt log's tail that the re-executed steps may reuse:
/// those of the steps found whole past the damage, and those of the damaged step `damaged`
/// (from before the damage, `before`, and after it) when the step went on past the damage.
/// As for an unfinished step, a request whose attempts may have lost one is asked again: of
/// the damaged step, only a request whose attempts count from 0 without a hole and end on an
/// answer is reused (the replay of a recorded request follows its retries to the end).
fn salvage(pieces: &[Piece<Frame>], damaged: u64, before: Vec<LlmExchange>) -> Vec<LlmExchange> {
    let whole = whole_steps_in(pieces);
    let found = pieces.iter().filter_map(|p| match p {
        Piece::Frame { frame, .. } => Some(frame),
        Piece::Gap { .. } => None,
    });
    let mut reused = Vec::new();
    let mut damaged_step = before;
    let mut went_on = false;
    for frame in found {
        match frame {
            Frame::Llm(e) if e.step == damaged => damaged_step.push(e.clone()),
            Frame::Llm(e) if e.step > damaged && whole.contains(&e.step) => reused.push(e.clone()),
            Frame::Outcome(o) if o.step >= damaged => went_on = true,
            Frame::StepBegin { step, .. } if *step > damaged => went_on = true,
            _ => {}
        }
    }
    if went_on {
        let mut requests: BTreeMap<(String, u64), Vec<LlmExchange>> = BTreeMap::new();
        for e in damaged_step {
            requests
                .entry((e.role.clone(), e.agent))
                .or_default()
                .push(e);
        }
        for (_, mut attempts) in requests {
            attempts.sort_by_key(|e| e.attempt);
            let counted = attempts
                .iter()
                .enumerate()
                .all(|(i, e)| e.attempt == i as u32);
            let answered = attempts
                .last()
                .is_some_and(|e| !matches!(e.outcome, ExchangeOutcome::Failed { .. }));
            if counted && answered {
                reused.extend(attempts);
            }
        }
    }
    reused
}

/// The outcome of `simulacra replay --verify`.
pub enum ReplayVerdict {
    Identical {
        frames: u64,
    },
    Differs(Divergence),
    /// The re-execution stopped before it could compare everything.
    Failed(String),
    /// A run that has not finished (a signal, a kill, an LLM budget): every frame its log
    /// holds matches, but the log ends after `steps` of the run's `timesteps` (followed by
    /// `torn_frames` frames of a step it did not finish, which `resume` cuts).
    Unfinished {
        frames: u64,
        steps: u64,
        timesteps: u64,
        torn_frames: u64,
    },
}

/// Re-executes a recorded run from its header and compares every frame.
pub fn verify_replay(run_dir: &Path) -> anyhow::Result<ReplayVerdict> {
    let opened = RunLog::open(run_dir)?;
    let (header, scenario, log) = (
        opened.header.clone(),
        ResolvedScenario::new(opened.scenario.clone())?,
        opened.path.clone(),
    );
    if header.simulacra_version != env!("CARGO_PKG_VERSION") {
        tracing::warn!(
            recorded = %header.simulacra_version,
            "the log was written by another simulacra version; a difference may come from that"
        );
    }
    let sink = VerifySink::open(&log)?;
    // Every LLM exchange recorded in the log is what the replay answers from; a damaged tail is
    // reported by the frame comparison, so answer from the intact prefix. An LLM run may have
    // stopped early on its servers' failures (llm.max_fallback_share), which a replay, asking
    // no server, cannot see: it re-executes the steps the log holds.
    let (recording, steps, held) = if scenario.uses_llm() {
        let whole = whole_steps(opened)?;
        let held = Held::of(&whole);
        let recording = Recording::new(whole.exchanges)
            .with_endpoint_events(whole.endpoint_events, whole.steps);
        (Some(recording), whole.steps, Some(held))
    } else {
        (None, scenario.simulation.timesteps, None)
    };
    System::new().block_on(async move {
        let population = Arc::new(Population::generate(&scenario));
        let llm = match recording {
            Some(r) => Some(LlmRuntime::new(&scenario, Answers::Replay(r))?),
            None => None,
        };
        let (economy, _) = start_economy(&scenario, header.fork.as_ref(), population, llm).await?;
        let mut sink = match run_game(economy, sink, 0..steps, None).await {
            Ok(done) => {
                done.game.stop();
                done.sink
            }
            Err(failed) => {
                failed.game.stop();
                // A replay that could not answer a request says which step and agent.
                if failed.sink.divergence().is_none() {
                    return Ok(ReplayVerdict::Failed(failed.error.to_string()));
                }
                failed.sink
            }
        };
        let verdict = match sink.check_end() {
            None => ReplayVerdict::Identical {
                frames: sink.frames_matched,
            },
            Some(d) => ReplayVerdict::Differs(d.clone()),
        };
        let timesteps = scenario.simulation.timesteps;
        if matches!(verdict, ReplayVerdict::Identical { .. }) && steps == timesteps {
            // Every step of the run re-executed and matched: a finished run.
            return Ok(verdict);
        }
        let held = match held {
            Some(h) => h,
            None => Held::of(&whole_steps(RunLog::open(run_dir)?)?),
        };
        Ok(unfinished(verdict, &held, timesteps))
    })
}

/// What a log holds, for telling an unfinished run from a damaged one.
struct Held {
    steps: u64,
    /// Frames up to the last whole step, and every readable frame.
    frames: u64,
    all_frames: u64,
    damaged: bool,
}

impl Held {
    fn of(w: &WholeSteps) -> Held {
        Held {
            steps: w.steps,
            frames: w.frames,
            all_frames: w.all_frames,
            damaged: w.damage.is_some(),
        }
    }
}

/// A verdict on a run that has not finished, said as such: every frame its log holds matched
/// the re-execution, and the log ends before the run does (on a whole step, or inside a step
/// it did not finish). Any other verdict is returned as it came.
fn unfinished(verdict: ReplayVerdict, held: &Held, timesteps: u64) -> ReplayVerdict {
    let matched = match &verdict {
        ReplayVerdict::Identical { frames } => *frames,
        ReplayVerdict::Differs(Divergence::RecordingEnds { index }) => *index,
        // An LLM run is re-executed to its last whole step: the frames of a step it did not
        // finish are left over.
        ReplayVerdict::Differs(Divergence::RecordingLonger { index, .. }) => *index,
        _ => return verdict,
    };
    if held.damaged || held.steps >= timesteps {
        return verdict;
    }
    let all_matched = match &verdict {
        ReplayVerdict::Differs(Divergence::RecordingLonger { .. }) => matched == held.frames,
        _ => matched == held.all_frames,
    };
    if !all_matched {
        return verdict;
    }
    ReplayVerdict::Unfinished {
        frames: matched,
        steps: held.steps,
        timesteps,
        torn_frames: held.all_frames - held.frames,
    }
}
