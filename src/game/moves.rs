//! A federation's moves at the start of a tax year: LLM workers are asked where to live
//! (`move.j2`), offline workers follow the logit rule of [`crate::econ::federation`] with their
//! persistent tastes; the moves are logged as one `Moves` frame.

use std::sync::Arc;

use simulacra_actors::stream;

use crate::agents::WorkerCall;
use crate::config::Federation;
use crate::econ::TaxSchedule;
use crate::econ::federation::{choose_region, region_utility, segregation_index, tastes};
use crate::frames::{Frame, MoveRecord};
use crate::policy::{MoveView, RegionOffer};

use super::regions::{faced, populations};
use super::{Economy, GameError};

impl Economy {
    /// LLM workers' answers to the move question (none for offline workers, who follow the
    /// logit rule); their exchanges go to `deferred`.
    pub(super) async fn ask_where(
        &mut self,
        step: u64,
        tax_year: u64,
        config: &Federation,
        deferred: &mut Vec<Frame>,
    ) -> Result<Vec<Option<u32>>, GameError> {
        let n = self.population.len();
        if !self.regions.as_ref().is_some_and(|a| a.ask_workers()) {
            return Ok(vec![None; n]);
        }
        let f = self.state.federation.as_ref().expect("a federation");
        let federal = f.federal.as_ref();
        let residents = populations(&f.region_of, f.regions.len());
        let view = MoveView {
            step,
            tax_year,
            regions: f
                .regions
                .iter()
                .enumerate()
                .map(|(r, region)| RegionOffer {
                    schedule: faced(&region.schedule, federal),
                    rebate: region.last_rebate + federal.map_or(0.0, |fed| fed.last_rebate),
                    amenity: config.region(r).amenity,
                    residents: residents[r],
                })
                .collect(),
            region_of: f.region_of.clone(),
            moving_cost: config.moving_cost,
            federal: federal.is_some(),
        };
        let replies = self
            .workers
            .step(step, &WorkerCall::Move(Arc::new(view)), vec![None; n])
            .await?;
        if let Some(message) = replies.iter().find_map(|r| r.fatal().cloned()) {
            return Err(GameError::Replay { step, message });
        }
        let k = config.regions as u32;
        let mut out = Vec::with_capacity(n);
        for reply in replies {
            let extra = reply.into_extra();
            deferred.extend(extra.exchanges.into_iter().map(Frame::Llm));
            out.push(extra.region.filter(|&r| r < k));
        }
        Ok(out)
    }

    /// Every worker's choice of region under the current schedules and last rebates: her
    /// own answer when she was asked (`asked`), else the logit rule.
    pub(super) fn moves(
        &mut self,
        step: u64,
        tax_year: u64,
        config: &Federation,
        asked: Vec<Option<u32>>,
    ) -> MoveRecord {
        let f = self.state.federation.as_mut().expect("a federation");
        let k = f.regions.len();
        let seed = self.worker_key_seed;
        let before = segregation_from(&self.last_settlement, &f.region_of, k);
        let amenities: Vec<f64> = (0..k).map(|r| config.region(r).amenity).collect();
        let federal = f.federal.as_ref();
        let faced: Vec<(TaxSchedule, f64)> = f
            .regions
            .iter()
            .map(|region| {
                (
                    faced(&region.schedule, federal),
                    region.last_rebate + federal.map_or(0.0, |fed| fed.last_rebate),
                )
            })
            .collect();
        let mut moves = Vec::new();
        for ((id, home), answer) in f.region_of.iter_mut().enumerate().zip(asked) {
            let to = match answer {
                Some(to) => to as usize,
                None => {
                    let skill = self.population.skills[id];
                    let values: Vec<f64> = faced
                        .iter()
                        .zip(&amenities)
                        .map(|((schedule, rebate), a)| {
                            region_utility(&self.params, skill, schedule, *rebate) + a
                        })
                        .collect();
                    // Her tastes are the same every year: drawn from her own stream, at step 0.
                    let eps = tastes(&mut stream(seed, "taste", id as u64, 0), k);
                    choose_region(
                        *home as usize,
                        &values,
                        &eps,
                        config.taste_scale,
                        config.moving_cost,
                    )
                }
            };
            if to != *home as usize {
                moves.push((id as u64, *home, to as u32));
                f.regions[*home as usize].moves_out += 1;
                f.regions[to].moves_in += 1;
                *home = to as u32;
            }
        }
        f.moves.push((tax_year, moves.len() as u64));
        let after = segregation_from(&self.last_settlement, &f.region_of, k);
        tracing::info!(tax_year, moves = moves.len(), "workers moved");
        MoveRecord {
            step,
            tax_year,
            moves,
            segregation_before: before,
            segregation_after: after,
        }
    }
}

/// The segregation index of the last step's incomes under `region_of` (0 before any step).
fn segregation_from(last: &Option<crate::econ::Settlement>, region_of: &[u32], k: usize) -> f64 {
    last.as_ref()
        .map_or(0.0, |s| segregation_index(&s.incomes, region_of, k))
}
