//! The background embedder: computes vectors for indexed papers that have
//! none (or a stale one), `batch` papers per turn, turn after turn while
//! some are waiting, then every couple of seconds. Each turn holds the
//! search engine's writer turn only for its papers, so the index follower's
//! keyword updates take turns with it, as they did when both were one loop.
//!
//! Registered only when a model is loaded.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use paperboy_search::SearchEngine;

use super::{Job, JobContext, JobError, Ran, Retry, Schedule};
use crate::indexer::embed_turn;

/// Progress is logged at most this often while a large catalog is embedded.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// See the module documentation.
pub struct Embed {
    engine: Arc<SearchEngine>,
    batch: usize,
    idle: Duration,
    /// Since the last progress line: when, and papers embedded since.
    progress: Mutex<(Instant, usize)>,
}

impl Embed {
    /// Embeds into `engine`, `batch` papers per turn, looking for new ones
    /// every `idle` when none is waiting.
    pub fn new(engine: Arc<SearchEngine>, batch: usize, idle: Duration) -> Embed {
        Embed { engine, batch: batch.max(1), idle, progress: Mutex::new((Instant::now(), 0)) }
    }
}

#[async_trait]
impl Job for Embed {
    fn name(&self) -> &str {
        "embed"
    }

    fn schedule(&self) -> Schedule {
        Schedule::Continuous { idle: self.idle }
    }

    fn retry(&self) -> Retry {
        Retry { first: self.idle, max: Duration::from_secs(60), attempts: u32::MAX }
    }

    async fn run(&self, _ctx: &JobContext) -> Result<Ran, JobError> {
        let (done, left) = embed_turn(&self.engine, self.batch, self.batch).await?;
        let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        progress.1 += done;
        // One log line per few seconds, not one per turn.
        if progress.1 == 0 || (left > 0 && progress.0.elapsed() < REPORT_EVERY) {
            return Ok(Ran::idle().with_more(left > 0));
        }
        let note = format!("embedding papers for semantic search: {} embedded, {left} waiting", progress.1);
        *progress = (Instant::now(), 0);
        Ok(Ran::did(note).with_more(left > 0))
    }
}
