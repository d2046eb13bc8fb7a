//! What workers are told at an election, and how offline workers answer: a candidate stands on
//! the platform that maximizes her own utility; a voter ranks candidates by her own exact
//! utility under each platform (optionally with noise) and approves those at least as good as
//! the status quo.

use std::sync::Arc;

use rand::RngExt;
use serde::Serialize;
use simulacra_actors::StreamKey;

use super::platforms::{PlatformOption, best_of, own_utility};
use super::{Ballot, CandidateId};
use crate::econ::{UtilityForm, WelfareKind, WorldParams};

/// A candidate and the option (index into the book) she stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub id: CandidateId,
    pub option: usize,
}

/// The election's broadcast: the current schedule, the platform book, and (for the ballot
/// round) the candidates.
#[derive(Clone, Debug)]
pub struct ElectionView {
    pub tax_year: u64,
    pub step: u64,
    pub cutoffs: Vec<f64>,
    pub current_rates: Vec<f64>,
    pub book: Arc<Vec<PlatformOption>>,
    /// Empty in the candidacy round.
    pub candidates: Vec<Candidate>,
    /// In a referendum the candidates are options (ids = option indices), not people.
    pub referendum: bool,
    /// Everyone stands (eligibility "everyone"); otherwise a worker declares only when her
    /// platform gains her at least `declare_gain` (relative) over the status quo.
    pub everyone_stands: bool,
    pub declare_gain: f64,
    /// Relative noise on the utilities a voter compares (0 = exact).
    pub noise: f64,
    /// LLM workers write their own platforms (otherwise they stand on their exact favourite).
    pub llm_platforms: bool,
    pub rng_key: StreamKey,
    /// A liquid election asked of LLM voters: for each voter (by id), the fellow voters she
    /// may delegate to, most similar first (the candidates are offered besides).
    pub liquid_peers: Option<Arc<Vec<Vec<Peer>>>>,
    /// A federation's federal election: the book is of federal schedules, which add to each
    /// region's own (LLM voters are told so, and asked under roles of their own).
    pub federal: bool,
    /// Each worker's own utility under each option, by option then worker id, when it is not
    /// a function of her skill alone (a federal platform is worth what it leaves her in her
    /// region); none: computed from her skill.
    pub utilities: Option<Arc<Vec<Vec<f64>>>>,
    /// The winner is asked for her move every year of her term through the model, so her
    /// platform is a promise; otherwise (the `welfare` objective) the welfare-best move of the
    /// book is applied.
    pub leader_asked: bool,
    /// The largest change of a bracket's rate in one move, in points.
    pub max_delta: i32,
}

impl ElectionView {
    /// The role an LLM question of this election is asked and logged under: `base` ("vote",
    /// "platform"), or its federal twin, so a worker asked in her region's election and in the
    /// federal one in the same step keeps two recorded answers apart.
    pub fn role(&self, base: &'static str) -> &'static str {
        match (self.federal, base) {
            (true, "vote") => "federal_vote",
            (true, "platform") => "federal_platform",
            _ => base,
        }
    }

    /// Worker `voter`'s own utility under option `option` of the book.
    pub fn utility_of(&self, w: &WorldParams, voter: u64, skill: f64, option: usize) -> f64 {
        match &self.utilities {
            Some(u) => u[option][voter as usize],
            None => own_utility(w, &self.cutoffs, skill, &self.book[option]),
        }
    }
}

/// A fellow voter one may delegate to, as a prompt describes her.
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    pub id: u64,
    pub text: String,
}

fn world(form: UtilityForm, max_hours: f64) -> WorldParams {
    WorldParams {
        form,
        welfare: WelfareKind::Utilitarian,
        rebate_equal: true,
        max_hours,
    }
}

/// An offline worker's candidacy: her favourite option and its gain, or `None` if she does not
/// declare.
pub fn offline_stand(
    voter: u64,
    form: UtilityForm,
    max_hours: f64,
    skill: f64,
    e: &ElectionView,
) -> Option<(usize, f64)> {
    let w = world(form, max_hours);
    let utils: Vec<f64> = (0..e.book.len())
        .map(|o| e.utility_of(&w, voter, skill, o))
        .collect();
    let (option, gain) = best_of(&utils);
    let sq = utils[0];
    let relative = gain / sq.abs().max(1.0);
    (e.everyone_stands || relative >= e.declare_gain).then_some((option, gain))
}

/// An offline worker's ballot: candidates ranked by her utility under their platforms (noise
/// from her own stream, ties by candidate id); approvals: candidates whose platform gives her
/// at least the status quo's utility.
pub fn offline_ballot(
    voter: u64,
    form: UtilityForm,
    max_hours: f64,
    skill: f64,
    e: &ElectionView,
) -> Ballot {
    let w = world(form, max_hours);
    let sq = e.utility_of(&w, voter, skill, 0);
    let mut rng = e.rng_key.rng(voter, e.tax_year);
    let mut scored: Vec<(f64, CandidateId, f64)> = e
        .candidates
        .iter()
        .map(|c| {
            let u = e.utility_of(&w, voter, skill, c.option);
            let noisy = if e.noise > 0.0 {
                u + u.abs().max(1.0) * e.noise * rng.random_range(-1.0..1.0)
            } else {
                u
            };
            (noisy, c.id, u)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    Ballot {
        voter,
        ranking: scored.iter().map(|s| s.1).collect(),
        approvals: scored.iter().filter(|s| s.2 >= sq).map(|s| s.1).collect(),
    }
}
