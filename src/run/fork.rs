//! `fork`: a counterfactual run that shares the parent's log up to a step, then lets another
//! planner or governance take over.

use std::path::Path;

use anyhow::{Context, bail};
use simulacra_actors::{FrameSink, LogReader, LogWriter};

use crate::config::Scenario;
use crate::frames::ForkOrigin;
use crate::llm::{Answers, Recording};
use crate::runlog::{LOG_FILE, RunLog};

use super::assemble::{RunStart, clear_old_snapshots, run_into, warn_skipped};
use super::header::{fsync_of, header};
use super::replay::whole_steps;
use super::summary::Summary;

/// What a fork may change, in one sentence for its refusals.
const FORK_MAY_CHANGE: &str = "a fork may change [planner], [governance], [baselines], \
     simulation.timesteps and log.fsync, and in a federation, at a tax year's first step, each \
     region's planner, rates, governance, rule and term, the federal layer's planner, rates, \
     governance, rule and term, equalization, equalization_rate, objective, public_good, \
     moving_cost, move_every_years, move_share and move_expectations";

/// A federation's keys with what a fork may change reset, so what is left must match.
fn federation_fixed_part(f: &crate::config::Federation) -> crate::config::Federation {
    let d = crate::config::Federation::default();
    let mut t = f.clone();
    t.federal_planner = None;
    t.federal_rates = Vec::new();
    t.federal_governance = None;
    t.federal_rule = None;
    t.federal_term_years = None;
    t.equalization = d.equalization;
    t.equalization_rate = d.equalization_rate;
    t.objective = d.objective;
    t.public_good = d.public_good;
    t.moving_cost = d.moving_cost;
    t.move_every_years = d.move_every_years;
    t.move_share = d.move_share;
    t.move_expectations = d.move_expectations;
    for r in &mut t.region {
        r.planner = None;
        r.rates = Vec::new();
        r.governance = None;
        r.rule = None;
        r.term_years = None;
    }
    t
}

/// Keys a fork may change: who governs and how long the run goes on (and a federation's
/// policies, from a tax year's first step). Everything else (the people, the economy, the
/// seed, the LLM, the regions and tastes) must stay, or the prefix would not be shared.
fn check_fork_changes(parent: &Scenario, child: &Scenario, at_step: u64) -> anyhow::Result<()> {
    let strip = |s: &Scenario| {
        let mut t = s.clone();
        t.name.clear();
        t.planner = crate::config::Planner::default();
        t.governance = crate::config::Governance::default();
        t.baselines = crate::config::Baselines::default();
        t.simulation.timesteps = 0;
        t.simulation.shards = 0;
        t.log.fsync = crate::config::FsyncPolicy::Never;
        t.federation = t.federation.as_ref().map(federation_fixed_part);
        toml::to_string(&t).unwrap_or_default()
    };
    let (a, b) = (strip(parent), strip(child));
    if a != b {
        let differing: Vec<String> = a
            .lines()
            .zip(b.lines())
            .filter(|(x, y)| x != y)
            .map(|(_, y)| y.to_string())
            .take(3)
            .collect();
        bail!(
            "{FORK_MAY_CHANGE}; this one also changes: {} (start a new run to change the \
             people, the economy, the seed, the LLM or the regions themselves)",
            if differing.is_empty() {
                "the number of keys".to_string()
            } else {
                differing.join("; ")
            }
        );
    }
    if let (Some(p), Some(c)) = (&parent.federation, &child.federation) {
        if p.federal_mode().is_some() != c.federal_mode().is_some() {
            bail!(
                "{FORK_MAY_CHANGE}; this one adds or removes the federal layer, which a fork \
                 keeps as it is (start a new run to change it)"
            );
        }
        let year = child.simulation.tax_year_length.max(1);
        if p != c && !at_step.is_multiple_of(year) {
            bail!(
                "{FORK_MAY_CHANGE}; this one changes [federation] at step {at_step}, inside a \
                 tax year: fork at a tax year's first step (a multiple of {year}, for example \
                 {})",
                at_step.div_ceil(year) * year
            );
        }
    }
    Ok(())
}

/// Forks `run_dir` at `at_step` into `out_dir`: the new run is the old one until `at_step`
/// (its log frames are the same bytes, LLM answers come from the old log), then the changed
/// planner or governance takes over. The shared prefix is copied from the parent's log up to
/// the parent's latest snapshot before `at_step`, and re-executed from there (from step 0
/// when the parent has none).
pub fn fork_run(
    run_dir: &Path,
    at_step: u64,
    sets: &[String],
    out_dir: &Path,
) -> anyhow::Result<Forked> {
    plan_fork(run_dir, at_step, sets, out_dir)?.run(out_dir)
}

/// A fork that was checked and may start: the parent read, the child's scenario resolved and
/// allowed. Nothing has been written yet.
pub struct ForkPlan {
    run_dir: std::path::PathBuf,
    at_step: u64,
    parent_log: std::path::PathBuf,
    child: Scenario,
    origin: ForkOrigin,
    whole: super::replay::WholeSteps,
}

/// Checks a fork of `run_dir` at `at_step` into `out_dir` without writing anything, so that a
/// refused fork leaves no trace (no folder, no lock file) behind.
pub fn plan_fork(
    run_dir: &Path,
    at_step: u64,
    sets: &[String],
    out_dir: &Path,
) -> anyhow::Result<ForkPlan> {
    let opened = RunLog::open(run_dir)?;
    let (parent_header, parent, parent_log) = (
        opened.header.clone(),
        opened.scenario.clone(),
        opened.path.clone(),
    );
    if parent_header.fork.is_some() {
        bail!(
            "{} is itself a fork; fork its parent instead",
            run_dir.display()
        );
    }
    let whole = whole_steps(opened)?;
    if at_step == 0 || at_step > whole.steps {
        bail!(
            "--at must be between 1 and {} (the steps in {})",
            whole.steps,
            parent_log.display()
        );
    }
    if out_dir.exists()
        && std::fs::canonicalize(out_dir).ok() == std::fs::canonicalize(run_dir).ok()
    {
        bail!(
            "--out {} is the parent run's own folder: a fork writes a new run, so give it \
             another folder",
            out_dir.display()
        );
    }
    let child = Scenario::resolve(&parent.to_toml(), &[], sets)?;
    check_fork_changes(&parent, &child, at_step)?;
    let origin = ForkOrigin {
        parent_scenario_toml: parent_header.scenario_toml.clone(),
        at_step,
        parent_log_sha256: simulacra_actors::log::file_sha256(&parent_log)?,
    };
    Ok(ForkPlan {
        run_dir: run_dir.to_path_buf(),
        at_step,
        parent_log,
        child,
        origin,
        whole,
    })
}

impl ForkPlan {
    /// Writes the fork into `out_dir` (the folder the plan was checked for).
    pub fn run(self, out_dir: &Path) -> anyhow::Result<Forked> {
        let ForkPlan {
            run_dir,
            at_step,
            parent_log,
            child,
            origin,
            whole,
        } = self;
        let mut skipped = Vec::new();
        let start = crate::snapshot::newest_usable(
            &run_dir,
            &crate::snapshot::Wanted {
                header_sha256: &whole.header_sha256,
                latest_step: at_step,
                whole_frames: whole.frames,
                whole_bytes: whole.bytes,
            },
            |s| {
                let found = simulacra_actors::log::prefix_sha256(&parent_log, s.log.bytes)
                    .map_err(|e| e.to_string())?;
                if found == s.log.sha256 {
                    Ok(())
                } else {
                    Err("the log before it is not the one it was taken from".into())
                }
            },
            &mut skipped,
        );
        warn_skipped(&skipped);

        std::fs::create_dir_all(out_dir)
            .with_context(|| format!("cannot create the output folder {}", out_dir.display()))?;
        let mut h = header(&child);
        h.fork = Some(origin.clone());
        let mut sink = LogWriter::create(&out_dir.join(LOG_FILE), &h, fsync_of(&child))
            .context("the message log failed")?;
        clear_old_snapshots(out_dir)?;
        if let Some(snapshot) = &start {
            // The prefix is the parent's frames, byte for byte.
            let mut reader = LogReader::open(&parent_log)?;
            for _ in 0..snapshot.log.frames {
                match reader.next_raw() {
                    Some(Ok(raw)) => sink.append_raw(&raw.payload)?,
                    Some(Err(e)) => return Err(e.into()),
                    None => bail!("{} ended inside the shared prefix", parent_log.display()),
                }
            }
            FrameSink::<crate::frames::Frame>::end_step(&mut sink)?;
        }
        // Only the prefix's answers are the fork's: from `at_step` on its agents see another
        // schedule, so their requests differ from the parent's and are asked anew.
        let answers = if child.uses_llm() {
            let prefix = whole.exchanges.into_iter().filter(|e| e.step < at_step);
            Answers::Resume(
                Recording::new(prefix.collect::<Vec<_>>())
                    .with_endpoint_events(whole.endpoint_events, at_step),
            )
        } else {
            Answers::Live
        };
        let from_snapshot = start.as_ref().map(|s| s.next_step);
        let summary = run_into(
            &child,
            Some(&origin),
            out_dir,
            None,
            sink,
            answers,
            RunStart::new(&h, start, &run_dir, whole.outcomes)?,
        )?;
        Ok(Forked {
            summary,
            from_snapshot,
        })
    }
}

/// What `fork` did.
pub struct Forked {
    pub summary: Summary,
    /// The step the shared prefix was restored to from the parent's snapshot (none: the
    /// fork re-executed the prefix from step 0).
    pub from_snapshot: Option<u64>,
}
