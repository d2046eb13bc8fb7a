//! The reader's answers to the planner's and the elected leader's DELTA questions, from the
//! prompt text alone: it parses the year lines (rates and welfare, or the leader's own
//! utility), the rates in force, the number of brackets, the largest move, the tax year and
//! the run's length, and answers what the offline hill-climb planner would from that history.
//!
//! The rule is the project's own `HillClimb` (a pattern search on the 10-point grid), fed only
//! with the numbers parsed here: it is replayed over the stated years in order, as if it had
//! planned every one of them, and its next schedule is the answer. A prompt that drops a year,
//! rounds a rate, misstates the move limit or the run's length makes the answer differ from
//! the offline planner's.

#![allow(dead_code)]

use super::text::{number_after, points_after};
use simulacra::econ::TaxSchedule;
use simulacra::policy::{HillClimb, PlannerAct, PlannerInput, PlannerPolicy};

/// The answer to a planner's or an elected leader's DELTA question; `None` for any other.
pub fn answer(system: &str, user: &str) -> Option<String> {
    let deltas = if system.starts_with("You are an expert tax planner") {
        planner(system, user)?
    } else if user.starts_with("You were elected leader") {
        leader(user)?
    } else {
        return None;
    };
    Some(format!(
        "{{\"DELTA\": [{}]}}",
        deltas
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// What both questions state about time and moves.
struct Frame {
    tax_year: u64,
    years_total: u64,
    max_delta: i32,
    /// The rates in force, in points (as the prompt shows them, with their decimals).
    current: Vec<f64>,
}

/// One stated year: the rates in force and the value it was judged by.
struct Observation {
    year: u64,
    rates: Vec<f64>,
    value: f64,
}

/// "a DELTA of -20, -10, 0, 10 or 20 percentage points": the largest move.
fn max_delta(text: &str) -> Option<i32> {
    let rest = &text[text.find("by a DELTA of ")?..];
    let sentence = &rest[..rest.find(" percentage points")?];
    sentence
        .split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .filter_map(|t| t.parse::<i32>().ok())
        .max()
}

fn frame(system: &str, user: &str, current_marker: &str) -> Option<Frame> {
    let both = format!("{system}\n{user}");
    Some(Frame {
        tax_year: number_after(user, "Now tax year ")? as u64,
        years_total: number_after(&both, "the run has ")? as u64,
        max_delta: max_delta(&both)?,
        current: points_after(user, current_marker)?,
    })
}

/// The planner: its history of tax years, each with its mean welfare. The hill-climb needs
/// every year from the first: a history cut by the window cannot be answered.
fn planner(system: &str, user: &str) -> Option<Vec<i32>> {
    let f = frame(system, user, "under TAX = ")?;
    let years: Vec<Observation> = user
        .lines()
        .filter(|l| l.starts_with("year ") && l.contains("-> welfare "))
        .map(|l| {
            Some(Observation {
                year: number_after(l, "year ")? as u64,
                rates: points_after(l, "TAX = ")?,
                value: number_after(l, "-> welfare ")?,
            })
        })
        .collect::<Option<_>>()?;
    let whole = years.iter().enumerate().all(|(k, y)| y.year == k as u64);
    if !whole || years.len() as u64 != f.tax_year {
        return None;
    }
    Some(climb(&f, &years))
}

/// The leader: her own years as leader (her utility at each year's last step), and, when she
/// was not leader last year, her utility at its last step from her own steps.
fn leader(user: &str) -> Option<Vec<i32>> {
    let f = frame("", user, "the rates in force are TAX = ")?;
    let mut seen: Vec<Observation> = user
        .lines()
        .filter(|l| l.starts_with("year ") && l.contains("your utility "))
        .map(|l| {
            Some(Observation {
                year: number_after(l, "year ")? as u64,
                rates: points_after(l, "TAX = ")?,
                value: number_after(l, "your utility ")?,
            })
        })
        .collect::<Option<_>>()?;
    let last_year = f.tax_year.checked_sub(1);
    if let Some(y) = last_year
        && seen.last().is_none_or(|o| o.year != y)
        && let Some(step) = user
            .lines()
            .rfind(|l| l.starts_with("step ") && l.contains("your utility "))
    {
        seen.push(Observation {
            year: y,
            rates: f.current.clone(),
            value: number_after(step, "your utility ")?,
        });
    }
    Some(climb(&f, &seen))
}

fn schedule(points: &[f64]) -> TaxSchedule {
    let cutoffs = (0..points.len()).map(|j| j as f64 * 1000.0).collect();
    TaxSchedule::new(cutoffs, points.iter().map(|p| p / 100.0).collect()).unwrap()
}

/// Replays the hill-climb over `seen` (each year observed at the start of the next) and
/// returns its move from the rates in force.
fn climb(f: &Frame, seen: &[Observation]) -> Vec<i32> {
    let mut hc = HillClimb::new(f.max_delta);
    let ask = |hc: &mut HillClimb, tax_year: u64, rates: &[f64], welfare: Option<f64>| {
        let input = PlannerInput {
            tax_year,
            years_total: f.years_total,
            step: 0,
            current: schedule(rates),
            observed_welfare: welfare,
            last_year: None,
        };
        match hc.propose(&input) {
            PlannerAct::Now(s) => s.rates().to_vec(),
            PlannerAct::Later(_) => unreachable!("the hill-climb answers at once"),
        }
    };
    let mut next = None;
    for o in seen {
        next = Some((
            o.year + 1,
            ask(&mut hc, o.year + 1, &o.rates, Some(o.value)),
        ));
    }
    let next = match next {
        Some((year, rates)) if year == f.tax_year => rates,
        _ => ask(&mut hc, f.tax_year, &f.current, None),
    };
    next.iter()
        .zip(&f.current)
        .map(|(n, c)| (n * 100.0 - c).round() as i32)
        .collect()
}
