//! Reading answers: strict JSON first, then tolerant extraction (code fences, text around the
//! object, a missing closing brace), then the field the prompt asked for, validated. Every
//! failure is a sentence that can be sent back to the model in a re-ask.

use serde_json::{Map, Value};

/// Finds the JSON object in a model's answer.
pub fn extract_object(text: &str) -> Result<Map<String, Value>, String> {
    let trimmed = text.trim();
    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(trimmed) {
        return Ok(m);
    }
    // Text around the object, or a ```json fence: take the first '{' to the last '}'.
    if let (Some(start), Some(end)) = (trimmed.find('{'), trimmed.rfind('}'))
        && start < end
        && let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&trimmed[start..=end])
    {
        return Ok(m);
    }
    // A reply cut off before its closing brace (max_tokens, or a stop string).
    if let Some(start) = trimmed.find('{') {
        let candidate = format!("{}}}", trimmed[start..].trim_end_matches(['`', ' ', '\n']));
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&candidate) {
            return Ok(m);
        }
    }
    let shown: String = trimmed.chars().take(80).collect();
    Err(format!("it is not a JSON object (got {shown:?})"))
}

/// The value of `key`, matched case-insensitively.
fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// A number, or a string holding one ("40", "$40", "40 hours", "40%").
pub fn number(v: &Value) -> Result<f64, String> {
    let x = match v {
        Value::Number(n) => n.as_f64().ok_or("the number is out of range")?,
        Value::String(s) => {
            let cleaned: String = s
                .trim()
                .trim_end_matches("hours")
                .trim_end_matches("hour")
                .chars()
                .filter(|c| !matches!(c, '$' | ',' | '%' | ' '))
                .collect();
            cleaned
                .parse::<f64>()
                .map_err(|_| format!("{s:?} is not a number"))?
        }
        other => return Err(format!("{other} is not a number")),
    };
    if x.is_finite() {
        Ok(x)
    } else {
        Err("the number is not finite".into())
    }
}

/// Weekly hours from `{"LABOR": X}`, within [0, max_hours].
pub fn labor(text: &str, max_hours: f64) -> Result<f64, String> {
    let obj = extract_object(text)?;
    let v = field(&obj, "LABOR")
        .or_else(|| field(&obj, "labor_hours"))
        .or_else(|| field(&obj, "hours"))
        .ok_or("the object has no \"LABOR\" key")?;
    let h = number(v)?;
    if !(0.0..=max_hours).contains(&h) {
        return Err(format!("{h} hours is outside [0, {max_hours}]"));
    }
    Ok(h)
}

/// Rate moves from `{"DELTA": [X, ...]}`: one per bracket, each clipped to +-max_points and
/// rounded to the nearest 10 points (the planner's grid), as the paper's parser does.
pub fn deltas(text: &str, brackets: usize, max_points: i32) -> Result<Vec<i32>, String> {
    let obj = extract_object(text)?;
    let v = field(&obj, "DELTA").ok_or("the object has no \"DELTA\" key")?;
    let list = v.as_array().ok_or("\"DELTA\" is not a list")?;
    if list.len() != brackets {
        return Err(format!(
            "\"DELTA\" has {} entries; there are {brackets} tax brackets",
            list.len()
        ));
    }
    list.iter()
        .map(|x| {
            let d = number(x)?.clamp(-f64::from(max_points), f64::from(max_points));
            Ok(((d / 10.0).round() * 10.0) as i32)
        })
        .collect()
}

/// Yes or no from `{"ANSWER": "YES"|"NO"}`.
pub fn yes_no(text: &str) -> Result<bool, String> {
    let obj = extract_object(text)?;
    let v = field(&obj, "ANSWER").ok_or("the object has no \"ANSWER\" key")?;
    let s = v
        .as_str()
        .map(str::trim)
        .unwrap_or_default()
        .to_ascii_lowercase();
    match s.as_str() {
        "yes" | "y" | "true" => Ok(true),
        "no" | "n" | "false" => Ok(false),
        _ => Err(format!("\"ANSWER\" must be \"YES\" or \"NO\", got {v}")),
    }
}

/// A candidate id from `{"LEADER": X}`.
pub fn leader(text: &str) -> Result<u64, String> {
    let obj = extract_object(text)?;
    let v = field(&obj, "LEADER").ok_or("the object has no \"LEADER\" key")?;
    let x = number(v)?;
    if x < 0.0 || x.fract() != 0.0 {
        return Err(format!("{x} is not a candidate id"));
    }
    Ok(x as u64)
}

/// A region number from `{"REGION": "X"}`, below `regions`.
pub fn region(text: &str, regions: usize) -> Result<u32, String> {
    let obj = extract_object(text)?;
    let v = field(&obj, "REGION").ok_or("the object has no \"REGION\" key")?;
    let x = number(v)?;
    if x < 0.0 || x.fract() != 0.0 || x >= regions as f64 {
        return Err(format!(
            "{x} is not a region (0 to {})",
            regions.saturating_sub(1)
        ));
    }
    Ok(x as u32)
}

/// A persona text: any non-empty prose, quotes stripped, at most 1,000 characters kept.
pub fn persona(text: &str) -> Result<String, String> {
    let t = text.trim().trim_matches('"').trim();
    if t.len() < 20 {
        return Err("the persona is empty or too short".into());
    }
    Ok(t.chars().take(1000).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_a_listed_number() {
        assert_eq!(region("{\"REGION\": \"1\"}", 2), Ok(1));
        assert_eq!(region("I pick {\"REGION\": 0}.", 2), Ok(0));
        assert!(region("{\"REGION\": 2}", 2).is_err());
        assert!(region("{\"REGION\": -1}", 2).is_err());
        assert!(region("{\"PLACE\": 1}", 2).is_err());
    }

    #[test]
    fn strict_tolerant_and_broken_objects() {
        assert_eq!(labor("{\"LABOR\": 40}", 100.0), Ok(40.0));
        assert_eq!(labor("{\"LABOR\": \"40\"}", 100.0), Ok(40.0));
        assert_eq!(
            labor("Sure! ```json\n{\"LABOR\": \"60 hours\"}\n```", 100.0),
            Ok(60.0)
        );
        assert_eq!(labor("{\"labor\": 35.5", 100.0), Ok(35.5));
        assert!(
            labor("I would work forty hours", 100.0)
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(
            labor("{\"LABOR\": 140}", 100.0)
                .unwrap_err()
                .contains("outside")
        );
        assert!(labor("{\"LABOR\": -5}", 100.0).is_err());
        assert!(labor("{\"LABOR\": \"lots\"}", 100.0).is_err());
        assert!(
            labor("{\"HOURS_X\": 4}", 100.0)
                .unwrap_err()
                .contains("LABOR")
        );
        assert!(labor("", 100.0).is_err());
    }

    #[test]
    fn deltas_are_clipped_rounded_and_counted() {
        assert_eq!(
            deltas("{\"DELTA\": [10, -20, 0]}", 3, 20),
            Ok(vec![10, -20, 0])
        );
        assert_eq!(
            deltas("{\"DELTA\": [\"+14\", -35, 4]}", 3, 20),
            Ok(vec![10, -20, 0])
        );
        assert!(
            deltas("{\"DELTA\": [10, 0]}", 3, 20)
                .unwrap_err()
                .contains("3 tax brackets")
        );
        assert!(deltas("{\"DELTA\": null}", 3, 20).is_err());
    }

    #[test]
    fn answers_and_leaders() {
        assert_eq!(
            yes_no("{\"thought\": \"ok\", \"ANSWER\": \"YES\"}"),
            Ok(true)
        );
        assert_eq!(yes_no("{\"ANSWER\": \"no\"}"), Ok(false));
        assert!(yes_no("{\"ANSWER\": \"maybe\"}").is_err());
        assert_eq!(leader("{\"LEADER\": \"3\"}"), Ok(3));
        assert!(leader("{\"LEADER\": \"x\"}").is_err());
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// No input makes a parser panic.
            #[test]
            fn parsers_never_panic(s in ".{0,200}") {
                let _ = labor(&s, 100.0);
                let _ = deltas(&s, 3, 20);
                let _ = yes_no(&s);
                let _ = leader(&s);
                let _ = persona(&s);
            }

            /// Any in-range hours written as the paper's answer format parse back.
            #[test]
            fn valid_labor_round_trips(h in 0.0f64..=100.0) {
                prop_assert_eq!(labor(&format!("{{\"LABOR\": \"{h}\"}}"), 100.0), Ok(h));
            }
        }
    }
}
