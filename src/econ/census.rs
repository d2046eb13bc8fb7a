//! Census-weighted worker personas: the occupation × sex × age table embedded from
//! `data/census_occupations.csv`, sampling a persona from it, and the persona's prompt text.
//!
//! Sampling a persona draws no income: the population assigns one afterwards, either
//! independently of the persona (the paper's draw) or conditioned on it
//! (`crate::econ::earnings`), and pairs the two in a [`Person`].

use std::sync::OnceLock;

use rand::RngExt;

const CENSUS_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/census_occupations.csv"
));

/// Inclusive age range of each count column, in column order.
const AGE_BANDS: [(u8, u8); 8] = [
    (14, 17),
    (18, 24),
    (25, 34),
    (35, 44),
    (45, 54),
    (55, 64),
    (65, 74),
    (75, 90),
];

/// Biological sex as recorded in the census table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Sex {
    Male,
    Female,
}

/// One sampled worker identity.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Persona {
    pub occupation: String,
    pub sex: Sex,
    pub age: u8,
}

/// One row of the table: an occupation group and sex with a count per age band.
#[derive(Debug)]
struct Row {
    occupation: &'static str,
    sex: Sex,
    counts: [u64; 8],
}

/// The parsed table plus cumulative cell counts for O(log n) sampling.
#[derive(Debug)]
struct Table {
    rows: Vec<Row>,
    /// `cumulative[k]` = total count of cells `0..=k`, cells numbered row-major (row, band).
    cumulative: Vec<u64>,
}

/// Split one CSV line, honouring double quotes (names contain commas). Shared by the
/// embedded data tables; a CSV crate would be more than these few fixed files need.
pub(crate) fn split_csv_line(line: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, ch) in line.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                fields.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    fields.push(&line[start..]);
    fields
        .into_iter()
        .map(|f| f.trim().trim_matches('"'))
        .collect()
}

fn parse_table(csv: &'static str) -> Result<Table, String> {
    let mut rows = Vec::new();
    for (number, line) in csv.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_csv_line(line);
        if fields.len() != 10 {
            return Err(format!(
                "line {}: expected 10 fields, got {}",
                number + 1,
                fields.len()
            ));
        }
        let sex = match fields[1] {
            "Male" => Sex::Male,
            "Female" => Sex::Female,
            other => return Err(format!("line {}: unknown sex {other:?}", number + 1)),
        };
        let mut counts = [0u64; 8];
        for (slot, field) in counts.iter_mut().zip(&fields[2..]) {
            *slot = field
                .parse()
                .map_err(|e| format!("line {}: bad count {field:?}: {e}", number + 1))?;
        }
        rows.push(Row {
            occupation: fields[0],
            sex,
            counts,
        });
    }
    let mut cumulative = Vec::with_capacity(rows.len() * AGE_BANDS.len());
    let mut running = 0u64;
    for row in &rows {
        for &count in &row.counts {
            running += count;
            cumulative.push(running);
        }
    }
    if running == 0 {
        return Err("the table has no people".to_string());
    }
    Ok(Table { rows, cumulative })
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    // The CSV is compiled in and checked by `tests::table_shape_and_total`, so a parse failure
    // is a build defect, not bad user input.
    TABLE.get_or_init(|| {
        parse_table(CENSUS_CSV)
            .unwrap_or_else(|e| panic!("embedded data/census_occupations.csv is corrupt: {e}"))
    })
}

/// Draw a cell (occupation, sex, age band) with probability proportional to its count, then an
/// age uniformly in the band (inclusive ranges 14-17, 18-24, ..., 65-74, 75-90).
pub fn sample_persona<R: rand::Rng + ?Sized>(rng: &mut R) -> Persona {
    let table = table();
    let total = *table.cumulative.last().unwrap_or(&1);
    let ticket = rng.random_range(0..total);
    // First cell whose cumulative count exceeds the ticket; empty cells are skipped naturally.
    let cell = table.cumulative.partition_point(|&c| c <= ticket);
    let row = &table.rows[cell / AGE_BANDS.len()];
    let (lo, hi) = AGE_BANDS[cell % AGE_BANDS.len()];
    Persona {
        occupation: row.occupation.to_string(),
        sex: row.sex,
        age: rng.random_range(lo..=hi),
    }
}

/// Whole dollars with thousands separators: 38102.4 -> "$38,102", -1234 -> "-$1,234".
fn format_dollars(amount: f64) -> String {
    if !amount.is_finite() {
        return "an unknown amount".to_string();
    }
    let rounded = amount.abs().round();
    let digits = format!("{rounded:.0}");
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if amount < 0.0 && rounded > 0.0 {
        "-"
    } else {
        ""
    };
    format!("{sign}${grouped}")
}

/// Deterministic second-person persona text for the worker prompt.
pub fn persona_text(p: &Persona, annual_income: f64) -> String {
    let sex = match (p.sex, p.age < 18) {
        (Sex::Male, false) => "man",
        (Sex::Female, false) => "woman",
        (Sex::Male, true) => "boy",
        (Sex::Female, true) => "girl",
    };
    format!(
        "You are a {age}-year-old {sex} working in {occupation}. \
         Your annual pre-tax income is {income}.",
        age = p.age,
        occupation = p.occupation.to_lowercase(),
        income = format_dollars(annual_income),
    )
}

/// Every cell of the census table: (occupation, sex, inclusive age band, count), in table order.
/// The persona-conditioned income model uses it for exact population moments of its score.
pub(crate) fn cells() -> impl Iterator<Item = (&'static str, Sex, (u8, u8), u64)> {
    table().rows.iter().flat_map(|row| {
        AGE_BANDS
            .iter()
            .zip(row.counts)
            .map(move |(&band, count)| (row.occupation, row.sex, band, count))
    })
}

/// A persona together with the income the population assigned to her, so every prompt built
/// from it tells one consistent story (the persona-rank income model makes the numbers fit the
/// occupation, age and sex).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Person {
    pub persona: Persona,
    /// Annual pre-tax census income, dollars.
    pub income: f64,
}

impl Person {
    /// The second-person persona text with this person's own income.
    pub fn text(&self) -> String {
        persona_text(&self.persona, self.income)
    }
}

/// The distinct occupation groups, in table order.
pub fn occupations() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for row in &table().rows {
        if !names.contains(&row.occupation) {
            names.push(row.occupation);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Totals computed from the reference's markdown table (§11.3) independently of this parser.
    const TABLE_TOTAL: u64 = 65_974;
    /// Food preparation: men 50+500+400+250+150+80+25+5 = 1,460; women
    /// 40+450+350+250+150+80+25+5 = 1,350; together 2,810.
    const FOOD_TOTAL: u64 = 2_810;
    /// Sum of the under-18 column.
    const UNDER_18_TOTAL: u64 = 280;

    #[test]
    fn table_shape_and_total() {
        let t = table();
        assert_eq!(t.rows.len(), 44);
        assert_eq!(t.cumulative.last(), Some(&TABLE_TOTAL));
        let under_18: u64 = t.rows.iter().map(|r| r.counts[0]).sum();
        assert_eq!(under_18, UNDER_18_TOTAL);
        let names = occupations();
        assert_eq!(names.len(), 22);
        assert_eq!(names[0], "Management occupations");
        assert_eq!(names[4], "Life, physical, and social science"); // quoted field with commas
        assert_eq!(names[21], "Transportation and material moving");
        // every occupation has exactly one male and one female row
        for name in names {
            let sexes: Vec<Sex> = t
                .rows
                .iter()
                .filter(|r| r.occupation == name)
                .map(|r| r.sex)
                .collect();
            assert_eq!(sexes, vec![Sex::Male, Sex::Female], "{name}");
        }
    }

    #[test]
    fn sampling_matches_table_shares() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 200_000;
        let (mut food, mut under_18) = (0u32, 0u32);
        for _ in 0..n {
            let p = sample_persona(&mut rng);
            assert!((14..=90).contains(&p.age), "age {}", p.age);
            if p.occupation == "Food preparation and serving" {
                food += 1;
            }
            if p.age < 18 {
                under_18 += 1;
            }
        }
        // Expected shares 2,810/65,974 = 4.259 % and 280/65,974 = 0.424 %; the binomial standard
        // errors at n = 200k are 0.045 and 0.015 points, so 0.5 points is a ten-sigma band.
        let food_share = f64::from(food) / f64::from(n);
        let u18_share = f64::from(under_18) / f64::from(n);
        assert!((food_share - FOOD_TOTAL as f64 / TABLE_TOTAL as f64).abs() < 0.005);
        assert!((u18_share - UNDER_18_TOTAL as f64 / TABLE_TOTAL as f64).abs() < 0.005);
        assert!(under_18 > 0);
    }

    #[test]
    fn sampling_is_deterministic_per_seed() {
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..20)
                .map(|_| sample_persona(&mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }

    #[test]
    fn text_mentions_everything() {
        let p = Persona {
            occupation: "Food preparation and serving".to_string(),
            sex: Sex::Female,
            age: 34,
        };
        let text = persona_text(&p, 38_102.4);
        assert_eq!(
            text,
            "You are a 34-year-old woman working in food preparation and serving. \
             Your annual pre-tax income is $38,102."
        );
        let teen = Persona {
            occupation: "Sales and related occupations".to_string(),
            sex: Sex::Male,
            age: 16,
        };
        assert!(
            persona_text(&teen, 9_000.0).starts_with("You are a 16-year-old boy working in sales")
        );
        assert_eq!(format_dollars(1_234_567.0), "$1,234,567");
        assert_eq!(format_dollars(999.0), "$999");
        assert_eq!(format_dollars(-1_000.0), "-$1,000");
        assert_eq!(format_dollars(0.2), "$0");
        assert_eq!(format_dollars(f64::NAN), "an unknown amount");
    }
}
