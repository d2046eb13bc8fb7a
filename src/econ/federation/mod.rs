//! The economics of regions: who lives where at the start, each region's settlement (its own
//! schedule, its revenue rebated to its own residents), the nation's totals, the logit
//! mobility choice with persistent type-I extreme-value tastes, and the income segregation
//! index across regions. Pure functions; the game's region actors only decide.
//!
//! - `settlement.rs`: the starting regions, the federal layer on top of the regions' schedules,
//!   each region's settlement and the federal equilibrium;
//! - `mobility.rs`: a worker's value of each region, her tastes and choice, the logit shares
//!   and the segregation index.

mod mobility;
mod settlement;

pub use mobility::{
    choose_region, gumbel, logit_shares, region_utility, segregation_index, tastes,
};
pub use settlement::{
    Equalization, FederalLayer, FederalSettlement, assign_regions, combine, federal_equilibrium,
    mean_rates, residents, settle_regions, transfers,
};
