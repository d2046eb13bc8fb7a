//! The files a sweep's tables go into: `runs.csv`, `aggregate.csv`, `runs_by_model.csv` (when
//! the workers mix models), and the plots
//! `welfare.svg|png` and `seeds.svg|png`. Only what is in [`SweepResult`] reaches them.

use std::io::Write;
use std::path::Path;

use super::{Aggregate, SweepResult};
use crate::plot::{Chart, PALETTE, Series, Style, render};

/// The per-model table of a sweep whose workers mix models.
pub const BY_MODEL_FILE: &str = "runs_by_model.csv";

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

pub(super) fn write_outputs(out: &Path, r: &SweepResult) -> anyhow::Result<()> {
    let k = r.rows.iter().map(|x| x.rates.len()).max().unwrap_or(0);
    // Both tables go through the atomic writer, as a run's outputs do: a merge killed on a
    // shared disk leaves the previous table or none, never a truncated one.
    crate::outfile::write_with(&out.join("runs.csv"), false, |f| {
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
                "{},{},{},{},{},{},{},{},{},{}",
                csv_field(&x.configuration),
                x.seed,
                x.swf,
                x.gini,
                x.mean_hours,
                rates.join(","),
                opt(x.us_federal_swf),
                opt(x.saez_swf),
                x.seconds.map_or(String::new(), |t| format!("{t:.3}")),
                csv_field(&x.dir)
            )?;
        }
        Ok(())
    })?;

    // Workers mixing models: each run's figures per model. Written only when some run mixes
    // models, so other sweeps' folders keep their files.
    if r.rows.iter().any(|x| !x.by_model.is_empty()) {
        crate::outfile::write_with(&out.join(BY_MODEL_FILE), false, |f| {
            writeln!(
                f,
                "configuration,seed,model,workers,mean_hours,mean_utility,decisions,requests,fallbacks,dir"
            )?;
            for x in &r.rows {
                for (model, m) in &x.by_model {
                    writeln!(
                        f,
                        "{},{},{},{},{},{},{},{},{},{}",
                        csv_field(&x.configuration),
                        x.seed,
                        csv_field(model),
                        m.workers,
                        m.mean_hours,
                        m.mean_utility,
                        m.decisions,
                        m.requests,
                        m.fallbacks,
                        csv_field(&x.dir)
                    )?;
                }
            }
            Ok(())
        })?;
    }

    crate::outfile::write_with(&out.join("aggregate.csv"), false, |f| {
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
            let pair =
                |p: Option<(f64, f64)>| p.map_or(",".to_string(), |(m, s)| format!("{m},{s}"));
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
        Ok(())
    })?;
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
