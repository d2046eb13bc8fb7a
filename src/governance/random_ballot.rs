//! Random ballot (random dictatorship): one ballot drawn with the seeded RNG decides; its first
//! choice wins. Ballots that rank no candidate are skipped.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::{Ballot, CandidateId, Count, VotingRule, first_choices};

pub struct RandomBallot;

impl VotingRule for RandomBallot {
    fn name(&self) -> &'static str {
        "random-ballot"
    }

    fn count(&self, candidates: &[CandidateId], ballots: &[Ballot], rng: &mut ChaCha8Rng) -> Count {
        let (votes, exhausted) = first_choices(candidates, ballots);
        let valid: Vec<&Ballot> = ballots
            .iter()
            .filter(|b| b.ranking.iter().any(|c| candidates.contains(c)))
            .collect();
        let (winner, note) = if valid.is_empty() {
            let i = rng.random_range(0..candidates.len());
            (
                candidates[i],
                "no valid ballot: a candidate was drawn".to_string(),
            )
        } else {
            let b = valid[rng.random_range(0..valid.len())];
            let first = *b
                .ranking
                .iter()
                .find(|c| candidates.contains(c))
                .expect("a valid ballot ranks a candidate");
            (first, format!("the ballot of voter {} was drawn", b.voter))
        };
        let total: f64 = votes.iter().sum();
        let w = candidates.iter().position(|c| *c == winner).unwrap_or(0);
        Count {
            winner,
            tallies: candidates
                .iter()
                .copied()
                .zip(votes.iter().copied())
                .collect(),
            // A lottery has no margin; report the winner's share of first choices instead.
            margin: if total > 0.0 { votes[w] / total } else { 0.0 },
            tie_broken: false,
            exhausted,
            notes: vec![note],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::test_util::{ballots, rng};

    #[test]
    fn winners_follow_first_choice_shares() {
        let b = ballots(&[(3, &[1, 2]), (1, &[2, 1])]);
        let mut r = rng();
        let wins1 = (0..400)
            .filter(|_| RandomBallot.count(&[1, 2], &b, &mut r).winner == 1)
            .count();
        // Expected 300 of 400.
        assert!((250..350).contains(&wins1), "{wins1}");
    }

    #[test]
    fn only_first_choices_can_win() {
        let b = ballots(&[(5, &[2, 1, 3])]);
        assert_eq!(RandomBallot.count(&[1, 2, 3], &b, &mut rng()).winner, 2);
    }
}
