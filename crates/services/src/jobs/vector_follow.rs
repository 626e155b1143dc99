//! The vector follower: brings the server's vector index up to the vectors
//! stored in the database (by any process, see [`super::embed`]), every
//! couple of seconds, through the store's vector feed. Each batch is put in
//! the index and made durable before the feed position it reached is
//! written beside the index (`SearchEngine::put_vectors`), so a restart
//! resumes there and a replay is harmless. A server with an empty index
//! loads every vector this way at start (progress is logged).
//!
//! Vectors are searchable as soon as they are put (the index scans the ones
//! not yet in its graph); each run then links them into the graph for up to
//! [`LINK_BUDGET`], so a large load is searchable in the time it takes to
//! read it and fast to search once the graph has caught up. After linking
//! many, a snapshot records the links, so a restart does not link them again.
//!
//! Before reading the feed the keyword side is brought up to date, so the
//! vectors read belong to papers the index knows; a vector whose paper's
//! document has other text counts as pending in the index until the
//! document catches up (module docs of `paperboy_search::engine`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use paperboy_search::{PaperVectors, SearchEngine};
use paperboy_store::{Embeddings, ModelKey};
use tracing::info;

use super::{Job, JobContext, JobError, Ran, Retry, Schedule};
use crate::indexer::{IndexError, sync_index};

/// Vectors read from the feed and put in the index per batch.
const BATCH: u32 = 2_000;
/// A large load logs its progress at most this often.
const REPORT_EVERY: Duration = Duration::from_secs(10);
/// Time spent linking vectors into the graph per run (the feed is read
/// again between runs, so new vectors wait at most about this long).
pub const LINK_BUDGET: Duration = Duration::from_secs(5);
/// Linking at least this many vectors since the last snapshot writes one
/// when the graph has caught up.
const SNAPSHOT_AFTER_LINKING: u64 = 10_000;

/// What [`follow_vectors`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FollowReport {
    /// Vectors put in the index.
    pub loaded: u64,
    /// The feed position reached.
    pub seq: u64,
}

/// Puts every vector of `model` stored after `after` into `engine`, batch by
/// batch, each followed by its feed position; stops early (between batches)
/// when `stop()` says so. `progress(loaded)` is called after each batch.
pub async fn follow_vectors(
    store: &dyn Embeddings,
    engine: &Arc<SearchEngine>,
    model: &ModelKey,
    after: u64,
    stop: impl Fn() -> bool,
    mut progress: impl FnMut(u64),
) -> Result<FollowReport, IndexError> {
    let mut report = FollowReport { loaded: 0, seq: after };
    let mut batch = store.embeddings_since(model, report.seq, BATCH).await?;
    // The next batch is read from the store while this one goes into the
    // index (the graph insertion is the slower half).
    while let Some(last) = batch.last().map(|e| e.seq) {
        let full = batch.len() >= BATCH as usize;
        let n = batch.len() as u64;
        let items: Vec<_> = batch
            .into_iter()
            .map(|e| (e.id, e.text_hash, PaperVectors { vector: e.vector, evidence: e.evidence }))
            .collect();
        let engine2 = Arc::clone(engine);
        let fingerprint = model.fingerprint.clone();
        let put = tokio::task::spawn_blocking(move || engine2.put_vectors(&fingerprint, last, &items));
        let next =
            async { if full && !stop() { store.embeddings_since(model, last, BATCH).await } else { Ok(Vec::new()) } };
        let (put, next) = tokio::join!(put, next);
        put.map_err(|e| IndexError::Join(e.to_string()))??;
        report.loaded += n;
        report.seq = last;
        progress(report.loaded);
        batch = next?;
    }
    Ok(report)
}

/// See the module documentation.
pub struct VectorFollow {
    engine: Arc<SearchEngine>,
    model: ModelKey,
    every: Duration,
    started: AtomicBool,
    seq: AtomicU64,
    /// Vectors linked since the last snapshot this job asked for.
    linked: AtomicU64,
}

impl VectorFollow {
    /// Follows the vectors of `model` into `engine` every `every`.
    pub fn new(engine: Arc<SearchEngine>, model: ModelKey, every: Duration) -> VectorFollow {
        VectorFollow {
            engine,
            model,
            every,
            started: AtomicBool::new(false),
            seq: AtomicU64::new(0),
            linked: AtomicU64::new(0),
        }
    }
}

#[async_trait]
impl Job for VectorFollow {
    fn name(&self) -> &str {
        "vector-follow"
    }

    fn schedule(&self) -> Schedule {
        Schedule::Every(self.every)
    }

    fn retry(&self) -> Retry {
        Retry { first: self.every, max: Duration::from_secs(60), attempts: u32::MAX }
    }

    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        let first = !self.started.load(Ordering::Relaxed);
        if first {
            let engine = Arc::clone(&self.engine);
            let fingerprint = self.model.fingerprint.clone();
            let after = tokio::task::spawn_blocking(move || engine.start_vector_feed(&fingerprint))
                .await
                .map_err(|e| IndexError::Join(e.to_string()))?
                .map_err(IndexError::from)?;
            self.seq.store(after, Ordering::Relaxed);
            self.started.store(true, Ordering::Relaxed);
        }
        sync_index(ctx.db.as_ref(), &self.engine, |_, _| {}).await?;
        let after = self.seq.load(Ordering::Relaxed);
        let started = Instant::now();
        let mut last_report = Instant::now();
        let r = follow_vectors(
            ctx.db.as_ref(),
            &self.engine,
            &self.model,
            after,
            || ctx.is_cancelled(),
            |loaded| {
                if last_report.elapsed() >= REPORT_EVERY {
                    info!(loaded, "loading vectors from the database");
                    last_report = Instant::now();
                }
            },
        )
        .await?;
        self.seq.store(r.seq, Ordering::Relaxed);
        let loaded_in = started.elapsed();
        let (linked, left) = self.link().await?;
        if r.loaded == 0 && linked == 0 {
            return Ok(Ran::idle());
        }
        let what = if first && after == 0 { "vectors loaded from the database" } else { "vectors followed" };
        let mut report =
            format!("{what}: {} in {:.1}s, up to feed position {}", r.loaded, loaded_in.as_secs_f64(), r.seq);
        if left > 0 {
            report.push_str(&format!("; {linked} linked into the graph, {left} still to link (searched by scan)"));
        } else if linked > 0 {
            report.push_str(&format!("; {linked} linked into the graph, which has caught up"));
        }
        Ok(Ran::did(report))
    }
}

impl VectorFollow {
    /// Links unlinked vectors for up to [`LINK_BUDGET`]; writes a snapshot
    /// when the graph has caught up after a large load. Returns `(linked,
    /// still unlinked)`.
    async fn link(&self) -> Result<(usize, usize), JobError> {
        let engine = Arc::clone(&self.engine);
        let (linked, left) = tokio::task::spawn_blocking(move || engine.link_vectors(LINK_BUDGET))
            .await
            .map_err(|e| IndexError::Join(e.to_string()))?;
        let since = self.linked.fetch_add(linked as u64, Ordering::Relaxed) + linked as u64;
        if left == 0 && since >= SNAPSHOT_AFTER_LINKING {
            let engine = Arc::clone(&self.engine);
            tokio::task::spawn_blocking(move || engine.checkpoint())
                .await
                .map_err(|e| IndexError::Join(e.to_string()))?
                .map_err(IndexError::from)?;
            self.linked.store(0, Ordering::Relaxed);
            info!(linked = since, "vector graph caught up; snapshot written");
        }
        Ok((linked, left))
    }
}
