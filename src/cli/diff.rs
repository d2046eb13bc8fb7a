//! `simulacra diff RUN_A RUN_B [--json]`: how two runs differ (scenario keys, fork relation,
//! the first differing frame, a per-tax-year table of both runs and B - A). Exit 0 when the
//! logs hold the same frames, 1 when they differ (as diff(1)), 2 on an error.

use std::path::PathBuf;
use std::process::ExitCode;

use simulacra::diff::{Relation, RunDiff, RunSide, YearFigures, diff_runs};

use super::print_json;

#[derive(clap::Args)]
pub struct Args {
    /// The first run folder (A).
    run_a: PathBuf,
    /// The second run folder (B); differences are B - A.
    run_b: PathBuf,
    /// Print the comparison as JSON.
    #[arg(long)]
    json: bool,
}

pub fn execute(args: Args) -> anyhow::Result<ExitCode> {
    let d = diff_runs(&args.run_a, &args.run_b)?;
    for (name, side) in [("A", &d.a), ("B", &d.b)] {
        if let Some(damage) = &side.damage {
            eprintln!(
                "warning: run {name}'s log ({}) is damaged: {damage}; its intact part was compared",
                side.dir.display()
            );
        }
    }
    if args.json {
        print_json(&d)?;
    } else {
        print!("{}", render(&d));
    }
    Ok(if d.first_difference.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn side_line(name: &str, s: &RunSide) -> String {
    let short = if s.steps < s.timesteps {
        " (the run stopped early or its log is short)"
    } else {
        ""
    };
    format!(
        "{name}: {} ({} of {} steps{short})\n",
        s.dir.display(),
        s.steps,
        s.timesteps
    )
}

fn points(rates: &[f64]) -> String {
    rates
        .iter()
        .map(|r| {
            let p = (r * 10_000.0).round() / 100.0;
            format!("{p}")
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn cell(v: Option<f64>, width: usize, precision: usize) -> String {
    match v {
        Some(v) => format!("{v:>width$.precision$}"),
        None => format!("{:>width$}", "-"),
    }
}

/// The text the command prints.
pub fn render(d: &RunDiff) -> String {
    let mut out = String::new();
    out.push_str(&side_line("A", &d.a));
    out.push_str(&side_line("B", &d.b));
    if d.same_scenario {
        out.push_str("scenario: the same\n");
    } else {
        let n = d.scenario_differences.len();
        out.push_str(&format!(
            "scenario: {n} key{} differ{} (A | B)\n",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" }
        ));
        let width = d
            .scenario_differences
            .iter()
            .map(|k| k.key.len())
            .max()
            .unwrap_or(0);
        for k in &d.scenario_differences {
            out.push_str(&format!(
                "  {:<width$}  {} | {}\n",
                k.key,
                k.a.as_deref().unwrap_or("(absent)"),
                k.b.as_deref().unwrap_or("(absent)")
            ));
        }
    }
    out.push_str(&match &d.relation {
        Relation::Unrelated => "relation: neither run is a fork of the other\n".to_string(),
        Relation::BForkOfA { at_step } => format!("relation: B is a fork of A at step {at_step}\n"),
        Relation::AForkOfB { at_step } => format!("relation: A is a fork of B at step {at_step}\n"),
        Relation::BForkOfAChanged { at_step } => format!(
            "relation: B was forked at step {at_step} from a run with A's scenario, but A's log has changed since\n"
        ),
        Relation::AForkOfBChanged { at_step } => format!(
            "relation: A was forked at step {at_step} from a run with B's scenario, but B's log has changed since\n"
        ),
        Relation::Siblings {
            a_at_step,
            b_at_step,
        } => format!(
            "relation: both are forks of one parent log (A at step {a_at_step}, B at step {b_at_step})\n"
        ),
    });
    match &d.first_difference {
        None => out.push_str("first difference: none, the logs hold the same frames\n"),
        Some(f) => {
            let at = |step: Option<u64>, kind: Option<&str>| match (step, kind) {
                (Some(s), Some(k)) => format!("{k} of step {s}"),
                _ => "the log has ended".to_string(),
            };
            out.push_str(&format!(
                "first difference: frame {} after the header (A: {}; B: {})\n",
                f.frame,
                at(f.step_a, f.kind_a),
                at(f.step_b, f.kind_b)
            ));
        }
    }
    out.push('\n');
    out.push_str(&format!(
        "{:>8} {:>12} {:>12} {:>10} {:>7} {:>7} {:>7} {:>6} {:>6} {:>7}  {:<17} {}\n",
        "tax year",
        "welfare A",
        "welfare B",
        "B - A",
        "hours A",
        "hours B",
        "B - A",
        "Gini A",
        "Gini B",
        "B - A",
        "rates A (%)",
        "rates B (%)"
    ));
    for row in &d.years {
        let f = |s: &Option<YearFigures>, g: fn(&YearFigures) -> f64| s.as_ref().map(g);
        let diff = |g: fn(&YearFigures) -> f64| match (&row.a, &row.b) {
            (Some(a), Some(b)) => Some(g(b) - g(a)),
            _ => None,
        };
        out.push_str(&format!(
            "{:>8} {} {} {} {} {} {} {} {} {}  {:<17} {}\n",
            row.tax_year,
            cell(f(&row.a, |y| y.welfare), 12, 2),
            cell(f(&row.b, |y| y.welfare), 12, 2),
            cell(diff(|y| y.welfare), 10, 2),
            cell(f(&row.a, |y| y.mean_hours), 7, 2),
            cell(f(&row.b, |y| y.mean_hours), 7, 2),
            cell(diff(|y| y.mean_hours), 7, 2),
            cell(f(&row.a, |y| y.gini), 6, 3),
            cell(f(&row.b, |y| y.gini), 6, 3),
            cell(diff(|y| y.gini), 7, 3),
            row.a.as_ref().map_or("-".into(), |y| points(&y.rates)),
            row.b.as_ref().map_or("-".into(), |y| points(&y.rates)),
        ));
    }
    out
}
