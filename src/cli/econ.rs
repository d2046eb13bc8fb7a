//! `simulacra econ`: small calculators for checking the model (Saez rates, a best response,
//! the empirical-Saez experiment, the Stackelberg optimum, a sampled population and its
//! calibration tables).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use serde_json::json;

use simulacra::config::{IncomeModel, Scenario};
use simulacra::econ::earnings::{CalibrationReport, Comparison, calibration_report};
use simulacra::econ::{
    BracketPreset, TaxSchedule, UtilityForm, best_response, saez_rates, us_federal_2024,
};
use simulacra::experiments;
use simulacra::population::Population;
use simulacra::resolved::ResolvedScenario;

use super::parse_list;

#[derive(Clone, Copy, ValueEnum)]
pub enum SaezWeights {
    /// 1/income of the listed incomes.
    InverseIncome,
    /// Every income weighs the same.
    Utilitarian,
}

#[derive(Subcommand)]
pub enum Econ {
    /// Saez optimal rates for a list of incomes.
    Saez {
        /// A file with one annual income per line.
        #[arg(long)]
        incomes: PathBuf,
        /// A preset (three, us-federal-2024, ...) or comma-separated lower cut-offs.
        #[arg(long)]
        brackets: String,
        /// One elasticity, or one per bracket, comma-separated.
        #[arg(long)]
        elasticity: String,
        /// Welfare weights of the incomes.
        #[arg(long, value_enum, default_value = "inverse-income")]
        weights: SaezWeights,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// A rational worker's exact optimal hours.
    BestResponse {
        /// Skill: income per hour of work, in dollars per year per weekly hour (income =
        /// skill x weekly hours; the default scenario's median is about 950).
        #[arg(long)]
        skill: f64,
        /// A preset (three, us-federal-2024, ...) or comma-separated lower cut-offs.
        #[arg(long)]
        brackets: String,
        /// Rates as fractions, comma-separated (one per bracket).
        #[arg(long)]
        rates: String,
        /// Labor-cost scale (default: the default scenario's calibrated value).
        #[arg(long)]
        c: Option<f64>,
        /// Labor exponent, above 1 (default: the default scenario's).
        #[arg(long)]
        delta: Option<f64>,
        /// Lump-sum rebate taken as given.
        #[arg(long, default_value_t = 0.0)]
        rebate: f64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The empirical-Saez experiment: measure elasticities from the workers' responses to
    /// +-delta-point moves of each bracket, plug them into Saez, compare welfare.
    EmpiricalSaez {
        /// A scenario TOML file (default: the embedded default).
        scenario: Option<PathBuf>,
        /// Perturbation of each bracket's rate, in percentage points.
        #[arg(long, default_value_t = 5.0)]
        delta_points: f64,
        /// Steps per perturbation phase (evaluations play twice as many).
        #[arg(long, default_value_t = 32)]
        steps: u64,
        /// Baseline rates (fractions, one per bracket; default: the 2024 US rates on the
        /// scenario's cut-offs).
        #[arg(long)]
        baseline_rates: Option<String>,
        /// Override a scenario key, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The leader's optimum for rational followers: the welfare-maximizing schedule given
    /// exact best responses (grid search, then local refinement).
    Optimum {
        /// A scenario TOML file (default: the embedded default).
        scenario: Option<PathBuf>,
        /// Grid spacing of the rates (fractions).
        #[arg(long, default_value_t = 0.1)]
        grid_step: f64,
        /// Override a scenario key, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Sample a population: incomes, skills, census personas, and its conditional medians by
    /// occupation, age band and sex next to the published statistics they were calibrated to.
    Population {
        /// Agents to sample.
        #[arg(long, default_value_t = 10)]
        n: usize,
        /// The seed of the sample (as simulation.seed).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Scenario overrides, e.g. --set population.persona_weight=0.5.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// List at most this many agents (default: 20 in the table, all n in the JSON; the
        /// comparison always uses all n).
        #[arg(long)]
        show: Option<usize>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn parse_brackets(text: &str) -> anyhow::Result<Vec<f64>> {
    match BracketPreset::parse(text) {
        Some(p) => Ok(p.cutoffs()),
        None => parse_list("--brackets", text).context(
            "--brackets takes a preset (flat, three, us-federal-2024, us-federal-2025) or cut-offs",
        ),
    }
}

/// Reads a file of annual incomes, one per line (blank lines and `#` comments skipped).
fn read_incomes(path: &Path) -> anyhow::Result<Vec<f64>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let v: f64 = line.parse().with_context(|| {
            format!(
                "{} line {}: {line:?} is not a number",
                path.display(),
                i + 1
            )
        })?;
        if !(v.is_finite() && v >= 0.0) {
            bail!(
                "{} line {}: incomes must be finite and >= 0",
                path.display(),
                i + 1
            );
        }
        values.push(v);
    }
    Ok(values)
}

pub fn execute(econ: Econ) -> anyhow::Result<ExitCode> {
    match econ {
        Econ::Saez {
            incomes,
            brackets,
            elasticity,
            weights,
            json,
        } => {
            let values = read_incomes(&incomes)?;
            let cutoffs = parse_brackets(&brackets)?;
            let mut e = parse_list("--elasticity", &elasticity)?;
            if e.len() == 1 {
                e = vec![e[0]; cutoffs.len()];
            }
            let w: Vec<f64> = match weights {
                SaezWeights::InverseIncome => values.iter().map(|y| 1.0 / y.max(1.0)).collect(),
                SaezWeights::Utilitarian => vec![1.0; values.len()],
            };
            let result = saez_rates(&values, &w, &cutoffs, &e)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "rates": result.rates,
                        "cutoffs": cutoffs,
                        "elasticities": e,
                        "brackets": result.brackets,
                        "n": values.len(),
                    }))?
                );
            } else {
                for (j, b) in result.brackets.iter().enumerate() {
                    println!(
                        "bracket {j} (from {:.0}): rate {:.4}  a = {:.3}  G = {:.3}  at z = {:.0}",
                        cutoffs[j], b.rate, b.pareto_a, b.welfare_ratio_g, b.eval_income
                    );
                }
            }
        }
        Econ::BestResponse {
            skill,
            brackets,
            rates,
            c,
            delta,
            rebate,
            json,
        } => {
            let defaults = ResolvedScenario::new(Scenario::default())?.form();
            let form = UtilityForm::QuasiLinear {
                c: c.unwrap_or(defaults.c()),
                delta: delta.unwrap_or(defaults.delta()),
            };
            form.validate()?;
            if !(skill.is_finite() && skill >= 0.0) {
                bail!("--skill must be a finite number >= 0 (dollars per year per weekly hour)");
            }
            let schedule =
                TaxSchedule::new(parse_brackets(&brackets)?, parse_list("--rates", &rates)?)?;
            let hours = best_response(&form, skill, &schedule, rebate, 100.0);
            let income = skill * hours;
            let tax = schedule.tax(income);
            let utility = form.utility(income - tax + rebate, hours);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "hours": hours, "income": income, "tax": tax, "utility": utility,
                        "marginal_rate": schedule.marginal_rate(income),
                        "c": form.c(), "delta": form.delta(),
                    }))?
                );
            } else {
                println!(
                    "hours {hours:.4}, income {income:.2}, tax {tax:.2}, utility {utility:.2} (c = {}, delta = {})",
                    form.c(),
                    form.delta()
                );
            }
        }
        Econ::EmpiricalSaez {
            scenario,
            delta_points,
            steps,
            baseline_rates,
            sets,
            json,
        } => {
            let scenario = Scenario::load(scenario.as_deref(), &sets)?;
            let spec = experiments::EmpiricalSaezSpec {
                delta_points,
                steps,
                baseline_rates: baseline_rates
                    .as_deref()
                    .map(|r| parse_list("--baseline-rates", r))
                    .transpose()?,
            };
            let r = experiments::empirical_saez(&scenario, &spec, |phase| {
                tracing::info!(phase, "empirical Saez");
            })?;
            if json {
                super::print_json(&r)?;
            } else {
                print!("{}", experiments::render_empirical_saez(&r));
            }
        }
        Econ::Optimum {
            scenario,
            grid_step,
            sets,
            json,
        } => {
            let scenario = Scenario::load(scenario.as_deref(), &sets)?;
            let r = experiments::optimum(&scenario, grid_step)?;
            if json {
                super::print_json(&r)?;
            } else {
                print!("{}", experiments::render_optimum(&r));
            }
        }
        Econ::Population {
            n,
            seed,
            mut sets,
            show,
            json,
        } => {
            let mut all = vec![
                format!("simulation.num_agents={n}"),
                format!("simulation.seed={seed}"),
            ];
            all.append(&mut sets);
            let scenario = ResolvedScenario::new(Scenario::load(None, &all)?)?;
            let pop = Population::generate(&scenario);
            let report = calibration_report(&pop.personas(), &pop.census_incomes);
            // Without --show the JSON lists every agent (a silent cut at the table's default
            // would look like the whole population).
            let show = show.unwrap_or(if json { pop.len() } else { 20 });
            let shown = pop.len().min(show);
            let agents: Vec<_> = (0..shown).map(|i| pop.card(i)).collect();
            let us = us_federal_2024();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "seed": seed,
                        "n": n,
                        "income_model": scenario.population.income_model,
                        "persona_weight": scenario.population.persona_weight,
                        "income_units": "annual dollars (census draw; equilibrium income under the 2024 US schedule)",
                        "labor_cost_c": scenario.form().c(),
                        "agents": agents,
                        "calibration": report,
                    }))?
                );
            } else {
                for a in &agents {
                    println!(
                        "{:>5} {:>12.2} {:>9.2} {}  {:>5.1}%  {}",
                        a.id,
                        a.income,
                        a.skill,
                        simulacra::econ::SKILL_UNIT,
                        us.marginal_rate(a.income) * 100.0,
                        a.persona
                    );
                }
                if shown < pop.len() {
                    println!("... ({} more; --show N)", pop.len() - shown);
                }
                print!(
                    "{}",
                    render_calibration(
                        &report,
                        scenario.population.income_model,
                        scenario.population.persona_weight
                    )
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The conditional-median comparison as text tables.
fn render_calibration(r: &CalibrationReport, model: IncomeModel, weight: f64) -> String {
    use std::fmt::Write;
    let opt =
        |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
    let mut out = String::new();
    let model = match model {
        IncomeModel::PersonaRank => format!("persona-rank, weight {weight}"),
        IncomeModel::Independent => "independent (the paper's draw)".to_string(),
    };
    let _ = writeln!(
        out,
        "\nconditional medians of all {} agents ({model}); overall median {}",
        r.n,
        opt(r.median, 0)
    );
    let mut section = |title: &str, published: &str, rows: &[Comparison]| {
        let _ = writeln!(
            out,
            "\n{title:<58} {:>6} {:>10} {:>7}   {published:>10} {:>7}",
            "n", "median", "ratio", "ratio"
        );
        for c in rows {
            let _ = writeln!(
                out,
                "{:<58} {:>6} {:>10} {:>7}   {:>10.0} {:>7.3}",
                c.group,
                c.n,
                opt(c.median, 0),
                opt(c.ratio, 3),
                c.published,
                c.published_ratio
            );
        }
    };
    section(
        "by occupation (ratio to all; OEWS May 2023 annual)",
        "OEWS",
        &r.by_occupation,
    );
    section(
        "by age (ratio to all; CPS 2023 weekly, full-time)",
        "CPS",
        &r.by_age,
    );
    section(
        "by sex (ratio to men; CPS 2023 weekly, full-time)",
        "CPS",
        &r.by_sex,
    );
    let _ = writeln!(
        out,
        "\n{:<40} {:>9} {:>9}",
        "target", "simulated", "published"
    );
    for h in &r.headline {
        let _ = writeln!(
            out,
            "{:<40} {:>9} {:>9.3}  ({})",
            h.name,
            opt(h.simulated, 3),
            h.published,
            h.source
        );
    }
    out
}
