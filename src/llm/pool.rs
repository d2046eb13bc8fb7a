//! The pool of a run's inference endpoints: which endpoint serves an agent (rendezvous hashing
//! over the endpoints in the pool, weights honoured), per-endpoint concurrency caps, ejection
//! after consecutive transport failures and return after a successful probe, and the
//! per-endpoint counts of `summary.json` (requests, failures, ejections, latency p50/p99).
//!
//! Nothing here reaches a result: a request's body (and so its hash and what a replay serves)
//! does not name the endpoint, so which server answered never changes what an agent decides.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::reply::CallError;
use crate::frames::EndpointEvent;

/// SplitMix64, for hashing an agent onto the endpoints.
pub(super) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The endpoint serving `agent` among those `eligible`: highest random weight (rendezvous)
/// hashing, each endpoint scoring `w / -ln(u)` with `u` a hash of (agent, endpoint) in (0, 1).
/// Taking an endpoint out moves only its own agents (each to its next-best endpoint), so the
/// others keep their server and its prefix cache; an endpoint's share of agents is its share
/// of the weights. With no eligible endpoint, every endpoint is eligible.
pub fn rendezvous(agent: u64, weights: &[f64], eligible: impl Fn(usize) -> bool) -> usize {
    let any = (0..weights.len()).any(&eligible);
    let mut best = (0, f64::NEG_INFINITY);
    for (i, w) in weights.iter().enumerate() {
        if any && !eligible(i) {
            continue;
        }
        let h = mix(mix(agent) ^ mix(i as u64 + 1).rotate_left(17));
        let u = ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let score = w / -u.ln();
        if score > best.1 {
            best = (i, score);
        }
    }
    best.0
}

/// One endpoint's counts, as `summary.json` shows them (`llm.endpoints`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointStats {
    pub base_url: String,
    /// Attempts sent to it.
    pub requests: u64,
    /// Attempts that failed (any error, throttling included).
    pub failures: u64,
    /// Times it was taken out of the pool (at start when dead, or after failures in a row).
    pub ejections: u64,
    /// Latency of its attempts, median and 99th percentile, in microseconds (from a
    /// histogram of 8 buckets per doubling, so within 9%).
    pub latency_p50_us: u64,
    pub latency_p99_us: u64,
}

/// Latencies in logarithmic buckets: constant memory whatever the number of requests.
struct Latencies {
    counts: Vec<u64>,
    total: u64,
}

const BUCKETS_PER_DOUBLING: f64 = 8.0;
const BUCKETS: usize = 8 * 40;

impl Latencies {
    fn new() -> Self {
        Latencies {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }

    fn add(&mut self, d: Duration) {
        let us = d.as_micros().min(u64::MAX as u128) as f64;
        let b = ((us + 1.0).log2() * BUCKETS_PER_DOUBLING) as usize;
        self.counts[b.min(BUCKETS - 1)] += 1;
        self.total += 1;
    }

    /// The `q` quantile, as the middle of its bucket.
    fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (b, n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return ((b as f64 + 0.5) / BUCKETS_PER_DOUBLING).exp2() as u64 - 1;
            }
        }
        0
    }
}

/// Whether an endpoint takes requests.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Standing {
    In,
    /// Out until the instant; then one request probes it (`probing` while that runs).
    Out {
        until: Instant,
        probing: bool,
    },
}

struct Health {
    standing: Standing,
    /// Transport failures in a row (a success or any answer of the server ends the run).
    in_a_row: u32,
    stats: EndpointStats,
    latencies: Latencies,
}

/// The pool's fixed settings.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    pub base_urls: Vec<String>,
    /// Relative weights (empty = equal).
    pub weights: Vec<f64>,
    pub eject_after: u32,
    pub cooldown: Duration,
    /// Most requests in flight to one endpoint (0 = no cap of its own).
    pub endpoint_concurrency: usize,
    /// Each endpoint's index among all the run's endpoints (the backend's, and the log's);
    /// empty = the same as here.
    pub global: Vec<usize>,
}

/// The live pool of a run (shared by every request).
pub struct Pool {
    settings: PoolSettings,
    weights: Vec<f64>,
    health: Mutex<Vec<Health>>,
    permits: Vec<Option<Semaphore>>,
    /// Changes not yet logged: (endpoint, change, reason).
    events: Mutex<Vec<(usize, &'static str, String)>>,
}

/// Whether a failure says the endpoint itself is unwell (counts towards its ejection): it did
/// not answer, or answered with a server error. Throttling and client errors are answers.
fn unwell(e: &CallError) -> bool {
    match e {
        CallError::Timeout | CallError::Connection(_) => true,
        CallError::Http { status, .. } => *status >= 500,
        CallError::BadResponse(_) => false,
    }
}

impl Pool {
    pub fn new(settings: PoolSettings) -> Pool {
        let n = settings.base_urls.len().max(1);
        let weights = if settings.weights.len() == n {
            settings.weights.clone()
        } else {
            vec![1.0; n]
        };
        let health = (0..n)
            .map(|i| Health {
                standing: Standing::In,
                in_a_row: 0,
                stats: EndpointStats {
                    base_url: settings.base_urls.get(i).cloned().unwrap_or_default(),
                    ..EndpointStats::default()
                },
                latencies: Latencies::new(),
            })
            .collect();
        let permits = (0..n)
            .map(|_| {
                (settings.endpoint_concurrency > 0)
                    .then(|| Semaphore::new(settings.endpoint_concurrency))
            })
            .collect();
        Pool {
            settings,
            weights,
            health: Mutex::new(health),
            permits,
            events: Mutex::new(Vec::new()),
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Vec<Health>> {
        self.health.lock().expect("the pool lock is never poisoned")
    }

    /// Endpoint `local`'s index among all the run's endpoints.
    pub fn global(&self, local: usize) -> usize {
        self.settings.global.get(local).copied().unwrap_or(local)
    }

    /// The local index of the run's endpoint `global`, if this pool has it.
    pub fn local(&self, global: usize) -> Option<usize> {
        (0..self.endpoints()).find(|&i| self.global(i) == global)
    }

    fn event(&self, endpoint: usize, change: &'static str, reason: String) {
        tracing::warn!(
            endpoint = %self.settings.base_urls.get(endpoint).map_or("?", |u| u.as_str()),
            change,
            reason = %reason,
            "LLM endpoint {change}"
        );
        self.events
            .lock()
            .expect("the events lock is never poisoned")
            .push((endpoint, change, reason));
    }

    fn eject(&self, h: &mut Health, endpoint: usize, reason: String) {
        h.standing = Standing::Out {
            until: Instant::now() + self.settings.cooldown,
            probing: false,
        };
        h.stats.ejections += 1;
        h.in_a_row = 0;
        self.event(endpoint, "ejected", reason);
    }

    /// Takes an endpoint that did not answer the probe at start out of the pool (it may come
    /// back after its cool-down, like any ejected one).
    pub fn dead_at_start(&self, endpoint: usize, why: String) {
        let mut health = self.health();
        self.eject(
            &mut health[endpoint],
            endpoint,
            format!("did not answer the probe at start: {why}"),
        );
    }

    /// The endpoint for `agent`'s next attempt, and whether this attempt must first probe it
    /// (an ejected endpoint whose cool-down is over and that no one is probing yet).
    pub fn pick(&self, agent: u64) -> (usize, bool) {
        let mut health = self.health();
        let now = Instant::now();
        // An ejected endpoint whose cool-down is over goes to the first attempt that wants it
        // for a probe; only a successful probe puts it back.
        let due = (0..health.len()).find(|&i| {
            matches!(health[i].standing, Standing::Out { until, probing: false } if until <= now)
        });
        if let Some(i) = due
            && let Standing::Out { probing, .. } = &mut health[i].standing
        {
            *probing = true;
            return (i, true);
        }
        (
            rendezvous(agent, &self.weights, |i| health[i].standing == Standing::In),
            false,
        )
    }

    /// The endpoint for `agent` among those in the pool (no probe claimed).
    pub fn route(&self, agent: u64) -> usize {
        let health = self.health();
        rendezvous(agent, &self.weights, |i| health[i].standing == Standing::In)
    }

    /// How many endpoints the pool has.
    pub fn endpoints(&self) -> usize {
        self.weights.len()
    }

    /// Records a probe's verdict: back in the pool, or out for another cool-down.
    pub fn probed(&self, endpoint: usize, verdict: &Result<(), CallError>) {
        let mut health = self.health();
        let h = &mut health[endpoint];
        match verdict {
            Ok(()) => {
                h.standing = Standing::In;
                h.in_a_row = 0;
                drop(health);
                self.event(
                    endpoint,
                    "returned",
                    "answered the probe after its cool-down".into(),
                );
            }
            Err(_) => {
                h.standing = Standing::Out {
                    until: Instant::now() + self.settings.cooldown,
                    probing: false,
                };
            }
        }
    }

    /// Waits for a slot of `endpoint`'s own cap (none when it has none).
    pub async fn slot(&self, endpoint: usize) -> Option<SemaphorePermit<'_>> {
        match &self.permits[endpoint] {
            Some(s) => Some(s.acquire().await.expect("the semaphore is never closed")),
            None => None,
        }
    }

    /// Counts an attempt at `endpoint` that took `latency`; ejects the endpoint after
    /// `eject_after` transport failures in a row.
    pub fn finished<T>(&self, endpoint: usize, result: &Result<T, CallError>, latency: Duration) {
        let mut health = self.health();
        let h = &mut health[endpoint];
        h.stats.requests += 1;
        h.latencies.add(latency);
        match result {
            Ok(_) => h.in_a_row = 0,
            Err(e) => {
                h.stats.failures += 1;
                if !unwell(e) {
                    h.in_a_row = 0;
                } else if h.standing == Standing::In {
                    h.in_a_row += 1;
                    if h.in_a_row >= self.settings.eject_after {
                        let reason = format!(
                            "{} failures in a row (llm.eject_after), the last {}: {}",
                            h.in_a_row,
                            e.kind(),
                            e.message()
                        );
                        self.eject(h, endpoint, reason);
                    }
                }
            }
        }
    }

    /// The changes seen since the last call, as frames of `step`.
    pub fn drain(&self, step: u64) -> Vec<EndpointEvent> {
        std::mem::take(
            &mut *self
                .events
                .lock()
                .expect("the events lock is never poisoned"),
        )
        .into_iter()
        .map(|(endpoint, change, reason)| EndpointEvent {
            step,
            endpoint: endpoint as u64,
            base_url: self
                .settings
                .base_urls
                .get(endpoint)
                .cloned()
                .unwrap_or_default(),
            change: change.to_string(),
            reason,
        })
        .collect()
    }

    /// Each endpoint's counts so far.
    pub fn stats(&self) -> Vec<EndpointStats> {
        self.health()
            .iter()
            .map(|h| EndpointStats {
                latency_p50_us: h.latencies.quantile(0.5),
                latency_p99_us: h.latencies.quantile(0.99),
                ..h.stats.clone()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendezvous_moves_only_the_agents_of_an_endpoint_taken_out() {
        let w = [1.0, 1.0, 1.0];
        let all: Vec<usize> = (0..3000).map(|a| rendezvous(a, &w, |_| true)).collect();
        let without_1: Vec<usize> = (0..3000).map(|a| rendezvous(a, &w, |i| i != 1)).collect();
        for (a, (&before, &after)) in all.iter().zip(&without_1).enumerate() {
            if before != 1 {
                assert_eq!(before, after, "agent {a} moved though its endpoint stayed");
            } else {
                assert_ne!(after, 1);
            }
        }
        // Endpoint 1's agents are spread over the other two, not piled on one.
        let moved_to_0 = (0..3000)
            .filter(|&a| all[a] == 1 && without_1[a] == 0)
            .count();
        let moved = all.iter().filter(|&&e| e == 1).count();
        assert!(
            (0.4..0.6).contains(&(moved_to_0 as f64 / moved as f64)),
            "{moved_to_0}/{moved}"
        );
        // Nothing eligible: everything is.
        assert_eq!(rendezvous(5, &w, |_| false), all[5]);
    }

    #[test]
    fn rendezvous_honours_weights() {
        let w = [1.0, 3.0];
        let on_1 = (0..40_000)
            .filter(|&a| rendezvous(a, &w, |_| true) == 1)
            .count();
        let share = on_1 as f64 / 40_000.0;
        assert!((0.73..0.77).contains(&share), "{share}");
    }

    fn pool(n: usize, eject_after: u32, cooldown: Duration) -> Pool {
        Pool::new(PoolSettings {
            base_urls: (0..n).map(|i| format!("http://e{i}/v1")).collect(),
            weights: Vec::new(),
            eject_after,
            cooldown,
            endpoint_concurrency: 0,
            global: Vec::new(),
        })
    }

    #[test]
    fn failures_in_a_row_eject_and_a_probe_brings_back() {
        let p = pool(3, 3, Duration::ZERO);
        let refused: Result<(), CallError> = Err(CallError::Connection("refused".into()));
        let throttled: Result<(), CallError> = Err(CallError::Http {
            status: 429,
            message: String::new(),
            retry_after: None,
        });
        let agent = (0..).find(|&a| p.pick(a) == (2, false)).unwrap();
        p.finished(2, &refused, Duration::from_millis(1));
        p.finished(2, &refused, Duration::from_millis(1));
        // An answer, even a refusal to serve now, ends the run of failures.
        p.finished(2, &throttled, Duration::from_millis(1));
        p.finished(2, &refused, Duration::from_millis(1));
        p.finished(2, &refused, Duration::from_millis(1));
        assert!(p.drain(0).is_empty());
        p.finished(2, &refused, Duration::from_millis(1));
        let events = p.drain(4);
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].step, events[0].endpoint), (4, 2));
        assert_eq!(events[0].change, "ejected");
        assert!(
            events[0].reason.contains("3 failures in a row"),
            "{:?}",
            events[0]
        );
        // The cool-down (zero here) is over: the next attempt probes it, others route around.
        assert_eq!(p.pick(agent), (2, true));
        let (other, probe) = p.pick(agent);
        assert!(other != 2 && !probe);
        p.probed(2, &refused);
        assert!(p.drain(5).is_empty(), "a failed probe changes nothing");
        assert_eq!(p.pick(agent), (2, true));
        p.probed(2, &Ok(()));
        assert_eq!(p.drain(6)[0].change, "returned");
        assert_eq!(p.pick(agent), (2, false));
        let s = &p.stats()[2];
        assert_eq!((s.requests, s.failures, s.ejections), (6, 6, 1));
        assert!((900..1100).contains(&s.latency_p50_us), "{s:?}");
    }

    #[test]
    fn latency_quantiles_are_within_a_bucket() {
        let mut l = Latencies::new();
        for ms in 1..=100 {
            l.add(Duration::from_millis(ms));
        }
        let (p50, p99) = (l.quantile(0.5), l.quantile(0.99));
        assert!((46_000..55_000).contains(&p50), "{p50}");
        assert!((91_000..109_000).contains(&p99), "{p99}");
        assert_eq!(Latencies::new().quantile(0.5), 0);
    }
}
