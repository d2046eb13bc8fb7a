//! The `simulacra` command line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;

use simulacra::config::{IncomeModel, Scenario};
use simulacra::econ::earnings::{CalibrationReport, Comparison, calibration_report};
use simulacra::econ::{
    BracketPreset, TaxSchedule, UtilityForm, best_response, saez_rates, us_federal_2024,
};
use simulacra::population::Population;
use simulacra::run::{ReplayVerdict, Summary, default_out_dir, run_scenario, verify_replay};
use simulacra::{bench, experiments, export, inspect, inspect_agent, sweep};

// mimalloc: per-step message envelopes are small and short-lived; measured 2-4x faster than
// glibc malloc for one-actor-per-agent fan-out (see README, "Performance").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "simulacra",
    version,
    about = "LLM-agent tax-policy economies on a deterministic actor runtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario (the embedded default when none is given).
    Run {
        /// A scenario TOML file.
        scenario: Option<PathBuf>,
        /// Override a key: --set simulation.seed=7 (TOML values; bare words are strings).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Output folder (default: a new folder under runs/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Continue a run that stopped (crash, kill, power loss) from its log; the final log is
    /// byte-identical to an uninterrupted run's.
    Resume { run_dir: PathBuf },
    /// A counterfactual: the run until --at, then another planner or governance.
    Fork {
        run_dir: PathBuf,
        /// The first step that differs.
        #[arg(long)]
        at: u64,
        /// What changes ([planner], [governance], [baselines], simulation.timesteps).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-execute a run from its log and compare every frame.
    Replay {
        run_dir: PathBuf,
        /// Compare with the recorded log (the only mode so far).
        #[arg(long)]
        verify: bool,
    },
    /// Show a run's game from its log: every tax year, or one round in full.
    Inspect {
        run_dir: PathBuf,
        /// The round (tax year) to show in full.
        #[arg(long, conflicts_with = "agent")]
        round: Option<u64>,
        /// With --round: also the LLM prompts and raw answers of that round.
        #[arg(long, requires = "round")]
        prompts: bool,
        /// One worker's trajectory: hours, income, tax, utility at every step.
        #[arg(long)]
        agent: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Run a scenario over seeds and a grid of overrides, in parallel; aggregate mean +- std.
    Sweep {
        /// A scenario TOML file (default: the embedded default).
        scenario: Option<PathBuf>,
        /// Seeds: 1..10 (inclusive) or 1,4,9.
        #[arg(long, default_value = "1..10")]
        seeds: String,
        /// Override a key in every run, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// A grid axis: --grid planner.policy=[hill-climb,saez] (repeatable; all combinations).
        #[arg(long = "grid", value_name = "KEY=[V1,V2]")]
        grids: Vec<String>,
        /// The sweep's folder (each run in a subfolder).
        #[arg(long)]
        out: PathBuf,
        /// Runs at once (0 = one per core).
        #[arg(long, default_value_t = 0)]
        jobs: usize,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        #[arg(long)]
        json: bool,
    },
    /// Plots (SVG and PNG) and an HTML page of a run, into RUN_DIR/report/.
    Report { run_dir: PathBuf },
    /// Export a run's log: per-agent-per-step rows (CSV or Parquet) and JSON Lines of events.
    Export {
        run_dir: PathBuf,
        /// Per-agent-per-step rows, to RUN_DIR/agents.csv or RUN_DIR/agents.parquet.
        #[arg(long, value_enum)]
        agents: Option<AgentsFormat>,
        /// Events as JSON Lines, to RUN_DIR/events.jsonl.
        #[arg(long, value_enum)]
        events: Option<EventsFormat>,
        /// Write into this folder instead of RUN_DIR.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Small calculators for checking the model.
    #[command(subcommand)]
    Econ(Econ),
    /// Governance: compare voting rules on the same population and seed.
    #[command(subcommand)]
    Governance(GovernanceCmd),
    /// Measure the game at scale: agent-steps/s, bytes per agent, peak RSS.
    Bench {
        #[arg(long, default_value_t = 1_000_000)]
        agents: usize,
        #[arg(long, default_value_t = 100)]
        steps: u64,
        /// Worker shards (0 = one per core).
        #[arg(long, default_value_t = 0)]
        shards: usize,
        /// Log every worker's hours ("full") or a checksum per step ("digest").
        #[arg(long, default_value = "digest")]
        decisions: String,
        /// Write the log into this folder (default: hash it only).
        #[arg(long)]
        out: Option<PathBuf>,
        /// More overrides, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum GovernanceCmd {
    /// Run a scenario under its planner and under each voting rule; print a table.
    Compare {
        /// A scenario TOML file (default: the embedded default).
        scenario: Option<PathBuf>,
        /// Comma-separated rules (default: all of them).
        #[arg(long)]
        rules: Option<String>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Where each rule's run folder goes (default: a new folder under runs/).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum AgentsFormat {
    Csv,
    Parquet,
}

#[derive(Clone, Copy, ValueEnum)]
enum EventsFormat {
    Jsonl,
}

#[derive(Clone, Copy, ValueEnum)]
enum SaezWeights {
    /// 1/income of the listed incomes.
    InverseIncome,
    Utilitarian,
}

#[derive(Subcommand)]
enum Econ {
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
        #[arg(long, value_enum, default_value = "inverse-income")]
        weights: SaezWeights,
        #[arg(long)]
        json: bool,
    },
    /// A rational worker's exact optimal hours.
    BestResponse {
        /// Dollars per hour.
        #[arg(long)]
        skill: f64,
        #[arg(long)]
        brackets: String,
        /// Rates as fractions, comma-separated (one per bracket).
        #[arg(long)]
        rates: String,
        /// Labor-cost scale (default: the default scenario's calibrated value).
        #[arg(long)]
        c: Option<f64>,
        #[arg(long)]
        delta: Option<f64>,
        /// Lump-sum rebate taken as given.
        #[arg(long, default_value_t = 0.0)]
        rebate: f64,
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
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
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
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Sample a population: incomes, skills, census personas, and its conditional medians by
    /// occupation, age band and sex next to the published statistics they were calibrated to.
    Population {
        #[arg(long, default_value_t = 10)]
        n: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Scenario overrides, e.g. --set population.persona_weight=0.5.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Print at most this many agents (the comparison always uses all n).
        #[arg(long, default_value_t = 20)]
        show: usize,
        #[arg(long)]
        json: bool,
    },
}

fn parse_list(what: &str, text: &str) -> anyhow::Result<Vec<f64>> {
    text.trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|x| {
            x.trim().parse::<f64>().with_context(|| {
                format!("{what}: {x:?} is not a number (expected e.g. 0,90000,159100)")
            })
        })
        .collect()
}

fn parse_brackets(text: &str) -> anyhow::Result<Vec<f64>> {
    match BracketPreset::parse(text) {
        Some(p) => Ok(p.cutoffs()),
        None => parse_list("--brackets", text).context(
            "--brackets takes a preset (flat, three, us-federal-2024, us-federal-2025) or cut-offs",
        ),
    }
}

/// The exit status of a run that stopped early (an LLM budget, too many fallbacks): its log
/// is intact and `simulacra resume` continues it.
const EXIT_STOPPED_EARLY: u8 = 3;

fn print_summary(s: &Summary, out: &Path) {
    let pct = |r: &[f64]| {
        r.iter()
            .map(|x| format!("{:.0}", x * 100.0))
            .collect::<Vec<_>>()
            .join("/")
    };
    println!(
        "{} agents x {} steps (tax year {}), seed {}",
        s.num_agents, s.steps_run, s.tax_year_length, s.seed
    );
    println!(
        "{:<12} {:>14} {:>28} {:>10} {:>7}",
        "schedule", "welfare", "rates %", "hours", "gini"
    );
    let mut rows = vec![(s.planner.planner.clone(), &s.planner)];
    if let Some(b) = &s.baselines.us_federal {
        rows.push(("us-federal".into(), b));
    }
    if let Some(b) = &s.baselines.saez {
        rows.push(("saez".into(), b));
    }
    for (name, g) in rows {
        println!(
            "{:<12} {:>14.4} {:>28} {:>10.2} {:>7.3}",
            name,
            g.swf,
            pct(&g.rates),
            g.mean_hours,
            g.gini
        );
    }
    if let Some(c) = &s.comparison {
        println!("{}", c.verdict);
    }
    if let Some(llm) = &s.llm {
        println!("{}", llm.report_line());
    }
    println!(
        "welfare = mean over the last tax year; outputs in {}",
        out.display()
    );
    let snaps = s.snapshots;
    if snaps.written + snaps.failed > 0 {
        println!(
            "snapshots: {} written to {}{}",
            snaps.written,
            out.join(simulacra::snapshot::SNAPSHOT_DIR).display(),
            if snaps.failed > 0 {
                format!(", {} could not be written (see the warnings)", snaps.failed)
            } else {
                String::new()
            }
        );
    }
}

fn progress_bar(total: u64) -> Option<simulacra_actors::Progress> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {per_sec}  eta {eta}")
            .expect("a valid template"),
    );
    Some(Box::new(move |done, total| {
        bar.set_position(done);
        if done == total {
            bar.finish_and_clear();
        }
    }))
}

fn main() -> ExitCode {
    // async-openai logs whole response bodies it cannot parse; what a server sends never
    // reaches the terminal whole, whatever RUST_LOG asks (the LLM client answers those bodies
    // itself; this holds if one ever slips through).
    let quiet_client = "async_openai=off"
        .parse()
        .expect("a constant log directive parses");
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"))
                .add_directive(quiet_client),
        )
        .with_writer(std::io::stderr)
        .init();
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            scenario,
            sets,
            out,
            quiet,
        } => {
            let scenario = Scenario::load(scenario.as_deref(), &sets)?;
            let out = out.unwrap_or_else(|| default_out_dir(&scenario));
            let progress = if quiet {
                None
            } else {
                progress_bar(scenario.simulation.timesteps)
            };
            let summary = run_scenario(&scenario, &out, progress)?;
            print_summary(&summary, &out);
            if summary.halted.is_some() {
                return Ok(ExitCode::from(EXIT_STOPPED_EARLY));
            }
        }
        Command::Fork {
            run_dir,
            at,
            sets,
            out,
        } => {
            let forked = simulacra::run::fork_run(&run_dir, at, &sets, &out)?;
            let prefix = match forked.from_snapshot {
                Some(step) => {
                    format!("the shared prefix restored from the snapshot at step {step}")
                }
                None => "the shared prefix re-executed from step 0".to_string(),
            };
            println!(
                "forked {} at step {at} into {} ({prefix})",
                run_dir.display(),
                out.display()
            );
            print_summary(&forked.summary, &out);
            if forked.summary.halted.is_some() {
                return Ok(ExitCode::from(EXIT_STOPPED_EARLY));
            }
        }
        Command::Resume { run_dir } => {
            let r = simulacra::run::resume_run(&run_dir)?;
            let from = match r.from_snapshot {
                Some(step) => format!("restored from the snapshot at step {step}"),
                None => "re-executed from step 0".to_string(),
            };
            println!(
                "resumed {}: {} whole steps were kept ({} bytes of an unfinished step cut), {from}; now {} steps, log sha256 {}",
                run_dir.display(),
                r.steps_kept,
                r.bytes_cut,
                r.summary.steps_run,
                r.summary.log_sha256
            );
            print_summary(&r.summary, &run_dir);
            if r.summary.halted.is_some() {
                return Ok(ExitCode::from(EXIT_STOPPED_EARLY));
            }
        }
        Command::Replay { run_dir, verify } => {
            if !verify {
                bail!("replay needs --verify (re-execute and compare with the recorded log)");
            }
            match verify_replay(&run_dir)? {
                ReplayVerdict::Identical { frames } => {
                    println!(
                        "identical: all {frames} frames of {} match",
                        run_dir.join("run.log").display()
                    );
                }
                ReplayVerdict::Differs(d) => {
                    println!("differs: {d}");
                    return Ok(ExitCode::from(1));
                }
                ReplayVerdict::Failed(why) => {
                    println!("differs: {why}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
        Command::Inspect {
            run_dir,
            round,
            prompts,
            agent,
            json,
        } => match round {
            None if agent.is_some() => {
                let t = inspect_agent::agent_trajectory(&run_dir, agent.unwrap_or_default())?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&t)?);
                } else {
                    print!("{}", inspect_agent::render_trajectory(&t));
                }
            }
            Some(k) if prompts => {
                let detail = inspect::round_detail(&run_dir, k)?;
                let exchanges = inspect_agent::round_exchanges(&run_dir, &detail)?;
                if json {
                    let full = inspect_agent::RoundWithPrompts { detail, exchanges };
                    println!("{}", serde_json::to_string_pretty(&full)?);
                } else {
                    print!("{}", inspect::render_round(&detail));
                    print!("{}", inspect_agent::render_exchanges(&exchanges));
                }
            }
            None => {
                let (rows, damaged) = inspect::game_table(&run_dir)?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&json!({"rounds": rows, "damaged": damaged}))?
                    );
                } else {
                    print!("{}", inspect::render_table(&rows, damaged.as_deref()));
                }
            }
            Some(k) => {
                let detail = inspect::round_detail(&run_dir, k)?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&detail)?);
                } else {
                    print!("{}", inspect::render_round(&detail));
                }
            }
        },
        Command::Sweep {
            scenario,
            seeds,
            sets,
            grids,
            out,
            jobs,
            quiet,
            json,
        } => {
            let spec = sweep::SweepSpec {
                scenario,
                sets,
                grid: grids
                    .iter()
                    .map(|g| sweep::parse_grid(g))
                    .collect::<anyhow::Result<_>>()?,
                seeds: sweep::parse_seeds(&seeds)?,
                out,
                jobs,
            };
            let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
                let bar = indicatif::ProgressBar::new(0);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:40} {pos}/{len} runs  {per_sec}  eta {eta}",
                    )
                    .expect("a valid template"),
                );
                bar
            });
            let result = sweep::run_sweep(&spec, bar.as_ref())?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "aggregates": result.aggregates,
                        "runs": result.rows,
                        "seconds": result.seconds,
                    }))?
                );
            } else {
                print!("{}", sweep::render_aggregates(&result));
                println!(
                    "{} runs in {:.1} s; mean +- sample std over seeds; tables in {} and {}",
                    result.rows.len(),
                    result.seconds,
                    spec.out.join("aggregate.csv").display(),
                    spec.out.join("runs.csv").display()
                );
            }
        }
        Command::Report { run_dir } => {
            let dir = simulacra::report::write_report(&run_dir)?;
            println!(
                "wrote {} plots (SVG and PNG) and {}",
                simulacra::report::PLOTS.len(),
                dir.join("report.html").display()
            );
        }
        Command::Export {
            run_dir,
            agents,
            events,
            out,
        } => {
            if agents.is_none() && events.is_none() {
                bail!("export needs --agents csv|parquet and/or --events jsonl");
            }
            let dir = out.unwrap_or_else(|| run_dir.clone());
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            if let Some(format) = agents {
                let (file, format) = match format {
                    AgentsFormat::Csv => ("agents.csv", export::AgentFormat::Csv),
                    AgentsFormat::Parquet => ("agents.parquet", export::AgentFormat::Parquet),
                };
                let path = dir.join(file);
                let rows = export::export_agents(&run_dir, &path, format)?;
                println!("{rows} rows -> {}", path.display());
            }
            if let Some(EventsFormat::Jsonl) = events {
                let path = dir.join("events.jsonl");
                let lines = export::export_events(&run_dir, &path)?;
                println!("{lines} events -> {}", path.display());
            }
        }
        Command::Econ(econ) => run_econ(econ)?,
        Command::Governance(GovernanceCmd::Compare {
            scenario,
            rules,
            sets,
            out,
            json,
        }) => {
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
            let rows = simulacra::run::compare_rules(&scenario, &rules, &out)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
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
                for r in &rows {
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
                println!(
                    "runs in {}; welfare: the last tax year's mean, and the mean over the run; deciles: mean utility at the last step",
                    out.display()
                );
            }
        }
        Command::Bench {
            agents,
            steps,
            shards,
            decisions,
            out,
            mut sets,
            json,
        } => {
            let mut all = vec![
                format!("simulation.num_agents={agents}"),
                format!("simulation.timesteps={steps}"),
                format!("simulation.shards={shards}"),
                format!("log.decisions={decisions}"),
                "baselines.enabled=false".to_string(),
                "name=bench".to_string(),
            ];
            all.append(&mut sets);
            let scenario = Scenario::load(None, &all)?;
            if let Some(dir) = &out {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let r = bench::bench(&scenario, out.as_deref())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "{} agents x {} steps ({} policy, {} shards, decisions {}):\n  population {:.2} s, actors {:.2} s, run {:.2} s, total {:.2} s\n  {:.2} M agent-steps/s, {:.0} bytes per agent, peak RSS {:.0} MiB, log {:.1} MiB",
                    r.agents,
                    r.steps,
                    r.worker_policy,
                    r.shards,
                    r.decisions,
                    r.population_seconds,
                    r.spawn_seconds,
                    r.run_seconds,
                    r.total_seconds,
                    r.agent_steps_per_second / 1e6,
                    r.bytes_per_agent,
                    r.peak_rss_bytes as f64 / (1 << 20) as f64,
                    r.log_bytes as f64 / (1 << 20) as f64
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_econ(econ: Econ) -> anyhow::Result<()> {
    match econ {
        Econ::Saez {
            incomes,
            brackets,
            elasticity,
            weights,
            json,
        } => {
            let text = std::fs::read_to_string(&incomes)
                .with_context(|| format!("cannot read {}", incomes.display()))?;
            let mut values = Vec::new();
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let v: f64 = line.parse().with_context(|| {
                    format!(
                        "{} line {}: {line:?} is not a number",
                        incomes.display(),
                        i + 1
                    )
                })?;
                if !(v.is_finite() && v >= 0.0) {
                    bail!(
                        "{} line {}: incomes must be finite and >= 0",
                        incomes.display(),
                        i + 1
                    );
                }
                values.push(v);
            }
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
            let defaults = Scenario::default().utility_form();
            let form = UtilityForm::QuasiLinear {
                c: c.unwrap_or(defaults.c()),
                delta: delta.unwrap_or(defaults.delta()),
            };
            form.validate()?;
            if !(skill.is_finite() && skill >= 0.0) {
                bail!("--skill must be a finite number >= 0 (dollars per hour)");
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
                println!("{}", serde_json::to_string_pretty(&r)?);
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
                println!("{}", serde_json::to_string_pretty(&r)?);
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
            let scenario = Scenario::load(None, &all)?;
            let pop = Population::generate(&scenario);
            let report = calibration_report(&pop.personas(), &pop.census_incomes);
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
                        "labor_cost_c": scenario.utility_form().c(),
                        "agents": agents,
                        "calibration": report,
                    }))?
                );
            } else {
                for a in &agents {
                    println!(
                        "{:>5} {:>12.2} {:>9.2}/h  {:>5.1}%  {}",
                        a.id,
                        a.income,
                        a.skill,
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
    Ok(())
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
