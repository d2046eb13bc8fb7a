//! Arbitrary scenario text (the input as lossy UTF-8). The whole text goes to
//! `Scenario::from_toml`; then its lines of the form `--set KEY=VALUE` become `--set`s and its
//! lines of the form `SIMULACRA__KEY=VALUE` environment pairs, and `Scenario::resolve` gets the
//! remaining lines, the pairs and the sets. Neither panics, and a scenario they accept
//! survives what a run does with it: `to_toml` (the log header stores it) parses back with
//! `from_toml` to the same scenario, and its derived values (cut-offs, elasticities, welfare
//! and utility forms, LLM endpoints) compute.

#![no_main]

use libfuzzer_sys::fuzz_target;
use simulacra::config::Scenario;

fn check(scenario: &Scenario) {
    let toml = scenario.to_toml();
    let back = match Scenario::from_toml(&toml) {
        Ok(s) => s,
        Err(e) => panic!("an accepted scenario does not parse back from its TOML: {e}\n{toml}"),
    };
    assert_eq!(
        back.to_toml(),
        toml,
        "the scenario changed on its way through TOML"
    );
    // The derived values (cut-offs, utility form, welfare, elasticities, first schedule).
    let _ = simulacra::resolved::ResolvedScenario::new(scenario.clone());
    let _ = scenario.uses_llm();
    let _ = scenario.llm.base_urls();
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(s) = Scenario::from_toml(&text) {
        check(&s);
    }

    let mut base = String::new();
    let mut sets = Vec::new();
    let mut env = Vec::new();
    for line in text.lines() {
        if let Some(set) = line.strip_prefix("--set ") {
            sets.push(set.to_string());
        } else if let Some((k, v)) = line
            .split_once('=')
            .filter(|(k, _)| k.starts_with("SIMULACRA__"))
        {
            env.push((k.to_string(), v.to_string()));
        } else {
            base.push_str(line);
            base.push('\n');
        }
    }
    if (!sets.is_empty() || !env.is_empty())
        && let Ok(s) = Scenario::resolve(&base, &env, &sets)
    {
        check(&s);
    }
});
