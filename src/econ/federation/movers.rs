//! An equilibrium of movers: the offline workers who re-decide in a year choose their regions
//! expecting the rebates that the choices themselves produce (a fixed point), rather than last
//! year's rebates, which the arrivals then dilute; and starting regions drawn from tastes.
//!
//! Why a fixed point: a region's rebate is its revenue over its residents, so it depends on who
//! lives there. Movers who all expect last year's rebate overshoot (a one-resident region's
//! large rebate draws everyone, and is gone once they arrive). With consistent expectations
//! each mover compares the rebates that would hold after everyone's choices.

use super::{
    FederalLayer, PublicGoods, choose_region, federal_equilibrium, provision, region_utility,
    valuation,
};
use crate::econ::{TaxSchedule, WorldParams};

/// Most rounds of the movers' fixed point.
pub const MOVER_ROUNDS: u32 = 50;

/// Who may move and what a move weighs: the people (skills and welfare weights), the places
/// (amenities and public goods), each worker's tastes for the places and the cost of moving.
/// The movers' year ([`MoverInput`]) and the regions' tax competition
/// ([`super::Competition`]) both start from it.
#[derive(Clone, Copy)]
pub struct Movers<'a> {
    pub params: &'a WorldParams,
    pub skills: &'a [f64],
    pub weights: &'a [f64],
    pub amenities: &'a [f64],
    /// The regions' public goods, if any: a mover values a region's provision by her taste.
    pub public: Option<&'a PublicGoods>,
    /// Each worker's persistent tastes, one per region (standard Gumbel draws).
    pub tastes: &'a [Vec<f64>],
    /// Each worker's taste scale (`taste_scales`: one figure for all, unless mobility
    /// differs by skill).
    pub taste_scales: &'a [f64],
    pub moving_cost: f64,
}

/// What the movers of a year know and who they are.
pub struct MoverInput<'a> {
    pub movers: Movers<'a>,
    /// Each region's own schedule, and the federal layer on top (if any).
    pub schedules: &'a [TaxSchedule],
    pub federal: Option<FederalLayer<'a>>,
    /// Where each worker lives before the moves.
    pub region_of: &'a [u32],
    /// Whether each worker re-decides this year (the others stay).
    pub deciding: &'a [bool],
}

/// How the movers' fixed point ended: where everyone lives, the rebates that hold there (each
/// region's, the federal one included), the rounds, and the share of deciders whose choice
/// would still change under those rebates (0 at a fixed point).
#[derive(Clone, Debug, PartialEq)]
pub struct MoverOutcome {
    pub region_of: Vec<u32>,
    pub rebates: Vec<f64>,
    pub rounds: u32,
    pub residual: f64,
    pub converged: bool,
}

/// Every decider's choice when each region is expected to pay `rebates` (a worker's rebate in
/// region s: `rebates[s]`, the federal one included, net of its public good) and to provide
/// `provision` (per resident; all 0 without public goods).
pub fn choices_at(
    input: &MoverInput,
    faced: &[TaxSchedule],
    rebates: &[f64],
    provision: &[f64],
) -> Vec<u32> {
    input
        .region_of
        .iter()
        .enumerate()
        .map(|(i, &home)| {
            if !input.deciding[i] {
                return home;
            }
            let values: Vec<f64> = faced
                .iter()
                .zip(rebates)
                .zip(input.movers.amenities)
                .zip(provision)
                .map(|(((schedule, &rebate), a), &g)| {
                    region_utility(
                        input.movers.params,
                        input.movers.skills[i],
                        schedule,
                        rebate,
                    ) + a
                        + good_value(input, i, g)
                })
                .collect();
            choose_region(
                home as usize,
                &values,
                &input.movers.tastes[i],
                input.movers.taste_scales[i],
                input.movers.moving_cost,
            ) as u32
        })
        .collect()
}

/// What region provision `g` adds to worker i's value of a region: her valuation of the good
/// (0 without public goods). Its cost is already in the rebate.
fn good_value(input: &MoverInput, i: usize, g: f64) -> f64 {
    input
        .movers
        .public
        .map_or(0.0, |goods| valuation(goods.tastes[i], g))
}

/// Each region's public good per resident when everyone lives where `region_of` says (all 0
/// without public goods).
pub fn provision_at(input: &MoverInput, region_of: &[u32]) -> Vec<f64> {
    match input.movers.public {
        Some(goods) => provision(goods, region_of, input.schedules.len()),
        None => vec![0.0; input.schedules.len()],
    }
}

/// The rebate each region pays (its own, plus the federal one) when everyone lives where
/// `region_of` says and best-responds to what she faces there.
pub fn rebates_at(input: &MoverInput, region_of: &[u32]) -> Vec<f64> {
    let s = federal_equilibrium(
        input.movers.params,
        input.schedules,
        input.federal,
        input.movers.public,
        region_of,
        input.movers.skills,
        input.movers.weights,
    );
    s.regions
        .iter()
        .map(|r| r.rebate + s.federal_rebate)
        .collect()
}

/// The movers' fixed point: starting from the choices at `last_rebates`, each round the
/// deciders choose again at the rebates the previous round's choices produce, until the
/// choices reproduce themselves or [`MOVER_ROUNDS`] have passed (then the last round's choices
/// stand, and `converged` is false). When the simultaneous rounds cycle (a round brings back
/// the choices of the round before last, as when a few marginal workers all flip together),
/// the workers who would change decide one at a time, in id order, each counting her own effect
/// on the rebates (a pass counts as a round), until none of them moves: each is then in the
/// region she would choose knowing what her living there does to its rebate (a Nash
/// equilibrium of the deciders who were still changing; the others already choose as they
/// would at the rebates everyone's choices produce). A region nobody lives in is expected to pay its
/// `last_rebates` figure (no resident, no revenue to share).
pub fn consistent_moves(input: &MoverInput, last_rebates: &[f64]) -> MoverOutcome {
    let faced: Vec<TaxSchedule> = input
        .schedules
        .iter()
        .map(|s| match input.federal {
            Some(layer) => super::combine(s, layer.schedule),
            None => s.clone(),
        })
        .collect();
    let expected = |region_of: &[u32]| -> Vec<f64> {
        let mut r = rebates_at(input, region_of);
        for (s, rebate) in r.iter_mut().enumerate() {
            if !region_of.iter().any(|&h| h as usize == s) {
                *rebate = last_rebates[s];
            }
        }
        r
    };
    let deciders = input.deciding.iter().filter(|&&d| d).count().max(1);
    let mut choices = choices_at(
        input,
        &faced,
        last_rebates,
        &provision_at(input, input.region_of),
    );
    let mut rebates = expected(&choices);
    let mut provided = provision_at(input, &choices);
    let mut before: Option<Vec<u32>> = None;
    let mut sequential = false;
    let mut outcome = MoverOutcome {
        region_of: choices.clone(),
        rebates: rebates.clone(),
        rounds: 0,
        residual: 1.0,
        converged: false,
    };
    for round in 1..=MOVER_ROUNDS {
        let next = choices_at(input, &faced, &rebates, &provided);
        let changing: Vec<usize> = (0..next.len()).filter(|&i| next[i] != choices[i]).collect();
        outcome.rounds = round;
        outcome.residual = changing.len() as f64 / deciders as f64;
        if changing.is_empty() {
            outcome.converged = true;
            break;
        }
        sequential |= before.as_ref() == Some(&next);
        if sequential {
            // One worker at a time, each counting her own effect on the rebates: she values
            // region s at the rebates that hold with her living there (her tax in, or out of,
            // its revenue; her share of it). A worker who is in her best region so counted
            // stays: when none of them moves, every decider is where she would choose.
            let mut moved = false;
            for i in changing {
                let values: Vec<f64> = (0..faced.len())
                    .map(|r| {
                        let mut trial = choices.clone();
                        trial[i] = r as u32;
                        let paid = expected(&trial)[r];
                        region_utility(input.movers.params, input.movers.skills[i], &faced[r], paid)
                            + input.movers.amenities[r]
                            + good_value(input, i, provision_at(input, &trial)[r])
                    })
                    .collect();
                let best = choose_region(
                    input.region_of[i] as usize,
                    &values,
                    &input.movers.tastes[i],
                    input.movers.taste_scales[i],
                    input.movers.moving_cost,
                ) as u32;
                if best != choices[i] {
                    choices[i] = best;
                    rebates = expected(&choices);
                    provided = provision_at(input, &choices);
                    moved = true;
                }
            }
            if !moved {
                outcome.residual = 0.0;
                outcome.converged = true;
                break;
            }
        } else {
            before = Some(std::mem::replace(&mut choices, next));
            rebates = expected(&choices);
            provided = provision_at(input, &choices);
        }
    }
    outcome.region_of = choices;
    outcome.rebates = rebates;
    outcome
}

/// Who re-decides this year: the `ceil(share * n)` workers with the lowest `draws` (one uniform
/// draw each, from her own stream; ties to the lower id), so exactly that share of the workers
/// may move.
pub fn movers_turn(draws: &[f64], share: f64) -> Vec<bool> {
    let due = ((share * draws.len() as f64).ceil() as usize).min(draws.len());
    let mut order: Vec<usize> = (0..draws.len()).collect();
    order.sort_by(|&a, &b| draws[a].total_cmp(&draws[b]).then(a.cmp(&b)));
    let mut turn = vec![false; draws.len()];
    for &i in &order[..due] {
        turn[i] = true;
    }
    turn
}

/// Each worker's starting region drawn from her tastes: the region with the largest amenity
/// plus taste (ties to the lower region), so the first year's moves are not a sorting by
/// taste of workers placed in blocks of ids.
pub fn regions_by_taste(tastes: &[Vec<f64>], amenities: &[f64], taste_scale: f64) -> Vec<u32> {
    tastes
        .iter()
        .map(|t| {
            let score = |s: usize| amenities[s] + taste_scale * t[s];
            (0..amenities.len()).fold(0, |best, s| if score(s) > score(best) { s } else { best })
                as u32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> WorldParams {
        crate::econ::world::hand_world()
    }

    #[test]
    fn consistent_expectations_stop_the_overshoot() {
        // Two regions taxing 50 %, no tastes, a moving cost of 1. Region 1 had one resident
        // last year and paid her a rebate far above region 0's: expecting it again, everyone
        // in region 0 moves (and the rebate they find is region 0's old one, shared by all).
        // Expecting the rebates that hold after the moves, nobody moves: with equal schedules
        // and skills the rebates are equal wherever people live.
        let schedules = vec![
            TaxSchedule::new(vec![0.0], vec![0.5]).unwrap(),
            TaxSchedule::new(vec![0.0], vec![0.5]).unwrap(),
        ];
        let n = 5;
        let region_of = vec![0, 0, 0, 0, 1];
        let skills = vec![10.0; n];
        let tastes = vec![vec![0.0, 0.0]; n];
        let input = MoverInput {
            movers: Movers {
                params: &params(),
                skills: &skills,
                weights: &[1.0; 5],
                amenities: &[0.0, 0.0],
                public: None,
                tastes: &tastes,
                taste_scales: &[0.0; 5],
                moving_cost: 1.0,
            },
            schedules: &schedules,
            federal: None,
            region_of: &region_of,
            deciding: &[true; 5],
        };
        let last = [25.0, 100.0];
        let faced = schedules.clone();
        // Myopic: all four move to region 1.
        assert_eq!(choices_at(&input, &faced, &last, &[0.0; 2]), vec![1; 5]);
        // l* = 0.5 * 10 = 5 h, z = 50, tax 25: every region pays 25 a head.
        assert_eq!(rebates_at(&input, &region_of), vec![25.0, 25.0]);
        let out = consistent_moves(&input, &last);
        assert!(out.converged, "{out:?}");
        assert_eq!(out.region_of, region_of);
        assert_eq!(out.rebates, vec![25.0, 25.0]);
        assert_eq!(out.residual, 0.0);
        // Nobody deciding: nobody moves, whatever they would expect.
        let none = MoverInput {
            deciding: &[false; 5],
            ..input
        };
        assert_eq!(choices_at(&none, &faced, &last, &[0.0; 2]), region_of);
    }

    #[test]
    fn the_turn_goes_to_the_lowest_draws() {
        assert_eq!(
            movers_turn(&[0.9, 0.1, 0.5, 0.3], 0.5),
            vec![false, true, false, true]
        );
        // ceil(0.3 * 4) = 2; a share of 1 is everyone.
        assert_eq!(
            movers_turn(&[0.2, 0.2, 0.1, 0.9], 0.3),
            vec![true, false, true, false]
        );
        assert_eq!(movers_turn(&[0.2, 0.1], 1.0), vec![true, true]);
    }

    #[test]
    fn starting_regions_follow_tastes_and_amenities() {
        let t = vec![vec![0.0, 1.0], vec![2.0, 1.0], vec![0.5, 0.5]];
        assert_eq!(regions_by_taste(&t, &[0.0, 0.0], 1.0), vec![1, 0, 0]);
        // An amenity of 3 for region 1 outweighs a taste gap of 1 at scale 1.
        assert_eq!(regions_by_taste(&t, &[0.0, 3.0], 1.0), vec![1, 1, 1]);
    }
}
