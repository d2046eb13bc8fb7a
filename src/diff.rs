//! `simulacra diff`: how two runs differ, read from their logs alone. It owns the comparison:
//! the scenario keys whose resolved values differ, whether one run is a fork of the other (the
//! fork's header names its parent's log by SHA-256), the first frame at which the logs part,
//! and a per-tax-year table of welfare, rates, hours and Gini for both runs with their
//! differences. The command's rendering is `cli/diff.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::frames::{Frame, StepOutcome};
use crate::runlog::{Damage, LOG_FILE, RunLog};

/// One scenario key whose resolved value differs (`None`: the key is absent from that run).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeyDifference {
    pub key: String,
    pub a: Option<String>,
    pub b: Option<String>,
}

/// How the two runs are related through `fork`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Relation {
    /// Neither header names the other's log.
    Unrelated,
    /// B was forked from A's log (as it is now) at `at_step`.
    BForkOfA { at_step: u64 },
    /// A was forked from B's log at `at_step`.
    AForkOfB { at_step: u64 },
    /// B names a parent with A's scenario, but A's log has changed since the fork.
    BForkOfAChanged { at_step: u64 },
    /// A names a parent with B's scenario, but B's log has changed since the fork.
    AForkOfBChanged { at_step: u64 },
    /// Both were forked from the same parent log at these steps.
    Siblings { a_at_step: u64, b_at_step: u64 },
}

/// Where the logs part: the first frame (counted after the headers) that differs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FirstDifference {
    /// The frame's index after the header, from 0.
    pub frame: u64,
    /// The step it belongs to in each run (`None`: that log has ended).
    pub step_a: Option<u64>,
    pub step_b: Option<u64>,
    /// What kind of frame each run has there (`None`: that log has ended).
    pub kind_a: Option<&'static str>,
    pub kind_b: Option<&'static str>,
}

/// One tax year of both runs: its means over the steps each run played of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct YearRow {
    pub tax_year: u64,
    pub a: Option<YearFigures>,
    pub b: Option<YearFigures>,
}

/// A tax year's figures in one run: welfare, hours and Gini are means over its steps; the rates
/// are those in force at its first step (they change only between tax years).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct YearFigures {
    pub steps: u64,
    pub welfare: f64,
    pub mean_hours: f64,
    pub gini: f64,
    pub rates: Vec<f64>,
}

/// One run as `diff` read it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSide {
    pub dir: PathBuf,
    pub log_sha256: String,
    /// Whole steps read (each ended on its outcome).
    pub steps: u64,
    /// The scenario's `simulation.timesteps`.
    pub timesteps: u64,
    /// Where the log stops being readable, if it does (the rest was compared).
    pub damage: Option<String>,
}

/// Everything `diff` says about two runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunDiff {
    pub a: RunSide,
    pub b: RunSide,
    pub same_scenario: bool,
    pub scenario_differences: Vec<KeyDifference>,
    pub relation: Relation,
    /// `None`: the logs hold the same frames (and so the same game).
    pub first_difference: Option<FirstDifference>,
    pub years: Vec<YearRow>,
}

/// What one log contributes: each frame's step, kind and digest, the step outcomes, and what
/// its header says about a parent.
struct Read {
    side: RunSide,
    scenario_toml: String,
    fork: Option<crate::frames::ForkOrigin>,
    frames: Vec<(u64, &'static str, [u8; 32])>,
    outcomes: Vec<StepOutcome>,
}

/// The frame's kind, as `inspect` and the docs name it.
pub fn frame_kind(frame: &Frame) -> &'static str {
    match frame {
        Frame::StepBegin { .. } => "StepBegin",
        Frame::PlannerMove(_) => "PlannerMove",
        Frame::Decisions { .. } => "Decisions",
        Frame::DecisionDigest { .. } => "DecisionDigest",
        Frame::Outcome(_) => "Outcome",
        Frame::Election(_) => "Election",
        Frame::Llm(_) => "Llm",
        Frame::InRegion { .. } => "InRegion",
        Frame::RegionOutcome(_) => "RegionOutcome",
        Frame::Moves(_) => "Moves",
        Frame::FederalMove(_) => "FederalMove",
        Frame::Endpoint(_) => "Endpoint",
        Frame::MoverExpectations(_) => "MoverExpectations",
        Frame::Location(_) => "Location",
    }
}

fn file_sha256(path: &Path) -> anyhow::Result<String> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn step_of(frame: &Frame, current: u64) -> u64 {
    match frame {
        Frame::StepBegin { step, .. } => *step,
        Frame::Outcome(o) => o.step,
        _ => current,
    }
}

fn read(dir: &Path) -> anyhow::Result<Read> {
    let log = RunLog::open(dir)?;
    let scenario_toml = log.header.scenario_toml.clone();
    let fork = log.header.fork.clone();
    let timesteps = log.scenario.simulation.timesteps;
    let mut frames = Vec::new();
    let mut outcomes = Vec::new();
    let mut step = 0;
    let mut buf = Vec::new();
    let damage: Option<Damage> = log.frames(|frame, _end| {
        step = step_of(&frame, step);
        buf.clear();
        simulacra_actors::log::encode_payload(&frame, &mut buf)
            .map_err(|e| anyhow::anyhow!("a frame does not encode: {e}"))?;
        frames.push((step, frame_kind(&frame), Sha256::digest(&buf).into()));
        if let Frame::Outcome(o) = frame {
            outcomes.push(o);
        }
        Ok(())
    })?;
    Ok(Read {
        side: RunSide {
            dir: dir.to_path_buf(),
            log_sha256: file_sha256(&dir.join(LOG_FILE))?,
            steps: outcomes.len() as u64,
            timesteps,
            damage: damage.map(|d| d.message),
        },
        scenario_toml,
        fork,
        frames,
        outcomes,
    })
}

/// A resolved scenario as dotted keys and their values (arrays and strings as TOML writes them).
fn flatten(toml_text: &str) -> BTreeMap<String, String> {
    fn walk(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
        match value {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    if let Ok(table) = toml_text.parse::<toml::Table>() {
        walk("", &toml::Value::Table(table), &mut out);
    }
    out
}

/// The keys whose values differ between two resolved scenarios, in key order.
pub fn scenario_differences(a: &str, b: &str) -> Vec<KeyDifference> {
    let (a, b) = (flatten(a), flatten(b));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| KeyDifference {
            key: k.clone(),
            a: a.get(k).cloned(),
            b: b.get(k).cloned(),
        })
        .collect()
}

fn relation(a: &Read, b: &Read) -> Relation {
    match (&a.fork, &b.fork) {
        (_, Some(fb)) if fb.parent_log_sha256 == a.side.log_sha256 => Relation::BForkOfA {
            at_step: fb.at_step,
        },
        (Some(fa), _) if fa.parent_log_sha256 == b.side.log_sha256 => Relation::AForkOfB {
            at_step: fa.at_step,
        },
        (Some(fa), Some(fb)) if fa.parent_log_sha256 == fb.parent_log_sha256 => {
            Relation::Siblings {
                a_at_step: fa.at_step,
                b_at_step: fb.at_step,
            }
        }
        (_, Some(fb)) if fb.parent_scenario_toml == a.scenario_toml => Relation::BForkOfAChanged {
            at_step: fb.at_step,
        },
        (Some(fa), _) if fa.parent_scenario_toml == b.scenario_toml => Relation::AForkOfBChanged {
            at_step: fa.at_step,
        },
        _ => Relation::Unrelated,
    }
}

fn first_difference(a: &Read, b: &Read) -> Option<FirstDifference> {
    let n = a.frames.len().max(b.frames.len());
    (0..n).find_map(|i| {
        let (fa, fb) = (a.frames.get(i), b.frames.get(i));
        let same = matches!((fa, fb), (Some(x), Some(y)) if x.2 == y.2);
        (!same).then(|| FirstDifference {
            frame: i as u64,
            step_a: fa.map(|f| f.0),
            step_b: fb.map(|f| f.0),
            kind_a: fa.map(|f| f.1),
            kind_b: fb.map(|f| f.1),
        })
    })
}

/// Each tax year's figures: means over the steps played of it.
pub fn year_figures(outcomes: &[StepOutcome]) -> BTreeMap<u64, YearFigures> {
    let mut out = BTreeMap::new();
    for year in outcomes.chunk_by(|x, y| x.tax_year == y.tax_year) {
        let n = year.len() as f64;
        let mean = |f: fn(&StepOutcome) -> f64| year.iter().map(f).sum::<f64>() / n;
        out.insert(
            year[0].tax_year,
            YearFigures {
                steps: year.len() as u64,
                welfare: mean(|o| o.welfare),
                mean_hours: mean(|o| o.mean_hours),
                gini: mean(|o| o.gini),
                rates: year[0].rates.clone(),
            },
        );
    }
    out
}

/// Compares two run folders from their logs.
pub fn diff_runs(a_dir: &Path, b_dir: &Path) -> anyhow::Result<RunDiff> {
    let a = read(a_dir)?;
    let b = read(b_dir)?;
    let scenario_differences = scenario_differences(&a.scenario_toml, &b.scenario_toml);
    let (ya, yb) = (year_figures(&a.outcomes), year_figures(&b.outcomes));
    let mut years: Vec<u64> = ya.keys().chain(yb.keys()).copied().collect();
    years.sort_unstable();
    years.dedup();
    let years = years
        .into_iter()
        .map(|y| YearRow {
            tax_year: y,
            a: ya.get(&y).cloned(),
            b: yb.get(&y).cloned(),
        })
        .collect();
    Ok(RunDiff {
        same_scenario: scenario_differences.is_empty(),
        relation: relation(&a, &b),
        first_difference: first_difference(&a, &b),
        scenario_differences,
        years,
        a: a.side,
        b: b.side,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_keys_that_differ_are_named_with_both_values() {
        let a = "[simulation]\nseed = 1\ntimesteps = 50\n[planner]\npolicy = \"saez\"\n";
        let b =
            "[simulation]\nseed = 2\ntimesteps = 50\n[planner]\npolicy = \"saez\"\nrates = [0.1]\n";
        let d = scenario_differences(a, b);
        assert_eq!(
            d,
            vec![
                KeyDifference {
                    key: "planner.rates".into(),
                    a: None,
                    b: Some("[0.1]".into())
                },
                KeyDifference {
                    key: "simulation.seed".into(),
                    a: Some("1".into()),
                    b: Some("2".into())
                },
            ]
        );
        assert!(scenario_differences(a, a).is_empty());
    }

    #[test]
    fn a_year_is_the_mean_of_its_steps_with_its_first_steps_rates() {
        let o = |step, tax_year, welfare, hours| StepOutcome {
            step,
            tax_year,
            rates: vec![0.1 * (tax_year + 1) as f64],
            revenue: 0.0,
            rebate: 0.0,
            welfare,
            gini: 0.5,
            mean_hours: hours,
            mean_income: 0.0,
            mean_utility: 0.0,
        };
        let years = year_figures(&[o(0, 0, 1.0, 10.0), o(1, 0, 3.0, 20.0), o(2, 1, 5.0, 30.0)]);
        assert_eq!(years[&0].welfare, 2.0);
        assert_eq!(years[&0].mean_hours, 15.0);
        assert_eq!(years[&0].steps, 2);
        assert_eq!(years[&1].rates, vec![0.2]);
    }
}
