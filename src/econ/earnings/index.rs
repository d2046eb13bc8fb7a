//! The persona log-income index: an occupation term (OEWS group median over the
//! all-occupations median), a within-group sex term (CPS table 39) and an age term (CPS table
//! 54), derived once from the published tables, and its standardisation over the census table.

use std::sync::OnceLock;

use super::data::{CPS_AGE_BANDS, EarningsData, LABEL_TO_SOC, parse_tables};
use crate::econ::census::{Persona, Sex, cells};

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
    let data = parse_tables()?;
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
    // The data files are compiled in and checked by `data::tests::data_files_parse_and_agree`, so
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

#[cfg(test)]
mod tests {
    use super::*;

    fn persona(occupation: &str, sex: Sex, age: u8) -> Persona {
        Persona {
            occupation: occupation.into(),
            sex,
            age,
        }
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
}
