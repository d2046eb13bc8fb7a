//! Run folders at the edges, through the binary: one writer at a time (a second is refused,
//! naming the holder), Ctrl-C stops a run resumably with exit 130, a folder holding a run is
//! not replaced unless `--force` (which keeps the user's files), sweeps of another plan are
//! refused or replaced the same way, `resume` takes endpoint keys from the environment, and an
//! OS error names its path once.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{simulacra, stderr, stdout};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_simulacra"));
    c.env_remove("RUST_LOG");
    c
}

/// `simulacra ARGS` with `extra` environment variables.
fn simulacra_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = bin();
    c.args(args).envs(env.iter().copied());
    c.output().unwrap()
}

const SMALL: [&str; 6] = [
    "--set",
    "simulation.num_agents=20",
    "--set",
    "simulation.timesteps=10",
    "--set",
    "simulation.tax_year_length=5",
];

fn small_run(out: &Path, extra: &[&str]) -> Output {
    let d = out.to_str().unwrap();
    let mut args = vec!["run", "--quiet", "--out", d];
    args.extend(SMALL);
    args.extend(extra);
    simulacra(&args)
}

#[test]
fn a_second_writer_is_refused_naming_the_holder_and_ctrl_c_stops_the_run_resumably() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let d = dir.to_str().unwrap();
    let long = [
        "--set",
        "simulation.num_agents=1000",
        "--set",
        "simulation.timesteps=400",
        "--set",
        "workers.policy=bounded",
        "--set",
        "baselines.enabled=false",
        "--quiet",
    ];
    let first = bin()
        .args(["run", "--out", d])
        .args(long)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first run holds the lock and has logged a step or more.
    let lock = dir.join("writer.lock");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(std::fs::read_to_string(&lock).is_ok_and(|l| !l.is_empty())
        && std::fs::metadata(dir.join("run.log")).is_ok_and(|m| m.len() > 20_000))
    {
        assert!(Instant::now() < deadline, "the first run never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = first.id().to_string();

    // Every other writer is refused, naming the folder and the holder; nothing is touched.
    let mut second = vec!["run", "--quiet", "--out", d];
    second.extend(SMALL);
    for args in [
        second,
        vec!["resume", d],
        vec!["report", d],
        vec!["export", d, "--agents", "csv"],
        vec!["view", d],
    ] {
        let o = simulacra(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(
            e.contains(d) && e.contains(&format!("pid {pid} ")) && e.contains("`simulacra run`"),
            "{args:?}: {e}"
        );
    }
    assert!(!dir.join("report").exists() && !dir.join("agents.csv").exists());
    // A reader takes no lock.
    let o = simulacra(&["inspect", d]);
    assert!(!stderr(&o).contains("being written"), "{}", stderr(&o));

    // Ctrl-C: the step ends cleanly, the command says how to go on and exits 130.
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let o = first.wait_with_output().unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{e}");
    let step: u64 = e
        .split("interrupted at step ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|k| k.parse().ok())
        .unwrap_or_else(|| panic!("no step in: {e}"));
    assert!(step > 0 && step < 400, "{e}");
    assert!(
        e.contains(&format!("continue with `simulacra resume {d}`")),
        "{e}"
    );
    assert!(
        !dir.join("summary.json").exists() && !dir.join("steps.csv").exists(),
        "an interrupted run is no result"
    );
    // The log holds exactly the whole steps it says; the lock went with the process.
    let o = simulacra(&["resume", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!("{step} whole steps were kept (0 bytes")),
        "{out}"
    );
    assert!(out.contains("now 400 steps"), "{out}");
    let o = simulacra(&["replay", "--verify", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("identical"), "{}", stdout(&o));
}

#[test]
fn a_folder_holding_a_run_is_refused_and_force_removes_only_what_simulacra_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let d = dir.to_str().unwrap();
    assert!(small_run(&dir, &[]).status.success());
    assert!(simulacra(&["report", d]).status.success());
    assert!(
        simulacra(&["export", d, "--agents", "csv"])
            .status
            .success()
    );
    std::fs::write(dir.join("elections.csv"), "stale\n").unwrap();
    std::fs::write(dir.join("notes.md"), "mine\n").unwrap();
    std::fs::create_dir_all(dir.join("snapshots")).unwrap();
    std::fs::write(dir.join("snapshots/keep.txt"), "mine\n").unwrap();
    std::fs::write(dir.join("snapshots/step-00000005.snap"), "stale").unwrap();
    let log = std::fs::read(dir.join("run.log")).unwrap();

    let o = small_run(&dir, &["--set", "simulation.seed=7"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains(d) && e.contains("--force"), "{e}");
    assert_eq!(std::fs::read(dir.join("run.log")).unwrap(), log);
    assert!(dir.join("report/report.html").exists());

    let o = small_run(&dir, &["--set", "simulation.seed=7", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for gone in [
        "report",
        "agents.csv",
        "elections.csv",
        "snapshots/step-00000005.snap",
    ] {
        assert!(!dir.join(gone).exists(), "{gone} is stale and still there");
    }
    for kept in ["notes.md", "snapshots/keep.txt"] {
        assert!(dir.join(kept).exists(), "{kept} was the user's and is gone");
    }
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(summary.contains("\"seed\": 7"), "{summary}");

    // A fork's --out is refused and forced the same way.
    let child = tmp.path().join("f");
    let c = child.to_str().unwrap();
    let fork = |force: bool| {
        let mut args = vec!["fork", d, "--at", "5", "--out", c];
        args.extend(["--set", "planner.policy=saez"]);
        if force {
            args.push("--force");
        }
        simulacra(&args)
    };
    assert!(fork(false).status.success());
    std::fs::write(child.join("notes.md"), "mine\n").unwrap();
    let o = fork(false);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(c) && stderr(&o).contains("--force"),
        "{}",
        stderr(&o)
    );
    assert!(fork(true).status.success());
    assert!(child.join("notes.md").exists() && child.join("run.log").exists());

    // The default folders still count up.
    for _ in 0..2 {
        let o = bin()
            .current_dir(tmp.path())
            .args(["run", "--quiet"])
            .args(SMALL)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert!(tmp.path().join("runs/default-s42-1/run.log").exists());
    assert!(tmp.path().join("runs/default-s42-2/run.log").exists());
}

#[test]
fn a_sweep_of_another_plan_is_refused_and_force_replaces_it_keeping_the_users_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sweep");
    let o = out.to_str().unwrap();
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep", "--seeds", "1,2", "--jobs", "1", "--quiet", "--out", o,
        ];
        args.extend(SMALL);
        args.extend(["--set", "baselines.enabled=false"]);
        args.extend(extra);
        simulacra(&args)
    };
    assert!(sweep(&[]).status.success());
    std::fs::write(out.join("base/seed-1/notes.md"), "mine\n").unwrap();

    let other = ["--grid", "planner.policy=[saez,us-federal]"];
    let r = sweep(&other);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr(&r).contains(o) && stderr(&r).contains("--force"),
        "{}",
        stderr(&r)
    );
    assert!(
        out.join("base/seed-2/run.log").exists(),
        "a refusal removes nothing"
    );

    let mut forced = other.to_vec();
    forced.push("--force");
    let r = sweep(&forced);
    assert!(r.status.success(), "{}", stderr(&r));
    for stale in [
        "base/seed-1/run.log",
        "base/seed-2/run.log",
        "base/seed-2/summary.json",
    ] {
        assert!(
            !out.join(stale).exists(),
            "{stale} is stale and still there"
        );
    }
    assert!(out.join("base/seed-1/notes.md").exists());
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 5, "{runs}");
    assert!(!runs.contains("\nbase,"), "{runs}");
}

#[test]
fn resume_takes_the_endpoint_keys_from_the_environment_and_ignores_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let d = dir.to_str().unwrap();
    assert!(small_run(&dir, &[]).status.success());
    // An endpoint key from the environment is read (and checked) as `run` reads it.
    let o = simulacra_env(&["resume", d], &[("SIMULACRA__LLM__CONCURRENCY", "0")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("llm.concurrency"), "{}", stderr(&o));
    // Any other key is the log's: ignored, with a warning that says so.
    let o = simulacra_env(&["resume", d], &[("SIMULACRA__SIMULATION__SEED", "7")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("SIMULACRA__SIMULATION__SEED is ignored"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("seed 42"), "{}", stdout(&o));
}

#[test]
fn an_os_error_names_its_path_once() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nothing-here");
    let m = missing.to_str().unwrap();
    for args in [
        vec!["resume", m],
        vec!["inspect", m],
        vec!["replay", "--verify", m],
        vec!["report", m],
        vec!["export", m, "--events", "jsonl"],
    ] {
        let o = simulacra(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert_eq!(e.matches("run.log").count(), 1, "{args:?}: {e}");
    }
}

#[test]
fn long_labels_keep_the_run_and_inspect_tables_in_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let d = dir.to_str().unwrap();
    let name = format!("name={}", "n".repeat(60));
    let o = small_run(&dir, &["--set", &name, "--set", "governance.mode=election"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The summary table: "elected (plurality)" is longer than the usual schedule column.
    let out = stdout(&o);
    let table: Vec<usize> = out
        .lines()
        .skip(1)
        .take(4)
        .map(|l| l.chars().count())
        .collect();
    assert!(table.windows(2).all(|w| w[0] == w[1]), "{out}");
    // The game table: "won K: +10,+0,-10" moves are longer than the usual move column.
    let o = simulacra(&["inspect", d]);
    let out = stdout(&o);
    assert!(out.contains("won "), "{out}");
    let widths: Vec<usize> = out.lines().map(|l| l.chars().count()).collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "{out}");
}

/// The project's Python mock server (`../shared/bench/mock_llm.py`) on a free port, with
/// `args`; `None` where it or python3 is not available.
struct PyMock(std::process::Child, String);

impl PyMock {
    fn start(dir: &Path, args: &[&str]) -> Option<PyMock> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/mock_llm.py");
        if !script.exists() {
            eprintln!("skipped: {} is not available", script.display());
            return None;
        }
        let port_file = dir.join("port");
        let child = Command::new("python3")
            .arg(&script)
            .args(["--port", "0", "--port-file"])
            .arg(&port_file)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(&port_file).is_ok_and(|p| !p.trim().is_empty()) {
            assert!(Instant::now() < deadline, "the mock server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        let port = std::fs::read_to_string(&port_file).unwrap();
        Some(PyMock(
            child,
            format!("http://127.0.0.1:{}/v1", port.trim()),
        ))
    }
}

impl Drop for PyMock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_log_cut_inside_a_retried_request_resumes_from_its_snapshot() {
    use simulacra::frames::{ExchangeOutcome, Frame};
    let tmp = tempfile::tempdir().unwrap();
    let Some(mock) = PyMock::start(tmp.path(), &["--http-error-rate", "0.3"]) else {
        return;
    };
    let url = format!("llm.base_url=\"{}\"", mock.1);
    let s = common::scenario(&[
        "simulation.num_agents=5",
        "simulation.timesteps=30",
        "simulation.tax_year_length=10",
        "log.snapshot_every_years=1",
        "workers.policy=llm",
        "llm.backoff_ms=1",
        "llm.max_retries=3",
        "llm.max_fallback_share=1",
        "baselines.enabled=false",
        &url,
    ]);
    let full = tmp.path().join("full");
    simulacra::run::run_scenario(&s, &full, None).unwrap();
    // A kill between two attempts of one request after the first snapshot: the log holds the
    // failed first attempt, not the retry that followed it.
    let bytes = std::fs::read(full.join("run.log")).unwrap();
    let mut reader = simulacra_actors::LogReader::open(&full.join("run.log")).unwrap();
    let mut frames = Vec::new();
    while let Some(Ok(raw)) = reader.next_raw() {
        let end = raw.offset as usize + 8 + raw.payload.len();
        frames.push((end, raw.decode::<Frame>().unwrap()));
    }
    let cut = frames
        .windows(2)
        .find_map(|w| match (&w[0].1, &w[1].1) {
            (Frame::Llm(a), Frame::Llm(b))
                if a.step > 10
                    && matches!(a.outcome, ExchangeOutcome::Failed { .. })
                    && (b.agent, b.step, b.attempt) == (a.agent, a.step, a.attempt + 1) =>
            {
                Some(w[0].0)
            }
            _ => None,
        })
        .expect("a retried request after step 10");
    let dir = tmp.path().join("cut");
    std::fs::create_dir_all(dir.join("snapshots")).unwrap();
    std::fs::write(dir.join("run.log"), &bytes[..cut]).unwrap();
    for e in std::fs::read_dir(full.join("snapshots")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join("snapshots").join(p.file_name().unwrap())).unwrap();
    }
    let r = simulacra::run::resume_run(&dir).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(r.from_snapshot.is_some());
    assert_eq!(r.summary.steps_run, 30);
    let d = dir.to_str().unwrap();
    let o = simulacra(&["replay", "--verify", d]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}
