//! Instant-runoff: count first choices among the candidates still in; if nobody has a
//! majority of the ballots still active, eliminate the candidate with the fewest (ties broken
//! by the seeded RNG) and recount. Ballots whose ranked candidates are all eliminated are
//! exhausted.

use rand_chacha::ChaCha8Rng;

use super::{Ballot, CandidateId, Count, VotingRule, argmax_with_ties, first_choices};

pub struct InstantRunoff;

impl VotingRule for InstantRunoff {
    fn name(&self) -> &'static str {
        "instant-runoff"
    }

    fn count(&self, candidates: &[CandidateId], ballots: &[Ballot], rng: &mut ChaCha8Rng) -> Count {
        let mut alive = candidates.to_vec();
        let mut notes = Vec::new();
        let mut tie_broken = false;
        loop {
            let (votes, exhausted) = first_choices(&alive, ballots);
            let active: f64 = votes.iter().sum();
            notes.push(format!(
                "round {}: {}; exhausted {exhausted}",
                notes.len() + 1,
                alive
                    .iter()
                    .zip(&votes)
                    .map(|(c, v)| format!("{c}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            let top = votes.iter().copied().fold(0.0, f64::max);
            if alive.len() == 1 || top * 2.0 > active || active == 0.0 {
                let (w, tie) = argmax_with_ties(&votes, rng);
                let runner_up = votes
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != w)
                    .map(|(_, v)| *v)
                    .fold(0.0, f64::max);
                return Count {
                    winner: alive[w],
                    tallies: alive.iter().copied().zip(votes.iter().copied()).collect(),
                    margin: if active > 0.0 {
                        (votes[w] - runner_up) / active
                    } else {
                        0.0
                    },
                    tie_broken: tie_broken || tie,
                    exhausted,
                    notes,
                };
            }
            // Eliminate the weakest; the argmax of the negated votes finds it.
            let negated: Vec<f64> = votes.iter().map(|v| -v).collect();
            let (loser, tie) = argmax_with_ties(&negated, rng);
            tie_broken |= tie;
            alive.remove(loser);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::test_util::{ballots, rng};

    #[test]
    fn transfers_elect_the_majority_choice() {
        // Round 1: 1: 4, 2: 3, 3: 2 (no majority of 9). 3 is eliminated; its ballots go to 2.
        // Round 2: 1: 4, 2: 5 -> 2 wins with 5 of 9.
        let b = ballots(&[(4, &[1, 2, 3]), (3, &[2, 3, 1]), (2, &[3, 2, 1])]);
        let c = InstantRunoff.count(&[1, 2, 3], &b, &mut rng());
        assert_eq!(c.winner, 2);
        assert_eq!(c.notes.len(), 2);
        assert_eq!(c.tallies, vec![(1, 4.0), (2, 5.0)]);
        assert_eq!(c.exhausted, 0);
    }

    #[test]
    fn truncated_ballots_exhaust() {
        // Round 1: 1: 3, 2: 2, 3: 2 (of 7). Elimination tie between 2 and 3 is broken by the
        // RNG; the eliminated side's ballots rank nothing else and exhaust; 1 then has a
        // majority of the active ballots.
        let b = ballots(&[(3, &[1]), (2, &[2]), (2, &[3])]);
        let c = InstantRunoff.count(&[1, 2, 3], &b, &mut rng());
        assert!(c.tie_broken);
        assert!(c.exhausted >= 2, "{c:?}");
        assert_eq!(c.winner, 1);
    }

    #[test]
    fn an_immediate_majority_needs_one_round() {
        let b = ballots(&[(5, &[2, 1]), (4, &[1, 2])]);
        let c = InstantRunoff.count(&[1, 2], &b, &mut rng());
        assert_eq!((c.winner, c.notes.len()), (2, 1));
    }
}
