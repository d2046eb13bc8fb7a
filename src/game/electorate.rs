//! Who an election turn asks and what each voter values: the turn's scope (a region's
//! residents, or the nation), the platform books of a federation's elections (each platform
//! valued at the federation's equilibrium), the fellow voters offered to a liquid voter, and
//! the offline delegation model.

use std::sync::Arc;

use simulacra_actors::StreamKey;

use super::Economy;
use crate::econ::TaxSchedule;
use crate::governance::election::Peer;
use crate::governance::liquid::{self, LiquidVote, VoterTraits};
use crate::governance::platforms::{PlatformOption, federal_platform_book, regional_platform_book};

/// Which region an election turn runs in, and among whom.
pub(super) struct RegionScope {
    pub(super) region: u32,
    /// Its residents' ids, in order.
    pub(super) residents: Vec<u32>,
    pub(super) region_of: Arc<Vec<u32>>,
}

impl Economy {
    /// The federal election's book: the federal platforms reachable from the federal schedule
    /// in force (swapped into the economy's for the turn), each valued at the federation's
    /// equilibrium under every region's own schedule; and each worker's utility under each.
    pub(super) fn federal_book(&self, max_delta: i32) -> (Vec<PlatformOption>, Vec<Vec<f64>>) {
        let f = self.state.federation.as_ref().expect("a federal election");
        let regional: Vec<TaxSchedule> = f.regions.iter().map(|r| r.schedule.clone()).collect();
        let config = &self.regions.as_ref().expect("a federation").config;
        federal_platform_book(
            &self.params,
            config.federal_layer(&self.state.schedule),
            &regional,
            &f.region_of,
            &self.population.skills,
            &self.population.weights,
            max_delta,
        )
    }

    /// Region `r`'s election book under a federal layer: its platforms (from its schedule,
    /// swapped into the economy's for the turn), each valued at the federation's equilibrium
    /// with the other regions and the federal layer as they are; and each worker's utility.
    pub(super) fn regional_book(
        &self,
        r: usize,
        max_delta: i32,
    ) -> (Vec<PlatformOption>, Vec<Vec<f64>>) {
        let f = self.state.federation.as_ref().expect("a region's election");
        let fed = f.federal.as_ref().expect("called under a federal layer");
        let regional: Vec<TaxSchedule> = f
            .regions
            .iter()
            .enumerate()
            .map(|(i, region)| {
                if i == r {
                    self.state.schedule.clone()
                } else {
                    region.schedule.clone()
                }
            })
            .collect();
        let config = &self.regions.as_ref().expect("a federation").config;
        regional_platform_book(
            &self.params,
            r,
            &regional,
            config.federal_layer(&fed.schedule),
            &f.region_of,
            &self.population.skills,
            &self.population.weights,
            max_delta,
        )
    }

    /// For each voter, the fellow voters most like her (offered to LLM voters as delegates).
    /// Each voter's `k` most similar fellow voters, to whom she may hand her vote: in a
    /// region, among its residents only (a vote handed across the border would be lost).
    pub(super) fn liquid_peers(&self, k: usize, scope: Option<&RegionScope>) -> Vec<Vec<Peer>> {
        let traits = self.voter_traits();
        let mut sorted: Vec<VoterTraits> = match scope {
            Some(s) => s
                .residents
                .iter()
                .map(|&id| traits[id as usize].clone())
                .collect(),
            None => traits.clone(),
        };
        sorted.sort_by(|a, b| a.log_income.total_cmp(&b.log_income).then(a.id.cmp(&b.id)));
        liquid::nearest(&traits, &sorted, k)
            .into_iter()
            .map(|ids| {
                ids.into_iter()
                    .map(|id| Peer {
                        id,
                        // The income the game pays her at 40 hours a week (skill x 40), not
                        // her census draw, which no prompt or payment uses.
                        text: format!(
                            "earns ${:.0} a year at 40 hours a week; works in {}",
                            self.population.skills[id as usize] * 40.0,
                            traits[id as usize].occupation
                        ),
                    })
                    .collect()
            })
            .collect()
    }

    /// Every voter's income and occupation, by id (what the delegation model compares).
    fn voter_traits(&self) -> Vec<VoterTraits> {
        self.population
            .personas()
            .into_iter()
            .enumerate()
            .map(|(id, p)| VoterTraits {
                id: id as u64,
                log_income: self.population.census_incomes[id].max(1.0).ln(),
                occupation: p.occupation,
            })
            .collect()
    }

    /// The offline delegation model: a voter delegates when her draw (her own stream, keyed
    /// by the tax year) is below `share`, to the most similar direct voter.
    pub(super) fn delegate_offline(
        &self,
        votes: &mut [(u64, LiquidVote)],
        tax_year: u64,
        share: f64,
    ) {
        use rand::RngExt;
        let federal = self.governance.as_ref().is_some_and(|g| g.federal);
        let key = StreamKey::new(
            self.worker_key_seed,
            if federal {
                "federal_delegate"
            } else {
                "delegate"
            },
        );
        let all = self.voter_traits();
        // Only voters who cast a ballot may delegate or be delegated to.
        let voters: Vec<VoterTraits> = votes
            .iter()
            .filter(|(_, v)| matches!(v, LiquidVote::Direct(_)))
            .filter_map(|(id, _)| all.get(*id as usize).cloned())
            .collect();
        let draws: Vec<f64> = voters
            .iter()
            .map(|t| key.rng(t.id, tax_year).random::<f64>())
            .collect();
        let to = liquid::offline_delegations(&voters, &draws, share);
        for (t, to) in voters.iter().zip(to) {
            // `votes` are in voter order.
            if let Some(to) = to
                && let Ok(i) = votes.binary_search_by_key(&t.id, |v| v.0)
            {
                votes[i].1 = LiquidVote::Delegate(to);
            }
        }
    }
}
