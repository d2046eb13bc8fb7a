//! A run folder's own files: whether a folder already holds a run (so `run --out` and
//! `fork --out` refuse it unless `--force`), and removing exactly the files simulacra writes
//! there, by their names and patterns, so a user's own files in the folder (or in its
//! `snapshots/`) survive a `--force` and a new run never sits beside a stale report.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::runlog::LOG_FILE;
use crate::snapshot::SNAPSHOT_DIR;

/// A run's wall time, written beside its summary by a sweep (kept out of `summary.json`,
/// which is deterministic).
pub const TIMING_FILE: &str = "timing.json";

/// Files a run, its exports and a sweep write at the top of a run folder. The lock file
/// (`writer.lock`) is not among them: it is never removed (see `run_lock`).
const TOP_FILES: [&str; 9] = [
    LOG_FILE,
    "summary.json",
    "steps.csv",
    "elections.csv",
    super::regions_table::REGIONS_FILE,
    "agents.csv",
    "agents.parquet",
    "events.jsonl",
    TIMING_FILE,
];

/// Whether `dir` holds a run (a log or a summary that is a file), which a new run must not
/// replace unasked. A device or FIFO under the log's name is no run: the log's writer
/// refuses or reports it itself.
pub fn holds_run(dir: &Path) -> bool {
    let is_file = |name: &str| std::fs::metadata(dir.join(name)).is_ok_and(|m| m.is_file());
    is_file(LOG_FILE) || is_file("summary.json")
}

/// The refusal of a folder that holds a run, naming it and the ways out: a run that did not
/// finish (a log without a summary: stopped, killed, or failed at its start, as against an LLM
/// server that was down) is first offered to `resume`.
pub fn refuse_reuse(dir: &Path, flag: &str) -> anyhow::Error {
    if !dir.join("summary.json").is_file() {
        return anyhow::anyhow!(
            "{} already holds a run that did not finish (a run.log without summary.json): \
             continue it with `simulacra resume {}`, give another folder, or add {flag} to \
             replace it (only the files simulacra wrote there are removed)",
            dir.display(),
            dir.display()
        );
    }
    anyhow::anyhow!(
        "{} already holds a run (run.log or summary.json); give another folder, or add {flag} \
         to replace that run (only the files simulacra wrote there are removed)",
        dir.display()
    )
}

/// Whether `name` is a temporary file of the atomic writer for one of `names`
/// (`.NAME.XXXXXX.tmp[.ext]`, see `outfile`).
fn is_temp_of(name: &str, names: &[&str]) -> bool {
    names
        .iter()
        .any(|n| name.starts_with(&format!(".{n}.")) && name.contains(".tmp"))
}

/// Whether `name` is a snapshot file (`step-NNNNNNNN.snap`) or one being written
/// (`step-NNNNNNNN.snap.tmp`).
pub fn is_snapshot_file(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("step-") else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(&rest[digits..], ".snap" | ".snap.tmp")
}

/// Removes the files of `dir` (not of its subfolders) whose names `wanted` picks; returns them.
fn remove_matching(dir: &Path, wanted: impl Fn(&str) -> bool) -> anyhow::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(removed);
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    // Sorted, so what is removed (and reported) does not depend on the directory's order.
    paths.sort();
    for path in paths {
        // A link under one of simulacra's names goes too (never what it points to).
        let is_file = path
            .symlink_metadata()
            .is_ok_and(|m| m.is_file() || m.file_type().is_symlink());
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if is_file && name.as_deref().is_some_and(&wanted) {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
            removed.push(path);
        }
    }
    Ok(removed)
}

/// Removes `dir` if it is an empty folder (a user's file in it keeps it).
fn remove_if_empty(dir: &Path) {
    // A folder that is not empty (or not there) is left as it is: that is the point.
    let _ = std::fs::remove_dir(dir);
}

/// Removes the snapshots simulacra wrote into `run_dir/snapshots/` (and the folder, if that
/// leaves it empty); any other file there stays.
pub fn remove_snapshots(run_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dir = run_dir.join(SNAPSHOT_DIR);
    let removed = remove_matching(&dir, is_snapshot_file)?;
    remove_if_empty(&dir);
    Ok(removed)
}

/// Removes every file simulacra writes into a run folder (the log, the summary, the tables
/// and exports, the snapshots, `report/` and `view/`), and nothing else; returns what it
/// removed. Folders left empty go too.
pub fn clear_run_outputs(run_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut removed = remove_matching(run_dir, |n| {
        TOP_FILES.contains(&n) || is_temp_of(n, &TOP_FILES)
    })?;
    removed.extend(remove_snapshots(run_dir)?);
    let report = run_dir.join("report");
    removed.extend(remove_matching(&report, |n| {
        n == "report.html"
            || n.ends_with(".svg")
            || n.ends_with(".png")
            || (n.starts_with('.') && n.contains(".tmp"))
    })?);
    remove_if_empty(&report);
    let view = run_dir.join("view");
    let data = view.join("data");
    for key in ["a", "b"] {
        removed.extend(remove_matching(&data.join(key), |n| n.ends_with(".js"))?);
        remove_if_empty(&data.join(key));
    }
    remove_if_empty(&data);
    removed.extend(remove_matching(&view, |n| n == "index.html")?);
    remove_if_empty(&view);
    Ok(removed)
}

/// Makes `dir` ready for a new run: refused when it holds one, unless `force`, which removes
/// what simulacra wrote there first. `flag` is the option that forces (`--force`).
pub fn prepare_out_dir(dir: &Path, force: bool, flag: &str) -> anyhow::Result<()> {
    if !holds_run(dir) {
        return Ok(());
    }
    if !force {
        return Err(refuse_reuse(dir, flag));
    }
    let removed = clear_run_outputs(dir)?;
    tracing::info!(files = removed.len(), dir = %dir.display(), "removed the earlier run");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_run_is_offered_to_resume() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOG_FILE), b"header").unwrap();
        let unfinished = refuse_reuse(dir.path(), "--force").to_string();
        assert!(unfinished.contains("did not finish"), "{unfinished}");
        assert!(unfinished.contains("simulacra resume"), "{unfinished}");
        std::fs::write(dir.path().join("summary.json"), b"{}").unwrap();
        let finished = refuse_reuse(dir.path(), "--force").to_string();
        assert!(
            !finished.contains("resume") && finished.contains("--force"),
            "{finished}"
        );
    }

    #[test]
    fn snapshot_names_are_told_from_other_files() {
        for yes in [
            "step-00000020.snap",
            "step-00000020.snap.tmp",
            "step-1.snap",
        ] {
            assert!(is_snapshot_file(yes), "{yes}");
        }
        for no in [
            "step-.snap",
            "notes.txt",
            "step-00000020.snap.bak",
            "mystep-1.snap",
        ] {
            assert!(!is_snapshot_file(no), "{no}");
        }
    }

    #[test]
    fn force_removes_simulacras_files_and_keeps_the_users() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let write = |rel: &str| {
            let p = d.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        };
        let ours = [
            "run.log",
            "summary.json",
            "steps.csv",
            "elections.csv",
            "agents.csv",
            ".agents.csv.a1b2c3.tmp.csv",
            "snapshots/step-00000010.snap",
            "report/report.html",
            "report/rates.svg",
            "report/rates.png",
            "view/index.html",
            "view/data/a/overview.js",
        ];
        let theirs = ["notes.md", "snapshots/keep.txt", "report/mine.txt"];
        for f in ours.iter().chain(&theirs) {
            write(f);
        }
        std::fs::write(d.join(crate::run_lock::LOCK_FILE), b"").unwrap();
        assert!(holds_run(d));
        let refused = prepare_out_dir(d, false, "--force")
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains(&d.display().to_string()) && refused.contains("--force"),
            "{refused}"
        );
        assert!(d.join("run.log").exists(), "a refusal removes nothing");
        prepare_out_dir(d, true, "--force").unwrap();
        for f in ours {
            assert!(!d.join(f).exists(), "{f} is left");
        }
        for f in theirs {
            assert!(d.join(f).exists(), "{f} was removed");
        }
        assert!(d.join(crate::run_lock::LOCK_FILE).exists());
        assert!(!d.join("view").exists(), "an emptied folder goes");
        assert!(!holds_run(d));
    }
}
