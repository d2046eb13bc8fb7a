//! Condorcet voting completed by the Schulze method: d[a][b] = voters preferring a to b (a
//! ranked candidate beats an unranked one; two unranked are tied); the strongest path p[a][b]
//! is the widest path in that pairwise graph; a wins if p[a][b] >= p[b][a] for every b. A
//! Condorcet winner, when one exists, always wins; in a cycle the method still picks one.

use rand_chacha::ChaCha8Rng;

use super::{Ballot, CandidateId, Count, VotingRule, argmax_with_ties};

pub struct Schulze;

/// Pairwise preferences d[i][j] (candidate indices).
pub fn pairwise(candidates: &[CandidateId], ballots: &[Ballot]) -> Vec<Vec<f64>> {
    let m = candidates.len();
    let mut d = vec![vec![0.0; m]; m];
    for b in ballots {
        // Position of each candidate on this ballot; unranked = after everyone ranked.
        let pos: Vec<usize> = candidates
            .iter()
            .map(|c| b.ranking.iter().position(|r| r == c).unwrap_or(usize::MAX))
            .collect();
        for i in 0..m {
            for j in 0..m {
                if i != j && pos[i] < pos[j] {
                    d[i][j] += 1.0;
                }
            }
        }
    }
    d
}

impl VotingRule for Schulze {
    fn name(&self) -> &'static str {
        "condorcet"
    }

    fn count(&self, candidates: &[CandidateId], ballots: &[Ballot], rng: &mut ChaCha8Rng) -> Count {
        let m = candidates.len();
        let d = pairwise(candidates, ballots);
        let mut p = vec![vec![0.0; m]; m];
        for i in 0..m {
            for j in 0..m {
                if i != j && d[i][j] > d[j][i] {
                    p[i][j] = d[i][j];
                }
            }
        }
        for k in 0..m {
            for i in 0..m {
                for j in 0..m {
                    if i != j && i != k && j != k {
                        p[i][j] = f64::max(p[i][j], f64::min(p[i][k], p[k][j]));
                    }
                }
            }
        }
        // Score: number of candidates each one beats or ties on strongest paths; winners
        // (score m-1) are tied only when the Schulze ranking itself ties.
        let wins: Vec<f64> = (0..m)
            .map(|i| (0..m).filter(|&j| j != i && p[i][j] >= p[j][i]).count() as f64)
            .collect();
        let (w, tie_broken) = argmax_with_ties(&wins, rng);
        let condorcet_winner = (0..m).find(|&i| (0..m).all(|j| j == i || d[i][j] > d[j][i]));
        // Margin: the winner's narrowest pairwise lead, as a share of the ballots.
        let margin = (0..m)
            .filter(|&j| j != w)
            .map(|j| (d[w][j] - d[j][w]) / ballots.len().max(1) as f64)
            .fold(f64::INFINITY, f64::min);
        Count {
            winner: candidates[w],
            tallies: candidates.iter().copied().zip(wins).collect(),
            margin: if margin.is_finite() {
                margin.max(0.0)
            } else {
                0.0
            },
            tie_broken,
            exhausted: ballots.iter().filter(|b| b.ranking.is_empty()).count(),
            notes: vec![match condorcet_winner {
                Some(c) => format!("{} is the Condorcet winner", candidates[c]),
                None => "no Condorcet winner (a cycle): Schulze's strongest paths decide".into(),
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::test_util::{ballots, rng};

    #[test]
    fn a_condorcet_winner_wins() {
        // 4 x [1,2,3], 3 x [2,3,1], 2 x [3,2,1]: 2 beats 1 (5-4) and 3 (7-2).
        let b = ballots(&[(4, &[1, 2, 3]), (3, &[2, 3, 1]), (2, &[3, 2, 1])]);
        let c = Schulze.count(&[1, 2, 3], &b, &mut rng());
        assert_eq!(c.winner, 2);
        assert!(c.notes[0].contains("Condorcet winner"));
        assert!((c.margin - 1.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn a_cycle_is_resolved_by_strongest_paths() {
        // The classic Schulze example reduced to a 3-cycle with unequal strengths:
        // 5 x [1,2,3], 4 x [2,3,1], 3 x [3,1,2] (12 voters).
        // d(1,2) = 8, d(2,3) = 9, d(3,1) = 7: 1>2, 2>3, 3>1 — a cycle.
        // Strongest paths: p(1,2)=8, p(1,3)=min(8,9)=8, p(2,3)=9, p(2,1)=min(9,7)=7,
        // p(3,1)=7, p(3,2)=min(7,8)=7. Candidate 1: p(1,2)=8 >= 7, p(1,3)=8 >= 7 -> wins.
        let b = ballots(&[(5, &[1, 2, 3]), (4, &[2, 3, 1]), (3, &[3, 1, 2])]);
        let d = pairwise(&[1, 2, 3], &b);
        assert_eq!((d[0][1], d[1][2], d[2][0]), (8.0, 9.0, 7.0));
        let c = Schulze.count(&[1, 2, 3], &b, &mut rng());
        assert_eq!(c.winner, 1);
        assert!(c.notes[0].contains("cycle"));
        assert!(!c.tie_broken);
    }

    #[test]
    fn a_perfectly_symmetric_cycle_is_a_seeded_tie() {
        let b = ballots(&[(1, &[1, 2, 3]), (1, &[2, 3, 1]), (1, &[3, 1, 2])]);
        let c = Schulze.count(&[1, 2, 3], &b, &mut rng());
        assert!(c.tie_broken);
    }
}
