//! Sortition: a citizen drawn with the seeded RNG becomes the planner; no ballots are cast.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::{Ballot, CandidateId, Count, VotingRule};

pub struct Sortition;

impl VotingRule for Sortition {
    fn name(&self) -> &'static str {
        "sortition"
    }

    fn needs_ballots(&self) -> bool {
        false
    }

    fn count(
        &self,
        candidates: &[CandidateId],
        _ballots: &[Ballot],
        rng: &mut ChaCha8Rng,
    ) -> Count {
        let winner = candidates[rng.random_range(0..candidates.len())];
        Count {
            winner,
            tallies: Vec::new(),
            margin: 0.0,
            tie_broken: false,
            exhausted: 0,
            notes: vec![format!("citizen {winner} was drawn by lot")],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::test_util::rng;

    #[test]
    fn draws_every_citizen_sometimes() {
        let mut r = rng();
        let mut seen = [false; 5];
        for _ in 0..200 {
            seen[Sortition.count(&[0, 1, 2, 3, 4], &[], &mut r).winner as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
