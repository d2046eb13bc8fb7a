//! The `--grid KEY=[V1,V2]` argument: its bracketed list split into values, each checked as
//! a `--set` value, so a quoted value may hold `,` and `]`.

use anyhow::bail;

/// The items of a bracketed list such as `[a, "b,c", [d, e]]`, each as written: a comma or a
/// bracket inside a quoted string or a nested list does not split. A trailing comma is
/// allowed, as in TOML.
fn split_list(text: &str) -> Result<Vec<String>, String> {
    let Some(body) = text.trim().strip_prefix('[') else {
        return Err("the values must be in brackets: key=[v1,v2]".into());
    };
    let (mut items, mut cur) = (Vec::new(), String::new());
    let mut depth = 0usize;
    // The open quote, and whether the last character was a backslash in a "basic" string
    // ('literal' strings have no escapes).
    let (mut quote, mut escaped) = (None::<char>, false);
    let mut end = None;
    for (i, ch) in body.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if q == '"' && ch == '\\' {
                escaped = true;
            } else if ch == q {
                quote = None;
            }
            cur.push(ch);
            continue;
        }
        match ch {
            '"' | '\'' => quote = Some(ch),
            '[' | '{' => depth += 1,
            ']' | '}' if depth > 0 => depth -= 1,
            ']' => {
                end = Some(i);
                break;
            }
            '}' => return Err("a '}' closes nothing".into()),
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if let Some(q) = quote {
        return Err(format!("a string opened with {q} is never closed"));
    }
    let Some(end) = end else {
        return Err("the list is never closed with ']'".into());
    };
    let rest = body[end + 1..].trim();
    if !rest.is_empty() {
        return Err(format!("{rest:?} follows the closing ']'"));
    }
    let last = cur.trim();
    if !last.is_empty() || !items.is_empty() {
        items.push(cur);
    }
    let mut items: Vec<String> = items.iter().map(|v| v.trim().to_string()).collect();
    if items.len() > 1 && items.last().is_some_and(String::is_empty) {
        items.pop();
    }
    if items.iter().any(String::is_empty) {
        return Err("a value is empty (two commas in a row?)".into());
    }
    Ok(items)
}

/// `key=[v1,v2,...]` into the key and its values, each the TOML text of a `--set` value (see
/// [`crate::config::set_value_to_toml`]): `["a,b", c]` is the two values `"a,b"` and `c`.
pub fn parse_grid(text: &str) -> anyhow::Result<(String, Vec<String>)> {
    let Some((key, values)) = text.split_once('=') else {
        bail!("--grid {text:?}: expected key=[v1,v2], e.g. planner.policy=[hill-climb,saez]");
    };
    let values = split_list(values).map_err(|why| anyhow::anyhow!("--grid {text:?}: {why}"))?;
    if values.is_empty() {
        bail!("--grid {text:?}: no values");
    }
    for v in &values {
        crate::config::set_value_to_toml(v)
            .map_err(|why| anyhow::anyhow!("--grid {text:?}: the value {v:?}: {why}"))?;
    }
    let key = key.trim();
    crate::config::parse_set(&format!("{key}={}", values[0])).map_err(|_| {
        anyhow::anyhow!("--grid {text:?}: {key:?} is not a key such as planner.policy")
    })?;
    Ok((key.to_string(), values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_may_hold_commas_and_brackets() {
        let (k, v) = parse_grid(r#"llm.model=["a,b",c]"#).unwrap();
        assert_eq!(k, "llm.model");
        assert_eq!(v, vec![r#""a,b""#, "c"]);
        let (_, v) = parse_grid(r#"llm.model=["a]b", 'c,]d' , "e\"]"]"#).unwrap();
        assert_eq!(v, vec![r#""a]b""#, "'c,]d'", r#""e\"]""#]);
        let (_, v) = parse_grid("planner.rates=[[0.1,0.2],[0.3,0.4],]").unwrap();
        assert_eq!(v, vec!["[0.1,0.2]", "[0.3,0.4]"]);
        let (_, v) = parse_grid("planner.policy=[hill-climb, saez]").unwrap();
        assert_eq!(v, vec!["hill-climb", "saez"]);
    }

    #[test]
    fn a_malformed_list_is_refused_with_the_reason() {
        for (grid, why) in [
            ("planner.policy=saez", "in brackets"),
            ("planner.policy=[]", "no values"),
            ("planner.policy=[a,,b]", "empty"),
            (r#"llm.model=["a,b]"#, "never closed"),
            ("llm.model=[a,b", "never closed"),
            ("llm.model=[a]x", "follows the closing"),
            ("llm.model=[a}]", "closes nothing"),
            ("planner.policy", "expected key=[v1,v2]"),
            ("planner policy=[a]", "is not a key"),
        ] {
            let err = parse_grid(grid).unwrap_err().to_string();
            assert!(
                err.starts_with("--grid ") && err.contains(why),
                "{grid}: {err}"
            );
        }
    }
}
