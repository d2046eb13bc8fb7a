//! `simulacra export`: a run's log as files pandas, polars or DuckDB read without cleanup.
//!
//! - per-agent-per-step rows (`agents.csv` or `agents.parquet`): `step, tax_year, agent, skill,
//!   hours, income, tax, utility` (and `region`, in federation runs only), recomputed from the
//!   logged hours with the pure settlement, and `model` when the workers mix models
//!   (`workers.models`; exports of other runs keep their bytes);
//! - `regions.csv` (federation runs): one row per region per step, from its logged outcome;
//! - `events.jsonl`: one JSON object per line for every step start, planner move, outcome and
//!   LLM exchange, with an `event` field naming the kind.
//!
//! Parquet goes through the arrow-rs `parquet` crate's low-level column writer (no Arrow
//! arrays), Snappy-compressed, one row group per block of steps of at most ~1M rows.
//!
//! Every file is written through [`crate::outfile`]: an interrupted or refused export leaves no
//! truncated CSV or footer-less Parquet under the final name.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use serde_json::{Value, json};

use crate::logview::{RunView, StepData, check_whole, scan};
use crate::outfile::{OutFile, Writer};

/// A Parquet error for people: an I/O error is the writer's own message (the file and the next
/// step, see [`crate::outfile::failure`]), without the encoder's `External:` prefix.
fn parquet_failure(e: parquet::errors::ParquetError) -> anyhow::Error {
    match e {
        parquet::errors::ParquetError::External(inner) => anyhow::anyhow!("{inner}"),
        other => anyhow::anyhow!("cannot encode the Parquet file: {other}"),
    }
}

/// The per-agent columns, in order (documented in the README).
pub const AGENT_COLUMNS: [&str; 8] = [
    "step", "tax_year", "agent", "skill", "hours", "income", "tax", "utility",
];

/// Rows per Parquet row group (whole steps are kept together).
const ROW_GROUP_ROWS: usize = 1 << 20;

/// Which per-agent format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentFormat {
    Csv,
    Parquet,
}

/// Column buffers of a block of per-agent rows.
#[derive(Default)]
struct Block {
    step: Vec<i64>,
    tax_year: Vec<i64>,
    agent: Vec<i64>,
    skill: Vec<f64>,
    hours: Vec<f64>,
    income: Vec<f64>,
    tax: Vec<f64>,
    utility: Vec<f64>,
    /// Federation runs only.
    region: Vec<i64>,
    /// Mixed-model runs only.
    model: Vec<ByteArray>,
}

impl Block {
    fn len(&self) -> usize {
        self.step.len()
    }
    fn clear(&mut self) {
        *self = Block::default();
    }
}

fn parquet_writer(
    out: &OutFile,
    regions: bool,
    with_model: bool,
) -> anyhow::Result<SerializedFileWriter<Writer>> {
    let schema = parse_message_type(&format!(
        "message agent_steps {{
            REQUIRED INT64 step;
            REQUIRED INT64 tax_year;
            REQUIRED INT64 agent;
            REQUIRED DOUBLE skill;
            REQUIRED DOUBLE hours;
            REQUIRED DOUBLE income;
            REQUIRED DOUBLE tax;
            REQUIRED DOUBLE utility;{}
        }}",
        match (regions, with_model) {
            (false, false) => "",
            (true, false) => "\n            REQUIRED INT64 region;",
            (false, true) => "\n            REQUIRED BYTE_ARRAY model (UTF8);",
            (true, true) => {
                "\n            REQUIRED INT64 region;\n            REQUIRED BYTE_ARRAY model (UTF8);"
            }
        }
    ))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("simulacra {}", env!("CARGO_PKG_VERSION")))
        .build();
    SerializedFileWriter::new(out.handle()?, Arc::new(schema), Arc::new(props))
        .map_err(parquet_failure)
}

fn write_row_group(w: &mut SerializedFileWriter<Writer>, b: &Block) -> anyhow::Result<()> {
    encode_row_group(w, b).map_err(parquet_failure)
}

fn encode_row_group(
    w: &mut SerializedFileWriter<Writer>,
    b: &Block,
) -> parquet::errors::Result<()> {
    let mut rg = w.next_row_group()?;
    let ints = [&b.step, &b.tax_year, &b.agent];
    let floats = [&b.skill, &b.hours, &b.income, &b.tax, &b.utility];
    let mut col_index = 0;
    while let Some(mut col) = rg.next_column()? {
        if col_index < ints.len() {
            col.typed::<Int64Type>()
                .write_batch(ints[col_index], None, None)?;
        } else if col_index >= ints.len() + floats.len() {
            let extra = col_index - ints.len() - floats.len();
            if extra == 0 && !b.region.is_empty() {
                col.typed::<Int64Type>()
                    .write_batch(&b.region, None, None)?;
            } else {
                col.typed::<ByteArrayType>()
                    .write_batch(&b.model, None, None)?;
            }
        } else {
            col.typed::<DoubleType>()
                .write_batch(floats[col_index - ints.len()], None, None)?;
        }
        col.close()?;
        col_index += 1;
    }
    rg.close()?;
    Ok(())
}

/// Writes every worker's row at every step to `path`; returns the number of rows.
///
/// A log that holds less of its run than it should is refused unless `partial` (see
/// [`check_whole`]).
pub fn export_agents(run_dir: &Path, path: &Path, format: AgentFormat) -> anyhow::Result<u64> {
    export_agents_with(run_dir, path, format, false)
}

/// [`export_agents`], reading a log short of its run up to its last whole step when `partial`.
pub fn export_agents_with(
    run_dir: &Path,
    path: &Path,
    format: AgentFormat,
    partial: bool,
) -> anyhow::Result<u64> {
    let view = RunView::open(run_dir)?;
    let n = view.population.len();
    let regions = view.scenario.regions().is_some();
    // Each worker's model, when the workers mix them.
    let models = &view.scenario.workers.models;
    let model_of: Option<Vec<ByteArray>> = (models.len() > 1).then(|| {
        let shares: Vec<f64> = models.iter().map(|m| m.share).collect();
        let names: Vec<ByteArray> = models
            .iter()
            .map(|m| ByteArray::from(m.model.as_str()))
            .collect();
        crate::llm::models::assign(&shares, n, view.scenario.simulation.seed)
            .into_iter()
            .map(|m| names[usize::from(m)].clone())
            .collect()
    });
    let mut rows = 0u64;
    let mut steps = 0u64;
    let mut digest_only = false;
    let mut block = Block::default();
    let out = OutFile::create(path, view.fsync())?;
    let mut csv = None;
    let mut pq = None;
    match format {
        AgentFormat::Csv => {
            let mut w = BufWriter::new(out.handle()?);
            let region = if regions { ",region" } else { "" };
            let model_column = if model_of.is_some() { ",model" } else { "" };
            writeln!(w, "{}{region}{model_column}", AGENT_COLUMNS.join(","))?;
            csv = Some(w);
        }
        AgentFormat::Parquet => pq = Some(parquet_writer(&out, regions, model_of.is_some())?),
    }
    let damaged = scan(run_dir, true, |s: StepData| {
        steps += 1;
        let Some(settlement) = view.settle(&s)? else {
            digest_only = true;
            return Ok(());
        };
        let hours = s.hours.as_ref().expect("settled steps have hours");
        if let Some(w) = csv.as_mut() {
            for (i, h) in hours.iter().enumerate() {
                write!(
                    w,
                    "{},{},{},{},{},{},{},{}",
                    s.step,
                    s.tax_year,
                    i,
                    view.population.skills[i],
                    h,
                    settlement.incomes[i],
                    settlement.taxes[i],
                    settlement.utilities[i]
                )?;
                if let Some(map) = &s.region_of {
                    write!(w, ",{}", map[i])?;
                }
                match &model_of {
                    // Model names are TOML strings: quoted as CSV wants when they need it.
                    Some(m) => writeln!(w, ",{}", csv_field(m[i].as_utf8()?))?,
                    None => writeln!(w)?,
                }
            }
        } else if let Some(w) = pq.as_mut() {
            block.step.extend(std::iter::repeat_n(s.step as i64, n));
            block
                .tax_year
                .extend(std::iter::repeat_n(s.tax_year as i64, n));
            block.agent.extend(0..n as i64);
            block.skill.extend_from_slice(&view.population.skills);
            block.hours.extend_from_slice(hours);
            block.income.extend_from_slice(&settlement.incomes);
            block.tax.extend_from_slice(&settlement.taxes);
            block.utility.extend_from_slice(&settlement.utilities);
            if let Some(map) = &s.region_of {
                block.region.extend(map.iter().map(|&r| i64::from(r)));
            }
            if let Some(m) = &model_of {
                block.model.extend_from_slice(m);
            }
            if block.len() >= ROW_GROUP_ROWS {
                write_row_group(w, &block)?;
                block.clear();
            }
        }
        rows += n as u64;
        Ok(())
    })?;
    if let Some(mut w) = csv {
        w.flush()?;
    }
    if let Some(mut w) = pq {
        if block.len() > 0 {
            write_row_group(&mut w, &block)?;
        }
        w.close().map_err(parquet_failure)?;
    }
    check_whole(run_dir, steps, damaged.as_ref(), "the export", partial)?;
    if digest_only && rows == 0 {
        bail!(
            "this run logged digests of the hours (log.decisions = \"digest\"), so there are no \
             per-agent rows to export; rerun with log.decisions = \"full\""
        );
    }
    out.commit()?;
    Ok(rows)
}

/// Writes a federation's `regions.csv` (the table a federation run writes itself, see
/// `run::regions_table`): one row per region per step; returns the number of rows.
pub fn export_regions(run_dir: &Path, path: &Path) -> anyhow::Result<u64> {
    export_regions_with(run_dir, path, false)
}

/// [`export_regions`], reading a log short of its run up to its last whole step when `partial`.
pub fn export_regions_with(run_dir: &Path, path: &Path, partial: bool) -> anyhow::Result<u64> {
    let view = RunView::open(run_dir)?;
    if view.scenario.regions().is_none() {
        bail!(
            "{} is not a federation run (its scenario has no [federation] with regions > 1), \
             so it has no regions to export",
            run_dir.display()
        );
    }
    let out = OutFile::create(path, view.fsync())?;
    let mut w = BufWriter::new(out.handle()?);
    use crate::run::regions_table;
    let public_good = view.scenario.has_public_good();
    writeln!(
        w,
        "{}",
        regions_table::header(view.scenario.cutoffs.len(), public_good)
    )?;
    let (mut rows, mut steps) = (0u64, 0u64);
    let damaged = scan(run_dir, false, |s| {
        steps += 1;
        let moved = regions_table::moves_by_region(s.moves.as_ref());
        for r in &s.regions {
            writeln!(
                w,
                "{}",
                regions_table::row(
                    r,
                    &view.scenario.cutoffs,
                    s.location.as_ref(),
                    &moved,
                    public_good
                )?
            )?;
            rows += 1;
        }
        Ok(())
    })?;
    w.flush()?;
    drop(w);
    check_whole(run_dir, steps, damaged.as_ref(), "the export", partial)?;
    out.commit()?;
    Ok(rows)
}

/// `text` as one CSV field: quoted (quotes doubled) when it holds a comma, quote or newline.
fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\"")).into()
    } else {
        text.into()
    }
}

fn event(kind: &str, body: Value) -> Value {
    let mut obj = serde_json::Map::new();
    obj.insert("event".into(), json!(kind));
    if let Value::Object(m) = body {
        obj.extend(m);
    }
    Value::Object(obj)
}

/// Writes `events.jsonl`; returns the number of lines.
///
/// Kinds: `step_begin` (`step`, `tax_year`), `planner_move` (`step`, `tax_year`, `policy`,
/// `observed_welfare`, `previous_rates`, `deltas_points`, `cutoffs`, `rates`), `outcome`
/// (`step`, `tax_year`, `rates`, `revenue`, `rebate`, `welfare`, `gini`, `mean_hours`,
/// `mean_income`, `mean_utility`), `election` (governance scenarios: `step`, `tax_year`, `rule`,
/// `candidates`, `ballots`, `count`, `turnout`, as the log holds them), federation runs' `moves`
/// (`step`, `tax_year`, `moves` as (worker, from, to), `segregation_before`,
/// `segregation_after`), `region_election` and `region_move` (an election or a planner move
/// with its `region`) and
/// `region_outcome` (`region`, `population`, `cutoffs`, `rates`, `revenue`, `rebate`,
/// `transfer`, `welfare`, `gini`, `mean_hours`, `mean_income`), `mover_expectations` (`step`,
/// `tax_year`, `deciders`, `rounds`, `residual`, `converged`, `rebates`: the movers' fixed point
/// under consistent expectations), `location` (`step`, `tax_year`, `welfare`, `regions`: welfare
/// with location), `llm` (`role`, `agent` (null for the planner), `step`,
/// `attempt`, `request_sha256`, `model`, `temperature`, `max_tokens`, `messages`, `outcome`),
/// `endpoint` (`step`, `endpoint`, `base_url`, `change`, `reason`: an LLM endpoint ejected or
/// returned).
/// Per-worker hours are not events: export them with `--agents`.
pub fn export_events(run_dir: &Path, path: &Path) -> anyhow::Result<u64> {
    export_events_with(run_dir, path, false)
}

/// [`export_events`], reading a log short of its run up to its last whole step when `partial`.
pub fn export_events_with(run_dir: &Path, path: &Path, partial: bool) -> anyhow::Result<u64> {
    let out = OutFile::create(path, RunView::open(run_dir)?.fsync())?;
    let mut w = BufWriter::new(out.handle()?);
    let (mut lines, mut steps) = (0u64, 0u64);
    let damaged = scan(run_dir, false, |s| {
        steps += 1;
        let mut out = vec![event(
            "step_begin",
            json!({"step": s.step, "tax_year": s.tax_year}),
        )];
        if let Some(e) = &s.election {
            out.push(event("election", serde_json::to_value(e)?));
        }
        if let Some(m) = &s.planner_move {
            out.push(event("planner_move", serde_json::to_value(m)?));
        }
        if let Some(m) = &s.moves {
            out.push(event("moves", serde_json::to_value(m)?));
        }
        if let Some(e) = &s.expectations {
            out.push(event("mover_expectations", serde_json::to_value(e)?));
        }
        for (region, e) in &s.region_elections {
            let mut v = serde_json::to_value(e)?;
            v["region"] = json!(region);
            out.push(event("region_election", v));
        }
        for (region, m) in &s.region_moves {
            let mut v = serde_json::to_value(m)?;
            v["region"] = json!(region);
            out.push(event("region_move", v));
        }
        for o in &s.regions {
            out.push(event("region_outcome", serde_json::to_value(o)?));
        }
        if let Some(l) = &s.location {
            out.push(event("location", serde_json::to_value(l)?));
        }
        if let Some(o) = &s.outcome {
            out.push(event("outcome", serde_json::to_value(o)?));
        }
        for e in &s.exchanges {
            out.push(event("llm", e.to_user_json()?));
        }
        for e in &s.endpoint_events {
            out.push(event("endpoint", serde_json::to_value(e)?));
        }
        for v in out {
            serde_json::to_writer(&mut w, &v)?;
            w.write_all(b"\n")?;
            lines += 1;
        }
        Ok(())
    })?;
    w.flush()?;
    drop(w);
    check_whole(run_dir, steps, damaged.as_ref(), "the export", partial)?;
    out.commit()?;
    Ok(lines)
}
