//! What a run reports: `summary.json` (the main game, the baselines, the comparison,
//! governance, deciles, archetypes, a federation's regions); its tables are in `tables.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{Scenario, WorkerPolicyName};
use crate::econ::TaxSchedule;
use crate::frames::StepOutcome;
use crate::llm::LlmStats;
use crate::population::Population;

use super::tables::year_welfare;
pub use super::tables::{write_elections_csv, write_steps_csv};

/// Summary metrics of one game (the main run or a baseline).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GameSummary {
    pub planner: String,
    pub worker_policy: WorkerPolicyName,
    /// How the workers decided, in words (baselines of LLM runs use exact best responses).
    pub workers: String,
    /// Mean welfare over the last tax year.
    pub swf: f64,
    pub cutoffs: Vec<f64>,
    pub rates: Vec<f64>,
    pub mean_hours: f64,
    pub gini: f64,
    pub revenue: f64,
    /// Productivity: mean pre-tax income.
    pub productivity: f64,
    /// The AI Economist's equality x productivity: (1 - Gini) x mean income.
    pub equality_x_productivity: f64,
}

pub(super) fn summarize(
    planner: &str,
    scenario: &Scenario,
    schedule: &TaxSchedule,
    records: &[StepOutcome],
) -> GameSummary {
    let last_year = records.last().map_or(0, |r| r.tax_year);
    let year: Vec<&StepOutcome> = records.iter().filter(|r| r.tax_year == last_year).collect();
    let mean = |f: fn(&StepOutcome) -> f64| {
        if year.is_empty() {
            0.0
        } else {
            year.iter().map(|r| f(r)).sum::<f64>() / year.len() as f64
        }
    };
    GameSummary {
        planner: planner.to_string(),
        worker_policy: scenario.workers.policy,
        workers: match scenario.workers.policy {
            WorkerPolicyName::Rational => "rational (exact best responses)".into(),
            other => format!("{other:?}").to_lowercase(),
        },
        swf: mean(|r| r.welfare),
        cutoffs: schedule.cutoffs().to_vec(),
        rates: schedule.rates().to_vec(),
        mean_hours: mean(|r| r.mean_hours),
        gini: mean(|r| r.gini),
        revenue: mean(|r| r.revenue),
        productivity: mean(|r| r.mean_income),
        equality_x_productivity: mean(|r| (1.0 - r.gini) * r.mean_income),
    }
}

/// A worker policy as the scenario spells it (`llm`, `rational`, ...).
pub fn policy_word(policy: WorkerPolicyName) -> String {
    serde_json::to_value(policy)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{policy:?}").to_lowercase())
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub num_agents: usize,
    pub timesteps: u64,
    pub tax_year_length: u64,
    pub steps_run: u64,
    /// Mean welfare over the last tax year.
    pub swf_final: f64,
    /// Mean welfare over every step of the run (a fairer figure when schedules cycle).
    pub swf_mean: f64,
    pub tax_rates_final: Vec<f64>,
    pub cutoffs: Vec<f64>,
    pub mean_hours_final: f64,
    pub gini_final: f64,
    pub planner: GameSummary,
    pub baselines: BaselineSummaries,
    pub comparison: Option<BaselineComparison>,
    pub labor_cost_c: f64,
    pub labor_exponent: f64,
    pub log_sha256: String,
    pub log_frames: u64,
    pub log_bytes: u64,
    /// LLM requests, retries, fallbacks and tokens (absent for offline runs).
    pub llm: Option<LlmStats>,
    /// Archetype mode's savings (absent when off).
    pub archetypes: Option<ArchetypeSummary>,
    /// Elections (absent under a planner).
    pub governance: Option<GovernanceSummary>,
    /// Mean own utility at the last step of the workers in the bottom and the median census
    /// income deciles (majority exploitation shows up here).
    pub deciles: DecileWelfare,
    /// Why the run stopped before `timesteps`, if it did.
    pub halted: Option<String>,
    /// A federation: each region (absent for one nation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<RegionSummary>,
    /// A federation: moves and sorting (absent for one nation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federation: Option<FederationSummary>,
    /// A population mixing models (`workers.models`): per model, its workers and their mean
    /// hours and own utility at the last step (absent when one model serves them all; the LLM
    /// counts per model are in `llm.by_model`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_model: BTreeMap<String, ModelOutcome>,
    /// Snapshots this invocation wrote, and those it could not write. Not in `summary.json`:
    /// they depend on where a resumed run started, the summary does not.
    #[serde(skip)]
    pub snapshots: SnapshotCounts,
}

impl Summary {
    /// `RUN_DIR/summary.json` when the run wrote one (a run that stopped before its end has
    /// none: the report and the viewer then go without the baselines). A summary that does not
    /// parse, or that describes another log than `RUN_DIR/run.log`, is an error: used beside
    /// that log it would mix two runs.
    pub fn read(run_dir: &Path) -> anyhow::Result<Option<Summary>> {
        use anyhow::Context;
        let path = run_dir.join("summary.json");
        let file = match simulacra_actors::log::open_regular(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
        };
        let summary: Summary = serde_json::from_reader(std::io::BufReader::new(file))
            .with_context(|| format!("{} is not a simulacra summary", path.display()))?;
        let log = run_dir.join(crate::runlog::LOG_FILE);
        let actual = simulacra_actors::log::file_sha256(&log)?;
        if summary.log_sha256 != actual {
            anyhow::bail!(
                "{} describes a log with SHA-256 {}, but {} has SHA-256 {actual}: the summary \
                 belongs to another run (or to this log before it changed), so it would mix two \
                 runs; move the summary away to use the log alone",
                path.display(),
                summary.log_sha256,
                log.display()
            );
        }
        Ok(Some(summary))
    }
}

/// Snapshots written and failed by one invocation of run, resume or fork.
#[derive(Clone, Copy, Debug, Default)]
pub struct SnapshotCounts {
    pub written: u64,
    pub failed: u64,
}

/// One region in `summary.json`: its figures are means over the last tax year, like the
/// nation's; `rates` and `rebate` are those in force at the end.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegionSummary {
    pub region: u32,
    pub population: usize,
    pub swf: f64,
    pub rates: Vec<f64>,
    pub rebate: f64,
    pub revenue: f64,
    pub mean_hours: f64,
    pub gini: f64,
    pub productivity: f64,
    /// The federal transfer it received per step (0 without equalization).
    pub transfer: f64,
    pub moves_in: u64,
    pub moves_out: u64,
    /// Its welfare with its residents' location utility (taste, amenity, moving cost paid),
    /// mean over the last tax year (absent in summaries from before it was logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swf_with_location: Option<f64>,
}

/// The `federation` block of `summary.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FederationSummary {
    pub regions: usize,
    /// (tax year, workers who moved at its start), for every year that allowed moves.
    pub moves_per_year: Vec<(u64, u64)>,
    pub moves_total: u64,
    /// The share of the variance of incomes between regions, at the last step.
    pub income_segregation: f64,
    /// The nation's welfare with every worker's location utility, mean over the last tax year
    /// (beside `swf_final`, which leaves location out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swf_with_location: Option<f64>,
    /// Under consistent expectations: (years with moves, years whose movers' fixed point
    /// converged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mover_fixed_points: Option<(u64, u64)>,
    /// The federal layer: its rates at the end and its revenue per step over the last tax
    /// year (absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federal_rates: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federal_revenue: Option<f64>,
    /// Federal transfers to the regions per step over the last tax year, summed.
    pub transfers: f64,
    /// An elected federal layer's elections, as the `governance` block gives a nation's
    /// (absent under a federal planner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federal_governance: Option<GovernanceSummary>,
    /// Competing regions (`planner = "nash"`): their equilibrium rates, objectives and
    /// populations as the best responses found them, the rounds, whether they settled, and
    /// the length of a cycle if they did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nash: Option<crate::econ::federation::NashOutcome>,
}

/// The `regions` list and `federation` block of a federation's summary.
pub fn federation_summary(
    scenario: &Scenario,
    state: Option<&crate::memory::FederationState>,
    records: &[StepOutcome],
    location: &[crate::frames::LocationOutcome],
) -> (Vec<RegionSummary>, Option<FederationSummary>) {
    let Some(f) = state else {
        return (Vec::new(), None);
    };
    // The last tax year's steps, as the other figures are taken.
    let last_year = records.last().map(|r| r.tax_year);
    let year_location: Vec<&crate::frames::LocationOutcome> = location
        .iter()
        .filter(|l| Some(l.tax_year) == last_year)
        .collect();
    let mean_location = |pick: &dyn Fn(&crate::frames::LocationOutcome) -> Option<f64>| {
        let v: Vec<f64> = year_location.iter().filter_map(|l| pick(l)).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let mut populations = vec![0usize; f.regions.len()];
    for &r in &f.region_of {
        populations[r as usize] += 1;
    }
    let regions: Vec<RegionSummary> = f
        .regions
        .iter()
        .enumerate()
        .map(|(r, region)| {
            // The running year when it has steps (a run ends inside it), else the last whole one.
            let (sums, count) = region.year;
            let m = if count > 0 {
                sums.map(|x| x / count as f64)
            } else {
                region.last_year.unwrap_or_default()
            };
            RegionSummary {
                region: r as u32,
                population: populations[r],
                swf: m[0],
                rates: region.schedule.rates().to_vec(),
                rebate: region.last_rebate,
                revenue: m[1],
                mean_hours: m[2],
                gini: m[3],
                productivity: m[4],
                transfer: m[5],
                moves_in: region.moves_in,
                moves_out: region.moves_out,
                swf_with_location: mean_location(&|l| l.regions.get(r).copied()),
            }
        })
        .collect();
    let federal_revenue = f.federal.as_ref().map(|fed| {
        if fed.year.1 > 0 {
            fed.year.0 / fed.year.1 as f64
        } else {
            fed.last_year.unwrap_or(0.0)
        }
    });
    let transfers = regions.iter().map(|r: &RegionSummary| r.transfer).sum();
    let federal_governance = f
        .federal
        .as_ref()
        .and_then(|fed| fed.governance.as_ref())
        .zip(scenario.federation.as_ref())
        .map(|(elected, config)| {
            elections_summary(
                config
                    .federal_rule
                    .clone()
                    .unwrap_or_else(|| scenario.governance.rule.clone()),
                config
                    .federal_term_years
                    .unwrap_or(scenario.governance.term_years),
                &elected.held,
                records,
            )
        });
    let federation = FederationSummary {
        federal_governance,
        federal_rates: f.federal.as_ref().map(|fed| fed.schedule.rates().to_vec()),
        federal_revenue,
        transfers,
        regions: f.regions.len(),
        moves_total: f.moves.iter().map(|m| m.1).sum(),
        moves_per_year: f.moves.clone(),
        income_segregation: f.segregation,
        swf_with_location: mean_location(&|l| Some(l.welfare)),
        mover_fixed_points: None,
        nash: None,
    };
    (regions, Some(federation))
}

/// The `governance` block of `summary.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GovernanceSummary {
    pub rule: String,
    pub term_years: u64,
    pub elections: usize,
    pub distinct_winners: usize,
    pub mean_turnout: f64,
    pub mean_margin: f64,
    pub ties_broken: usize,
    /// Mean welfare over the tax years that followed an election.
    pub mean_welfare_after_election: f64,
    /// Liquid democracy only: each election's concentration of delegated weight.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub liquid: Vec<LiquidElection>,
}

/// One liquid election's weights, as `summary.json` lists them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LiquidElection {
    pub tax_year: u64,
    #[serde(flatten)]
    pub measures: crate::governance::liquid::LiquidMeasures,
}

pub(super) fn governance_summary(
    scenario: &Scenario,
    rows: &[crate::memory::ElectionRow],
    records: &[StepOutcome],
) -> Option<GovernanceSummary> {
    if scenario.governance.mode != crate::config::GovernanceMode::Election {
        return None;
    }
    Some(elections_summary(
        scenario.governance.rule.clone(),
        scenario.governance.term_years,
        rows,
        records,
    ))
}

/// The elections `rows` held under `rule` and `term_years`, with the nation's welfare in the
/// years that followed them.
fn elections_summary(
    rule: String,
    term_years: u64,
    rows: &[crate::memory::ElectionRow],
    records: &[StepOutcome],
) -> GovernanceSummary {
    let k = rows.len().max(1) as f64;
    let mut winners: Vec<u64> = rows.iter().map(|r| r.winner).collect();
    winners.sort_unstable();
    winners.dedup();
    let years: Vec<f64> = rows
        .iter()
        .map(|r| year_welfare(records, r.tax_year))
        .collect();
    GovernanceSummary {
        rule,
        term_years,
        elections: rows.len(),
        distinct_winners: winners.len(),
        mean_turnout: rows.iter().map(|r| r.turnout).sum::<f64>() / k,
        mean_margin: rows.iter().map(|r| r.margin).sum::<f64>() / k,
        ties_broken: rows.iter().filter(|r| r.tie_broken).count(),
        mean_welfare_after_election: years.iter().sum::<f64>() / years.len().max(1) as f64,
        liquid: rows
            .iter()
            .filter_map(|r| {
                r.liquid.clone().map(|measures| LiquidElection {
                    tax_year: r.tax_year,
                    measures,
                })
            })
            .collect(),
    }
}

/// One model's workers at the last step of a mixed population.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelOutcome {
    pub workers: u64,
    pub mean_hours: f64,
    pub mean_utility: f64,
}

/// Per model of a mixed population (`models[i]` is worker i's model), its workers' mean hours
/// and utility; empty for one model.
pub(super) fn by_model(
    names: &[String],
    models: &[u16],
    hours: &[f64],
    utilities: &[f64],
) -> BTreeMap<String, ModelOutcome> {
    let mut sums = vec![(0u64, 0.0, 0.0); names.len()];
    for ((&m, &h), &u) in models.iter().zip(hours).zip(utilities) {
        let s = &mut sums[usize::from(m)];
        s.0 += 1;
        s.1 += h;
        s.2 += u;
    }
    names
        .iter()
        .zip(sums)
        .map(|(name, (n, h, u))| {
            let d = n.max(1) as f64;
            (
                name.clone(),
                ModelOutcome {
                    workers: n,
                    mean_hours: h / d,
                    mean_utility: u / d,
                },
            )
        })
        .collect()
}

/// Mean utilities of income deciles.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DecileWelfare {
    /// Workers in the lowest 10% of census incomes.
    pub bottom: f64,
    /// Workers between the 45th and 55th percentiles.
    pub median: f64,
}

pub(super) fn decile_welfare(population: &Population, utilities: &[f64]) -> DecileWelfare {
    let n = utilities.len();
    if n == 0 {
        return DecileWelfare::default();
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        population.census_incomes[a]
            .total_cmp(&population.census_incomes[b])
            .then(a.cmp(&b))
    });
    let mean_of = |lo: usize, hi: usize| {
        let ids = &order[lo..hi.max(lo + 1).min(n)];
        ids.iter().map(|&i| utilities[i]).sum::<f64>() / ids.len() as f64
    };
    DecileWelfare {
        bottom: mean_of(0, n.div_ceil(10)),
        median: mean_of(n * 45 / 100, n * 55 / 100),
    }
}

/// What archetype mode saved.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArchetypeSummary {
    pub buckets: usize,
    /// Workers whose decisions were their representative's.
    pub followers: usize,
    /// Worker decisions made without an LLM exchange of their own (followers x steps).
    pub decisions_shared: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BaselineSummaries {
    pub us_federal: Option<GameSummary>,
    pub saez: Option<GameSummary>,
    /// The baselines' own LLM calls, when their workers are the run's LLM workers
    /// (`baselines.workers = "same"`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmStats>,
}

impl BaselineSummaries {
    /// How the baselines' workers differ from the run's (`planner`'s), in words for a note
    /// beside the baselines; none when they are the same.
    pub fn workers_note(&self, planner: &GameSummary) -> Option<String> {
        let base = self.us_federal.as_ref().or(self.saez.as_ref())?;
        (base.worker_policy != planner.worker_policy).then(|| {
            format!(
                "the baselines are played by {} workers, not the run's {} workers \
                 (baselines.workers = \"same\" plays them with the run's own)",
                policy_word(base.worker_policy),
                policy_word(planner.worker_policy)
            )
        })
    }
}

/// How the planner did against the baselines, as measured (positive = planner higher).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BaselineComparison {
    pub planner_minus_us_federal: f64,
    pub planner_minus_saez: f64,
    /// (planner - saez) / |saez|, in percent.
    pub planner_vs_saez_percent: f64,
    pub planner_vs_us_federal_percent: f64,
    pub verdict: String,
}

pub(super) fn compare(planner: &GameSummary, b: &BaselineSummaries) -> Option<BaselineComparison> {
    let us = b.us_federal.as_ref()?;
    let saez = b.saez.as_ref()?;
    let pct = |x: f64, base: f64| 100.0 * (x - base) / base.abs().max(f64::MIN_POSITIVE);
    let against = |name: &str, base: f64| {
        let x = planner.swf;
        // A percentage of a welfare near zero, or of the other sign, says nothing (a planner
        // "beating Saez by 1191130.73%"): then the difference is given in welfare units, and
        // why.
        if x != base && (base * x <= 0.0 || base.abs() < 0.01 * x.abs()) {
            let d = x - base;
            return format!(
                "{} {name} by {:.4} (not a percentage: {name}'s welfare, {base:.4}, is under a \
                 hundredth of this one or of the other sign)",
                if d > 0.0 { "beats" } else { "trails" },
                d.abs()
            );
        }
        let d = pct(x, base);
        if d > 0.0 {
            format!("beats {name} by {d:.2}%")
        } else if d < 0.0 {
            format!("trails {name} by {:.2}%", -d)
        } else {
            format!("ties {name}")
        }
    };
    Some(BaselineComparison {
        planner_minus_us_federal: planner.swf - us.swf,
        planner_minus_saez: planner.swf - saez.swf,
        planner_vs_saez_percent: pct(planner.swf, saez.swf),
        planner_vs_us_federal_percent: pct(planner.swf, us.swf),
        verdict: format!(
            "the {} planner {} and {} on welfare{}",
            planner.planner,
            against("Saez", saez.swf),
            against("the 2024 US schedule", us.swf),
            if saez.worker_policy == planner.worker_policy {
                String::new()
            } else {
                format!(
                    " (the baselines with {} workers)",
                    policy_word(saez.worker_policy)
                )
            }
        ),
    })
}

pub(super) fn archetype_summary(rep: Option<&[u32]>, steps_run: u64) -> Option<ArchetypeSummary> {
    let rep = rep?;
    let followers = rep
        .iter()
        .enumerate()
        .filter(|(i, r)| **r as usize != *i)
        .count();
    Some(ArchetypeSummary {
        buckets: rep.len() - followers,
        followers,
        decisions_shared: followers as u64 * steps_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn game(planner: &str, swf: f64) -> GameSummary {
        GameSummary {
            planner: planner.into(),
            worker_policy: WorkerPolicyName::Rational,
            workers: "rational".into(),
            swf,
            cutoffs: vec![0.0],
            rates: vec![0.5],
            mean_hours: 40.0,
            gini: 0.3,
            revenue: 1.0,
            productivity: 1.0,
            equality_x_productivity: 1.0,
        }
    }

    fn verdict(planner: f64, saez: f64, us: f64) -> String {
        let b = BaselineSummaries {
            us_federal: Some(game("us-federal", us)),
            saez: Some(game("saez", saez)),
            llm: None,
        };
        compare(&game("hill-climb", planner), &b).unwrap().verdict
    }

    #[test]
    fn a_comparison_is_a_percentage_only_where_one_means_something() {
        // (110 - 100) / 100 and (110 - 120) / 120.
        assert_eq!(
            verdict(110.0, 100.0, 120.0),
            "the hill-climb planner beats Saez by 10.00% and trails the 2024 US schedule by \
             8.33% on welfare"
        );
        // Saez's welfare near zero: 1190900 % of it would say nothing.
        let v = verdict(119.1, 0.01, 100.0);
        assert!(
            v.contains(
                "beats Saez by 119.0900 (not a percentage: Saez's welfare, 0.0100, is under a \
                 hundredth of this one or of the other sign)"
            ),
            "{v}"
        );
        assert!(v.contains("beats the 2024 US schedule by 19.10%"), "{v}");
        // Of the other sign.
        let v = verdict(-5.0, 20.0, 20.0);
        assert!(
            v.contains("trails Saez by 25.0000 (not a percentage"),
            "{v}"
        );
    }
}
