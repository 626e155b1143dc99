//! Persistence for Paperboy.
//!
//! The rest of the system talks to a [`Store`]: an object-safe async trait
//! whose methods speak in domain types. [`SqliteStore`] is the embedded
//! default. Its SQL sticks to what PostgreSQL also understands, and
//! [`PgStore`] runs the same SQL on PostgreSQL, for several servers sharing
//! one database; [`open`] picks the backend from the database location.
//! Schema changes are plain SQL files under `migrations/` (one directory per
//! backend), embedded in the binary and applied at open (see [`migrate`]).
//!
//! The catalog is [`Store`]; members, votes, comments and moderation are
//! [`Community`] (see its module for the rules both keep); subscriptions and
//! the mail outbox are [`Mailing`], the harvest log is [`Harvests`]; leases,
//! shared rate limits and secrets are [`Coordination`]. [`Database`] is all
//! five, which is what the web layer holds.

mod backend;
mod batch;
mod catalog_impl;
mod community;
mod community_impl;
mod coordination;
pub mod copy;
mod error;
mod harvest;
mod harvest_impl;
mod mailing;
mod mailing_impl;
pub mod migrate;
mod model;
mod postgres;
pub mod secret;
mod sql_common;
mod sql_harvest;
mod sql_mailing;
mod sqlite;
mod sqlite_community;
mod sqlite_harvest;
mod sqlite_mailing;

pub use backend::{AnyStore, is_postgres_url, open};
pub use batch::PaperBatch;
pub use community::{
    ApiToken, Audience, Comment, Community, Database, EmailPurpose, MemberPapers, NewSession, NewUser, Profile,
    ReadingListEntry, Secret, Session, Submission, SubmitOutcome, User, Vote,
};
pub use coordination::{Coordination, Lease};
pub use copy::{AppliedMigration, CopyError, TableCount, applied_migrations, copy_sqlite_to_postgres, table_counts};
pub use error::StoreError;
pub use harvest::{HarvestArgs, HarvestCounts, HarvestRun, HarvestStatus, HarvestTrigger, Harvests};
pub use mailing::{
    Frequency, MAX_CATEGORIES, MAX_SAVED_SEARCHES, MailKind, Mailing, NewMail, OutboxCounts, OutboxMail, SavedSearch,
    Subscriber, SubscriberId,
};
pub use model::{Change, FeedPage, FeedQuery, StoredPaper, UpsertOutcome};
pub use postgres::{MIGRATIONS as POSTGRES_MIGRATIONS, PgStore};
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use chrono::NaiveDate;
use paperboy_core::{Paper, PaperId};

/// Everything the services need from the database.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Inserts or updates papers in one transaction, keyed by arXiv id.
    ///
    /// Rules: a record whose content equals what we have is `Unchanged`; an
    /// older version than the stored one is `Unchanged` (never a regression);
    /// an update keeps the paper's row, feed date, votes and everything else
    /// attached to it. An arXiv paper whose normalised title matches a local
    /// (`pb-…`) paper takes that paper over (`Merged`); a local paper whose
    /// title is already in the catalog is `Unchanged`.
    async fn upsert_papers(&self, papers: &[Paper]) -> Result<Vec<UpsertOutcome>, StoreError>;

    /// [`Store::upsert_papers`] for papers whose ids, title keys and content
    /// fingerprints the caller already computed: the same rules, the same
    /// one transaction, less work for the writer.
    async fn upsert_batch(&self, batch: PaperBatch) -> Result<Vec<UpsertOutcome>, StoreError> {
        self.upsert_papers(batch.papers()).await
    }

    /// One paper by id, as the public sees it (`None` for a hidden paper).
    async fn get_paper(&self, id: &PaperId) -> Result<Option<StoredPaper>, StoreError>;

    /// A page of a feed, as the public sees it (hidden papers left out),
    /// ordered by `query.sort`; `trending` is ranked at the current time.
    async fn feed(&self, query: &FeedQuery) -> Result<FeedPage, StoreError>;

    /// The most recent day that has papers.
    async fn latest_listing_date(&self) -> Result<Option<NaiveDate>, StoreError>;

    /// The nearest days before and after `day` that have papers.
    async fn neighbour_dates(&self, day: NaiveDate) -> Result<(Option<NaiveDate>, Option<NaiveDate>), StoreError>;

    /// How many papers the catalog holds.
    async fn count_papers(&self) -> Result<u64, StoreError>;

    /// Changes after sequence number `after`, oldest first, at most `limit`.
    /// Followers (search indexes) apply them in order and remember the last `seq`.
    /// A paper that is hidden now comes back as `paper: None`, like one that
    /// no longer exists; hiding and showing a paper are changes.
    async fn changes_since(&self, after: u64, limit: u32) -> Result<Vec<Change>, StoreError>;

    /// The newest sequence number in the change feed (0 when empty).
    async fn last_change_seq(&self) -> Result<u64, StoreError>;
}
