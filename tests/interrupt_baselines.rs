//! A signal that arrives after the run's last step, while the baselines are played: the run
//! ends as an interrupted one (no summary, no tables), says that every step was played and
//! that `resume` plays the baselines. In a test binary of its own: the stop request is
//! process-wide (so the resume itself is `tests/edges.rs`' business, in a child process).

use simulacra::config::Scenario;
use simulacra::run::interrupt::{self, Interrupted};
use simulacra::run::run_scenario;

#[test]
fn a_stop_during_the_baselines_leaves_no_tables_and_says_what_resume_does() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let sets: Vec<String> = ["simulation.num_agents=20", "simulation.timesteps=60"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let scenario = Scenario::load(None, &sets).unwrap();
    // The stop is asked for once the run's last step is played (the count goes on through
    // the baselines' steps): what a Ctrl-C during the baselines does, with no timing involved.
    let progress: simulacra_actors::Progress = Box::new(|done, _| {
        if done == 60 {
            interrupt::request();
        }
    });
    let err = run_scenario(&scenario, &dir, Some(progress)).unwrap_err();
    let stop = err
        .downcast_ref::<Interrupted>()
        .unwrap_or_else(|| panic!("not an interruption: {err:#}"));
    assert!(stop.in_baselines && stop.steps == 60, "{stop}");
    let text = stop.to_string();
    assert!(
        text.contains("while the baselines were played, after all 60 of the run's steps")
            && text.contains("plays the baselines and writes the tables"),
        "{text}"
    );
    for table in ["summary.json", "steps.csv", "elections.csv", "regions.csv"] {
        assert!(
            !dir.join(table).exists(),
            "{table} written by an interrupted run"
        );
    }
    assert!(dir.join("run.log").is_file());
}
