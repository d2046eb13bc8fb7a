//! The reader's answer to the worker's hours question, from the prompt text alone: it reads her
//! skill, the hours allowed, the brackets, this year's rates, the utility's formula with its
//! numbers and her last rebate, and answers the hours that maximize that utility, as the exact
//! best response does (`econ::best_response`): each bracket's optimum and its kinks, the best
//! of them. A prompt that drops or misstates one of these facts changes its answer.

#![allow(dead_code)]

use super::text::{cutoffs_after, number_after, percents, tax};

/// The facts of an hours question the reader needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    pub skill: f64,
    pub max_hours: f64,
    pub cutoffs: Vec<f64>,
    pub rates: Vec<f64>,
    /// `c` and `d` of the stated effort cost `c * LABOR^d`.
    pub c: f64,
    pub d: f64,
    /// CRRA utility: (x0, eta); none for `u = x - cost`.
    pub crra: Option<(f64, f64)>,
    /// The rebate of her last year in the history (0 before any): the one she can expect.
    pub rebate: f64,
}

/// The answer to an hours question of an egotistical worker; `None` for any other question
/// (and for altruists and adversaries, whose utility is the welfare, not their own formula).
pub fn answer(system: &str, user: &str) -> Option<String> {
    let q = read(system, user)?;
    Some(format!("{{\"LABOR\": \"{}\"}}", best_hours(&q)))
}

/// What the prompt states; `None` unless it is an egotistical worker's hours question with the
/// formula shown.
pub fn read(system: &str, user: &str) -> Option<Question> {
    if !user
        .trim_end()
        .ends_with("Reply with only the JSON object {\"LABOR\": \"X\"}.")
    {
        return None;
    }
    let mut q = formula(system)?;
    q.rates = percents(&user[user.find("This year TAX = ")? + "This year TAX = ".len()..])?;
    if q.rates.len() != q.cutoffs.len() {
        return None;
    }
    q.rebate = user
        .lines()
        .rev()
        .find(|l| l.starts_with("year ") && l.contains("rebate = "))
        .and_then(|l| number_after(l, "rebate = "))
        .unwrap_or(0.0);
    Some(q)
}

/// What an egotistical worker's system prompt states (her skill, the hours allowed, the
/// brackets and the utility's formula), with no rates and no rebate yet; `None` unless the
/// formula is shown.
pub fn formula(system: &str) -> Option<Question> {
    if !system.contains("Your goal is to maximize your own utility u, by the formula above.") {
        return None;
    }
    let skill = number_after(system, "Your skill is $")?;
    let max_hours = number_after(system, "from 0 to ")?;
    let cutoffs = cutoffs_after(system, "the brackets of yearly income are ")?;
    let form = &system[system.find("own utility is u = ")? + "own utility is u = ".len()..];
    let form = &form[..form.find(", in dollars a year")?];
    let cost = &form[form.rfind(" - ")? + 3..];
    let c = number_after(cost, "")?;
    let d = number_after(cost, "LABOR^")?;
    let consumption = &form[..form.rfind(" - ")?];
    let crra = if consumption == "x" {
        None
    } else if consumption.contains("ln(x / ") {
        Some((number_after(consumption, "")?, 1.0))
    } else {
        Some((
            number_after(consumption, "")?,
            number_after(consumption, ")^(1 - ")?,
        ))
    };
    Some(Question {
        skill,
        max_hours,
        cutoffs,
        rates: Vec::new(),
        c,
        d,
        crra,
        rebate: 0.0,
    })
}

/// The stated utility at `hours`.
pub fn utility(q: &Question, hours: f64) -> f64 {
    let z = q.skill * hours;
    let x = z - tax(&q.cutoffs, &q.rates, z) + q.rebate;
    let consumption = match q.crra {
        None => x,
        Some((x0, eta)) => {
            let ratio = x.max(1.0) / x0;
            if (eta - 1.0).abs() < 1e-9 {
                x0 * ratio.ln()
            } else {
                x0 * (ratio.powf(1.0 - eta) - 1.0) / (1.0 - eta)
            }
        }
    };
    consumption - q.c * hours.max(0.0).powf(q.d)
}

/// The hours in `[0, max_hours]` that maximize the stated utility: on each bracket's stretch of
/// hours utility is concave, so its optimum is the interior first-order point (closed form for
/// `u = x - cost`, a golden-section search for CRRA), clamped to the stretch; the answer is
/// the best of these and of the kinks (the earliest on a tie).
pub fn best_hours(q: &Question) -> f64 {
    let mut candidates = vec![0.0, q.max_hours];
    for (j, &rate) in q.rates.iter().enumerate() {
        let lo = (q.cutoffs[j] / q.skill).min(q.max_hours);
        let hi = q
            .cutoffs
            .get(j + 1)
            .map_or(q.max_hours, |c| (c / q.skill).min(q.max_hours));
        if lo >= hi {
            continue;
        }
        candidates.extend([lo, hi]);
        let net = q.skill * (1.0 - rate);
        if net <= 0.0 {
            continue;
        }
        candidates.push(match q.crra {
            None => (net / (q.c * q.d)).powf(1.0 / (q.d - 1.0)).clamp(lo, hi),
            Some(_) => golden(|h| utility(q, h), lo, hi),
        });
    }
    let mut best = (f64::NEG_INFINITY, 0.0);
    for h in candidates {
        let u = utility(q, h);
        if u > best.0 {
            best = (u, h);
        }
    }
    best.1
}

fn golden(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64) -> f64 {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    while b - a > 1e-9 {
        let (m1, m2) = (b - r * (b - a), a + r * (b - a));
        if f(m1) < f(m2) {
            a = m1;
        } else {
            b = m2;
        }
    }
    0.5 * (a + b)
}
