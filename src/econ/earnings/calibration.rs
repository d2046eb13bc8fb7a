//! The calibration comparison: a sample's conditional income medians by occupation group,
//! age band and sex, next to the published figures the model was calibrated to.

use serde::Serialize;

use super::data::{CPS_AGE_BANDS, LABEL_TO_SOC};
use super::index::data;
use crate::econ::census::{Persona, Sex};

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
    let data = data();
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

    fn persona(occupation: &str, sex: Sex, age: u8) -> Persona {
        Persona {
            occupation: occupation.into(),
            sex,
            age,
        }
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
