//! The page itself: the HTML, CSS and JavaScript under `assets/` (compiled into the binary), and
//! the static writer of `simulacra view RUN_DIR`, which puts the page and its data beside each
//! other so that it opens from `file://` with no server and no network.
//!
//! The data are small script files (`data/a/round/3.js` calls `simulacraData("a/round/3",
//! {...})`): a browser loads a script from `file://` where it refuses `fetch`, so the page still
//! loads each round on demand instead of embedding every round in one document.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use serde_json::json;

use super::data::{self, Run};

const INDEX: &str = include_str!("assets/index.html");
const STYLE: &str = include_str!("assets/style.css");
const APP: &str = include_str!("assets/app.js");

/// The static page lists every worker of a round up to this many workers (beyond, the table
/// and trajectories need `--serve`, which pages them).
pub const STATIC_WORKERS_MAX: usize = 20_000;
/// ... and writes every worker's trajectory up to this many worker-steps.
pub const STATIC_TRAJECTORY_MAX: usize = 2_000_000;

/// The page with its assets inline; `boot` tells the script where its data come from.
pub fn index_html(boot: &serde_json::Value) -> String {
    // "</" cannot end the inline script early: JSON escapes it.
    let boot = serde_json::to_string(boot)
        .expect("plain JSON")
        .replace("</", "<\\/");
    INDEX
        .replacen("/*STYLE*/", STYLE, 1)
        .replacen("/*BOOT*/", &format!("window.SIMULACRA_BOOT = {boot};"), 1)
        .replacen("/*APP*/", APP, 1)
}

fn write_data(dir: &Path, key: &str, value: &impl Serialize) -> anyhow::Result<()> {
    let path = dir.join("data").join(format!("{key}.js"));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let body = serde_json::to_string(value)?.replace("</", "<\\/");
    std::fs::write(&path, format!("simulacraData({key:?}, {body});\n"))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `runs`' pages into `out` (the first run is the one viewed, a second is compared);
/// returns the page's path.
pub fn write_static(runs: &[Run], out: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let keys = ["a", "b"];
    let mut boot_runs = Vec::new();
    for (run, key) in runs.iter().zip(keys) {
        let n = run.num_workers();
        write_data(out, &format!("{key}/overview"), &data::overview(run)?)?;
        let table = n <= STATIC_WORKERS_MAX;
        let all_ks: Vec<u64> = run.rounds.iter().map(|r| r.tax_year).collect();
        // Rounds are read in batches so that at most ~4M worker values are held at once.
        let batch = (4_000_000 / n.max(1)).max(1);
        for ks in all_ks.chunks(batch) {
            for d in data::rounds(run, ks)? {
                let workers = (table && !d.values.is_empty()).then(|| {
                    let ids: Vec<usize> = (0..d.values.len()).collect();
                    data::worker_rows(run, &d, &ids)
                });
                write_data(
                    out,
                    &format!("{key}/round/{}", d.view.tax_year),
                    &json!({"round": d.view, "workers": workers}),
                )?;
            }
        }
        let steps: usize = run.rounds.iter().map(|r| r.steps as usize).sum();
        let trajectories = n.saturating_mul(steps) <= STATIC_TRAJECTORY_MAX;
        if trajectories {
            let ids: Vec<usize> = (0..n).collect();
            for t in data::trajectories(run, &ids)? {
                write_data(out, &format!("{key}/worker/{}", t.id), &t)?;
            }
        }
        boot_runs.push(json!({
            "key": key,
            "table": table,
            "trajectories": trajectories,
        }));
    }
    let page = out.join("index.html");
    let html = index_html(&json!({"mode": "static", "runs": boot_runs}));
    std::fs::write(&page, html).with_context(|| format!("cannot write {}", page.display()))?;
    Ok(page)
}
