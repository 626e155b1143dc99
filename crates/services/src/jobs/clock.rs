//! The clock jobs are scheduled by: the system's in `serve`, a manual one
//! in tests, so that a daily schedule is tested without waiting a day.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// Now, and waiting until a given instant.
#[async_trait]
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Resolves once [`Clock::now`] has reached `until`.
    async fn sleep_until(&self, until: DateTime<Utc>);
}

/// The system clock. Long waits are taken in slices of at most a minute,
/// each checked against the wall clock again, so that a suspended machine
/// or a clock adjustment does not shift a daily job by hours.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn sleep_until(&self, until: DateTime<Utc>) {
        loop {
            let Ok(left) = (until - Utc::now()).to_std() else { return };
            if left.is_zero() {
                return;
            }
            tokio::time::sleep(left.min(Duration::from_secs(60))).await;
        }
    }
}

/// A clock that moves only when told: [`ManualClock::advance`] and
/// [`ManualClock::set`] wake whoever sleeps past the new time.
#[derive(Debug)]
pub struct ManualClock {
    now: watch::Sender<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock { now: watch::Sender::new(start) }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        self.now.send_modify(|now| *now += by);
    }

    /// Sets the clock (never backwards: an earlier time is ignored).
    pub fn set(&self, to: DateTime<Utc>) {
        self.now.send_if_modified(|now| {
            let later = to > *now;
            if later {
                *now = to;
            }
            later
        });
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    async fn sleep_until(&self, until: DateTime<Utc>) {
        let mut rx = self.now.subscribe();
        // The sender lives as long as `self`, which outlives this call.
        let _ = rx.wait_for(|now| *now >= until).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_wakes_sleepers_when_moved_past_their_time() {
        let start = DateTime::parse_from_rfc3339("2026-12-03T06:00:00Z").unwrap().with_timezone(&Utc);
        let clock = std::sync::Arc::new(ManualClock::new(start));
        let sleeper = {
            let clock = std::sync::Arc::clone(&clock);
            tokio::spawn(async move { clock.sleep_until(start + chrono::Duration::hours(1)).await })
        };
        clock.advance(chrono::Duration::minutes(59));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!sleeper.is_finished(), "woke a minute early");
        clock.set(start);
        assert_eq!(clock.now(), start + chrono::Duration::minutes(59), "never backwards");
        clock.advance(chrono::Duration::minutes(1));
        tokio::time::timeout(Duration::from_secs(5), sleeper).await.expect("woke on time").unwrap();
    }

    #[tokio::test]
    async fn the_system_clock_does_not_wait_for_the_past() {
        let t = std::time::Instant::now();
        SystemClock.sleep_until(Utc::now() - chrono::Duration::hours(1)).await;
        SystemClock.sleep_until(Utc::now() + chrono::Duration::milliseconds(30)).await;
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(25) && took < Duration::from_secs(2), "{took:?}");
    }
}
