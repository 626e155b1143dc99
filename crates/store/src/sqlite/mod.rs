//! The SQLite backend: one database file in WAL mode, a small connection
//! pool, and this process's writers queued in turn ([`SqliteBackend`]), with
//! its migrations (`migrations/sqlite/`) and its side of the
//! [`Backend`] contract.
//!
//! SQLite has one writer at a time and takes its write lock at a
//! transaction's first write, so transactions that read and then write start
//! with a write (a transaction that read first could not upgrade while
//! another connection writes), and every write transaction of this process
//! waits its turn in [`SqliteBackend::begin_write`]'s queue: vote changes,
//! submissions, hiding, subscribing and harvest starts need no locks of
//! their own.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use paperboy_core::UserId;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::StoreError;
use crate::sql::backend::Backend;
use crate::sql::exec::{Exec, Query, Row, Tx};
use crate::sql::mailing::{DUE_ROWS, LEASE_SET, MAIL_COLUMNS};
use crate::sql::migrate::{self, Migration};

/// SQLite's migrations, in the order they apply.
pub const MIGRATIONS: &[Migration] = &[
    (1, "papers", include_str!("../../migrations/sqlite/0001_papers.sql")),
    (2, "paper_changes", include_str!("../../migrations/sqlite/0002_paper_changes.sql")),
    (3, "community", include_str!("../../migrations/sqlite/0003_community.sql")),
    (4, "mail", include_str!("../../migrations/sqlite/0004_mail.sql")),
    (5, "harvest", include_str!("../../migrations/sqlite/0005_harvest.sql")),
    (6, "coordination", include_str!("../../migrations/sqlite/0006_coordination.sql")),
    (7, "rate_limit_attempts", include_str!("../../migrations/sqlite/0007_rate_limit_attempts.sql")),
    (8, "community_changes", include_str!("../../migrations/sqlite/0008_community_changes.sql")),
    (9, "signals", include_str!("../../migrations/sqlite/0009_signals.sql")),
    (10, "interests", include_str!("../../migrations/sqlite/0010_interests.sql")),
    (11, "embeddings", include_str!("../../migrations/sqlite/0011_embeddings.sql")),
    (12, "feed_index", include_str!("../../migrations/sqlite/0012_feed_index.sql")),
];

/// How a connection uses memory and the WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteTuning {
    /// Page cache per connection, at most (it grows as pages are read).
    pub cache_mib: u32,
    /// Bytes of the file read through a memory map instead of `read()`.
    pub mmap_mib: u32,
    /// WAL pages after which a commit checkpoints them into the file.
    pub wal_autocheckpoint_pages: u32,
}

impl SqliteTuning {
    /// Servers and commands: 64 MiB of cache (SQLite's own default is 2),
    /// no map, a checkpoint every 32 MiB of WAL.
    pub const DEFAULT: SqliteTuning = SqliteTuning { cache_mib: 64, mmap_mib: 0, wal_autocheckpoint_pages: 8192 };
    /// `paperboy import`: the writer is the import's critical path, and at a
    /// million papers it spends its time on the title-key index (filled in
    /// random order), copying pages in and out of the kernel, and
    /// checkpointing. A larger cache, reads through a map, and a checkpoint
    /// every 256 MiB of WAL (an index page rewritten by many batches reaches
    /// the file once) cut that (docs/BENCHMARKS.md, "A million papers").
    pub const IMPORT: SqliteTuning = SqliteTuning { cache_mib: 1024, mmap_mib: 8192, wal_autocheckpoint_pages: 65536 };
}

/// A Paperboy database in one SQLite file (or in memory).
#[derive(Clone, Debug)]
pub struct SqliteBackend {
    pool: SqlitePool,
    /// Whose turn it is to write; see [`SqliteBackend::begin_write`].
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl SqliteBackend {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_tuned(path, SqliteTuning::DEFAULT).await
    }

    /// [`open`](Self::open) with other cache, mapping and checkpoint sizes.
    pub async fn open_tuned(path: &Path, tuning: SqliteTuning) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", format!("-{}", u64::from(tuning.cache_mib.max(1)) * 1024))
            .pragma("mmap_size", (u64::from(tuning.mmap_mib) << 20).to_string())
            .pragma("wal_autocheckpoint", tuning.wal_autocheckpoint_pages.to_string())
            .pragma("temp_store", "memory");
        let threads = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(2);
        let pool = SqlitePoolOptions::new()
            .max_connections((threads * 2).clamp(4, 16))
            .min_connections(1)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open { path: path.display().to_string(), source })?;
        Self::migrated(pool).await
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
        Self::migrated(pool).await
    }

    async fn migrated(pool: SqlitePool) -> Result<Self, StoreError> {
        let mut conn = pool.acquire().await?;
        migrate::apply(Exec::Sqlite(&mut conn), MIGRATIONS, "sqlite").await?;
        drop(conn);
        let backend = SqliteBackend { pool, writer: Arc::default() };
        crate::sql::embeddings::backfill_embed_hashes(&backend).await?;
        Ok(backend)
    }

    /// The underlying pool, for tests and maintenance commands.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Flushes the WAL into the main file (used before copying a database).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        Ok(())
    }
}

#[async_trait]
impl Backend for SqliteBackend {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn pool(&self) -> Exec<'_> {
        Exec::SqlitePool(&self.pool)
    }

    async fn begin(&self) -> Result<Tx<'_>, StoreError> {
        Ok(Tx::Sqlite { tx: self.pool.begin().await?, turn: None })
    }

    /// A plain deferred transaction: in WAL mode its first read fixes the
    /// snapshot that the rest of it sees.
    async fn begin_read(&self) -> Result<Tx<'_>, StoreError> {
        self.begin().await
    }

    /// Starts a write transaction once no other write of this process is
    /// running. SQLite allows one writer at a time; left to itself, a second
    /// writer waits in SQLite's busy handler, which sleeps in steps of up to
    /// 100 ms and lets later writers overtake. Queueing here instead (fair,
    /// first come first served) keeps write latency flat under load. Other
    /// processes on the same file still meet the busy timeout.
    async fn begin_write(&self) -> Result<Tx<'_>, StoreError> {
        let turn = self.writer.lock().await;
        let tx = self.pool.begin().await?;
        Ok(Tx::Sqlite { tx, turn: Some(turn) })
    }

    /// The writer queue of [`SqliteBackend::begin_write`]: with one writer at
    /// a time, catalog writers already take turns.
    async fn begin_catalog_write(&self) -> Result<Tx<'_>, StoreError> {
        self.begin_write().await
    }

    /// Nothing to lock: the transaction (from `begin_write`) is the only
    /// writer, so votes and `upvotes` change together.
    async fn lock_paper_for_vote(&self, _tx: &mut Tx<'_>, _paper: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// A write first: it takes SQLite's write lock before anything is read,
    /// and it checks that the member exists.
    async fn hold_member(&self, tx: &mut Tx<'_>, user: UserId) -> Result<bool, StoreError> {
        let member = Query::new("UPDATE users SET id = id WHERE id = ?").bind(user.0).execute(tx).await?;
        Ok(member > 0)
    }

    /// Nothing to lock: the insert that follows is a write first, so the
    /// transaction holds the write lock before the "a member has one
    /// subscription" check runs.
    async fn lock_for_subscribe(&self, _tx: &mut Tx<'_>) -> Result<(), StoreError> {
        Ok(())
    }

    /// Nothing to lock (always `true`; the insert finds out whether the
    /// subscriber exists). The insert comes first (it takes the write lock)
    /// and the count after it, so concurrent adds cannot both slip under the
    /// limit.
    async fn lock_subscriber_for_search(&self, _tx: &mut Tx<'_>, _subscriber: i64) -> Result<bool, StoreError> {
        Ok(true)
    }

    /// Nothing to lock: the insert that follows is a write, so the
    /// transaction holds SQLite's write lock before it reads the run it may
    /// resume.
    async fn lock_harvest_start(&self, _tx: &mut Tx<'_>) -> Result<(), StoreError> {
        Ok(())
    }

    /// Nothing to lock: the reservation runs in the writer queue, and its
    /// one conditional insert counts and writes under SQLite's write lock.
    async fn lock_rate_limit_key(&self, _tx: &mut Tx<'_>, _key: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// One `UPDATE` of the due rows (a write, so no other sender runs between
    /// its choice and its lease), then the rows leased, read back by owner and
    /// expiry in the same transaction.
    async fn claim_rows(&self, owner: &str, now: &str, until: &str, limit: u32) -> Result<Vec<Row>, StoreError> {
        let mut tx = self.begin().await?;
        Query::new(format!("{LEASE_SET} WHERE id IN ({DUE_ROWS})"))
            .bind(owner)
            .bind(until)
            .bind(now)
            .bind(now)
            .bind(i64::from(limit))
            .execute(&mut tx)
            .await?;
        let sql = format!(
            "SELECT {MAIL_COLUMNS} FROM outbox WHERE state = 'pending' AND lease_owner = ? AND lease_until = ? \
             ORDER BY id"
        );
        let rows = Query::new(sql).bind(owner).bind(until).fetch_all(&mut tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// `OR FAIL` rather than the default `OR ABORT`: an aborting multi-row
    /// statement makes SQLite keep a statement journal (a copy of every page it
    /// changes) to undo just that statement, while a failing one leaves its
    /// earlier rows in place. Nothing here should fail (these ids and title keys
    /// were just looked up), and if something does, the error rolls the whole
    /// transaction back either way.
    fn bulk_insert(&self) -> &'static str {
        "INSERT OR FAIL"
    }

    /// SQLite's `LIKE` already ignores ASCII case.
    fn case_insensitive_like(&self) -> &'static str {
        "LIKE"
    }
}
