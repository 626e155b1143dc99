//! Choosing a backend from a database location: [`open`] and [`AnyStore`].
//!
//! A location that starts with `postgres://` or `postgresql://` is a
//! PostgreSQL database ([`PgStore`], for several servers on one database);
//! anything else is the path of a SQLite file ([`SqliteStore`], the embedded
//! default), created if missing. [`AnyStore`] is either. It does not
//! implement the store traits itself: it dereferences to the backend it holds
//! as a [`dyn Database`](Database), so `store.get_paper(..)` goes straight to
//! that backend; [`AnyStore::database`] lends it to code that takes a
//! [`Store`](crate::Store) (or any other of the traits), and
//! [`AnyStore::into_database`] (or `Arc::from`) turns it into the
//! `Arc<dyn Database>` the web layer and the mail jobs hold. Match on the
//! enum to reach a backend's own API, such as its connection pool.

use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use paperboy_core::RankingSettings;

use crate::{Database, PgStore, SqliteStore, StoreError};

/// A store on either backend; see [`open`].
#[derive(Clone, Debug)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
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
pub async fn open(location: &str) -> Result<AnyStore, StoreError> {
    if is_postgres_url(location) {
        Ok(AnyStore::Postgres(PgStore::open(location.trim()).await?))
    } else {
        Ok(AnyStore::Sqlite(SqliteStore::open(Path::new(location)).await?))
    }
}

impl AnyStore {
    /// `"sqlite"` or `"postgres"`, for logs and test names.
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }

    /// The same store ranking `trending` feeds with `params` (see docs/RANKING.md).
    pub fn with_ranking(self, params: RankingSettings) -> Self {
        match self {
            AnyStore::Sqlite(s) => AnyStore::Sqlite(s.with_ranking(params)),
            AnyStore::Postgres(s) => AnyStore::Postgres(s.with_ranking(params)),
        }
    }

    /// The backend this store holds, as a [`Database`]: what to pass to a
    /// function that takes a `&dyn Store` (or another of the traits) or is
    /// generic over them. Method calls reach it through `Deref` already.
    pub fn database(&self) -> &dyn Database {
        match self {
            AnyStore::Sqlite(s) => s,
            AnyStore::Postgres(s) => s,
        }
    }

    /// The backend this store holds, shared as the `Arc<dyn Database>` the web
    /// layer and the mail jobs keep.
    pub fn into_database(self) -> Arc<dyn Database> {
        match self {
            AnyStore::Sqlite(s) => Arc::new(s),
            AnyStore::Postgres(s) => Arc::new(s),
        }
    }
}

impl Deref for AnyStore {
    type Target = dyn Database;

    fn deref(&self) -> &Self::Target {
        self.database()
    }
}

impl From<AnyStore> for Arc<dyn Database> {
    fn from(store: AnyStore) -> Self {
        store.into_database()
    }
}

impl From<SqliteStore> for AnyStore {
    fn from(store: SqliteStore) -> Self {
        AnyStore::Sqlite(store)
    }
}

impl From<PgStore> for AnyStore {
    fn from(store: PgStore) -> Self {
        AnyStore::Postgres(store)
    }
}
