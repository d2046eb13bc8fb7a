//! `regions.csv`: a federation's regions step by step (population, rates, revenue, rebate,
//! transfer, welfare with and without location, hours, Gini, income, and the moves in and out
//! at the start of a tax year), read back from the run's log so a resumed or forked run writes
//! the same table as one played straight through; and the welfare with location of every step,
//! for `steps.csv` and the summary.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::frames::{Frame, LocationOutcome, MoveRecord, RegionOutcome};
use crate::runlog::RunLog;

/// The table's file name in a run folder.
pub const REGIONS_FILE: &str = "regions.csv";

/// The table's header line (without its newline) for `brackets` rate columns, and a last
/// `public_good` column (provision per resident) when the federation has public goods.
pub fn header(brackets: usize, public_good: bool) -> String {
    let rate_cols: String = (0..brackets).map(|j| format!("rate_{j},")).collect();
    format!(
        "step,tax_year,region,population,{rate_cols}revenue,rebate,transfer,welfare,\
         welfare_with_location,gini,mean_hours,mean_income,moves_in,moves_out{}",
        if public_good { ",public_good" } else { "" }
    )
}

/// Workers who moved into and out of each region in `moves` (a year's first step), by region.
pub fn moves_by_region(moves: Option<&MoveRecord>) -> BTreeMap<u32, (u64, u64)> {
    let mut out: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for &(_, from, to) in moves.map_or(&[][..], |m| &m.moves) {
        out.entry(to).or_default().0 += 1;
        out.entry(from).or_default().1 += 1;
    }
    out
}

/// One region's line of one step (without its newline): its rates read at the nation's
/// bracket starts `cutoffs` (a region's own brackets may differ), its welfare with location
/// (empty for a log from before it was logged), its moves in and out, and with `public_good`
/// its provision per resident: what its revenue and transfer per resident paid beyond the
/// rebate (empty for a region nobody lives in).
pub fn row(
    o: &RegionOutcome,
    cutoffs: &[f64],
    location: Option<&LocationOutcome>,
    moved: &BTreeMap<u32, (u64, u64)>,
    public_good: bool,
) -> anyhow::Result<String> {
    let schedule = crate::econ::TaxSchedule::new(o.cutoffs.clone(), o.rates.clone())?;
    let rates: String = cutoffs
        .iter()
        .map(|&z| format!("{},", schedule.marginal_rate(z)))
        .collect();
    let (moves_in, moves_out) = moved.get(&o.region).copied().unwrap_or_default();
    let with_location = location
        .and_then(|l| l.regions.get(o.region as usize))
        .map_or(String::new(), |w| w.to_string());
    let provision = match (public_good, o.population) {
        (false, _) => String::new(),
        (true, 0) => ",".to_string(),
        (true, _) => format!(",{}", o.public_good()),
    };
    Ok(format!(
        "{},{},{},{},{rates}{},{},{},{},{with_location},{},{},{},{moves_in},{moves_out}{provision}",
        o.step,
        o.tax_year,
        o.region,
        o.population,
        o.revenue,
        o.rebate,
        o.transfer,
        o.welfare,
        o.gini,
        o.mean_hours,
        o.mean_income,
    ))
}

/// What the run's log says beyond its region rows: each step's welfare with location, in step
/// order, and the movers' fixed points as (years, years converged).
pub struct FromLog {
    pub locations: Vec<LocationOutcome>,
    pub fixed_points: (u64, u64),
}

/// Writes `regions.csv` into a finished run's folder from its log, every whole step.
pub fn write_for_run(run_dir: &Path, fsync: bool) -> anyhow::Result<FromLog> {
    let log = RunLog::open(run_dir)?;
    let cutoffs = log.scenario.cutoffs()?;
    let file = crate::outfile::OutFile::create(&run_dir.join(REGIONS_FILE), fsync)?;
    let mut out = std::io::BufWriter::new(file.file());
    let public_good = log.scenario.has_public_good();
    writeln!(out, "{}", header(cutoffs.len(), public_good))?;
    // Moves are logged at a year's first step, before that step's region outcomes; a step's
    // welfare with location after them: rows wait for the step's outcome.
    let mut moved = BTreeMap::new();
    let mut pending: Vec<RegionOutcome> = Vec::new();
    let mut location: Option<LocationOutcome> = None;
    let mut locations = Vec::new();
    let mut fixed_points = (0, 0);
    let damage = log.frames(|frame, _| {
        match frame {
            Frame::Moves(m) => moved = moves_by_region(Some(&m)),
            Frame::MoverExpectations(e) => {
                fixed_points.0 += 1;
                fixed_points.1 += u64::from(e.converged);
            }
            Frame::RegionOutcome(o) => pending.push(o),
            Frame::Location(l) => location = Some(l),
            Frame::Outcome(_) => {
                for o in pending.drain(..) {
                    writeln!(
                        out,
                        "{}",
                        row(&o, &cutoffs, location.as_ref(), &moved, public_good)?
                    )?;
                }
                moved.clear();
                locations.extend(location.take());
            }
            _ => {}
        }
        Ok(())
    })?;
    if let Some(d) = damage {
        anyhow::bail!("{}: {d}", run_dir.join(crate::runlog::LOG_FILE).display());
    }
    out.flush()?;
    drop(out);
    file.commit()?;
    Ok(FromLog {
        locations,
        fixed_points,
    })
}
