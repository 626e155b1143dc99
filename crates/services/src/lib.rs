//! Services that combine Paperboy's engines: keeping the search index in
//! step with the store's change feed (`indexer.rs`), finding (or fetching)
//! the embedding model, member accounts (`accounts.rs`: sign-up, login,
//! password hashing), the arXiv OAI-PMH harvester (`harvest.rs`), work under
//! database leases (`lease.rs`: one harvester, one digest builder across
//! servers), and the one home of background work (`jobs/`: the job trait,
//! the supervisor `serve` runs, and one file per job).
//!
//! The web layer and the CLI call these; these call the store and the search
//! engine; neither engine knows about the other.

pub mod accounts;
pub mod harvest;
pub mod indexer;
pub mod jobs;
pub mod lease;
pub mod model;

pub use indexer::{IndexError, SyncReport, embed_pending, sync_index};
pub use model::{ModelError, fetch_model, find_model_dir};
