//! The reader's answer to the move question, from the prompt text alone: she values each region
//! at her utility at her best hours under its stated rates and rebate per resident (by the
//! formula her system prompt shows; without it, at what she keeps at her last hours, 40 before
//! any history), and moves exactly when the best region's gain over her home beats the moving
//! cost the question states (none when it says moving is free).

#![allow(dead_code)]

use super::text::{cutoffs_after, number_after, percents, tax};

/// The answer to a move question; `None` for any other question.
pub fn answer(system: &str, user: &str) -> Option<String> {
    if !user.contains("{\"REGION\"") {
        return None;
    }
    let skill = number_after(system, "Your skill is $")?;
    let last = user
        .lines()
        .rev()
        .find(|l| l.starts_with("year ") && l.contains("LABOR = "));
    let z = skill
        * last
            .and_then(|l| number_after(l, "LABOR = "))
            .unwrap_or(40.0);
    let cost = if user.contains("Moving is free") {
        0.0
    } else {
        number_after(user, "Moving costs you ")?
    };
    let mut home = None;
    let mut values = Vec::new();
    for l in user.lines().filter(|l| l.starts_with("region ")) {
        let r: usize = number_after(l, "region ")? as usize;
        let rates = percents(&l[l.find("rates ")? + "rates ".len()..])?;
        let cutoffs = cutoffs_after(l, "on the brackets ")?;
        let rebate = number_after(l, "rebate per resident $")?;
        if l.contains("(you live here)") {
            home = Some(r);
        }
        // With the utility's formula shown: her utility at her best hours there, as the
        // offline rule values a region; otherwise what she keeps at her last hours.
        let exact = super::worker::formula(system).map(|mut q| {
            q.cutoffs = cutoffs.clone();
            q.rates = rates.clone();
            q.rebate = rebate;
            super::worker::utility(&q, super::worker::best_hours(&q))
        });
        values.push((r, exact.unwrap_or(z - tax(&cutoffs, &rates, z) + rebate)));
    }
    let home = home?;
    let at_home = values.iter().find(|v| v.0 == home)?.1;
    let mut best = (home, at_home);
    for v in &values {
        if v.1 > best.1 {
            best = *v;
        }
    }
    let to = if best.1 - at_home > cost {
        best.0
    } else {
        home
    };
    Some(format!("{{\"REGION\": \"{to}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use simulacra::llm::Prompts;

    const SYSTEM: &str = "You are worker_3.\nYour skill is $1000.00 a year per weekly hour.";

    fn prompt(rebates: [u32; 2], federal: bool) -> String {
        let region = |r: usize, rate: &str, rebate: u32| {
            json!({"label": format!("region {r}"), "home": r == 0, "rates": rate,
                   "brackets": "[0, 20000), [20000, and up)", "rebate": rebate.to_string(),
                   "residents": 3})
        };
        Prompts::load(None)
            .unwrap()
            .render(
                "move",
                json!({"history": "year 3: TAX [50%, 50%]; LABOR = 20.0; z = 20000.00",
                       "rebate_year": 4, "federal": federal,
                       "regions": [region(0, "[50%, 50%]", rebates[0]),
                                   region(1, "[30%, 30%]", rebates[1])]}),
            )
            .unwrap()
    }

    #[test]
    fn a_reader_mover_moves_exactly_when_the_stated_gain_is_positive() {
        // z = 20,000: home keeps 10,000 + rebate, region 1 keeps 14,000 + rebate.
        let user = prompt([6000, 2000], true);
        assert!(user.contains("Moving is free."), "{user}");
        assert!(
            user.contains("the rates and rebates below include it"),
            "{user}"
        );
        assert!(user.contains("rebate per resident of year 4"), "{user}");
        assert!(!user.contains("amenity"), "{user}");
        assert_eq!(answer(SYSTEM, &user).unwrap(), "{\"REGION\": \"0\"}");
        assert_eq!(
            answer(SYSTEM, &prompt([6000, 2001], false)).unwrap(),
            "{\"REGION\": \"1\"}"
        );
        // A stated cost is paid: with 4000 to pay, a gain of 1 does not move her.
        let costly = prompt([6000, 2001], false)
            .replace("Moving is free.", "Moving costs you 4000 in utility.");
        assert_eq!(answer(SYSTEM, &costly).unwrap(), "{\"REGION\": \"0\"}");
    }
}
