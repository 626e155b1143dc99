//! In-memory rate limiting of failed attempts (wrong passwords, sign-ups).
//!
//! A [`FailureLimiter`] remembers, per key (`ip:…`, `user:…`), when the
//! recent failures happened; once a key has `max` failures within `window`,
//! [`FailureLimiter::check`] answers how long to wait until the oldest one
//! leaves the window. State lives in this process only (one server, one
//! limiter): a restart forgets it, which is acceptable for a limit measured
//! in minutes. Memory is bounded: old entries are swept, and at most
//! [`MAX_KEYS`] keys are kept (past that, the fullest state is dropped
//! rather than growing without bound).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys tracked at most.
pub const MAX_KEYS: usize = 100_000;

/// Counts failures per key in a sliding window.
pub struct FailureLimiter {
    max: usize,
    window: Duration,
    inner: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl FailureLimiter {
    /// At most `max` failures per key within `window`.
    pub fn new(max: usize, window: Duration) -> Self {
        FailureLimiter { max: max.max(1), window, inner: Mutex::new(HashMap::new()) }
    }

    /// `Err(wait)` when `key` is over its limit at `now`.
    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Some(times) = inner.get_mut(key) else {
            return Ok(());
        };
        while times.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            times.pop_front();
        }
        if times.len() >= self.max {
            let oldest = times[times.len() - self.max];
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.max(Duration::from_secs(1)));
        }
        if times.is_empty() {
            inner.remove(key);
        }
        Ok(())
    }

    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    /// Records one failure of `key` at `now`.
    pub fn fail_at(&self, key: &str, now: Instant) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.len() >= MAX_KEYS && !inner.contains_key(key) {
            let window = self.window;
            inner.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < window));
            if inner.len() >= MAX_KEYS {
                inner.clear();
            }
        }
        let times = inner.entry(key.to_string()).or_default();
        times.push_back(now);
        // Only the last `max` matter for the answer.
        while times.len() > self.max {
            times.pop_front();
        }
    }

    pub fn fail(&self, key: &str) {
        self.fail_at(key, Instant::now())
    }

    /// Forgets `key`'s failures (after a successful login).
    pub fn clear(&self, key: &str) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_until_the_window_passes() {
        let l = FailureLimiter::new(5, Duration::from_secs(900));
        let t0 = Instant::now();
        for i in 0..5 {
            assert!(l.check_at("ip:1", t0 + Duration::from_secs(i)).is_ok());
            l.fail_at("ip:1", t0 + Duration::from_secs(i));
        }
        let wait = l.check_at("ip:1", t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(890));
        assert!(l.check_at("ip:2", t0).is_ok(), "keys are independent");
        // The first failure leaves the window at t0 + 900 s.
        assert!(l.check_at("ip:1", t0 + Duration::from_secs(900)).is_ok());
        l.fail_at("ip:1", t0 + Duration::from_secs(900));
        // Failures at 1, 2, 3, 4 and 900 s: blocked until the one at 1 s ages out.
        assert_eq!(l.check_at("ip:1", t0 + Duration::from_secs(900)).unwrap_err(), Duration::from_secs(1));
        l.clear("ip:1");
        assert!(l.check_at("ip:1", t0 + Duration::from_secs(900)).is_ok());
    }

    #[test]
    fn memory_is_bounded() {
        let l = FailureLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..10 {
            l.fail_at("k", t0 + Duration::from_millis(i));
        }
        assert_eq!(l.inner.lock().unwrap()["k"].len(), 2);
    }
}
