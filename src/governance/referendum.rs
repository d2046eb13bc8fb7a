//! Direct referendum: the options are schedules (the candidates' platforms and the status
//! quo), not people; each voter's first choice counts and the most popular schedule is adopted
//! directly, with no leader.

use rand_chacha::ChaCha8Rng;

use super::{Ballot, CandidateId, Count, VotingRule, count_from_scores, first_choices};

pub struct Referendum;

impl VotingRule for Referendum {
    fn name(&self) -> &'static str {
        "referendum"
    }

    fn adopts_schedule(&self) -> bool {
        true
    }

    fn count(&self, options: &[CandidateId], ballots: &[Ballot], rng: &mut ChaCha8Rng) -> Count {
        let (votes, exhausted) = first_choices(options, ballots);
        let mut c = count_from_scores(options, &votes, ballots.len() as f64, rng, Vec::new());
        c.exhausted = exhausted;
        c.notes
            .push(format!("option {} adopted by referendum", c.winner));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::test_util::{ballots, rng};

    #[test]
    fn the_most_popular_option_is_adopted() {
        let b = ballots(&[(2, &[10]), (5, &[11]), (1, &[12])]);
        let c = Referendum.count(&[10, 11, 12], &b, &mut rng());
        assert_eq!(c.winner, 11);
    }
}
