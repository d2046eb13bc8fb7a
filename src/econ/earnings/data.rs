//! The published U.S. earnings statistics the income model is built from: BLS OEWS May 2023
//! annual wages by SOC major group and BLS CPS 2023 median weekly earnings by occupation, sex
//! and age, parsed from the CSV files compiled into the binary.

use serde::Serialize;

use crate::econ::census::{Sex, split_csv_line};

const OEWS_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/oews_2023_major_groups.csv"
));
const CPS_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/cps_2023_weekly_earnings.csv"
));

/// Each persona-table occupation label and its SOC major group.
pub(super) const LABEL_TO_SOC: [(&str, &str); 22] = [
    ("Management occupations", "11-0000"),
    ("Business and financial operations", "13-0000"),
    ("Computer and mathematical occupations", "15-0000"),
    ("Architecture and engineering", "17-0000"),
    ("Life, physical, and social science", "19-0000"),
    ("Community and social service", "21-0000"),
    ("Legal occupations", "23-0000"),
    ("Educational instruction and library", "25-0000"),
    ("Arts, design, entertainment, sports, and media", "27-0000"),
    ("Healthcare practitioners and technical", "29-0000"),
    ("Healthcare support occupations", "31-0000"),
    ("Protective service occupations", "33-0000"),
    ("Food preparation and serving", "35-0000"),
    ("Building and grounds cleaning and maintenance", "37-0000"),
    ("Personal care and service", "39-0000"),
    ("Sales and related occupations", "41-0000"),
    ("Office and administrative support", "43-0000"),
    ("Farming, fishing, and forestry", "45-0000"),
    ("Construction and extraction", "47-0000"),
    ("Installation, maintenance, and repair", "49-0000"),
    ("Production occupations", "51-0000"),
    ("Transportation and material moving", "53-0000"),
];

/// The SOC major group (e.g. "35-0000") of a persona-table occupation label.
pub fn soc_of(label: &str) -> Option<&'static str> {
    LABEL_TO_SOC
        .iter()
        .find(|(l, _)| *l == label)
        .map(|&(_, soc)| soc)
}

/// The CPS age bands (table 54), as inclusive ranges of the simulation's ages. The census
/// persona table's bands map onto them: 18-24 -> 16-24, 65-74 and 75-90 -> 65+; its under-18
/// band (ages 14-17) takes the 16-24 figure times the 16-19 / 16-24 hourly ratio.
pub const CPS_AGE_BANDS: [(&str, u8, u8); 6] = [
    ("16-24", 16, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, u8::MAX),
];

/// One SOC major group in OEWS May 2023 (annual wages, dollars).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OewsGroup {
    pub soc: &'static str,
    pub title: &'static str,
    pub employment: u64,
    pub mean: f64,
    pub p10: f64,
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    /// `None` where OEWS top-codes the percentile (>= $239,200).
    pub p90: Option<f64>,
}

/// Median usual weekly earnings of one CPS cell (full-time wage and salary workers).
#[derive(Clone, Debug, PartialEq)]
struct CpsCell {
    table: &'static str,
    measure: &'static str,
    soc: &'static str,
    sex: &'static str,
    age: &'static str,
    workers_thousands: Option<f64>,
    median: f64,
}

/// Everything the model reads from the data files.
#[derive(Debug)]
pub struct EarningsData {
    /// Index 0 is "All Occupations", then the 22 major groups in SOC order.
    pub oews: Vec<OewsGroup>,
    cps: Vec<CpsCell>,
}

impl EarningsData {
    /// OEWS row of a SOC code.
    pub fn oews_group(&self, soc: &str) -> Option<&OewsGroup> {
        self.oews.iter().find(|g| g.soc == soc)
    }

    /// OEWS all-occupations median annual wage.
    pub fn oews_all_median(&self) -> Option<f64> {
        self.oews_group("00-0000").map(|g| g.median)
    }

    fn cps(&self, table: &str, soc: &str, sex: &str, age: &str) -> Option<&CpsCell> {
        self.cps
            .iter()
            .find(|c| c.table == table && c.soc == soc && c.sex == sex && c.age == age)
    }

    /// CPS 2023 median weekly earnings, both sexes, by age band ("16+", "16-24", ..., "65+").
    pub fn cps_age_median(&self, age: &str) -> Option<f64> {
        self.cps("cpsaat54", "all", "all", age).map(|c| c.median)
    }

    /// CPS 2023 median weekly earnings of all men or all women aged 16+.
    pub fn cps_sex_median(&self, sex: Sex) -> Option<f64> {
        self.cps("cpsaat37", "all", sex_key(sex), "16+")
            .map(|c| c.median)
    }

    /// CPS table 39 within a SOC group: (women / men median ratio, women's share of workers).
    pub fn cps_group_sex_gap(&self, soc: &str) -> Option<(f64, f64)> {
        let men = self.cps("cpsaat39", soc, "men", "16+")?;
        let women = self.cps("cpsaat39", soc, "women", "16+")?;
        let share = women.workers_thousands?
            / (women.workers_thousands? + men.workers_thousands?).max(f64::MIN_POSITIVE);
        Some((women.median / men.median, share))
    }

    /// ln(16-19 / 16-24) of median hourly earnings, averaged over men and women (the only
    /// 2023 split of the youngest band that was found; hourly-paid workers).
    pub fn teen_log_ratio(&self) -> Option<f64> {
        let mut sum = 0.0;
        for sex in ["men", "women"] {
            let teen = self.cps("wer2023t25", "all", sex, "16-19")?.median;
            let young = self.cps("wer2023t25", "all", sex, "16-24")?.median;
            sum += (teen / young).ln();
        }
        Some(sum / 2.0)
    }
}

fn sex_key(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "men",
        Sex::Female => "women",
    }
}

/// Data lines with their 1-based line numbers, the header skipped.
fn records(csv: &'static str, width: usize) -> Result<Vec<(usize, Vec<&'static str>)>, String> {
    let mut out = Vec::new();
    for (i, line) in csv.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_csv_line(line);
        if fields.len() != width {
            return Err(format!(
                "line {}: expected {width} fields, got {}",
                i + 1,
                fields.len()
            ));
        }
        out.push((i + 1, fields));
    }
    Ok(out)
}

fn number(line: usize, field: &str) -> Result<f64, String> {
    let v: f64 = field
        .parse()
        .map_err(|e| format!("line {line}: bad number {field:?}: {e}"))?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("line {line}: {field:?} must be a positive number"))
    }
}

fn parse_oews(csv: &'static str) -> Result<Vec<OewsGroup>, String> {
    records(csv, 9)?
        .into_iter()
        .map(|(line, f)| {
            Ok(OewsGroup {
                soc: f[0],
                title: f[1],
                employment: f[2]
                    .parse()
                    .map_err(|e| format!("line {line}: bad employment {:?}: {e}", f[2]))?,
                mean: number(line, f[3])?,
                p10: number(line, f[4])?,
                p25: number(line, f[5])?,
                median: number(line, f[6])?,
                p75: number(line, f[7])?,
                // "#" is OEWS's top-code marker.
                p90: if f[8] == "#" {
                    None
                } else {
                    Some(number(line, f[8])?)
                },
            })
        })
        .collect()
}

fn parse_cps(csv: &'static str) -> Result<Vec<CpsCell>, String> {
    records(csv, 7)?
        .into_iter()
        .map(|(line, f)| {
            Ok(CpsCell {
                table: f[0],
                measure: f[1],
                soc: f[2],
                sex: f[3],
                age: f[4],
                workers_thousands: if f[5].is_empty() {
                    None
                } else {
                    Some(number(line, f[5])?)
                },
                median: number(line, f[6])?,
            })
        })
        .collect()
}

/// Both tables, parsed.
pub(super) fn parse_tables() -> Result<EarningsData, String> {
    Ok(EarningsData {
        oews: parse_oews(OEWS_CSV).map_err(|e| format!("oews_2023_major_groups.csv: {e}"))?,
        cps: parse_cps(CPS_CSV).map_err(|e| format!("cps_2023_weekly_earnings.csv: {e}"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::econ::census::occupations;

    #[test]
    fn data_files_parse_and_agree() {
        let d = &parse_tables().unwrap();
        assert_eq!(d.oews.len(), 23);
        // The 22 major-group employments sum exactly to the all-occupations total.
        let groups: u64 = d.oews[1..].iter().map(|g| g.employment).sum();
        assert_eq!(groups, d.oews[0].employment);
        assert_eq!(groups, 151_853_870);
        assert_eq!(d.oews_group("23-0000").unwrap().p90, None); // top-coded
        for g in &d.oews {
            let p90 = g.p90.unwrap_or(f64::INFINITY);
            assert!(g.p10 < g.p25 && g.p25 < g.median && g.median < g.p75 && g.p75 < p90);
        }
        // CPS table 39's occupation x sex counts sum to the table 37 totals (thousands,
        // rounding: 66,701 vs 66,700 and 54,208 vs 54,207).
        let total = |sex: &str| -> f64 {
            d.cps
                .iter()
                .filter(|c| c.table == "cpsaat39" && c.sex == sex)
                .map(|c| c.workers_thousands.unwrap())
                .sum()
        };
        assert!((total("men") - 66_700.0).abs() <= 2.0, "{}", total("men"));
        assert!(
            (total("women") - 54_207.0).abs() <= 2.0,
            "{}",
            total("women")
        );
        assert!(
            d.cps
                .iter()
                .all(|c| c.measure == "weekly" || c.table == "wer2023t25")
        );
        assert_eq!(d.cps_age_median("35-44"), Some(1250.0));
    }

    #[test]
    fn every_persona_label_maps_to_a_soc_group() {
        let labels = occupations();
        assert_eq!(labels.len(), 22);
        let mut socs: Vec<&str> = labels
            .iter()
            .map(|l| soc_of(l).unwrap_or_else(|| panic!("{l:?} has no SOC group")))
            .collect();
        socs.sort_unstable();
        socs.dedup();
        assert_eq!(socs.len(), 22, "two labels share a group");
        let d = parse_tables().unwrap();
        assert!(socs.iter().all(|s| d.oews_group(s).is_some()));
        assert_eq!(soc_of("Astronaut"), None);
    }
}
