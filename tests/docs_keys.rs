//! The scenario reference cannot drift from the schema: every key the scenario accepts, and
//! every value of every enumerated key, is named in `docs/scenarios.md` (or, for a section whose
//! row there points to its own page, on that page); and every file or section a shipped
//! scenario's comments point to exists.
//!
//! The schema is read from the parser itself, not from a list kept here: an unknown key makes
//! serde name every field of its table, and an unknown value names every variant of its enum,
//! so a key or value added to the code and not to the docs fails this test.

use std::collections::BTreeSet;
use std::path::Path;

use simulacra::config::Scenario;

const PROBE: &str = "zz_probe";

/// The names serde lists after `expected` in `message` ("`a`", "`a` or `b`", "one of `a`, `b`").
fn expected_names(message: &str) -> Option<Vec<String>> {
    let after = &message[message.find("expected ")? + "expected ".len()..];
    let list = after.strip_prefix("one of ").unwrap_or(after);
    let mut names = Vec::new();
    let mut rest = list;
    while let Some(open) = rest.strip_prefix('`') {
        let close = open.find('`')?;
        names.push(open[..close].to_string());
        rest = &open[close + 1..];
        rest = rest
            .strip_prefix(", ")
            .or_else(|| rest.strip_prefix(" or "))
            .unwrap_or(rest);
    }
    (!names.is_empty()).then_some(names)
}

fn parse_error(toml: &str) -> String {
    match Scenario::from_toml(toml) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

/// The fields of the table at `path` ("" is the top level), or None if it is not a table of
/// named fields.
fn fields_of(path: &str) -> Option<Vec<String>> {
    let toml = if path.is_empty() {
        format!("{PROBE} = 1\n")
    } else {
        format!("[{path}]\n{PROBE} = 1\n")
    };
    let named = |message: String| {
        message
            .contains(&format!("unknown field `{PROBE}`"))
            .then(|| expected_names(&message))
            .flatten()
    };
    // A list of tables (`[[federation.region]]`) is walked through one entry.
    named(parse_error(&toml)).or_else(|| {
        (!path.is_empty())
            .then(|| named(parse_error(&format!("[[{path}]]\n{PROBE} = 1\n"))))
            .flatten()
    })
}

/// The values of the enumerated key `key` (dotted), or None if it is not a plain enum.
fn variants_of(key: &str) -> Option<Vec<String>> {
    let (table, field) = key.rsplit_once('.').unwrap_or(("", key));
    let toml = if table.is_empty() {
        format!("{field} = \"{PROBE}\"\n")
    } else {
        format!("[{table}]\n{field} = \"{PROBE}\"\n")
    };
    let message = parse_error(&toml);
    if message.contains(&format!("unknown variant `{PROBE}`")) {
        return expected_names(&message);
    }
    // Keys checked by the scenario's own parser say "... \"zz_probe\": use one of a, b, c".
    let list = message.split_once("use one of ")?.1;
    // The list ends where prose starts ("... or a list of cut-offs such as [0, 50000]").
    (message.contains(&format!("\"{PROBE}\""))).then(|| {
        list.split(", ")
            .flat_map(|v| v.split(" or "))
            .map(|v| v.trim().trim_end_matches('.'))
            .take_while(|v| {
                v.starts_with(|c: char| c.is_ascii_lowercase())
                    && v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
            .map(str::to_string)
            .collect()
    })
}

/// Every leaf key of the schema, dotted, found by walking tables from the top.
fn schema_keys() -> Vec<String> {
    let mut keys = Vec::new();
    let mut tables = vec![String::new()];
    while let Some(table) = tables.pop() {
        let fields = fields_of(&table).unwrap_or_else(|| panic!("{table:?} lists no fields"));
        for field in fields {
            let key = if table.is_empty() {
                field
            } else {
                format!("{table}.{field}")
            };
            if fields_of(&key).is_some() {
                tables.push(key);
            } else {
                keys.push(key);
            }
        }
    }
    keys.sort();
    keys
}

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The page that documents `key`: `docs/scenarios.md`, except for a section whose row there
/// is `section.*` and links to its own page.
fn page_for(key: &str, reference: &str) -> &'static str {
    let section = key.split('.').next().unwrap();
    if section == "federation" && reference.contains("`federation.*`") {
        "docs/federation.md"
    } else {
        "docs/scenarios.md"
    }
}

#[test]
fn the_schema_walk_sees_the_keys_it_should() {
    // The walk itself must work, or the test below would pass on nothing.
    let keys = schema_keys();
    for known in [
        "simulation.seed",
        "economy.max_hours",
        "llm.model",
        "governance.rule",
    ] {
        assert!(keys.iter().any(|k| k == known), "{known} not in {keys:?}");
    }
    assert!(keys.len() > 60, "{} keys: {keys:?}", keys.len());
    let rules = variants_of("governance.rule").expect("governance.rule is an enum");
    assert!(rules.iter().any(|r| r == "plurality"), "{rules:?}");
    assert_eq!(
        expected_names("unknown variant `x`, expected `a` or `b`"),
        Some(vec!["a".into(), "b".into()])
    );
}

#[test]
fn every_scenario_key_and_value_is_in_the_reference() {
    let reference = read("docs/scenarios.md");
    let mut missing = BTreeSet::new();
    for key in schema_keys() {
        let page_path = page_for(&key, &reference);
        let page = if page_path == "docs/scenarios.md" {
            reference.clone()
        } else {
            read(page_path)
        };
        // A key is documented by its dotted name in backticks (a table row or the text); a
        // region's keys are written `key` inside `[[federation.region]]`'s own table.
        let short = key.rsplit('.').next().unwrap();
        let parent = key.rsplit_once('.').map_or("", |(p, _)| p);
        let named = page.contains(&format!("`{key}`"))
            // A row for a whole table naming its fields (`llm.worker`, ... | a role's `model`).
            || page.lines().any(|l| {
                (l.contains(&format!("`{parent}`")) || l.contains(&format!("`[[{parent}]]`")))
                    && l.contains(&format!("`{short}`"))
            })
            // A page of one section shows its keys in a TOML block (`moving_cost = 1000.0`).
            || (page_path != "docs/scenarios.md"
                && page.lines().any(|l| {
                    l.trim_start_matches('#').trim_start().starts_with(&format!("{short} ="))
                        || l.contains(&format!("[[{key}]]"))
                        || l.contains(&format!("`{short}`"))
                }));
        if !named {
            missing.insert(format!("{key} (in {page_path})"));
            continue;
        }
        for value in variants_of(&key).unwrap_or_default() {
            // A role's own key (`llm.worker.response_format`) takes the values of the
            // section's (`llm.response_format`).
            let section_key = format!("{}.{short}", key.split('.').next().unwrap());
            let lines: Vec<&str> = page
                .lines()
                .filter(|l| {
                    l.contains(&format!("`{key}`"))
                        || l.contains(&format!("`{section_key}`"))
                        || l.contains(&format!("`{short}`"))
                        || l.trim_start().starts_with(&format!("{short} ="))
                })
                .collect();
            let shown = lines.iter().any(|l| {
                l.contains(&format!("\"{value}\""))
                    || l.contains(&format!("`{value}`"))
                    || l.contains(&format!(" {value} |"))
                    || l.contains(&format!("| {value} "))
            });
            if !shown {
                missing.insert(format!("{key} = \"{value}\" (in {page_path})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "documented nowhere:\n  {}",
        missing.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

/// `docs/x.md` and `README` / `docs/x.md`, "Section" references in the scenarios' comments.
#[test]
fn every_page_and_section_a_scenario_points_to_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut broken = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(root.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    entries.sort();
    assert!(entries.len() > 5);
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap();
        let comments: String = text
            .lines()
            .filter_map(|l| l.split_once('#').map(|(_, c)| c))
            .collect::<Vec<_>>()
            .join(" ");
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for word in comments.split_whitespace() {
            let word = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '/' && c != '.');
            let word = word.trim_end_matches('.');
            if (word.starts_with("docs/") || word.starts_with("tests/"))
                && !root.join(word).exists()
            {
                broken.push(format!("{name}: {word} does not exist"));
            }
        }
        // `see README, "Section"` / `see the README, "Section"` / `docs/x.md, "Section"`.
        let mut rest = comments.as_str();
        while let Some(at) = rest.find(", \"") {
            let before = &rest[..at];
            let page = if before.ends_with("README") {
                Some("README.md".to_string())
            } else {
                before
                    .rsplit(' ')
                    .next()
                    .filter(|w| w.ends_with(".md"))
                    .map(str::to_string)
            };
            let after = &rest[at + 3..];
            let Some(end) = after.find('"') else { break };
            if let Some(page) = page {
                let section = &after[..end];
                let body = std::fs::read_to_string(root.join(&page)).unwrap_or_default();
                let heading = body
                    .lines()
                    .any(|l| l.starts_with('#') && l.trim_start_matches('#').trim() == section);
                if !heading {
                    broken.push(format!("{name}: {page} has no section \"{section}\""));
                }
            }
            rest = &after[end..];
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
