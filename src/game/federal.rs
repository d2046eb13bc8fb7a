//! A federation's federal layer inside the game: once a tax year the federal schedule is set,
//! by the layer's planner actor (seeing the nation's last year and the federal revenue) or by
//! a leader the whole nation elects (the election turn of `elected.rs`, run on the federal
//! schedule, with a book of federal platforms each worker values in her own region). The
//! schedule sits on top of the regions' (see [`crate::econ::federation::combine`]); its move is
//! logged as a `FederalMove` frame, after the federal election's `Election` frame if any.

use simulacra_actors::StepFrames;

use crate::frames::{Frame, PlannerMove, StepOutcome};
use crate::policy::PlannerInput;

use super::regions::points;
use super::{Economy, GameError, ask_planner};

impl Economy {
    /// The federal layer sets the federal schedule for the coming tax year; true when it
    /// changed. `year_welfare` is the nation's last tax year (welfare sum and steps). LLM
    /// exchanges go to `deferred` (logged after the nation's move).
    pub(super) async fn federal_turn(
        &mut self,
        step: u64,
        tax_year: u64,
        year_welfare: (f64, u64),
        frames: &mut StepFrames<Frame>,
        deferred: &mut Vec<Frame>,
    ) -> Result<bool, GameError> {
        let Some(actors) = self.regions.as_ref() else {
            return Ok(false);
        };
        let planner = actors.federal_planner();
        let elected = actors.federal_governance.is_some();
        if planner.is_none() && !elected {
            return Ok(false);
        }
        let observed_welfare = (year_welfare.1 > 0).then(|| year_welfare.0 / year_welfare.1 as f64);
        let (revenue_sum, steps) = self.close_federal_year(observed_welfare);
        let Some(planner) = planner else {
            return self
                .federal_election(step, tax_year, year_welfare, frames, deferred)
                .await;
        };
        let f = self.state.federation.as_ref().expect("a federation");
        let fed = f.federal.as_ref().expect("a federal layer");
        let current = fed.schedule.clone();
        let last_year = match observed_welfare {
            Some(welfare) if steps > 0 => {
                self.year_observation(steps as usize, welfare, Some(revenue_sum / steps as f64))
            }
            _ => None,
        };
        let input = PlannerInput {
            tax_year,
            years_total: self.state.years_total,
            step,
            current,
            observed_welfare,
            last_year,
        };
        let proposal = ask_planner(&planner, input, step).await?;
        let f = self.state.federation.as_mut().expect("a federation");
        let fed = f.federal.as_mut().expect("a federal layer");
        let previous = std::mem::replace(&mut fed.schedule, proposal.schedule);
        let changed = previous != fed.schedule;
        frames.push(Frame::FederalMove(PlannerMove {
            step,
            tax_year,
            policy: proposal.policy.to_string(),
            observed_welfare,
            deltas_points: points(&previous, &fed.schedule),
            previous_rates: previous.rates().to_vec(),
            cutoffs: fed.schedule.cutoffs().to_vec(),
            rates: fed.schedule.rates().to_vec(),
        }));
        deferred.extend(proposal.exchanges.into_iter().map(Frame::Llm));
        Ok(changed)
    }

    /// Ends the federal layer's tax year: its revenue tally (sum, steps) is taken, and the
    /// year is kept as one record of the federal rates and the nation's means.
    fn close_federal_year(&mut self, observed_welfare: Option<f64>) -> (f64, u64) {
        let f = self.state.federation.as_mut().expect("a federation");
        let fed = f.federal.as_mut().expect("a federal layer");
        let (sum, steps) = std::mem::take(&mut fed.year);
        if steps == 0 {
            return (sum, steps);
        }
        let revenue = sum / steps as f64;
        fed.last_year = Some(revenue);
        // Only an LLM federal leader reads the federal layer's years: other runs keep none.
        let keep_years = self
            .regions
            .as_ref()
            .and_then(|a| a.federal_governance.as_ref())
            .is_some_and(super::elected::GovernanceState::asks_leader);
        if !keep_years {
            return (sum, steps);
        }
        let rates = fed.schedule.rates().to_vec();
        let year = &self.records[self.records.len().saturating_sub(steps as usize)..];
        let mean =
            |g: fn(&StepOutcome) -> f64| year.iter().map(g).sum::<f64>() / year.len().max(1) as f64;
        let record = year.last().map(|last| StepOutcome {
            step: last.step,
            tax_year: last.tax_year,
            rates,
            revenue,
            rebate: last.rebate,
            welfare: observed_welfare.unwrap_or_else(|| mean(|r| r.welfare)),
            gini: mean(|r| r.gini),
            mean_hours: mean(|r| r.mean_hours),
            mean_income: mean(|r| r.mean_income),
            mean_utility: mean(|r| r.mean_utility),
        });
        let f = self.state.federation.as_mut().expect("a federation");
        let fed = f.federal.as_mut().expect("a federal layer");
        fed.years.extend(record);
        (sum, steps)
    }

    /// The nation elects (or its federal leader moves): the election turn runs on the federal
    /// schedule and governance, swapped into the economy's for the turn. Its `Election` frame
    /// is logged as it is (a federation's only nation-wide election), its move as a
    /// `FederalMove`.
    async fn federal_election(
        &mut self,
        step: u64,
        tax_year: u64,
        year_welfare: (f64, u64),
        frames: &mut StepFrames<Frame>,
        deferred: &mut Vec<Frame>,
    ) -> Result<bool, GameError> {
        let version = self.state.schedule_version;
        self.swap_federal();
        let before = self.state.schedule.clone();
        self.state.year_welfare = year_welfare;
        let mut own = StepFrames::new();
        let result = self.election_turn(step, tax_year, &mut own, None).await;
        let changed = before != self.state.schedule;
        self.state.year_welfare = (0.0, 0);
        self.swap_federal();
        self.state.schedule_version = version;
        result?;
        for frame in own.frames() {
            match frame {
                Frame::Llm(_) => deferred.push(frame.clone()),
                Frame::PlannerMove(m) => frames.push(Frame::FederalMove(m.clone())),
                other => frames.push(other.clone()),
            }
        }
        Ok(changed)
    }

    /// Exchanges the federal schedule and elected governance with the economy's own.
    fn swap_federal(&mut self) {
        let f = self.state.federation.as_mut().expect("a federation");
        let fed = f.federal.as_mut().expect("a federal layer");
        std::mem::swap(&mut self.state.schedule, &mut fed.schedule);
        std::mem::swap(&mut self.state.governance, &mut fed.governance);
        let actors = self.regions.as_mut().expect("a federation");
        std::mem::swap(&mut self.governance, &mut actors.federal_governance);
    }
}
