//! [`Scenario::validate`]: every range and cross-key check, run in one fixed order (some read
//! more than one section, such as `workers.fixed_hours` against `economy.max_hours`), and the
//! bracket cut-offs that check derives.

use super::{
    Brackets, ConfigError, MAX_AGENTS, MAX_LABOR_EXPONENT, MAX_STEPS, MIN_LABOR_EXPONENT,
    PersonaSource, PlannerPolicyName, Scenario, WorkerPolicyName, compact, in_range, invalid,
};
use crate::econ::{BracketPreset, TaxSchedule};

/// A scenario's name becomes a folder under `runs/`: plain characters only, so it can
/// never point elsewhere (`../x`, `/tmp/x`) or hide (`.x`).
fn check_name(name: &str) -> Result<(), ConfigError> {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if name.is_empty() || name.len() > 100 || !plain || name.starts_with('.') {
        return Err(invalid(
            "name",
            format!(
                "{name:?} is not a plain name: use 1 to 100 letters, digits, '-', '_' or '.', \
                 not starting with '.' (it names the run's folder under runs/)"
            ),
        ));
    }
    Ok(())
}

impl Scenario {
    /// Checks ranges and cross-key consistency.
    /// What a new run (or sweep, or fork) asks beyond [`Scenario::validate`]: checks that a
    /// log written by an earlier version may fail without being unreadable, so a header is
    /// parsed without them.
    pub fn validate_new_run(&self) -> Result<(), ConfigError> {
        let s = &self.simulation;
        if s.tax_year_length > s.timesteps {
            return Err(invalid(
                "simulation.tax_year_length",
                format!(
                    "a tax year of {} steps is longer than the run's {} steps \
                     (simulation.timesteps): the planner would never move; shorten the tax year \
                     or lengthen the run",
                    s.tax_year_length, s.timesteps
                ),
            ));
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name(&self.name)?;
        let s = &self.simulation;
        in_range(
            "simulation.num_agents",
            s.num_agents,
            1,
            MAX_AGENTS,
            " (a worker takes about 1.5 KB of memory: 10 million need about 14 GiB)",
        )?;
        in_range(
            "simulation.timesteps",
            s.timesteps,
            1,
            MAX_STEPS,
            " (a run keeps a record of about 100 bytes per step)",
        )?;
        in_range(
            "simulation.tax_year_length",
            s.tax_year_length,
            1,
            MAX_STEPS,
            "",
        )?;
        in_range(
            "simulation.shards",
            s.shards,
            0,
            1024,
            " (0 = one per core)",
        )?;
        if self.log.snapshots_keep == 0 {
            return Err(invalid(
                "log.snapshots_keep",
                "must be at least 1 (turn snapshots off with log.snapshot_every_years = 0)",
            ));
        }
        let e = &self.economy;
        let cutoffs = self.cutoffs()?;
        if !(e.max_hours > 0.0 && e.max_hours <= 168.0) {
            return Err(invalid(
                "economy.max_hours",
                format!(
                    "must be a positive number of weekly hours, at most 168 (got {})",
                    compact(e.max_hours)
                ),
            ));
        }
        in_range(
            "economy.labor_exponent",
            e.labor_exponent,
            MIN_LABOR_EXPONENT,
            MAX_LABOR_EXPONENT,
            " (the labor elasticity 1/(delta-1) is then between 0.11 and 10; near 1 the best \
             responses overflow: 1.0000001 gives NaN welfare)",
        )?;
        e.labor_cost.check("economy.labor_cost")?;
        e.crra_reference_consumption
            .check("economy.crra_reference_consumption")?;
        if !(e.crra_eta > 0.0 && e.crra_eta <= 20.0) {
            return Err(invalid(
                "economy.crra_eta",
                format!("must be positive, at most 20 (got {})", compact(e.crra_eta)),
            ));
        }
        if !(e.welfare_income_floor > 0.0 && e.welfare_income_floor <= 1e6) {
            return Err(invalid(
                "economy.welfare_income_floor",
                format!(
                    "must be a positive number of dollars, at most 1e6 (got {})",
                    compact(e.welfare_income_floor)
                ),
            ));
        }
        e.income
            .validate()
            .map_err(|err| invalid("economy.income", err.to_string()))?;
        let w = &self.workers;
        if !(0.0..=e.max_hours).contains(&w.fixed_hours) {
            return Err(invalid(
                "workers.fixed_hours",
                format!(
                    "must be within [0, economy.max_hours = {}], got {}",
                    compact(e.max_hours),
                    compact(w.fixed_hours)
                ),
            ));
        }
        for (key, share) in [
            ("workers.altruistic_share", w.altruistic_share),
            ("workers.adversarial_share", w.adversarial_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(invalid(key, "must be a fraction in [0, 1]"));
            }
        }
        if w.altruistic_share + w.adversarial_share > 1.0 {
            return Err(invalid(
                "workers.altruistic_share",
                "altruistic_share + adversarial_share must not exceed 1",
            ));
        }
        if w.policy == WorkerPolicyName::Rational
            && (w.altruistic_share > 0.0 || w.adversarial_share > 0.0)
        {
            return Err(invalid(
                "workers.policy",
                "rational workers best-respond to their own utility; altruistic and adversarial \
                 workers learn from welfare feedback: use workers.policy = \"bounded\"",
            ));
        }
        in_range("workers.explore_steps", w.explore_steps, 0, 100_000, "")?;
        if !(0.0..=1.0).contains(&w.exploration_rate) {
            return Err(invalid(
                "workers.exploration_rate",
                "must be a probability in [0, 1]",
            ));
        }
        if w.policy != WorkerPolicyName::Llm && (w.personas == PersonaSource::Llm || w.satisfaction)
        {
            return Err(invalid(
                "workers.personas",
                "LLM personas and the satisfaction question need workers.policy = \"llm\"",
            ));
        }
        self.validate_llm()?;
        self.governance.validate()?;
        let pw = self.population.persona_weight;
        if !(pw.is_finite() && (0.0..=1.0).contains(&pw)) {
            return Err(invalid(
                "population.persona_weight",
                format!(
                    "must be in [0, 1] (a correlation; the default is {}), got {}",
                    crate::econ::earnings::DEFAULT_PERSONA_WEIGHT,
                    compact(pw)
                ),
            ));
        }
        if let Some(f) = &self.federation {
            f.validate(self)?;
        }
        let p = &self.planner;
        if !(0.0..=1.0).contains(&p.initial_rate) {
            return Err(invalid(
                "planner.initial_rate",
                "must be a fraction in [0, 1]",
            ));
        }
        if !(10..=100).contains(&p.max_delta_points) || p.max_delta_points % 10 != 0 {
            return Err(invalid(
                "planner.max_delta_points",
                "must be a positive multiple of 10, at most 100 (the paper uses 20)",
            ));
        }
        if p.policy == PlannerPolicyName::Nash
            && self.federation.as_ref().is_none_or(|f| f.regions < 2)
        {
            return Err(invalid(
                "planner.policy",
                "\"nash\" is tax competition between regions: set federation.regions to 2 or \
                 more (one nation has nobody to compete with)",
            ));
        }
        if p.policy == PlannerPolicyName::Fixed && p.rates.len() != cutoffs.len() {
            return Err(invalid(
                "planner.rates",
                format!(
                    "planner.policy = \"fixed\" needs {} rates (one per bracket of economy.brackets), got {}",
                    cutoffs.len(),
                    p.rates.len()
                ),
            ));
        }
        if p.rates.iter().any(|r| !(0.0..=1.0).contains(r)) {
            return Err(invalid(
                "planner.rates",
                "rates are fractions in [0, 1] (write 0.35, not 35)",
            ));
        }
        if !p.elasticity.is_empty() {
            if p.elasticity.len() != 1 && p.elasticity.len() != cutoffs.len() {
                return Err(invalid(
                    "planner.elasticity",
                    format!("give one value or {} (one per bracket)", cutoffs.len()),
                ));
            }
            if p.elasticity.iter().any(|e| !(*e > 0.0 && *e <= 100.0)) {
                return Err(invalid(
                    "planner.elasticity",
                    "elasticities must be positive, at most 100",
                ));
            }
        }
        Ok(())
    }

    /// The bracket lower cut-offs of the scenario: checked by validation, and derived once
    /// into [`crate::resolved::ResolvedScenario::cutoffs`], which the rest of the code reads.
    pub(crate) fn cutoffs(&self) -> Result<Vec<f64>, ConfigError> {
        let cutoffs = match &self.economy.brackets {
            Brackets::Preset(name) => BracketPreset::parse(name)
                .ok_or_else(|| {
                    invalid(
                        "economy.brackets",
                        format!(
                            "unknown preset {name:?}: use one of {} or a list of cut-offs such as [0, 50000, 150000]",
                            BracketPreset::ALL.map(|p| p.name()).join(", ")
                        ),
                    )
                })?
                .cutoffs(),
            Brackets::Cutoffs(c) => c.clone(),
        };
        TaxSchedule::uniform(cutoffs.clone(), 0.0)
            .map_err(|e| invalid("economy.brackets", e.to_string()))?;
        Ok(cutoffs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_SCENARIO;
    use crate::config::tests::err_of;

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        assert!(err_of(&["simulation.num_agent=5"]).contains("num_agent"));
        assert!(err_of(&["simulaton.seed=5"]).contains("simulaton"));
        assert!(err_of(&["workers.policy=genius"]).contains("genius"));
        assert!(err_of(&["simulation.num_agents=0"]).contains("simulation.num_agents"));
        assert!(err_of(&["economy.brackets=four"]).contains("economy.brackets"));
        assert!(err_of(&["economy.brackets=[0, 5000, 100]"]).contains("economy.brackets"));
        assert!(err_of(&["planner.policy=fixed", "planner.rates=[0.1]"]).contains("planner.rates"));
        assert!(err_of(&["planner.rates=[35, 10, 10]"]).contains("fractions"));
        assert!(err_of(&["simulation.seed=-3"]).contains("seed"));
        assert!(err_of(&["workers.altruistic_share=0.5"]).contains("workers.policy"));
        assert!(err_of(&["noequals"]).contains("key=value"));
        assert!(err_of(&["population.persona_weight=1.5"]).contains("population.persona_weight"));
        assert!(err_of(&["population.persona_weight=-0.1"]).contains("population.persona_weight"));
        assert!(err_of(&["population.income_model=magic"]).contains("magic"));
        assert!(err_of(&["population.weight=0.3"]).contains("weight"));
    }

    #[test]
    fn a_tax_year_longer_than_the_run_is_refused_with_both_numbers() {
        let err = err_of(&["simulation.timesteps=10", "simulation.tax_year_length=25"]);
        assert!(
            err.starts_with("simulation.tax_year_length:")
                && err.contains("25 steps")
                && err.contains("10 steps"),
            "{err}"
        );
        // A run of exactly one tax year is fine.
        let sets = ["simulation.timesteps=25".to_string()];
        Scenario::resolve(DEFAULT_SCENARIO, &[], &sets).unwrap();
    }

    #[test]
    fn a_range_message_states_the_real_bound() {
        let sets = [
            "federation.regions=2",
            "federation.region=[{share=1e308},{share=1}]",
        ];
        let err = err_of(&sets);
        assert!(
            err.contains("at most 1e6") && err.contains("1e308"),
            "{err}"
        );
        let err = err_of(&["economy.labor_cost=inf"]);
        assert!(err.contains("finite") && err.contains("inf"), "{err}");
    }

    #[test]
    fn numbers_print_compactly_when_huge_or_tiny_and_in_full_otherwise() {
        for (x, shown) in [
            (1e300, "1e300"),
            (-1e300, "-1e300"),
            (1.5e-7, "1.5e-7"),
            (f64::MAX, "1.7976931348623157e308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (1e15, "1e15"),
            (123456789012345.5, "123456789012345.5"),
            (0.00001, "0.00001"),
            (1.1, "1.1"),
            (0.0, "0"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(compact(x), shown);
        }
        // Integers stay whole: a count is read digit by digit.
        assert_eq!(
            crate::config::Shown::shown(2305843009213693952u64),
            "2305843009213693952"
        );
    }

    #[test]
    fn a_range_message_shows_a_huge_or_tiny_value_compactly() {
        let err = err_of(&["economy.labor_exponent=1e300"]);
        assert!(
            err.contains("must be within [1.1, 10]") && err.ends_with("got 1e300"),
            "{err}"
        );
        let err = err_of(&["economy.labor_exponent=1e-300"]);
        assert!(err.ends_with("got 1e-300"), "{err}");
        let err = err_of(&["economy.crra_eta=1e300"]);
        assert!(err.contains("(got 1e300)"), "{err}");
        let err = err_of(&["workers.fixed_hours=1e300"]);
        assert!(
            err.ends_with("economy.max_hours = 100], got 1e300"),
            "{err}"
        );
        // The hand-written range messages of the other sections too.
        for (set, shown) in [
            ("llm.timeout_seconds=1e300", "(got 1e300)"),
            ("economy.labor_cost=-1e300", "got -1e300"),
            ("federation.region=[{share=1e308},{share=1}]", "got 1e308"),
        ] {
            let err = err_of(&["federation.regions=2", set]);
            assert!(err.contains(shown), "{set}: {err}");
        }
    }

    #[test]
    fn every_number_has_a_range_and_the_name_stays_under_runs() {
        // Each of these panicked, hung or aborted before it was refused.
        for (set, key) in [
            ("llm.timeout_seconds=1e20", "llm.timeout_seconds"),
            ("llm.timeout_seconds=nan", "llm.timeout_seconds"),
            ("llm.concurrency=2305843009213693952", "llm.concurrency"),
            ("llm.backoff_ms=18446744073709551615", "llm.backoff_ms"),
            ("llm.max_retries=4294967295", "llm.max_retries"),
            ("llm.max_reasks=1000", "llm.max_reasks"),
            ("llm.max_tokens=4294967295", "llm.max_tokens"),
            ("llm.max_fallback_share=1.5", "llm.max_fallback_share"),
            ("llm.max_fallback_share=-0.1", "llm.max_fallback_share"),
            ("simulation.num_agents=4000000000", "simulation.num_agents"),
            ("simulation.timesteps=1000000000000", "simulation.timesteps"),
            ("economy.labor_exponent=1.0000001", "economy.labor_exponent"),
            ("economy.labor_exponent=1e300", "economy.labor_exponent"),
            ("economy.max_hours=1e300", "economy.max_hours"),
            ("governance.ballot_noise=inf", "governance.ballot_noise"),
            (
                "planner.max_delta_points=2147483640",
                "planner.max_delta_points",
            ),
        ] {
            let err = err_of(&[set]);
            assert!(err.starts_with(key), "{set}: {err}");
        }
        let err = err_of(&["llm.concurrency=2305843009213693952"]);
        assert!(
            err.contains("[1, 4096]") && err.contains("2305843009213693952"),
            "{err}"
        );
        for name in ["../../x", "/tmp/x", ".hidden", "", "a b", "runs\\x"] {
            let err = err_of(&[&format!("name={name:?}")]);
            assert!(err.starts_with("name:"), "{name:?}: {err}");
        }
        // The range ends themselves are accepted.
        for set in [
            "economy.labor_exponent=1.1",
            "economy.labor_exponent=10",
            "llm.max_fallback_share=1",
            "llm.timeout_seconds=3600",
            "name=my-run_2.b",
        ] {
            Scenario::resolve(DEFAULT_SCENARIO, &[], &[set.to_string()])
                .unwrap_or_else(|e| panic!("{set}: {e}"));
        }
    }
}
