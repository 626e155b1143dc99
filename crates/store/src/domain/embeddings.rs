//! [`Embeddings`]: papers' vectors kept in the database, computed once per
//! deployment.
//!
//! Every paper needs one vector per embedding model. The vector is tagged
//! with the model ([`ModelKey`]) and with the fingerprint of the text it was
//! computed from (`paperboy_core::embedding::embedding_hash` of the title and
//! abstract, which the store also keeps for every paper): a paper is
//! *waiting* for a model when it is visible (not hidden, not merged away)
//! and has no vector of that model, or one computed from other text. A text
//! change therefore re-embeds that paper; a new model re-embeds everything
//! (vectors of other models stay, counted in the backlog, until pruned).
//!
//! The backlog is shared work: any process (every `serve`, any number of
//! `paperboy embed` workers on other machines with the same database) takes
//! a batch with [`Embeddings::claim_embedding_work`], which holds those
//! papers under a lease; it renews the lease while it works and hands the
//! vectors in with [`Embeddings::store_embeddings`], which ends the claim. A
//! crashed worker's claim runs out and its papers are claimed again. Claims
//! are atomic: two processes never hold the same paper under live claims.
//!
//! Stored vectors form a feed (a sequence number per stored vector, visible
//! in increasing order: the backends serialise stores, so a follower's
//! cursor never skips a number that commits later), which every server's
//! vector index follows ([`Embeddings::embeddings_since`]) and loads from at
//! start; every store is also counted per paper, the audit trail that shows
//! each paper was embedded once ([`Embeddings::embedding_store_counts`]).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::PaperId;

use crate::StoreError;

/// The identity of an embedding model: vectors of different keys never mix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelKey {
    /// A readable name (`all-MiniLM-L6-v2`), for operators.
    pub name: String,
    /// A fingerprint of everything that decides the vectors (weights,
    /// tokenizer, truncation, pooling, arithmetic, evidence kind), as lowercase hex. Two
    /// processes embed interchangeably only if their fingerprints are equal.
    pub fingerprint: String,
    /// Vector length.
    pub dim: u32,
}

/// A paper waiting for its vector, as claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedTask {
    pub id: PaperId,
    /// `embedding_hash(title, abstract_text)` of the paper as claimed; the
    /// vector is stored under it.
    pub text_hash: u64,
    pub title: String,
    pub abstract_text: String,
}

/// A batch of papers held by one process until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedClaim {
    /// The claim's identity (unique, opaque).
    pub claim: String,
    pub holder: String,
    pub expires_at: DateTime<Utc>,
    pub tasks: Vec<EmbedTask>,
}

/// A vector handed in under a claim.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEmbedding {
    pub id: PaperId,
    /// The `text_hash` of the task it was computed for.
    pub text_hash: u64,
    pub vector: Vec<f32>,
    /// The paper's evidence vectors (passages or sentences, as the model's
    /// fingerprint says; see `paperboy_search::evidence`), each `dim` long;
    /// stored and fed with the vector, as one value.
    pub evidence: Vec<Vec<f32>>,
}

/// What [`Embeddings::store_embeddings`] did with a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoredBatch {
    /// Vectors stored (each appended to the feed).
    pub stored: u64,
    /// Vectors dropped because the paper's text changed after the claim (it
    /// stays waiting), the paper is gone or hidden, or a current vector was
    /// already stored by another process (an expired claim taken over).
    pub dropped: u64,
}

/// A stored vector, as the feed returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEmbedding {
    /// Its position in the feed.
    pub seq: u64,
    pub id: PaperId,
    pub text_hash: u64,
    pub vector: Vec<f32>,
    /// Its evidence vectors (see [`NewEmbedding::evidence`]).
    pub evidence: Vec<Vec<f32>>,
}

/// What [`Embeddings::register_embedding_model`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRegistration {
    /// No process had registered this model in this database before.
    pub new_model: bool,
    /// Papers with a current vector of this model.
    pub current: u64,
    /// Papers waiting for a vector of this model.
    pub waiting: u64,
    /// Other models with vectors in the database: (name, fingerprint, vectors).
    pub other_models: Vec<(String, String, u64)>,
}

/// A live claim, for `paperboy status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimInfo {
    pub holder: String,
    pub papers: u64,
    pub expires_at: DateTime<Utc>,
}

/// The embedding backlog of one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingBacklog {
    /// Visible papers.
    pub papers: u64,
    /// Of them, with a current vector of this model.
    pub current: u64,
    /// Of them, waiting (including those under live claims).
    pub waiting: u64,
    /// Live claims.
    pub claims: Vec<ClaimInfo>,
    /// Vectors stored in the last hour (all processes): the rate for an ETA.
    pub stored_last_hour: u64,
    /// When the newest vector was stored.
    pub last_stored_at: Option<DateTime<Utc>>,
    /// The feed's newest sequence number for this model.
    pub last_seq: u64,
}

/// Papers' vectors in the database (module documentation).
#[async_trait]
pub trait Embeddings: Send + Sync + 'static {
    /// Records that a process embeds with `model` (idempotent) and reports
    /// what that means: how much is current, what is waiting, and which other
    /// models have vectors here (a changed model re-embeds everything, and the
    /// caller says so).
    async fn register_embedding_model(&self, model: &ModelKey) -> Result<ModelRegistration, StoreError>;

    /// Claims up to `max` papers waiting for a vector of `model` that no live
    /// claim holds (an expired claim's papers are free again), oldest papers
    /// first, for `holder` until now + `ttl`. `None` when nothing is free.
    async fn claim_embedding_work(
        &self,
        model: &ModelKey,
        holder: &str,
        max: u32,
        ttl: Duration,
    ) -> Result<Option<EmbedClaim>, StoreError>;

    /// Extends `holder`'s claim to now + `ttl`; `false` when it is gone
    /// (expired and taken over, or ended).
    async fn renew_embedding_claim(&self, claim: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// Stores the vectors computed under `claim` and ends it. Each vector is
    /// stored (replacing the paper's vector of this model, appended to the
    /// feed, counted in the audit) only if the paper is visible, its text is
    /// still the `text_hash` it was computed for, and it has no current
    /// vector of this model yet; otherwise it is dropped. Papers of the claim
    /// without a vector here become free at once. A vector of the wrong
    /// length is an error and stores nothing.
    async fn store_embeddings(
        &self,
        model: &ModelKey,
        claim: &str,
        holder: &str,
        vectors: &[NewEmbedding],
    ) -> Result<StoredBatch, StoreError>;

    /// Ends `holder`'s claim without storing anything (shutting down): its
    /// papers are free at once.
    async fn release_embedding_claim(&self, claim: &str, holder: &str) -> Result<(), StoreError>;

    /// The current vectors of `model` stored after feed position `after`,
    /// oldest first, at most `limit`: a paper stored twice appears at its
    /// newest position only, and vectors of hidden or merged papers, or of
    /// text that has changed since, are left out.
    async fn embeddings_since(
        &self,
        model: &ModelKey,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEmbedding>, StoreError>;

    /// The backlog of `model`, for the embedder's progress and `paperboy status`.
    async fn embedding_backlog(&self, model: &ModelKey) -> Result<EmbeddingBacklog, StoreError>;

    /// How many vectors of `model` were ever stored for each paper that has
    /// one (the audit trail: 1 everywhere means each paper was embedded once).
    async fn embedding_store_counts(&self, model: &ModelKey) -> Result<Vec<(PaperId, u64)>, StoreError>;

    /// Deletes the vectors (and audit rows) of every model but `keep`;
    /// returns how many vectors were deleted.
    async fn prune_other_embeddings(&self, keep: &ModelKey) -> Result<u64, StoreError>;
}
