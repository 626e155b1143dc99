//! [`Backend`]: everything a database backend supplies to the shared SQL of
//! `sql/`, in one place. The statements, the upsert rules, the row decoders
//! and the executor are the same for every backend; what differs is how a
//! connection is had, how concurrent writers take turns (SQLite has one
//! writer at a time, PostgreSQL many), and the few words of SQL the two
//! dialects spell differently. SQLite's implementation is
//! [`SqliteBackend`](crate::SqliteBackend) (`sqlite/`), PostgreSQL's
//! [`PgBackend`](crate::PgBackend) (`postgres/`); each method's reason on
//! each backend is documented there.
//!
//! Statements passed to and run by a backend are portable SQL with `?`
//! placeholders ([`super::placeholders`]); both backends run them through
//! [`Query`](super::exec::Query).

use async_trait::async_trait;
use paperboy_core::UserId;

use super::exec::{Exec, Row, Tx};
use crate::StoreError;

/// The contract between the shared SQL (`sql/*.rs`) and one database backend.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`, for logs and tests.
    fn name(&self) -> &'static str;

    /// Where single statements run outside a transaction: the pool.
    fn pool(&self) -> Exec<'_>;

    /// A transaction with no turn-taking of its own: for reads that must
    /// agree with each other, and for writes whose first statement is a
    /// write or whose backend hook takes the lock they need (subscribing,
    /// outbox updates, harvest starts).
    async fn begin(&self) -> Result<Tx<'_>, StoreError>;

    /// A read-only transaction whose statements all see one snapshot, for
    /// reads gathered from several statements (a member's interest profile).
    /// SQLite: a deferred transaction (in WAL mode its first read fixes the
    /// snapshot); PostgreSQL: `REPEATABLE READ, READ ONLY`.
    async fn begin_read(&self) -> Result<Tx<'_>, StoreError>;

    /// A transaction that writes but leaves the change feed alone (suspending
    /// a member, spending a link, purging). SQLite: waits its turn in the
    /// process's writer queue; PostgreSQL: a plain transaction.
    async fn begin_write(&self) -> Result<Tx<'_>, StoreError>;

    /// A transaction that changes the catalog and appends to its change feed
    /// (upserts, submissions, hiding a paper): catalog writers take turns, so
    /// change sequence numbers become visible in commit order. SQLite: the
    /// writer queue; PostgreSQL: a transaction advisory lock held until the
    /// transaction ends.
    async fn begin_catalog_write(&self) -> Result<Tx<'_>, StoreError>;

    /// Run first in every vote change, so that a paper's votes and its
    /// `upvotes` change together. SQLite: nothing (one writer); PostgreSQL:
    /// locks the paper's row, and fails with `PaperNotFound` for an unknown
    /// or hidden paper.
    async fn lock_paper_for_vote(&self, tx: &mut Tx<'_>, paper: &str) -> Result<(), StoreError>;

    /// Run first in a submission: whether member `user` exists, holding it
    /// for the rest of the transaction. SQLite: a no-op write (it takes the
    /// write lock); PostgreSQL: a key-share row lock.
    async fn hold_member(&self, tx: &mut Tx<'_>, user: UserId) -> Result<bool, StoreError>;

    /// Run first in a subscribe, so that "a member has one subscription" and
    /// the link it guards take turns. SQLite: nothing (the insert after it
    /// takes the write lock); PostgreSQL: a transaction advisory lock.
    async fn lock_for_subscribe(&self, tx: &mut Tx<'_>) -> Result<(), StoreError>;

    /// Run first when adding a saved search; `false` when the subscriber
    /// does not exist. Concurrent adds must not both slip under the limit.
    /// SQLite: nothing, always `true` (the insert takes the write lock before
    /// the count); PostgreSQL: locks the subscriber's row.
    async fn lock_subscriber_for_search(&self, tx: &mut Tx<'_>, subscriber: i64) -> Result<bool, StoreError>;

    /// Run first when a harvest run starts, before its insert, so that starts
    /// take turns and two cannot resume the same checkpoint. SQLite: nothing
    /// (the insert takes the write lock); PostgreSQL: an advisory lock.
    async fn lock_harvest_start(&self, tx: &mut Tx<'_>) -> Result<(), StoreError>;

    /// Run first in a rate-limit reservation (in a `begin_write`
    /// transaction), so that reservations of one key take turns and each
    /// counts the others. SQLite: nothing (the writer queue and the one
    /// conditional insert suffice); PostgreSQL: a transaction advisory lock
    /// derived from `key`.
    async fn lock_rate_limit_key(&self, tx: &mut Tx<'_>, key: &str) -> Result<(), StoreError>;

    /// Leases up to `limit` due outbox rows to `owner` until `until` (times
    /// as stored) and returns them as `MAIL_COLUMNS` rows, by id. SQLite: an
    /// `UPDATE … WHERE id IN (due rows)` and a read-back in one transaction;
    /// PostgreSQL: one statement whose due rows are picked `FOR UPDATE SKIP
    /// LOCKED`, so senders on several servers never wait for each other.
    async fn claim_rows(&self, owner: &str, now: &str, until: &str, limit: u32) -> Result<Vec<Row>, StoreError>;

    /// The verb of the multi-row inserts of a bulk upsert. SQLite:
    /// `INSERT OR FAIL` (no statement journal); PostgreSQL: `INSERT`.
    fn bulk_insert(&self) -> &'static str;

    /// The operator of the feed's category filter, matching regardless of
    /// ASCII case. SQLite: `LIKE`; PostgreSQL: `ILIKE`.
    fn case_insensitive_like(&self) -> &'static str;
}
