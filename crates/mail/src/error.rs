//! Errors of the mail crate, each saying what to do next.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum MailError {
    #[error(transparent)]
    Store(#[from] paperboy_store::StoreError),
    #[error("search failed while building a digest: {0}")]
    Search(String),
    #[error("recommendations failed while building a digest: {0}")]
    Picks(String),
    #[error("invalid mail setting: {0}")]
    Config(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("cannot read the mail key {path}: {source}")]
    Key { path: String, source: std::io::Error },
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}
