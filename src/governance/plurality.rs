//! Plurality: the candidate ranked first on the most ballots wins.

use rand_chacha::ChaCha8Rng;

use super::{Ballot, CandidateId, Count, VotingRule, count_from_scores, first_choices};

pub struct Plurality;

impl VotingRule for Plurality {
    fn name(&self) -> &'static str {
        "plurality"
    }

    fn count(&self, candidates: &[CandidateId], ballots: &[Ballot], rng: &mut ChaCha8Rng) -> Count {
        let (votes, exhausted) = first_choices(candidates, ballots);
        let mut c = count_from_scores(candidates, &votes, ballots.len() as f64, rng, Vec::new());
        c.exhausted = exhausted;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::test_util::{ballots, rng};

    #[test]
    fn most_first_choices_wins() {
        // 4 x [1,2,3], 3 x [2,3,1], 2 x [3,2,1]: candidate 1 has 4 of 9 first places.
        let b = ballots(&[(4, &[1, 2, 3]), (3, &[2, 3, 1]), (2, &[3, 2, 1])]);
        let c = Plurality.count(&[1, 2, 3], &b, &mut rng());
        assert_eq!(c.winner, 1);
        assert!((c.margin - 1.0 / 9.0).abs() < 1e-12);
        assert!(!c.tie_broken);
        assert_eq!(c.tallies, vec![(1, 4.0), (2, 3.0), (3, 2.0)]);
    }

    #[test]
    fn a_tie_is_broken_by_the_rng_and_says_so() {
        let b = ballots(&[(2, &[1]), (2, &[2])]);
        let c = Plurality.count(&[1, 2], &b, &mut rng());
        assert!(c.tie_broken);
        assert!(c.winner == 1 || c.winner == 2);
        assert_eq!(c.margin, 0.0);
    }

    #[test]
    fn ballots_for_no_candidate_are_exhausted() {
        let b = ballots(&[(2, &[1]), (1, &[]), (1, &[9])]);
        let c = Plurality.count(&[1, 2], &b, &mut rng());
        assert_eq!((c.winner, c.exhausted), (1, 2));
    }
}
