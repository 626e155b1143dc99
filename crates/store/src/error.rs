//! Store errors.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("could not open the database at {path}: {source} (check that the data directory exists and is writable)")]
    Open { path: String, source: sqlx::Error },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration { version: i64, name: &'static str, source: sqlx::Error },
    #[error(
        "the database was written by a newer Paperboy (schema version {found}, this build knows up to {known}); upgrade paperboy"
    )]
    TooNew { found: i64, known: i64 },
    #[error("stored row for {paper_id} is unreadable: {why}")]
    Corrupt { paper_id: String, why: String },
}
