//! Persistence for Paperboy.
//!
//! The rest of the system talks to the store through object-safe async
//! traits that speak in domain types (`domain/`): [`Catalog`] (papers, feeds
//! and the change feed), [`Accounts`] (members, sessions, tokens, email
//! links), [`Community`] (votes, submissions, comments, reading lists,
//! profiles), [`Moderation`] (roles, suspensions, hiding, the admin's view),
//! [`Mailing`] (subscriptions and the outbox), [`Harvests`] (the harvest
//! log) and [`Coordination`] (leases, shared rate limits and secrets).
//! [`Database`] is all of them, which is what the web layer holds.
//!
//! [`SqlStore`] implements them all, once, in portable SQL (`sql/`), on
//! either backend: SQLite ([`SqliteBackend`], `sqlite/`, the embedded
//! default) or PostgreSQL ([`PgBackend`], `postgres/`, for several servers
//! sharing one database). What a backend supplies is one trait,
//! `sql::backend::Backend`. [`open`] picks the backend from the database
//! location. Schema changes are plain SQL files under `migrations/` (one
//! directory per backend), embedded in the binary and applied at open.

mod batch;
pub mod copy;
mod domain;
mod error;
mod postgres;
pub mod reads;
pub mod secret;
mod sql;
mod sqlite;

pub use batch::PaperBatch;
pub use copy::{AppliedMigration, CopyError, TableCount, applied_migrations, copy_sqlite_to_postgres, table_counts};
pub use domain::Database;
pub use domain::accounts::{Accounts, ApiToken, EmailPurpose, NewSession, NewUser, Secret, Session, User};
pub use domain::catalog::{
    Catalog, Change, CommunityChange, CommunityKind, FeedPage, FeedQuery, PaperSignals, SourceRank, StoredPaper,
    UpsertOutcome,
};
pub use domain::community::{
    Comment, CommentPage, Community, MemberPapers, Profile, ReadingListEntry, Submission, SubmitOutcome, Vote,
};
pub use domain::coordination::{AttemptId, Coordination, Lease, Reservation};
pub use domain::embeddings::{
    ClaimInfo, EmbedClaim, EmbedTask, EmbeddingBacklog, Embeddings, ModelKey, ModelRegistration, NewEmbedding,
    StoredBatch, StoredEmbedding,
};
pub use domain::harvests::{HarvestArgs, HarvestCounts, HarvestRun, HarvestStatus, HarvestTrigger, Harvests};
pub use domain::interests::{
    InterestKind, InterestProfile, Interests, LibraryEntry, LibraryFormat, LibraryImport, LibraryText, LikeSource,
    LikedPaper, MAX_FOLLOWS, MAX_LIBRARY_ENTRIES, NewLibraryEntry,
};
pub use domain::mailing::{
    DigestContent, Frequency, MAX_CATEGORIES, MAX_SAVED_SEARCHES, MailKind, Mailing, NewMail, OutboxCounts, OutboxMail,
    SavedSearch, Subscriber, SubscriberId,
};
pub use domain::moderation::{Audience, Moderation};
pub use domain::signals::{
    HfSignal, LinkSource, RepoCensus, RepoCounts, RepoLink, RepoStatus, RepoUpdate, Repository, Signals, SourceState,
};
pub use error::StoreError;
pub use postgres::{MIGRATIONS as POSTGRES_MIGRATIONS, PgBackend};
pub use sql::migrate::Migration;
pub use sql::{SqlStore, is_postgres_url, open};
pub use sqlite::{MIGRATIONS as SQLITE_MIGRATIONS, SqliteBackend};
