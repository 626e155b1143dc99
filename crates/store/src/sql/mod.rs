//! The store's SQL, written once for both backends: [`SqlStore`] implements
//! every trait of `domain/` in portable SQL (`catalog.rs`, `accounts.rs`,
//! `community.rs`, `moderation.rs`, `mailing.rs`, `harvests.rs`,
//! `coordination.rs`, `signals.rs`, `embeddings.rs`), on a small executor of our own (`exec.rs`: bound
//! values, either backend's pool or transaction, rows read through
//! `rows.rs`). What a backend supplies besides (turn-taking, locks, a few
//! words of SQL) is the [`Backend`](backend::Backend) trait (`backend.rs`),
//! implemented by `sqlite/` and `postgres/`.

mod accounts;
pub(crate) mod backend;
mod catalog;
mod community;
mod coordination;
pub(crate) mod embeddings;
pub(crate) mod exec;
mod harvests;
mod interests;
pub(crate) mod mailing;
pub(crate) mod migrate;
mod moderation;
pub(crate) mod placeholders;
pub(crate) mod rows;
mod signals;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::RankingSettings;
use paperboy_core::trending::{DEFAULT_MAX_AGE_DAYS, SignalWeights};
use sqlx::postgres::PgConnectOptions;

use crate::{Database, PgBackend, SqliteBackend, StoreError};
use backend::Backend;
use exec::Exec;

/// A Paperboy database on either backend: the one type that implements
/// every store trait ([`Database`]). Cheap to clone (the pools are shared).
#[derive(Clone, Debug)]
pub struct SqlStore {
    backend: Engine,
    ranking: RankingSettings,
    weights: SignalWeights,
    code_trending_days: u32,
}

/// The backend a [`SqlStore`] runs on.
#[derive(Clone, Debug)]
enum Engine {
    Sqlite(SqliteBackend),
    Postgres(PgBackend),
}

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    let lower = location.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// Opens the database at `location` and applies its migrations:
/// `postgres://user:password@host:port/database` (or `postgresql://…`; a
/// unix socket directory goes in `?host=/run/postgresql`) for PostgreSQL,
/// anything else as the path of a SQLite file, created if missing.
pub async fn open(location: &str) -> Result<SqlStore, StoreError> {
    SqlStore::open(location).await
}

impl SqlStore {
    /// See [`open`].
    pub async fn open(location: &str) -> Result<Self, StoreError> {
        if is_postgres_url(location) {
            Self::open_postgres(location.trim()).await
        } else {
            Self::open_sqlite(Path::new(location)).await
        }
    }

    /// Opens (creating if needed) the SQLite file at `path`.
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        Ok(SqliteBackend::open(path).await?.into())
    }

    /// [`SqlStore::open_sqlite`] for `paperboy import`: a larger page cache,
    /// reads through a memory map, rarer checkpoints (`SqliteTuning::IMPORT`).
    pub async fn open_sqlite_for_import(path: &Path) -> Result<Self, StoreError> {
        Ok(SqliteBackend::open_tuned(path, crate::sqlite::SqliteTuning::IMPORT).await?.into())
    }

    /// A private in-memory SQLite database (tests and throwaway evaluation runs).
    pub async fn open_sqlite_in_memory() -> Result<Self, StoreError> {
        Ok(SqliteBackend::open_in_memory().await?.into())
    }

    /// Connects to the PostgreSQL database at `url`.
    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        Ok(PgBackend::open(url).await?.into())
    }

    /// [`SqlStore::open_postgres`] with options built by the caller.
    pub async fn open_postgres_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        Ok(PgBackend::open_with(options).await?.into())
    }

    /// `"sqlite"` or `"postgres"`, for logs and test names.
    pub fn backend_name(&self) -> &'static str {
        self.backend().name()
    }

    /// The SQLite backend, if this store is on SQLite (for its pool).
    pub fn sqlite(&self) -> Option<&SqliteBackend> {
        match &self.backend {
            Engine::Sqlite(b) => Some(b),
            Engine::Postgres(_) => None,
        }
    }

    /// The PostgreSQL backend, if this store is on PostgreSQL (for its pool).
    pub fn postgres(&self) -> Option<&PgBackend> {
        match &self.backend {
            Engine::Postgres(b) => Some(b),
            Engine::Sqlite(_) => None,
        }
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

    /// The same store weighing trending signals with `weights` (the
    /// defaults otherwise; `[ranking]` keys, docs/RANKING.md).
    pub fn with_signal_weights(mut self, weights: SignalWeights) -> Self {
        self.weights = weights;
        self
    }

    /// The signal weights in use.
    pub fn signal_weights(&self) -> SignalWeights {
        self.weights
    }

    /// The same store limiting the code-trending view to papers listed at
    /// most `days` ago (default [`DEFAULT_MAX_AGE_DAYS`]).
    pub fn with_code_trending_days(mut self, days: u32) -> Self {
        self.code_trending_days = days;
        self
    }

    /// The age limit of the code-trending view, in days.
    pub fn code_trending_days(&self) -> u32 {
        self.code_trending_days
    }

    /// This store as a `&dyn Database`, for code that takes the trait object.
    pub fn database(&self) -> &dyn Database {
        self
    }

    /// This store shared as the `Arc<dyn Database>` the web layer and the
    /// mail jobs keep.
    pub fn into_database(self) -> Arc<dyn Database> {
        Arc::new(self)
    }

    /// What the shared SQL asks of the backend.
    pub(crate) fn backend(&self) -> &dyn Backend {
        match &self.backend {
            Engine::Sqlite(b) => b,
            Engine::Postgres(b) => b,
        }
    }

    /// The backend's pool, for statements outside a transaction.
    pub(crate) fn pool(&self) -> Exec<'_> {
        self.backend().pool()
    }
}

impl SqlStore {
    fn new(backend: Engine) -> Self {
        SqlStore {
            backend,
            ranking: RankingSettings::default(),
            weights: SignalWeights::default(),
            code_trending_days: DEFAULT_MAX_AGE_DAYS,
        }
    }
}

impl From<SqliteBackend> for SqlStore {
    fn from(backend: SqliteBackend) -> Self {
        SqlStore::new(Engine::Sqlite(backend))
    }
}

impl From<PgBackend> for SqlStore {
    fn from(backend: PgBackend) -> Self {
        SqlStore::new(Engine::Postgres(backend))
    }
}

impl From<SqlStore> for Arc<dyn Database> {
    fn from(store: SqlStore) -> Self {
        store.into_database()
    }
}

/// Values per `IN (...)` lookup.
pub(crate) const LOOKUP_CHUNK: usize = 500;

/// `n` plain placeholders, comma-separated, for an `IN (...)` list.
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

/// Now, as [`fmt_ts`] stores it.
pub(crate) fn now_ts() -> String {
    fmt_ts(Utc::now())
}

/// The timestamp format of the catalog tables (seconds, as upserts write it).
pub(crate) fn paper_now(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
