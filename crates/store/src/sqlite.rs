//! The SQLite backend: one database file in WAL mode, a small connection pool,
//! and writes batched into transactions. This file holds what is SQLite's
//! own (opening, pragmas, the writer queue, WAL checkpoints), its hooks for
//! the catalog, and helpers both backends share; the catalog, community,
//! mailing and harvest halves are `catalog_impl.rs`, `community_impl.rs`,
//! `mailing_impl.rs` and `harvest_impl.rs` (shared with PostgreSQL), SQLite's
//! hooks for the last three in `sqlite_community.rs`, `sqlite_mailing.rs` and
//! `sqlite_harvest.rs`.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::ranking::RankingSettings;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqliteConnection, SqlitePool};

use crate::{StoreError, migrate};

/// Columns read back into a [`StoredPaper`](crate::StoredPaper), in the order
/// [`row_to_paper`](crate::sql_common::row_to_paper) expects, from [`PAPER_FROM`].
pub(crate) const PAPER_COLUMNS: &str = "p.paper_id, p.version, p.title, p.authors, p.abstract, p.primary_category, \
     p.categories, p.submitted_at, p.updated_at, p.listed_on, p.comment, p.journal_ref, p.doi, p.code_url, \
     p.project_url, p.withdrawn, p.upvotes, u.username, p.hidden_at";
/// How many columns [`PAPER_COLUMNS`] has.
pub(crate) const PAPER_COLUMN_COUNT: usize = 19;

/// Papers with their submitter (`s`, `u`), for [`PAPER_COLUMNS`].
pub(crate) const PAPER_FROM: &str =
    "papers p LEFT JOIN submissions s ON s.paper_pk = p.pk LEFT JOIN users u ON u.id = s.user_id";
/// The submitter joins of [`PAPER_FROM`], after another join to `papers p`.
pub(crate) const SUBMITTER_JOIN: &str =
    "LEFT JOIN submissions s ON s.paper_pk = p.pk LEFT JOIN users u ON u.id = s.user_id";

/// A Paperboy catalog in one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    ranking: RankingSettings,
    /// Whose turn it is to write; see [`SqliteStore::begin_write`].
    writer: Arc<tokio::sync::Mutex<()>>,
}

/// A write transaction that holds the store's writer turn until it ends.
/// Dereferences to the connection; dropping it uncommitted rolls back.
pub(crate) struct WriteTx<'a> {
    // Declared first so that it ends (commit or rollback) before the turn is
    // handed on.
    tx: sqlx::Transaction<'a, sqlx::Sqlite>,
    _turn: tokio::sync::MutexGuard<'a, ()>,
}

impl WriteTx<'_> {
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("wal_autocheckpoint", "8192")
            .pragma("temp_store", "memory");
        Self::open_with(options, &path.display().to_string()).await
    }

    /// A private in-memory database (tests and throwaway evaluation runs).
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|source| StoreError::Open { path: ":memory:".into(), source })?
            .foreign_keys(true);
        // One connection: every connection to :memory: is a separate database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open { path: ":memory:".into(), source })?;
        let store = SqliteStore { pool, ranking: RankingSettings::default(), writer: Arc::default() };
        store.migrate().await?;
        Ok(store)
    }

    async fn open_with(options: SqliteConnectOptions, label: &str) -> Result<Self, StoreError> {
        let threads = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(2);
        let pool = SqlitePoolOptions::new()
            .max_connections((threads * 2).clamp(4, 16))
            .min_connections(1)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open { path: label.to_string(), source })?;
        let store = SqliteStore { pool, ranking: RankingSettings::default(), writer: Arc::default() };
        store.migrate().await?;
        Ok(store)
    }

    /// Starts a write transaction once no other write of this process is
    /// running. SQLite allows one writer at a time; left to itself, a second
    /// writer waits in SQLite's busy handler, which sleeps in steps of up to
    /// 100 ms and lets later writers overtake. Queueing here instead (fair,
    /// first come first served) keeps write latency flat under load. Other
    /// processes on the same file still meet the busy timeout.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx<'_>, StoreError> {
        let turn = self.writer.lock().await;
        let tx = self.pool.begin().await?;
        Ok(WriteTx { tx, _turn: turn })
    }

    /// The same store ranking `trending` feeds with `params` (the defaults
    /// otherwise; see docs/RANKING.md).
    pub fn with_ranking(mut self, params: RankingSettings) -> Self {
        self.ranking = params;
        self
    }

    /// The trending parameters in use.
    pub fn ranking(&self) -> RankingSettings {
        self.ranking
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        migrate::run_sqlite(&mut conn).await?;
        Ok(())
    }

    /// The underlying pool, for backends' own tests and maintenance commands.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Flushes the WAL into the main file (used before copying a database).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        Ok(())
    }
}

/// SQLite's hooks for the catalog ([`Store`](crate::Store)), whose
/// implementation both backends share (`catalog_impl.rs`). Upserts run in
/// `SqliteStore::begin_catalog_write` (`sqlite_community.rs`), that is in
/// the writer queue of `SqliteStore::begin_write`.
impl SqliteStore {
    /// The verb of the multi-row inserts of a bulk upsert.
    ///
    /// `OR FAIL` rather than the default `OR ABORT`: an aborting multi-row
    /// statement makes SQLite keep a statement journal (a copy of every page it
    /// changes) to undo just that statement, while a failing one leaves its
    /// earlier rows in place. Nothing here should fail (these ids and title keys
    /// were just looked up), and if something does, the error rolls the whole
    /// transaction back either way.
    pub(crate) const BULK_INSERT: &'static str = "INSERT OR FAIL";

    /// The feed's category match: SQLite's `LIKE` already ignores ASCII case.
    pub(crate) const CASE_INSENSITIVE_LIKE: &'static str = "LIKE";
}

/// Values per `IN (...)` lookup.
pub(crate) const LOOKUP_CHUNK: usize = 500;

pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

pub(crate) fn parse_ts(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok()).map(|d| d.with_timezone(&Utc))
}

/// How the community tables store an instant: RFC 3339 in UTC with
/// milliseconds, always the same width, so that text order is time order.
pub(crate) fn fmt_ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
