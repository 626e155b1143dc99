//! The store's test backends: every store test runs once on SQLite (a file in
//! a temporary directory) and once on PostgreSQL (a fresh database, created
//! for the test and dropped after it, on the server at `PAPERBOY_TEST_PG_URL`).
//!
//! `on_both_backends!(name, …)` turns each `async fn name(db: TestDb)` into
//! two tests, `name::sqlite` and `name::postgres`. Without
//! `PAPERBOY_TEST_PG_URL` the PostgreSQL half says so and passes, except
//! under `CI=true`, where it fails: `scripts/test.sh` starts a server and
//! sets the variable.

#![allow(dead_code)]

use std::path::PathBuf;
use std::str::FromStr;

use paperboy_store::{PgBackend, SqlStore, SqliteBackend};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

/// The variable that names the PostgreSQL server the tests may use.
pub const PG_URL_VAR: &str = "PAPERBOY_TEST_PG_URL";

/// A fresh, empty store on one backend, and what it takes to open it again.
pub struct TestDb {
    pub store: SqlStore,
    place: Place,
}

enum Place {
    Sqlite { _dir: tempfile::TempDir, path: PathBuf },
    Postgres { server: Box<PgConnectOptions>, name: String },
}

/// The server's options, `None` (with a note) when no server is configured.
fn pg_server() -> Option<PgConnectOptions> {
    match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => {
            let options = PgConnectOptions::from_str(url.trim())
                .unwrap_or_else(|e| panic!("{PG_URL_VAR} is not a PostgreSQL URL ({e}): {url}"));
            Some(options)
        }
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "{PG_URL_VAR} is not set, and CI=true requires the PostgreSQL tests: run scripts/test.sh, which starts \
             a server, or point {PG_URL_VAR} at one (postgres://user@host:port/postgres)"
        ),
        _ => {
            eprintln!(
                "skipping the PostgreSQL half of this test: {PG_URL_VAR} is not set (scripts/test.sh starts a \
                 server and sets it)"
            );
            None
        }
    }
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("paperboy.db");
        let store = SqliteBackend::open(&path).await.unwrap().into();
        TestDb { store, place: Place::Sqlite { _dir: dir, path } }
    }

    /// A new database on the test server; `None` when there is no server.
    pub async fn postgres() -> Option<TestDb> {
        let server = pg_server()?;
        let name = format!("t_{}", &paperboy_store::secret::random_hex().unwrap()[..20]);
        let mut admin = PgConnection::connect_with(&server)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the server at {PG_URL_VAR}: {e}"));
        sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
        admin.close().await.ok();
        let store = PgBackend::open_with(server.clone().database(&name)).await.unwrap().into();
        Some(TestDb { store, place: Place::Postgres { server: Box::new(server), name } })
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
            Place::Sqlite { path, .. } => SqliteBackend::open(path).await.unwrap().into(),
            Place::Postgres { server, name } => {
                PgBackend::open_with((**server).clone().database(name)).await.unwrap().into()
            }
        }
    }

    /// `n` handles for concurrent writers, as a deployment has them: on
    /// PostgreSQL each its own pool (as several servers would), on SQLite
    /// clones of one store (one process per file; see `SqliteBackend::begin_write`).
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
        let Place::Postgres { name, .. } = &self.place else { return None };
        let server = std::env::var(PG_URL_VAR).ok()?;
        let (base, query) = server.trim().split_once('?').map_or((server.trim(), None), |(b, q)| (b, Some(q)));
        let authority_end = base.find("://").map(|i| i + 3)?;
        let path_start = base[authority_end..].find('/').map_or(base.len(), |i| authority_end + i);
        let url = format!("{}/{name}", &base[..path_start]);
        Some(query.map_or(url.clone(), |q| format!("{url}?{q}")))
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

impl Drop for TestDb {
    /// Drops a test's PostgreSQL database (closing whatever still uses it).
    fn drop(&mut self) {
        let Place::Postgres { server, name } = &self.place else { return };
        let (server, drop_sql) = ((**server).clone(), format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        // On a thread of its own: drop may run inside the test's runtime.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let mut admin = PgConnection::connect_with(&server).await.ok()?;
                sqlx::raw_sql(&drop_sql).execute(&mut admin).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop the test database {name}; drop it by hand");
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
