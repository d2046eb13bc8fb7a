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
    println!(
        "{:<18} {:>10} {:>10} {:>6} {:>7} {:>10} {:>11} {:>11} {:>8} {:>8}",
        "rule",
        "welfare",
        "mean",
        "gini",
        "hours",
        "rates %",
        "bottom 10%",
        "median 10%",
        "winners",
        "turnout"
    );
    for r in rows {
        let rates: Vec<String> = r
            .tax_rates_final
            .iter()
            .map(|x| format!("{:.0}", x * 100.0))
            .collect();
        println!(
            "{:<18} {:>10.1} {:>10.1} {:>6.3} {:>7.2} {:>10} {:>11.1} {:>11.1} {:>8} {:>7.0}%",
            r.rule,
            r.swf_final,
            r.swf_mean,
            r.gini_final,
            r.mean_hours_final,
            rates.join("/"),
            r.bottom_decile_utility,
            r.median_decile_utility,
            r.distinct_winners,
            r.mean_turnout * 100.0
        );
    }
}
