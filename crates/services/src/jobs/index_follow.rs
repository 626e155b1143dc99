//! The index follower: brings the search index's keyword side up to the
//! store's newest change, every couple of seconds (`indexer::sync_index`:
//! replays the change feed after the index's watermark). Vectors are the
//! [`super::embed`] job's. At shutdown it writes the vector snapshot, so
//! that the next start replays no log.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use paperboy_search::SearchEngine;
use tracing::warn;

use super::{Job, JobContext, JobError, Ran, Retry, Schedule};
use crate::indexer::{checkpoint, sync_index};

/// See the module documentation.
pub struct IndexFollow {
    engine: Arc<SearchEngine>,
    every: Duration,
}

impl IndexFollow {
    /// Follows the store into `engine` every `every`.
    pub fn new(engine: Arc<SearchEngine>, every: Duration) -> IndexFollow {
        IndexFollow { engine, every }
    }
}

#[async_trait]
impl Job for IndexFollow {
    fn name(&self) -> &str {
        "index-follow"
    }

    fn schedule(&self) -> Schedule {
        Schedule::Every(self.every)
    }

    fn retry(&self) -> Retry {
        Retry { first: self.every, max: Duration::from_secs(60), attempts: u32::MAX }
    }

    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        let r = sync_index(ctx.db.as_ref(), &self.engine, |_, _| {}).await?;
        if r.indexed + r.removed == 0 {
            return Ok(Ran::idle());
        }
        Ok(Ran::did(format!(
            "search index updated: {} indexed, {} removed, up to change {}",
            r.indexed, r.removed, r.applied_seq
        )))
    }

    async fn stopped(&self, _ctx: &JobContext) {
        if let Err(e) = checkpoint(&self.engine).await {
            warn!(error = %e, "could not write the vector snapshot at shutdown");
        }
    }
}
