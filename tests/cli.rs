//! The command line as a user meets it: the run's files and keys, replay, inspect, the econ
//! calculators, and bad input (clear message, non-zero exit, no panic).

mod common;

use std::path::Path;

use common::{simulacra, stderr, stdout};
use serde_json::Value;

const SMALL: [&str; 8] = [
    "--set",
    "simulation.num_agents=20",
    "--set",
    "simulation.timesteps=60",
    "--set",
    "simulation.tax_year_length=10",
    "--quiet",
    "--out",
];

fn small_run(dir: &Path) {
    let mut args = vec!["run"];
    args.extend(SMALL);
    let d = dir.to_str().unwrap();
    args.push(d);
    let o = simulacra(&args);
    assert!(o.status.success(), "run failed: {}", stderr(&o));
    assert!(stdout(&o).contains("hill-climb"), "{}", stdout(&o));
}

/// `a` and `b` have the same keys, strings and shapes, and numbers equal to 1e-12 relative.
fn assert_same_json(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}"
            );
            for (k, v) in x {
                assert_same_json(v, &y[k], &format!("{at}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_same_json(v, w, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                "{at}: {x} vs {y}"
            );
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn run_writes_the_documented_files_and_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let s = summary(&dir);
    for key in [
        "seed",
        "num_agents",
        "timesteps",
        "swf_final",
        "tax_rates_final",
        "log_sha256",
    ] {
        assert!(!s[key].is_null(), "summary.json lacks {key}");
    }
    assert_eq!(s["num_agents"], 20);
    assert_eq!(s["timesteps"], 60);
    assert!(s["baselines"]["us_federal"]["swf"].is_f64());
    assert!(s["baselines"]["saez"]["swf"].is_f64());
    assert_eq!(s["baselines"]["saez"]["rates"].as_array().unwrap().len(), 3);
    assert_eq!(
        s["baselines"]["us_federal"]["rates"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    let hash = simulacra_actors::log::file_sha256(&dir.join("run.log")).unwrap();
    assert_eq!(s["log_sha256"], hash.as_str());

    // summary.json reads back as the typed Summary and writes out the same keys and values
    // (serde_json's default float parsing may land one ulp off, so numbers compare closely).
    let typed: simulacra::run::Summary = serde_json::from_value(s.clone()).unwrap();
    assert_eq!(typed.num_agents, 20);
    assert_same_json(&serde_json::to_value(&typed).unwrap(), &s, "summary");

    let csv = std::fs::read_to_string(dir.join("steps.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "step,tax_year,rate_0,rate_1,rate_2,revenue,rebate,welfare,gini,mean_hours,mean_income,mean_utility"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 60);
    assert!(rows[59].starts_with("59,5,"));
    // swf_final is the mean welfare of the last tax year's rows.
    let last_year: Vec<f64> = rows[50..]
        .iter()
        .map(|r| r.split(',').nth(7).unwrap().parse().unwrap())
        .collect();
    let mean = last_year.iter().sum::<f64>() / 10.0;
    assert!((mean - s["swf_final"].as_f64().unwrap()).abs() <= 1e-9 * mean.abs());
}

#[test]
fn replay_and_inspect_read_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let d = dir.to_str().unwrap();
    let o = simulacra(&["replay", d, "--verify"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("identical"));
    // Comparing is replay's only mode: the flag may be left out.
    let o = simulacra(&["replay", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("identical"));

    let o = simulacra(&["inspect", d, "--round", "2", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let round: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(round["tax_year"], 2);
    assert_eq!(round["rates"].as_array().unwrap().len(), 3);
    assert!(round["planner_move"]["deltas_points"].is_array());
    assert!(round["planner_move"]["observed_welfare"].is_f64());
    let workers = round["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 20);
    for w in workers {
        let (skill, hours, income) = (
            w["skill"].as_f64().unwrap(),
            w["hours"].as_f64().unwrap(),
            w["income"].as_f64().unwrap(),
        );
        assert!((skill * hours - income).abs() <= 1e-6 * income.max(1.0));
    }

    let o = simulacra(&["inspect", d]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o).lines().count(),
        1 + 6,
        "a header and one row per tax year"
    );

    let o = simulacra(&["inspect", d, "--round", "99"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("round 99 is not in the log"));
}

#[test]
fn damaged_logs_are_reported_with_their_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let d = dir.to_str().unwrap();
    let log = dir.join("run.log");
    let full = std::fs::read(&log).unwrap();

    // Truncated: inspect refuses a log short of its summary, and with --partial shows the
    // intact prefix and says where the log breaks.
    std::fs::write(&log, &full[..full.len() - 100]).unwrap();
    let o = simulacra(&["inspect", d]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("--partial"), "{}", stderr(&o));
    let o = simulacra(&["inspect", d, "--partial"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The warning goes to stderr; stdout holds only the table.
    assert!(stderr(&o).contains("unfinished step"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("warning"), "{}", stdout(&o));
    let o = simulacra(&["inspect", d, "--agent", "2", "--partial"]);
    assert!(stderr(&o).contains("unfinished step"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("warning"), "{}", stdout(&o));
    let o = simulacra(&["replay", d, "--verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("damaged"), "{}", stdout(&o));

    // A flipped byte in the middle: a checksum error at that frame.
    let mut bytes = full.clone();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&log, &bytes).unwrap();
    let o = simulacra(&["replay", d, "--verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("corrupt"), "{}", stdout(&o));

    // Not a log at all.
    std::fs::write(&log, b"{\"not\": \"a log\"}").unwrap();
    let o = simulacra(&["replay", d, "--verify"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a simulacra log"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn bad_configuration_names_the_problem() {
    let cases: [(&[&str], &str); 5] = [
        (&["run", "--set", "simulation.num_agent=5"], "num_agent"),
        (&["run", "--set", "planner.policy=oracle"], "oracle"),
        (
            &["run", "--set", "economy.max_hours=-1"],
            "economy.max_hours",
        ),
        (
            &["run", "/nonexistent/scenario.toml"],
            "/nonexistent/scenario.toml",
        ),
        (&["run", "--set", "novalue"], "key=value"),
    ];
    for (args, needle) in cases {
        let o = simulacra(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
}

#[test]
fn environment_overrides_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_simulacra"))
        .args(["run", "--quiet", "--set", "simulation.timesteps=5"])
        .args(["--set", "simulation.tax_year_length=5", "--out"])
        .arg(&dir)
        .env("SIMULACRA__SIMULATION__NUM_AGENTS", "7")
        .env("SIMULACRA__BASELINES__ENABLED", "false")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let s = summary(&dir);
    assert_eq!(s["num_agents"], 7);
    assert!(s["baselines"]["saez"].is_null());
}

#[test]
fn econ_best_response_matches_the_closed_form() {
    // Flat 30%: l* = (v (1 - t) / (c delta))^(1/(delta-1)) = (30*0.7/(0.02*3.5))^(1/2.5) = 300^0.4
    let o = simulacra(&[
        "econ",
        "best-response",
        "--skill",
        "30",
        "--brackets",
        "flat",
        "--rates",
        "0.3",
        "--c",
        "0.02",
        "--delta",
        "3.5",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let expected = 300f64.powf(0.4);
    assert!(
        (v["hours"].as_f64().unwrap() - expected).abs() < 1e-9,
        "{v}"
    );

    let o = simulacra(&[
        "econ",
        "best-response",
        "--skill",
        "30",
        "--brackets",
        "three",
        "--rates",
        "0.1,0.2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("expected 3"), "{}", stderr(&o));
}

#[test]
fn econ_saez_on_a_pareto_tail() {
    // Incomes z_k = 50,000 (1 - (k+0.5)/n)^(-1/2): a Pareto tail with a = 2. Above the top
    // cut-off b = 200,000 the mean income is 2b, so a = m/(m-b) = 2. With weights 1/z the
    // mean weight above b relative to the population is (2/(3b)) / (2/(3*50,000)) = 0.25, so
    // with e = 0.5 the top rate is (1 - 0.25)/(1 - 0.25 + 2*0.5) = 0.75/1.75 = 0.428571.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("incomes.txt");
    let n = 200_000;
    let text: String = (0..n)
        .map(|k| {
            format!(
                "{}\n",
                50_000.0 * (1.0 - (k as f64 + 0.5) / n as f64).powf(-0.5)
            )
        })
        .collect();
    std::fs::write(&file, text).unwrap();
    let o = simulacra(&[
        "econ",
        "saez",
        "--incomes",
        file.to_str().unwrap(),
        "--brackets",
        "0,200000",
        "--elasticity",
        "0.5",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let top = v["rates"][1].as_f64().unwrap();
    assert!((top - 0.75 / 1.75).abs() < 0.01, "top rate {top}");

    std::fs::write(&file, "100\nabc\n").unwrap();
    let o = simulacra(&[
        "econ",
        "saez",
        "--incomes",
        file.to_str().unwrap(),
        "--brackets",
        "flat",
        "--elasticity",
        "0.4",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
}

#[test]
fn econ_population_lists_agents() {
    let o = simulacra(&["econ", "population", "--n", "5", "--seed", "3", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let agents = v["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 5);
    for (i, a) in agents.iter().enumerate() {
        assert_eq!(a["id"], i);
        for key in ["income", "skill", "occupation", "sex", "age"] {
            assert!(!a[key].is_null(), "{key}");
        }
    }
    let again = simulacra(&["econ", "population", "--n", "5", "--seed", "3", "--json"]);
    assert_eq!(stdout(&o), stdout(&again));
}

#[test]
fn econ_population_json_lists_all_n_agents_unless_show_is_given() {
    // 30 agents is more than the table's default of 20.
    for (extra, listed) in [(&[][..], 30), (&["--show", "2"][..], 2)] {
        let mut args = vec!["econ", "population", "--n", "30", "--seed", "7", "--json"];
        args.extend(extra);
        let o = simulacra(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["agents"].as_array().unwrap().len(), listed, "{args:?}");
    }
    let table = simulacra(&["econ", "population", "--n", "30"]);
    assert!(stdout(&table).contains("... (10 more; --show N)"));
}

#[test]
fn a_missing_file_names_its_os_error_once() {
    for args in [
        &["run", "/nonexistent/scenario.toml"][..],
        &["inspect", "/nonexistent-run"][..],
        &["resume", "/nonexistent-run"][..],
    ] {
        let o = simulacra(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.matches("os error 2").count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn econ_population_compares_conditional_medians_with_the_published_figures() {
    let o = simulacra(&[
        "econ",
        "population",
        "--n",
        "3000",
        "--seed",
        "5",
        "--show",
        "2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["agents"].as_array().unwrap().len(), 2);
    assert_eq!(v["income_model"], "persona-rank");
    let c = &v["calibration"];
    assert_eq!(c["n"], 3000);
    assert_eq!(c["by_occupation"].as_array().unwrap().len(), 22);
    assert_eq!(c["by_age"].as_array().unwrap().len(), 6);
    assert_eq!(c["by_occupation"][0]["published"], 116880.0);
    let headline = c["headline"].as_array().unwrap();
    assert_eq!(headline.len(), 3);
    // Even at 3,000 agents managers out-earn food servers by far more than 2x.
    assert!(
        headline[0]["simulated"].as_f64().unwrap() > 2.0,
        "{}",
        headline[0]
    );

    let text = simulacra(&["econ", "population", "--n", "500", "--show", "0"]);
    assert!(text.status.success(), "{}", stderr(&text));
    for needle in ["by occupation", "by age", "by sex", "women / men median"] {
        assert!(stdout(&text).contains(needle), "{needle}");
    }
    let paper = simulacra(&[
        "econ",
        "population",
        "--n",
        "3000",
        "--seed",
        "5",
        "--json",
        "--set",
        "population.income_model=independent",
    ]);
    let p: Value = serde_json::from_str(&stdout(&paper)).unwrap();
    assert_eq!(p["income_model"], "independent");
}

#[test]
fn baselines_played_by_other_workers_are_labelled_in_the_table() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let dir = tmp.path().join(name);
        let mut args = vec!["run", "--set", "workers.policy=bounded"];
        args.extend_from_slice(extra);
        args.extend(SMALL);
        let d = dir.to_str().unwrap().to_string();
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        args.push(d);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = simulacra(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        (stdout(&o), summary(&dir))
    };
    // Unset: bounded workers play the baselines too; nothing to say.
    let (out, s) = run("same", &[]);
    assert!(!out.contains("note:"), "{out}");
    assert_eq!(s["baselines"]["saez"]["worker_policy"], "bounded");
    // Asked for rational workers: the table says so, and so does the verdict.
    let (out, s) = run("rational", &["--set", "baselines.workers=rational"]);
    assert!(
        out.contains(
            "note: the baselines are played by rational workers, not the run's bounded workers"
        ),
        "{out}"
    );
    assert!(
        s["comparison"]["verdict"]
            .as_str()
            .unwrap()
            .ends_with("(the baselines with rational workers)")
    );
    assert_eq!(s["baselines"]["saez"]["worker_policy"], "rational");
    // A value it does not know is refused.
    let o = simulacra(&["run", "--set", "baselines.workers=mine", "--quiet"]);
    assert!(!o.status.success());
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    use std::io::Read;
    // `simulacra econ population --json | head -c 100`: far more than a pipe holds.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_simulacra"))
        .args(["econ", "population", "--n", "20000", "--json"])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    // The read end is dropped here: the next write fails with EPIPE.
    let o = child.wait_with_output().unwrap();
    assert_eq!(stderr(&o), "", "no panic, no message");
    assert_eq!(
        o.status.code(),
        Some(141),
        "128 + SIGPIPE, as a shell reports it"
    );
}

#[test]
fn skill_is_labelled_in_dollars_per_year_per_weekly_hour() {
    let help = stdout(&simulacra(&["econ", "best-response", "--help"]));
    assert!(help.contains("dollars per year per weekly hour"), "{help}");
    let table = stdout(&simulacra(&["econ", "population", "--n", "3"]));
    assert!(
        table.contains("$/yr per h/wk") && !table.contains("/h "),
        "{table}"
    );
    let tmp = tempfile::tempdir().unwrap();
    small_run(tmp.path());
    let d = tmp.path().to_str().unwrap();
    let round = stdout(&simulacra(&["inspect", d, "--round", "1"]));
    assert!(round.contains("skill $/yr per h/wk"), "{round}");
    let agent = stdout(&simulacra(&["inspect", d, "--agent", "3"]));
    assert!(
        agent.contains("$/yr per h/wk") && !agent.contains("$/h"),
        "{agent}"
    );
}

#[test]
fn every_argument_of_every_command_says_what_it_is() {
    let commands: [&[&str]; 15] = [
        &["run"],
        &["resume"],
        &["fork"],
        &["replay"],
        &["inspect"],
        &["report"],
        &["export"],
        &["bench"],
        &["econ", "saez"],
        &["econ", "best-response"],
        &["econ", "empirical-saez"],
        &["econ", "optimum"],
        &["econ", "population"],
        &["governance", "compare"],
        &["sweep"],
    ];
    let mut bare = Vec::new();
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--help");
        let help = stdout(&simulacra(&args));
        // An argument line is "  <NAME>", "  -x, --name <V>" or "      --name" (indented by
        // two or six); its
        // description follows two or more spaces, or (clap's long layout) on the next, deeper
        // indented line. Defaults alone ("[default: 0]") are no description.
        let lines: Vec<&str> = help.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let indent = line.len() - t.len();
            let is_arg = (indent == 2 || indent == 6)
                && (t.starts_with('-') || t.starts_with('<') || t.starts_with('['));
            if !is_arg {
                continue;
            }
            let is_text = |d: &str| !d.is_empty() && !d.starts_with("[default");
            let inline = t.trim().split_once("  ").map(|(_, d)| d.trim());
            let below = lines
                .get(i + 1)
                .filter(|l| l.len() - l.trim_start().len() > 6)
                .map(|l| l.trim());
            if !(inline.is_some_and(is_text) || below.is_some_and(is_text)) {
                bare.push(format!("{}: {}", cmd.join(" "), t.trim()));
            }
        }
    }
    assert!(
        bare.is_empty(),
        "arguments without a description:\n{}",
        bare.join("\n")
    );
}

#[test]
fn rust_log_info_traces_the_run_its_years_and_elections_on_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_simulacra"))
        .args([
            "run",
            "--set",
            "simulation.num_agents=10",
            "--set",
            "simulation.timesteps=30",
            "--set",
            "simulation.tax_year_length=10",
            "--set",
            "governance.mode=election",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let log = stderr(&o);
    for want in [
        "run{scenario=default seed=42 agents=10 steps=30}",
        "run started",
        "election{tax_year=1}",
        "election held",
        "run finished",
        "baseline{schedule=\"saez\"}",
    ] {
        assert!(log.contains(want), "{want:?} missing from:\n{log}");
    }
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes when stderr is not a terminal"
    );
    assert!(
        !stdout(&o).contains("run started"),
        "tracing never goes to stdout"
    );
    // Steps are traced at debug level only.
    assert!(!log.contains("step{"), "{log}");
    // Off by default (the tests' helper clears RUST_LOG).
    let quiet = simulacra(&[
        "run",
        "--set",
        "simulation.timesteps=10",
        "--set",
        "simulation.tax_year_length=10",
        "--quiet",
        "--out",
        tmp.path().join("q").to_str().unwrap(),
    ]);
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn every_shipped_scenario_resolves() {
    let mut checked = 0;
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            simulacra::config::Scenario::load(Some(&path), &[])
                .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} scenarios found");
}
