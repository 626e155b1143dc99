//! Services that combine Paperboy's engines: the site's workflows (one
//! module per area: `accounts.rs`, `submit.rs`, `subscriptions.rs`,
//! `comments.rs`, `papers.rs`, `members.rs`; web handlers call one function
//! each), keeping the search index in step with the store's change feed
//! (`indexer.rs`), finding (or fetching) the embedding model, the arXiv
//! OAI-PMH harvester (`harvest.rs`), work under database leases (`lease.rs`),
//! and the one home of background work (`jobs/`: the job trait, the
//! supervisor `serve` runs, and one file per job).
//!
//! And the site's workflows, one module per area, so that a web handler
//! parses its input, calls one function here and renders the result:
//! member accounts (`accounts.rs`: sign-up, login and sessions, password
//! hashing and resets, email verification, settings), submissions
//! (`submit.rs`: fetched from arXiv within the submission window), digest
//! subscriptions (`subscriptions.rs`), comments (`comments.rs`), papers
//! (`papers.rs`: listings, a paper's page, votes, moderation) and members'
//! profiles and reading lists (`members.rs`). Each takes the store as
//! `&dyn Database` (or a narrower trait) and returns its own error type.
//!
//! The web layer and the CLI call these; these call the store and the search
//! engine; neither engine knows about the other.

pub mod accounts;
pub mod comments;
pub mod harvest;
pub mod indexer;
pub mod jobs;
pub mod lease;
pub mod library;
pub mod limits;
pub mod members;
pub mod model;
pub mod papers;
pub mod recommend;
pub mod submit;
pub mod subscriptions;

pub use indexer::{IndexError, SyncReport, embed_pending, sync_index};
pub use model::{ModelError, fetch_model, find_model_dir};
