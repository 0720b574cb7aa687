//! Retries with exponential backoff and full jitter, for every backend that talks to a
//! service: one policy, in one place.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use crate::Result;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The most attempts in all (the first included).
    pub attempts: u32,
    /// The delay ceiling after the first failure; it doubles after each.
    pub base: Duration,
    /// The largest delay ceiling.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            attempts: 8,
            base: Duration::from_millis(25),
            max: Duration::from_secs(2),
        }
    }
}

impl Backoff {
    /// The policy for a write that lost a race with another writer (a versioned write
    /// whose item changed, a DynamoDB write whose emulated op read a value that
    /// changed): more attempts, from shorter delays, than for throttling, since among
    /// N writers of one item each round has one winner, and a loser should come back
    /// soon but not with the others.
    pub const fn conflicts() -> Backoff {
        Backoff {
            attempts: 32,
            base: Duration::from_millis(5),
            max: Duration::from_millis(500),
        }
    }

    /// The delay before attempt `attempt + 1` (after `attempt` failures, from 1): a random
    /// time up to `base * 2^(attempt - 1)`, capped at `max` ("full jitter").
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.max);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }

    /// Runs `attempt` until it succeeds, fails for good, or the attempts run out. An
    /// error is retried only where [`Error::is_retryable`](crate::Error::is_retryable)
    /// allows it for a request that is (or is not) `idempotent`; the last error is
    /// returned as it is. A retry waits at least the error's
    /// [`retry_after`](crate::Error::retry_after), up to [`max`](Self::max).
    pub async fn run<T, F, Fut>(&self, idempotent: bool, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut n = 1;
        loop {
            match attempt().await {
                Err(e) if n < self.attempts && e.is_retryable(idempotent) => {
                    tracing::debug!(attempt = n, error = %e, "retrying");
                    // Never sooner than the service asked (capped by the policy's
                    // longest delay, so that a wild retry-after cannot hang a call).
                    let asked = e.retry_after().unwrap_or_default().min(self.max);
                    tokio::time::sleep(self.delay(n).max(asked)).await;
                    n += 1;
                }
                other => return other,
            }
        }
    }
}

/// Whether a failure happened before anything reached the service: a refused
/// connection, found anywhere in the source chain (as an `io::Error`, or only in the
/// text of a wrapping error, as gRPC clients report it). Such a failure changed nothing,
/// so sending again is safe even for a write that is not idempotent.
pub fn connection_refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        if e.to_string().contains("Connection refused") {
            return true;
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, ErrorKind};

    #[tokio::test(start_paused = true)]
    async fn a_retry_waits_at_least_what_the_service_asked() {
        let b = Backoff {
            attempts: 2,
            base: Duration::from_millis(1),
            max: Duration::from_secs(1),
        };
        let start = tokio::time::Instant::now();
        let mut calls = 0;
        let r: crate::Result<()> = b
            .run(true, || {
                calls += 1;
                let e = Error::new(ErrorKind::Throttled, "slow down")
                    .transient(true)
                    .with_retry_after(Duration::from_millis(300));
                std::future::ready(if calls == 1 { Err(e) } else { Ok(()) })
            })
            .await;
        assert!(r.is_ok());
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn delays_grow_and_stay_capped() {
        let b = Backoff {
            attempts: 10,
            base: Duration::from_millis(10),
            max: Duration::from_millis(50),
        };
        for attempt in 1..12 {
            assert!(b.delay(attempt) <= Duration::from_millis(50));
        }
        assert!(b.delay(1) <= Duration::from_millis(10));
    }

    #[tokio::test(start_paused = true)]
    async fn only_safe_or_idempotent_failures_are_retried() {
        let b = Backoff::default();
        let unknown = || Error::new(ErrorKind::Unavailable, "broke after sending").transient(false);
        let mut calls = 0;
        let r: Result<()> = b
            .run(false, || {
                calls += 1;
                std::future::ready(Err(unknown()))
            })
            .await;
        assert!(r.is_err());
        assert_eq!(
            calls, 1,
            "a non-idempotent request is never resent after an ambiguous failure"
        );
        let mut calls = 0;
        let _ = b
            .run(true, || {
                calls += 1;
                std::future::ready(Err::<(), _>(unknown()))
            })
            .await;
        assert_eq!(calls, b.attempts);
        let mut calls = 0;
        let r = b
            .run(false, || {
                calls += 1;
                std::future::ready(if calls < 3 {
                    Err(Error::new(ErrorKind::Throttled, "slow down").transient(true))
                } else {
                    Ok(calls)
                })
            })
            .await;
        assert_eq!(r.unwrap(), 3);
    }
}
