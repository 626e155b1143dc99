//! Services that combine Paperboy's engines: the index follower that keeps
//! the search index in step with the store's change feed, the background
//! embedding job, and finding (or fetching) the embedding model.
//!
//! The web layer and the CLI call these; these call the store and the search
//! engine; neither engine knows about the other.

pub mod indexer;
pub mod model;

pub use indexer::{IndexError, SyncReport, embed_pending, follow, sync_index};
pub use model::{ModelError, fetch_model, find_model_dir};
