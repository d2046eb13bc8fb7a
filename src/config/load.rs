//! Resolving a scenario: layering the scenario text, the environment and the `--set` flags,
//! reading each `--set` strictly (one key, one value) into TOML, explaining a merged configuration that does not
//! deserialize, and the TOML round trip the log header stores.

use std::path::Path;

use super::{ConfigError, DEFAULT_SCENARIO, LLM_ENDPOINT_KEYS, Scenario};

/// One `--set key=value`, read strictly: a dotted key of plain parts (letters, digits, `_`)
/// and one value. Returns the key and the value as TOML text ([`set_value_to_toml`]).
pub fn parse_set(set: &str) -> Result<(String, String), ConfigError> {
    let (key, value) = set
        .split_once('=')
        .ok_or_else(|| ConfigError::BadSet(set.to_string()))?;
    let key = key.trim();
    let valid_key = !key.is_empty()
        && key
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if !valid_key {
        return Err(ConfigError::BadSet(set.to_string()));
    }
    let value = set_value_to_toml(value).map_err(|why| ConfigError::SetValue {
        set: set.to_string(),
        why,
    })?;
    Ok((key.to_string(), value))
}

/// One value of a `--set` (or of a `--grid` list) as TOML text: a TOML value (a number, a
/// boolean, a "string", a [list] or an {inline = table}) as written, or else a bare word such
/// as `saez` or `hill-climb`, taken as a string. A value is read alone (as `v = VALUE`), so
/// it can never carry a second key or a `[table]` header into the scenario; a line break is
/// refused outright, since only a line break could start one.
pub fn set_value_to_toml(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.contains(['\n', '\r']) {
        return Err(
            "the value holds a line break: --set takes one key and one TOML value \
                    (give each key its own --set)"
                .into(),
        );
    }
    match toml::from_str::<toml::Table>(&format!("v = {value}")) {
        Ok(table) if table.len() == 1 && table.contains_key("v") => Ok(value.to_string()),
        Ok(_) => Err(
            "the value is more than one TOML value: --set takes one key and one \
                      value (give each key its own --set)"
                .into(),
        ),
        Err(_) => Ok(toml::Value::String(value.to_string()).to_string()),
    }
}

/// Turns one `--set key=value` into a TOML line, its value of the kind its key takes.
fn set_to_toml(set: &str) -> Result<String, ConfigError> {
    let (key, value) = parse_set(set)?;
    // A bare word that reads as a number is one too large for TOML (past 2^63): the key's
    // range check names it; only a quoted text is text.
    let raw = set.split_once('=').map_or("", |(_, v)| v.trim());
    if !raw.starts_with(['"', '\'']) && value.starts_with('"') && raw.parse::<f64>().is_ok() {
        return Ok(format!("{key} = {value}"));
    }
    check_kind(&key, &value).map_err(|why| ConfigError::SetValue {
        set: set.to_string(),
        why,
    })?;
    Ok(format!("{key} = {value}"))
}

/// The config crate converts between kinds silently (`true` became 1 worker, `50.5` became
/// 51, `"50"` became 50): a `--set` value must be of the kind its key's default is, where
/// the default says (a whole number, a number, or true/false; other keys are checked when
/// the scenario is read).
fn check_kind(key: &str, value: &str) -> Result<(), String> {
    use toml::Value;
    let Ok(defaults) = Value::try_from(Scenario::default()) else {
        return Ok(());
    };
    let Some(default) = key.split('.').try_fold(&defaults, |v, part| v.get(part)) else {
        return Ok(());
    };
    let Ok(parsed) = toml::from_str::<toml::Table>(&format!("v = {value}")) else {
        return Ok(());
    };
    let Some(given) = parsed.get("v") else {
        return Ok(());
    };
    let shown = || match given {
        Value::String(s) => format!("the text {s:?}"),
        Value::Boolean(b) => format!("the boolean {b}"),
        Value::Float(x) => format!("the fractional number {x}"),
        other => other.to_string(),
    };
    match (default, given) {
        (Value::Integer(_), Value::Integer(_))
        | (Value::Float(_), Value::Float(_) | Value::Integer(_))
        | (Value::Boolean(_), Value::Boolean(_)) => Ok(()),
        (Value::Integer(_), _) => Err(format!("{key} takes a whole number, not {}", shown())),
        (Value::Float(_), _) => Err(format!("{key} takes a number, not {}", shown())),
        (Value::Boolean(_), _) => Err(format!("{key} takes true or false, not {}", shown())),
        _ => Ok(()),
    }
}

/// A merged configuration that does not deserialize, in words: the config crate names the
/// key, but of a misspelt enum value it says only "does not have variant constructor"; serde's
/// own message, from the same values through `toml`, lists the valid ones.
fn explain_parse_error(merged: &config::Config, e: &config::ConfigError) -> String {
    let text = e.to_string();
    if text.contains("should be represented by either string or table") {
        // serde's words for a number or a list where a named value belongs name the Rust type.
        let key = text
            .split_once("for key `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map_or("a key", |(key, _)| key);
        return format!(
            "scenario: {key}: takes one of its names as text (docs/scenarios.md lists them)"
        );
    }
    if !text.contains("does not have variant constructor") {
        return format!("scenario: {text}");
    }
    let key = text
        .split_once("for key `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(key, _)| key.to_string());
    let valid = merged
        .clone()
        .try_deserialize::<toml::Value>()
        .ok()
        .and_then(|v| v.try_into::<Scenario>().err())
        .map(|e| e.message().trim().to_string())
        .filter(|m| m.contains("expected"));
    match (key, valid) {
        (Some(key), Some(valid)) => format!("scenario: {key}: {valid}"),
        (None, Some(valid)) => format!("scenario: {valid}"),
        _ => format!("scenario: {text}"),
    }
}

impl Scenario {
    /// Resolves a scenario: `path` (or the embedded default), then the environment, then
    /// `sets`; then validates.
    pub fn load(path: Option<&Path>, sets: &[String]) -> Result<Scenario, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.display().to_string(),
                cause: source,
            })?,
            None => DEFAULT_SCENARIO.to_string(),
        };
        let env: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("SIMULACRA__"))
            .collect();
        Self::resolve(&text, &env, sets)
    }

    /// Resolves from scenario text, environment pairs and `--set`s (testable without a
    /// process environment).
    pub fn resolve(
        text: &str,
        env: &[(String, String)],
        sets: &[String],
    ) -> Result<Scenario, ConfigError> {
        let scenario = Self::resolve_parsed(text, env, sets)?;
        scenario.validate_new_run()?;
        Ok(scenario)
    }

    /// [`Scenario::resolve`] without the checks only a new run needs (what reading a log's
    /// header uses: a run an earlier version wrote stays readable).
    fn resolve_parsed(
        text: &str,
        env: &[(String, String)],
        sets: &[String],
    ) -> Result<Scenario, ConfigError> {
        use config::{Config, Environment, File, FileFormat};
        let mut builder = Config::builder().add_source(File::from_str(text, FileFormat::Toml));
        let env_map: std::collections::HashMap<String, String> = env.iter().cloned().collect();
        builder = builder.add_source(
            Environment::with_prefix("SIMULACRA")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("planner.rates")
                .with_list_parse_key("planner.elasticity")
                .with_list_parse_key("economy.brackets")
                .source(Some(env_map)),
        );
        for set in sets {
            builder = builder.add_source(File::from_str(&set_to_toml(set)?, FileFormat::Toml));
        }
        let merged = builder
            .build()
            .map_err(|e| ConfigError::Parse(format!("scenario: {e}")))?;
        let scenario: Scenario = match merged.clone().try_deserialize() {
            Ok(s) => s,
            Err(e) => return Err(ConfigError::Parse(explain_parse_error(&merged, &e))),
        };
        let mut scenario = scenario;
        scenario.validate()?;
        // One region is the one-nation game: the section goes, so its log is today's.
        if scenario.federation.as_ref().is_some_and(|f| f.regions == 1) {
            scenario.federation = None;
        }
        Ok(scenario)
    }

    /// This scenario with `sets` applied, each of which must name one of [`LLM_ENDPOINT_KEYS`]
    /// (what a resumed run may change); validated as a whole.
    pub fn with_endpoint_sets(&self, sets: &[String]) -> Result<Scenario, ConfigError> {
        for set in sets {
            // Read strictly first: a value must not carry other keys past this check.
            let (key, _) = parse_set(set)?;
            if !LLM_ENDPOINT_KEYS.contains(&key.as_str()) {
                return Err(ConfigError::NotEndpoint(set.clone()));
            }
        }
        Self::resolve(&self.to_toml(), &[], sets)
    }

    /// Parses a scenario from TOML text alone (defaults for missing keys), as a log's header
    /// holds it: without the checks only a new run needs, so older runs stay readable.
    pub fn from_toml(text: &str) -> Result<Scenario, ConfigError> {
        Self::resolve_parsed(text, &[], &[])
    }

    /// The scenario as TOML (what the log header stores).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a scenario always serializes to TOML")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_of_an_earlier_version_stays_readable() {
        // Runs whose tax year outlasts them are refused today, but a log an earlier version
        // wrote with one must still open (inspect, replay, resume).
        let sets = [
            "simulation.timesteps=10".to_string(),
            "simulation.tax_year_length=25".to_string(),
        ];
        let err = Scenario::resolve(DEFAULT_SCENARIO, &[], &sets).unwrap_err();
        assert!(err.to_string().contains("longer than the run"), "{err}");
        let mut s = Scenario::resolve(DEFAULT_SCENARIO, &[], &[]).unwrap();
        s.simulation.timesteps = 10;
        s.simulation.tax_year_length = 25;
        let read = Scenario::from_toml(&s.to_toml()).unwrap();
        assert_eq!(read.simulation.tax_year_length, 25);
    }

    #[test]
    fn sets_override_and_bare_words_are_strings() {
        let sets = vec![
            "simulation.seed=7".to_string(),
            "economy.brackets=us-federal-2024".to_string(),
            "planner.policy=fixed".to_string(),
            "planner.rates=[0.1,0.2,0.3,0.4,0.5,0.6,0.7]".to_string(),
        ];
        let s = Scenario::resolve(DEFAULT_SCENARIO, &[], &sets).unwrap();
        assert_eq!(s.simulation.seed, 7);
        assert_eq!(s.cutoffs().unwrap().len(), 7);
        assert_eq!(s.planner.rates[6], 0.7);
    }

    #[test]
    fn environment_overrides_the_file_and_sets_override_the_environment() {
        let env = vec![
            (
                "SIMULACRA__SIMULATION__NUM_AGENTS".to_string(),
                "12".to_string(),
            ),
            ("SIMULACRA__SIMULATION__SEED".to_string(), "5".to_string()),
        ];
        let s = Scenario::resolve(DEFAULT_SCENARIO, &env, &["simulation.seed=9".into()]).unwrap();
        assert_eq!(s.simulation.num_agents, 12);
        assert_eq!(s.simulation.seed, 9);
    }

    #[test]
    fn unknown_environment_key_is_an_error() {
        let env = vec![("SIMULACRA__SIMULATION__SPEED".to_string(), "1".to_string())];
        let err = Scenario::resolve(DEFAULT_SCENARIO, &env, &[]).unwrap_err();
        assert!(err.to_string().contains("speed"), "{err}");
    }

    #[test]
    fn a_misspelt_enum_value_names_the_key_and_the_valid_values() {
        let err = Scenario::resolve(DEFAULT_SCENARIO, &[], &["planner.policy=hillclimb".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "scenario: planner.policy: unknown variant `hillclimb`, expected one of \
             `hill-climb`, `us-federal`, `saez`, `fixed`, `llm`, `nash`"
        );
        let err = Scenario::resolve(DEFAULT_SCENARIO, &[], &["baselines.workers=mine".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected `same` or `rational`"), "{err}");
    }

    #[test]
    fn resolved_scenario_round_trips_through_toml() {
        let s = Scenario::resolve(DEFAULT_SCENARIO, &[], &["simulation.seed=3".into()]).unwrap();
        assert_eq!(Scenario::from_toml(&s.to_toml()).unwrap(), s);
    }

    #[test]
    fn a_set_value_is_one_value_and_cannot_carry_a_table() {
        let err = Scenario::resolve(
            DEFAULT_SCENARIO,
            &[],
            &["simulation.seed=1\n[planner]\npolicy=\"saez\"".into()],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("--set \"simulation.seed=1\\n[planner]") && err.contains("line break"),
            "{err}"
        );
        for set in ["name=a\rb", "simulation.seed=7\r\n"] {
            // A trailing line break is trimmed like any space; one inside is refused.
            let r = Scenario::resolve(DEFAULT_SCENARIO, &[], &[set.into()]);
            assert_eq!(r.is_err(), set.starts_with("name"), "{set}: {r:?}");
        }
        // One value, as written (a comment is part of the TOML), or a bare word as a string.
        assert_eq!(
            parse_set("planner.rates=[0.1, 0.2] # two").unwrap().1,
            "[0.1, 0.2] # two"
        );
        assert_eq!(parse_set("llm.model=org/m,v2").unwrap().1, "\"org/m,v2\"");
        assert_eq!(parse_set("name=1 [planner]").unwrap().1, "\"1 [planner]\"");
    }

    #[test]
    fn a_set_value_is_of_the_kind_its_key_takes() {
        let err = |set: &str| {
            Scenario::resolve(DEFAULT_SCENARIO, &[], &[set.to_string()])
                .unwrap_err()
                .to_string()
        };
        let e = err("simulation.num_agents=true");
        assert!(
            e.contains("simulation.num_agents takes a whole number, not the boolean true"),
            "{e}"
        );
        let e = err("simulation.num_agents=50.5");
        assert!(e.contains("not the fractional number 50.5"), "{e}");
        let e = err("simulation.num_agents=\"50\"");
        assert!(e.contains("not the text \"50\""), "{e}");
        let e = err("baselines.enabled=1");
        assert!(e.contains("takes true or false"), "{e}");
        let e = err("planner.policy=3");
        assert!(
            e.contains("planner.policy: takes one of its names as text"),
            "{e}"
        );
        assert!(!e.contains("PlannerPolicyName"), "{e}");
        // A whole number is a number; a bare word is still a name.
        let s = Scenario::resolve(
            DEFAULT_SCENARIO,
            &[],
            &["economy.max_hours=80".into(), "planner.policy=saez".into()],
        )
        .unwrap();
        assert_eq!(s.economy.max_hours, 80.0);
    }

    #[test]
    fn a_resume_set_cannot_smuggle_other_keys_past_the_endpoint_check() {
        let logged = Scenario::from_toml(DEFAULT_SCENARIO).unwrap();
        let err = logged
            .with_endpoint_sets(&["llm.base_url=\"http://a/v1\"\n[simulation]\nseed=7".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("line break"), "{err}");
        let now = logged
            .with_endpoint_sets(&["llm.base_url=http://a/v1".into()])
            .unwrap();
        assert_eq!(now.simulation.seed, logged.simulation.seed);
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// No scenario text, environment value or --set makes the loader panic: it parses
            /// or names the problem.
            #[test]
            fn the_loader_never_panics(
                text in "[a-z_\\[\\]=. 0-9\"\n-]{0,120}",
                key in "[a-z_.]{1,30}",
                value in ".{0,30}",
            ) {
                let _ = Scenario::from_toml(&text);
                let _ = Scenario::resolve(DEFAULT_SCENARIO, &[], &[format!("{key}={value}")]);
                let env = vec![(format!("SIMULACRA__{}", key.to_uppercase().replace('.', "__")), value)];
                let _ = Scenario::resolve(DEFAULT_SCENARIO, &env, &[]);
            }
        }
    }
}
