//! The embedder: computes papers' vectors once per deployment, sharing the
//! work through the store. A turn claims a batch of papers waiting for a
//! vector of this process's model (under a lease, renewed while the batch
//! is embedded), embeds their text on a blocking thread and stores the
//! vectors, which ends the claim; another turn follows at once while work
//! waits, and every couple of seconds otherwise. Every server's vector
//! index picks the stored vectors up through [`super::vector_follow`].
//!
//! The same [`EmbedWorker`] runs inside `paperboy serve` (the [`Embed`]
//! job) and in `paperboy embed` (a worker that needs only the database).
//! A claim is released when the process shuts down mid-batch; a process
//! that dies instead leaves it to expire, and another takes the papers over.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use paperboy_core::embedding::embedding_hash;
use paperboy_search::Embedder;
use paperboy_store::{Database, EmbedClaim, ModelKey, ModelRegistration, NewEmbedding, StoreError};
use tracing::{info, warn};

use super::{Job, JobContext, JobError, Ran, Retry, Schedule};

/// How long a claim holds its papers without a renewal.
pub const CLAIM_TTL: Duration = Duration::from_secs(300);
/// Progress is logged at most this often while a large catalog is embedded.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// What one turn of an [`EmbedWorker`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Turn {
    /// Papers claimed (0: nothing was free).
    pub claimed: usize,
    /// Vectors stored.
    pub stored: u64,
    /// Vectors the store dropped (text changed meanwhile, or stored by another).
    pub dropped: u64,
}

impl Turn {
    /// A full batch was claimed: more work may be waiting.
    pub fn full(&self, batch: u32) -> bool {
        self.claimed >= batch as usize && self.claimed > 0
    }
}

/// Claims, embeds and stores batches of papers for one model (module docs).
pub struct EmbedWorker {
    db: Arc<dyn Database>,
    embedder: Arc<Embedder>,
    key: ModelKey,
    batch: u32,
    ttl: Duration,
}

impl EmbedWorker {
    /// A worker embedding with `embedder`, `batch` papers per claim.
    pub fn new(db: Arc<dyn Database>, embedder: Arc<Embedder>, batch: usize) -> EmbedWorker {
        let key = crate::model::store_key(&embedder);
        EmbedWorker { db, embedder, key, batch: batch.clamp(1, u32::MAX as usize) as u32, ttl: CLAIM_TTL }
    }

    /// Sets how long a claim lasts without renewal (tests use a short one).
    pub fn with_claim_ttl(mut self, ttl: Duration) -> EmbedWorker {
        self.ttl = ttl.max(Duration::from_millis(100));
        self
    }

    /// The model's key in the store.
    pub fn key(&self) -> &ModelKey {
        &self.key
    }

    /// Papers per claim.
    pub fn batch(&self) -> u32 {
        self.batch
    }

    /// Records the model in the store and says, loudly, when it is new
    /// while other models have vectors: every paper is embedded again.
    pub async fn register(&self) -> Result<ModelRegistration, StoreError> {
        let reg = self.db.register_embedding_model(&self.key).await?;
        if reg.new_model && !reg.other_models.is_empty() {
            let others: Vec<String> =
                reg.other_models.iter().map(|(name, fp, n)| format!("{name} ({fp}): {n} vectors")).collect();
            warn!(
                model = %self.key.name, fingerprint = %self.key.fingerprint, others = %others.join(", "),
                "model changed: {} papers will be re-embedded (the other models' vectors stay until `paperboy embed --prune --yes`)",
                reg.waiting
            );
        } else {
            info!(
                model = %self.key.name, fingerprint = %self.key.fingerprint,
                current = reg.current, waiting = reg.waiting, "embedding model registered"
            );
        }
        Ok(reg)
    }

    /// One turn: claims a batch for `holder`, embeds it (renewing the claim
    /// meanwhile) and stores the vectors. When `cancel` resolves first, the
    /// claim is released and the turn fails with [`JobError::Cancelled`].
    pub async fn turn(&self, holder: &str, cancel: impl std::future::Future<Output = ()>) -> Result<Turn, JobError> {
        let Some(claim) = self.db.claim_embedding_work(&self.key, holder, self.batch, self.ttl).await? else {
            return Ok(Turn::default());
        };
        let claimed = claim.tasks.len();
        let vectors = tokio::select! {
            r = self.embed_renewing(&claim, holder) => r,
            () = cancel => {
                if let Err(e) = self.db.release_embedding_claim(&claim.claim, holder).await {
                    warn!(error = %e, "could not release the embedding claim at shutdown; it expires by itself");
                }
                return Err(JobError::Cancelled);
            }
        };
        let vectors = match vectors {
            Ok(v) => v,
            Err(e) => {
                let _ = self.db.release_embedding_claim(&claim.claim, holder).await;
                return Err(e);
            }
        };
        let stored = self.db.store_embeddings(&self.key, &claim.claim, holder, &vectors).await?;
        Ok(Turn { claimed, stored: stored.stored, dropped: stored.dropped })
    }

    /// Embeds a claim's tasks on a blocking thread, renewing the claim every
    /// third of its lease until done.
    async fn embed_renewing(&self, claim: &EmbedClaim, holder: &str) -> Result<Vec<NewEmbedding>, JobError> {
        let mut tasks = Vec::with_capacity(claim.tasks.len());
        for t in &claim.tasks {
            if embedding_hash(&t.title, &t.abstract_text) == t.text_hash {
                tasks.push((t.id.clone(), t.text_hash, t.title.clone(), t.abstract_text.clone()));
            } else {
                // The store and this process disagree on the text: leave the
                // paper (it is freed when the claim ends) rather than store a
                // vector under a fingerprint it was not computed from.
                warn!(paper = %t.id, "the stored text fingerprint does not match this version's; not embedding it");
            }
        }
        let embedder = Arc::clone(&self.embedder);
        let work = tokio::task::spawn_blocking(move || {
            let papers: Vec<(&str, &str)> = tasks.iter().map(|(_, _, t, a)| (t.as_str(), a.as_str())).collect();
            let vectors = embedder.embed_papers(&papers)?;
            Ok::<_, paperboy_search::SearchError>(
                tasks
                    .into_iter()
                    .zip(vectors)
                    .map(|((id, text_hash, _, _), v)| NewEmbedding {
                        id,
                        text_hash,
                        vector: v.vector,
                        evidence: v.evidence,
                    })
                    .collect::<Vec<_>>(),
            )
        });
        tokio::pin!(work);
        let every = self.ttl / 3;
        loop {
            tokio::select! {
                done = &mut work => {
                    return done
                        .map_err(|e| JobError::Failed(format!("the embedding task failed: {e}")))?
                        .map_err(|e| JobError::Failed(format!("embedding failed: {e}")));
                }
                () = tokio::time::sleep(every) => {
                    if !self.db.renew_embedding_claim(&claim.claim, holder, self.ttl).await? {
                        warn!(claim = %claim.claim, "the embedding claim ran out before the batch was done; another process has its papers");
                    }
                }
            }
        }
    }
}

/// The embedder inside `paperboy serve` (module docs).
pub struct Embed {
    worker: EmbedWorker,
    idle: Duration,
    registered: AtomicBool,
    /// Since the last progress line: when, and vectors stored since.
    progress: Mutex<(Instant, u64)>,
}

impl Embed {
    /// Embeds with `worker`, looking for waiting papers every `idle` when none is.
    pub fn new(worker: EmbedWorker, idle: Duration) -> Embed {
        Embed { worker, idle, registered: AtomicBool::new(false), progress: Mutex::new((Instant::now(), 0)) }
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

    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        if !self.registered.load(Ordering::Relaxed) {
            self.worker.register().await?;
            self.registered.store(true, Ordering::Relaxed);
        }
        let turn = self.worker.turn(&ctx.holder, ctx.cancelled()).await?;
        let more = turn.full(self.worker.batch()) && turn.stored + turn.dropped > 0;
        let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        progress.1 += turn.stored;
        // One log line per few seconds, not one per turn.
        if progress.1 == 0 || (more && progress.0.elapsed() < REPORT_EVERY) {
            return Ok(Ran::idle().with_more(more));
        }
        let note = format!("embedding papers for semantic search: {} vectors stored by this server", progress.1);
        *progress = (Instant::now(), 0);
        Ok(Ran::did(note).with_more(more))
    }
}
