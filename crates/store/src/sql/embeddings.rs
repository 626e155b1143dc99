//! [`Embeddings`] in portable SQL: papers' vectors, the shared embedding
//! backlog under claims, and the vector feed.
//!
//! CONTRACT PLACEHOLDER: the store helper replaces this file with the real
//! implementation (migration 0011); every method reports that the feature
//! is missing until then.

use std::time::Duration;

use async_trait::async_trait;
use paperboy_core::PaperId;

use super::SqlStore;
use crate::StoreError;
use crate::domain::embeddings::{
    EmbedClaim, EmbeddingBacklog, Embeddings, ModelKey, ModelRegistration, NewEmbedding, StoredBatch, StoredEmbedding,
};

fn missing() -> StoreError {
    StoreError::Random("vectors in the database are not built yet".into())
}

#[async_trait]
impl Embeddings for SqlStore {
    async fn register_embedding_model(&self, _model: &ModelKey) -> Result<ModelRegistration, StoreError> {
        Err(missing())
    }
    async fn claim_embedding_work(
        &self,
        _model: &ModelKey,
        _holder: &str,
        _max: u32,
        _ttl: Duration,
    ) -> Result<Option<EmbedClaim>, StoreError> {
        Err(missing())
    }
    async fn renew_embedding_claim(&self, _claim: &str, _holder: &str, _ttl: Duration) -> Result<bool, StoreError> {
        Err(missing())
    }
    async fn store_embeddings(
        &self,
        _model: &ModelKey,
        _claim: &str,
        _holder: &str,
        _vectors: &[NewEmbedding],
    ) -> Result<StoredBatch, StoreError> {
        Err(missing())
    }
    async fn release_embedding_claim(&self, _claim: &str, _holder: &str) -> Result<(), StoreError> {
        Err(missing())
    }
    async fn embeddings_since(
        &self,
        _model: &ModelKey,
        _after: u64,
        _limit: u32,
    ) -> Result<Vec<StoredEmbedding>, StoreError> {
        Err(missing())
    }
    async fn embedding_backlog(&self, _model: &ModelKey) -> Result<EmbeddingBacklog, StoreError> {
        Err(missing())
    }
    async fn embedding_store_counts(&self, _model: &ModelKey) -> Result<Vec<(PaperId, u64)>, StoreError> {
        Err(missing())
    }
    async fn prune_other_embeddings(&self, _keep: &ModelKey) -> Result<u64, StoreError> {
        Err(missing())
    }
}
