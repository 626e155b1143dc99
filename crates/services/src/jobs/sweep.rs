//! The hourly sweep: expired sessions and email links, and rate-limit
//! failure records older than [`SWEEP_AFTER`] (the web layer's limiters
//! count failures within at most that window).

use std::time::Duration;

use async_trait::async_trait;

use super::{Job, JobContext, JobError, Ran, Schedule};

/// Rate-limit failures older than this are swept; longer than any limiter's window.
pub const SWEEP_AFTER: Duration = Duration::from_secs(3600);

/// See the module documentation.
pub struct Sweep {
    every: Duration,
}

impl Sweep {
    /// Sweeps at start, then every `every`.
    pub fn new(every: Duration) -> Sweep {
        Sweep { every }
    }
}

impl Default for Sweep {
    /// Hourly.
    fn default() -> Self {
        Sweep::new(Duration::from_secs(3600))
    }
}

#[async_trait]
impl Job for Sweep {
    fn name(&self) -> &str {
        "sweep"
    }

    fn schedule(&self) -> Schedule {
        Schedule::Every(self.every)
    }

    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        // Both halves are tried; the first failure is the run's.
        let expired = ctx.db.purge_expired().await;
        let old = ctx.clock.now() - super::chrono_duration(SWEEP_AFTER);
        let failures = ctx.db.sweep_failures(old).await;
        let (expired, failures) = (expired?, failures?);
        if expired + failures == 0 {
            return Ok(Ran::idle());
        }
        Ok(Ran::did(format!("removed {expired} expired sessions and links, {failures} old rate-limit records")))
    }
}
