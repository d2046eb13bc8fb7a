//! Prompt templates (minijinja). The defaults are the files in `scenarios/prompts/`, built into
//! the binary; a scenario's `llm.prompts_dir` may hold files of the same names that replace
//! them. A replay must render the same prompts: the request hashes in the log check that.

use std::path::Path;

use minijinja::Environment;
use serde::Serialize;

/// The templates, by name.
pub const TEMPLATES: [(&str, &str); 12] = [
    ("stand", include_str!("../../scenarios/prompts/stand.j2")),
    ("vote", include_str!("../../scenarios/prompts/vote.j2")),
    (
        "worker_history_line",
        include_str!("../../scenarios/prompts/worker_history_line.j2"),
    ),
    (
        "worker_system",
        include_str!("../../scenarios/prompts/worker_system.j2"),
    ),
    (
        "worker_user",
        include_str!("../../scenarios/prompts/worker_user.j2"),
    ),
    (
        "planner_system",
        include_str!("../../scenarios/prompts/planner_system.j2"),
    ),
    (
        "planner_user",
        include_str!("../../scenarios/prompts/planner_user.j2"),
    ),
    (
        "persona",
        include_str!("../../scenarios/prompts/persona.j2"),
    ),
    (
        "satisfaction",
        include_str!("../../scenarios/prompts/satisfaction.j2"),
    ),
    ("leader", include_str!("../../scenarios/prompts/leader.j2")),
    (
        "delegate",
        include_str!("../../scenarios/prompts/delegate.j2"),
    ),
    ("move", include_str!("../../scenarios/prompts/move.j2")),
];

// Rates are shown as the schedule's own text (econ::schedule), so every prompt and the
// platforms list read a rate the same way.
pub use crate::econ::schedule::{percent, percent_list};

/// Template instructions one render may execute. The built-in templates use a few thousand;
/// a custom template stuck in a loop ends with an error naming it instead of hanging the run.
pub const RENDER_FUEL: u64 = 1_000_000;

/// A loaded template set.
pub struct Prompts {
    env: Environment<'static>,
}

impl Prompts {
    /// The built-in templates, with any same-named `*.j2` file in `dir` taking their place.
    pub fn load(dir: Option<&Path>) -> Result<Prompts, String> {
        let mut env = Environment::new();
        env.set_trim_blocks(false);
        env.set_keep_trailing_newline(false);
        env.set_fuel(Some(RENDER_FUEL));
        for (name, builtin) in TEMPLATES {
            let source = match dir.map(|d| d.join(format!("{name}.j2"))) {
                Some(path) if path.exists() => std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read prompt template {}: {e}", path.display()))?,
                _ => builtin.to_string(),
            };
            env.add_template_owned(name.to_string(), source)
                .map_err(|e| format!("prompt template {name}.j2 does not parse: {e}"))?;
        }
        Ok(Prompts { env })
    }

    /// Renders template `name` with `context`.
    pub fn render<C: Serialize>(&self, name: &str, context: C) -> Result<String, String> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(context))
            .map(|s| s.trim().to_string())
            .map_err(|e| format!("prompt template {name}.j2 failed to render: {e:#}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtins_render_and_end_with_the_answer_format() {
        let p = Prompts::load(None).unwrap();
        let s = p
            .render(
                "worker_user",
                json!({"history": "", "rates": "[50, 50, 50]", "brackets": "b", "rebate": 0,
                       "max_hours": 100, "exploit": false}),
            )
            .unwrap();
        assert!(s.ends_with("{\"LABOR\": \"X\"}."), "{s}");
        let d = p
            .render(
                "planner_user",
                json!({"history": [], "rates": "[50]", "income_histogram": [], "utility_histogram": [],
                       "n": 3, "placeholders": "X, X, X", "welfare": 1.0,
                       "tax_year": 1, "years_total": 2}),
            )
            .unwrap();
        assert!(d.ends_with("{\"DELTA\": [X, X, X]}."), "{d}");
    }

    #[test]
    fn rates_keep_their_precision() {
        assert_eq!(
            percent_list(&[0.3725, 0.5, 0.125, 0.0]),
            "[37.25%, 50%, 12.5%, 0%]"
        );
        assert_eq!(percent(0.10000000000000002), "10%");
        assert_eq!(percent(-0.000001), "0%");
    }

    #[test]
    fn a_directory_overrides_by_name_and_bad_templates_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("persona.j2"),
            "Persona for {{ occupation }}",
        )
        .unwrap();
        let p = Prompts::load(Some(dir.path())).unwrap();
        assert_eq!(
            p.render("persona", json!({"occupation": "x"})).unwrap(),
            "Persona for x"
        );
        std::fs::write(dir.path().join("persona.j2"), "{% if %}").unwrap();
        let err = Prompts::load(Some(dir.path())).err().unwrap();
        assert!(err.contains("persona.j2"), "{err}");
    }

    #[test]
    fn a_template_that_loops_or_fails_at_run_time_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let endless =
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";
        std::fs::write(dir.path().join("vote.j2"), endless).unwrap();
        std::fs::write(dir.path().join("stand.j2"), "{{ \"x\" + 1 }}").unwrap();
        std::fs::write(dir.path().join("persona.j2"), "{{ 1 // 0 }}").unwrap();
        let p = Prompts::load(Some(dir.path())).unwrap();
        for name in ["vote", "stand", "persona"] {
            let err = p.render(name, json!({})).unwrap_err();
            assert!(
                err.contains(&format!("{name}.j2 failed to render")),
                "{err}"
            );
        }
    }
}
