//! `simulacra sweep`: one scenario over seeds and a grid of overrides, run in parallel, each
//! run in its own folder, aggregated as mean +- std per configuration.
//!
//! Layout of the output folder:
//!
//! ```text
//! OUT/<configuration>/seed-<s>/   run.log, steps.csv, summary.json (a normal run folder)
//! OUT/runs.csv                    one row per run
//! OUT/aggregate.csv               one row per configuration: mean and std over seeds
//! OUT/welfare.svg|png             welfare per configuration, mean +- std, with the baselines
//! OUT/seeds.svg|png               planner welfare minus Saez welfare, per seed
//! ```
//!
//! Each run is exactly `simulacra run` with the same overrides plus `simulation.seed=<s>`
//! (and `simulation.shards=1` when several runs share the cores, which cannot change a result):
//! a sweep's run has the same log bytes as the single run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::Serialize;

use crate::config::Scenario;
use crate::plot::{Chart, PALETTE, Series, Style, render};
use crate::run::{Summary, run_scenario};

/// Seeds from `1..10` (inclusive), `7` or `1,4,9`.
pub fn parse_seeds(text: &str) -> anyhow::Result<Vec<u64>> {
    let bad = || format!("--seeds {text:?}: expected a range like 1..10 (inclusive) or 1,4,9");
    let t = text.trim();
    if let Some((a, b)) = t.split_once("..") {
        let b = b.trim_start_matches('=');
        let (a, b): (u64, u64) = (
            a.trim().parse().with_context(bad)?,
            b.trim().parse().with_context(bad)?,
        );
        if b < a {
            bail!("{}: the range is empty", bad());
        }
        return Ok((a..=b).collect());
    }
    t.split(',')
        .map(|x| x.trim().parse::<u64>().with_context(bad))
        .collect()
}

/// Splits `a,[b,c],d` at top-level commas.
fn split_top_level(text: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0i32);
    for ch in text.chars() {
        match ch {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// `key=[v1,v2,...]` into the key and its values (each a `--set` value).
pub fn parse_grid(text: &str) -> anyhow::Result<(String, Vec<String>)> {
    let Some((key, values)) = text.split_once('=') else {
        bail!("--grid {text:?}: expected key=[v1,v2], e.g. planner.policy=[hill-climb,saez]");
    };
    let v = values.trim();
    let inner = v
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .with_context(|| format!("--grid {text:?}: the values must be in brackets: key=[v1,v2]"))?;
    let values = split_top_level(inner);
    if values.is_empty() {
        bail!("--grid {text:?}: no values");
    }
    Ok((key.trim().to_string(), values))
}

/// Every combination of the grid's values, in order (the first key varies slowest).
pub fn configurations(grid: &[(String, Vec<String>)]) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (key, values) in grid {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push((key.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    out
}

/// A configuration's label (`base` when the grid is empty) and a folder name from it.
pub fn label(config: &[(String, String)]) -> String {
    if config.is_empty() {
        return "base".into();
    }
    config
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn folder_name(config: &[(String, String)]) -> String {
    label(config)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '=' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One run's result.
#[derive(Clone, Debug, Serialize)]
pub struct RunRow {
    pub configuration: String,
    pub seed: u64,
    pub dir: PathBuf,
    pub swf: f64,
    pub gini: f64,
    pub mean_hours: f64,
    pub rates: Vec<f64>,
    pub us_federal_swf: Option<f64>,
    pub saez_swf: Option<f64>,
    pub seconds: f64,
}

/// Mean and sample standard deviation (n - 1; 0 for one value).
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let m = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (m, 0.0);
    }
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64;
    (m, v.sqrt())
}

/// One configuration over its seeds.
#[derive(Clone, Debug, Serialize)]
pub struct Aggregate {
    pub configuration: String,
    pub runs: usize,
    /// (mean, std) of each metric.
    pub swf: (f64, f64),
    pub gini: (f64, f64),
    pub mean_hours: (f64, f64),
    pub rates: Vec<(f64, f64)>,
    pub us_federal_swf: Option<(f64, f64)>,
    pub saez_swf: Option<(f64, f64)>,
    /// Paired per seed: (planner - Saez) / |Saez| in percent, and how many seeds the planner won.
    pub vs_saez_percent: Option<(f64, f64)>,
    pub wins_vs_saez: Option<usize>,
    /// Paired per seed: (planner - US) / |US| in percent.
    pub vs_us_federal_percent: Option<(f64, f64)>,
}

fn aggregate(configuration: &str, rows: &[&RunRow]) -> Aggregate {
    let col = |f: &dyn Fn(&RunRow) -> f64| -> (f64, f64) {
        mean_std(&rows.iter().map(|r| f(r)).collect::<Vec<_>>())
    };
    let opt = |f: &dyn Fn(&RunRow) -> Option<f64>| -> Option<(f64, f64)> {
        let v: Option<Vec<f64>> = rows.iter().map(|r| f(r)).collect();
        v.map(|v| mean_std(&v))
    };
    let k = rows.iter().map(|r| r.rates.len()).max().unwrap_or(0);
    Aggregate {
        configuration: configuration.to_string(),
        runs: rows.len(),
        swf: col(&|r| r.swf),
        gini: col(&|r| r.gini),
        mean_hours: col(&|r| r.mean_hours),
        rates: (0..k)
            .map(|j| col(&|r| r.rates.get(j).copied().unwrap_or(f64::NAN)))
            .collect(),
        us_federal_swf: opt(&|r| r.us_federal_swf),
        saez_swf: opt(&|r| r.saez_swf),
        vs_saez_percent: opt(&|r| r.saez_swf.map(|b| percent(r.swf, b))),
        wins_vs_saez: rows
            .iter()
            .map(|r| r.saez_swf.map(|b| usize::from(r.swf > b)))
            .sum(),
        vs_us_federal_percent: opt(&|r| r.us_federal_swf.map(|b| percent(r.swf, b))),
    }
}

fn percent(x: f64, base: f64) -> f64 {
    100.0 * (x - base) / base.abs().max(f64::MIN_POSITIVE)
}

/// What to sweep.
pub struct SweepSpec {
    pub scenario: Option<PathBuf>,
    pub sets: Vec<String>,
    pub grid: Vec<(String, Vec<String>)>,
    pub seeds: Vec<u64>,
    pub out: PathBuf,
    /// Runs at once (0 = the core count).
    pub jobs: usize,
}

/// The sweep's result.
pub struct SweepResult {
    pub rows: Vec<RunRow>,
    pub aggregates: Vec<Aggregate>,
    pub seconds: f64,
}

fn row_of(configuration: &str, dir: &Path, s: &Summary, seconds: f64) -> RunRow {
    RunRow {
        configuration: configuration.to_string(),
        seed: s.seed,
        dir: dir.to_path_buf(),
        swf: s.swf_final,
        gini: s.gini_final,
        mean_hours: s.mean_hours_final,
        rates: s.tax_rates_final.clone(),
        us_federal_swf: s.baselines.us_federal.as_ref().map(|b| b.swf),
        saez_swf: s.baselines.saez.as_ref().map(|b| b.swf),
        seconds,
    }
}

/// Runs the sweep; `progress` counts finished runs.
pub fn run_sweep(
    spec: &SweepSpec,
    progress: Option<&indicatif::ProgressBar>,
) -> anyhow::Result<SweepResult> {
    let configs = configurations(&spec.grid);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs_n = if spec.jobs == 0 { cores } else { spec.jobs };
    // Every job's scenario is resolved up front, so a bad key fails before any run starts.
    let mut jobs: Vec<(String, PathBuf, Scenario)> = Vec::new();
    for config in &configs {
        for &seed in &spec.seeds {
            let mut sets = spec.sets.clone();
            sets.extend(config.iter().map(|(k, v)| format!("{k}={v}")));
            sets.push(format!("simulation.seed={seed}"));
            if jobs_n > 1 {
                sets.push("simulation.shards=1".into());
            }
            let scenario = Scenario::load(spec.scenario.as_deref(), &sets)
                .with_context(|| format!("configuration {}", label(config)))?;
            let dir = spec
                .out
                .join(folder_name(config))
                .join(format!("seed-{seed}"));
            jobs.push((label(config), dir, scenario));
        }
    }
    std::fs::create_dir_all(&spec.out)
        .with_context(|| format!("cannot create {}", spec.out.display()))?;
    if let Some(p) = progress {
        p.set_length(jobs.len() as u64);
    }
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<anyhow::Result<RunRow>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs_n.min(jobs.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((configuration, dir, scenario)) = jobs.get(i) else {
                        break;
                    };
                    let t = Instant::now();
                    let r = run_scenario(scenario, dir, None)
                        .map(|s| row_of(configuration, dir, &s, t.elapsed().as_secs_f64()))
                        .with_context(|| format!("the run in {}", dir.display()));
                    results.lock().expect("no worker panics")[i] = Some(r);
                    if let Some(p) = progress {
                        p.inc(1);
                    }
                }
            });
        }
    });
    let mut rows = Vec::new();
    for r in results.into_inner().expect("no worker panics") {
        rows.push(r.expect("every job ran")?);
    }
    let aggregates: Vec<Aggregate> = configs
        .iter()
        .map(|c| {
            let l = label(c);
            let mine: Vec<&RunRow> = rows.iter().filter(|r| r.configuration == l).collect();
            aggregate(&l, &mine)
        })
        .collect();
    let result = SweepResult {
        rows,
        aggregates,
        seconds: started.elapsed().as_secs_f64(),
    };
    write_outputs(&spec.out, &result)?;
    Ok(result)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

fn write_outputs(out: &Path, r: &SweepResult) -> anyhow::Result<()> {
    let k = r.rows.iter().map(|x| x.rates.len()).max().unwrap_or(0);
    let mut f = std::io::BufWriter::new(std::fs::File::create(out.join("runs.csv"))?);
    let rate_cols: Vec<String> = (0..k).map(|j| format!("rate_{j}")).collect();
    writeln!(
        f,
        "configuration,seed,swf,gini,mean_hours,{},us_federal_swf,saez_swf,seconds,dir",
        rate_cols.join(",")
    )?;
    for x in &r.rows {
        let rates: Vec<String> = (0..k)
            .map(|j| x.rates.get(j).map_or(String::new(), |v| v.to_string()))
            .collect();
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{:.3},{}",
            csv_field(&x.configuration),
            x.seed,
            x.swf,
            x.gini,
            x.mean_hours,
            rates.join(","),
            opt(x.us_federal_swf),
            opt(x.saez_swf),
            x.seconds,
            csv_field(&x.dir.display().to_string())
        )?;
    }
    f.flush()?;

    let mut f = std::io::BufWriter::new(std::fs::File::create(out.join("aggregate.csv"))?);
    let rate_cols: Vec<String> = (0..k)
        .map(|j| format!("rate_{j}_mean,rate_{j}_std"))
        .collect();
    writeln!(
        f,
        "configuration,runs,swf_mean,swf_std,gini_mean,gini_std,mean_hours_mean,mean_hours_std,{},us_federal_swf_mean,us_federal_swf_std,saez_swf_mean,saez_swf_std,vs_saez_percent_mean,vs_saez_percent_std,wins_vs_saez,vs_us_federal_percent_mean,vs_us_federal_percent_std",
        rate_cols.join(",")
    )?;
    for a in &r.aggregates {
        let rates: Vec<String> = (0..k)
            .map(|j| {
                a.rates
                    .get(j)
                    .map_or(",".to_string(), |(m, s)| format!("{m},{s}"))
            })
            .collect();
        let pair = |p: Option<(f64, f64)>| p.map_or(",".to_string(), |(m, s)| format!("{m},{s}"));
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&a.configuration),
            a.runs,
            a.swf.0,
            a.swf.1,
            a.gini.0,
            a.gini.1,
            a.mean_hours.0,
            a.mean_hours.1,
            rates.join(","),
            pair(a.us_federal_swf),
            pair(a.saez_swf),
            pair(a.vs_saez_percent),
            a.wins_vs_saez.map_or(String::new(), |w| w.to_string()),
            pair(a.vs_us_federal_percent)
        )?;
    }
    f.flush()?;
    plots(out, r)
}

fn plots(out: &Path, r: &SweepResult) -> anyhow::Result<()> {
    let mut c = Chart::new(
        "Welfare per configuration (mean \u{b1} std over seeds)",
        "configuration",
        "social welfare, last tax year",
    );
    let xs: Vec<f64> = (0..r.aggregates.len()).map(|i| i as f64).collect();
    let mut add = |name: &str, color, pick: &dyn Fn(&Aggregate) -> Option<(f64, f64)>, dx: f64| {
        let (mut pts, mut errs) = (Vec::new(), Vec::new());
        for (x, a) in xs.iter().zip(&r.aggregates) {
            if let Some((m, s)) = pick(a) {
                pts.push((x + dx, m));
                errs.push(s);
            }
        }
        if !pts.is_empty() {
            c.series.push(Series {
                name: name.into(),
                points: pts,
                errors: errs,
                color,
                style: Style::ErrorBars,
            });
        }
    };
    add("planner", PALETTE[0], &|a| Some(a.swf), -0.12);
    add("Saez", PALETTE[2], &|a| a.saez_swf, 0.0);
    add("2024 US", PALETTE[5], &|a| a.us_federal_swf, 0.12);
    c.fit(false);
    c.legend_room(0.2);
    c.x_range = (-0.5, r.aggregates.len() as f64 - 0.5);
    // One tick per configuration (plotters places ticks at multiples of 1 for this count).
    c.x_labels = r.aggregates.len().max(1) + 1;
    c.x_ticks = crate::plot::Ticks::Categories;
    c.categories = r
        .aggregates
        .iter()
        .map(|a| a.configuration.clone())
        .collect();
    render(&c, out, "welfare")?;

    let mut c = Chart::new(
        "Planner welfare minus Saez welfare, per seed",
        "seed",
        "planner - Saez welfare",
    );
    for (i, a) in r.aggregates.iter().enumerate() {
        let pts: Vec<(f64, f64)> = r
            .rows
            .iter()
            .filter(|x| x.configuration == a.configuration)
            .filter_map(|x| x.saez_swf.map(|s| (x.seed as f64, x.swf - s)))
            .collect();
        if !pts.is_empty() {
            c.series.push(Series {
                name: format!("{i}: {}", a.configuration),
                points: pts,
                errors: Vec::new(),
                color: PALETTE[i % PALETTE.len()],
                style: Style::ErrorBars,
            });
        }
    }
    c.series.push(Series::dashed(
        "no difference",
        {
            let lo = r.rows.iter().map(|x| x.seed).min().unwrap_or(0) as f64;
            let hi = r.rows.iter().map(|x| x.seed).max().unwrap_or(1) as f64;
            vec![(lo, 0.0), (hi, 0.0)]
        },
        PALETTE[7],
    ));
    c.fit(false);
    c.legend_room(0.25);
    let (a, b) = c.x_range;
    c.x_range = (a - 0.5, b + 0.5);
    c.x_labels = (b - a) as usize + 2;
    render(&c, out, "seeds")?;
    Ok(())
}

/// The aggregate table as text.
pub fn render_aggregates(r: &SweepResult) -> String {
    let pm = |p: (f64, f64), d: usize| format!("{:.d$} \u{b1} {:.d$}", p.0, p.1);
    let mut s = format!(
        "{:>3} {:<36} {:>4} {:>22} {:>22} {:>22} {:>16} {:>5} {:>16} {:>16} {:>13}  rates % (mean)\n",
        "#",
        "configuration",
        "runs",
        "welfare",
        "Saez",
        "US 2024",
        "vs Saez %",
        "wins",
        "vs US %",
        "Gini",
        "hours"
    );
    for (i, a) in r.aggregates.iter().enumerate() {
        let rates: Vec<String> = a
            .rates
            .iter()
            .map(|(m, _)| format!("{:.0}", m * 100.0))
            .collect();
        s += &format!(
            "{:>3} {:<36} {:>4} {:>22} {:>22} {:>22} {:>16} {:>5} {:>16} {:>16} {:>13}  {}\n",
            i,
            a.configuration,
            a.runs,
            pm(a.swf, 1),
            a.saez_swf.map_or("-".into(), |p| pm(p, 1)),
            a.us_federal_swf.map_or("-".into(), |p| pm(p, 1)),
            a.vs_saez_percent.map_or("-".into(), |p| pm(p, 2)),
            a.wins_vs_saez.map_or("-".into(), |w| w.to_string()),
            a.vs_us_federal_percent.map_or("-".into(), |p| pm(p, 1)),
            pm(a.gini, 3),
            pm(a.mean_hours, 2),
            rates.join("/")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_and_grids_parse() {
        assert_eq!(parse_seeds("1..3").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_seeds("1..=3").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_seeds("4,9").unwrap(), vec![4, 9]);
        assert!(parse_seeds("3..1").is_err());
        let (k, v) = parse_grid("planner.rates=[[0.1,0.2],[0.3,0.4]]").unwrap();
        assert_eq!(k, "planner.rates");
        assert_eq!(v, vec!["[0.1,0.2]", "[0.3,0.4]"]);
        assert!(parse_grid("planner.policy=saez").is_err());
        let grid = vec![
            ("a".to_string(), vec!["1".to_string(), "2".to_string()]),
            ("b".to_string(), vec!["x".to_string(), "y".to_string()]),
        ];
        let c = configurations(&grid);
        assert_eq!(c.len(), 4);
        assert_eq!(label(&c[1]), "a=1 b=y");
        assert_eq!(label(&[]), "base");
    }

    #[test]
    fn mean_std_is_the_sample_std() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, 2.5);
        assert!((s - 1.290_994_448_735_805_6).abs() < 1e-12);
        assert_eq!(mean_std(&[5.0]), (5.0, 0.0));
    }
}
