//! Planner policies: how the leader sets the marginal-rate schedule once per tax year.
//!
//! `fixed` covers the baselines (the US federal schedule, Saez's rates, any given rates).
//! `hill-climb` is the offline stand-in for the paper's LLM planner: the same action space
//! (per-bracket moves of at most +-20 points on the 10-point grid, once per tax year) and the
//! same information (its own history of schedules and the welfare each one produced).

use std::any::Any;
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::worker::Turn;
use crate::econ::TaxSchedule;

/// What the planner knows when it moves.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannerInput {
    pub tax_year: u64,
    /// Number of tax years in the run (the current one included).
    pub years_total: u64,
    /// The step at which the move takes effect.
    pub step: u64,
    /// The schedule in force during the previous tax year.
    pub current: TaxSchedule,
    /// Mean welfare over the previous tax year (none at the first).
    pub observed_welfare: Option<f64>,
    /// More about the previous tax year, for planners that look at the distribution.
    pub last_year: Option<YearObservation>,
}

/// The previous tax year as the planner sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct YearObservation {
    /// Welfare, revenue, mean hours and Gini: each the mean over the year's steps.
    pub welfare: f64,
    pub revenue: f64,
    pub mean_hours: f64,
    pub gini: f64,
    /// Every worker's pre-tax income and utility at the year's last step.
    pub incomes: Arc<Vec<f64>>,
    pub utilities: Arc<Vec<f64>>,
}

/// A planner's answer: a schedule now, or after an exchange.
pub enum PlannerAct {
    Now(TaxSchedule),
    Later(Pin<Box<dyn Future<Output = Turn>>>),
}

/// A way of setting the schedule.
pub trait PlannerPolicy: Send {
    /// A short name for logs and reports.
    fn name(&self) -> &'static str;
    /// The schedule for the coming tax year (same cut-offs as `input.current`, except for
    /// a fixed policy that brings its own brackets).
    fn propose(&mut self, input: &PlannerInput) -> PlannerAct;
    /// The schedule from a finished exchange (only for policies that return `Later`).
    fn complete(&mut self, _payload: Box<dyn Any>) -> TaxSchedule {
        unreachable!("a policy that returns PlannerAct::Later must implement complete")
    }

    /// What the planner has learned, encoded for a snapshot (empty: nothing to remember).
    fn save(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Takes back what [`PlannerPolicy::save`] encoded, into a freshly built planner.
    fn restore(&mut self, memory: &[u8]) -> Result<(), String> {
        crate::memory::expect_no_memory(memory, &format!("the {} planner", self.name()))
    }
}

/// Always the same schedule.
pub struct FixedSchedule {
    pub name: &'static str,
    pub schedule: TaxSchedule,
}

impl PlannerPolicy for FixedSchedule {
    fn name(&self) -> &'static str {
        self.name
    }
    fn propose(&mut self, _input: &PlannerInput) -> PlannerAct {
        PlannerAct::Now(self.schedule.clone())
    }
}

/// Rates in whole percentage points (the planner's grid).
type Points = Vec<i32>;

fn to_points(rates: &[f64]) -> Points {
    rates.iter().map(|r| (r * 100.0).round() as i32).collect()
}

/// A pattern search over the 10-point grid with the paper's move limits.
///
/// It keeps the welfare of every schedule it has tried (its history) and the best one. Each
/// year it heads for a *target*: a neighbour of the best schedule (one bracket moved by the
/// current step, 20 then 10 points; then pairs of brackets moved by 10). A target further than
/// one move away is approached over several years, and every schedule passed on the way is
/// measured too. An improvement re-centres the search, trying the successful direction again
/// first. When no neighbour improves, it holds the best schedule; in the final years it always
/// returns to the best schedule, so the run ends on the best schedule it has seen.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HillClimb {
    max_delta: i32,
    grid: i32,
    step: i32,
    pairs_done: bool,
    history: BTreeMap<Points, (f64, u32)>,
    best: Option<(Points, f64)>,
    queue: VecDeque<Points>,
    target: Option<Points>,
    last_improvement: Option<(usize, i32)>,
}

impl HillClimb {
    /// `max_delta_points`: the largest per-bracket move per year (a multiple of 10).
    pub fn new(max_delta_points: i32) -> Self {
        HillClimb {
            max_delta: max_delta_points,
            grid: 10,
            step: 20.min(max_delta_points).max(10),
            pairs_done: false,
            history: BTreeMap::new(),
            best: None,
            queue: VecDeque::new(),
            target: None,
            last_improvement: None,
        }
    }

    fn record(&mut self, schedule: &Points, welfare: f64) {
        let entry = self.history.entry(schedule.clone()).or_insert((0.0, 0));
        entry.0 += welfare;
        entry.1 += 1;
        let mean = entry.0 / f64::from(entry.1);
        let improved = match &self.best {
            None => true,
            Some((b, w)) => mean > *w || (b == schedule && mean != *w),
        };
        if improved {
            self.last_improvement = self.best.as_ref().and_then(|(b, _)| {
                let changed: Vec<usize> = (0..b.len()).filter(|&j| b[j] != schedule[j]).collect();
                (changed.len() == 1)
                    .then(|| (changed[0], (schedule[changed[0]] - b[changed[0]]).signum()))
            });
            let recentre = self.best.as_ref().is_none_or(|(b, _)| b != schedule);
            self.best = Some((schedule.clone(), mean));
            if recentre {
                self.pairs_done = false;
                self.rebuild_queue();
            }
        }
    }

    fn neighbours(&self, centre: &Points, step: i32) -> Vec<Points> {
        let mut out = Vec::new();
        if let Some((j, dir)) = self.last_improvement {
            // Momentum: the direction that just paid off is tried again first.
            let mut p = centre.clone();
            p[j] = (p[j] + dir * step).clamp(0, 100);
            out.push(p);
        }
        for j in 0..centre.len() {
            for dir in [1, -1] {
                let mut p = centre.clone();
                p[j] = (p[j] + dir * step).clamp(0, 100);
                out.push(p);
            }
        }
        out
    }

    fn pair_neighbours(centre: &Points, step: i32) -> Vec<Points> {
        let mut out = Vec::new();
        for j in 0..centre.len() {
            for k in j + 1..centre.len() {
                for (dj, dk) in [(1, 1), (1, -1), (-1, 1), (-1, -1)] {
                    let mut p = centre.clone();
                    p[j] = (p[j] + dj * step).clamp(0, 100);
                    p[k] = (p[k] + dk * step).clamp(0, 100);
                    out.push(p);
                }
            }
        }
        out
    }

    fn rebuild_queue(&mut self) {
        let Some((centre, _)) = self.best.clone() else {
            return;
        };
        self.queue = self.neighbours(&centre, self.step).into();
    }

    /// The next schedule worth measuring, refining the step when the neighbourhood is done.
    fn next_target(&mut self) -> Option<Points> {
        loop {
            while let Some(p) = self.queue.pop_front() {
                if !self.history.contains_key(&p) {
                    return Some(p);
                }
            }
            let (centre, _) = self.best.clone()?;
            if self.step > self.grid {
                self.step = (self.step - self.grid).max(self.grid);
                self.queue = self.neighbours(&centre, self.step).into();
            } else if !self.pairs_done {
                self.pairs_done = true;
                self.queue = Self::pair_neighbours(&centre, self.grid).into();
            } else {
                return None;
            }
        }
    }

    /// Years needed to move from `a` to `b` with the per-year limit.
    fn moves_between(&self, a: &Points, b: &Points) -> u64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| ((x - y).abs() + self.max_delta - 1) / self.max_delta)
            .max()
            .unwrap_or(0) as u64
    }
}

impl PlannerPolicy for HillClimb {
    fn name(&self) -> &'static str {
        "hill-climb"
    }

    fn propose(&mut self, input: &PlannerInput) -> PlannerAct {
        PlannerAct::Now(self.next_schedule(input))
    }

    fn save(&self) -> Vec<u8> {
        crate::memory::to_bytes(self)
    }

    fn restore(&mut self, memory: &[u8]) -> Result<(), String> {
        *self = crate::memory::from_bytes(memory)?;
        Ok(())
    }
}

impl HillClimb {
    fn next_schedule(&mut self, input: &PlannerInput) -> TaxSchedule {
        let current = to_points(input.current.rates());
        if let Some(w) = input.observed_welfare {
            self.record(&current, w);
        }
        if self.best.is_none() {
            // Nothing measured yet (the first year): keep the starting schedule.
            return input.current.clone();
        }
        let years_left = input.years_total.saturating_sub(input.tax_year);
        let (best, _) = self.best.clone().expect("checked above");
        let endgame = years_left <= self.moves_between(&current, &best) + 1;
        let target = if endgame {
            best
        } else {
            if self
                .target
                .as_ref()
                .is_none_or(|t| *t == current || self.history.contains_key(t))
            {
                self.target = self.next_target();
            }
            self.target.clone().unwrap_or(best)
        };
        let next: Points = current
            .iter()
            .zip(&target)
            .map(|(c, t)| c + (t - c).clamp(-self.max_delta, self.max_delta))
            .collect();
        let rates = next.iter().map(|p| f64::from(*p) / 100.0).collect();
        input
            .current
            .with_rates(rates)
            .expect("grid rates in [0, 1] on the same cut-offs are always valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A concave welfare landscape over three rates with its peak at (70, 30, 40).
    fn welfare(r: &[f64]) -> f64 {
        -((r[0] - 0.7).powi(2) * 3.0 + (r[1] - 0.3).powi(2) + (r[2] - 0.4).powi(2) * 2.0)
    }

    fn climb(years: u64, max_delta: i32) -> (Vec<Vec<f64>>, TaxSchedule) {
        let mut p = HillClimb::new(max_delta);
        let mut current = TaxSchedule::uniform(vec![0.0, 90_000.0, 159_100.0], 0.5).unwrap();
        let mut observed = None;
        let mut path = Vec::new();
        for year in 0..years {
            let next = p.next_schedule(&PlannerInput {
                tax_year: year,
                years_total: years,
                step: year,
                current: current.clone(),
                observed_welfare: observed,
                last_year: None,
            });
            for (a, b) in next.rates().iter().zip(current.rates()) {
                assert!(((a - b) * 100.0).round().abs() <= f64::from(max_delta));
            }
            current = next;
            observed = Some(welfare(current.rates()));
            path.push(current.rates().to_vec());
        }
        (path, current)
    }

    #[test]
    fn a_restored_climber_makes_the_same_moves() {
        let years = 20;
        let start = TaxSchedule::uniform(vec![0.0, 90_000.0, 159_100.0], 0.5).unwrap();
        let input = |year: u64, current: &TaxSchedule, observed| PlannerInput {
            tax_year: year,
            years_total: years,
            step: year,
            current: current.clone(),
            observed_welfare: observed,
            last_year: None,
        };
        let mut whole = HillClimb::new(20);
        let (mut current, mut observed) = (start, None);
        let mut path = Vec::new();
        let mut saved = (Vec::new(), current.clone(), None);
        for year in 0..years {
            if year == 9 {
                saved = (whole.save(), current.clone(), observed);
            }
            current = whole.next_schedule(&input(year, &current, observed));
            observed = Some(welfare(current.rates()));
            path.push(current.clone());
        }
        let mut resumed = HillClimb::new(20);
        resumed.restore(&saved.0).unwrap();
        let (mut current, mut observed) = (saved.1, saved.2);
        for year in 9..years {
            current = resumed.next_schedule(&input(year, &current, observed));
            observed = Some(welfare(current.rates()));
            assert_eq!(current, path[year as usize], "year {year}");
        }
        assert_eq!(resumed, whole);
    }

    #[test]
    fn finds_the_peak_and_ends_on_it() {
        let (_, last) = climb(40, 20);
        let pts = to_points(last.rates());
        assert_eq!(pts, vec![70, 30, 40]);
    }

    #[test]
    fn moves_respect_the_limit_and_stay_on_the_grid() {
        let (path, _) = climb(30, 10);
        for rates in path {
            for r in rates {
                let pts = (r * 100.0).round() as i32;
                assert_eq!(pts % 10, 0);
                assert!((0..=100).contains(&pts));
            }
        }
    }

    #[test]
    fn first_year_keeps_the_start() {
        let mut p = HillClimb::new(20);
        let start = TaxSchedule::uniform(vec![0.0, 1.0], 0.5).unwrap();
        let out = p.next_schedule(&PlannerInput {
            tax_year: 0,
            years_total: 10,
            step: 0,
            current: start.clone(),
            observed_welfare: None,
            last_year: None,
        });
        assert_eq!(out, start);
    }
}
