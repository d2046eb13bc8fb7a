//! A run's tables beside its summary: `steps.csv` (one row per step) and `elections.csv` (one
//! row per election, a federation's with the place it was held).

use std::io::Write;
use std::path::Path;

use crate::frames::StepOutcome;
use crate::population::Population;

/// `elections.csv`: one row per election. In a federation (some row has a place) a `region`
/// column says where each was held: a region's number, or "federal".
pub fn write_elections_csv(
    path: &Path,
    rows: &[(Option<String>, &crate::memory::ElectionRow)],
    records: &[StepOutcome],
    population: &Population,
    fsync: bool,
) -> anyhow::Result<()> {
    // The winner's income decile (1 = poorest) by census income.
    let n = population.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        population.census_incomes[a]
            .total_cmp(&population.census_incomes[b])
            .then(a.cmp(&b))
    });
    let mut rank = vec![0usize; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    let file = crate::outfile::OutFile::create(path, fsync)?;
    let mut out = std::io::BufWriter::new(file.file());
    // Liquid elections add their weights' columns (only then, so other tables keep theirs).
    let liquid = rows.iter().any(|(_, r)| r.liquid.is_some());
    let placed = rows.iter().any(|(place, _)| place.is_some());
    let columns = "tax_year,step,rule,winner,winner_income_decile,margin,turnout,candidates,ballots,exhausted,tie_broken,welfare";
    writeln!(
        out,
        "{}{}",
        if placed {
            columns.replacen("step,", "step,region,", 1)
        } else {
            columns.to_string()
        },
        if liquid {
            ",largest_weight,weight_gini,delegated,lost"
        } else {
            ""
        }
    )?;
    for (place, r) in rows {
        let decile = if r.rule == "referendum" || (r.winner as usize) >= n {
            String::new()
        } else {
            (rank[r.winner as usize] * 10 / n + 1).to_string()
        };
        write!(
            out,
            "{},{},{}{},{},{},{},{},{},{},{},{},{}",
            r.tax_year,
            r.step,
            if placed {
                format!("{},", place.as_deref().unwrap_or(""))
            } else {
                String::new()
            },
            r.rule,
            r.winner,
            decile,
            r.margin,
            r.turnout,
            r.candidates,
            r.ballots,
            r.exhausted,
            r.tie_broken,
            year_welfare(records, r.tax_year)
        )?;
        match (&r.liquid, liquid) {
            (Some(m), _) => writeln!(
                out,
                ",{},{},{},{}",
                m.largest_weight, m.weight_gini, m.delegated, m.lost
            )?,
            (None, true) => writeln!(out, ",,,,")?,
            (None, false) => writeln!(out)?,
        }
    }
    out.flush()?;
    drop(out);
    file.commit()
}

/// `steps.csv`: one row per timestep; a federation's adds `welfare_with_location` (the
/// nation's, from `location`, one per step).
pub fn write_steps_csv(
    path: &Path,
    records: &[StepOutcome],
    location: Option<&[crate::frames::LocationOutcome]>,
    fsync: bool,
) -> anyhow::Result<()> {
    let k = records.iter().map(|r| r.rates.len()).max().unwrap_or(0);
    let file = crate::outfile::OutFile::create(path, fsync)?;
    let mut out = std::io::BufWriter::new(file.file());
    let rate_cols: Vec<String> = (0..k).map(|j| format!("rate_{j}")).collect();
    writeln!(
        out,
        "step,tax_year,{},revenue,rebate,welfare,gini,mean_hours,mean_income,mean_utility{}",
        rate_cols.join(","),
        if location.is_some() {
            ",welfare_with_location"
        } else {
            ""
        }
    )?;
    for r in records {
        // The location series is in step order, as the records are.
        let with_location = location.map(|l| {
            l.binary_search_by_key(&r.step, |x| x.step)
                .map_or(",".to_string(), |i| format!(",{}", l[i].welfare))
        });
        let rates: Vec<String> = (0..k)
            .map(|j| r.rates.get(j).map_or(String::new(), |x| x.to_string()))
            .collect();
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}{}",
            r.step,
            r.tax_year,
            rates.join(","),
            r.revenue,
            r.rebate,
            r.welfare,
            r.gini,
            r.mean_hours,
            r.mean_income,
            r.mean_utility,
            with_location.unwrap_or_default()
        )?;
    }
    out.flush()?;
    drop(out);
    file.commit()
}

/// Mean welfare over the steps of tax year `year`.
pub(super) fn year_welfare(records: &[StepOutcome], year: u64) -> f64 {
    let w: Vec<f64> = records
        .iter()
        .filter(|r| r.tax_year == year)
        .map(|r| r.welfare)
        .collect();
    w.iter().sum::<f64>() / w.len().max(1) as f64
}
