//! Each step's welfare with location in a federation: every worker's location utility (her
//! region's amenity, her taste for it at her own scale, less the moving cost in the step she
//! arrived) added to her utility, the nation's and each region's welfare function over it.

use crate::config::Federation;
use crate::econ::federation::{FederalSettlement, location_utility, welfare_with_location};
use crate::frames::LocationOutcome;

/// Who lives where and what she draws from it, as the game keeps it.
pub(super) struct Locations<'a> {
    pub(super) config: &'a Federation,
    pub(super) tastes: &'a [Vec<f64>],
    pub(super) taste_scales: &'a [f64],
    /// Who arrived in her region at this step: cleared here (the moving cost is paid once).
    pub(super) arrived: &'a mut [bool],
}

/// The step's welfare with location (`econ::federation::welfare_with_location`), the nation's
/// and each region's.
pub(super) fn location_outcome(
    step: u64,
    tax_year: u64,
    at: Locations,
    params: &crate::econ::WorldParams,
    settled: &FederalSettlement,
    (region_of, groups): (&[u32], &[Vec<u32>]),
    weights: &[f64],
) -> LocationOutcome {
    let c = at.config;
    let location: Vec<f64> = region_of
        .iter()
        .enumerate()
        .map(|(i, &r)| {
            let r = r as usize;
            location_utility(
                c.region(r).amenity,
                at.taste_scales[i],
                at.tastes[i][r],
                c.moving_cost,
                at.arrived[i],
            )
        })
        .collect();
    at.arrived.iter_mut().for_each(|a| *a = false);
    let (welfare, regions) =
        welfare_with_location(params.welfare, settled, groups, weights, &location);
    LocationOutcome {
        step,
        tax_year,
        welfare,
        regions,
    }
}
