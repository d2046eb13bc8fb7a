//! Borda count: with m candidates a ballot gives m-1 points to its first choice, m-2 to the
//! second, and so on; unranked candidates get nothing (a truncated ballot scores what it ranks).

use rand_chacha::ChaCha8Rng;

use super::{Ballot, CandidateId, Count, VotingRule, count_from_scores};

pub struct Borda;

impl VotingRule for Borda {
    fn name(&self) -> &'static str {
        "borda"
    }

    fn count(&self, candidates: &[CandidateId], ballots: &[Ballot], rng: &mut ChaCha8Rng) -> Count {
        let m = candidates.len();
        let mut points = vec![0.0; m];
        for b in ballots {
            let mut rank = 0;
            for c in &b.ranking {
                if let Some(i) = candidates.iter().position(|x| x == c) {
                    points[i] += (m - 1 - rank.min(m - 1)) as f64;
                    rank += 1;
                }
            }
        }
        let total = (ballots.len() * m.saturating_sub(1)) as f64;
        count_from_scores(candidates, &points, total, rng, Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::test_util::{ballots, rng};

    #[test]
    fn borda_rewards_broad_support_over_a_narrow_plurality() {
        // 3 x [1,2,3], 2 x [2,3,1], 2 x [3,2,1]: plurality picks 1 (3 votes), but Borda gives
        // 1: 3*2 = 6, 2: 3*1 + 2*2 + 2*1 = 9, 3: 2*1 + 2*2 = 6 -> candidate 2.
        let b = ballots(&[(3, &[1, 2, 3]), (2, &[2, 3, 1]), (2, &[3, 2, 1])]);
        let c = Borda.count(&[1, 2, 3], &b, &mut rng());
        assert_eq!(c.winner, 2);
        assert_eq!(c.tallies, vec![(1, 6.0), (2, 9.0), (3, 6.0)]);
    }
}
