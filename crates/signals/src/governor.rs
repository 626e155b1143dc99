//! The request governor shared by all clones of a client: requests are
//! spaced by the pacing interval, and none is sent while the API says no
//! request remains (`X-RateLimit-Remaining: 0` until `X-RateLimit-Reset`)
//! or while a `Retry-After` (or a secondary limit's wait) runs. Callers
//! queue in arrival order behind a fair async mutex; the limit state sits
//! behind a plain mutex so that responses can update it while others wait.
//! A wait longer than the caller allows is not waited: the caller learns
//! until when it would have had to wait, and nothing is sent.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct Governor {
    interval: Duration,
    turn: tokio::sync::Mutex<Option<Instant>>,
    limits: Mutex<Limits>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Limits {
    /// Requests left in the current window, as last reported (and counted down since).
    remaining: Option<u64>,
    /// When the window resets.
    reset: Option<SystemTime>,
    /// No request before this (`Retry-After`, secondary limits).
    blocked_until: Option<SystemTime>,
}

impl Limits {
    /// The time before which nothing may be sent, if any.
    fn hold(&self) -> Option<SystemTime> {
        let exhausted = if self.remaining == Some(0) { self.reset } else { None };
        exhausted.max(self.blocked_until)
    }
}

impl Governor {
    pub(crate) fn new(interval: Duration) -> Self {
        Governor { interval, turn: tokio::sync::Mutex::new(None), limits: Mutex::new(Limits::default()) }
    }

    /// Waits until a request may be sent and counts it, or returns the time
    /// the caller would have to wait for when that is more than `max_wait`.
    pub(crate) async fn admit(&self, max_wait: Duration) -> Result<(), SystemTime> {
        let mut last = self.turn.lock().await;
        loop {
            let now = SystemTime::now();
            let pace = last.map_or(Duration::ZERO, |l| (l + self.interval).saturating_duration_since(Instant::now()));
            let hold = self.limits().hold().and_then(|t| t.duration_since(now).ok()).unwrap_or(Duration::ZERO);
            let wait = pace.max(hold);
            if wait.is_zero() {
                break;
            }
            if wait > max_wait {
                return Err(now + wait);
            }
            tokio::time::sleep(wait).await;
        }
        *last = Some(Instant::now());
        let mut limits = self.limits.lock().expect("governor state");
        if limits.remaining == Some(0) {
            // The reset has passed: the count is unknown until the next answer.
            limits.remaining = None;
        }
        if let Some(r) = limits.remaining.as_mut() {
            *r = r.saturating_sub(1);
        }
        Ok(())
    }

    /// Records the limits an answer reported.
    pub(crate) fn observe(&self, remaining: Option<u64>, reset: Option<SystemTime>) {
        let mut limits = self.limits.lock().expect("governor state");
        if let Some(r) = remaining {
            limits.remaining = Some(r);
        }
        if let Some(mut t) = reset {
            let now = SystemTime::now();
            if remaining == Some(0) && t <= now {
                // A reset already past while nothing remains (clock skew): wait a second, not zero.
                t = now + Duration::from_secs(1);
            }
            limits.reset = Some(t);
        }
    }

    /// Nothing is sent before `until`.
    pub(crate) fn block_until(&self, until: SystemTime) {
        let mut limits = self.limits.lock().expect("governor state");
        limits.blocked_until = limits.blocked_until.max(Some(until));
    }

    /// The last reported remaining count (counted down by requests since).
    pub(crate) fn remaining(&self) -> Option<u64> {
        self.limits().remaining
    }

    fn limits(&self) -> Limits {
        *self.limits.lock().expect("governor state")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn callers_are_paced_and_held_at_zero_remaining() {
        let g = Governor::new(Duration::from_millis(50));
        let start = std::time::Instant::now();
        g.admit(Duration::from_secs(1)).await.unwrap();
        g.admit(Duration::from_secs(1)).await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(50), "{:?}", start.elapsed());

        let reset = SystemTime::now() + Duration::from_secs(3_600);
        g.observe(Some(0), Some(reset));
        let until = g.admit(Duration::from_secs(60)).await.unwrap_err();
        assert!(until >= reset - Duration::from_secs(1), "told to wait for the reset");

        let g = Governor::new(Duration::ZERO);
        let reset = SystemTime::now() + Duration::from_millis(300);
        g.observe(Some(0), Some(reset));
        g.admit(Duration::from_secs(5)).await.unwrap();
        assert!(SystemTime::now() >= reset, "no request before the reset");
        assert_eq!(g.remaining(), None);
        g.observe(Some(2), None);
        g.admit(Duration::ZERO).await.unwrap();
        assert_eq!(g.remaining(), Some(1), "requests are counted down");

        g.block_until(SystemTime::now() + Duration::from_secs(600));
        assert!(g.admit(Duration::from_secs(1)).await.is_err());
    }
}
