//! Tax competition: regions that best-respond to each other's schedules (the Nash planner).
//!
//! Each region chooses its rates, bracket by bracket on a grid, to maximize its objective
//! given the other regions' schedules, anticipating where workers will live under them: a
//! candidate is scored at the movers' equilibrium it induces (everyone re-decides from where
//! she started, expecting the rebates that hold once everyone has chosen; Mirrlees 1982,
//! Kleven et al. 2014), never at today's residents. The regions take turns in id order
//! (Gauss-Seidel best-response dynamics) until a whole round changes nothing (a Nash
//! equilibrium of the grid game, as far as the bracket-by-bracket search sees), a profile
//! comes back (a cycle, reported with its length), or the rounds run out.
//!
//! With mobile workers a region that cuts its rates draws tax base from the others, a gain the
//! nation does not share: the equilibrium rates fall below the cooperative ones (Wilson 1986,
//! Zodrow and Mieszkowski 1986); with immobile workers each region sets its autarky optimum.

use super::{
    MoverInput, Movers, RegionalObjective, consistent_moves, federal_equilibrium, objective_value,
    rebates_at,
};
use crate::econ::TaxSchedule;

/// Most rounds of best responses (a round: every region responds once).
pub const NASH_ROUNDS: u32 = 20;

/// Most profiles the cooperative regions search jointly (11 flat rates for 3 regions: 1,331).
pub const JOINT_PROFILES: usize = 2_000;

/// The game the regions play.
pub struct Competition<'a> {
    /// The workers, the places and what a move weighs.
    pub movers: Movers<'a>,
    pub objective: RegionalObjective,
    /// The brackets every region's schedule uses.
    pub cutoffs: &'a [f64],
    /// The rates a region may set in each bracket.
    pub grid: &'a [f64],
    /// True: a region sets one rate for all its brackets (a flat tax, the strategy of the
    /// tax-competition models; `grid.len()` candidates per response). False: bracket by
    /// bracket (about `grid.len()` x brackets x passes candidates).
    pub flat: bool,
    /// Where each worker starts (the movers re-decide from here; the natives of
    /// `original-residents`).
    pub origin: &'a [u32],
}

/// How the best responses ended.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NashOutcome {
    /// Each region's rates at the end.
    pub rates: Vec<Vec<f64>>,
    /// Each region's objective there.
    pub payoffs: Vec<f64>,
    /// Where everyone lives there.
    pub populations: Vec<usize>,
    pub rounds: u32,
    /// True when a whole round changed no region's rates.
    pub converged: bool,
    /// The number of profiles in the cycle the responses fell into (0: none).
    pub cycle: u32,
    /// Each region's largest gain from changing its own rates alone at the end (the grid's
    /// other flat rates, or one bracket's other rates): 0 or less at an equilibrium.
    pub deviation_gains: Vec<f64>,
    /// True when the regions chose together: under the national objective with flat rates
    /// (and at most [`JOINT_PROFILES`] profiles), the profile best for the nation among all
    /// of them, not best responses.
    #[serde(default)]
    pub joint: bool,
}

impl Competition<'_> {
    /// The regions' schedules for a profile of grid indices (`profile[r][b]`: region r's rate
    /// in bracket b).
    fn schedules(&self, profile: &[Vec<usize>]) -> Vec<TaxSchedule> {
        profile
            .iter()
            .map(|p| {
                TaxSchedule::new(
                    self.cutoffs.to_vec(),
                    p.iter().map(|&g| self.grid[g]).collect(),
                )
                .expect("grid rates make a schedule")
            })
            .collect()
    }

    /// Every region's objective when they set `profile`, at the movers' equilibrium it
    /// induces, and where everyone lives there.
    pub fn payoffs(&self, profile: &[Vec<usize>]) -> (Vec<f64>, Vec<u32>) {
        let schedules = self.schedules(profile);
        let everyone = vec![true; self.movers.skills.len()];
        let input = MoverInput {
            movers: self.movers,
            schedules: &schedules,
            federal: None,
            region_of: self.origin,
            deciding: &everyone,
        };
        let start = rebates_at(&input, self.origin);
        let moved = consistent_moves(&input, &start);
        let settled = federal_equilibrium(
            self.movers.params,
            &schedules,
            None,
            self.movers.public,
            &moved.region_of,
            self.movers.skills,
            self.movers.weights,
        );
        let payoffs = (0..schedules.len())
            .map(|r| {
                objective_value(
                    self.objective,
                    self.movers.params.welfare,
                    r,
                    &settled,
                    &moved.region_of,
                    self.origin,
                    self.movers.weights,
                )
            })
            .collect();
        (payoffs, moved.region_of)
    }

    /// Region `r`'s best response to the others in `profile`: bracket by bracket, the grid
    /// rate that maximizes its objective (the others' rates held), repeated until a pass
    /// improves nothing. A change must gain more than rounding (1e-9 relative) to count, so
    /// ties keep the current rate.
    fn best_response(&self, profile: &[Vec<usize>], r: usize) -> Vec<usize> {
        let mut mine = profile[r].clone();
        let mut trial = profile.to_vec();
        let value = |trial: &[Vec<usize>]| self.payoffs(trial).0[r];
        let mut best = value(&trial);
        if self.flat {
            for candidate in self.deviations(&mine) {
                trial[r] = candidate;
                let v = value(&trial);
                if improves(v, best) {
                    best = v;
                    mine = trial[r].clone();
                }
            }
            return mine;
        }
        loop {
            let mut improved = false;
            for b in 0..mine.len() {
                for g in 0..self.grid.len() {
                    if g == mine[b] {
                        continue;
                    }
                    trial[r][b] = g;
                    let v = value(&trial);
                    if improves(v, best) {
                        best = v;
                        mine[b] = g;
                        improved = true;
                    }
                    trial[r][b] = mine[b];
                }
            }
            if !improved {
                return mine;
            }
        }
    }

    /// A region's unilateral alternatives to `mine`: every other flat rate, or every other
    /// rate of one bracket.
    fn deviations(&self, mine: &[usize]) -> Vec<Vec<usize>> {
        if self.flat {
            return (0..self.grid.len())
                .map(|g| vec![g; mine.len()])
                .filter(|d| d != mine)
                .collect();
        }
        let mut out = Vec::new();
        for b in 0..mine.len() {
            for g in (0..self.grid.len()).filter(|&g| g != mine[b]) {
                let mut d = mine.to_vec();
                d[b] = g;
                out.push(d);
            }
        }
        out
    }

    /// The profile best for the nation among every combination of the regions' flat rates
    /// (ties to the first in order), when the regions score the nation, rates are flat and
    /// the profiles are at most [`JOINT_PROFILES`].
    fn joint_optimum(&self, k: usize, brackets: usize) -> Option<Vec<Vec<usize>>> {
        let g = self.grid.len();
        let count = (0..k).try_fold(1usize, |n, _| n.checked_mul(g))?;
        if self.objective != RegionalObjective::National || !self.flat || count > JOINT_PROFILES {
            return None;
        }
        let mut best: Option<(f64, Vec<Vec<usize>>)> = None;
        for code in 0..count {
            let profile: Vec<Vec<usize>> = (0..k)
                .map(|r| vec![code / g.pow(r as u32) % g; brackets])
                .collect();
            let v = self.payoffs(&profile).0[0];
            if best.as_ref().is_none_or(|(b, _)| improves(v, *b)) {
                best = Some((v, profile));
            }
        }
        best.map(|(_, p)| p)
    }

    /// Best-response dynamics from `start` (each region's grid indices); regions that score
    /// the nation with flat rates choose together instead (`joint`).
    pub fn nash(&self, start: Vec<Vec<usize>>) -> NashOutcome {
        let joint = start
            .first()
            .and_then(|b| self.joint_optimum(start.len(), b.len()));
        let mut profile = start;
        let mut seen = vec![profile.clone()];
        let mut outcome = NashOutcome {
            rates: Vec::new(),
            payoffs: Vec::new(),
            populations: Vec::new(),
            rounds: 0,
            converged: false,
            cycle: 0,
            deviation_gains: Vec::new(),
            joint: joint.is_some(),
        };
        if let Some(best) = joint {
            profile = best;
            outcome.converged = true;
        }
        for round in (1..=NASH_ROUNDS).filter(|_| !outcome.joint) {
            outcome.rounds = round;
            let mut changed = false;
            for r in 0..profile.len() {
                let response = self.best_response(&profile, r);
                if response != profile[r] {
                    profile[r] = response;
                    changed = true;
                }
            }
            if !changed {
                outcome.converged = true;
                break;
            }
            if let Some(at) = seen.iter().position(|p| *p == profile) {
                outcome.cycle = (seen.len() - at) as u32;
                break;
            }
            seen.push(profile.clone());
        }
        let (payoffs, region_of) = self.payoffs(&profile);
        outcome.deviation_gains = (0..profile.len())
            .map(|r| {
                self.deviations(&profile[r])
                    .into_iter()
                    .map(|mine| {
                        let mut trial = profile.clone();
                        trial[r] = mine;
                        self.payoffs(&trial).0[r] - payoffs[r]
                    })
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect();
        outcome.populations = super::residents(&region_of, profile.len())
            .iter()
            .map(Vec::len)
            .collect();
        outcome.payoffs = payoffs;
        outcome.rates = profile
            .iter()
            .map(|p| p.iter().map(|&g| self.grid[g]).collect())
            .collect();
        outcome
    }
}

/// Whether `v` beats `best` by more than rounding (1e-9 relative): ties keep what is held.
fn improves(v: f64, best: f64) -> bool {
    v > best + 1e-9 * best.abs().max(1.0)
}

/// The grid index nearest `rate`.
pub fn nearest(grid: &[f64], rate: f64) -> usize {
    (0..grid.len())
        .min_by(|&a, &b| (grid[a] - rate).abs().total_cmp(&(grid[b] - rate).abs()))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::econ::federation::PublicGoods;
    use crate::econ::{UtilityForm, WelfareKind, WorldParams};

    fn params(kind: WelfareKind) -> WorldParams {
        WorldParams {
            form: UtilityForm::QuasiLinear { c: 0.5, delta: 2.0 },
            welfare: kind,
            rebate_equal: true,
            max_hours: 1000.0,
        }
    }

    const GRID: [f64; 10] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

    /// Two regions, each with a low-skill (10) and a high-skill (sqrt(500)) worker, utility
    /// z - T(z) + rebate - c l^2 with c = 0.5 and one flat rate t. Her best response is
    /// l = (1-t)s/(2c), her private utility (1-t)^2 s^2/(4c), the rebate t(1-t)S/(2c) with
    /// S = mean(s^2) = 300; setting d u_L/dt = 0 gives the Rawlsian autarky optimum
    /// t* = (S - s_L^2) / (2S - s_L^2) = 200 / 500 = 0.4.
    fn game<'a>(
        params: &'a WorldParams,
        objective: RegionalObjective,
        scales: &'a [f64],
        moving_cost: f64,
    ) -> Competition<'a> {
        static SKILLS: std::sync::LazyLock<Vec<f64>> =
            std::sync::LazyLock::new(|| vec![10.0, 500f64.sqrt(), 10.0, 500f64.sqrt()]);
        static TASTES: std::sync::LazyLock<Vec<Vec<f64>>> =
            std::sync::LazyLock::new(|| vec![vec![0.0, 0.0]; 4]);
        Competition {
            movers: Movers {
                params,
                skills: &SKILLS,
                weights: &[1.0; 4],
                amenities: &[0.0, 0.0],
                public: None,
                tastes: &TASTES,
                taste_scales: scales,
                moving_cost,
            },
            objective,
            cutoffs: &[0.0],
            grid: &GRID,
            flat: false,
            origin: &[0, 0, 1, 1],
        }
    }

    #[test]
    fn immobile_regions_set_their_autarky_optimum() {
        let p = params(WelfareKind::Rawlsian);
        // A moving cost no gain covers: nobody moves, each region is on its own.
        let g = game(&p, RegionalObjective::PerCapita, &[0.0; 4], 1e12);
        let out = g.nash(vec![vec![9], vec![0]]);
        assert!(out.converged && out.cycle == 0, "{out:?}");
        assert_eq!(out.rates, vec![vec![0.4], vec![0.4]]);
        assert_eq!(out.populations, vec![2, 2]);
        // Round 1 moves both regions to 0.4; round 2 confirms it; no other rate does better.
        assert_eq!(out.rounds, 2);
        assert!(out.deviation_gains.iter().all(|&g| g < 0.0), "{out:?}");
        // u_L = (1-t)^2 s_L^2/(4c) + t(1-t)S/(2c) = 0.36 * 100 / 2 + 0.24 * 300 = 18 + 72.
        for v in &out.payoffs {
            assert!((v - 90.0).abs() < 1e-6, "{out:?}");
        }
    }

    #[test]
    fn a_candidate_is_scored_with_the_regions_public_goods() {
        // The immobile case above under utilitarian welfare, with a local good: region 0's
        // residents have tastes 40 and 40 (G = 400, each gains 40 * 20 - 400 = 400), region
        // 1's 0 and 0 (G = 0). Region 0's payoff of any profile rises by 400, region 1's by 0,
        // so the rates the regions choose are the same (quasi-linear utility: the good does
        // not depend on them) and their payoffs differ by exactly that.
        let p = params(WelfareKind::Utilitarian);
        let goods = PublicGoods {
            rule: super::super::ProvisionRule::Local,
            tastes: vec![40.0, 40.0, 0.0, 0.0],
        };
        let without = game(&p, RegionalObjective::PerCapita, &[0.0; 4], 1e12);
        let mut with = game(&p, RegionalObjective::PerCapita, &[0.0; 4], 1e12);
        with.movers.public = Some(&goods);
        let profile = vec![vec![3], vec![5]];
        let (a, _) = without.payoffs(&profile);
        let (b, _) = with.payoffs(&profile);
        assert!((b[0] - a[0] - 400.0).abs() < 1e-9, "{a:?} {b:?}");
        assert!((b[1] - a[1]).abs() < 1e-9, "{a:?} {b:?}");
        assert_eq!(
            without.nash(vec![vec![9], vec![0]]).rates,
            with.nash(vec![vec![9], vec![0]]).rates
        );
    }

    #[test]
    fn mobile_high_earners_pull_the_rates_below_autarky_and_no_region_gains_by_deviating() {
        let p = params(WelfareKind::Rawlsian);
        // The high-skilled move for any gain (no taste, no cost); the low-skilled cannot.
        let scales = [0.0; 4];
        let mut g = game(&p, RegionalObjective::PerCapita, &scales, 0.0);
        let immobile_low = [1e12, 0.0, 1e12, 0.0];
        g.movers.taste_scales = &immobile_low;
        let tastes = vec![
            vec![1.0, 0.0],
            vec![0.0, 0.0],
            vec![0.0, 1.0],
            vec![0.0, 0.0],
        ];
        g.movers.tastes = &tastes;
        let out = g.nash(vec![vec![4], vec![4]]);
        assert!(out.converged, "{out:?}");
        // Competition for the mobile base: both at 20 % (autarky: 40 %), each region's poor
        // worker at u_L = 0.64 * 100 / 2 + 0.2 * 0.8 * 300 = 80 (autarky: 90).
        assert_eq!(out.rates, vec![vec![0.2], vec![0.2]], "{out:?}");
        assert_eq!(out.populations, vec![2, 2]);
        for v in &out.payoffs {
            assert!((v - 80.0).abs() < 1e-6, "{out:?}");
        }
        // A Nash equilibrium of the grid game: no region gains by any other rate.
        let profile: Vec<Vec<usize>> = out
            .rates
            .iter()
            .map(|r| vec![nearest(&GRID, r[0])])
            .collect();
        let (at, _) = g.payoffs(&profile);
        for r in 0..2 {
            for (dev, rate) in GRID.iter().enumerate() {
                let mut trial = profile.clone();
                trial[r][0] = dev;
                let (v, _) = g.payoffs(&trial);
                assert!(
                    v[r] <= at[r] + 1e-9,
                    "region {r} gains at {rate}: {v:?} > {at:?}"
                );
            }
        }
    }

    #[test]
    fn regions_that_score_the_nation_reach_the_cooperative_welfare_and_competing_ones_do_not_exceed_it()
     {
        // The mobile case of the test above, scored with weights falling with skill (a smooth
        // redistributive objective). Regions that maximize the nation's welfare end where no
        // profile of the grid does better (found by trying all 100); regions that compete for
        // their own residents end no better for the nation.
        let p = params(WelfareKind::InversePotentialIncome);
        let immobile_low = [1e12, 0.0, 1e12, 0.0];
        let tastes = vec![
            vec![1.0, 0.0],
            vec![0.0, 0.0],
            vec![0.0, 1.0],
            vec![0.0, 0.0],
        ];
        let weights = [1.5, 0.5, 1.5, 0.5];
        let national = |objective| {
            let mut g = game(&p, objective, &immobile_low, 0.0);
            g.movers.tastes = &tastes;
            g.movers.weights = &weights;
            let out = g.nash(vec![vec![0], vec![9]]);
            let mut nation = g;
            nation.objective = RegionalObjective::National;
            let profile: Vec<Vec<usize>> = out
                .rates
                .iter()
                .map(|r| vec![nearest(&GRID, r[0])])
                .collect();
            let mut best = f64::NEG_INFINITY;
            for a in 0..GRID.len() {
                for b in 0..GRID.len() {
                    best = best.max(nation.payoffs(&[vec![a], vec![b]]).0[0]);
                }
            }
            (out.clone(), nation.payoffs(&profile).0[0], best)
        };
        let (out, welfare, best) = national(RegionalObjective::National);
        assert!(out.converged && !out.joint, "{out:?}");
        assert!(
            (welfare - best).abs() <= 1e-9 * best.abs(),
            "{welfare} vs {best}: {out:?}"
        );
        // Competing, both cut to 0 %: the nation's welfare is 100 against the cooperative 112.
        let (out, welfare, best) = national(RegionalObjective::PerCapita);
        assert_eq!(out.rates, vec![vec![0.0], vec![0.0]], "{out:?}");
        assert!(welfare < best - 1.0, "{welfare} vs {best}: {out:?}");
    }

    #[test]
    fn cooperative_regions_with_flat_rates_choose_the_best_profile_together() {
        // Rawlsian regions that score the nation, one flat rate each: from (90 %, 0 %) they
        // do not best-respond one at a time but take the best of all 100 profiles.
        let p = params(WelfareKind::Rawlsian);
        let mut g = game(&p, RegionalObjective::National, &[0.0; 4], 1e12);
        g.flat = true;
        let out = g.nash(vec![vec![9], vec![0]]);
        assert!(out.joint && out.converged && out.rounds == 0, "{out:?}");
        let mut best = f64::NEG_INFINITY;
        for a in 0..GRID.len() {
            for b in 0..GRID.len() {
                best = best.max(g.payoffs(&[vec![a], vec![b]]).0[0]);
            }
        }
        // Immobile: the nation's poorest is best off at 40 % in both regions, u_L = 90.
        assert_eq!(out.rates, vec![vec![0.4], vec![0.4]]);
        assert!((out.payoffs[0] - best).abs() < 1e-9 && (best - 90.0).abs() < 1e-6);
        // Competing regions search one at a time, as before.
        g.objective = RegionalObjective::PerCapita;
        assert!(!g.nash(vec![vec![9], vec![0]]).joint);
    }

    #[test]
    fn the_taste_scales_fall_with_skill_when_mobility_rises_with_it() {
        // Percentiles 1/6, 1/2, 5/6 (given out of id order): sigma e^(-b (q - 1/2)).
        let s = super::super::taste_scales(2.0, &[40.0, 10.0, 20.0], 3.0);
        let want = [2.0 * (-1.0f64).exp(), 2.0 * 1.0f64.exp(), 2.0];
        for (got, want) in s.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{s:?}");
        }
        assert_eq!(
            super::super::taste_scales(2.0, &[10.0, 20.0], 0.0),
            vec![2.0, 2.0]
        );
    }
}
