//! Persona-conditioned incomes: the published U.S. earnings statistics the model is built from,
//! each persona's log-income index, the rank score, rank matching, and the comparison of a
//! sample's conditional medians with the published figures.
//!
//! The model (see README, "Realistic people"): a persona (occupation group, sex, age) gets a
//! log-income index = ln(OEWS group median / all-occupations median) + a sex term within the
//! group (CPS table 39) + an age term (CPS table 54). Its rank score is
//! `w * standardised index + sqrt(1 - w^2) * z` with `z` standard normal, so `w` is the
//! correlation between the score and the persona index (a Gaussian copula). N i.i.d. GB2
//! incomes are sorted and the k-th highest goes to the agent with the k-th highest score: the
//! population marginal is the GB2 draw exactly, whatever `w`.
//!
//! Data: `data/oews_2023_major_groups.csv` (BLS OEWS May 2023) and
//! `data/cps_2023_weekly_earnings.csv` (BLS CPS 2023 annual averages); sources in
//! `data/README.md`.
//!
//! About 640 lines of code: the published tables, the index built from them and the
//! comparison against them are one model, checked against the same figures.

use super::census::split_csv_line;
use std::sync::OnceLock;

use serde::Serialize;

use super::census::{Persona, Sex, cells};

const OEWS_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/oews_2023_major_groups.csv"
));
const CPS_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/cps_2023_weekly_earnings.csv"
));

/// The default persona weight: the correlation between an agent's rank score and her persona
/// index. Calibrated on 10^6 agents so the Management / Food-preparation median ratio, the
/// women / men ratio and the 16-24 / 35-44 ratio come out near the published figures (README,
/// "Realistic people"). 0.40^2 = 16 % of the score's variance comes from the persona, close to
/// the ~13 % of Var(ln income) that occupation, age and sex explain in the published tables.
pub const DEFAULT_PERSONA_WEIGHT: f64 = 0.40;

/// Each persona-table occupation label and its SOC major group.
const LABEL_TO_SOC: [(&str, &str); 22] = [
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

/// The persona model's per-cell terms, derived once from the data.
#[derive(Debug)]
struct Model {
    data: EarningsData,
    /// ln(group median / all median), per `LABEL_TO_SOC` entry.
    occupation: [f64; 22],
    /// (men, women) within-group sex terms per `LABEL_TO_SOC` entry.
    sex: [(f64, f64); 22],
    /// Age terms per `CPS_AGE_BANDS` entry.
    age: [f64; 6],
    /// Extra log term of the census table's under-18 band.
    teen: f64,
    /// Persona-weighted mean and standard deviation of the index over the census table.
    mean: f64,
    sd: f64,
}

fn build_model() -> Result<Model, String> {
    let data = EarningsData {
        oews: parse_oews(OEWS_CSV).map_err(|e| format!("oews_2023_major_groups.csv: {e}"))?,
        cps: parse_cps(CPS_CSV).map_err(|e| format!("cps_2023_weekly_earnings.csv: {e}"))?,
    };
    let all = data
        .oews_all_median()
        .ok_or("OEWS has no all-occupations row")?;
    let mut occupation = [0.0; 22];
    let mut sex = [(0.0, 0.0); 22];
    for (k, (label, soc)) in LABEL_TO_SOC.iter().enumerate() {
        let group = data
            .oews_group(soc)
            .ok_or_else(|| format!("OEWS has no row {soc} ({label})"))?;
        occupation[k] = (group.median / all).ln();
        let (ratio, women) = data
            .cps_group_sex_gap(soc)
            .ok_or_else(|| format!("CPS table 39 has no men/women rows for {soc}"))?;
        // Split the gap so the group's worker-weighted mean term is zero: the occupation term
        // stays the group's own median.
        sex[k] = (-women * ratio.ln(), (1.0 - women) * ratio.ln());
    }
    let all_cps = data
        .cps_age_median("16+")
        .ok_or("CPS table 54 has no 16+ row")?;
    let mut age = [0.0; 6];
    for (slot, (band, _, _)) in age.iter_mut().zip(CPS_AGE_BANDS) {
        *slot = (data
            .cps_age_median(band)
            .ok_or_else(|| format!("CPS table 54 has no {band} row"))?
            / all_cps)
            .ln();
    }
    let teen = data
        .teen_log_ratio()
        .ok_or("the 16-19 / 16-24 hourly rows are missing")?;
    let mut model = Model {
        data,
        occupation,
        sex,
        age,
        teen,
        mean: 0.0,
        sd: 1.0,
    };
    // Exact moments over the census table (the index is constant within a cell: every age in
    // a census band falls in one CPS band, see `CPS_AGE_BANDS`).
    let (mut w, mut s1, mut s2) = (0.0, 0.0, 0.0);
    for (label, sex, (lo, _), count) in cells() {
        let x = model
            .index(label, sex, lo)
            .ok_or_else(|| format!("persona label {label:?} has no SOC group"))?;
        let c = count as f64;
        w += c;
        s1 += c * x;
        s2 += c * x * x;
    }
    model.mean = s1 / w;
    model.sd = (s2 / w - model.mean * model.mean).max(0.0).sqrt();
    if model.sd.is_nan() || model.sd <= 0.0 {
        return Err("the persona index does not vary".into());
    }
    Ok(model)
}

impl Model {
    fn index(&self, label: &str, sex: Sex, age: u8) -> Option<f64> {
        let k = LABEL_TO_SOC.iter().position(|(l, _)| *l == label)?;
        let sex_term = match sex {
            Sex::Male => self.sex[k].0,
            Sex::Female => self.sex[k].1,
        };
        let band = CPS_AGE_BANDS
            .iter()
            .position(|&(_, lo, hi)| (lo..=hi).contains(&age))
            .unwrap_or(0); // ages 14-15 (census under-18 band) take the youngest CPS band
        let teen = if age < 18 { self.teen } else { 0.0 };
        Some(self.occupation[k] + sex_term + self.age[band] + teen)
    }
}

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    // The data files are compiled in and checked by `tests::data_files_parse_and_agree`, so
    // a failure here is a build defect, not bad user input.
    MODEL.get_or_init(|| {
        build_model().unwrap_or_else(|e| panic!("embedded earnings data is corrupt: {e}"))
    })
}

/// The parsed OEWS and CPS tables.
pub fn data() -> &'static EarningsData {
    &model().data
}

/// A persona's log-income index: ln(OEWS group median / all-occupations median) + sex term
/// within the group + age term (ln of the CPS band median over the 16+ median). `None` for an
/// occupation label outside the census table.
pub fn log_index(p: &Persona) -> Option<f64> {
    model().index(&p.occupation, p.sex, p.age)
}

/// The persona index standardised over the census table (mean 0, sd 1).
pub fn standardised_index(p: &Persona) -> Option<f64> {
    let m = model();
    log_index(p).map(|x| (x - m.mean) / m.sd)
}

/// The rank score: `weight * standardised index + sqrt(1 - weight^2) * z`, `z` a standard
/// normal draw. With `weight` in [0, 1] the score has unit variance and correlation `weight`
/// with the persona index; 0 makes incomes independent of the persona.
pub fn rank_score(standardised_index: f64, weight: f64, z: f64) -> f64 {
    let w = weight.clamp(0.0, 1.0);
    w * standardised_index + (1.0 - w * w).sqrt() * z
}

/// A standard normal from two uniforms in (0, 1] x [0, 1) (Box-Muller, cosine branch): exact,
/// cheap, and deterministic from the two numbers.
pub fn standard_normal(u1: f64, u2: f64) -> f64 {
    let u1 = u1.clamp(f64::MIN_POSITIVE, 1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Rank matching: sorts `draws` and gives the k-th highest to the agent with the k-th highest
/// score; equal scores go to the lower agent id first. Returns incomes by agent id (a
/// permutation of `draws`). NaN scores rank lowest.
pub fn rank_match(draws: Vec<f64>, scores: &[f64]) -> Vec<f64> {
    let n = draws.len().min(scores.len()).min(u32::MAX as usize);
    // Descending keys: a stable ascending sort by `!ordered_bits` puts the highest value first
    // and keeps equal values in id order.
    let by_key = |values: &[f64]| -> Vec<(u64, u32)> {
        let mut pairs: Vec<(u64, u32)> = values[..n]
            .iter()
            .enumerate()
            .map(|(id, &v)| {
                let v = if v.is_nan() { f64::NEG_INFINITY } else { v };
                (!ordered_bits(v), id as u32)
            })
            .collect();
        radix_sort(&mut pairs);
        pairs
    };
    let draws_desc = by_key(&draws);
    let order = by_key(scores);
    let mut incomes = vec![0.0; n];
    for (&(_, from), &(_, to)) in draws_desc.iter().zip(&order) {
        incomes[to as usize] = draws[from as usize];
    }
    incomes
}

/// Maps an f64 to a u64 whose unsigned order is the float's total order.
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

/// Stable LSD radix sort by the u64 key, one byte per pass (passes where every key has the
/// same byte are skipped). Linear time: a million keys sort several times faster than a
/// comparison sort, which keeps `Population::generate` and the 10^6-agent tests fast.
fn radix_sort(items: &mut Vec<(u64, u32)>) {
    let mut buffer = vec![(0u64, 0u32); items.len()];
    for pass in 0..8 {
        let shift = pass * 8;
        let mut counts = [0usize; 256];
        for &(key, _) in items.iter() {
            counts[((key >> shift) & 0xff) as usize] += 1;
        }
        if counts.contains(&items.len()) {
            continue;
        }
        let mut offset = 0;
        for c in counts.iter_mut() {
            let here = *c;
            *c = offset;
            offset += here;
        }
        for &item in items.iter() {
            let byte = ((item.0 >> shift) & 0xff) as usize;
            buffer[counts[byte]] = item;
            counts[byte] += 1;
        }
        std::mem::swap(items, &mut buffer);
    }
}

/// Median of a slice (mean of the middle two for even lengths); `None` when empty or NaN.
fn median(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let (_, &mut hi, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return Some(hi);
    }
    let lo = values[..n / 2]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    Some((lo + hi) / 2.0)
}

/// One line of the comparison: a subgroup's simulated median and its ratio to a reference
/// subgroup, next to the published figure and ratio it is compared with.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub group: String,
    /// Agents in the subgroup.
    pub n: usize,
    /// Simulated median annual income (dollars), `None` if the subgroup is empty.
    pub median: Option<f64>,
    /// Simulated median over the reference group's simulated median.
    pub ratio: Option<f64>,
    /// The published median (annual dollars for OEWS, weekly dollars for CPS).
    pub published: f64,
    /// The published median over the published reference median.
    pub published_ratio: f64,
}

/// The three calibration targets at a glance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Headline {
    pub name: &'static str,
    pub simulated: Option<f64>,
    pub published: f64,
    pub source: &'static str,
}

/// Conditional medians of a sample next to the statistics the model was calibrated to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalibrationReport {
    pub n: usize,
    pub median: Option<f64>,
    /// By SOC major group; ratio = group median / all agents' median, published = OEWS May 2023
    /// annual median, published ratio = over the OEWS all-occupations median.
    pub by_occupation: Vec<Comparison>,
    /// By CPS age band (ages 14-15 are in no band); ratio to all agents' median, published =
    /// CPS 2023 median weekly earnings and its ratio to the 16+ median.
    pub by_age: Vec<Comparison>,
    /// By sex; ratio to men's median, published = CPS 2023 median weekly earnings.
    pub by_sex: Vec<Comparison>,
    pub headline: Vec<Headline>,
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// Compares a sample's conditional medians with the published figures. `personas` and
/// `incomes` are parallel (extra entries of the longer one are ignored).
pub fn calibration_report(personas: &[Persona], incomes: &[f64]) -> CalibrationReport {
    let m = model();
    let data = &m.data;
    let n = personas.len().min(incomes.len());
    let mut by_occ: Vec<Vec<f64>> = vec![Vec::new(); LABEL_TO_SOC.len()];
    let mut by_age: Vec<Vec<f64>> = vec![Vec::new(); CPS_AGE_BANDS.len()];
    let mut by_sex: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut all: Vec<f64> = incomes[..n].to_vec();
    for (p, &y) in personas.iter().zip(incomes) {
        if let Some(k) = LABEL_TO_SOC.iter().position(|(l, _)| *l == p.occupation) {
            by_occ[k].push(y);
        }
        if let Some(b) = CPS_AGE_BANDS
            .iter()
            .position(|&(_, lo, hi)| (lo..=hi).contains(&p.age))
        {
            by_age[b].push(y);
        }
        by_sex[usize::from(p.sex == Sex::Female)].push(y);
    }
    let overall = median(&mut all);
    let oews_all = data.oews_all_median().unwrap_or(f64::NAN);
    let occupation: Vec<Comparison> = LABEL_TO_SOC
        .iter()
        .zip(&mut by_occ)
        .map(|(&(label, soc), ys)| {
            let med = median(ys);
            let published = data.oews_group(soc).map_or(f64::NAN, |g| g.median);
            Comparison {
                group: format!("{soc} {label}"),
                n: ys.len(),
                median: med,
                ratio: ratio(med, overall),
                published,
                published_ratio: published / oews_all,
            }
        })
        .collect();
    let cps_all = data.cps_age_median("16+").unwrap_or(f64::NAN);
    let age: Vec<Comparison> = CPS_AGE_BANDS
        .iter()
        .zip(&mut by_age)
        .map(|(&(band, _, _), ys)| {
            let med = median(ys);
            let published = data.cps_age_median(band).unwrap_or(f64::NAN);
            Comparison {
                group: band.to_string(),
                n: ys.len(),
                median: med,
                ratio: ratio(med, overall),
                published,
                published_ratio: published / cps_all,
            }
        })
        .collect();
    let [men, women] = &mut by_sex;
    let (men_n, women_n) = (men.len(), women.len());
    let (men_med, women_med) = (median(men), median(women));
    let men_pub = data.cps_sex_median(Sex::Male).unwrap_or(f64::NAN);
    let women_pub = data.cps_sex_median(Sex::Female).unwrap_or(f64::NAN);
    let sex = vec![
        Comparison {
            group: "men".into(),
            n: men_n,
            median: men_med,
            ratio: ratio(men_med, men_med),
            published: men_pub,
            published_ratio: 1.0,
        },
        Comparison {
            group: "women".into(),
            n: women_n,
            median: women_med,
            ratio: ratio(women_med, men_med),
            published: women_pub,
            published_ratio: women_pub / men_pub,
        },
    ];
    let occ = |soc: &str| {
        let k = LABEL_TO_SOC.iter().position(|(_, s)| *s == soc);
        k.map(|k| &occupation[k])
    };
    let (mgmt, food) = (occ("11-0000"), occ("35-0000"));
    let headline = vec![
        Headline {
            name: "Management / Food preparation median",
            simulated: ratio(mgmt.and_then(|c| c.median), food.and_then(|c| c.median)),
            published: mgmt.map_or(f64::NAN, |c| c.published)
                / food.map_or(f64::NAN, |c| c.published),
            source: "BLS OEWS May 2023",
        },
        Headline {
            name: "women / men median",
            simulated: ratio(women_med, men_med),
            published: women_pub / men_pub,
            source: "BLS CPS 2023, full-time weekly",
        },
        Headline {
            name: "ages 16-24 / 35-44 median",
            simulated: ratio(age[0].median, age[2].median),
            published: age[0].published / age[2].published,
            source: "BLS CPS 2023, full-time weekly",
        },
    ];
    CalibrationReport {
        n,
        median: overall,
        by_occupation: occupation,
        by_age: age,
        by_sex: sex,
        headline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::econ::census::occupations;

    fn persona(occupation: &str, sex: Sex, age: u8) -> Persona {
        Persona {
            occupation: occupation.into(),
            sex,
            age,
        }
    }

    #[test]
    fn data_files_parse_and_agree() {
        let d = data();
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
        assert!(socs.iter().all(|s| data().oews_group(s).is_some()));
        assert_eq!(soc_of("Astronaut"), None);
    }

    #[test]
    fn index_terms_match_hand_derived_values() {
        // Management, man, 40: ln(116,880/48,060) = 0.88868; CPS-39 women share
        // 7,032/15,763 = 0.44611, ratio 1,483/1,900 = 0.78053, men's term
        // -0.44611 * ln 0.78053 = +0.11054; age 35-44: ln(1,250/1,117) = 0.11250.
        let x = log_index(&persona("Management occupations", Sex::Male, 40)).unwrap();
        assert!((x - (0.88868 + 0.11054 + 0.11250)).abs() < 2e-4, "{x}");
        // Food preparation, woman, 20: ln(32,240/48,060) = -0.39926; women share
        // 2,036/4,325 = 0.47075, ratio 618/700 = 0.88286, women's term 0.52925 * ln 0.88286
        // = -0.06595; age 16-24: ln(714/1,117) = -0.44752.
        let y = log_index(&persona("Food preparation and serving", Sex::Female, 20)).unwrap();
        assert!((y - (-0.39926 - 0.06595 - 0.44752)).abs() < 2e-4, "{y}");
        // Under 18: the same plus the hourly 16-19/16-24 term,
        // (ln(14.87/16.12) + ln(13.83/15.08))/2 = (-0.08071 - 0.08653)/2 = -0.08362.
        let t = log_index(&persona("Food preparation and serving", Sex::Female, 16)).unwrap();
        assert!((t - y + 0.08362).abs() < 2e-4, "{t} vs {y}");
        // 75-year-olds use the 65+ band: ln(1,080/1,117) = -0.03369.
        let old = log_index(&persona("Management occupations", Sex::Male, 75)).unwrap();
        assert!((old - (0.88868 + 0.11054 - 0.03369)).abs() < 2e-4, "{old}");
        assert_eq!(log_index(&persona("Astronaut", Sex::Male, 40)), None);
    }

    #[test]
    fn standardised_index_has_zero_mean_and_unit_variance_over_the_table() {
        let (mut w, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for (label, sex, (lo, hi), count) in cells() {
            // Every age of the cell must give the same index (the moments rely on it).
            let at = |age| standardised_index(&persona(label, sex, age)).unwrap();
            assert_eq!(at(lo), at(hi), "{label} {lo}-{hi}");
            let c = count as f64;
            w += c;
            s1 += c * at(lo);
            s2 += c * at(lo) * at(lo);
        }
        assert!((s1 / w).abs() < 1e-12);
        assert!((s2 / w - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rank_score_weights() {
        assert_eq!(rank_score(2.0, 0.0, -0.5), -0.5);
        assert_eq!(rank_score(2.0, 1.0, -0.5), 2.0);
        // w = 0.6: 0.6 * 2 + 0.8 * (-0.5) = 0.8
        assert!((rank_score(2.0, 0.6, -0.5) - 0.8).abs() < 1e-15);
        assert_eq!(rank_score(2.0, 7.0, -0.5), 2.0); // clamped into [0, 1]
    }

    #[test]
    fn box_muller_is_standard_normal() {
        // u1 = e^-2 gives radius 2; u2 = 0 gives cos 0 = 1; u2 = 1/2 gives -1.
        assert!((standard_normal((-2.0f64).exp(), 0.0) - 2.0).abs() < 1e-12);
        assert!((standard_normal((-2.0f64).exp(), 0.5) + 2.0).abs() < 1e-12);
        assert!(standard_normal(0.0, 0.0).is_finite());
        // Moments on a grid of uniforms.
        let k = 400;
        let (mut s1, mut s2) = (0.0, 0.0);
        for i in 0..k {
            for j in 0..k {
                let z = standard_normal((i as f64 + 0.5) / k as f64, (j as f64 + 0.5) / k as f64);
                s1 += z;
                s2 += z * z;
            }
        }
        let n = (k * k) as f64;
        assert!((s1 / n).abs() < 1e-3, "mean {}", s1 / n);
        assert!((s2 / n - 1.0).abs() < 1e-2, "var {}", s2 / n);
    }

    #[test]
    fn rank_match_orders_by_score_and_breaks_ties_by_id() {
        let draws = vec![10.0, 30.0, 20.0, 40.0, 50.0];
        let scores = [0.5, -1.0, 0.5, f64::NAN, 2.0];
        let incomes = rank_match(draws, &scores);
        // order: id 4 (2.0) -> 50, id 0 (0.5, lower id) -> 40, id 2 (0.5) -> 30,
        // id 1 (-1.0) -> 20, id 3 (NaN, lowest) -> 10.
        assert_eq!(incomes, vec![40.0, 20.0, 30.0, 10.0, 50.0]);
    }

    #[test]
    fn ordered_bits_and_radix_sort_agree_with_total_order() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -0.0,
            0.0,
            1e-300,
            3.0,
            7e200,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(ordered_bits(w[0]) < ordered_bits(w[1]), "{} {}", w[0], w[1]);
        }
        // A shuffled sample with duplicate keys: sorted and stable (equal keys keep id order).
        let mut pairs: Vec<(u64, u32)> = (0..1000u32)
            .map(|i| {
                (
                    u64::from(i.wrapping_mul(2_654_435_761) % 97) << 40 | u64::from(i % 3),
                    i,
                )
            })
            .collect();
        let mut expected = pairs.clone();
        expected.sort_by_key(|&(k, _)| k); // std's stable sort
        radix_sort(&mut pairs);
        assert_eq!(pairs, expected);
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [1.0, f64::NAN]), None);
    }

    #[test]
    fn report_of_a_hand_made_sample() {
        let people = [
            (persona("Management occupations", Sex::Male, 40), 200.0),
            (persona("Management occupations", Sex::Female, 30), 100.0),
            (
                persona("Food preparation and serving", Sex::Female, 20),
                50.0,
            ),
            (persona("Food preparation and serving", Sex::Male, 15), 20.0),
            (persona("Legal occupations", Sex::Male, 70), 80.0),
        ];
        let (ps, ys): (Vec<_>, Vec<_>) = people.into_iter().unzip();
        let r = calibration_report(&ps, &ys);
        assert_eq!(r.n, 5);
        assert_eq!(r.median, Some(80.0));
        let mgmt = &r.by_occupation[0];
        assert_eq!((mgmt.n, mgmt.median), (2, Some(150.0)));
        assert!((mgmt.published_ratio - 116_880.0 / 48_060.0).abs() < 1e-12);
        assert_eq!(r.headline[0].simulated, Some(150.0 / 35.0));
        assert!((r.headline[0].published - 116_880.0 / 32_240.0).abs() < 1e-12);
        // women 100, 50 -> 75; men 200, 20, 80 -> 80
        assert_eq!(r.headline[1].simulated, Some(75.0 / 80.0));
        assert!((r.headline[1].published - 1005.0 / 1202.0).abs() < 1e-12);
        // 16-24: only the 20-year-old (the 15-year-old is in no CPS band); 35-44: the 40-year-old
        assert_eq!(r.by_age[0].n, 1);
        assert_eq!(r.headline[2].simulated, Some(50.0 / 200.0));
        assert_eq!(r.by_age[5].median, Some(80.0));
        assert_eq!(r.by_occupation[3].median, None); // nobody in architecture
    }
}
