//! Approval voting: each voter approves any number of candidates; most approvals wins.

use rand_chacha::ChaCha8Rng;

use super::{Ballot, CandidateId, Count, VotingRule, count_from_scores};

pub struct Approval;

impl VotingRule for Approval {
    fn name(&self) -> &'static str {
        "approval"
    }

    fn count(&self, candidates: &[CandidateId], ballots: &[Ballot], rng: &mut ChaCha8Rng) -> Count {
        let mut approvals = vec![0.0; candidates.len()];
        let mut empty = 0;
        for b in ballots {
            let mut any = false;
            for (i, c) in candidates.iter().enumerate() {
                if b.approvals.contains(c) {
                    approvals[i] += 1.0;
                    any = true;
                }
            }
            empty += usize::from(!any);
        }
        let mut c = count_from_scores(
            candidates,
            &approvals,
            ballots.len() as f64,
            rng,
            Vec::new(),
        );
        c.exhausted = empty;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::test_util::rng;

    #[test]
    fn most_approved_wins_even_if_rarely_first() {
        // Candidate 2 is everyone's acceptable compromise but nobody's favourite.
        let b: Vec<Ballot> = [(vec![1, 2], 3), (vec![3, 2], 3), (vec![2], 1)]
            .into_iter()
            .flat_map(|(appr, n)| {
                (0..n).map(move |_| Ballot {
                    voter: 0,
                    ranking: vec![],
                    approvals: appr.clone(),
                })
            })
            .collect();
        let c = Approval.count(&[1, 2, 3], &b, &mut rng());
        assert_eq!(c.winner, 2);
        assert_eq!(c.tallies, vec![(1, 3.0), (2, 7.0), (3, 3.0)]);
        assert!((c.margin - 4.0 / 7.0).abs() < 1e-12);
    }
}
