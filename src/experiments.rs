//! Two experiments on a scenario's economy:
//!
//! - [`empirical_saez`]: the reference's "dynamic empirical Saez" experiment. Play the game
//!   under a baseline schedule, then with each bracket's rate moved up and down by a few
//!   points, measure each worker's arc elasticity of hours with respect to the net-of-tax rate
//!   from her responses, plug the brackets' mean elasticities into Saez's formula, and compare
//!   the welfare of that schedule with static Saez and the 2024 US schedule. The workers are
//!   the scenario's (offline or LLM); every phase is a fresh game (memories reset, as the
//!   reference resets labour to the baseline).
//! - [`optimum`]: the leader's Stackelberg optimum for rational followers: the schedule that
//!   maximizes welfare given exact best responses (`econ::equilibrium`), by grid search and
//!   local refinement.
//!
//! About 650 lines of code: the two experiments share the phase runner and the renderers; each
//! would be its own file if a third experiment arrives.

use std::sync::Arc;

use actix::System;
use anyhow::{Context, bail};
use serde::Serialize;
use simulacra_actors::{FrameSink, LogDigest, LogError, run_game};

use crate::config::{PlannerPolicyName, Scenario};
use crate::econ::{TaxSchedule, equilibrium, us_federal_2024, us_federal_2024_on};
use crate::frames::{Frame, StepOutcome};
use crate::game::Economy;
use crate::llm::LlmRuntime;
use crate::policy::FixedSchedule;
use crate::population::Population;
use crate::resolved::ResolvedScenario;
use crate::run::assemble::saez_schedule;

/// A sink that keeps only the sum of every worker's hours over steps `>= from_step`.
struct HoursSink {
    from_step: u64,
    sums: Vec<f64>,
    steps: u64,
}

impl FrameSink<Frame> for HoursSink {
    fn append(&mut self, frame: &Frame) -> Result<(), LogError> {
        if let Frame::Decisions {
            step,
            first_agent,
            hours,
        } = frame
            && *step >= self.from_step
        {
            let first = *first_agent as usize;
            if self.sums.len() < first + hours.len() {
                self.sums.resize(first + hours.len(), 0.0);
            }
            for (s, h) in self.sums[first..].iter_mut().zip(hours) {
                *s += h;
            }
            if first == 0 {
                self.steps += 1;
            }
        }
        Ok(())
    }
    fn end_step(&mut self) -> Result<(), LogError> {
        Ok(())
    }
    fn finish(&mut self) -> Result<LogDigest, LogError> {
        Ok(LogDigest {
            frames: 0,
            bytes: 0,
            sha256: String::new(),
        })
    }
}

/// One phase's result: each worker's mean hours over the phase's second half, and the records.
struct Phase {
    hours: Vec<f64>,
    records: Vec<StepOutcome>,
}

/// Plays `steps` steps of `scenario`'s workers under the fixed `schedule`.
async fn phase(
    scenario: &ResolvedScenario,
    population: &Arc<Population>,
    schedule: &TaxSchedule,
    steps: u64,
) -> anyhow::Result<Phase> {
    let s = scenario.with_changes(|s| {
        s.simulation.timesteps = steps;
        s.simulation.tax_year_length = steps;
        s.planner.policy = PlannerPolicyName::Fixed;
        s.planner.rates = schedule.rates().to_vec();
        s.log.decisions = crate::config::DecisionLog::Full;
    })?;
    let llm = if s.uses_llm() {
        Some(LlmRuntime::new(&s, crate::llm::Answers::Live)?)
    } else {
        None
    };
    let planner = Box::new(FixedSchedule {
        name: "fixed",
        schedule: schedule.clone(),
    });
    let economy = Economy::start(&s, Arc::clone(population), planner, llm).await;
    let sink = HoursSink {
        from_step: steps / 2,
        sums: Vec::new(),
        steps: 0,
    };
    match run_game(economy, sink, 0..steps, None).await {
        Ok(done) => {
            let records = done.game.records().to_vec();
            done.game.stop();
            let n = done.sink.steps.max(1) as f64;
            Ok(Phase {
                hours: done.sink.sums.iter().map(|h| h / n).collect(),
                records,
            })
        }
        Err(failed) => {
            failed.game.stop();
            bail!("a phase stopped at step {}: {}", failed.step, failed.error)
        }
    }
}

/// Options of the empirical-Saez experiment.
#[derive(Clone, Debug)]
pub struct EmpiricalSaezSpec {
    /// Rate perturbation, percentage points (5 in the reference).
    pub delta_points: f64,
    /// Steps per perturbation phase (hours are averaged over the second half); evaluation
    /// phases play twice as many and average welfare over their second half.
    pub steps: u64,
    /// The baseline schedule's rates (default: the 2024 US rates on the scenario's cut-offs).
    pub baseline_rates: Option<Vec<f64>>,
}

/// One bracket's measured elasticity.
#[derive(Clone, Debug, Serialize)]
pub struct BracketElasticity {
    pub bracket: usize,
    pub baseline_rate: f64,
    pub rate_up: f64,
    pub rate_down: f64,
    /// Workers whose baseline income lies in the bracket.
    pub workers: usize,
    /// Of those, workers with mean hours > 1 (the reference's validity rule).
    pub valid: usize,
    /// The reference's estimator: the mean arc elasticity over valid workers.
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub median: Option<f64>,
    /// Workers interior in all three phases: income strictly inside the bracket (not bunched at
    /// a kink) and 0 < hours < max.
    pub interior: usize,
    /// Mean arc elasticity over interior workers (the structural elasticity where it exists).
    pub interior_mean: Option<f64>,
    /// What Saez was given: `mean` if positive, else the scenario's elasticity (fallback).
    pub used: f64,
    pub fallback: bool,
}

/// A schedule's evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluated {
    pub name: String,
    pub cutoffs: Vec<f64>,
    pub rates: Vec<f64>,
    /// Mean welfare over the evaluation phase's second half, with the scenario's workers.
    pub welfare: f64,
    /// Welfare when every worker best-responds exactly (the leader's view).
    pub equilibrium_welfare: f64,
    pub mean_hours: f64,
    pub gini: f64,
}

/// The experiment's result.
#[derive(Clone, Debug, Serialize)]
pub struct EmpiricalSaezResult {
    pub scenario: String,
    pub worker_policy: String,
    pub delta_points: f64,
    pub steps_per_phase: u64,
    pub baseline: Vec<f64>,
    pub cutoffs: Vec<f64>,
    pub static_elasticities: Vec<f64>,
    pub brackets: Vec<BracketElasticity>,
    pub schedules: Vec<Evaluated>,
    /// Game phases played (each `steps_per_phase` or twice that long).
    pub phases: usize,
}

/// Arc elasticity of hours with respect to the net-of-tax rate (midpoint formula).
pub fn arc_elasticity(l_up: f64, l_down: f64, t_up: f64, t_down: f64) -> f64 {
    let avg_l = 0.5 * (l_up + l_down);
    let (n_up, n_down) = (1.0 - t_up, 1.0 - t_down);
    let avg_n = 0.5 * (n_up + n_down);
    ((l_down - l_up) / avg_l) / ((n_down - n_up) / avg_n)
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// Runs the empirical-Saez experiment on `scenario`.
pub fn empirical_saez(
    scenario: &Scenario,
    spec: &EmpiricalSaezSpec,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<EmpiricalSaezResult> {
    if spec.steps == 0 {
        bail!("--steps must be at least 1");
    }
    if !(spec.delta_points > 0.0 && spec.delta_points < 100.0) {
        bail!("--delta-points must be in (0, 100)");
    }
    let scenario = ResolvedScenario::new(scenario.clone())?;
    let cutoffs = scenario.cutoffs.clone();
    let baseline = match &spec.baseline_rates {
        Some(r) => TaxSchedule::new(cutoffs.clone(), r.clone())
            .context("--baseline-rates: one rate (a fraction) per bracket")?,
        None => us_federal_2024_on(&cutoffs)?,
    };
    let static_e = scenario.elasticities.clone();
    let d = spec.delta_points / 100.0;
    let spec = spec.clone();
    System::new().block_on(async move {
        let population = Arc::new(Population::generate(&scenario));
        let max_hours = scenario.economy.max_hours;
        let mut phases = 0usize;
        progress("baseline");
        let base = phase(&scenario, &population, &baseline, spec.steps).await?;
        phases += 1;
        let incomes: Vec<f64> = population
            .skills
            .iter()
            .zip(&base.hours)
            .map(|(v, l)| v * l)
            .collect();
        let mut brackets = Vec::new();
        for j in 0..baseline.num_brackets() {
            let t = baseline.rates()[j];
            let (t_up, t_down) = ((t + d).min(0.99), (t - d).max(0.0));
            let mut up_rates = baseline.rates().to_vec();
            up_rates[j] = t_up;
            let mut down_rates = baseline.rates().to_vec();
            down_rates[j] = t_down;
            progress(&format!("bracket {j}: rate up"));
            let up = phase(
                &scenario,
                &population,
                &baseline.with_rates(up_rates)?,
                spec.steps,
            )
            .await?;
            progress(&format!("bracket {j}: rate down"));
            let down = phase(
                &scenario,
                &population,
                &baseline.with_rates(down_rates)?,
                spec.steps,
            )
            .await?;
            phases += 2;
            let members: Vec<usize> = (0..incomes.len())
                .filter(|&i| baseline.bracket_of(incomes[i]) == j)
                .collect();
            let mut all = Vec::new();
            let mut interior = Vec::new();
            for &i in &members {
                let (lu, ld) = (up.hours[i], down.hours[i]);
                if 0.5 * (lu + ld) <= 1.0 || t_up == t_down {
                    continue;
                }
                let e = arc_elasticity(lu, ld, t_up, t_down);
                all.push(e);
                let v = population.skills[i];
                // Strictly inside the bracket: a worker bunched at a kink is not interior.
                let inside = |l: f64| {
                    let z = v * l;
                    let lo = cutoffs[j];
                    let hi = cutoffs.get(j + 1).copied().unwrap_or(f64::INFINITY);
                    l > 0.0
                        && l < max_hours
                        && z > lo + 1e-6 * lo.max(1.0)
                        && z < hi - 1e-6 * hi.min(1e300)
                };
                if inside(base.hours[i]) && inside(lu) && inside(ld) {
                    interior.push(e);
                }
            }
            let m = mean(&all);
            let std = m.filter(|_| all.len() > 1).map(|m| {
                (all.iter().map(|e| (e - m) * (e - m)).sum::<f64>() / (all.len() - 1) as f64).sqrt()
            });
            let fallback = !m.is_some_and(|m| m > 0.0 && m.is_finite());
            brackets.push(BracketElasticity {
                bracket: j,
                baseline_rate: t,
                rate_up: t_up,
                rate_down: t_down,
                workers: members.len(),
                valid: all.len(),
                mean: m,
                std,
                median: median(&all),
                interior: interior.len(),
                interior_mean: mean(&interior),
                used: if fallback {
                    static_e[j]
                } else {
                    m.unwrap_or(static_e[j])
                },
                fallback,
            });
        }

        // Saez with the measured elasticities, static Saez, the US schedule.
        let empirical = scenario.with_changes(|s| {
            s.planner.elasticity = brackets.iter().map(|b| b.used).collect();
        })?;
        let candidates = vec![
            (
                "empirical Saez".to_string(),
                saez_schedule(&empirical, &population)?,
            ),
            (
                format!("static Saez (e = {:?})", static_e),
                saez_schedule(&scenario, &population)?,
            ),
            ("2024 US".to_string(), us_federal_2024()),
        ];
        let params = &scenario.world;
        let mut schedules = Vec::new();
        for (name, schedule) in candidates {
            progress(&format!("evaluating {name}"));
            let eval = phase(&scenario, &population, &schedule, 2 * spec.steps).await?;
            phases += 1;
            let tail = &eval.records[eval.records.len() / 2..];
            let avg =
                |f: fn(&StepOutcome) -> f64| tail.iter().map(f).sum::<f64>() / tail.len() as f64;
            let eq = equilibrium(params, &schedule, &population.skills, &population.weights);
            schedules.push(Evaluated {
                name,
                cutoffs: schedule.cutoffs().to_vec(),
                rates: schedule.rates().to_vec(),
                welfare: avg(|r| r.welfare),
                equilibrium_welfare: eq.welfare,
                mean_hours: avg(|r| r.mean_hours),
                gini: avg(|r| r.gini),
            });
        }
        anyhow::Ok(EmpiricalSaezResult {
            scenario: scenario.name.clone(),
            worker_policy: format!("{:?}", scenario.workers.policy).to_lowercase(),
            delta_points: spec.delta_points,
            steps_per_phase: spec.steps,
            baseline: baseline.rates().to_vec(),
            cutoffs: cutoffs.clone(),
            static_elasticities: static_e.clone(),
            brackets,
            schedules,
            phases,
        })
    })
}

/// Plain-text rendering of the experiment.
pub fn render_empirical_saez(r: &EmpiricalSaezResult) -> String {
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.4}"));
    let pct = |rates: &[f64]| {
        rates
            .iter()
            .map(|x| format!("{:.1}", x * 100.0))
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut s = format!(
        "empirical Saez on {} ({} workers): baseline {}%, +-{} points, {} steps per phase, {} phases\n\n",
        r.scenario,
        r.worker_policy,
        pct(&r.baseline),
        r.delta_points,
        r.steps_per_phase,
        r.phases
    );
    s += &format!(
        "{:>7} {:>9} {:>8} {:>6} {:>9} {:>8} {:>8} {:>9} {:>10} {:>8}\n",
        "bracket",
        "from $",
        "workers",
        "valid",
        "mean e",
        "std",
        "median",
        "interior",
        "interior e",
        "used"
    );
    for b in &r.brackets {
        s += &format!(
            "{:>7} {:>9.0} {:>8} {:>6} {:>9} {:>8} {:>8} {:>9} {:>10} {:>8.4}{}\n",
            b.bracket,
            r.cutoffs[b.bracket],
            b.workers,
            b.valid,
            opt(b.mean),
            opt(b.std),
            opt(b.median),
            b.interior,
            opt(b.interior_mean),
            b.used,
            if b.fallback { " (fallback)" } else { "" }
        );
    }
    s += &format!(
        "\n{:<34} {:>14} {:>14} {:>8} {:>7}  rates %\n",
        "schedule", "welfare", "equilibrium", "hours", "gini"
    );
    for e in &r.schedules {
        s += &format!(
            "{:<34} {:>14.2} {:>14.2} {:>8.2} {:>7.3}  {}\n",
            e.name,
            e.welfare,
            e.equilibrium_welfare,
            e.mean_hours,
            e.gini,
            pct(&e.rates)
        );
    }
    s += "welfare: mean over the second half of a 2K-step phase with the scenario's workers; \
          equilibrium: exact best responses\n";
    s
}

/// The Stackelberg optimum's search result.
#[derive(Clone, Debug, Serialize)]
pub struct OptimumResult {
    pub scenario: String,
    pub cutoffs: Vec<f64>,
    pub rates: Vec<f64>,
    /// Welfare at `rates` given exact best responses.
    pub welfare: f64,
    /// The best schedule on the grid and its welfare.
    pub grid_rates: Vec<f64>,
    pub grid_welfare: f64,
    pub grid_step: f64,
    /// "exhaustive grid" or "coordinate search from N starts", then "pattern refinement".
    pub method: String,
    pub evaluations: u64,
    /// Saez's schedule on the same brackets, and the 2024 US schedule, for comparison.
    pub saez_rates: Vec<f64>,
    pub saez_welfare: f64,
    pub us_federal_welfare: f64,
}

/// Full grids up to this many schedules are searched exhaustively.
pub const EXHAUSTIVE_LIMIT: usize = 20_000;

/// Searches the rate space for the welfare-maximizing schedule given exact best responses.
///
/// Grid: every rate in {0, step, 2 step, ..., 1}. With at most [`EXHAUSTIVE_LIMIT`] grid
/// schedules (3 brackets at step 0.1: 1,331) the whole grid is searched; otherwise coordinate
/// search on the grid (each bracket in turn set to its best grid value, until a full pass
/// changes nothing) from several starts: flat 20/50/80%, Saez's rates and the US rates on the
/// scenario's cut-offs (each rounded to the grid). Then pattern refinement from the best grid
/// point: +-h per bracket, h halved from step/2 down to 0.001 when no move improves.
pub fn optimum(scenario: &Scenario, grid_step: f64) -> anyhow::Result<OptimumResult> {
    if !(grid_step > 0.0 && grid_step <= 0.5) {
        bail!("--grid-step must be in (0, 0.5], e.g. 0.1");
    }
    let scenario = &ResolvedScenario::new(scenario.clone())?;
    let population = Population::generate(scenario);
    let params = &scenario.world;
    let cutoffs = scenario.cutoffs.clone();
    let k = cutoffs.len();
    let mut evaluations = 0u64;
    let mut welfare = |rates: &[f64]| -> f64 {
        evaluations += 1;
        let s = TaxSchedule::new(cutoffs.clone(), rates.to_vec()).expect("rates in [0, 1]");
        equilibrium(params, &s, &population.skills, &population.weights).welfare
    };
    let n = (1.0 / grid_step).round() as usize;
    let values: Vec<f64> = (0..=n).map(|i| (i as f64 * grid_step).min(1.0)).collect();
    let snap = |r: f64| values[((r / grid_step).round() as usize).min(n)];
    let saez = saez_schedule(scenario, &population)?;
    let us = us_federal_2024_on(&cutoffs)?;

    let total = (values.len() as f64).powi(k as i32);
    let (mut best, mut best_w, method);
    if total <= EXHAUSTIVE_LIMIT as f64 {
        best = vec![values[0]; k];
        best_w = f64::NEG_INFINITY;
        let mut idx = vec![0usize; k];
        loop {
            let rates: Vec<f64> = idx.iter().map(|&i| values[i]).collect();
            let w = welfare(&rates);
            if w > best_w {
                best_w = w;
                best = rates;
            }
            let mut pos = 0;
            while pos < k {
                idx[pos] += 1;
                if idx[pos] < values.len() {
                    break;
                }
                idx[pos] = 0;
                pos += 1;
            }
            if pos == k {
                break;
            }
        }
        method = format!("exhaustive grid ({} schedules)", values.len().pow(k as u32));
    } else {
        let mut starts: Vec<Vec<f64>> = [0.2, 0.5, 0.8].iter().map(|&r| vec![snap(r); k]).collect();
        starts.push(saez.rates().iter().map(|&r| snap(r)).collect());
        starts.push(us.rates().iter().map(|&r| snap(r)).collect());
        best = starts[0].clone();
        best_w = f64::NEG_INFINITY;
        for start in &starts {
            let mut x = start.clone();
            let mut wx = welfare(&x);
            loop {
                let mut changed = false;
                for j in 0..k {
                    for &v in &values {
                        if v == x[j] {
                            continue;
                        }
                        let mut y = x.clone();
                        y[j] = v;
                        let wy = welfare(&y);
                        if wy > wx {
                            x = y;
                            wx = wy;
                            changed = true;
                        }
                    }
                }
                if !changed {
                    break;
                }
            }
            if wx > best_w {
                best_w = wx;
                best = x;
            }
        }
        method = format!("coordinate search on the grid from {} starts", starts.len());
    }
    let (grid_rates, grid_welfare) = (best.clone(), best_w);

    // Pattern refinement off the grid.
    let mut h = grid_step / 2.0;
    while h >= 0.001 {
        let mut improved = false;
        for j in 0..k {
            for sign in [1.0, -1.0] {
                let mut y = best.clone();
                y[j] = (y[j] + sign * h).clamp(0.0, 1.0);
                if y[j] == best[j] {
                    continue;
                }
                let wy = welfare(&y);
                if wy > best_w {
                    best = y;
                    best_w = wy;
                    improved = true;
                }
            }
        }
        if !improved {
            h /= 2.0;
        }
    }
    let saez_w = equilibrium(params, &saez, &population.skills, &population.weights).welfare;
    let us_w = equilibrium(
        params,
        &us_federal_2024(),
        &population.skills,
        &population.weights,
    )
    .welfare;
    Ok(OptimumResult {
        scenario: scenario.name.clone(),
        cutoffs,
        rates: best,
        welfare: best_w,
        grid_rates,
        grid_welfare,
        grid_step,
        method: format!("{method}, then pattern refinement down to 0.1 points"),
        evaluations,
        saez_rates: saez.rates().to_vec(),
        saez_welfare: saez_w,
        us_federal_welfare: us_w,
    })
}

/// Plain-text rendering of the optimum.
pub fn render_optimum(r: &OptimumResult) -> String {
    let pct = |rates: &[f64]| {
        rates
            .iter()
            .map(|x| format!("{:.1}", x * 100.0))
            .collect::<Vec<_>>()
            .join("/")
    };
    let rel = |w: f64| 100.0 * (w - r.welfare) / r.welfare.abs().max(f64::MIN_POSITIVE);
    format!(
        "Stackelberg optimum for rational followers ({}; {} welfare evaluations)\n\
         {:<22} {:>14} {:>10}  rates % on cut-offs {:?}\n\
         {:<22} {:>14.4} {:>10}  {}\n\
         {:<22} {:>14.4} {:>9.3}%  {}\n\
         {:<22} {:>14.4} {:>9.3}%  {}\n\
         {:<22} {:>14.4} {:>9.3}%  (the real 7-bracket schedule)\n",
        r.method,
        r.evaluations,
        "schedule",
        "welfare",
        "vs optimum",
        r.cutoffs,
        "optimum (refined)",
        r.welfare,
        "",
        pct(&r.rates),
        format!("best on the {} grid", r.grid_step),
        r.grid_welfare,
        rel(r.grid_welfare),
        pct(&r.grid_rates),
        "Saez",
        r.saez_welfare,
        rel(r.saez_welfare),
        pct(&r.saez_rates),
        "2024 US",
        r.us_federal_welfare,
        rel(r.us_federal_welfare),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arc_elasticity_of_a_power_law() {
        // l = (1 - t)^0.4: the midpoint arc elasticity is 0.4 to second order.
        let l = |t: f64| (1.0f64 - t).powf(0.4);
        let e = arc_elasticity(l(0.27), l(0.17), 0.27, 0.17);
        assert!((e - 0.4).abs() < 1e-3, "{e}");
        // Constant hours: zero elasticity.
        assert_eq!(arc_elasticity(40.0, 40.0, 0.3, 0.2), 0.0);
    }
}
