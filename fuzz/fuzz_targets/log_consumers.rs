//! Arbitrary bytes as a run's log, read by what reads logs back: `inspect` (the game table and
//! each round in detail), `inspect --agent` (a worker's trajectory), the LLM exchanges of a
//! round, and the CSV and JSON-lines exports. Before writing the log, every frame's checksum is
//! rewritten to match its payload, so mutated frames reach the decoder and the consumers
//! instead of stopping at the CRC check. No input may panic; errors are fine.
//!
//! Logs whose header scenario has more than 1,000 workers are skipped (rebuilding the
//! population is linear in its size: a slow input, not a bug). Seed the corpus with the real
//! logs in `fuzz/seeds/log_reader/`.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use simulacra::config::Scenario;
use simulacra::export::{AgentFormat, export_agents, export_events};
use simulacra::frames::LogHeader;
use simulacra::{inspect, inspect_agent};
use simulacra_actors::LogReader;

/// Rounds looked at in detail per input, from each end of the game.
const DETAIL: usize = 1;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    common::fix_checksums(&mut bytes);
    let path = common::write_log(&bytes);
    let dir = common::scratch_dir();

    // Skip populations too large to rebuild quickly.
    let Ok(reader) = LogReader::open(&path) else {
        return;
    };
    let Ok(header) = reader.header::<LogHeader>() else {
        return;
    };
    drop(reader);
    if let Ok(s) = Scenario::from_toml(&header.scenario_toml)
        && s.simulation.num_agents > 1000
    {
        return;
    }

    if let Ok((rows, _damaged)) = inspect::game_table(dir) {
        let _ = inspect::render_table(&rows);
        let ends = rows
            .iter()
            .take(DETAIL)
            .chain(rows.iter().rev().take(DETAIL));
        for row in ends {
            if let Ok(detail) = inspect::round_detail(dir, row.tax_year) {
                let _ = inspect::render_round(&detail);
                if let Ok(exchanges) = inspect_agent::round_exchanges(dir, &detail) {
                    let _ = inspect_agent::render_exchanges(&exchanges);
                }
            }
        }
    }
    if let Ok(s) = Scenario::from_toml(&header.scenario_toml) {
        let n = s.simulation.num_agents;
        for agent in [0, n.saturating_sub(1)] {
            if let Ok(t) = inspect_agent::agent_trajectory(dir, agent) {
                let _ = inspect_agent::render_trajectory(&t);
            }
        }
    }
    let _ = export_agents(dir, &dir.join("agents.csv"), AgentFormat::Csv);
    let _ = export_events(dir, &dir.join("events.jsonl"));
});
