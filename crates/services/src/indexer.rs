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
/// left to [`embed_pending`] (standalone) or to the vectors stored in the
/// database (`jobs::embed`, `jobs::vector_follow`). `progress(applied,
/// newest)` is called after each batch.
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

/// Writes the vector snapshot (so the next start replays no log).
pub async fn checkpoint(engine: &Arc<SearchEngine>) -> Result<(), IndexError> {
    blocking(engine, |e| e.checkpoint()).await
}
