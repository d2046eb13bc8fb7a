//! Governance: who sets the schedule. A voting rule is one small type behind [`VotingRule`]
//! (one file each); [`rule`] names them. The election itself (candidacies, platforms, ballots,
//! the count, the winner's move) is run by the game with the voting-coordinator actor; the
//! evaluation of platforms ([`platforms`]) is pure economics. Liquid democracy ([`liquid`])
//! resolves delegations into weighted ballots before an underlying rule counts them.

pub mod approval;
pub mod borda;
pub mod condorcet;
pub mod election;
pub mod instant_runoff;
pub mod liquid;
pub mod platforms;
pub mod plurality;
pub mod random_ballot;
pub mod referendum;
pub mod sortition;

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A candidate (or, in a referendum, an option) by id.
pub type CandidateId = u64;

/// One voter's ballot: candidates from most to least preferred (possibly truncated: a voter
/// may rank only some), and the candidates she approves of.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ballot {
    pub voter: u64,
    pub ranking: Vec<CandidateId>,
    pub approvals: Vec<CandidateId>,
}

/// The result of a count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub winner: CandidateId,
    /// The deciding tallies per candidate (first-choice votes, approvals, Borda points, the
    /// last IRV round, Condorcet path strengths won, ...), in candidate order.
    pub tallies: Vec<(CandidateId, f64)>,
    /// The winner's lead over the runner-up, as a share of the ballots counted (0 on a tie).
    pub margin: f64,
    /// True when the seeded RNG broke a tie.
    pub tie_broken: bool,
    /// Ballots with no remaining choice at the end (instant-runoff), or that ranked no candidate.
    pub exhausted: usize,
    /// A line per round or step of the count, for `inspect`.
    pub notes: Vec<String>,
}

/// A voting rule.
pub trait VotingRule: Send {
    fn name(&self) -> &'static str;
    /// False for rules that pick without ballots (sortition).
    fn needs_ballots(&self) -> bool {
        true
    }
    /// True for rules whose winner is a schedule adopted directly, not a leader (referendum).
    fn adopts_schedule(&self) -> bool {
        false
    }
    /// Counts `ballots` over `candidates` (sorted by id); ties are broken with `rng`.
    /// `candidates` is never empty.
    fn count(&self, candidates: &[CandidateId], ballots: &[Ballot], rng: &mut ChaCha8Rng) -> Count;
}

/// The names of every rule, as `governance.rule` takes them.
pub const RULES: [&str; 9] = [
    "plurality",
    "approval",
    "borda",
    "instant-runoff",
    "condorcet",
    "random-ballot",
    "sortition",
    "referendum",
    "liquid",
];

/// The rule called `name`.
pub fn rule(name: &str) -> Option<Box<dyn VotingRule>> {
    Some(match name {
        "plurality" => Box::new(plurality::Plurality),
        "approval" => Box::new(approval::Approval),
        "borda" => Box::new(borda::Borda),
        "instant-runoff" => Box::new(instant_runoff::InstantRunoff),
        "condorcet" => Box::new(condorcet::Schulze),
        "random-ballot" => Box::new(random_ballot::RandomBallot),
        "sortition" => Box::new(sortition::Sortition),
        "referendum" => Box::new(referendum::Referendum),
        // Counted by plurality of weights unless `governance.liquid_count` names another rule.
        "liquid" => Box::new(liquid::Liquid::new("plurality")?),
        _ => return None,
    })
}

/// Picks the best of `scores` (candidate order); a tie among the best is broken uniformly with
/// `rng`. Returns (winner index, tie broken?).
pub fn argmax_with_ties(scores: &[f64], rng: &mut ChaCha8Rng) -> (usize, bool) {
    use rand::RngExt;
    let best = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let tied: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] == best).collect();
    if tied.len() == 1 {
        (tied[0], false)
    } else {
        (tied[rng.random_range(0..tied.len())], true)
    }
}

/// Builds a count from final scores: winner by highest score (seeded tie-break), margin as the
/// lead over the runner-up relative to `total`.
pub fn count_from_scores(
    candidates: &[CandidateId],
    scores: &[f64],
    total: f64,
    rng: &mut ChaCha8Rng,
    notes: Vec<String>,
) -> Count {
    let (w, tie_broken) = argmax_with_ties(scores, rng);
    let runner_up = scores
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != w)
        .map(|(_, s)| *s)
        .fold(f64::NEG_INFINITY, f64::max);
    let margin = if runner_up.is_finite() && total > 0.0 {
        (scores[w] - runner_up) / total
    } else if total > 0.0 {
        scores[w] / total
    } else {
        0.0
    };
    Count {
        winner: candidates[w],
        tallies: candidates
            .iter()
            .copied()
            .zip(scores.iter().copied())
            .collect(),
        margin,
        tie_broken,
        exhausted: 0,
        notes,
    }
}

/// First-choice counts among `alive` candidates (each ballot's highest-ranked alive
/// candidate); returns the counts and the number of ballots with no alive choice.
pub fn first_choices(alive: &[CandidateId], ballots: &[Ballot]) -> (Vec<f64>, usize) {
    let mut counts = vec![0.0; alive.len()];
    let mut exhausted = 0;
    for b in ballots {
        match b
            .ranking
            .iter()
            .find_map(|c| alive.iter().position(|a| a == c))
        {
            Some(i) => counts[i] += 1.0,
            None => exhausted += 1,
        }
    }
    (counts, exhausted)
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;
    use rand::SeedableRng;

    pub fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(7)
    }

    /// `n` ballots with this ranking.
    pub fn ballots(profile: &[(usize, &[CandidateId])]) -> Vec<Ballot> {
        let mut out = Vec::new();
        for (n, ranking) in profile {
            for _ in 0..*n {
                out.push(Ballot {
                    voter: out.len() as u64,
                    ranking: ranking.to_vec(),
                    approvals: Vec::new(),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_named() {
        for name in RULES {
            assert_eq!(rule(name).unwrap().name(), name);
        }
        assert!(rule("dictatorship").is_none());
    }

    #[test]
    fn ties_are_broken_by_the_seeded_rng_only_among_the_tied() {
        let mut wins = [0usize; 3];
        let mut rng = test_util::rng();
        for _ in 0..300 {
            let (w, tie) = argmax_with_ties(&[2.0, 5.0, 5.0], &mut rng);
            assert!(tie);
            wins[w] += 1;
        }
        assert_eq!(wins[0], 0);
        assert!(wins[1] > 100 && wins[2] > 100, "{wins:?}");
    }
}
