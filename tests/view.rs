//! `simulacra view`: the page written for file:// and the served API, checked against what
//! `simulacra inspect` prints for the same run; compare mode on a fork; bad input.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{simulacra, stderr, stdout};
use serde_json::Value;

fn run(dir: &Path, scenario: Option<&str>, sets: &[&str]) {
    let d = dir.to_str().unwrap();
    let mut args = vec!["run"];
    if let Some(s) = scenario {
        args.push(s);
    }
    for s in sets {
        args.extend(["--set", s]);
    }
    args.extend(["--quiet", "--out", d]);
    let o = simulacra(&args);
    assert!(o.status.success(), "run failed: {}", stderr(&o));
}

/// A data file of the static page, as JSON.
fn data(view: &Path, key: &str) -> Value {
    let text = std::fs::read_to_string(view.join("data").join(format!("{key}.js"))).unwrap();
    let prefix = format!("simulacraData({key:?}, ");
    let body = text
        .strip_prefix(&prefix)
        .and_then(|t| t.strip_suffix(");\n"))
        .unwrap_or_else(|| panic!("{key}.js is not a simulacraData call: {}", &text[..80]));
    serde_json::from_str(body).unwrap()
}

/// (rates, mean welfare) as `inspect --round k` prints them.
fn inspect_round(dir: &Path, k: u64) -> (String, String) {
    let o = simulacra(&["inspect", dir.to_str().unwrap(), "--round", &k.to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let after = |marker: &str, end: char| -> String {
        let i = text
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker:?} in {text}"))
            + marker.len();
        text[i..].split(end).next().unwrap().to_string()
    };
    (after("rates ", '%'), after("mean welfare ", ','))
}

fn inspect_json(dir: &Path, k: u64) -> Value {
    let o = simulacra(&[
        "inspect",
        dir.to_str().unwrap(),
        "--round",
        &k.to_string(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

#[test]
fn the_static_page_shows_what_inspect_prints() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    run(
        &dir,
        None,
        &[
            "simulation.num_agents=30",
            "simulation.timesteps=60",
            "simulation.tax_year_length=10",
        ],
    );
    let o = simulacra(&["view", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let view = dir.join("view");
    let html = std::fs::read_to_string(view.join("index.html")).unwrap();
    // Self-contained: no external script, style or font.
    for external in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(!html.contains(external), "the page loads {external}...");
    }
    assert!(html.contains("id=\"round-rates\"") && html.contains("id=\"round-welfare\""));

    let overview = data(&view, "a/overview");
    let rounds = overview["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 6);
    assert_eq!(overview["steps"]["step"].as_array().unwrap().len(), 60);
    assert_eq!(overview["baselines"].as_array().unwrap().len(), 2);
    for k in [0u64, 3, 5] {
        let (rates, welfare) = inspect_round(&dir, k);
        assert_eq!(
            rounds[k as usize]["rates_text"],
            rates.as_str(),
            "round {k}"
        );
        assert_eq!(
            rounds[k as usize]["welfare_text"],
            welfare.as_str(),
            "round {k}"
        );
        let round = data(&view, &format!("a/round/{k}"));
        assert_eq!(round["round"]["rates_text"], rates.as_str());
        assert_eq!(round["round"]["welfare_text"], welfare.as_str());
        // The round's schedule and move, and every worker with the incomes and taxes inspect
        // recomputes: each field inspect --round K --json has, with the same JSON value.
        let want = inspect_json(&dir, k);
        for key in [
            "tax_year",
            "first_step",
            "worker_step",
            "rates",
            "cutoffs",
            "planner_move",
        ] {
            assert_eq!(round["round"][key], want[key], "round {k}, {key}");
        }
        let workers = round["workers"].as_array().unwrap();
        let want_workers = want["workers"].as_array().unwrap();
        assert_eq!(workers.len(), 30);
        assert_eq!(want_workers.len(), 30);
        for (w, i) in workers.iter().zip(want_workers) {
            for (key, value) in i.as_object().unwrap() {
                assert_eq!(&w[key], value, "round {k}, worker {}, {key}", i["id"]);
            }
        }
        let hist: f64 = round["round"]["hours_hist"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b[2].as_f64().unwrap())
            .sum();
        assert_eq!(hist, 30.0, "every worker in one bin of the hours histogram");
    }
    // A worker's trajectory covers every step and agrees with inspect --agent.
    let t = data(&view, "a/worker/7");
    assert_eq!(t["step"].as_array().unwrap().len(), 60);
    let o = simulacra(&["inspect", dir.to_str().unwrap(), "--agent", "7", "--json"]);
    let agent: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(t["income"][59], agent["steps"][59]["income"]);
}

#[test]
fn an_election_is_tallied_as_the_rule_counted_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    run(
        &dir,
        Some("scenarios/democratic.toml"),
        &["simulation.num_agents=25", "simulation.timesteps=50"],
    );
    let view = tmp.path().join("page");
    let o = simulacra(&[
        "view",
        dir.to_str().unwrap(),
        "--out",
        view.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for k in [0u64, 1] {
        let want = inspect_json(&dir, k);
        let e = &data(&view, &format!("a/round/{k}"))["round"]["election"];
        assert_eq!(
            e["winner"], want["election"]["count"]["winner"],
            "round {k}"
        );
        assert_eq!(e["rule"], "plurality");
        let ballots = e["ballots"].as_u64().unwrap();
        assert_eq!(
            ballots as usize,
            want["election"]["ballots"].as_array().unwrap().len()
        );
        // Under plurality the rule's tally is the first choices, and they add up to the
        // ballots that ranked someone.
        let cands = e["candidates"].as_array().unwrap();
        let firsts: f64 = cands
            .iter()
            .map(|c| c["first_choices"].as_f64().unwrap())
            .sum();
        assert_eq!(firsts + e["exhausted"].as_f64().unwrap(), ballots as f64);
        for c in cands {
            assert_eq!(c["tally"], c["first_choices"], "candidate {}", c["id"]);
        }
    }
}

/// `simulacra view --serve --port 0`, killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_simulacra"))
            .arg("view")
            .args(args)
            .args(["--serve", "--port", "0"])
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
        Server { child, addr }
    }

    /// (status, body) of GET `path`.
    fn get(&self, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let status = resp[9..12].parse().unwrap();
        let body = resp.split_once("\r\n\r\n").unwrap().1.to_string();
        (status, body)
    }

    fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_server_pages_sorted_workers_and_names_bad_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    run(
        &dir,
        None,
        &[
            "simulation.num_agents=40",
            "simulation.timesteps=40",
            "simulation.tax_year_length=10",
        ],
    );
    let server = Server::start(&[dir.to_str().unwrap()]);
    assert!(server.addr.starts_with("127.0.0.1:"), "{}", server.addr);
    let (status, html) = server.get("/");
    assert_eq!(status, 200);
    assert!(html.contains("\"mode\":\"serve\""));
    let overview = server.json("/api/a/overview");
    assert_eq!(overview["rounds"].as_array().unwrap().len(), 4);
    let (rates, welfare) = inspect_round(&dir, 2);
    let round = server.json("/api/a/round/2");
    assert_eq!(round["round"]["rates_text"], rates.as_str());
    assert_eq!(round["round"]["welfare_text"], welfare.as_str());
    assert!(
        round["workers"].is_null(),
        "the served round ships no workers"
    );

    let page = server.json("/api/a/round/2/workers?sort=income&desc=true&offset=5&limit=10");
    assert_eq!(page["total"], 40);
    assert_eq!(page["offset"], 5);
    let incomes: Vec<f64> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["income"].as_f64().unwrap())
        .collect();
    assert_eq!(incomes.len(), 10);
    assert!(incomes.windows(2).all(|w| w[0] >= w[1]), "{incomes:?}");
    let all = server.json("/api/a/round/2/workers?sort=income&desc=true&limit=40");
    assert_eq!(all["rows"][5], page["rows"][0], "offset 5 is the sixth row");

    let t = server.json("/api/a/worker/3");
    assert_eq!(t["step"].as_array().unwrap().len(), 40);

    let (status, body) = server.get("/api/a/round/99");
    assert_eq!(status, 400);
    assert!(body.contains("round 99 is not in the log"), "{body}");
    let (status, body) = server.get("/api/a/round/0/workers?sort=wealth");
    assert_eq!(status, 400);
    assert!(body.contains("cannot sort workers by \"wealth\""), "{body}");
    let (status, body) = server.get("/api/a/worker/40");
    assert_eq!(status, 400);
    assert!(body.contains("worker 40 is not in this run"), "{body}");
    assert_eq!(server.get("/api/b/overview").0, 404, "no compared run");
}

#[test]
fn compare_shows_a_fork_beside_its_parent() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("parent");
    run(
        &parent,
        None,
        &[
            "simulation.num_agents=20",
            "simulation.timesteps=40",
            "simulation.tax_year_length=10",
        ],
    );
    let fork = tmp.path().join("fork");
    let o = simulacra(&[
        "fork",
        parent.to_str().unwrap(),
        "--at",
        "20",
        "--set",
        "planner.policy=saez",
        "--out",
        fork.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = simulacra(&[
        "view",
        fork.to_str().unwrap(),
        "--compare",
        parent.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let view = fork.join("view");
    let a = data(&view, "a/overview");
    let b = data(&view, "b/overview");
    assert_eq!(a["fork_at"], 20);
    assert!(b["fork_at"].is_null());
    // The same rounds before the fork, different ones after.
    assert_eq!(a["rounds"][1]["rates_text"], b["rounds"][1]["rates_text"]);
    assert_eq!(
        a["rounds"][1]["welfare_text"],
        b["rounds"][1]["welfare_text"]
    );
    assert_eq!(a["setter"], "saez");
    assert_eq!(b["setter"], "hill-climb");
    assert!(view.join("data/b/round/3.js").is_file());
}

#[test]
fn bad_input_gets_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let o = simulacra(&["view", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a run folder: it has no run.log"),
        "{}",
        stderr(&o)
    );
    let o = simulacra(&["view", tmp.path().to_str().unwrap(), "--port", "9"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--serve"), "{}", stderr(&o));
}
