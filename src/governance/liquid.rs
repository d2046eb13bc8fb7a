//! Liquid democracy: each voter votes directly or delegates her vote to another voter. This
//! file owns the pure parts: resolving delegations (chains followed transitively; cycles,
//! self-delegations and delegations that end at someone who cast no ballot are lost votes),
//! the weights direct voters carry and their concentration (largest weight, Gini of weights),
//! the count (each direct ballot counted as many times as the votes it carries, under an
//! underlying rule, plurality by default), and the offline delegation model (a seeded share
//! of voters delegate to the most similar direct voter).
//!
//! Why a weighted ballot is counted by repeating it: weights are whole numbers of votes, so
//! repeating a ballot `w` times gives every existing rule (plurality, approval, Borda,
//! instant-runoff, Condorcet, random ballot) its exact weighted count with no new code in them.

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Ballot, CandidateId, Count, VotingRule};
use crate::econ::stats::gini;

/// One voter's act in a liquid election.
#[derive(Clone, Debug, PartialEq)]
pub enum LiquidVote {
    /// She votes herself, with this ballot.
    Direct(Ballot),
    /// She hands her vote to this voter.
    Delegate(u64),
    /// She takes no part (an unusable answer counts as this).
    Abstain,
}

impl From<Option<Ballot>> for LiquidVote {
    fn from(b: Option<Ballot>) -> Self {
        b.map_or(LiquidVote::Abstain, LiquidVote::Direct)
    }
}

/// Where delegations ended, and the weights they gave direct voters.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolution {
    /// (direct voter, votes she carries: her own plus every delegation that reached her), in
    /// voter order.
    pub weights: Vec<(u64, u64)>,
    /// Voters who delegated (whatever became of their vote).
    pub delegated: usize,
    /// Delegated votes lost in a cycle (a self-delegation is a cycle of one).
    pub lost_in_cycles: usize,
    /// Delegated votes lost because their chain ended at a voter who cast no ballot.
    pub lost_to_abstainers: usize,
}

/// The concentration of a liquid election's weights, as the outputs report it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiquidMeasures {
    /// The most votes one direct voter carried.
    pub largest_weight: u64,
    /// The Gini coefficient of the weights of direct voters (0: everyone carries one vote).
    pub weight_gini: f64,
    /// Voters who delegated.
    pub delegated: usize,
    /// Delegated votes lost (cycles and chains ending at an abstainer).
    pub lost: usize,
}

impl Resolution {
    pub fn measures(&self) -> LiquidMeasures {
        let w: Vec<f64> = self.weights.iter().map(|&(_, w)| w as f64).collect();
        LiquidMeasures {
            largest_weight: self.weights.iter().map(|&(_, w)| w).max().unwrap_or(0),
            weight_gini: if w.is_empty() { 0.0 } else { gini(&w) },
            delegated: self.delegated,
            lost: self.lost_in_cycles + self.lost_to_abstainers,
        }
    }

    /// Lines for the count's notes (`inspect --round K`): the measures and the voters who
    /// carry the most votes.
    pub fn notes(&self) -> Vec<String> {
        let m = self.measures();
        let mut top: Vec<(u64, u64)> = self.weights.iter().copied().filter(|w| w.1 > 1).collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(5);
        let mut notes = vec![format!(
            "liquid: {} direct voters, {} delegated, {} lost ({} in cycles, {} to abstainers); \
             largest weight {}, weight Gini {:.3}",
            self.weights.len(),
            self.delegated,
            m.lost,
            self.lost_in_cycles,
            self.lost_to_abstainers,
            m.largest_weight,
            m.weight_gini
        )];
        if !top.is_empty() {
            let list: Vec<String> = top
                .iter()
                .map(|(v, w)| format!("worker {v} carries {w}"))
                .collect();
            notes.push(format!("largest weights: {}", list.join(", ")));
        }
        notes
    }
}

/// Resolves the votes of one election. A voter listed twice keeps her first act. A delegation
/// is followed from voter to voter until it reaches someone who voted directly (who then
/// carries it), someone who abstained or is not a voter (the vote is lost to an abstainer), or
/// a voter already on the chain (the vote is lost in a cycle).
pub fn resolve(votes: &[(u64, LiquidVote)]) -> Resolution {
    let mut acts: BTreeMap<u64, &LiquidVote> = BTreeMap::new();
    for (voter, act) in votes {
        acts.entry(*voter).or_insert(act);
    }
    // Where each delegator's vote ends: Ok(direct voter) or Err(true = cycle, false = abstainer).
    let mut end: BTreeMap<u64, Result<u64, bool>> = BTreeMap::new();
    let mut weights: BTreeMap<u64, u64> = acts
        .iter()
        .filter(|(_, a)| matches!(a, LiquidVote::Direct(_)))
        .map(|(&v, _)| (v, 1))
        .collect();
    let (mut delegated, mut cycles, mut abstainers) = (0, 0, 0);
    for (&voter, act) in &acts {
        if !matches!(act, LiquidVote::Delegate(_)) {
            continue;
        }
        delegated += 1;
        // Walk the chain, remembering it, until its end is known; every voter on it shares
        // that end (memoized, so resolving everyone is linear in the voters).
        let mut path = vec![voter];
        let mut at = voter;
        let outcome = loop {
            if let Some(known) = end.get(&at).filter(|_| at != voter) {
                break *known;
            }
            let next = match acts.get(&at) {
                Some(LiquidVote::Delegate(to)) => *to,
                Some(LiquidVote::Direct(_)) => break Ok(at),
                _ => break Err(false),
            };
            if path.contains(&next) {
                break Err(true);
            }
            match acts.get(&next) {
                Some(LiquidVote::Direct(_)) => break Ok(next),
                Some(LiquidVote::Delegate(_)) => {
                    path.push(next);
                    at = next;
                }
                _ => break Err(false),
            }
        };
        for p in path {
            end.entry(p).or_insert(outcome);
        }
        match outcome {
            Ok(direct) => *weights.entry(direct).or_insert(1) += 1,
            Err(true) => cycles += 1,
            Err(false) => abstainers += 1,
        }
    }
    Resolution {
        weights: weights.into_iter().collect(),
        delegated,
        lost_in_cycles: cycles,
        lost_to_abstainers: abstainers,
    }
}

/// The direct ballots, each repeated as many times as the votes its voter carries (in voter
/// order): what the underlying rule counts.
pub fn weighted_ballots(votes: &[(u64, LiquidVote)], resolution: &Resolution) -> Vec<Ballot> {
    let mut direct: BTreeMap<u64, &Ballot> = BTreeMap::new();
    for (voter, act) in votes {
        if let LiquidVote::Direct(b) = act {
            direct.entry(*voter).or_insert(b);
        }
    }
    let mut out = Vec::new();
    for &(voter, w) in &resolution.weights {
        if let Some(b) = direct.get(&voter) {
            out.extend(std::iter::repeat_n((*b).clone(), w as usize));
        }
    }
    out
}

/// The rules a liquid election may count its weighted ballots with (`governance.liquid_count`):
/// those of [`super::RULES`] that count ballots over candidates (before sortition, which
/// needs none, and the referendum, whose candidates are options).
pub const UNDERLYING: &[&str] = super::RULES.split_at(6).0;

/// The ninth rule: counts ballots already weighted by [`weighted_ballots`] with an underlying
/// rule (the game resolves the delegations before the count).
pub struct Liquid {
    underlying: Box<dyn VotingRule>,
}

impl Liquid {
    /// Liquid democracy counted by the rule named `underlying` (one of [`UNDERLYING`]).
    pub fn new(underlying: &str) -> Option<Liquid> {
        if !UNDERLYING.contains(&underlying) {
            return None;
        }
        super::rule(underlying).map(|underlying| Liquid { underlying })
    }
}

impl VotingRule for Liquid {
    fn name(&self) -> &'static str {
        "liquid"
    }

    fn count(&self, candidates: &[CandidateId], ballots: &[Ballot], rng: &mut ChaCha8Rng) -> Count {
        self.underlying.count(candidates, ballots, rng)
    }
}

/// How alike two voters are, for the offline delegation model: the distance is the absolute
/// difference of their log incomes plus one when their occupation groups differ (so a
/// different occupation weighs as much as an income e ≈ 2.7 times larger). Smaller is closer.
#[derive(Clone, Debug)]
pub struct VoterTraits {
    pub id: u64,
    pub log_income: f64,
    pub occupation: String,
}

pub fn distance(a: &VoterTraits, b: &VoterTraits) -> f64 {
    (a.log_income - b.log_income).abs()
        + if a.occupation == b.occupation {
            0.0
        } else {
            1.0
        }
}

/// For each voter in `from`, the `k` most similar voters of `to` (closest first, ties by id;
/// never herself). `to` must be sorted by log income. The search walks outward from her income
/// and stops once the income gap alone exceeds the k-th best distance, so it is exact.
pub fn nearest(from: &[VoterTraits], to: &[VoterTraits], k: usize) -> Vec<Vec<u64>> {
    from.iter()
        .map(|me| {
            let start = to.partition_point(|t| t.log_income < me.log_income);
            let mut best: Vec<(f64, u64)> = Vec::with_capacity(k + 1);
            let bound = |best: &Vec<(f64, u64)>| {
                if best.len() < k {
                    f64::INFINITY
                } else {
                    best[k - 1].0
                }
            };
            let consider = |t: &VoterTraits, best: &mut Vec<(f64, u64)>| {
                if t.id == me.id {
                    return;
                }
                let d = distance(me, t);
                let pos = best.partition_point(|&(bd, bid)| bd < d || (bd == d && bid < t.id));
                if pos < k {
                    best.insert(pos, (d, t.id));
                    best.truncate(k);
                }
            };
            let (mut lo, mut hi) = (start, start);
            loop {
                let gap_lo = (lo > 0).then(|| me.log_income - to[lo - 1].log_income);
                let gap_hi = (hi < to.len()).then(|| to[hi].log_income - me.log_income);
                // The closest unvisited income on either side; done when none can still win
                // (a tie on distance may still win on id, hence `>` and not `>=`).
                let take_lo = match (gap_lo, gap_hi) {
                    (None, None) => break,
                    (Some(a), Some(b)) => a <= b,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                };
                let gap = if take_lo { gap_lo } else { gap_hi }.unwrap_or(0.0);
                if gap > bound(&best) {
                    break;
                }
                if take_lo {
                    lo -= 1;
                    consider(&to[lo], &mut best);
                } else {
                    consider(&to[hi], &mut best);
                    hi += 1;
                }
            }
            best.into_iter().map(|(_, id)| id).collect()
        })
        .collect()
}

/// The offline model: voter `v` delegates when her draw `u_v` (from her own stream) is below
/// `share`, to the most similar voter who does not delegate; everyone else votes directly.
/// `traits` are every voter's, `draws` their draws in the same order. When nobody votes
/// directly, nobody can be delegated to, and everyone votes.
pub fn offline_delegations(traits: &[VoterTraits], draws: &[f64], share: f64) -> Vec<Option<u64>> {
    let delegates: Vec<bool> = draws.iter().map(|&u| u < share).collect();
    let mut direct: Vec<VoterTraits> = traits
        .iter()
        .zip(&delegates)
        .filter(|(_, d)| !**d)
        .map(|(t, _)| t.clone())
        .collect();
    if direct.is_empty() {
        return vec![None; traits.len()];
    }
    direct.sort_by(|a, b| a.log_income.total_cmp(&b.log_income).then(a.id.cmp(&b.id)));
    let from: Vec<VoterTraits> = traits
        .iter()
        .zip(&delegates)
        .filter(|(_, d)| **d)
        .map(|(t, _)| t.clone())
        .collect();
    let mut to = nearest(&from, &direct, 1).into_iter();
    delegates
        .iter()
        .map(|&d| {
            if d {
                to.next().and_then(|n| n.first().copied())
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::test_util::rng;

    fn direct(voter: u64, c: CandidateId) -> (u64, LiquidVote) {
        (
            voter,
            LiquidVote::Direct(Ballot {
                voter,
                ranking: vec![c],
                approvals: vec![c],
            }),
        )
    }

    fn to(voter: u64, delegate: u64) -> (u64, LiquidVote) {
        (voter, LiquidVote::Delegate(delegate))
    }

    #[test]
    fn a_chain_is_followed_to_its_direct_voter() {
        // 3 -> 2 -> 1 -> 0, who votes; 4 votes alone.
        let votes = vec![direct(0, 7), to(1, 0), to(2, 1), to(3, 2), direct(4, 8)];
        let r = resolve(&votes);
        assert_eq!(r.weights, vec![(0, 4), (4, 1)]);
        assert_eq!(
            (r.delegated, r.lost_in_cycles, r.lost_to_abstainers),
            (3, 0, 0)
        );
        let m = r.measures();
        assert_eq!(m.largest_weight, 4);
        // Gini of [4, 1]: |4-1| * 2 / (2 * 2^2 * 2.5) = 0.3.
        assert!((m.weight_gini - 0.3).abs() < 1e-12, "{m:?}");
        // Weighted plurality: candidate 7 has 4 votes of 5.
        let c = Liquid::new("plurality").unwrap().count(
            &[7, 8],
            &weighted_ballots(&votes, &r),
            &mut rng(),
        );
        assert_eq!(c.winner, 7);
        assert_eq!(c.tallies, vec![(7, 4.0), (8, 1.0)]);
        assert!((c.margin - 3.0 / 5.0).abs() < 1e-12);
    }

    #[test]
    fn a_cycle_loses_every_vote_on_it_and_those_that_lead_into_it() {
        // 1 -> 2 -> 3 -> 1 is a cycle; 4 -> 1 leads into it; 0 votes.
        let votes = vec![direct(0, 7), to(1, 2), to(2, 3), to(3, 1), to(4, 1)];
        let r = resolve(&votes);
        assert_eq!(r.weights, vec![(0, 1)]);
        assert_eq!(
            (r.delegated, r.lost_in_cycles, r.lost_to_abstainers),
            (4, 4, 0)
        );
        assert_eq!(r.measures().lost, 4);
        assert_eq!(r.measures().weight_gini, 0.0);
    }

    #[test]
    fn delegating_to_an_abstainer_or_a_stranger_loses_the_vote() {
        // 2 abstains; 1 -> 2; 3 -> 1 (reaches the abstainer through a chain); 4 -> 99 (no
        // such voter).
        let votes = vec![
            direct(0, 7),
            to(1, 2),
            (2, LiquidVote::Abstain),
            to(3, 1),
            to(4, 99),
        ];
        let r = resolve(&votes);
        assert_eq!(r.weights, vec![(0, 1)]);
        assert_eq!(
            (r.delegated, r.lost_in_cycles, r.lost_to_abstainers),
            (3, 0, 3)
        );
    }

    #[test]
    fn a_self_delegation_is_a_cycle_of_one() {
        let votes = vec![direct(0, 7), to(1, 1), to(2, 0)];
        let r = resolve(&votes);
        assert_eq!(r.weights, vec![(0, 2)]);
        assert_eq!(
            (r.delegated, r.lost_in_cycles, r.lost_to_abstainers),
            (2, 1, 0)
        );
        let notes = r.notes();
        assert!(notes[0].contains("1 in cycles"), "{notes:?}");
        assert!(notes[1].contains("worker 0 carries 2"), "{notes:?}");
    }

    #[test]
    fn a_voter_listed_twice_keeps_her_first_act() {
        let votes = vec![direct(0, 7), to(0, 1), direct(1, 8)];
        let r = resolve(&votes);
        assert_eq!(r.weights, vec![(0, 1), (1, 1)]);
        assert_eq!(r.delegated, 0);
    }

    #[test]
    fn a_tie_in_weights_is_broken_by_the_seeded_rng_and_said() {
        // 0 carries 2 for candidate 7, 2 carries 2 for candidate 8.
        let votes = vec![direct(0, 7), to(1, 0), direct(2, 8), to(3, 2)];
        let r = resolve(&votes);
        assert_eq!(r.weights, vec![(0, 2), (2, 2)]);
        assert_eq!(r.measures().weight_gini, 0.0);
        let c = Liquid::new("plurality").unwrap().count(
            &[7, 8],
            &weighted_ballots(&votes, &r),
            &mut rng(),
        );
        assert!(c.tie_broken);
        assert_eq!(c.margin, 0.0);
    }

    #[test]
    fn the_underlying_rule_counts_the_weighted_ballots() {
        // Borda over 3 candidates: 0 (carrying 3) ranks [1,2,3]; 4 and 5 rank [2,3,1].
        let b = |voter: u64, ranking: &[u64]| {
            (
                voter,
                LiquidVote::Direct(Ballot {
                    voter,
                    ranking: ranking.to_vec(),
                    approvals: Vec::new(),
                }),
            )
        };
        let votes = vec![
            b(0, &[1, 2, 3]),
            to(1, 0),
            to(2, 0),
            b(4, &[2, 3, 1]),
            b(5, &[2, 3, 1]),
        ];
        let r = resolve(&votes);
        let ballots = weighted_ballots(&votes, &r);
        assert_eq!(ballots.len(), 5);
        // Borda points: 1: 3*2 = 6; 2: 3*1 + 2*2 = 7; 3: 2*1 = 2.
        let c = Liquid::new("borda")
            .unwrap()
            .count(&[1, 2, 3], &ballots, &mut rng());
        assert_eq!(c.winner, 2);
        assert!(Liquid::new("sortition").is_none());
        assert!(Liquid::new("liquid").is_none());
    }

    proptest::proptest! {
        /// Whatever the delegation graph (chains, cycles, strangers, abstainers), every vote
        /// is carried by exactly one direct voter or lost, and nobody carries less than her
        /// own vote.
        #[test]
        fn every_vote_is_carried_once_or_lost(
            acts in proptest::collection::vec((0u8..3, 0u64..25), 1..25)
        ) {
            let votes: Vec<(u64, LiquidVote)> = acts
                .iter()
                .enumerate()
                .map(|(v, &(kind, to))| match kind {
                    0 => direct(v as u64, 1),
                    1 => (v as u64, LiquidVote::Delegate(to)),
                    _ => (v as u64, LiquidVote::Abstain),
                })
                .collect();
            let r = resolve(&votes);
            let direct_voters = acts.iter().filter(|a| a.0 == 0).count();
            let delegators = acts.iter().filter(|a| a.0 == 1).count();
            let carried: u64 = r.weights.iter().map(|w| w.1).sum();
            proptest::prop_assert_eq!(r.weights.len(), direct_voters);
            proptest::prop_assert_eq!(r.delegated, delegators);
            proptest::prop_assert_eq!(
                carried as usize + r.lost_in_cycles + r.lost_to_abstainers,
                direct_voters + delegators
            );
            proptest::prop_assert!(r.weights.iter().all(|w| w.1 >= 1));
            proptest::prop_assert_eq!(weighted_ballots(&votes, &r).len() as u64, carried);
        }
    }

    fn traits(id: u64, income: f64, occupation: &str) -> VoterTraits {
        VoterTraits {
            id,
            log_income: income.ln(),
            occupation: occupation.into(),
        }
    }

    #[test]
    fn delegators_pick_the_most_similar_direct_voter_by_income_and_occupation() {
        let all = vec![
            traits(0, 30_000.0, "sales"),
            traits(1, 31_000.0, "sales"), // delegates: 0 is closest (same job, near income)
            traits(2, 100_000.0, "law"),
            traits(3, 95_000.0, "sales"), // delegates: law at 100k is closer in income but
            //                                 a different job; sales at 30k is ln(3.2) ≈ 1.16
            //                                 away, law 0.05 + 1 = 1.05 away: law wins.
            traits(4, 100_000.0, "law"), // direct; ties with 2 on distance: lower id wins
            traits(5, 100_000.0, "law"), // delegates: 2 and 4 are both at distance 0 -> 2
        ];
        let draws = [0.9, 0.1, 0.9, 0.1, 0.9, 0.1];
        let d = offline_delegations(&all, &draws, 0.5);
        assert_eq!(d, vec![None, Some(0), None, Some(2), None, Some(2)]);
        // Nobody delegates at share 0; with everyone delegating, nobody can be delegated to.
        assert!(
            offline_delegations(&all, &draws, 0.0)
                .iter()
                .all(Option::is_none)
        );
        assert!(
            offline_delegations(&all, &draws, 1.0)
                .iter()
                .all(Option::is_none)
        );
    }

    #[test]
    fn nearest_matches_a_full_scan() {
        use rand::{RngExt, SeedableRng};
        let mut r = ChaCha8Rng::seed_from_u64(3);
        let jobs = ["a", "b", "c"];
        let mut all: Vec<VoterTraits> = (0..200)
            .map(|id| {
                traits(
                    id,
                    r.random_range(10_000.0..200_000.0_f64).round(),
                    jobs[id as usize % 3],
                )
            })
            .collect();
        all.sort_by(|a, b| a.log_income.total_cmp(&b.log_income).then(a.id.cmp(&b.id)));
        let got = nearest(&all, &all, 3);
        for (me, got) in all.iter().zip(&got) {
            let mut scan: Vec<(f64, u64)> = all
                .iter()
                .filter(|t| t.id != me.id)
                .map(|t| (distance(me, t), t.id))
                .collect();
            scan.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let want: Vec<u64> = scan.iter().take(3).map(|s| s.1).collect();
            assert_eq!(got, &want, "voter {}", me.id);
        }
    }
}
