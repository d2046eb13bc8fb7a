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
        let delay = retry_delay(
            retry,
            settings.backoff_ms,
            settings.retry_after_cap,
            &result,
        );
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

/// How long to wait after attempt `retry` (0 for the first) ended in `result`, before the
/// next: the backoff, `backoff_ms` doubled per retry up to 30 s, or longer when the server's
/// `Retry-After` (429, 503) asks for more, up to `retry_after_cap`. Backoff only delays; it
/// never changes what is logged.
fn retry_delay<T>(
    retry: u32,
    backoff_ms: u64,
    retry_after_cap: Duration,
    result: &Result<T, CallError>,
) -> Duration {
    let backoff = Duration::from_millis(backoff_ms.saturating_mul(1 << retry.min(10)).min(30_000));
    match result {
        Err(CallError::Http {
            retry_after: Some(wait),
            ..
        }) => backoff.max((*wait).min(retry_after_cap)),
        _ => backoff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttled(retry_after: Option<Duration>) -> Result<(), CallError> {
        Err(CallError::Http {
            status: 429,
            message: String::new(),
            retry_after,
        })
    }

    #[test]
    fn the_backoff_doubles_per_retry_up_to_thirty_seconds() {
        let refused: Result<(), CallError> = Err(CallError::Connection("refused".into()));
        let ms = |retry| retry_delay(retry, 100, Duration::from_secs(60), &refused).as_millis();
        assert_eq!((ms(0), ms(1), ms(3)), (100, 200, 800));
        // 100 ms x 2^9 = 51.2 s, cut to 30 s; retries past 10 double no further.
        assert_eq!((ms(9), ms(40)), (30_000, 30_000));
        // A 429 without Retry-After: the backoff.
        assert_eq!(
            ms(0),
            retry_delay(0, 100, Duration::ZERO, &throttled(None)).as_millis()
        );
    }

    #[test]
    fn a_retry_after_is_waited_out_up_to_its_cap_and_never_shortens_the_backoff() {
        let cap = Duration::from_secs(60);
        let two = throttled(Some(Duration::from_secs(2)));
        assert_eq!(retry_delay(0, 100, cap, &two), Duration::from_secs(2));
        // Longer than the cap: the cap (0: the backoff alone).
        let long = throttled(Some(Duration::from_secs(30)));
        assert_eq!(
            retry_delay(0, 100, Duration::from_secs(5), &long),
            Duration::from_secs(5)
        );
        assert_eq!(
            retry_delay(0, 100, Duration::ZERO, &long),
            Duration::from_millis(100)
        );
        // Shorter than the backoff: the backoff.
        let short = throttled(Some(Duration::from_millis(10)));
        assert_eq!(retry_delay(2, 100, cap, &short), Duration::from_millis(400));
    }
}
