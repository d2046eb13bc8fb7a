//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use simulacra::config::{DEFAULT_SCENARIO, Scenario};

/// The default scenario with `sets` applied (environment ignored).
pub fn scenario(sets: &[&str]) -> Scenario {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Scenario::resolve(DEFAULT_SCENARIO, &[], &sets).expect("valid test scenario")
}

/// Runs the `simulacra` binary.
pub fn simulacra(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simulacra"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the simulacra binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn out_dir(tmp: &Path, name: &str) -> PathBuf {
    tmp.join(name)
}
