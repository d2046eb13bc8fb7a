//! A federation inside the game: regions that tax and govern themselves, and the workers who
//! move between them.
//!
//! ```text
//! step k ─┬─ k starts a tax year? ─┬─ moves (every move_every_years): logit choice ──▶ Moves
//!         │                        ├─ each region: its planner actor, or an election among
//!         │                        │  its residents ──▶ InRegion { PlannerMove / Election }
//!         │                        └─ the nation's PlannerMove (population-weighted rates)
//!         ├─ StepIn(views per region) ──▶ worker actors ──▶ hours, in id order
//!         └─ econ::federation::settle_regions ──▶ RegionOutcome per region, Outcome
//! ```
//!
//! The regions' state lives in [`FederationState`] (a snapshot keeps it); the actors (one
//! planner per region, or one voting coordinator per region) live here; the moves are in
//! `moves.rs` and the federal layer's turn in `federal.rs`. The economics are the pure
//! functions of [`crate::econ::federation`].

use std::sync::Arc;

use actix::prelude::*;
use simulacra_actors::{Flow, StepFrames};

use crate::agents::planner::{RestorePlanner, SavePlanner};
use crate::agents::{PlannerActor, RegionalViews, WorkerCall};
use crate::config::{Federation, GovernanceMode, PlannerPolicyName};
use crate::econ::federation::{
    FederalSettlement, RegionalObjective, combine, mean_rates, objective_value, residents,
    segregation_index, settle_regions,
};
use crate::econ::{TaxSchedule, UtilityType};
use crate::frames::{Frame, PlannerMove, RegionOutcome, StepOutcome};
use crate::memory::{ElectedState, FederalState, FederationState, RegionState};
use crate::policy::{Feedback, PlannerInput, PlannerPolicy, WorkerView, YearObservation};
use crate::resolved::ResolvedScenario;

use super::elected::GovernanceState;
use super::electorate::RegionScope;
use super::location::{Locations, location_outcome};
use super::region_setup::{
    federal_leader_text, federal_scenario, region_leader_text, region_scenario,
};
use super::{Economy, GameError, ask_planner};

/// The regions' actors: each region's planner (under planner governance) or its elected
/// governance and voting coordinator.
pub(super) struct RegionActors {
    pub(super) config: Federation,
    pub(super) planners: Vec<Option<Addr<PlannerActor>>>,
    pub(super) governance: Vec<Option<GovernanceState>>,
    /// The federal layer's planner, if there is one.
    pub(super) federal: Option<Addr<PlannerActor>>,
    /// An elected federal layer's governance and voting coordinator, if it is elected.
    pub(super) federal_governance: Option<GovernanceState>,
    /// LLM workers are asked where to live; offline workers follow the logit rule.
    ask_workers: bool,
    /// Each worker's starting region (a pure function of the scenario, so not in a
    /// snapshot): the group `objective = "original-residents"` scores.
    origin: Vec<u32>,
    /// Each worker's persistent tastes for the regions (a pure function of the seed), and
    /// the scale each weighs them at (`mobility_by_skill`).
    pub(super) tastes: Vec<Vec<f64>>,
    pub(super) taste_scales: Vec<f64>,
    /// Who arrived in her region at this step (set by the year's moves, read by the step's
    /// location utility, which charges the moving cost once).
    pub(super) arrived: Vec<bool>,
    /// The settlement of the economy's `last_hours` under the same schedules and residences
    /// (a pure function of them, so it is reused, not recomputed, while nobody changes her
    /// hours; not in a snapshot; a fork's change of policies drops it).
    pub(super) settled: Option<FederalSettlement>,
    /// The regions' tax competition, when they compete (computed before the run from the
    /// scenario, so not in a snapshot).
    pub(super) nash: Option<crate::econ::federation::NashOutcome>,
    /// The regions' public goods (`federation.public_good`): the rule and every worker's
    /// taste, a pure function of the scenario, so not in a snapshot.
    pub(super) public_good: Option<crate::econ::federation::PublicGoods>,
}

impl RegionActors {
    /// Whether workers are asked where to live (LLM workers) rather than following the
    /// logit rule.
    pub(super) fn ask_workers(&self) -> bool {
        self.ask_workers
    }

    /// The federal layer's planner, if there is one.
    pub(super) fn federal_planner(&self) -> Option<Addr<PlannerActor>> {
        self.federal.clone()
    }
}

impl Economy {
    /// Makes this economy a federation: `planners` are the regions' planner policies, one per
    /// region (used by the regions governed by a planner), and `federal` the federal layer's.
    pub fn federate(
        &mut self,
        scenario: &ResolvedScenario,
        planners: Vec<Box<dyn PlannerPolicy>>,
        federal: Option<Box<dyn PlannerPolicy>>,
        nash: Option<crate::econ::federation::NashOutcome>,
    ) {
        let Some(f) = scenario.regions() else { return };
        let k = f.regions;
        let region_of = crate::resolved::starting_regions(scenario, self.population.len());
        let mut regions = Vec::with_capacity(k);
        let mut governance = Vec::with_capacity(k);
        let mut actors = Vec::with_capacity(k);
        for (r, planner) in planners.into_iter().enumerate().take(k) {
            let rs = region_scenario(scenario, f, r);
            let rate = f
                .region(r)
                .initial_rate
                .unwrap_or(scenario.planner.initial_rate);
            // A fixed region starts on its rates: the federal layer, which moves first each
            // year, then sees the schedule the region will keep.
            let fixed = rs.governance.mode == GovernanceMode::Planner
                && rs.planner.policy == PlannerPolicyName::Fixed;
            let schedule = if let Some(n) = &nash {
                // Competing regions start on their equilibrium rates, as fixed ones do.
                TaxSchedule::new(scenario.cutoffs.clone(), n.rates[r].clone())
            } else if fixed {
                TaxSchedule::new(
                    scenario.cutoffs.clone(),
                    f.fixed_rates(r, &scenario.planner.rates).to_vec(),
                )
            } else {
                TaxSchedule::uniform(scenario.cutoffs.clone(), rate)
            }
            .expect("validated rates make a schedule");
            // LLM residents vote (and delegate) through the model; an LLM leader is asked
            // with the region's own history and residents.
            let gov = GovernanceState::start(&rs, self.params.welfare, self.llm.as_ref())
                .map(|g| g.in_region(region_leader_text(f, r)));
            regions.push(RegionState {
                schedule,
                schedule_version: 0,
                last_rebate: 0.0,
                year: ([0.0; 6], 0),
                last_year: None,
                incomes: Vec::new(),
                utilities: Vec::new(),
                governance: gov.as_ref().map(|_| ElectedState::default()),
                moves_in: 0,
                moves_out: 0,
                years: Vec::new(),
            });
            actors.push(
                (rs.governance.mode == GovernanceMode::Planner)
                    .then(|| PlannerActor::new(planner).start()),
            );
            governance.push(gov);
        }
        let federal_governance = (f.federal_mode() == Some(GovernanceMode::Election))
            .then(|| federal_scenario(scenario, f))
            .and_then(|fs| GovernanceState::start(&fs, self.params.welfare, self.llm.as_ref()))
            .map(|g| g.federal(federal_leader_text(f)));
        self.regions = Some(RegionActors {
            config: f.clone(),
            planners: actors,
            governance,
            federal: federal.map(|p| PlannerActor::new(p).start()),
            federal_governance,
            ask_workers: scenario.workers.policy == crate::config::WorkerPolicyName::Llm,
            origin: region_of.clone(),
            tastes: crate::resolved::region_tastes(scenario, self.population.len()),
            taste_scales: crate::econ::federation::taste_scales(
                f.taste_scale,
                &self.population.skills,
                f.mobility_by_skill,
            ),
            arrived: vec![false; self.population.len()],
            settled: None,
            nash,
            public_good: crate::resolved::public_goods(scenario, self.population.len()),
        });
        let federal_state = f.federal_mode().map(|mode| FederalState {
            schedule: if f.federal_planner == Some(PlannerPolicyName::Fixed) {
                TaxSchedule::new(scenario.cutoffs.clone(), f.federal_rates.clone())
            } else {
                TaxSchedule::uniform(scenario.cutoffs.clone(), f.federal_initial_rate)
            }
            .expect("validated rates make a schedule"),
            last_rebate: 0.0,
            year: (0.0, 0),
            last_year: None,
            governance: (mode == GovernanceMode::Election).then(ElectedState::default),
            years: Vec::new(),
        });
        let schedules: Vec<TaxSchedule> = regions.iter().map(|r| r.schedule.clone()).collect();
        let populations = populations(&region_of, k);
        self.state.schedule = TaxSchedule::new(
            scenario.cutoffs.clone(),
            mean_rates(&scenario.cutoffs, &schedules, &populations),
        )
        .expect("mean rates are rates");
        self.state.federation = Some(FederationState {
            region_of,
            regions,
            moves: Vec::new(),
            segregation: 0.0,
            planners: Vec::new(),
            federal: federal_state,
        });
    }

    /// The regions' tax competition, when they compete.
    pub fn nash(&self) -> Option<&crate::econ::federation::NashOutcome> {
        self.regions.as_ref().and_then(|a| a.nash.as_ref())
    }

    /// The federation's state, when the economy is one.
    pub fn federation(&self) -> Option<&FederationState> {
        self.state.federation.as_ref()
    }

    /// The regions' planner memories, for a snapshot.
    pub(super) async fn save_region_planners(&mut self, step: u64) -> Result<(), GameError> {
        let Some(actors) = &self.regions else {
            return Ok(());
        };
        let mut saved = Vec::new();
        for p in actors
            .planners
            .iter()
            .chain(std::iter::once(&actors.federal))
        {
            saved.push(match p {
                Some(p) => p
                    .send(SavePlanner)
                    .await
                    .map_err(|source| GameError::PlannerGone { step, source })?,
                None => Vec::new(),
            });
        }
        if let Some(f) = self.state.federation.as_mut() {
            f.planners = saved;
        }
        Ok(())
    }

    /// Gives the regions' planners back the memories a snapshot kept.
    pub(super) async fn restore_region_planners(&mut self, step: u64) -> Result<(), GameError> {
        let (Some(actors), Some(f)) = (&self.regions, &self.state.federation) else {
            return Ok(());
        };
        let all = actors
            .planners
            .iter()
            .chain(std::iter::once(&actors.federal));
        for (p, memory) in all.zip(&f.planners) {
            if let Some(p) = p {
                p.send(RestorePlanner(memory.clone()))
                    .await
                    .map_err(|source| GameError::PlannerGone { step, source })?
                    .map_err(|e| GameError::Restore(format!("a region's planner memory: {e}")))?;
            }
        }
        Ok(())
    }

    /// The national settlement of the last step of a federation (recomputed on restore).
    pub(super) fn resettle_federation(&mut self) {
        let (Some(f), Some((_, hours))) = (&self.state.federation, &self.state.last_hours) else {
            return;
        };
        let schedules: Vec<TaxSchedule> = f.regions.iter().map(|r| r.schedule.clone()).collect();
        let config = self.regions.as_ref().map(|a| &a.config);
        let public_good = self.regions.as_ref().and_then(|a| a.public_good.as_ref());
        let layer = f
            .federal
            .as_ref()
            .zip(config)
            .map(|(fed, c)| c.federal_layer(&fed.schedule));
        let s = settle_regions(
            &self.params,
            &schedules,
            layer,
            public_good,
            &f.region_of,
            &self.population.skills,
            &self.population.weights,
            hours,
        );
        self.last_settlement = Some(s.national);
    }

    /// One step of a federation after its `StepBegin` (see the module's diagram).
    pub(super) async fn play_federal_step(
        &mut self,
        step: u64,
        frames: &mut StepFrames<Frame>,
    ) -> Result<Flow, GameError> {
        let tax_year = step / self.tax_year_length;
        let step_in_year = step % self.tax_year_length;
        if step_in_year == 0 {
            self.federal_year_turn(step, tax_year, frames).await?;
        }
        let f = self.state.federation.as_ref().expect("a federation");
        let k = f.regions.len() as u64;
        let federal = f.federal.as_ref();
        let views = f
            .regions
            .iter()
            .enumerate()
            .map(|(r, region)| WorkerView {
                step,
                tax_year,
                step_in_year,
                last_step_of_year: step_in_year + 1 == self.tax_year_length,
                schedule: faced(&region.schedule, federal),
                // Unique across regions: a worker who moved sees a new version.
                schedule_version: self.state.schedule_version * k + r as u64,
                rebate: region.last_rebate + federal.map_or(0.0, |fed| fed.last_rebate),
                welfare: self.state.last_welfare,
                rng_key: self.worker_key,
                leader: region.governance.as_ref().and_then(super::elected::news),
                planner_state: None,
            })
            .collect();
        let call = WorkerCall::StepIn(Arc::new(RegionalViews {
            views,
            region_of: f.region_of.clone(),
        }));
        let feedback = std::mem::take(&mut self.state.feedback);
        let replies = self.workers.step(step, &call, feedback).await?;
        if let Some(message) = replies.iter().find_map(|r| r.fatal().cloned()) {
            return Err(GameError::Replay { step, message });
        }
        let hours: Vec<f64> = replies.iter().map(|r| r.hours).collect();
        self.log_decisions(step, &hours, frames);
        for reply in replies {
            let Some(extra) = reply.extra else { continue };
            for e in extra.exchanges {
                frames.push(Frame::Llm(e));
            }
        }

        let actors = self.regions.as_mut().expect("a federation");
        let f = self.state.federation.as_mut().expect("a federation");
        let schedules: Vec<TaxSchedule> = f.regions.iter().map(|r| r.schedule.clone()).collect();
        // Every schedule change and every move bumps the version.
        let version = self.state.schedule_version;
        let reusable =
            matches!(&self.state.last_hours, Some((v, h)) if *v == version && *h == hours);
        let settled = match actors.settled.take() {
            Some(s) if reusable => s,
            _ => settle_regions(
                &self.params,
                &schedules,
                f.federal
                    .as_ref()
                    .map(|fed| actors.config.federal_layer(&fed.schedule)),
                actors.public_good.as_ref(),
                &f.region_of,
                &self.population.skills,
                &self.population.weights,
                &hours,
            ),
        };
        let groups = residents(&f.region_of, f.regions.len());
        if let Some(fed) = f.federal.as_mut() {
            fed.last_rebate = settled.federal_rebate;
            fed.year.0 += settled.federal_revenue;
            fed.year.1 += 1;
        }
        for (r, ((region, s), ids)) in f
            .regions
            .iter_mut()
            .zip(&settled.regions)
            .zip(&groups)
            .enumerate()
        {
            let transfer = settled.transfers[r];
            // The region's year is scored by its objective (per capita: its welfare).
            let score = match self.regions.as_ref() {
                Some(a) if a.config.objective != RegionalObjective::PerCapita => objective_value(
                    a.config.objective,
                    self.params.welfare,
                    r,
                    &settled,
                    &f.region_of,
                    &a.origin,
                    &self.population.weights,
                ),
                _ => s.welfare,
            };
            let figures = [
                score,
                s.revenue,
                s.mean_hours,
                s.gini,
                s.mean_income,
                transfer,
            ];
            for (sum, x) in region.year.0.iter_mut().zip(figures) {
                *sum += x;
            }
            region.year.1 += 1;
            region.last_rebate = s.rebate;
            region.incomes = s.incomes.clone();
            region.utilities = s.utilities.clone();
            frames.push(Frame::RegionOutcome(RegionOutcome {
                step,
                tax_year,
                region: r as u32,
                population: ids.len() as u64,
                cutoffs: region.schedule.cutoffs().to_vec(),
                rates: region.schedule.rates().to_vec(),
                revenue: s.revenue,
                rebate: s.rebate,
                transfer,
                welfare: s.welfare,
                gini: s.gini,
                mean_hours: s.mean_hours,
                mean_income: s.mean_income,
            }));
        }
        f.segregation = segregation_index(&settled.national.incomes, &f.region_of, f.regions.len());
        if let Some(actors) = self.regions.as_mut() {
            let at = Locations {
                config: &actors.config,
                tastes: &actors.tastes,
                taste_scales: &actors.taste_scales,
                arrived: &mut actors.arrived,
            };
            frames.push(Frame::Location(location_outcome(
                step,
                tax_year,
                at,
                &self.params,
                &settled,
                (&f.region_of, &groups),
                &self.population.weights,
            )));
        }
        let populations: Vec<usize> = groups.iter().map(Vec::len).collect();
        let previous_welfare = self.state.last_welfare;
        let n = &settled.national;
        self.state.feedback = hours
            .iter()
            .zip(&n.utilities)
            .zip(&self.population.utility_types)
            .map(|((&h, &u), t)| {
                Some(Feedback {
                    hours: h,
                    utility: match t {
                        UtilityType::Egotistical => u,
                        UtilityType::Altruistic => previous_welfare,
                        UtilityType::Adversarial => -previous_welfare,
                    },
                })
            })
            .collect();
        let outcome = StepOutcome {
            step,
            tax_year,
            rates: mean_rates(self.state.schedule.cutoffs(), &schedules, &populations),
            revenue: n.revenue,
            rebate: n.rebate,
            welfare: n.welfare,
            gini: n.gini,
            mean_hours: n.mean_hours,
            mean_income: n.mean_income,
            mean_utility: n.mean_utility,
        };
        self.state.last_hours = Some((self.state.schedule_version, hours));
        self.last_settlement = Some(settled.national.clone());
        if let Some(actors) = self.regions.as_mut() {
            actors.settled = Some(settled);
        }
        Ok(self.finish_step(outcome, frames))
    }

    /// The first step of a tax year: moves (when due), then each region governs, then the
    /// nation's summary move.
    async fn federal_year_turn(
        &mut self,
        step: u64,
        tax_year: u64,
        frames: &mut StepFrames<Frame>,
    ) -> Result<(), GameError> {
        let year_welfare = self.state.year_welfare;
        let observed_welfare = self.close_year();
        let config = self.regions.as_ref().expect("a federation").config.clone();
        let k = config.regions;
        let mut changed = false;
        let mut deferred = Vec::new();
        if tax_year > 0
            && config.move_every_years > 0
            && tax_year.is_multiple_of(config.move_every_years)
        {
            let asked = self
                .ask_where(step, tax_year, &config, &mut deferred)
                .await?;
            let (record, expectations) = self.moves(step, tax_year, &config, asked);
            changed |= !record.moves.is_empty();
            frames.push(Frame::Moves(record));
            if let Some(e) = expectations {
                frames.push(Frame::MoverExpectations(e));
            }
        }
        changed |= self
            .federal_turn(step, tax_year, year_welfare, frames, &mut deferred)
            .await?;
        for r in 0..k {
            let mut own = StepFrames::new();
            changed |= self.region_turn(r, step, tax_year, &mut own).await?;
            for frame in own.frames() {
                match frame {
                    Frame::Llm(_) => deferred.push(frame.clone()),
                    other => frames.push(Frame::InRegion {
                        region: r as u32,
                        frame: Box::new(other.clone()),
                    }),
                }
            }
        }
        if changed {
            self.state.schedule_version += 1;
        }
        let f = self.state.federation.as_ref().expect("a federation");
        let schedules: Vec<TaxSchedule> = f.regions.iter().map(|r| r.schedule.clone()).collect();
        let rates = mean_rates(
            self.state.schedule.cutoffs(),
            &schedules,
            &populations(&f.region_of, k),
        );
        let national = TaxSchedule::new(self.state.schedule.cutoffs().to_vec(), rates)
            .expect("mean rates are rates");
        let previous = std::mem::replace(&mut self.state.schedule, national);
        frames.push(Frame::PlannerMove(PlannerMove {
            step,
            tax_year,
            policy: format!("{k} regions"),
            observed_welfare,
            previous_rates: previous.rates().to_vec(),
            deltas_points: Vec::new(),
            cutoffs: self.state.schedule.cutoffs().to_vec(),
            rates: self.state.schedule.rates().to_vec(),
        }));
        for frame in deferred {
            frames.push(frame);
        }
        Ok(())
    }

    /// Region `r` governs for the coming tax year; true when its schedule changed.
    async fn region_turn(
        &mut self,
        r: usize,
        step: u64,
        tax_year: u64,
        frames: &mut StepFrames<Frame>,
    ) -> Result<bool, GameError> {
        // Only an LLM leader reads the region's years: other runs keep none (snapshots stay
        // small).
        let keep_years = self.regions.as_ref().expect("a federation").governance[r]
            .as_ref()
            .is_some_and(GovernanceState::asks_leader);
        let f = self.state.federation.as_mut().expect("a federation");
        let region = &mut f.regions[r];
        let (sums, count) = std::mem::take(&mut region.year);
        let means = (count > 0).then(|| sums.map(|x| x / count as f64));
        if means.is_some() {
            region.last_year = means;
        }
        if let Some(m) = means.filter(|_| keep_years) {
            region.years.push(StepOutcome {
                step: step.saturating_sub(1),
                tax_year: tax_year.saturating_sub(1),
                rates: region.schedule.rates().to_vec(),
                revenue: m[1],
                rebate: region.last_rebate,
                welfare: m[0],
                gini: m[3],
                mean_hours: m[2],
                mean_income: m[4],
                mean_utility: 0.0,
            });
        }
        let version = region.schedule_version;
        let actors = self.regions.as_mut().expect("a federation");
        if let Some(planner) = actors.planners[r].clone() {
            let region = &f.regions[r];
            let input = PlannerInput {
                tax_year,
                years_total: self.state.years_total,
                step,
                current: region.schedule.clone(),
                observed_welfare: means.map(|m| m[0]),
                last_year: means.map(|m| YearObservation {
                    welfare: m[0],
                    revenue: m[1],
                    mean_hours: m[2],
                    gini: m[3],
                    incomes: Arc::new(region.incomes.clone()),
                    utilities: Arc::new(region.utilities.clone()),
                }),
            };
            let proposal = ask_planner(&planner, input, step).await?;
            let region = &mut f.regions[r];
            let previous = std::mem::replace(&mut region.schedule, proposal.schedule);
            let deltas_points = points(&previous, &region.schedule);
            let changed = previous != region.schedule;
            if changed {
                region.schedule_version += 1;
            }
            frames.push(Frame::PlannerMove(PlannerMove {
                step,
                tax_year,
                policy: proposal.policy.to_string(),
                observed_welfare: means.map(|m| m[0]),
                previous_rates: previous.rates().to_vec(),
                deltas_points,
                cutoffs: region.schedule.cutoffs().to_vec(),
                rates: region.schedule.rates().to_vec(),
            }));
            for e in proposal.exchanges {
                frames.push(Frame::Llm(e));
            }
            return Ok(changed);
        }
        // A leader who moved away leaves office: the region elects anew among its residents.
        if let Some(elected) = f.regions[r].governance.as_mut()
            && elected
                .leader
                .is_some_and(|l| f.region_of.get(l as usize) != Some(&(r as u32)))
        {
            elected.leader = None;
        }
        // An election among the residents: the election turn runs on the region's state,
        // swapped into the economy's for the turn.
        let scope = RegionScope {
            region: r as u32,
            residents: residents(&f.region_of, f.regions.len()).swap_remove(r),
            region_of: Arc::new(f.region_of.clone()),
        };
        let year_welfare = (sums[0], count);
        self.swap_region(r);
        self.state.year_welfare = year_welfare;
        let result = self
            .election_turn(step, tax_year, frames, Some(&scope))
            .await;
        self.state.year_welfare = (0.0, 0);
        self.swap_region(r);
        result?;
        let f = self.state.federation.as_ref().expect("a federation");
        Ok(f.regions[r].schedule_version != version)
    }

    /// Exchanges region `r`'s schedule and elected governance with the economy's own.
    fn swap_region(&mut self, r: usize) {
        let f = self.state.federation.as_mut().expect("a federation");
        let region = &mut f.regions[r];
        std::mem::swap(&mut self.state.schedule, &mut region.schedule);
        std::mem::swap(
            &mut self.state.schedule_version,
            &mut region.schedule_version,
        );
        std::mem::swap(&mut self.state.governance, &mut region.governance);
        let actors = self.regions.as_mut().expect("a federation");
        std::mem::swap(&mut self.governance, &mut actors.governance[r]);
    }
}

/// A move in points per bracket (empty when the brackets changed: a move is expressed in
/// points only when the brackets are the same).
pub(super) fn points(previous: &TaxSchedule, next: &TaxSchedule) -> Vec<i32> {
    if previous.cutoffs() != next.cutoffs() {
        return Vec::new();
    }
    previous
        .rates()
        .iter()
        .zip(next.rates())
        .map(|(a, b)| ((b - a) * 100.0).round() as i32)
        .collect()
}

/// The schedule a region's residents face: its own, with the federal one on top.
pub(super) fn faced(regional: &TaxSchedule, federal: Option<&FederalState>) -> TaxSchedule {
    match federal {
        Some(fed) => combine(regional, &fed.schedule),
        None => regional.clone(),
    }
}

/// Each region's population.
pub(super) fn populations(region_of: &[u32], k: usize) -> Vec<usize> {
    let mut out = vec![0; k];
    for &r in region_of {
        out[r as usize] += 1;
    }
    out
}
