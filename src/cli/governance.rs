//! `simulacra governance compare`: one scenario under its planner and under each voting rule,
//! as a table or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use simulacra::config::Scenario;
use simulacra::run::{RuleComparison, compare_rules, default_out_dir};

use super::print_json;

#[derive(Subcommand)]
pub enum GovernanceCmd {
    /// Run a scenario under its planner and under each voting rule; print a table.
    Compare {
        /// A scenario TOML file (default: the embedded default).
        scenario: Option<PathBuf>,
        /// Comma-separated rules (default: all of them).
        #[arg(long)]
        rules: Option<String>,
        /// Override a scenario key, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Where each rule's run folder goes (default: a new folder under runs/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn execute(cmd: GovernanceCmd) -> anyhow::Result<ExitCode> {
    let GovernanceCmd::Compare {
        scenario,
        rules,
        sets,
        out,
        json,
    } = cmd;
    let scenario = Scenario::load(scenario.as_deref(), &sets)?;
    let rules: Vec<String> = match rules {
        Some(r) => r.split(',').map(|x| x.trim().to_string()).collect(),
        None => simulacra::governance::RULES
            .iter()
            .map(|r| r.to_string())
            .collect(),
    };
    let out = out.unwrap_or_else(|| {
        let mut s = scenario.clone();
        s.name = format!("compare-{}", s.name);
        default_out_dir(&s)
    });
    let rows = compare_rules(&scenario, &rules, &out)?;
    if json {
        print_json(&rows)?;
    } else {
        print_table(&rows);
        println!(
            "runs in {}; welfare: the last tax year's mean, and the mean over the run; deciles: mean utility at the last step",
            out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(rows: &[RuleComparison]) {
    print!("{}", render_table(rows));
}

/// The comparison table; the rule and rates columns are as wide as their longest cell.
fn render_table(rows: &[RuleComparison]) -> String {
    let w = simulacra::table::width("rule", rows.iter().map(|r| &r.rule));
    let rates: Vec<String> = rows
        .iter()
        .map(|r| {
            r.tax_rates_final
                .iter()
                .map(|x| format!("{:.0}", x * 100.0))
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    let (rates_header, rates) = simulacra::table::right_aligned("rates %", &rates, 10);
    let mut s = format!(
        "{:<w$} {:>10} {:>10} {:>6} {:>7} {rates_header} {:>11} {:>11} {:>8} {:>8}\n",
        "rule",
        "welfare",
        "mean",
        "gini",
        "hours",
        "bottom 10%",
        "median 10%",
        "winners",
        "turnout"
    );
    for (r, rates) in rows.iter().zip(rates) {
        let winners = match r.distinct_winners {
            None => "-".to_string(),
            Some(n) if r.winners_are_schedules => format!("{n} sched"),
            Some(n) => n.to_string(),
        };
        let turnout = r
            .mean_turnout
            .map_or("-".to_string(), |t| format!("{:.0}%", t * 100.0));
        s += &format!(
            "{:<w$} {:>10.1} {:>10.1} {:>6.3} {:>7.2} {rates} {:>11.1} {:>11.1} {:>8} {:>8}\n",
            r.rule,
            r.swf_final,
            r.swf_mean,
            r.gini_final,
            r.mean_hours_final,
            r.bottom_decile_utility,
            r.median_decile_utility,
            winners,
            turnout
        );
    }
    if rows.iter().any(|r| r.winners_are_schedules) {
        s += "sched: a referendum adopts schedules, not leaders: its winners are the schedules it adopted\n";
    }
    if rows
        .iter()
        .any(|r| r.distinct_winners.is_some() && r.mean_turnout.is_none())
    {
        s += "turnout -: the rule draws its leader by lot and takes no ballots\n";
    }
    s
}

#[cfg(test)]
#[test]
fn a_long_rule_label_keeps_the_columns_in_line() {
    let row = |rule: &str, rates: Vec<f64>| RuleComparison {
        rule: rule.into(),
        swf_final: 1.0,
        swf_mean: 1.0,
        gini_final: 0.5,
        mean_hours_final: 40.0,
        tax_rates_final: rates,
        bottom_decile_utility: 1.0,
        median_decile_utility: 1.0,
        distinct_winners: Some(2),
        winners_are_schedules: false,
        mean_turnout: Some(0.5),
    };
    let long = "r".repeat(60);
    let text = render_table(&[
        row("planner", vec![0.1, 0.2, 0.3]),
        row(&long, vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]),
    ]);
    assert!(text.contains(&long), "{text}");
    // Every line ends its turnout column at the same place.
    let ends: Vec<usize> = text.lines().map(|l| l.chars().count()).collect();
    assert!(ends.windows(2).all(|w| w[0] == w[1]), "{text}");
}

#[cfg(test)]
#[test]
fn a_referendum_counts_schedules_and_sortition_has_no_turnout() {
    let row = |rule: &str, winners: Option<usize>, schedules: bool, turnout: Option<f64>| {
        RuleComparison {
            rule: rule.into(),
            swf_final: 1.0,
            swf_mean: 1.0,
            gini_final: 0.5,
            mean_hours_final: 40.0,
            tax_rates_final: vec![0.1, 0.2, 0.3],
            bottom_decile_utility: 1.0,
            median_decile_utility: 1.0,
            distinct_winners: winners,
            winners_are_schedules: schedules,
            mean_turnout: turnout,
        }
    };
    let text = render_table(&[
        row("planner hill-climb", None, false, None),
        row("sortition", Some(35), false, None),
        row("referendum", Some(3), true, Some(1.0)),
    ]);
    let line = |rule: &str| {
        text.lines()
            .find(|l| l.starts_with(rule))
            .unwrap()
            .to_string()
    };
    assert!(line("planner").ends_with("       -        -"), "{text}");
    assert!(line("sortition").ends_with("      35        -"), "{text}");
    assert!(line("referendum").ends_with(" 3 sched     100%"), "{text}");
    assert!(text.contains("a referendum adopts schedules"), "{text}");
    assert!(text.contains("takes no ballots"), "{text}");
}
