//! `simulacra report RUN_DIR`: plots of a run (SVG and PNG) and one self-contained HTML page.
//!
//! Everything comes from the run's log, except the baselines' welfare and schedules, which come
//! from `summary.json` when it is there (a run that stopped before writing it still gets every
//! plot, without the baseline lines).

use std::path::{Path, PathBuf};

use crate::run::summary::{GameSummary, Summary, policy_word};
use anyhow::Context;

use crate::logview::{RunView, check_whole, scan};
use crate::plot::{
    Chart, PALETTE, Series, Ticks, hours_histogram, income_histograms, render, thousands,
};

/// The plots a report draws, by file stem, with their captions for the HTML page.
pub const PLOTS: [(&str, &str); 6] = [
    (
        "rates",
        "Marginal tax rate of each bracket at every step (the planner moves once per tax year; \
         brackets with the same rate draw on top of each other).",
    ),
    (
        "welfare",
        "Social welfare at every step, against the welfare of the 2024 US schedule and of Saez's \
         schedule (each: mean over their last tax year, on the same population).",
    ),
    (
        "schedule",
        "The tax schedule as marginal rate by annual income: the planner's first and final \
         schedules, Saez's and the 2024 US schedule.",
    ),
    (
        "hours",
        "Distribution of weekly hours over workers at the first and the last step.",
    ),
    (
        "income",
        "Distribution of pre-tax annual income over workers at the first and the last step \
         (logarithmic bins).",
    ),
    ("gini", "Gini coefficient of pre-tax incomes at every step."),
];

/// The plots a federation run adds.
pub const REGION_PLOTS: [(&str, &str); 2] = [
    (
        "region_rates",
        "Top marginal tax rate of each region at every step (each region's planner or elected \
         leader moves once per tax year).",
    ),
    (
        "region_population",
        "Residents of each region at every step (workers move at the start of a tax year).",
    ),
];

/// What the report read from the run.
struct RunData {
    steps: Vec<f64>,
    rates: Vec<Vec<f64>>,
    welfare: Vec<f64>,
    gini: Vec<f64>,
    cutoffs: Vec<f64>,
    first_rates: Vec<f64>,
    last_rates: Vec<f64>,
    first: Option<(u64, Vec<f64>, Vec<f64>)>,
    last: Option<(u64, Vec<f64>, Vec<f64>)>,
    tax_year_length: u64,
    /// A federation: each region's (top rate, population) at every step.
    regions: Vec<Vec<(f64, f64)>>,
}

/// The run's data, and the warning when `partial` let a log short of its run through.
fn read_run(run_dir: &Path, partial: bool) -> anyhow::Result<(RunData, Option<String>)> {
    let view = RunView::open(run_dir)?;
    let mut d = RunData {
        steps: Vec::new(),
        rates: Vec::new(),
        welfare: Vec::new(),
        gini: Vec::new(),
        cutoffs: view.scenario.cutoffs.clone(),
        first_rates: Vec::new(),
        last_rates: Vec::new(),
        first: None,
        last: None,
        tax_year_length: view.scenario.simulation.tax_year_length,
        regions: Vec::new(),
    };
    let damaged = scan(run_dir, true, |s| {
        let o = s.outcome.as_ref().expect("scan delivers complete steps");
        d.steps.push(s.step as f64);
        d.rates.push(o.rates.clone());
        d.welfare.push(o.welfare);
        d.gini.push(o.gini);
        if !s.regions.is_empty() {
            d.regions.push(
                s.regions
                    .iter()
                    .map(|r| (r.rates.last().copied().unwrap_or(0.0), r.population as f64))
                    .collect(),
            );
        }
        d.cutoffs = s.cutoffs.clone();
        if d.first_rates.is_empty() {
            d.first_rates = o.rates.clone();
        }
        d.last_rates = o.rates.clone();
        if let Some(settled) = view.settle(&s)? {
            let entry = (
                s.step,
                s.hours.clone().expect("settled steps have hours"),
                settled.incomes,
            );
            if d.first.is_none() {
                d.first = Some(entry.clone());
            }
            d.last = Some(entry);
        }
        Ok(())
    })?;
    let short = check_whole(
        run_dir,
        d.steps.len() as u64,
        damaged.as_ref(),
        "the report",
        partial,
    )?;
    Ok((d, short))
}

fn bracket_label(cutoffs: &[f64], j: usize) -> String {
    match cutoffs.get(j + 1) {
        Some(next) => format!(
            "bracket {j}: {} to {}",
            crate::plot::dollars(cutoffs[j]),
            crate::plot::dollars(*next)
        ),
        None => format!("bracket {j}: {} and up", crate::plot::dollars(cutoffs[j])),
    }
}

/// Step-function points of a schedule up to `x_max`.
fn schedule_points(cutoffs: &[f64], rates: &[f64], x_max: f64) -> Vec<(f64, f64)> {
    let mut pts = Vec::new();
    for (j, &r) in rates.iter().enumerate() {
        let a = cutoffs[j];
        let b = cutoffs.get(j + 1).copied().unwrap_or(x_max).min(x_max);
        if a > x_max {
            break;
        }
        pts.push((a, r));
        pts.push((b, r));
    }
    pts
}

fn baseline(summary: Option<&Summary>, key: &str) -> Option<(f64, Vec<f64>, Vec<f64>)> {
    let b = summary?;
    let g = match key {
        "us_federal" => b.baselines.us_federal.as_ref(),
        _ => b.baselines.saez.as_ref(),
    }?;
    Some((g.swf, g.cutoffs.clone(), g.rates.clone()))
}

fn charts(d: &RunData, summary: Option<&Summary>) -> Vec<(String, Chart)> {
    let mut out = Vec::new();
    let x_max_step = d.steps.last().copied().unwrap_or(0.0).max(1.0);

    // Rates per bracket over time.
    let mut c = Chart::new(
        "Marginal tax rates per bracket",
        "timestep",
        "marginal tax rate",
    );
    let k = d.rates.iter().map(|r| r.len()).max().unwrap_or(0);
    for j in 0..k {
        let pts: Vec<(f64, f64)> = d
            .steps
            .iter()
            .zip(&d.rates)
            .filter_map(|(s, r)| r.get(j).map(|v| (*s, *v)))
            .collect();
        c.series.push(Series::line(
            bracket_label(&d.cutoffs, j),
            pts,
            PALETTE[j % PALETTE.len()],
        ));
    }
    c.x_range = (0.0, x_max_step);
    c.y_range = (0.0, 1.0);
    c.legend_room(0.2);
    c.y_ticks = Ticks::Percent;
    out.push(("rates".to_string(), c));

    // Welfare over time against the baselines.
    let mut c = Chart::new(
        "Social welfare over time",
        "timestep",
        "social welfare (welfare function's units)",
    );
    // The run's own schedule-setter: its planner policy, or "elected (rule)" under elections.
    let setter = summary
        .map(|s| s.planner.planner.as_str())
        .map_or("this run".to_string(), |p| format!("{p} (this run)"));
    c.series.push(Series::line(
        setter,
        d.steps
            .iter()
            .copied()
            .zip(d.welfare.iter().copied())
            .collect(),
        PALETTE[0],
    ));
    for (key, name, color) in [
        ("us_federal", "2024 US schedule", PALETTE[5]),
        ("saez", "Saez schedule", PALETTE[2]),
    ] {
        if let Some((swf, _, _)) = baseline(summary, key) {
            c.series.push(Series::dashed(
                format!("{name} ({})", thousands(swf)),
                vec![(0.0, swf), (x_max_step, swf)],
                color,
            ));
        }
    }
    c.fit(false);
    c.legend_room(0.22);
    c.x_range = (0.0, x_max_step);
    out.push(("welfare".to_string(), c));

    // The schedule as a step chart.
    let mut c = Chart::new(
        "Tax schedule: marginal rate by income",
        "pre-tax annual income",
        "marginal tax rate",
    );
    type Drawn = (String, Vec<f64>, Vec<f64>, plotters::style::RGBColor, bool);
    let mut schedules: Vec<Drawn> = vec![
        (
            format!("planner, final (step {})", x_max_step as u64),
            d.cutoffs.clone(),
            d.last_rates.clone(),
            PALETTE[0],
            false,
        ),
        (
            "planner, first step".to_string(),
            d.cutoffs.clone(),
            d.first_rates.clone(),
            PALETTE[4],
            true,
        ),
    ];
    if let Some((_, cut, rates)) = baseline(summary, "saez") {
        schedules.push(("Saez".into(), cut, rates, PALETTE[2], false));
    }
    if let Some((_, cut, rates)) = baseline(summary, "us_federal") {
        schedules.push(("2024 US".into(), cut, rates, PALETTE[5], false));
    }
    let top_cut = schedules
        .iter()
        .filter_map(|s| s.1.last().copied())
        .fold(0.0, f64::max);
    let x_max = (top_cut * 1.3).max(200_000.0);
    for (name, cut, rates, color, dashed) in schedules {
        let pts = schedule_points(&cut, &rates, x_max);
        c.series.push(if dashed {
            Series::dashed(name, pts, color)
        } else {
            Series::line(name, pts, color)
        });
    }
    c.x_range = (0.0, x_max);
    c.y_range = (0.0, 1.0);
    c.legend_room(0.25);
    c.x_ticks = Ticks::Dollars;
    c.y_ticks = Ticks::Percent;
    out.push(("schedule".to_string(), c));

    // Hours and incomes at the start and the end.
    let mut c = Chart::new(
        "Hours worked: first vs last step",
        "hours per week",
        "workers",
    );
    let mut ci = Chart::new(
        "Pre-tax income: first vs last step",
        "pre-tax annual income (log scale)",
        "workers",
    );
    if let (Some(first), Some(last)) = (&d.first, &d.last) {
        c.bars.push((
            format!("step {}", first.0),
            PALETTE[4],
            hours_histogram(&first.1),
        ));
        c.bars.push((
            format!("step {}", last.0),
            PALETTE[0],
            hours_histogram(&last.1),
        ));
        let incomes = income_histograms(&[&first.2, &last.2]);
        let [bins_first, bins_last]: [_; 2] = incomes.bins.try_into().expect("two samples");
        ci.bars
            .push((format!("step {}", first.0), PALETTE[4], bins_first));
        ci.bars
            .push((format!("step {}", last.0), PALETTE[0], bins_last));
        ci.x_ticks = Ticks::Log10Dollars;
        ci.x_labels = (incomes.hi - incomes.lo) as usize + 1;
    } else {
        c.title += " (not available: the run logged digests of the hours)";
        ci.title += " (not available: the run logged digests of the hours)";
    }
    c.fit(true);
    c.legend_room(0.12);
    c.x_range = (0.0, 100.0);
    ci.fit(true);
    ci.legend_room(0.12);
    if ci.bars.is_empty() {
        ci.x_range = (3.0, 6.0);
        ci.x_ticks = Ticks::Log10Dollars;
    }
    out.push(("hours".to_string(), c));
    out.push(("income".to_string(), ci));

    // Gini over time.
    let mut c = Chart::new(
        "Income inequality over time",
        "timestep",
        "Gini coefficient of pre-tax income",
    );
    c.series.push(Series::line(
        "Gini",
        d.steps
            .iter()
            .copied()
            .zip(d.gini.iter().copied())
            .collect(),
        PALETTE[3],
    ));
    c.fit(false);
    c.x_range = (0.0, x_max_step);
    out.push(("gini".to_string(), c));
    let _ = d.tax_year_length;
    if d.regions.len() == d.steps.len() {
        out.extend(region_charts(d, x_max_step));
    }
    out
}

/// A federation's charts: each region's top rate and population over time.
fn region_charts(d: &RunData, x_max_step: f64) -> Vec<(String, Chart)> {
    let k = d.regions.iter().map(Vec::len).max().unwrap_or(0);
    let per_region = |pick: fn(&(f64, f64)) -> f64, r: usize| -> Vec<(f64, f64)> {
        d.steps
            .iter()
            .zip(&d.regions)
            .filter_map(|(s, row)| row.get(r).map(|v| (*s, pick(v))))
            .collect()
    };
    let mut rates = Chart::new(
        "Top marginal tax rate per region",
        "timestep",
        "top marginal rate",
    );
    let mut people = Chart::new("Population per region", "timestep", "residents");
    for r in 0..k {
        let color = PALETTE[r % PALETTE.len()];
        rates.series.push(Series::line(
            format!("region {r}"),
            per_region(|v| v.0, r),
            color,
        ));
        people.series.push(Series::line(
            format!("region {r}"),
            per_region(|v| v.1, r),
            color,
        ));
    }
    rates.x_range = (0.0, x_max_step);
    rates.y_range = (0.0, 1.0);
    rates.legend_room(0.2);
    rates.y_ticks = Ticks::Percent;
    people.fit(true);
    people.x_range = (0.0, x_max_step);
    people.legend_room(0.2);
    vec![
        ("region_rates".to_string(), rates),
        ("region_population".to_string(), people),
    ]
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn summary_table(summary: Option<&Summary>) -> String {
    let Some(s) = summary else {
        return "<p>No <code>summary.json</code> in the run folder (the run did not finish), so \
                no summary table.</p>"
            .into();
    };
    let pct = |rates: &[f64]| -> String {
        rates
            .iter()
            .map(|x| format!("{:.0}", x * 100.0))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let mut rows = String::new();
    let mut add = |label: &str, g: &GameSummary| {
        rows += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.3}</td><td>{}</td></tr>\n",
            html_escape(label),
            thousands(g.swf),
            pct(&g.rates),
            g.mean_hours,
            g.gini,
            thousands(g.revenue),
        );
    };
    add(&format!("planner: {}", s.planner.planner), &s.planner);
    // A baseline played by other workers than the run's says so in its own row.
    let by = |g: &GameSummary| {
        if g.worker_policy == s.planner.worker_policy {
            String::new()
        } else {
            format!(" ({} workers)", policy_word(g.worker_policy))
        }
    };
    if let Some(g) = &s.baselines.us_federal {
        add(&format!("2024 US schedule{}", by(g)), g);
    }
    if let Some(g) = &s.baselines.saez {
        add(&format!("Saez{}", by(g)), g);
    }
    let mut verdict = s
        .comparison
        .as_ref()
        .map(|c| format!("<p><b>{}</b></p>", html_escape(&c.verdict)))
        .unwrap_or_default();
    if let Some(note) = s.baselines.workers_note(&s.planner) {
        verdict += &format!("<p>Note: {}.</p>", html_escape(&note));
    }
    format!(
        "<p>{} workers, {} steps (tax year {} steps), seed {}; welfare, hours, Gini and revenue \
         are means over the last tax year.</p>\n<table>\n<tr><th>schedule</th><th>welfare</th>\
         <th>rates %</th><th>mean hours</th><th>Gini</th><th>revenue $/step</th></tr>\n{rows}\
         </table>\n{verdict}",
        s.num_agents, s.steps_run, s.tax_year_length, s.seed
    )
}

/// Who played the baselines, for the welfare plot's caption: the run's own workers, or the
/// others that `baselines.workers` chose (nothing without baselines).
fn baseline_workers_sentence(summary: Option<&Summary>) -> String {
    let Some(s) = summary else {
        return String::new();
    };
    match s.baselines.workers_note(&s.planner) {
        Some(note) => format!(" Note: {note}."),
        None if s.baselines.saez.is_some() => " The baselines' workers are the run's own.".into(),
        None => String::new(),
    }
}

/// Writes the report into `RUN_DIR/report/` and returns that folder. The report is drawn into
/// a temporary folder beside it, which replaces `report/` only once every file is written, so
/// a full disk or a kill leaves the previous report (or none), never half of one. The caller
/// holds the run's lock, so a temporary folder found there is a killed report's and goes.
///
/// A log that holds less of its run than it should is refused unless `partial`; a partial
/// report goes without `summary.json` (its baselines describe the whole run).
pub fn write_report(run_dir: &Path) -> anyhow::Result<PathBuf> {
    write_report_with(run_dir, false)
}

/// [`write_report`], drawing a log short of its run up to its last whole step when `partial`.
pub fn write_report_with(run_dir: &Path, partial: bool) -> anyhow::Result<PathBuf> {
    let (data, short) = read_run(run_dir, partial)?;
    let summary = match short {
        None => Summary::read(run_dir)?,
        Some(_) => None,
    };
    let report = run_dir.join("report");
    remove_stale_report_folders(run_dir);
    let tmp = tempfile::Builder::new()
        .prefix(".report.")
        .suffix(".tmp")
        .tempdir_in(run_dir)
        .map_err(|e| anyhow::anyhow!(crate::outfile::failure(&report, &e)))?;
    let out = tmp.path();
    let mut figures = String::new();
    for (stem, chart) in charts(&data, summary.as_ref()) {
        // Errors name the file under its final name, not the temporary folder's.
        render(&chart, out, &stem).map_err(|e| {
            anyhow::anyhow!(
                "{}",
                format!("{e:#}").replace(&out.display().to_string(), &report.display().to_string())
            )
        })?;
        let svg_path = out.join(format!("{stem}.svg"));
        let svg = std::fs::read_to_string(&svg_path)
            .with_context(|| format!("cannot read back {}", svg_path.display()))?;
        let svg = match svg.find("<svg") {
            Some(i) => &svg[i..],
            None => &svg,
        };
        let mut caption = PLOTS
            .iter()
            .chain(&REGION_PLOTS)
            .find(|(s, _)| *s == stem)
            .map_or("", |(_, c)| *c)
            .to_string();
        if stem == "welfare" {
            caption += &baseline_workers_sentence(summary.as_ref());
        }
        figures += &format!(
            "<figure id=\"{stem}\">{svg}<figcaption>{}</figcaption></figure>\n",
            html_escape(&caption)
        );
    }
    let name = summary
        .as_ref()
        .map(|s| s.scenario.clone())
        .unwrap_or_else(|| run_dir.display().to_string());
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>simulacra report: {title}</title>\n<style>\
         body {{ font-family: sans-serif; max-width: 1060px; margin: 2em auto; color: #222; }}\
         table {{ border-collapse: collapse; margin: 1em 0; }}\
         td, th {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}\
         td:first-child, th:first-child {{ text-align: left; }}\
         figure {{ margin: 2em 0; }} figure svg {{ max-width: 100%; height: auto; }}\
         figcaption {{ color: #555; }}</style></head>\n<body>\n\
         <h1>simulacra report: {title}</h1>\n<p>Run folder: <code>{dir}</code></p>\n{table}\n\
         {figures}</body></html>\n",
        title = html_escape(&name),
        dir = html_escape(&run_dir.display().to_string()),
        table = summary_table(summary.as_ref()),
    );
    crate::outfile::write_bytes(&out.join("report.html"), false, html.as_bytes()).map_err(|e| {
        anyhow::anyhow!(
            "{}",
            format!("{e:#}").replace(&out.display().to_string(), &report.display().to_string())
        )
    })?;
    replace_folder(tmp, &report)?;
    Ok(report)
}

/// Folders `.report.*.tmp` and `.report.*.old` a killed report left in `run_dir`.
fn remove_stale_report_folders(run_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(run_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".report.")
            && (name.ends_with(".tmp") || name.ends_with(".old"))
            && entry.file_type().is_ok_and(|t| t.is_dir())
        {
            // Best effort: a folder that cannot go is not in the way.
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Puts the complete folder `tmp` in the place of `dest`. The files of an earlier `dest` that
/// the new one does not have (a user's own) are moved into it; the earlier report's own files
/// go with the old folder.
fn replace_folder(tmp: tempfile::TempDir, dest: &Path) -> anyhow::Result<()> {
    let fail = |e: std::io::Error| anyhow::anyhow!(crate::outfile::failure(dest, &e));
    let new = tmp.keep();
    let old = dest.with_file_name(format!(
        ".report.{}.old",
        new.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(".report."))
            .and_then(|n| n.strip_suffix(".tmp"))
            .unwrap_or("previous")
    ));
    let had_old = match std::fs::rename(dest, &old) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&new);
            return Err(fail(e));
        }
    };
    if let Err(e) = std::fs::rename(&new, dest) {
        let _ = std::fs::remove_dir_all(&new);
        if had_old {
            let _ = std::fs::rename(&old, dest);
        }
        return Err(fail(e));
    }
    if had_old {
        if let Ok(entries) = std::fs::read_dir(&old) {
            for entry in entries.flatten() {
                let target = dest.join(entry.file_name());
                if !target.exists() {
                    let _ = std::fs::rename(entry.path(), target);
                }
            }
        }
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(())
}
