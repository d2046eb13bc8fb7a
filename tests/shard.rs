//! Sweeps in shards: N shards and `sweep merge` give the single-machine sweep's tables; merge
//! lists what is missing; a shard killed mid-run leaves its run to be resumed, not redone; a
//! run folder has one writer at a time; a shard's index comes from Slurm's or Kubernetes'
//! environment.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{simulacra, stderr, stdout};
use serde_json::Value;

const GRID: [&str; 10] = [
    "--seeds",
    "1..6",
    "--grid",
    "planner.policy=[saez,hill-climb]",
    "--set",
    "simulation.num_agents=12",
    "--set",
    "simulation.timesteps=8",
    "--set",
    "simulation.tax_year_length=2",
];

fn sweep(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sweep", "--quiet", "--out", out.to_str().unwrap()];
    args.extend(GRID);
    args.extend(extra);
    simulacra(&args)
}

/// `runs.csv` without its wall-time column.
fn runs_without_seconds(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "seconds").unwrap();
    text.lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            f.remove(col);
            f.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_same_tables(a: &Path, b: &Path) {
    assert_eq!(runs_without_seconds(a), runs_without_seconds(b));
    for f in [
        "aggregate.csv",
        "welfare.svg",
        "welfare.png",
        "seeds.svg",
        "seeds.png",
    ] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn shards_merged_give_the_single_machine_sweep_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let single = tmp.path().join("single");
    let o = sweep(&single, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(runs_without_seconds(&single).lines().count(), 13);
    for n in [1usize, 2, 4] {
        let out = tmp.path().join(format!("shards-{n}"));
        let mut ran = 0;
        for i in 0..n {
            let shard = format!("{i}/{n}");
            let o = sweep(&out, &["--shard", &shard, "--json"]);
            assert!(o.status.success(), "{}", stderr(&o));
            let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
            // 12 runs: 12 / n each, as balanced as can be; a shard builds no table.
            assert_eq!(v["counts"]["ran"], 12 / n as u64, "shard {shard}");
            ran += v["counts"]["ran"].as_u64().unwrap();
            assert!(!out.join("runs.csv").exists());
        }
        assert_eq!(ran, 12);
        let o = simulacra(&["sweep", "merge", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("merged 12 runs"), "{}", stdout(&o));
        assert_same_tables(&single, &out);
    }

    // A missing run and a run without its summary: merge names both and writes no table.
    let out = tmp.path().join("shards-4");
    std::fs::remove_dir_all(out.join("planner.policy=saez/seed-2")).unwrap();
    std::fs::remove_file(out.join("planner.policy=hill-climb/seed-5/summary.json")).unwrap();
    std::fs::remove_file(out.join("aggregate.csv")).unwrap();
    let o = simulacra(&["sweep", "merge", out.to_str().unwrap()]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("2 of the sweep's 12 runs"), "{e}");
    assert!(e.contains("planner.policy=saez/seed-2: missing"), "{e}");
    assert!(
        e.contains("planner.policy=hill-climb/seed-5: incomplete"),
        "{e}"
    );
    assert!(!out.join("aggregate.csv").exists());
    // Running the sweep again does only those two: one started, one resumed from its log.
    let o = sweep(&out, &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["counts"]["ran"], 1);
    assert_eq!(v["counts"]["resumed"], 1);
    assert_eq!(v["counts"]["skipped"], 10);
    assert_same_tables(&single, &out);

    // Another sweep into the same folder is refused.
    let o = simulacra(&[
        "sweep",
        "--quiet",
        "--seeds",
        "1..2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("holds another sweep"), "{}", stderr(&o));
}

#[test]
fn dry_run_lists_every_run_with_its_shard_and_runs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dry");
    let o = sweep(&out, &["--dry-run", "--shard", "1/5", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 12);
    for (k, r) in runs.iter().enumerate() {
        assert_eq!(r["shard"], (k % 5) as u64);
        assert_eq!(r["mine"], k % 5 == 1);
        assert_eq!(r["state"], "new");
    }
    assert_eq!(runs[6]["dir"], "planner.policy=hill-climb/seed-1");
    assert!(!out.exists());
}

#[test]
fn shard_indices_come_from_slurm_and_kubernetes_and_a_bad_variable_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("env");
    let run = |shard: &str, env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_simulacra"));
        c.args(["sweep", "--dry-run", "--json", "--shard", shard, "--out"])
            .arg(&out)
            .args(GRID);
        for k in [
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_COUNT",
            "SLURM_ARRAY_TASK_MIN",
            "SLURM_ARRAY_TASK_MAX",
            "SLURM_ARRAY_TASK_STEP",
            "JOB_COMPLETION_INDEX",
        ] {
            c.env_remove(k);
        }
        c.envs(env.iter().copied());
        c.output().unwrap()
    };
    let mine = |o: &std::process::Output| -> Vec<u64> {
        assert!(o.status.success(), "{}", stderr(o));
        let v: Value = serde_json::from_str(&stdout(o)).unwrap();
        v["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["mine"] == true)
            .map(|r| r["run"].as_u64().unwrap())
            .collect()
    };
    let o = run(
        "slurm",
        &[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "4"),
        ],
    );
    assert_eq!(mine(&o), vec![2, 6, 10]);
    let o = run("k8s/5", &[("JOB_COMPLETION_INDEX", "4")]);
    assert_eq!(mine(&o), vec![4, 9]);
    let o = run("slurm", &[("SLURM_ARRAY_TASK_ID", "0")]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("SLURM_ARRAY_TASK_COUNT"),
        "{}",
        stderr(&o)
    );
    let o = run("k8s/5", &[]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("JOB_COMPLETION_INDEX"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn absurd_seed_ranges_are_refused_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("huge");
    let o = simulacra(&[
        "sweep",
        "--seeds",
        "1..1000000000000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("1000000000000 seeds") && e.contains("at most"),
        "{e}"
    );
    // A grid can make a sweep too large as well.
    let o = simulacra(&[
        "sweep",
        "--seeds",
        "1..2000",
        "--grid",
        "a=[1,2,3,4,5,6,7,8,9,10]",
        "--grid",
        "b=[1,2,3,4,5,6,7,8,9,10]",
        "--grid",
        "c=[1,2,3,4,5,6,7,8,9,10]",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("2000 seeds x 10 x 10 x 10"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn a_shard_killed_mid_run_leaves_a_lock_nobody_holds_and_a_run_that_resumes_to_the_same_log() {
    let bin = env!("CARGO_BIN_EXE_simulacra");
    let sets = [
        "--seeds",
        "3",
        "--set",
        "simulation.num_agents=300",
        "--set",
        "simulation.timesteps=1500",
        "--set",
        "simulation.tax_year_length=10",
        "--set",
        "workers.policy=bounded",
        "--set",
        "baselines.enabled=false",
        "--quiet",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let reference = tmp.path().join("reference");
    let o = Command::new(bin)
        .args(["sweep", "--out"])
        .arg(&reference)
        .args(sets)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = std::fs::read(reference.join("base/seed-3/run.log")).unwrap();

    let out = tmp.path().join("killed");
    let run_dir = out.join("base/seed-3");
    let shard = |json: bool| {
        let mut c = Command::new(bin);
        c.args(["sweep", "--shard", "0/1", "--out"])
            .arg(&out)
            .args(sets)
            .stderr(Stdio::null());
        if json {
            c.arg("--json");
        }
        c
    };
    let mut first = shard(false).stdout(Stdio::null()).spawn().unwrap();
    // Wait until it holds the lock and has written a good part of the log.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let len = std::fs::metadata(run_dir.join("run.log")).map_or(0, |m| m.len());
        if len as usize > expected.len() / 4 {
            break;
        }
        assert!(
            first.try_wait().unwrap().is_none(),
            "the run ended too soon"
        );
        assert!(Instant::now() < deadline, "the run did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A second process on the same sweep leaves the run to the first.
    let o = shard(true).output().unwrap();
    assert!(o.status.success());
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["counts"]["busy"], 1, "{v}");
    let busy = v["busy"][0].as_str().unwrap();
    assert!(busy.contains(&format!(" {} ", first.id())), "{busy}");

    first.kill().unwrap(); // SIGKILL: no chance to release anything itself
    first.wait().unwrap();
    assert!(
        !run_dir.join("summary.json").exists(),
        "killed after the run ended"
    );
    let kept = std::fs::metadata(run_dir.join("run.log")).unwrap().len();

    // The kernel released the lock with the process: the next shard resumes the run.
    let o = shard(true).output().unwrap();
    assert!(o.status.success());
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["counts"]["resumed"], 1, "{v}");
    let t: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("timing.json")).unwrap())
            .unwrap();
    assert_eq!(t["how"], "resumed");
    assert!(kept > 0);
    assert!(
        std::fs::read(run_dir.join("run.log")).unwrap() == expected,
        "the resumed log differs from the uninterrupted run's"
    );
    // Once complete, the run is skipped.
    let o = shard(true).output().unwrap();
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["counts"]["skipped"], 1, "{v}");
}
