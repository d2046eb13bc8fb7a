//! Arguments are what they seem: `--set` takes one key and one TOML value (a line break that
//! would start a `[table]` is refused, by `run` and by `resume`), and a `--grid` value in
//! quotes may hold `,` and `]`.

mod common;

use common::{simulacra, stderr, stdout};
use serde_json::Value;

const SMALL: [&str; 6] = [
    "--set",
    "simulation.num_agents=5",
    "--set",
    "simulation.timesteps=4",
    "--set",
    "simulation.tax_year_length=2",
];

#[test]
fn a_set_value_with_a_table_header_is_refused_and_nothing_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let mut args = vec!["run", "--quiet", "--out", out.to_str().unwrap()];
    args.extend(SMALL);
    args.extend(["--set", "simulation.seed=1\n[planner]\npolicy=\"saez\""]);
    let o = simulacra(&args);
    assert!(!o.status.success(), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("--set \"simulation.seed=1\\n[planner]") && err.contains("line break"),
        "{err}"
    );
    assert!(!out.join("run.log").exists());
}

#[test]
fn resume_refuses_a_set_that_smuggles_a_table() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let dir = out.to_str().unwrap();
    let mut args = vec!["run", "--quiet", "--out", dir];
    args.extend(SMALL);
    let o = simulacra(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = simulacra(&[
        "resume",
        dir,
        "--set",
        "llm.base_url=\"http://127.0.0.1:9/v1\"\n[simulation]\nseed=7",
    ]);
    assert!(!o.status.success(), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("--set \"llm.base_url=") && err.contains("line break"),
        "{err}"
    );
}

#[test]
fn a_quoted_grid_value_may_hold_a_comma() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let mut args = vec![
        "sweep",
        "--dry-run",
        "--json",
        "--seeds",
        "1",
        "--grid",
        r#"llm.model=["a,b","c"]"#,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(SMALL);
    let o = simulacra(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let configs: Vec<&str> = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["configuration"].as_str().unwrap())
        .collect();
    assert_eq!(configs, vec![r#"llm.model="a,b""#, r#"llm.model="c""#]);
    // And the values reach the runs' scenarios as written.
    for (grid, model) in [(r#""a,b""#, "a,b"), (r#""c""#, "c")] {
        let s = common::scenario(&[&format!("llm.model={grid}")]);
        assert_eq!(s.llm.model, model);
    }
    // A bracket inside quotes does not end the list.
    let mut args = vec![
        "sweep",
        "--dry-run",
        "--json",
        "--seeds",
        "1",
        "--grid",
        r#"llm.model=["a]b",c]"#,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(SMALL);
    let o = simulacra(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["runs"].as_array().unwrap().len(), 2, "{v}");
}

#[test]
fn a_tax_year_longer_than_the_run_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let o = simulacra(&[
        "run",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "simulation.timesteps=10",
        "--set",
        "simulation.tax_year_length=25",
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("simulation.tax_year_length") && err.contains("25") && err.contains("10"),
        "{err}"
    );
}
