//! Services that combine Paperboy's engines: the index follower that keeps
//! the search index in step with the store's change feed, the background
//! embedding job, finding (or fetching) the embedding model, and member
//! accounts (`accounts.rs`: sign-up, login, password hashing), and the
//! arXiv OAI-PMH harvester (`harvest.rs`), and work under database leases
//! (`lease.rs`: one harvester, one digest builder across servers).
//!
//! The web layer and the CLI call these; these call the store and the search
//! engine; neither engine knows about the other.

pub mod accounts;
pub mod harvest;
pub mod indexer;
pub mod lease;
pub mod model;

pub use indexer::{IndexError, SyncReport, embed_pending, follow, sync_index};
pub use model::{ModelError, fetch_model, find_model_dir};
