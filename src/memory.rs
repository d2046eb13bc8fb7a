//! The game's state between two steps, as a snapshot keeps it, and the elections it has held.
//! These types sit below both the game (which fills them) and the snapshot files (which store
//! them), so neither imports the other's internals.

use serde::{Deserialize, Serialize};

use crate::econ::TaxSchedule;
use crate::policy::Feedback;

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
}

/// Elected governance between two tax years.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct ElectedState {
    pub(crate) leader: Option<u64>,
    /// Elections held.
    pub(crate) held: Vec<ElectionRow>,
    /// LLM leaders' years in office, each leader's own history (empty with offline workers).
    pub(crate) leader_years: Vec<crate::policy::llm_leader::LeaderYear>,
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
