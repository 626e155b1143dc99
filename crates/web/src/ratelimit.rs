//! Rate limiting of failed attempts (wrong passwords, sign-ups, subscribe
//! requests), shared by every server on the database.
//!
//! A [`FailureLimiter`] counts, per key (`ip:…`, `user:…`), the failures
//! within a sliding `window`; once a key has `max` of them, [`FailureLimiter::check`]
//! answers 429 with how long to wait until the oldest leaves the window.
//! The failures live in the database ([`paperboy_store::Coordination`]), so a client that
//! spreads its attempts over several servers behind a load balancer meets
//! the same limit as on one; each limiter stores its keys under its own
//! scope (`login:ip:…`). Rows older than [`SWEEP_AFTER`] are deleted by
//! `paperboy serve`'s hourly sweep job (`paperboy_services::jobs::sweep`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use paperboy_store::Database;

use crate::error::WebError;

pub use paperboy_services::jobs::sweep::SWEEP_AFTER;

/// Counts failures per key in a sliding window, in the database.
#[derive(Clone)]
pub struct FailureLimiter {
    scope: &'static str,
    max: u32,
    window: Duration,
    store: Arc<dyn Database>,
}

impl FailureLimiter {
    /// At most `max` failures per key within `window` (at most
    /// [`SWEEP_AFTER`]), keys kept under `scope`.
    pub fn new(store: Arc<dyn Database>, scope: &'static str, max: u32, window: Duration) -> Self {
        FailureLimiter { scope, max: max.max(1), window: window.min(SWEEP_AFTER), store }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.scope)
    }

    /// A 429 when `key` is over its limit now.
    pub async fn check(&self, key: &str) -> Result<(), WebError> {
        let now = Utc::now();
        let since = now - chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::hours(1));
        let recent = self.store.recent_failures(&self.key(key), since, self.max).await?;
        match wait_for(&recent, self.max, self.window, now) {
            None => Ok(()),
            Some(wait) => Err(WebError::TooManyAttempts { retry_after: wait.as_secs().max(1) }),
        }
    }

    /// For limits on every attempt, not just failed ones: a 429 when `key`
    /// is over its limit, else counts this attempt.
    pub async fn attempt(&self, key: &str) -> Result<(), WebError> {
        self.check(key).await?;
        self.fail(key).await
    }

    /// Records one failure of `key`.
    pub async fn fail(&self, key: &str) -> Result<(), WebError> {
        Ok(self.store.record_failure(&self.key(key), Utc::now()).await?)
    }

    /// Forgets `key`'s failures (after a successful login).
    pub async fn clear(&self, key: &str) -> Result<(), WebError> {
        Ok(self.store.clear_failures(&self.key(key)).await?)
    }
}

/// How long to wait, given a key's failures within the window (newest
/// first, at most `max`): `None` below the limit, else until the oldest of
/// the last `max` leaves the window (at least a second).
pub fn wait_for(recent: &[DateTime<Utc>], max: u32, window: Duration, now: DateTime<Utc>) -> Option<Duration> {
    if recent.len() < max as usize {
        return None;
    }
    let oldest = recent[max as usize - 1];
    let age = (now - oldest).to_std().unwrap_or_default();
    Some(window.saturating_sub(age).max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
        t0 + chrono::Duration::seconds(secs)
    }

    #[test]
    fn the_wait_is_until_the_oldest_counted_failure_leaves_the_window() {
        let t0 = Utc::now();
        let window = Duration::from_secs(900);
        let four: Vec<_> = [4, 3, 2, 1].iter().map(|s| at(t0, *s)).collect();
        assert_eq!(wait_for(&four, 5, window, at(t0, 10)), None, "below the limit");
        let five: Vec<_> = [5, 4, 3, 2, 1].iter().map(|s| at(t0, *s)).collect();
        assert_eq!(wait_for(&five, 5, window, at(t0, 10)), Some(Duration::from_secs(891)));
        assert_eq!(wait_for(&five, 5, window, at(t0, 900)), Some(Duration::from_secs(1)), "at least a second");
    }

    #[tokio::test]
    async fn limiters_share_their_state_through_the_database_and_keep_scopes_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Database> =
            Arc::new(paperboy_store::SqlStore::open_sqlite(&dir.path().join("p.db")).await.unwrap());
        // Two servers' limiters on one database.
        let one = FailureLimiter::new(store.clone(), "login", 3, Duration::from_secs(900));
        let two = FailureLimiter::new(store.clone(), "login", 3, Duration::from_secs(900));
        let other_scope = FailureLimiter::new(store.clone(), "signup", 3, Duration::from_secs(900));
        for limiter in [&one, &two, &one] {
            limiter.check("ip:192.0.2.7").await.unwrap();
            limiter.fail("ip:192.0.2.7").await.unwrap();
        }
        match two.check("ip:192.0.2.7").await {
            Err(WebError::TooManyAttempts { retry_after }) => assert!((890..=900).contains(&retry_after)),
            other => panic!("the third failure, on another server, did not count: {other:?}"),
        }
        assert!(one.check("ip:192.0.2.8").await.is_ok(), "keys are independent");
        assert!(other_scope.check("ip:192.0.2.7").await.is_ok(), "scopes are independent");
        one.clear("ip:192.0.2.7").await.unwrap();
        assert!(two.check("ip:192.0.2.7").await.is_ok());
    }
}
