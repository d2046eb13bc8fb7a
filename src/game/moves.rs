//! A federation's moves at the start of a tax year: LLM workers are asked where to live
//! (`move.j2`), offline workers follow the logit rule of [`crate::econ::federation`] with their
//! persistent tastes (at last rebates, or at the movers' fixed point); the moves are logged as
//! one `Moves` frame, and a fixed point's ending as a `MoverExpectations` frame.

use std::sync::Arc;

use simulacra_actors::stream;

use crate::agents::WorkerCall;
use rand::RngExt;

use crate::config::{Federation, MoveExpectations};
use crate::econ::TaxSchedule;
use crate::econ::federation::{
    MoverInput, Movers, choices_at, consistent_moves, movers_turn, provision_at, segregation_index,
};
use crate::frames::{ExpectationRecord, Frame, MoveRecord};
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

    /// Every worker's choice of region under the current schedules: her own answer when she
    /// was asked (`asked`), else the logit rule, at last rebates or, under
    /// `move_expectations = "consistent"`, at the rebates the choices produce (the movers'
    /// fixed point, logged after the moves). Only this year's deciders (`move_share` of the
    /// workers, each drawn from her own stream) move.
    pub(super) fn moves(
        &mut self,
        step: u64,
        tax_year: u64,
        config: &Federation,
        asked: Vec<Option<u32>>,
    ) -> (MoveRecord, Option<ExpectationRecord>) {
        let seed = self.worker_key_seed;
        let actors = self.regions.as_mut().expect("a federation");
        let f = self.state.federation.as_mut().expect("a federation");
        let k = f.regions.len();
        let before = segregation_from(&self.last_settlement, &f.region_of, k);
        let amenities: Vec<f64> = (0..k).map(|r| config.region(r).amenity).collect();
        let federal = f.federal.as_ref();
        let last_rebates: Vec<f64> = f
            .regions
            .iter()
            .map(|region| region.last_rebate + federal.map_or(0.0, |fed| fed.last_rebate))
            .collect();
        let schedules: Vec<TaxSchedule> = f.regions.iter().map(|r| r.schedule.clone()).collect();
        let faced: Vec<TaxSchedule> = schedules.iter().map(|s| faced(s, federal)).collect();
        // This year's turn: each worker draws from her own stream, and the move_share of them
        // with the lowest draws re-decide. An answer stands for the worker who gave it.
        let turn = if config.move_share >= 1.0 {
            vec![true; asked.len()]
        } else {
            let draws: Vec<f64> = (0..asked.len())
                .map(|id| stream(seed, "move-turn", id as u64, tax_year).random::<f64>())
                .collect();
            movers_turn(&draws, config.move_share)
        };
        let deciding: Vec<bool> = asked
            .iter()
            .zip(turn)
            .map(|(answer, turn)| answer.is_none() && turn)
            .collect();
        let home: Vec<u32> = f
            .region_of
            .iter()
            .zip(&asked)
            .map(|(&h, a)| a.unwrap_or(h))
            .collect();
        let input = MoverInput {
            movers: Movers {
                params: &self.params,
                skills: &self.population.skills,
                weights: &self.population.weights,
                amenities: &amenities,
                public: actors.public_good.as_ref(),
                tastes: &actors.tastes,
                taste_scales: &actors.taste_scales,
                moving_cost: config.moving_cost,
            },
            schedules: &schedules,
            federal: federal.map(|fed| config.federal_layer(&fed.schedule)),
            region_of: &home,
            deciding: &deciding,
        };
        let (chosen, expectations) = match config.move_expectations {
            // Last rebates, and the public goods the regions provide to whoever lives there now.
            MoveExpectations::Last => {
                let provided = provision_at(&input, &home);
                (choices_at(&input, &faced, &last_rebates, &provided), None)
            }
            MoveExpectations::Consistent => {
                let out = consistent_moves(&input, &last_rebates);
                if !out.converged {
                    tracing::warn!(
                        tax_year,
                        rounds = out.rounds,
                        residual = out.residual,
                        "the movers' expectations of tax year {tax_year} did not settle: after \
                         {} rounds {:.1} % of the deciders would still choose differently; the \
                         last round's choices stand",
                        out.rounds,
                        out.residual * 100.0
                    );
                }
                let record = ExpectationRecord {
                    step,
                    tax_year,
                    deciders: deciding.iter().filter(|&&d| d).count() as u64,
                    rounds: out.rounds,
                    residual: out.residual,
                    converged: out.converged,
                    rebates: out.rebates,
                };
                (out.region_of, Some(record))
            }
        };
        let mut moves = Vec::new();
        for (id, (home, to)) in f.region_of.iter_mut().zip(chosen).enumerate() {
            let arrived = to != *home;
            actors.arrived[id] = arrived;
            if arrived {
                moves.push((id as u64, *home, to));
                f.regions[*home as usize].moves_out += 1;
                f.regions[to as usize].moves_in += 1;
                *home = to;
            }
        }
        f.moves.push((tax_year, moves.len() as u64));
        let after = segregation_from(&self.last_settlement, &f.region_of, k);
        tracing::info!(tax_year, moves = moves.len(), "workers moved");
        let record = MoveRecord {
            step,
            tax_year,
            moves,
            segregation_before: before,
            segregation_after: after,
        };
        (record, expectations)
    }
}

/// The segregation index of the last step's incomes under `region_of` (0 before any step).
fn segregation_from(last: &Option<crate::econ::Settlement>, region_of: &[u32], k: usize) -> f64 {
    last.as_ref()
        .map_or(0.0, |s| segregation_index(&s.incomes, region_of, k))
}
