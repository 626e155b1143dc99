//! The PostgreSQL backend: the same catalog ([`Store`](crate::Store)),
//! community ([`Community`](crate::Community)), mailing
//! ([`Mailing`](crate::Mailing)) and harvest log ([`Harvests`](crate::Harvests))
//! as [`crate::SqliteStore`], for several Paperboy servers sharing one database.
//!
//! It runs the SQLite backend's portable SQL (its placeholders renumbered by
//! [`crate::sql_common::numbered`]) over the same schema, and reads rows with
//! the same decoders. What differs is concurrency: SQLite has one writer at a
//! time, PostgreSQL many, so
//! * every transaction that appends to the change feed (upserts, submissions,
//!   hiding) first takes a transaction-scoped advisory lock, [`CATALOG_LOCK`]:
//!   catalog writers take turns across all servers, as on SQLite, and change
//!   sequence numbers become visible in commit order, so a follower that reads
//!   "after my watermark" never skips a change that committed late;
//! * a vote change locks the paper's row (`SELECT … FOR UPDATE`) before it
//!   touches the votes, so toggles of one paper from many servers queue up
//!   and `upvotes` always equals the votes rows;
//! * outbox claims lease rows with `FOR UPDATE SKIP LOCKED` in one statement,
//!   so senders on several servers never hold the same row (`mailing.rs`);
//! * starting a harvest run takes turns under an advisory lock, so two
//!   starts cannot both resume the same checkpoint (`harvest.rs`);
//! * migrations run under a session advisory lock, so servers starting
//!   together apply each one once.
//!
//! The hooks of the catalog, of the community, of subscriptions and the
//! outbox, and of the harvest log are in `catalog.rs`, `community.rs`,
//! `mailing.rs` and `harvest.rs` (their statements are shared with SQLite in
//! `../catalog_impl.rs`, `../community_impl.rs`, `../mailing_impl.rs` and
//! `../harvest_impl.rs`); the migrator in `migrate.rs`.

mod catalog;
mod community;
mod harvest;
mod mailing;
mod migrate;

use std::str::FromStr;

use paperboy_core::ranking::RankingSettings;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};

use crate::StoreError;

pub use migrate::MIGRATIONS;

/// Advisory lock key held (until commit) by every transaction that changes
/// the catalog and its change feed: "paperboy" in ASCII.
pub(crate) const CATALOG_LOCK: i64 = 0x7061_7065_7262_6f79;

/// A Paperboy catalog and community in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    ranking: RankingSettings,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`,
    /// or `?host=/run/postgresql` for a unix socket) and applies migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|source| StoreError::Connect { server: "the URL given (check its syntax)".into(), source })?;
        Self::open_with(options).await
    }

    /// [`PgStore::open`] with options built by the caller.
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
        migrate::run(&mut conn).await?;
        conn.close().await?;
        let threads = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(2);
        let pool = PgPoolOptions::new().max_connections((threads * 2).clamp(4, 16)).connect_lazy_with(options);
        Ok(PgStore { pool, ranking: RankingSettings::default() })
    }

    /// The same store ranking `trending` feeds with `params` (see docs/RANKING.md).
    pub fn with_ranking(mut self, params: RankingSettings) -> Self {
        self.ranking = params;
        self
    }

    /// The trending parameters in use.
    pub fn ranking(&self) -> RankingSettings {
        self.ranking
    }

    /// The underlying pool, for tests and maintenance commands.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Starts a transaction that may change the catalog and append to its
    /// change feed: it holds [`CATALOG_LOCK`] until it ends.
    pub(crate) async fn begin_catalog_write(&self) -> Result<Transaction<'_, Postgres>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(CATALOG_LOCK).execute(&mut *tx).await?;
        Ok(tx)
    }
}
