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
