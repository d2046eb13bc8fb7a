//! The run log's header: what a run of a scenario writes first (reading it back is
//! `crate::runlog`), and the scenario's fsync setting in the log writer's terms.

use simulacra_actors::Fsync;

use crate::config::{FsyncPolicy, Scenario};
use crate::frames::LogHeader;

/// The header a run of `scenario` writes.
///
/// Execution-only settings that cannot change a result (the shard count) are reset to their
/// defaults, so the same run on another machine or thread count has the same log bytes.
pub fn header(scenario: &Scenario) -> LogHeader {
    let mut logged = scenario.clone();
    logged.simulation.shards = 0;
    LogHeader {
        kind: "simulacra-run".into(),
        simulacra_version: env!("CARGO_PKG_VERSION").into(),
        seed: scenario.simulation.seed,
        scenario_toml: logged.to_toml(),
        fork: None,
    }
}

/// Whether the files written beside the log are fsynced (the same `log.fsync` policy).
pub fn fsync_outputs(scenario: &Scenario) -> bool {
    scenario.log.fsync == FsyncPolicy::Step
}

/// The log writer's fsync setting for `scenario`.
pub fn fsync_of(scenario: &Scenario) -> Fsync {
    match scenario.log.fsync {
        FsyncPolicy::Never => Fsync::Never,
        FsyncPolicy::Step => Fsync::EveryStep,
    }
}
