//! What a run's message log holds: the header and the frame kinds, in the order the scheduler
//! writes them. One timestep is
//!
//! ```text
//! StepBegin { step, tax_year }
//! PlannerMove { .. }                  (first step of a tax year only)
//! Decisions { first_agent, hours }    (one per block of up to DECISION_BLOCK workers; or a
//! DecisionDigest                       digest when log.decisions = "digest")
//! Llm { .. } / Endpoint { .. }        (LLM exchanges, then endpoint ejections and returns)
//! Outcome { revenue, rebate, welfare, gini, .. }
//! ```
//!
//! A federation's step adds, at the first step of a tax year, `Moves` (when workers may move)
//! and each region's governance frames wrapped in `InRegion`, before a national `PlannerMove`
//! whose rates are the regions' population-weighted means; and one `RegionOutcome` per region
//! before the national `Outcome`.
//!
//! Everything else a user may want about a step (each worker's income, tax, utility) is a pure
//! function of these frames and the header's scenario, so `inspect` recomputes it rather than
//! the log storing it twice.

use serde::{Deserialize, Serialize};

/// Workers per `Decisions` frame, so that no frame grows with the population.
pub const DECISION_BLOCK: usize = 65_536;

/// The first frame of every log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogHeader {
    /// Always "simulacra-run".
    pub kind: String,
    pub simulacra_version: String,
    pub seed: u64,
    /// The resolved scenario, as TOML: enough to rebuild and replay the run.
    pub scenario_toml: String,
    /// Set when this run is a fork of another: it was that run until `at_step`.
    pub fork: Option<ForkOrigin>,
}

/// Where a forked run came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForkOrigin {
    /// The parent's resolved scenario (the run until `at_step`).
    pub parent_scenario_toml: String,
    pub at_step: u64,
    /// SHA-256 of the parent's log when the fork was made.
    pub parent_log_sha256: String,
}

/// One logged message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Frame {
    StepBegin {
        step: u64,
        tax_year: u64,
    },
    PlannerMove(PlannerMove),
    Decisions {
        step: u64,
        first_agent: u64,
        hours: Vec<f64>,
    },
    DecisionDigest {
        step: u64,
        agents: u64,
        /// FNV-1a over the little-endian bytes of every worker's hours, in id order.
        fnv1a: u64,
    },
    Outcome(StepOutcome),
    /// An election (first step of a tax year under `governance.mode = "election"`), logged
    /// before the move the winner makes.
    Election(ElectionRecord),
    /// One attempt of one LLM exchange (logged after the step's decisions, in agent-id order,
    /// then the planner's), so a replay can answer every request without a server.
    Llm(LlmExchange),
    /// A federation: one region's governance frame (its `PlannerMove`, its `Election`), at
    /// the first step of a tax year, before the nation's summary `PlannerMove`.
    InRegion {
        region: u32,
        frame: Box<Frame>,
    },
    /// A federation: one region's outcome, after the decisions and before the nation's.
    RegionOutcome(RegionOutcome),
    /// A federation: the moves of a tax year, at its first step, before any region governs.
    Moves(MoveRecord),
    /// A federation with a federal layer: its planner's move, after the moves and before the
    /// regions govern.
    FederalMove(PlannerMove),
    /// An endpoint of the LLM pool left it or came back (logged after the step's exchanges).
    /// It records how the run reached its servers, never what they answered: a replay
    /// re-logs it from the recording and does not need it to happen again.
    Endpoint(EndpointEvent),
    /// A federation whose movers expect consistent rebates (`move_expectations =
    /// "consistent"`): how the movers' fixed point of a tax year ended, after its `Moves`.
    MoverExpectations(ExpectationRecord),
    /// A federation: the welfare with each worker's location utility (her taste for her
    /// region, its amenity, the moving cost in the step she arrived), the nation's and each
    /// region's, after the regions' outcomes and before the nation's.
    Location(LocationOutcome),
}

/// How the movers' fixed point of a tax year ended: its rounds, the share of deciders whose
/// choice would still change (0 when it converged), and the rebates each region was expected
/// to pay (the federal one included), which hold where everyone then lives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpectationRecord {
    pub step: u64,
    pub tax_year: u64,
    /// Workers who re-decided this year (`move_share` of them, drawn from their own streams).
    pub deciders: u64,
    pub rounds: u32,
    pub residual: f64,
    pub converged: bool,
    pub rebates: Vec<f64>,
}

/// Welfare with location at one step: the welfare function over each worker's utility plus
/// her location utility, for the nation and for each region's residents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocationOutcome {
    pub step: u64,
    pub tax_year: u64,
    pub welfare: f64,
    pub regions: Vec<f64>,
}

/// One region's settlement of one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionOutcome {
    pub step: u64,
    pub tax_year: u64,
    pub region: u32,
    pub population: u64,
    /// Its schedule in force: its brackets (annual dollars) and rates.
    pub cutoffs: Vec<f64>,
    pub rates: Vec<f64>,
    pub revenue: f64,
    /// Its revenue and federal transfer over its residents (under the equal-rebate rule), less
    /// its public good per resident when it provides one.
    pub rebate: f64,
    /// The federal transfer it received (0 without a federal layer or equalization).
    pub transfer: f64,
    /// The welfare function over its residents.
    pub welfare: f64,
    pub gini: f64,
    pub mean_hours: f64,
    pub mean_income: f64,
}

impl RegionOutcome {
    /// Its public good per resident (`federation.public_good`): what its revenue and transfer
    /// per resident paid beyond the rebate; 0 for a region nobody lives in, and 0 (to rounding)
    /// without public goods.
    pub fn public_good(&self) -> f64 {
        if self.population == 0 {
            return 0.0;
        }
        (self.revenue + self.transfer) / self.population as f64 - self.rebate
    }
}

/// The workers who moved at the start of a tax year: (worker id, from, to), in id order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MoveRecord {
    pub step: u64,
    pub tax_year: u64,
    pub moves: Vec<(u64, u32, u32)>,
    /// Income segregation across regions at the last step before the moves, and after them
    /// (the same incomes, the new residences).
    pub segregation_before: f64,
    pub segregation_after: f64,
}

/// An endpoint ejected after repeated failures, or back after a successful probe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointEvent {
    /// The step during whose play (or just before) the change was seen.
    pub step: u64,
    /// Its index in `llm.base_url`.
    pub endpoint: u64,
    pub base_url: String,
    /// "ejected" or "returned".
    pub change: String,
    /// Why: the failures that ejected it, or the probe that brought it back.
    pub reason: String,
}

/// An election: candidacies and platforms, every ballot, the count and the winner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ElectionRecord {
    pub step: u64,
    pub tax_year: u64,
    pub rule: String,
    /// (candidate id, platform move in points). In a referendum the ids are options.
    pub candidates: Vec<(u64, Vec<i32>)>,
    pub ballots: Vec<crate::governance::Ballot>,
    pub count: crate::governance::Count,
    /// Ballots cast over eligible voters.
    pub turnout: f64,
}

/// One attempt at one LLM request and what came back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlmExchange {
    /// "worker", "planner", "persona", "satisfaction" or "vote".
    pub role: String,
    /// Worker id; the planners use ids at the top of the range ([`planner_label`]).
    pub agent: u64,
    pub step: u64,
    /// 0 for the first attempt; transport retries and re-asks after a bad answer count up.
    pub attempt: u32,
    /// SHA-256 of the canonical request JSON (model, messages, sampling parameters).
    pub request_sha256: String,
    pub model: String,
    pub temperature: f64,
    pub max_tokens: u32,
    /// The rendered messages as (role, content), when `llm.log_prompts` is on.
    pub messages: Option<Vec<(String, String)>>,
    pub outcome: ExchangeOutcome,
}

/// What an attempt produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExchangeOutcome {
    Response {
        text: String,
        prompt_tokens: u64,
        completion_tokens: u64,
    },
    /// The request failed: "timeout", "http 429", "http 500", "connection", "bad response".
    Failed { kind: String, message: String },
    /// A response of which the server said it served `cached_tokens` of the prompt tokens
    /// from its prefix cache (a plain `Response` when it said nothing, or 0, so logs of
    /// servers that do not say are what they were before this was recorded).
    CachedResponse {
        text: String,
        prompt_tokens: u64,
        completion_tokens: u64,
        cached_tokens: u64,
    },
}

/// The agent id the planner's exchanges carry in the log.
pub const PLANNER_AGENT: u64 = u64::MAX;

/// The agent id a federation's federal planner's exchanges carry.
pub const FEDERAL_PLANNER_AGENT: u64 = u64::MAX - 1;

/// The agent id region `r`'s planner's exchanges carry: below the federal planner's, one per
/// region (a federation has at most [`crate::config::MAX_REGIONS`]); far above any worker id
/// (a `u32`).
pub const fn region_planner_agent(region: u32) -> u64 {
    u64::MAX - 2 - region as u64
}

/// Who an exchange's agent id names when it is a planner, in words ("planner", "the federal
/// planner", "region 2's planner"); none for a worker.
pub fn planner_label(agent: u64) -> Option<String> {
    match agent {
        PLANNER_AGENT => Some("planner".into()),
        FEDERAL_PLANNER_AGENT => Some("the federal planner".into()),
        a if a >= region_planner_agent(crate::config::MAX_REGIONS as u32 - 1) => {
            Some(format!("region {}'s planner", u64::MAX - 2 - a))
        }
        _ => None,
    }
}

/// Whether an exchange's agent id names a planner (the nation's, the federal layer's or a
/// region's) rather than a worker.
pub fn is_planner_agent(agent: u64) -> bool {
    planner_label(agent).is_some()
}

impl LlmExchange {
    /// The exchange as the JSON a user reads (`inspect --prompts --json`, `events.jsonl`):
    /// the planner is no worker, so its `agent` is null rather than the log's sentinel.
    pub fn to_user_json(&self) -> serde_json::Result<serde_json::Value> {
        let mut v = serde_json::to_value(self)?;
        if is_planner_agent(self.agent) {
            v["agent"] = serde_json::Value::Null;
            // A federation's planners say whose they are (the nation's keeps its bytes).
            if self.agent != PLANNER_AGENT {
                v["planner"] =
                    serde_json::Value::String(planner_label(self.agent).unwrap_or_default());
            }
        }
        Ok(v)
    }
}

/// The planner's move at the start of a tax year, with what it saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannerMove {
    pub step: u64,
    pub tax_year: u64,
    pub policy: String,
    /// Mean welfare over the previous tax year (none at the first year).
    pub observed_welfare: Option<f64>,
    pub previous_rates: Vec<f64>,
    /// The move, in percentage points per bracket.
    pub deltas_points: Vec<i32>,
    pub cutoffs: Vec<f64>,
    pub rates: Vec<f64>,
}

/// The world's settlement of one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepOutcome {
    pub step: u64,
    pub tax_year: u64,
    pub rates: Vec<f64>,
    pub revenue: f64,
    pub rebate: f64,
    pub welfare: f64,
    pub gini: f64,
    pub mean_hours: f64,
    pub mean_income: f64,
    pub mean_utility: f64,
}

/// FNV-1a over the hours' bytes (the digest mode's checksum).
pub fn hours_digest(hours: &[f64]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for h in hours {
        for b in h.to_le_bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(agent: u64) -> LlmExchange {
        LlmExchange {
            role: "planner".into(),
            agent,
            step: 0,
            attempt: 0,
            request_sha256: String::new(),
            model: "m".into(),
            temperature: 0.0,
            max_tokens: 1,
            messages: None,
            outcome: ExchangeOutcome::Failed {
                kind: "timeout".into(),
                message: String::new(),
            },
        }
    }

    #[test]
    fn planners_are_named_and_workers_keep_their_ids() {
        assert_eq!(planner_label(PLANNER_AGENT).as_deref(), Some("planner"));
        assert_eq!(
            planner_label(FEDERAL_PLANNER_AGENT).as_deref(),
            Some("the federal planner")
        );
        for r in [0, 5, crate::config::MAX_REGIONS as u32 - 1] {
            assert_eq!(
                planner_label(region_planner_agent(r)),
                Some(format!("region {r}'s planner"))
            );
        }
        assert_eq!(planner_label(u64::from(u32::MAX)), None);
        assert_eq!(planner_label(0), None);
        // The nation's planner keeps its JSON; a region's says whose it is.
        let nation = exchange(PLANNER_AGENT).to_user_json().unwrap();
        assert!(nation["agent"].is_null() && nation.get("planner").is_none());
        let region = exchange(region_planner_agent(2)).to_user_json().unwrap();
        assert!(region["agent"].is_null());
        assert_eq!(region["planner"], "region 2's planner");
        assert_eq!(exchange(7).to_user_json().unwrap()["agent"], 7);
    }
}
