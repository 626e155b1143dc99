//! Keeps a search index consistent with the store.
//!
//! The store appends every paper change to its change feed; the index keeps,
//! in the same commit as the documents, the sequence number of the last change
//! it applied. [`sync_index`] replays whatever lies between the two. A crash at
//! any point therefore loses nothing: on the next start the index is behind by
//! at most the changes of an uncommitted batch, and replays them (replaying a
//! change twice is harmless: indexing is an upsert by paper id).

use std::collections::HashMap;
use std::sync::Arc;

use paperboy_core::{Paper, PaperId};
use paperboy_search::SearchEngine;
use paperboy_store::{Catalog, StoreError};
use thiserror::Error;

/// Changes read and applied per commit.
const BATCH: u32 = 2_000;

#[derive(Debug, Error)]
pub enum IndexError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("search index: {0}")]
    Search(#[from] paperboy_search::SearchError),
    #[error("the indexing task failed: {0}")]
    Join(String),
}

/// What a sync did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    /// Papers (re)indexed.
    pub indexed: u64,
    /// Papers removed (merged away).
    pub removed: u64,
    /// The watermark after the sync.
    pub applied_seq: u64,
}

/// Brings `engine` up to the store's newest change. Keyword documents are
/// committed batch by batch, each with its watermark; vectors for them are
/// left to [`embed_pending`] (the background job of [`follow`]). `progress(applied, newest)` is called after each batch.
pub async fn sync_index(
    store: &dyn Catalog,
    engine: &Arc<SearchEngine>,
    mut progress: impl FnMut(u64, u64),
) -> Result<SyncReport, IndexError> {
    let mut report = SyncReport { applied_seq: blocking(engine, |e| e.applied_seq()).await?, ..Default::default() };
    let newest = store.last_change_seq().await?;
    while report.applied_seq < newest {
        let changes = store.changes_since(report.applied_seq, BATCH).await?;
        let Some(last) = changes.last().map(|c| c.seq) else { break };
        // Only the latest state of each paper in the batch matters.
        let mut latest: HashMap<PaperId, Option<Paper>> = HashMap::with_capacity(changes.len());
        for c in changes {
            latest.insert(c.paper_id, c.paper);
        }
        let mut upserts = Vec::new();
        let mut removals = Vec::new();
        for (id, paper) in latest {
            match paper {
                Some(p) => upserts.push(p),
                None => removals.push(id),
            }
        }
        report.indexed += upserts.len() as u64;
        report.removed += removals.len() as u64;
        blocking(engine, move |e| {
            if !removals.is_empty() {
                e.remove(&removals)?;
            }
            e.index_keyword_at(last, &upserts)
        })
        .await?;
        report.applied_seq = last;
        progress(last, newest);
    }
    Ok(report)
}

/// Embeds, `batch` papers at a time, every indexed paper that has no current
/// vector. Returns how many were embedded (0 without a model).
pub async fn embed_pending(
    engine: &Arc<SearchEngine>,
    batch: usize,
    progress: impl FnMut(usize, usize) + Send + 'static,
) -> Result<usize, IndexError> {
    blocking(engine, move |e| e.embed_pending(batch, progress)).await
}

async fn blocking<T: Send + 'static>(
    engine: &Arc<SearchEngine>,
    f: impl FnOnce(&SearchEngine) -> Result<T, paperboy_search::SearchError> + Send + 'static,
) -> Result<T, IndexError> {
    let engine = Arc::clone(engine);
    tokio::task::spawn_blocking(move || f(&engine))
        .await
        .map_err(|e| IndexError::Join(e.to_string()))?
        .map_err(Into::into)
}

/// Runs in the background of `paperboy serve`: every `every`, brings the
/// index up to the store's newest change, then embeds up to `embed_batch`
/// papers that have no vector yet (so the follower stays responsive while a
/// large catalog is embedded). Logs progress; never stops on an error, it
/// retries on the next tick. Ends when `stop` resolves.
pub async fn follow(
    store: Arc<dyn Catalog>,
    engine: Arc<SearchEngine>,
    every: std::time::Duration,
    embed_batch: usize,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut stop = stop;
    let mut last_report = std::time::Instant::now();
    let mut embedded_since_report = 0usize;
    loop {
        match sync_index(store.as_ref(), &engine, |_, _| {}).await {
            Ok(r) if r.indexed + r.removed > 0 => {
                tracing::info!(indexed = r.indexed, removed = r.removed, seq = r.applied_seq, "search index updated")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "search index update failed; retrying"),
        }
        let mut more_to_embed = false;
        if engine.embedder().is_some() {
            match blocking(&engine, move |e| e.embed_pending_up_to(embed_batch, embed_batch)).await {
                Ok((done, left)) => {
                    embedded_since_report += done;
                    more_to_embed = left > 0;
                    if embedded_since_report > 0 && (left == 0 || last_report.elapsed().as_secs() >= 10) {
                        tracing::info!(
                            embedded = embedded_since_report,
                            waiting = left,
                            "embedding papers for semantic search"
                        );
                        embedded_since_report = 0;
                        last_report = std::time::Instant::now();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "embedding failed; retrying"),
            }
        }
        let pause = if more_to_embed { std::time::Duration::ZERO } else { every };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
    }
    if let Err(e) = blocking(&engine, |e| e.checkpoint()).await {
        tracing::warn!(error = %e, "could not write the vector snapshot at shutdown");
    }
}
