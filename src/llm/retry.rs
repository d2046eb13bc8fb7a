//! How one request is sent to a live endpoint pool: which endpoint each attempt goes to
//! (an ejected endpoint whose cool-down is over is probed first), the per-endpoint and
//! run-wide caps on requests in flight, and the retry rule with its backoff and `Retry-After`
//! waits. Timing lives here only; what the attempts return is all the log sees.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::client::ChatBackend;
use super::exchange::Attempts;
use super::pool::Pool;
use super::reply::CallError;
use super::request::Settings;

/// Sends `body` for `agent` over `pool`, retrying retryable failures up to
/// `settings.max_retries` times, with `semaphore` capping the run's requests in flight.
pub(super) async fn send(
    backend: &dyn ChatBackend,
    pool: &Pool,
    semaphore: &Semaphore,
    settings: &Settings,
    agent: u64,
    body: Arc<str>,
) -> Attempts {
    let mut outcomes = Vec::new();
    for retry in 0..=settings.max_retries {
        // Picked anew for every attempt: a retry after an ejection goes to the agent's
        // next endpoint.
        let mut endpoint = None;
        // An ejected endpoint whose cool-down is over is probed by the attempt that
        // finds it so (one at a time); only then does this attempt pick its own.
        for _ in 0..pool.endpoints() {
            let (e, probe) = pool.pick(agent);
            if !probe {
                endpoint = Some(e);
                break;
            }
            let verdict = backend.probe(pool.global(e)).await;
            pool.probed(e, &verdict);
        }
        let endpoint = endpoint.unwrap_or_else(|| pool.route(agent));
        let result = {
            let _slot = pool.slot(endpoint).await;
            let _permit = semaphore
                .acquire()
                .await
                .expect("the semaphore is never closed");
            let started = std::time::Instant::now();
            let result = backend.send(pool.global(endpoint), Arc::clone(&body)).await;
            pool.finished(endpoint, &result, started.elapsed());
            result
        };
        let again = matches!(&result, Err(e) if e.retryable()) && retry < settings.max_retries;
        // Backoff only delays; it never changes what is logged. A server's
        // Retry-After (429, 503) is waited out, up to llm.retry_after_cap_seconds.
        let mut delay = Duration::from_millis(
            settings
                .backoff_ms
                .saturating_mul(1 << retry.min(10))
                .min(30_000),
        );
        if let Err(CallError::Http {
            retry_after: Some(wait),
            ..
        }) = &result
        {
            delay = delay.max((*wait).min(settings.retry_after_cap));
        }
        outcomes.push(result);
        if !again {
            break;
        }
        tokio::time::sleep(delay).await;
    }
    Attempts {
        outcomes,
        live: true,
        fatal: None,
    }
}
