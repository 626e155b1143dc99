//! The daily arXiv harvest at the configured local time (`[harvest]`
//! `at` and `tz`). The harvest itself, its lease and the waiting for (and
//! taking over from) another server that fired at the same time are
//! `crate::harvest`'s, shared with `paperboy harvest`; this file says when.
//! A failed harvest is retried a few times, a quarter of an hour apart at
//! first (each retry resumes from the checkpoint); shutting down stops a
//! harvest between pages, and the next one resumes it.

use std::time::Duration;

use async_trait::async_trait;
use tracing::info;

use super::{Job, JobContext, JobError, Ran, Retry, Schedule};
use crate::harvest::{HarvestSettings, harvest_when_fired};

/// See the module documentation.
pub struct Harvest {
    config: HarvestSettings,
    times: paperboy_core::schedule::Schedule,
}

impl Harvest {
    /// Harvests with `config` at every firing of `times`.
    pub fn new(config: HarvestSettings, times: paperboy_core::schedule::Schedule) -> Harvest {
        Harvest { config, times }
    }
}

#[async_trait]
impl Job for Harvest {
    fn name(&self) -> &str {
        "harvest"
    }

    fn schedule(&self) -> Schedule {
        Schedule::At { times: self.times, catch_up: None }
    }

    fn retry(&self) -> Retry {
        Retry { first: Duration::from_secs(15 * 60), max: Duration::from_secs(3600), attempts: 3 }
    }

    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        tokio::select! {
            result = harvest_when_fired(ctx.db.as_ref(), &self.config, ctx.due) => match result? {
                Some(run) => Ok(Ran::did(format!(
                    "harvest run {} done: {} pages, {} inserted, {} updated",
                    run.id, run.pages, run.counts.inserted, run.counts.updated
                ))),
                None => Ok(Ran::did("the scheduled harvest was done by another process")),
            },
            () = ctx.cancelled() => {
                info!("stopping: the unfinished harvest resumes from its checkpoint next time");
                Err(JobError::Cancelled)
            }
        }
    }
}
