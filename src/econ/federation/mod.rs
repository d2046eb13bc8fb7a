//! The economics of regions: who lives where at the start, each region's settlement (its own
//! schedule, its revenue rebated to its own residents), the nation's totals, the logit
//! mobility choice with persistent type-I extreme-value tastes, and the income segregation
//! index across regions. Pure functions; the game's region actors only decide.
//!
//! - `settlement.rs`: the starting regions, the federal layer on top of the regions' schedules,
//!   each region's settlement and the federal equilibrium;
//! - `equalization.rs`: where federal revenue goes, each region's fiscal gap and transfers;
//! - `objective.rs`: what a region's planner maximizes, and its value at a settlement;
//! - `mobility.rs`: a worker's value of each region, her tastes and choice, the logit shares
//!   and the segregation index;
//! - `movers.rs`: the movers' fixed point of rebate expectations, and starting regions drawn
//!   from tastes;
//! - `location.rs`: a worker's location utility and the welfare with it;
//! - `competition.rs`: tax competition, regions best-responding to each other (the Nash
//!   planner);
//! - `public_good.rs`: local public goods, provided by each region (or uniformly) out of its
//!   revenue and valued by each resident's own taste.

mod competition;
mod equalization;
mod location;
mod mobility;
mod movers;
mod objective;
mod public_good;
mod settlement;

pub use competition::{Competition, NASH_ROUNDS, NashOutcome, nearest};
pub use equalization::{Equalization, fiscal_gaps, transfers};
pub use location::{expected_first_choice_surplus, location_utility, welfare_with_location};
pub use mobility::{
    choose_region, gumbel, logit_shares, region_utility, segregation_index, taste_scales, tastes,
};
pub use movers::{
    MOVER_ROUNDS, MoverInput, MoverOutcome, Movers, choices_at, consistent_moves, movers_turn,
    provision_at, rebates_at, regions_by_taste,
};
pub use objective::{RegionalObjective, objective_value};
pub use public_good::{
    ProvisionRule, PublicGoods, net_value, provision, samuelson_level, taste as public_good_taste,
    valuation,
};
pub use settlement::{
    FederalLayer, FederalSettlement, FixedPoint, REBATE_ROUNDS, REBATE_TOLERANCE, assign_regions,
    combine, federal_equilibrium, mean_rates, residents, settle_regions,
};
