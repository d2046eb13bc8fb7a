//! Seeing a run: inspect (round, agent, prompts, JSON), the report's plots, the exports.

mod common;

use std::path::Path;

use common::{simulacra, stderr, stdout};
use serde_json::Value;

fn small_run(dir: &Path) {
    let o = simulacra(&[
        "run",
        "--set",
        "simulation.num_agents=20",
        "--set",
        "simulation.timesteps=40",
        "--set",
        "simulation.tax_year_length=10",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "run failed: {}", stderr(&o));
}

fn json_of(args: &[&str]) -> Value {
    let o = simulacra(args);
    assert!(o.status.success(), "{args:?} failed: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("valid JSON")
}

#[test]
fn inspect_json_of_a_round_has_schedule_move_and_every_action() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let d = dir.to_str().unwrap();
    let r = json_of(&["inspect", d, "--round", "2", "--json"]);
    assert_eq!(r["tax_year"], 2);
    assert_eq!(r["rates"].as_array().unwrap().len(), 3);
    assert_eq!(r["cutoffs"].as_array().unwrap().len(), 3);
    let mv = &r["planner_move"];
    assert_eq!(mv["tax_year"], 2);
    assert_eq!(mv["deltas_points"].as_array().unwrap().len(), 3);
    assert_eq!(mv["rates"], r["rates"]);
    let workers = r["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 20);
    for (i, w) in workers.iter().enumerate() {
        assert_eq!(w["id"], i);
        assert!(w["hours"].as_f64().unwrap() >= 0.0);
        assert!(w["income"].is_f64() && w["tax"].is_f64() && w["utility"].is_f64());
    }
    // --prompts on an offline run: the same round, with an empty list of exchanges.
    let p = json_of(&["inspect", d, "--round", "2", "--prompts", "--json"]);
    assert_eq!(p["exchanges"], serde_json::json!([]));
    assert_eq!(p["workers"], r["workers"]);
}

#[test]
fn inspect_agent_trajectory_matches_the_round_view() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let d = dir.to_str().unwrap();
    let t = json_of(&["inspect", d, "--agent", "7", "--json"]);
    let steps = t["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 40);
    // The round view lists the round's last step: step 29 for round 2.
    let r = json_of(&["inspect", d, "--round", "2", "--json"]);
    let w = &r["workers"][7];
    let s = &steps[29];
    assert_eq!(s["step"], 29);
    for k in ["hours", "income", "tax", "utility"] {
        assert_eq!(s[k], w[k], "{k}");
    }
    let text = stdout(&simulacra(&["inspect", d, "--agent", "7"]));
    assert!(text.starts_with("worker 7:"), "{text}");
    let bad = simulacra(&["inspect", d, "--agent", "20"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("workers 0 to 19"), "{}", stderr(&bad));
}

#[test]
fn report_renders_every_plot_as_valid_svg_and_png_and_an_html_page() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let o = simulacra(&["report", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = dir.join("report");
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    for (stem, _) in simulacra::report::PLOTS {
        let png = std::fs::read(report.join(format!("{stem}.png"))).unwrap();
        assert!(png.len() > 10_000, "{stem}.png is {} bytes", png.len());
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png magic");
        let svg = std::fs::read_to_string(report.join(format!("{stem}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
            "{stem}.svg"
        );
        assert!(svg.contains("<text"), "{stem}.svg has no text");
        assert_eq!(
            svg.matches("<svg").count(),
            svg.matches("</svg>").count(),
            "{stem}.svg is not balanced"
        );
        assert!(
            html.contains(&format!("<figure id=\"{stem}\"><svg")),
            "{stem} not in HTML"
        );
    }
    assert!(html.contains("<table>") && html.contains("Saez"));
    assert!(
        !html.contains("src=\"http"),
        "the page must be self-contained"
    );
}

#[test]
fn exports_agents_csv_parquet_and_events_jsonl() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let d = dir.to_str().unwrap();
    let o = simulacra(&["export", d, "--agents", "csv", "--events", "jsonl"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(dir.join("agents.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        simulacra::export::AGENT_COLUMNS.join(",")
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 20 * 40);
    assert!(rows.iter().all(|r| r.len() == 8));

    // Every worker's utility in a step averages to the step's logged mean utility.
    let steps = std::fs::read_to_string(dir.join("steps.csv")).unwrap();
    let mean_utility_5: f64 = steps
        .lines()
        .nth(6)
        .unwrap()
        .rsplit(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let ours: f64 = rows[100..120].iter().map(|r| r[7]).sum::<f64>() / 20.0;
    assert!((ours - mean_utility_5).abs() <= 1e-9 * mean_utility_5.abs());

    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let kinds: Vec<String> = events
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "step_begin").count(), 40);
    assert_eq!(kinds.iter().filter(|k| *k == "outcome").count(), 40);
    assert_eq!(kinds.iter().filter(|k| *k == "planner_move").count(), 4);

    let o = simulacra(&["export", d, "--agents", "parquet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let reader =
        SerializedFileReader::new(std::fs::File::open(dir.join("agents.parquet")).unwrap())
            .unwrap();
    let meta = reader.metadata().file_metadata();
    assert_eq!(meta.num_rows(), 800);
    let names: Vec<&str> = meta
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name())
        .collect();
    assert_eq!(names, simulacra::export::AGENT_COLUMNS);
    for (i, row) in reader.get_row_iter(None).unwrap().enumerate() {
        let row = row.unwrap();
        let fields: Vec<f64> = row
            .get_column_iter()
            .map(|(_, f)| match f {
                Field::Long(v) => *v as f64,
                Field::Double(v) => *v,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(fields, rows[i], "row {i}");
    }
}

#[test]
fn a_sweep_over_three_seeds_gives_the_three_single_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let sets = [
        "--set",
        "simulation.num_agents=15",
        "--set",
        "simulation.timesteps=30",
        "--set",
        "simulation.tax_year_length=10",
    ];
    let out = tmp.path().join("sweep");
    let mut args = vec!["sweep", "--seeds", "1..3", "--quiet", "--json"];
    args.extend(sets);
    args.extend(["--out", out.to_str().unwrap()]);
    let sweep = json_of(&args);
    let runs = sweep["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    for seed in 1..=3u64 {
        let single_dir = tmp.path().join(format!("single-{seed}"));
        let seed_set = format!("simulation.seed={seed}");
        let mut args = vec!["run", "--quiet", "--set", &seed_set];
        args.extend(sets);
        args.extend(["--out", single_dir.to_str().unwrap()]);
        let o = simulacra(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let single: Value = serde_json::from_str(
            &std::fs::read_to_string(single_dir.join("summary.json")).unwrap(),
        )
        .unwrap();
        let in_sweep: Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("base").join(format!("seed-{seed}/summary.json")))
                .unwrap(),
        )
        .unwrap();
        for key in [
            "swf_final",
            "gini_final",
            "mean_hours_final",
            "tax_rates_final",
            "log_sha256",
        ] {
            assert_eq!(single[key], in_sweep[key], "seed {seed}: {key}");
        }
        let row = runs.iter().find(|r| r["seed"] == seed).unwrap();
        assert_eq!(row["swf"], single["swf_final"]);
        assert_eq!(row["saez_swf"], single["baselines"]["saez"]["swf"]);
    }
    // The aggregate is the mean and sample std of the three.
    let swfs: Vec<f64> = runs.iter().map(|r| r["swf"].as_f64().unwrap()).collect();
    let (m, s) = simulacra::sweep::mean_std(&swfs);
    let agg = &sweep["aggregates"][0];
    assert_eq!(agg["runs"], 3);
    assert!((agg["swf"][0].as_f64().unwrap() - m).abs() <= 1e-9 * m.abs());
    assert!((agg["swf"][1].as_f64().unwrap() - s).abs() <= 1e-9 * m.abs());
    let aggregate_csv = std::fs::read_to_string(out.join("aggregate.csv")).unwrap();
    assert_eq!(aggregate_csv.lines().count(), 2);
    for stem in ["welfare", "seeds"] {
        let png = std::fs::read(out.join(format!("{stem}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(
            std::fs::read_to_string(out.join(format!("{stem}.svg")))
                .unwrap()
                .contains("<svg")
        );
    }
}

#[test]
fn a_grid_sweep_runs_every_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("grid");
    let r = json_of(&[
        "sweep",
        "--seeds",
        "5",
        "--grid",
        "planner.policy=[saez,us-federal]",
        "--set",
        "simulation.num_agents=10",
        "--set",
        "simulation.timesteps=4",
        "--set",
        "simulation.tax_year_length=2",
        "--quiet",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let aggs = r["aggregates"].as_array().unwrap();
    assert_eq!(aggs.len(), 2);
    assert_eq!(aggs[0]["configuration"], "planner.policy=saez");
    // A Saez planner's welfare is its Saez baseline's.
    assert_eq!(aggs[0]["swf"][0], aggs[0]["saez_swf"][0]);
    assert_eq!(aggs[1]["swf"][0], aggs[1]["us_federal_swf"][0]);
    assert!(out.join("planner.policy=saez/seed-5/run.log").exists());
}

#[test]
fn empirical_saez_recovers_the_closed_form_elasticity_of_rational_workers() {
    // u = c - c0 l^delta, quasi-linear: interior hours are ((1-t) v / (c0 delta))^(1/(delta-1)),
    // so the elasticity of hours with respect to the net-of-tax rate is 1/(delta - 1). The
    // midpoint arc elasticity over +-5 points differs from it by < 0.1 %; tolerance 0.002.
    for (delta, expected) in [("3.5", 0.4), ("3.0", 0.5)] {
        let set = format!("economy.labor_exponent={delta}");
        let r = json_of(&[
            "econ",
            "empirical-saez",
            "--steps",
            "2",
            "--set",
            &set,
            "--set",
            "simulation.num_agents=60",
            "--json",
        ]);
        let brackets = r["brackets"].as_array().unwrap();
        assert_eq!(brackets.len(), 3);
        let mut checked = 0;
        for b in brackets {
            if b["interior"].as_u64().unwrap() == 0 {
                continue;
            }
            let e = b["interior_mean"].as_f64().unwrap();
            assert!(
                (e - expected).abs() < 0.002,
                "delta {delta}, bracket {}: {e} vs {expected}",
                b["bracket"]
            );
            checked += 1;
        }
        assert!(checked >= 2, "too few brackets with interior workers");
        let names: Vec<&str> = r["schedules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names[0], "empirical Saez");
        assert!(names[1].starts_with("static Saez") && names[2] == "2024 US");
        // With rational workers the played welfare is the equilibrium welfare.
        for s in r["schedules"].as_array().unwrap() {
            let (w, eq) = (
                s["welfare"].as_f64().unwrap(),
                s["equilibrium_welfare"].as_f64().unwrap(),
            );
            assert!((w - eq).abs() <= 1e-9 * eq.abs(), "{w} vs {eq}");
        }
    }
}

#[test]
fn optimum_beats_or_ties_saez_and_the_best_grid_point() {
    let r = json_of(&[
        "econ",
        "optimum",
        "--set",
        "simulation.num_agents=40",
        "--json",
    ]);
    let w = r["welfare"].as_f64().unwrap();
    assert!(w >= r["grid_welfare"].as_f64().unwrap());
    assert!(w >= r["saez_welfare"].as_f64().unwrap());
    assert!(w > r["us_federal_welfare"].as_f64().unwrap());
    assert!(
        r["method"]
            .as_str()
            .unwrap()
            .starts_with("exhaustive grid (1331")
    );
    // Seven brackets: too many for the full grid, so coordinate search.
    let r = json_of(&[
        "econ",
        "optimum",
        "--set",
        "simulation.num_agents=20",
        "--set",
        "economy.brackets=us-federal-2024",
        "--grid-step",
        "0.25",
        "--json",
    ]);
    assert_eq!(r["rates"].as_array().unwrap().len(), 7);
    assert!(
        r["method"]
            .as_str()
            .unwrap()
            .starts_with("coordinate search")
    );
    assert!(r["welfare"].as_f64().unwrap() >= r["saez_welfare"].as_f64().unwrap());
}

#[test]
fn a_digest_run_still_reports_and_says_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let o = simulacra(&[
        "run",
        "--set",
        "simulation.num_agents=10",
        "--set",
        "simulation.timesteps=10",
        "--set",
        "simulation.tax_year_length=5",
        "--set",
        "log.decisions=digest",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = dir.to_str().unwrap();
    assert!(simulacra(&["report", d]).status.success());
    let svg = std::fs::read_to_string(dir.join("report/hours.svg")).unwrap();
    assert!(svg.contains("not available"), "the empty plot says why");
    let o = simulacra(&["export", d, "--agents", "csv"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("log.decisions = \"full\""),
        "{}",
        stderr(&o)
    );
    assert!(
        !dir.join("agents.csv").exists(),
        "no half-written file is left"
    );
    // Events need no per-worker hours.
    assert!(
        simulacra(&["export", d, "--events", "jsonl"])
            .status
            .success()
    );
}
