//! Worker policies: how a worker chooses her weekly hours each step.
//!
//! A policy sees only what a worker could know: her own profile (skill, utility form), the
//! schedule in force, last step's rebate and her own last outcome. `rational` solves her
//! problem exactly; `bounded` learns from her own history the way the paper's LLM workers do
//! in context (explore, then exploit, with a memory of what each choice paid); `fixed` never
//! moves. An LLM policy implements the same trait.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

use simulacra_actors::StreamKey;

use crate::econ::{TaxSchedule, UtilityForm, UtilityType, best_response};
use crate::frames::LlmExchange;
use crate::governance::Ballot;
use crate::governance::election::{ElectionView, offline_ballot, offline_stand};
use crate::governance::liquid::LiquidVote;
use rand::RngExt;

/// What does not change about a worker.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerProfile {
    pub id: u32,
    pub skill: f64,
    pub utility_type: UtilityType,
    pub form: UtilityForm,
    pub max_hours: f64,
}

/// What every worker is told at a step (the broadcast part of the step's message).
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerView {
    pub step: u64,
    pub tax_year: u64,
    /// 0 at the first step of a tax year.
    pub step_in_year: u64,
    pub last_step_of_year: bool,
    pub schedule: TaxSchedule,
    /// Increases whenever the schedule changes.
    pub schedule_version: u64,
    /// Last step's lump-sum rebate (0 at step 0).
    pub rebate: f64,
    /// Last step's social welfare (0 at step 0): what an LLM altruist's (or adversary's) line
    /// of that step shows as her utility.
    pub welfare: f64,
    /// The workers' random-stream key; a worker draws from stream (its id, the step).
    pub rng_key: StreamKey,
    /// The elected leader in office under elected governance; none otherwise.
    pub leader: Option<LeaderNews>,
    /// What the planner observed at the last step (the nation's incomes, utilities, schedule
    /// and welfare), shown to LLM altruists and adversaries as the reference shows it; none
    /// when no worker is one, before the first step, and in a federation (several planners).
    pub planner_state: Option<std::sync::Arc<PlannerState>>,
}

/// What the planner observed at one step, from the game's settlement.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannerState {
    pub step: u64,
    pub tax_year: u64,
    /// The schedule in force at that step.
    pub schedule: TaxSchedule,
    /// Every worker's pre-tax income of the step, dollars a year.
    pub incomes: Vec<f64>,
    /// Every worker's own utility of the step (dollars a year for the quasi-linear form).
    pub utilities: Vec<f64>,
    /// The step's social welfare, as the planner measures it.
    pub welfare: f64,
}

/// The elected leader in office, as workers are told of her.
#[derive(Clone, Debug, PartialEq)]
pub struct LeaderNews {
    /// Her worker id.
    pub id: u64,
    /// The rates she stood on when elected (none when she was drawn by lot).
    pub platform: Option<Vec<f64>>,
    /// Her last move, in points per bracket as applied (none before her first).
    pub last_move: Option<Vec<i32>>,
}

/// A federation's move question: every region as a worker sees it.
#[derive(Clone, Debug)]
pub struct MoveView {
    pub step: u64,
    pub tax_year: u64,
    /// Each region: the schedule its residents face, its last rebate, amenity and residents.
    pub regions: Vec<RegionOffer>,
    /// Where each worker lives, by id.
    pub region_of: Vec<u32>,
    pub moving_cost: f64,
    /// A federal layer taxes on top: each region's schedule and rebate include it.
    pub federal: bool,
}

/// One region in a [`MoveView`].
#[derive(Clone, Debug)]
pub struct RegionOffer {
    pub schedule: TaxSchedule,
    pub rebate: f64,
    pub amenity: f64,
    pub residents: usize,
}

pub use crate::memory::Feedback;

/// What an asynchronous decision (an LLM exchange) hands back to its policy.
pub struct Turn {
    /// Every attempt of every request made, in order, for the log.
    pub exchanges: Vec<LlmExchange>,
    /// Set when a replay cannot go on (the request differs from the recording).
    pub fatal: Option<String>,
    /// The policy's own result, read back by its `complete`.
    pub payload: Box<dyn Any>,
}

/// A policy's answer: now, or after an exchange.
pub enum Choice<T = f64> {
    Now(T),
    Later(Pin<Box<dyn Future<Output = Turn>>>),
}

/// A way of choosing hours, and of taking part in elections.
pub trait WorkerPolicy {
    /// Hours for this step, within [0, profile.max_hours], or an exchange that yields them.
    fn decide(&mut self, me: &WorkerProfile, view: &WorkerView, last: Option<Feedback>) -> Choice;

    /// Hours from a finished exchange (policies that never return `Choice::Later` need not
    /// implement it).
    fn complete(&mut self, _me: &WorkerProfile, _payload: Box<dyn Any>) -> f64 {
        unreachable!("a policy that returns Choice::Later must implement complete")
    }

    /// Whether to stand for election, and on which platform (an option of the book) with its
    /// gain. Offline: the utility-maximizing platform (see `governance::election`).
    fn stand(&mut self, me: &WorkerProfile, e: &ElectionView) -> Choice<Option<(usize, f64)>> {
        Choice::Now(offline_stand(
            u64::from(me.id),
            me.form,
            me.max_hours,
            me.skill,
            e,
        ))
    }

    /// A ballot over `e.candidates`. Offline: ranked by the voter's exact utility.
    fn vote(&mut self, me: &WorkerProfile, e: &ElectionView) -> Choice<Option<Ballot>> {
        Choice::Now(Some(offline_ballot(
            u64::from(me.id),
            me.form,
            me.max_hours,
            me.skill,
            e,
        )))
    }

    /// Liquid democracy: a ballot, or her vote handed to another voter. By default her ordinary
    /// ballot: offline voters' delegations are drawn by the game (`governance::liquid`).
    fn liquid_vote(&mut self, me: &WorkerProfile, e: &ElectionView) -> Choice<LiquidVote> {
        match self.vote(me, e) {
            Choice::Now(ballot) => Choice::Now(ballot.into()),
            Choice::Later(fut) => Choice::Later(fut),
        }
    }

    /// The liquid vote from a finished exchange (by default, the ballot's).
    fn complete_liquid_vote(&mut self, me: &WorkerProfile, payload: Box<dyn Any>) -> LiquidVote {
        self.complete_vote(me, payload).into()
    }

    /// The candidacy from a finished exchange.
    fn complete_stand(
        &mut self,
        _me: &WorkerProfile,
        _payload: Box<dyn Any>,
    ) -> Option<(usize, f64)> {
        unreachable!("a policy that stands through an exchange must implement complete_stand")
    }

    /// Where to live next year (none: the game applies the offline logit rule; see
    /// `econ::federation`). Offline policies leave it to the game.
    fn choose_region(&mut self, _me: &WorkerProfile, _v: &MoveView) -> Choice<Option<u32>> {
        Choice::Now(None)
    }

    /// The region from a finished exchange.
    fn complete_move(&mut self, _me: &WorkerProfile, _payload: Box<dyn Any>) -> Option<u32> {
        unreachable!("a policy that moves through an exchange must implement complete_move")
    }

    /// The ballot from a finished exchange.
    fn complete_vote(&mut self, _me: &WorkerProfile, _payload: Box<dyn Any>) -> Option<Ballot> {
        unreachable!("a policy that votes through an exchange must implement complete_vote")
    }

    /// What the policy has learned, encoded for a snapshot (empty: nothing to remember; a
    /// cache that is recomputed exactly need not be saved).
    fn save(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Takes back what [`WorkerPolicy::save`] encoded, into a freshly built policy.
    fn restore(&mut self, memory: &[u8]) -> Result<(), String> {
        crate::memory::expect_no_memory(memory, "this worker policy")
    }
}

/// The exact best response to the schedule in force (cached per schedule version: it depends
/// on nothing else for quasi-linear utility; CRRA workers also re-solve when the rebate moves).
#[derive(Debug, Default)]
pub struct Rational {
    cache: Option<(u64, u64, f64)>,
}

impl WorkerPolicy for Rational {
    fn decide(&mut self, me: &WorkerProfile, view: &WorkerView, _last: Option<Feedback>) -> Choice {
        Choice::Now(self.hours(me, view))
    }
}

impl Rational {
    fn hours(&mut self, me: &WorkerProfile, view: &WorkerView) -> f64 {
        // The quasi-linear best response ignores the rebate; keying the cache on its bits as
        // well keeps the CRRA case exact.
        let rebate_key = match me.form {
            UtilityForm::QuasiLinear { .. } => 0,
            UtilityForm::Crra { .. } => view.rebate.to_bits(),
        };
        if let Some((version, rebate, hours)) = self.cache
            && version == view.schedule_version
            && rebate == rebate_key
        {
            return hours;
        }
        let hours = best_response(
            &me.form,
            me.skill,
            &view.schedule,
            view.rebate,
            me.max_hours,
        );
        self.cache = Some((view.schedule_version, rebate_key, hours));
        hours
    }
}

/// Always the same hours.
#[derive(Debug)]
pub struct Fixed(pub f64);

impl WorkerPolicy for Fixed {
    fn decide(
        &mut self,
        me: &WorkerProfile,
        _view: &WorkerView,
        _last: Option<Feedback>,
    ) -> Choice {
        Choice::Now(self.0.clamp(0.0, me.max_hours))
    }
}

/// Number of hour levels the bounded learner chooses among: 0, 10, ..., 100 (the paper's grid).
pub const LEVELS: usize = 11;

/// An in-context learner over its own history, the offline stand-in for an LLM worker.
///
/// It never sees a formula, only what each hour level paid it. After each schedule change it
/// explores: first every level (at the start) or the neighbourhood of its previous favourite
/// (later), in a seeded random order, for up to `explore_steps` steps; then it exploits the
/// level with the best mean payoff under the current schedule, still trying a random level
/// with probability `exploration_rate`, except at the last step of a tax year, when it only
/// exploits (as the paper's prompt asks). Its memory is 11 running means.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bounded {
    explore_steps: u32,
    exploration_rate: f64,
    version: Option<u64>,
    sums: [f64; LEVELS],
    counts: [u16; LEVELS],
    /// Levels still to try in this exploration phase (bit set).
    to_explore: u16,
    explored: u32,
    favourite: Option<u8>,
}

impl Bounded {
    pub fn new(explore_steps: u32, exploration_rate: f64) -> Self {
        Bounded {
            explore_steps,
            exploration_rate,
            version: None,
            sums: [0.0; LEVELS],
            counts: [0; LEVELS],
            to_explore: 0,
            explored: 0,
            favourite: None,
        }
    }

    fn level_hours(level: usize, max_hours: f64) -> f64 {
        (level as f64 * max_hours / (LEVELS - 1) as f64).min(max_hours)
    }

    fn level_of(hours: f64, max_hours: f64) -> usize {
        ((hours / max_hours * (LEVELS - 1) as f64).round() as usize).min(LEVELS - 1)
    }

    /// The level with the best mean payoff (ties: fewer hours), if any was tried.
    fn best_level(&self) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for level in 0..LEVELS {
            if self.counts[level] == 0 {
                continue;
            }
            let mean = self.sums[level] / f64::from(self.counts[level]);
            if best.is_none_or(|(_, m)| mean > m) {
                best = Some((level, mean));
            }
        }
        best.map(|(l, _)| l)
    }

    fn start_exploring(&mut self) {
        self.favourite = self.best_level().map(|l| l as u8).or(self.favourite);
        self.sums = [0.0; LEVELS];
        self.counts = [0; LEVELS];
        self.explored = 0;
        self.to_explore = match self.favourite {
            None => (1u16 << LEVELS) - 1,
            Some(f) => {
                let f = f as usize;
                let lo = f.saturating_sub(2);
                let hi = (f + 2).min(LEVELS - 1);
                (lo..=hi).fold(0u16, |set, l| set | (1 << l))
            }
        };
    }
}

impl WorkerPolicy for Bounded {
    fn decide(&mut self, me: &WorkerProfile, view: &WorkerView, last: Option<Feedback>) -> Choice {
        Choice::Now(self.hours(me, view, last))
    }

    fn save(&self) -> Vec<u8> {
        crate::memory::to_bytes(self)
    }

    fn restore(&mut self, memory: &[u8]) -> Result<(), String> {
        *self = crate::memory::from_bytes(memory)?;
        Ok(())
    }
}

impl Bounded {
    fn hours(&mut self, me: &WorkerProfile, view: &WorkerView, last: Option<Feedback>) -> f64 {
        // Learn from last step's payoff, under the schedule it was earned under.
        if let Some(fb) = last
            && self.version.is_some()
        {
            let level = Self::level_of(fb.hours, me.max_hours);
            self.sums[level] += fb.utility;
            self.counts[level] = self.counts[level].saturating_add(1);
        }
        if self.version != Some(view.schedule_version) {
            self.version = Some(view.schedule_version);
            self.start_exploring();
        }
        let mut rng = view.rng_key.rng(u64::from(me.id), view.step);
        let exploring = self.to_explore != 0 && self.explored < self.explore_steps;
        let level = if exploring && !view.last_step_of_year {
            // A seeded random pick among the levels not yet tried in this phase.
            let remaining = self.to_explore.count_ones();
            let pick = rng.random_range(0..remaining);
            let level = (0..LEVELS)
                .filter(|l| self.to_explore & (1 << l) != 0)
                .nth(pick as usize)
                .unwrap_or(0);
            self.to_explore &= !(1 << level);
            self.explored += 1;
            level
        } else {
            let greedy = self.best_level().or(self.favourite.map(usize::from));
            let explore = !view.last_step_of_year && rng.random_bool(self.exploration_rate);
            match greedy {
                Some(level) if !explore => level,
                _ => rng.random_range(0..LEVELS),
            }
        };
        Self::level_hours(level, me.max_hours)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> WorkerProfile {
        WorkerProfile {
            id: 3,
            skill: 30.0,
            utility_type: UtilityType::Egotistical,
            form: UtilityForm::QuasiLinear {
                c: 0.0237,
                delta: 3.5,
            },
            max_hours: 100.0,
        }
    }

    fn view(step: u64, version: u64, last: bool) -> WorkerView {
        WorkerView {
            step,
            tax_year: 0,
            step_in_year: step,
            last_step_of_year: last,
            schedule: TaxSchedule::new(vec![0.0], vec![0.3]).unwrap(),
            schedule_version: version,
            rebate: 0.0,
            welfare: 0.0,
            rng_key: StreamKey::new(1, "worker"),
            leader: None,
            planner_state: None,
        }
    }

    #[test]
    fn rational_matches_the_best_response_and_caches_it() {
        let me = profile();
        let mut p = Rational::default();
        let v = view(0, 1, false);
        let expected = best_response(&me.form, me.skill, &v.schedule, 0.0, 100.0);
        assert_eq!(p.hours(&me, &v), expected);
        // A changed schedule under the same version would be a caller bug; a new version
        // must be re-solved.
        let mut v2 = view(1, 2, false);
        v2.schedule = TaxSchedule::new(vec![0.0], vec![0.6]).unwrap();
        let expected2 = best_response(&me.form, me.skill, &v2.schedule, 0.0, 100.0);
        assert!(expected2 < expected);
        assert_eq!(p.hours(&me, &v2), expected2);
    }

    /// The learner, fed its true payoffs, settles on the grid level closest to the optimum.
    #[test]
    fn bounded_learns_the_best_grid_level() {
        let me = profile();
        let mut p = Bounded::new(11, 0.0);
        let v = view(0, 1, false);
        let pay = |h: f64| me.form.utility(me.skill * h * 0.7, h);
        let mut last = None;
        let mut chosen = Vec::new();
        for step in 0..30 {
            let mut vs = v.clone();
            vs.step = step;
            let h = p.hours(&me, &vs, last);
            chosen.push(h);
            last = Some(Feedback {
                hours: h,
                utility: pay(h),
            });
        }
        let best_level = (0..LEVELS)
            .map(|l| l as f64 * 10.0)
            .max_by(|a, b| pay(*a).total_cmp(&pay(*b)))
            .unwrap();
        // The first 11 steps try every level once, then it exploits the best one.
        let mut first: Vec<f64> = chosen[..11].to_vec();
        first.sort_by(f64::total_cmp);
        assert_eq!(first, (0..11).map(|l| l as f64 * 10.0).collect::<Vec<_>>());
        assert!(chosen[12..].iter().all(|&h| h == best_level), "{chosen:?}");
    }

    #[test]
    fn bounded_is_deterministic_given_the_seed() {
        let me = profile();
        let run = || {
            let mut p = Bounded::new(6, 0.2);
            let mut last = None;
            (0..40)
                .map(|step| {
                    let h = p.hours(&me, &view(step, step / 10, step % 10 == 9), last);
                    last = Some(Feedback {
                        hours: h,
                        utility: -((h - 40.0).abs()),
                    });
                    h
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn a_restored_bounded_learner_goes_on_as_if_never_stopped() {
        let me = profile();
        let feedback = |h: f64| Feedback {
            hours: h,
            utility: -((h - 60.0).abs()),
        };
        let mut whole = Bounded::new(6, 0.2);
        let mut last = None;
        let mut hours = Vec::new();
        let mut saved = Vec::new();
        for step in 0..40 {
            if step == 17 {
                saved = whole.save();
            }
            let h = whole.hours(&me, &view(step, step / 10, step % 10 == 9), last);
            last = Some(feedback(h));
            hours.push(h);
        }
        assert!(!saved.is_empty());
        let mut resumed = Bounded::new(6, 0.2);
        resumed.restore(&saved).unwrap();
        let mut last = Some(feedback(hours[16]));
        for step in 17..40 {
            let h = resumed.hours(&me, &view(step, step / 10, step % 10 == 9), last);
            last = Some(feedback(h));
            assert_eq!(h, hours[step as usize], "step {step}");
        }
        assert_eq!(resumed, whole);
        // Garbage is refused with a reason, not a panic.
        assert!(Bounded::new(6, 0.2).restore(&[1, 2, 3]).is_err());
        assert!(Fixed(3.0).restore(&[1]).is_err());
    }
}
