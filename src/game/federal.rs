//! A federation's federal layer inside the game: its planner actor sets the federal schedule
//! once a tax year, seeing the nation's last year and the federal revenue. The schedule sits on
//! top of the regions' (see [`crate::econ::federation::combine`]); its move is logged as a
//! `FederalMove` frame.

use simulacra_actors::StepFrames;

use crate::frames::{Frame, PlannerMove};
use crate::policy::PlannerInput;

use super::regions::points;
use super::{Economy, GameError, ask_planner};

impl Economy {
    /// The federal layer's planner sets the federal schedule for the coming tax year, seeing
    /// the nation's last year and the federal revenue; true when the schedule changed. Its
    /// LLM exchanges, if any, go to `deferred` (logged after the nation's move).
    pub(super) async fn federal_turn(
        &mut self,
        step: u64,
        tax_year: u64,
        observed_welfare: Option<f64>,
        frames: &mut StepFrames<Frame>,
        deferred: &mut Vec<Frame>,
    ) -> Result<bool, GameError> {
        let Some(planner) = self.regions.as_ref().and_then(|a| a.federal_planner()) else {
            return Ok(false);
        };
        let f = self.state.federation.as_mut().expect("a federation");
        let fed = f
            .federal
            .as_mut()
            .expect("a federal planner has a federal layer");
        let (sum, count) = std::mem::take(&mut fed.year);
        if count > 0 {
            fed.last_year = Some(sum / count as f64);
        }
        let current = fed.schedule.clone();
        let last_year = match observed_welfare {
            Some(welfare) if count > 0 => {
                self.year_observation(count as usize, welfare, Some(sum / count as f64))
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
        let fed = f
            .federal
            .as_mut()
            .expect("a federal planner has a federal layer");
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
}
