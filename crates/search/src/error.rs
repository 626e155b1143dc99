//! The search engine's error type. Every message says what went wrong and
//! what to do next.

use std::path::PathBuf;

/// Errors from the search engine.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The embedding model directory lacks a file.
    #[error(
        "the embedding model is missing {file} in {dir}: run scripts/fetch-model.sh {dir} or `paperboy model fetch` to download it"
    )]
    ModelMissing { dir: PathBuf, file: &'static str },

    /// The model files are there but could not be loaded or run.
    #[error("the embedding model in {dir} could not be used ({why}): fetch it again with scripts/fetch-model.sh")]
    Model { dir: PathBuf, why: String },

    /// Running the model failed.
    #[error("computing embeddings failed: {0}")]
    Embedding(String),

    /// The keyword index failed.
    #[error("keyword index error in {dir}: {why} (if it persists, delete the index directory and reindex)")]
    Index { dir: PathBuf, why: String },

    /// Another process holds the index for writing.
    #[error("the search index in {0} is locked by another Paperboy process: stop it or use another data directory")]
    Locked(PathBuf),

    /// The vector file is unusable.
    #[error("vector index {path}: {why}")]
    Vectors { path: PathBuf, why: String },

    /// A vector of the wrong length.
    #[error(
        "vector has {got} dimensions, the index holds {want}: the embedding model changed, delete the vector files and run the embedding job again"
    )]
    Dimension { want: usize, got: usize },

    /// Evaluation data could not be read.
    #[error("evaluation data {path}: {why}")]
    EvalData { path: PathBuf, why: String },

    /// File system error.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl SearchError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        SearchError::Io { context: context.into(), source }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = SearchError> = std::result::Result<T, E>;
