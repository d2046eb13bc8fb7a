//! `simulacra diff`: the scenario keys, the fork relation, the first differing frame and the
//! per-tax-year table, against runs whose relation is known by construction.

mod common;

use common::{simulacra, stderr, stdout};

fn run(dir: &std::path::Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
        "--set",
        "simulation.num_agents=12",
        "--set",
        "simulation.timesteps=20",
        "--set",
        "simulation.tax_year_length=5",
    ];
    args.extend_from_slice(extra);
    let o = simulacra(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn json(a: &std::path::Path, b: &std::path::Path) -> (i32, serde_json::Value) {
    let o = simulacra(&["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--json"]);
    let v = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    (o.status.code().unwrap(), v)
}

#[test]
fn a_fork_is_named_with_its_step_and_parts_at_its_first_move() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, f) = (tmp.path().join("a"), tmp.path().join("f"));
    run(&a, &[]);
    let o = simulacra(&[
        "fork",
        a.to_str().unwrap(),
        "--at",
        "10",
        "--set",
        "planner.policy=saez",
        "--out",
        f.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (code, d) = json(&a, &f);
    assert_eq!(code, 1, "the logs differ");
    assert_eq!(d["relation"]["kind"], "b_fork_of_a");
    assert_eq!(d["relation"]["at_step"], 10);
    assert_eq!(d["scenario_differences"].as_array().unwrap().len(), 1);
    assert_eq!(d["scenario_differences"][0]["key"], "planner.policy");
    // The fork shares every frame before its step: the first difference is its first move.
    assert_eq!(d["first_difference"]["step_a"], 10);
    assert_eq!(d["first_difference"]["kind_b"], "PlannerMove");
    let years = d["years"].as_array().unwrap();
    assert_eq!(years.len(), 4);
    assert_eq!(
        years[0]["a"], years[0]["b"],
        "the shared prefix has equal figures"
    );
    assert_ne!(years[2]["a"]["rates"], years[2]["b"]["rates"]);
    // Swapped, the relation turns around.
    let (_, back) = json(&f, &a);
    assert_eq!(back["relation"]["kind"], "a_fork_of_b");
    // The text names the same facts.
    let text = stdout(&simulacra(&[
        "diff",
        a.to_str().unwrap(),
        f.to_str().unwrap(),
    ]));
    assert!(
        text.contains("relation: B is a fork of A at step 10"),
        "{text}"
    );
    assert!(
        text.contains("planner.policy  \"hill-climb\" | \"saez\""),
        "{text}"
    );
}

#[test]
fn a_run_equals_itself_and_a_new_seed_differs_from_its_first_decisions() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    run(&a, &[]);
    run(&b, &[]);
    run(&c, &["--set", "simulation.seed=7"]);
    let (code, same) = json(&a, &b);
    assert_eq!(code, 0, "two runs of one scenario hold the same frames");
    assert!(same["first_difference"].is_null());
    assert_eq!(same["same_scenario"], true);
    assert_eq!(same["relation"]["kind"], "unrelated");
    let (code, d) = json(&a, &c);
    assert_eq!(code, 1);
    assert_eq!(d["scenario_differences"][0]["key"], "simulation.seed");
    assert_eq!(d["first_difference"]["step_a"], 0);
    assert_eq!(d["first_difference"]["kind_a"], "Decisions");
}

#[test]
fn a_short_log_is_named_and_its_intact_part_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run(&a, &[]);
    run(&b, &[]);
    let log = b.join("run.log");
    let len = std::fs::metadata(&log).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
    f.set_len(len - 7).unwrap();
    let o = simulacra(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("run B's log"), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("(19 of 20 steps (the run stopped early or its log is short))"),
        "{}",
        stdout(&o)
    );
}
