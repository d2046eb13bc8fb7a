//! `[governance]`: who sets the schedule (the planner, or an elected leader), the election's
//! keys, the liquid-democracy defaults, and the section's checks.

use serde::{Deserialize, Serialize};

use super::{ConfigError, MAX_AGENTS, MAX_STEPS, in_range, invalid};

/// Who sets the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GovernanceMode {
    /// The planner policy (`[planner]`).
    Planner,
    /// The population elects, every `term_years`, a worker who sets it (or adopts a schedule
    /// directly, with `rule = "referendum"`).
    Election,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Eligibility {
    /// Every worker is a candidate.
    Everyone,
    /// Only workers who declare (offline: whose platform gains them `declare_gain`).
    Declared,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeaderObjective {
    /// The paper's: the leader moves to maximize her own utility.
    OwnUtility,
    /// A variant: the leader maximizes social welfare.
    Welfare,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Governance {
    pub mode: GovernanceMode,
    /// One of plurality, approval, borda, instant-runoff, condorcet, random-ballot, sortition,
    /// referendum, liquid.
    pub rule: String,
    /// Elections every this many tax years; the leader moves every year of her term.
    pub term_years: u64,
    pub eligibility: Eligibility,
    /// Relative utility gain over the status quo that makes an offline worker declare.
    pub declare_gain: f64,
    /// With declared candidates: at most this many, those with the largest gains.
    pub max_candidates: usize,
    pub leader_objective: LeaderObjective,
    /// Relative noise on the utilities offline voters compare (0 = exact best responses).
    pub ballot_noise: f64,
    /// LLM workers: ask each one for a platform (otherwise they vote by candidate id only).
    pub platforms: bool,
    /// Liquid democracy, offline voters: the share who delegate (each by a draw from her own
    /// stream) to the most similar direct voter. Not written when default, so scenarios that
    /// do not use it keep their header.
    #[serde(skip_serializing_if = "is_default_delegation_share")]
    pub delegation_share: f64,
    /// Liquid democracy: the rule that counts the weighted ballots (plurality of weights by
    /// default).
    #[serde(skip_serializing_if = "is_default_liquid_count")]
    pub liquid_count: String,
    /// Liquid democracy, LLM voters: how many of the most similar fellow voters each is offered
    /// as delegates (besides the candidates).
    #[serde(skip_serializing_if = "is_default_delegate_peers")]
    pub delegate_peers: usize,
}

pub const DEFAULT_DELEGATION_SHARE: f64 = 0.5;
pub const DEFAULT_DELEGATE_PEERS: usize = 5;

fn is_default_delegation_share(share: &f64) -> bool {
    *share == DEFAULT_DELEGATION_SHARE
}

fn is_default_liquid_count(rule: &str) -> bool {
    rule == "plurality"
}

fn is_default_delegate_peers(k: &usize) -> bool {
    *k == DEFAULT_DELEGATE_PEERS
}

impl Default for Governance {
    fn default() -> Self {
        Governance {
            mode: GovernanceMode::Planner,
            rule: "plurality".into(),
            term_years: 1,
            eligibility: Eligibility::Everyone,
            declare_gain: 0.01,
            max_candidates: 10,
            leader_objective: LeaderObjective::OwnUtility,
            ballot_noise: 0.0,
            platforms: true,
            delegation_share: DEFAULT_DELEGATION_SHARE,
            liquid_count: "plurality".into(),
            delegate_peers: DEFAULT_DELEGATE_PEERS,
        }
    }
}

impl Governance {
    /// Checks the `[governance]` keys: a known rule, and every number in its range.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if crate::governance::rule(&self.rule).is_none() {
            return Err(invalid(
                "governance.rule",
                format!(
                    "unknown rule {:?}: use one of {}",
                    self.rule,
                    crate::governance::RULES.join(", ")
                ),
            ));
        }
        in_range("governance.term_years", self.term_years, 1, MAX_STEPS, "")?;
        in_range(
            "governance.max_candidates",
            self.max_candidates,
            1,
            MAX_AGENTS,
            "",
        )?;
        in_range(
            "governance.ballot_noise",
            self.ballot_noise,
            0.0,
            10.0,
            " (relative noise on compared utilities)",
        )?;
        in_range(
            "governance.declare_gain",
            self.declare_gain,
            -1.0,
            1e6,
            " (a relative utility gain)",
        )?;
        in_range(
            "governance.delegation_share",
            self.delegation_share,
            0.0,
            1.0,
            " (the share of offline voters who delegate in a liquid election)",
        )?;
        if !crate::governance::liquid::UNDERLYING.contains(&self.liquid_count.as_str()) {
            return Err(invalid(
                "governance.liquid_count",
                format!(
                    "unknown rule {:?} to count a liquid election's weighted ballots: use one \
                     of {}",
                    self.liquid_count,
                    crate::governance::liquid::UNDERLYING.join(", ")
                ),
            ));
        }
        in_range(
            "governance.delegate_peers",
            self.delegate_peers,
            1,
            50,
            " (fellow voters an LLM voter may delegate to)",
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Scenario;
    use crate::config::tests::err_of;

    #[test]
    fn liquid_democracy_keys_are_ranged_and_stay_out_of_headers_by_default() {
        for (set, key) in [
            (
                "governance.delegation_share=1.5",
                "governance.delegation_share",
            ),
            (
                "governance.delegation_share=nan",
                "governance.delegation_share",
            ),
            (
                "governance.liquid_count=sortition",
                "governance.liquid_count",
            ),
            ("governance.liquid_count=liquid", "governance.liquid_count"),
            ("governance.delegate_peers=0", "governance.delegate_peers"),
            ("governance.delegate_peers=51", "governance.delegate_peers"),
        ] {
            assert!(err_of(&[set]).contains(key), "{set}");
        }
        let plain = Scenario::default().to_toml();
        assert!(
            !plain.contains("delegat") && !plain.contains("liquid"),
            "{plain}"
        );
    }
}
