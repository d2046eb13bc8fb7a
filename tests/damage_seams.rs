//! The seams where a run's files can understate their damage: a log cut at a step's end read
//! as if it were the whole run, a refused fork that leaves a folder, a sweep plan edited by
//! hand, temporary files a killed export left, a full disk, and a served run that a page of
//! another site could read.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use common::{simulacra, stderr, stdout};
use simulacra::frames::Frame;
use simulacra_actors::LogReader;

const AGENTS: u64 = 20;
const STEPS: u64 = 60;

fn small_run(dir: &Path) {
    let o = simulacra(&[
        "run",
        "--set",
        &format!("simulation.num_agents={AGENTS}"),
        "--set",
        &format!("simulation.timesteps={STEPS}"),
        "--set",
        "simulation.tax_year_length=10",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "run failed: {}", stderr(&o));
}

/// Where each step's frames begin (its `StepBegin`).
fn step_starts(log: &Path) -> Vec<u64> {
    let mut reader = LogReader::open(log).unwrap();
    let mut starts = Vec::new();
    while let Some(raw) = reader.next_raw() {
        let raw = raw.unwrap();
        if let Frame::StepBegin { .. } = raw.decode::<Frame>().unwrap() {
            starts.push(raw.offset);
        }
    }
    starts
}

fn cut_log(dir: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("run.log"))
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// Every reader of a whole run, with `extra` arguments.
fn readers<'a>(d: &'a str, extra: &[&'a str]) -> Vec<Vec<&'a str>> {
    let mut all = vec![
        vec!["inspect", d],
        vec!["inspect", d, "--json"],
        vec!["inspect", d, "--round", "1"],
        vec!["inspect", d, "--agent", "2"],
        vec!["export", d, "--agents", "csv"],
        vec!["export", d, "--agents", "parquet"],
        vec!["export", d, "--events", "jsonl"],
        vec!["report", d],
        vec!["view", d],
    ];
    for args in &mut all {
        args.extend_from_slice(extra);
    }
    all
}

/// Rust's debug text in a message meant for people.
fn debug_text(text: &str) -> Option<&'static str> {
    [
        "Error(",
        "Os {",
        "Os{",
        "kind: ",
        "Some(",
        "IoError",
        "panicked",
        "External:",
    ]
    .into_iter()
    .find(|p| text.contains(p))
}

#[test]
fn a_log_cut_at_a_step_boundary_is_refused_by_every_reader_unless_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let d = dir.to_str().unwrap();
    let whole = std::fs::read(dir.join("run.log")).unwrap();
    let starts = step_starts(&dir.join("run.log"));
    // 21 whole steps of 60, cut exactly at the start of step 21: no torn frame at all.
    cut_log(&dir, starts[21]);
    for args in readers(d, &[]) {
        let o = simulacra(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        assert!(
            e.contains("holds 21 whole steps") && e.contains("60 steps"),
            "{args:?}: {e}"
        );
        assert!(
            e.contains("--partial") && e.contains(&format!("simulacra resume {d}")),
            "{args:?}: {e}"
        );
        assert!(stdout(&o).is_empty(), "{args:?}: {}", stdout(&o));
    }
    for made in [
        "agents.csv",
        "agents.parquet",
        "events.jsonl",
        "report",
        "view",
    ] {
        assert!(!dir.join(made).exists(), "{made}");
    }

    // --partial reads the 21 steps, and says what is missing.
    for args in readers(d, &["--partial"]) {
        let o = simulacra(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("warning: "), "{args:?}: {}", stderr(&o));
    }
    let o = simulacra(&["inspect", d, "--json", "--partial"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["rounds"].as_array().unwrap().len(), 3);
    assert!(
        v["damaged"]
            .as_str()
            .unwrap()
            .contains("holds 21 whole steps"),
        "{v}"
    );
    let o = simulacra(&["export", d, "--agents", "csv", "--partial"]);
    assert!(stdout(&o).starts_with(&format!("{} rows", AGENTS * 21)));

    // Without its summary the log is measured against simulation.timesteps.
    std::fs::rename(dir.join("summary.json"), tmp.path().join("summary.json")).unwrap();
    let o = simulacra(&["inspect", d]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("holds 21 of the run's 60 steps"),
        "{}",
        stderr(&o)
    );

    // The message's way out works: resume recomputes the lost steps, byte for byte.
    std::fs::rename(tmp.path().join("summary.json"), dir.join("summary.json")).unwrap();
    let o = simulacra(&["resume", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(dir.join("run.log")).unwrap(), whole);
    let o = simulacra(&["inspect", d]);
    assert!(
        o.status.success() && stderr(&o).is_empty(),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_header_only_log_holds_no_step_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let d = dir.to_str().unwrap();
    std::fs::remove_file(dir.join("summary.json")).unwrap();
    // What a failed start leaves: the header and no step.
    cut_log(&dir, step_starts(&dir.join("run.log"))[0]);
    for args in readers(d, &[])
        .into_iter()
        .chain(readers(d, &["--partial"]))
    {
        let o = simulacra(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        assert!(e.contains("holds no step"), "{args:?}: {e}");
        assert!(
            e.contains(&format!("simulacra resume {d}")),
            "{args:?}: {e}"
        );
    }
    // And resume does start it.
    let o = simulacra(&["resume", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(simulacra(&["inspect", d]).status.success());
}

#[test]
fn a_refused_fork_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let d = dir.to_str().unwrap();
    let out = tmp.path().join("f");
    let o_ = out.to_str().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for args in [
        vec!["fork", d, "--at", "0", "--out", o_],
        vec!["fork", d, "--at", "999", "--out", o_],
        vec![
            "fork",
            d,
            "--at",
            "5",
            "--set",
            "simulation.seed=7",
            "--out",
            o_,
        ],
        vec!["fork", d, "--at", "5", "--out", empty.to_str().unwrap()],
    ] {
        let last = args.last().copied().unwrap();
        // The last case is a good fork into an empty folder: it runs; the others are refused.
        let o = simulacra(&args);
        if last == o_ {
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            assert!(!out.exists(), "{args:?} left {}", out.display());
            // The same command can be run again: nothing says "already holds a run".
            let again = simulacra(&args);
            assert!(!stderr(&again).contains("already holds"), "{args:?}");
        } else {
            assert!(o.status.success(), "{}", stderr(&o));
        }
    }
    // A folder given as --out to a refused fork is left as it was.
    let kept = tmp.path().join("kept");
    std::fs::create_dir(&kept).unwrap();
    let o = simulacra(&["fork", d, "--at", "0", "--out", kept.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_dir(&kept).unwrap().count(), 0);
}

#[test]
fn merge_checks_the_plan_against_configurations_times_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let o = simulacra(&[
        "sweep",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--seeds",
        "1..3",
        "--grid",
        "planner.policy=[saez,hill-climb]",
        "--set",
        "simulation.num_agents=8",
        "--set",
        "simulation.timesteps=4",
        "--set",
        "simulation.tax_year_length=2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan_path = out.join("plan.json");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    let o = simulacra(&["sweep", "merge", out.to_str().unwrap()]);
    assert!(stdout(&o).contains("merged 6 runs"), "{}", stdout(&o));

    let without = |drop: &dyn Fn(&serde_json::Value) -> bool| {
        let mut p = plan.clone();
        p["runs"].as_array_mut().unwrap().retain(|r| !drop(r));
        std::fs::write(&plan_path, serde_json::to_string_pretty(&p).unwrap()).unwrap();
        simulacra(&["sweep", "merge", out.to_str().unwrap()])
    };
    // Two entries of different seeds removed: the grid has holes.
    let o = without(&|r| {
        (r["seed"] == 2 && r["configuration"] == "planner.policy=saez")
            || (r["seed"] == 3 && r["configuration"] == "planner.policy=hill-climb")
    });
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let e = stderr(&o);
    assert!(e.contains("lists 4 runs") && e.contains("make 6"), "{e}");
    assert!(e.contains("with seed 2: not in the plan"), "{e}");
    // Both entries of seed 3 removed: a whole grid again, but the folders hold those runs.
    let o = without(&|r| r["seed"] == 3);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("seed-3: holds a run the plan does not list"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_export_removes_the_temporary_files_a_killed_export_left() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let d = dir.to_str().unwrap();
    // What an export killed mid-way leaves (the atomic writer's temporary names).
    let stale = [
        dir.join(".agents.parquet.Ab12Cd.tmp.parquet"),
        dir.join(".agents.csv.x9Y8z7.tmp.csv"),
        dir.join(".events.jsonl.qwerty.tmp.jsonl"),
    ];
    for f in &stale {
        std::fs::write(f, vec![0u8; 4096]).unwrap();
    }
    // One that a live writer holds (locked) is not touched; nor is a user's look-alike.
    let live = dir.join(".agents.parquet.LiVe01.tmp.parquet");
    let held = std::fs::File::create(&live).unwrap();
    held.lock().unwrap();
    let users = dir.join(".agents.parquet.notes");
    std::fs::write(&users, "mine").unwrap();
    for args in [
        vec!["export", d, "--agents", "parquet"],
        vec!["export", d, "--agents", "csv", "--events", "jsonl"],
    ] {
        let o = simulacra(&args);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for f in &stale {
        assert!(!f.exists(), "{} is still there", f.display());
    }
    assert!(live.exists() && users.exists());
}

/// `simulacra ARGS` with its files limited to `blocks` of 512 bytes, as a full disk stops
/// them (the write fails with EFBIG instead of killing the process).
fn with_file_limit(blocks: u64, args: &[&str]) -> Output {
    let mut script = format!(
        "trap '' XFSZ; ulimit -f {blocks}; exec '{}'",
        env!("CARGO_BIN_EXE_simulacra")
    );
    for a in args {
        script += &format!(" '{a}'");
    }
    Command::new("sh").args(["-c", &script]).output().unwrap()
}

#[test]
fn a_full_disk_names_the_file_and_the_next_step_and_leaves_no_half_output() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let d = dir.to_str().unwrap();
    let o = simulacra(&["report", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(dir.join("report/report.html")).unwrap();
    // A limit every SVG fits under and no PNG does, then one nothing fits under.
    for blocks in [60, 1] {
        let o = with_file_limit(blocks, &["report", d]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{blocks}: {e}");
        assert!(
            e.contains("cannot write ") && e.contains("run the command again"),
            "{e}"
        );
        assert_eq!(debug_text(&e), None, "{blocks}: {e}");
        // The earlier report is whole and no temporary folder is left.
        assert_eq!(
            std::fs::read(dir.join("report/report.html")).unwrap(),
            before
        );
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
    for format in ["csv", "parquet"] {
        let o = with_file_limit(4, &["export", d, "--agents", format]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{format}: {e}");
        assert!(
            e.contains(&format!("cannot write {d}/agents.{format}")),
            "{format}: {e}"
        );
        assert!(e.contains("run the command again"), "{format}: {e}");
        assert_eq!(debug_text(&e), None, "{format}: {e}");
        assert!(!dir.join(format!("agents.{format}")).exists());
    }
}

#[test]
fn user_facing_errors_carry_no_rust_debug_text() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let d = dir.to_str().unwrap();
    let missing = tmp.path().join("missing");
    let m = missing.to_str().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, "not a folder").unwrap();
    let f = file.to_str().unwrap();
    let mut cases: Vec<Vec<&str>> = vec![
        vec!["inspect", m],
        vec!["report", m],
        vec!["export", m, "--agents", "csv"],
        vec!["view", m],
        vec!["resume", m],
        vec!["fork", m, "--at", "1", "--out", f],
        vec!["fork", d, "--at", "1", "--out", f],
        vec!["export", d, "--agents", "csv", "--out", f],
        vec!["view", d, "--out", f],
        vec!["inspect", d, "--round", "99"],
        vec!["inspect", d, "--agent", "999"],
        vec!["sweep", "merge", m],
    ];
    let log = dir.join("run.log").to_str().unwrap().to_string();
    cases.push(vec!["inspect", &log]);
    for args in cases {
        let o = simulacra(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert_eq!(debug_text(&e), None, "{args:?}: {e}");
    }
}

/// `simulacra view DIR --serve --port 0`, killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(addr: &str, host: Option<&str>, path: &str) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    let host = host.map_or(String::new(), |h| format!("Host: {h}\r\n"));
    write!(s, "GET {path} HTTP/1.1\r\n{host}Connection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp[9..12].parse().unwrap()
}

#[test]
fn the_server_answers_only_requests_addressed_to_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    small_run(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_simulacra"))
        .args(["view", dir.to_str().unwrap(), "--serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_prefix("serving http://")
        .and_then(|l| l.split('/').next())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    let server = Server { child, addr };
    let port = server.addr.split(':').nth(1).unwrap();
    let localhost = format!("localhost:{port}");
    for path in ["/", "/api/a/overview"] {
        assert_eq!(get(&server.addr, Some(&server.addr), path), 200, "{path}");
        assert_eq!(get(&server.addr, Some(&localhost), path), 200, "{path}");
        // A rebinding page sends its own name; a request with no name is refused too.
        for host in [
            Some(format!("attacker.example:{port}")),
            Some("127.0.0.1".to_string()),
            None,
        ] {
            assert_eq!(
                get(&server.addr, host.as_deref(), path),
                421,
                "{path} {host:?}"
            );
        }
    }
}
