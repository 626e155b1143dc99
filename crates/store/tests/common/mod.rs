//! The store's test backends: every store test runs once on SQLite (a file in
//! a temporary directory) and once on PostgreSQL (a fresh database, created
//! for the test and dropped after it, on the server at `PAPERBOY_TEST_PG_URL`).
//! The databases come from `paperboy_test_support::db`; this file opens the
//! store on them.
//!
//! `on_both_backends!(name, …)` turns each `async fn name(db: TestDb)` into
//! two tests, `name::sqlite` and `name::postgres`. Without
//! `PAPERBOY_TEST_PG_URL` the PostgreSQL half says so and passes, except
//! under `CI=true`, where it fails: `scripts/test.sh` starts a server and
//! sets the variable.

#![allow(dead_code)]

use paperboy_store::{PgBackend, SqlStore, SqliteBackend};
use paperboy_test_support::db::{PgDatabase, SqliteFile};

/// A fresh, empty store on one backend, and what it takes to open it again.
pub struct TestDb {
    pub store: SqlStore,
    place: Place,
}

enum Place {
    Sqlite(SqliteFile),
    Postgres(PgDatabase),
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let file = SqliteFile::new();
        let store = SqliteBackend::open(file.path()).await.unwrap().into();
        TestDb { store, place: Place::Sqlite(file) }
    }

    /// A new database on the test server; `None` when there is no server.
    pub async fn postgres() -> Option<TestDb> {
        let db = PgDatabase::create("t")?;
        let store = PgBackend::open_with(db.options()).await.unwrap().into();
        Some(TestDb { store, place: Place::Postgres(db) })
    }

    /// A fresh, empty store on the same backend.
    pub async fn another(&self) -> TestDb {
        match self.place {
            Place::Sqlite { .. } => TestDb::sqlite().await,
            Place::Postgres { .. } => TestDb::postgres().await.expect("the server was there a moment ago"),
        }
    }

    /// Another store (its own connection pool) on the same database.
    pub async fn reopen(&self) -> SqlStore {
        match &self.place {
            Place::Sqlite(file) => SqliteBackend::open(file.path()).await.unwrap().into(),
            Place::Postgres(db) => PgBackend::open_with(db.options()).await.unwrap().into(),
        }
    }

    /// `n` handles for concurrent writers, as a deployment has them: on
    /// PostgreSQL each its own pool (as several servers would), on SQLite
    /// clones of one store (one process per file; see `SqlStore::begin_write`).
    pub async fn handles(&self, n: usize) -> Vec<SqlStore> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(match self.place {
                Place::Sqlite { .. } => self.store.clone(),
                Place::Postgres { .. } => self.reopen().await,
            });
        }
        out
    }

    /// The URL of this test's PostgreSQL database (`None` on SQLite): the
    /// server's URL with the database name swapped.
    pub fn pg_url(&self) -> Option<String> {
        let Place::Postgres(db) = &self.place else { return None };
        Some(db.url.clone())
    }

    /// How many migrations this backend has.
    pub fn migrations(&self) -> usize {
        match self.store.sqlite() {
            Some(_) => paperboy_store::SQLITE_MIGRATIONS.len(),
            None => paperboy_store::POSTGRES_MIGRATIONS.len(),
        }
    }

    /// The one integer a query without parameters returns.
    pub async fn count(&self, sql: &str) -> i64 {
        match (self.store.sqlite(), self.store.postgres()) {
            (Some(s), _) => sqlx::query_scalar(sql).fetch_one(s.pool()).await.unwrap(),
            (_, Some(p)) => sqlx::query_scalar(sql).fetch_one(p.pool()).await.unwrap(),
            (None, None) => unreachable!("a store is on one of the two backends"),
        }
    }

    /// The one text a query without parameters returns.
    pub async fn text(&self, sql: &str) -> String {
        match (self.store.sqlite(), self.store.postgres()) {
            (Some(s), _) => sqlx::query_scalar(sql).fetch_one(s.pool()).await.unwrap(),
            (_, Some(p)) => sqlx::query_scalar(sql).fetch_one(p.pool()).await.unwrap(),
            (None, None) => unreachable!("a store is on one of the two backends"),
        }
    }
}

/// Runs each `async fn name(db: TestDb)` as `name::sqlite` and `name::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$name(crate::common::TestDb::sqlite().await).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    if let Some(db) = crate::common::TestDb::postgres().await {
                        super::$name(db).await
                    }
                }
            }
        )*
    };
}
