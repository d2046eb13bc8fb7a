//! The game's state between two steps, as a snapshot keeps it, and the elections it has held;
//! the per-worker and per-leader records that state holds (`Feedback`, `LeaderYear`); and the
//! encoding of a policy's own memory (`to_bytes`, `from_bytes`). These sit below the policies
//! (which fill them), the game and the snapshot files (which store them), so none of those
//! imports another's internals.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::econ::TaxSchedule;

/// The economy's own state between two steps: what the scenario and the population cannot
/// give back. The game holds it and a snapshot stores it as is, so a new field is written
/// once. (The last settlement is not part of it: it is a pure function of the hours and of the
/// schedule in force, and is recomputed on restore.)
///
/// Its size does not grow with the steps played: the steps' outcomes, which a run needs for
/// `steps.csv` and its summary, are in the log a snapshot continues, and a restored run reads
/// them back from there (held here they made every snapshot longer than the last, and a run's
/// snapshots together grow with the square of its length).
///
/// The field order is the snapshot file's byte layout (bincode): do not reorder.
#[derive(Clone, Serialize, Deserialize)]
pub struct EconomyState {
    pub(crate) schedule: TaxSchedule,
    /// Bumped each time the schedule changes (a settlement is reused only under the same one).
    pub(crate) schedule_version: u64,
    pub(crate) years_total: u64,
    /// Each worker's outcome of the last step, sent with the next step's message.
    pub(crate) feedback: Vec<Option<Feedback>>,
    pub(crate) last_rebate: f64,
    pub(crate) last_welfare: f64,
    /// The running tax year's welfare sum and step count.
    pub(crate) year_welfare: (f64, u64),
    /// The hours of the last step and the schedule version they were settled under.
    pub(crate) last_hours: Option<(u64, Vec<f64>)>,
    /// Elected governance: the leader and the elections held.
    pub(crate) governance: Option<ElectedState>,
    /// A federation's regions and who lives where (none for one nation).
    pub(crate) federation: Option<FederationState>,
}

/// A federation between two steps.
#[derive(Clone, Serialize, Deserialize)]
pub struct FederationState {
    /// Each worker's region, by id.
    pub(crate) region_of: Vec<u32>,
    pub(crate) regions: Vec<RegionState>,
    /// Moves at the start of each tax year that allowed them: (tax year, moves).
    pub(crate) moves: Vec<(u64, u64)>,
    /// Income segregation across regions at the last step played.
    pub(crate) segregation: f64,
    /// Each region's planner memory, then the federal planner's (filled when a snapshot is
    /// taken).
    pub(crate) planners: Vec<Vec<u8>>,
    /// The federal layer, if there is one.
    pub(crate) federal: Option<FederalState>,
}

/// The federal layer between two steps.
#[derive(Clone, Serialize, Deserialize)]
pub struct FederalState {
    pub(crate) schedule: TaxSchedule,
    /// Last step's federal rebate per worker (under `equalization = "none"`).
    pub(crate) last_rebate: f64,
    /// The running tax year's federal revenue sum and step count, and the last whole year's
    /// mean.
    pub(crate) year: (f64, u64),
    pub(crate) last_year: Option<f64>,
    /// An elected federal layer's leader and elections (none under a federal planner).
    pub(crate) governance: Option<ElectedState>,
    /// Every whole tax year under the federal layer as one record: the federal rates in
    /// force, the federal revenue, and the nation's welfare, hours, Gini and mean income (the
    /// history an LLM federal leader sees; kept only when there is one; one record a year).
    pub(crate) years: Vec<crate::frames::StepOutcome>,
}

/// One region between two steps: the economy's own fields, for its residents.
#[derive(Clone, Serialize, Deserialize)]
pub struct RegionState {
    pub(crate) schedule: TaxSchedule,
    pub(crate) schedule_version: u64,
    pub(crate) last_rebate: f64,
    /// The running tax year's sums of (welfare, revenue, mean hours, Gini, mean income,
    /// federal transfer received) and its step count.
    pub(crate) year: ([f64; 6], u64),
    /// The last whole tax year's means, in the same order (for the summary).
    pub(crate) last_year: Option<[f64; 6]>,
    /// The incomes and utilities of its residents at the last step (for its planner).
    pub(crate) incomes: Vec<f64>,
    pub(crate) utilities: Vec<f64>,
    pub(crate) governance: Option<ElectedState>,
    pub(crate) moves_in: u64,
    pub(crate) moves_out: u64,
    /// Every whole tax year of the region as one record of its means (welfare, revenue,
    /// hours, Gini, mean income) under the rates in force: the history its LLM leader sees
    /// (kept only when it has one; one record a year).
    pub(crate) years: Vec<crate::frames::StepOutcome>,
}

/// Elected governance between two tax years.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct ElectedState {
    pub(crate) leader: Option<u64>,
    /// Elections held.
    pub(crate) held: Vec<ElectionRow>,
    /// LLM leaders' years in office, each leader's own history (empty with offline workers).
    pub(crate) leader_years: Vec<LeaderYear>,
    /// The rates the leader in office stood on when elected (none when drawn by lot).
    pub(crate) platform: Option<Vec<f64>>,
    /// The leader's last move, in points per bracket, as applied (none before her first).
    pub(crate) last_move: Option<Vec<i32>>,
    /// Every worker's own outcome at each step of the last tax year, for an LLM leader's
    /// prompt (her recent steps; empty with offline workers).
    pub(crate) recent_steps: Vec<OwnStep>,
}

/// Every worker's hours, pre-tax income and utility at one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OwnStep {
    pub step: u64,
    pub tax_year: u64,
    pub hours: Vec<f64>,
    pub incomes: Vec<f64>,
    pub utilities: Vec<f64>,
}

/// One election, as `elections.csv` lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ElectionRow {
    pub tax_year: u64,
    pub step: u64,
    pub rule: String,
    pub winner: u64,
    pub margin: f64,
    pub turnout: f64,
    pub candidates: usize,
    pub ballots: usize,
    pub exhausted: usize,
    pub tie_broken: bool,
    /// A liquid election's concentration of weights (none under the other rules).
    pub liquid: Option<crate::governance::liquid::LiquidMeasures>,
}

/// A worker's own outcome of the previous step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub hours: f64,
    /// The utility she perceives (her own, or the welfare for altruists; see `UtilityType`).
    pub utility: f64,
}

/// One tax year under a leader, as her own history keeps it (snapshots keep these).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeaderYear {
    pub tax_year: u64,
    pub leader: u64,
    /// The rates in force that year, in points.
    pub rates: Vec<i32>,
    /// The year's mean welfare.
    pub welfare: f64,
    /// The leader's own pre-tax income and utility at the year's last step.
    pub own_income: f64,
    pub own_utility: f64,
}

/// The restore of a policy that keeps no memory: only an empty one fits.
pub fn expect_no_memory(memory: &[u8], who: &str) -> Result<(), String> {
    if memory.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{who} keeps no memory, but the snapshot holds {} bytes of it",
            memory.len()
        ))
    }
}

/// Encodes a memory (bincode, as log frames).
pub fn to_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    simulacra_actors::log::encode_payload(value, &mut buf)
        .expect("plain memory structs always encode");
    buf
}

/// Decodes a memory; the error says why it does not decode.
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    simulacra_actors::log::decode_payload(bytes, 0).map_err(|e| match e {
        simulacra_actors::LogError::Decode { message, .. } => message,
        other => other.to_string(),
    })
}
