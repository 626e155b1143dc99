//! The PostgreSQL backend, for several Paperboy servers sharing one
//! database ([`PgBackend`]): its connection pool, its migrations
//! (`migrations/postgres/`, numbered like SQLite's so the two schemas stay in
//! step) and its side of the [`Backend`] contract.
//!
//! It runs the same portable SQL as SQLite (placeholders renumbered to `$N`)
//! over a schema with the same tables and columns. What differs is
//! concurrency: SQLite has one writer at a time, PostgreSQL many, so
//! * every transaction that appends to the change feed (upserts, submissions,
//!   hiding) first takes a transaction-scoped advisory lock, [`CATALOG_LOCK`]:
//!   catalog writers take turns across all servers, as on SQLite, and change
//!   sequence numbers become visible in commit order, so a follower that reads
//!   "after my watermark" never skips a change that committed late;
//! * a vote change locks the paper's row (`SELECT … FOR UPDATE`) before it
//!   touches the votes, so toggles of one paper from many servers queue up
//!   and `upvotes` always equals the votes rows;
//! * outbox claims lease rows with `FOR UPDATE SKIP LOCKED` in one statement,
//!   so senders on several servers never hold the same row;
//! * subscribing and starting a harvest run take turns under advisory locks;
//!   adding a saved search locks the subscriber's row;
//! * migrations run under a session advisory lock, so servers starting
//!   together apply each one once.

use std::str::FromStr;

use async_trait::async_trait;
use paperboy_core::UserId;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::StoreError;
use crate::sql::backend::Backend;
use crate::sql::exec::{Exec, Query, Row, Tx};
use crate::sql::mailing::{DUE_ROWS, LEASE_SET, MAIL_COLUMNS};
use crate::sql::migrate::{self, Migration};

/// PostgreSQL's migrations, in the order they apply.
pub const MIGRATIONS: &[Migration] = &[
    (1, "papers", include_str!("../../migrations/postgres/0001_papers.sql")),
    (2, "paper_changes", include_str!("../../migrations/postgres/0002_paper_changes.sql")),
    (3, "community", include_str!("../../migrations/postgres/0003_community.sql")),
    (4, "mail", include_str!("../../migrations/postgres/0004_mail.sql")),
    (5, "harvest", include_str!("../../migrations/postgres/0005_harvest.sql")),
    (6, "coordination", include_str!("../../migrations/postgres/0006_coordination.sql")),
    (7, "rate_limit_attempts", include_str!("../../migrations/postgres/0007_rate_limit_attempts.sql")),
    (8, "community_changes", include_str!("../../migrations/postgres/0008_community_changes.sql")),
    (9, "signals", include_str!("../../migrations/postgres/0009_signals.sql")),
    (10, "interests", include_str!("../../migrations/postgres/0010_interests.sql")),
    (11, "embeddings", include_str!("../../migrations/postgres/0011_embeddings.sql")),
    (12, "feed_index", include_str!("../../migrations/postgres/0012_feed_index.sql")),
];

/// Advisory lock key held (until commit) by every transaction that changes
/// the catalog and its change feed: "paperboy" in ASCII.
pub(crate) const CATALOG_LOCK: i64 = 0x7061_7065_7262_6f79;
/// Advisory lock key held (until commit) by every subscribe: "pbmailin" in ASCII.
const SUBSCRIBE_LOCK: i64 = 0x7062_6d61_696c_696e;
/// Advisory lock key held (until commit) while a harvest run starts: "pbharvst" in ASCII.
const HARVEST_LOCK: i64 = 0x7062_6861_7276_7374;
/// Advisory lock key held while migrating: "pbmigrat" in ASCII.
const MIGRATE_LOCK: i64 = 0x7062_6d69_6772_6174;

/// A Paperboy database on a PostgreSQL server.
#[derive(Clone, Debug)]
pub struct PgBackend {
    pool: PgPool,
}

impl PgBackend {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`,
    /// or `?host=/run/postgresql` for a unix socket) and applies migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|source| StoreError::Connect { server: "the URL given (check its syntax)".into(), source })?;
        Self::open_with(options).await
    }

    /// [`PgBackend::open`] with options built by the caller.
    pub async fn open_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        // Never the password: this label ends up in error messages and logs.
        let label = format!(
            "postgres://{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or("")
        );
        // One connection first, for the migrations: a wrong address or password
        // fails here at once, where a pool would keep retrying until it times out.
        let mut conn = PgConnection::connect_with(&options)
            .await
            .map_err(|source| StoreError::Connect { server: label, source })?;
        migrate_locked(&mut conn).await?;
        conn.close().await?;
        let threads = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(2);
        let pool = PgPoolOptions::new().max_connections((threads * 2).clamp(4, 16)).connect_lazy_with(options);
        let backend = PgBackend { pool };
        crate::sql::embeddings::backfill_embed_hashes(&backend).await?;
        Ok(backend)
    }

    /// The underlying pool, for tests and maintenance commands.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Applies every pending migration under [`MIGRATE_LOCK`]; returns how many ran.
async fn migrate_locked(conn: &mut PgConnection) -> Result<usize, StoreError> {
    advisory_lock(Exec::Postgres(&mut *conn), "SELECT pg_advisory_lock(?)", MIGRATE_LOCK).await?;
    let outcome = migrate::apply(Exec::Postgres(&mut *conn), MIGRATIONS, "postgres").await;
    let unlocked = advisory_lock(Exec::Postgres(&mut *conn), "SELECT pg_advisory_unlock(?)", MIGRATE_LOCK).await;
    let ran = outcome?;
    unlocked?;
    Ok(ran)
}

/// The advisory lock key of rate-limit key `key`: the 64-bit FNV-1a hash of
/// `"pbratelimit:" + key`, stable across servers and releases. A collision
/// only makes two keys' reservations wait for each other.
fn rate_limit_lock(key: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in b"pbratelimit:".iter().chain(key.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

/// Takes advisory lock `key` until the transaction ends.
const XACT_LOCK: &str = "SELECT pg_advisory_xact_lock(?)";

/// Runs `sql`, one of the advisory-lock calls, with `key`.
async fn advisory_lock(on: Exec<'_>, sql: &'static str, key: i64) -> Result<(), StoreError> {
    Query::new(sql).bind(key).execute(on).await?;
    Ok(())
}

#[async_trait]
impl Backend for PgBackend {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn pool(&self) -> Exec<'_> {
        Exec::PgPool(&self.pool)
    }

    async fn begin(&self) -> Result<Tx<'_>, StoreError> {
        Ok(Tx::Postgres(self.pool.begin().await?))
    }

    /// `REPEATABLE READ, READ ONLY`: every statement sees the snapshot of the
    /// first (`READ COMMITTED`, the default, takes one per statement).
    async fn begin_read(&self) -> Result<Tx<'_>, StoreError> {
        let mut tx = self.begin().await?;
        Query::new("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut tx).await?;
        Ok(tx)
    }

    /// No lock of its own: PostgreSQL has many writers; row locks and
    /// conditional statements keep them apart.
    async fn begin_write(&self) -> Result<Tx<'_>, StoreError> {
        self.begin().await
    }

    /// Holds [`CATALOG_LOCK`] until the transaction ends.
    async fn begin_catalog_write(&self) -> Result<Tx<'_>, StoreError> {
        let mut tx = self.begin().await?;
        advisory_lock(tx.exec(), XACT_LOCK, CATALOG_LOCK).await?;
        Ok(tx)
    }

    /// The paper's row is locked until the transaction ends: every change to
    /// its votes waits here, on whichever server it runs.
    async fn lock_paper_for_vote(&self, tx: &mut Tx<'_>, paper: &str) -> Result<(), StoreError> {
        let visible = Query::new("SELECT pk FROM papers WHERE paper_id = ? AND hidden_at IS NULL FOR UPDATE")
            .bind(paper)
            .fetch_optional(tx)
            .await?;
        if visible.is_none() {
            return Err(StoreError::PaperNotFound { paper_id: paper.to_string() });
        }
        Ok(())
    }

    /// A key-share lock only: it never waits for, or blocks, the member's votes.
    async fn hold_member(&self, tx: &mut Tx<'_>, user: UserId) -> Result<bool, StoreError> {
        let member =
            Query::new("SELECT id FROM users WHERE id = ? FOR KEY SHARE").bind(user.0).fetch_optional(tx).await?;
        Ok(member.is_some())
    }

    /// Takes [`SUBSCRIBE_LOCK`] until commit, so subscribes from any server take turns.
    async fn lock_for_subscribe(&self, tx: &mut Tx<'_>) -> Result<(), StoreError> {
        advisory_lock(tx.exec(), XACT_LOCK, SUBSCRIBE_LOCK).await
    }

    /// The subscriber's row is locked until commit: concurrent adds for one
    /// subscriber take turns, and each counts the others' rows.
    async fn lock_subscriber_for_search(&self, tx: &mut Tx<'_>, subscriber: i64) -> Result<bool, StoreError> {
        let found = Query::new("SELECT id FROM subscribers WHERE id = ? FOR UPDATE")
            .bind(subscriber)
            .fetch_optional(tx)
            .await?;
        Ok(found.is_some())
    }

    /// Takes [`HARVEST_LOCK`] until commit, so starts from any server take turns.
    async fn lock_harvest_start(&self, tx: &mut Tx<'_>) -> Result<(), StoreError> {
        advisory_lock(tx.exec(), XACT_LOCK, HARVEST_LOCK).await
    }

    /// Takes the advisory lock [`rate_limit_lock`]`(key)` until commit, so
    /// reservations of one key take turns across servers.
    async fn lock_rate_limit_key(&self, tx: &mut Tx<'_>, key: &str) -> Result<(), StoreError> {
        advisory_lock(tx.exec(), XACT_LOCK, rate_limit_lock(key)).await
    }

    /// One statement: the due rows are picked (and locked) once; rows other
    /// senders hold locks on are skipped, and one whose lease was taken since
    /// this statement began is re-checked against the conditions and dropped.
    async fn claim_rows(&self, owner: &str, now: &str, until: &str, limit: u32) -> Result<Vec<Row>, StoreError> {
        let sql = format!(
            "WITH due AS MATERIALIZED ({DUE_ROWS} FOR UPDATE SKIP LOCKED), \
             claimed AS ({LEASE_SET} WHERE id IN (SELECT id FROM due) RETURNING {MAIL_COLUMNS}) \
             SELECT {MAIL_COLUMNS} FROM claimed ORDER BY id"
        );
        let rows = Query::new(sql)
            .bind(now)
            .bind(now)
            .bind(i64::from(limit))
            .bind(owner)
            .bind(until)
            .fetch_all(Exec::PgPool(&self.pool))
            .await?;
        Ok(rows)
    }

    /// A plain `INSERT` (where SQLite says `INSERT OR FAIL`): PostgreSQL rolls
    /// a failed statement back by itself, and the caller's transaction with it.
    fn bulk_insert(&self) -> &'static str {
        "INSERT"
    }

    /// SQLite's `LIKE` ignores ASCII case and PostgreSQL's does not; `ILIKE`
    /// is its equivalent here (categories are ASCII).
    fn case_insensitive_like(&self) -> &'static str {
        "ILIKE"
    }
}
