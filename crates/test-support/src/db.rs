//! Test databases: a SQLite file in a temporary directory ([`SqliteFile`])
//! and a fresh PostgreSQL database ([`PgDatabase`]) on the server that
//! `PAPERBOY_TEST_PG_URL` names, created for one test and dropped after it.
//! Without that variable a PostgreSQL test is skipped with a note, except
//! under `CI=true`, where it fails ([`crate::require`]); `scripts/test.sh`
//! starts a server and sets it.
//!
//! Neither opens a store: they hand out a path, a URL and connection
//! options, and the test opens what it tests (the store crate's tests its
//! backends, the CLI tests the `paperboy` binary).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use tempfile::TempDir;

/// The variable that names the PostgreSQL server the tests may use
/// (`postgres://user@host:port/postgres`, any database of it).
pub const PG_URL_VAR: &str = "PAPERBOY_TEST_PG_URL";

/// `paperboy.db` in a new temporary directory, which lives as long as this.
pub struct SqliteFile {
    dir: TempDir,
    path: PathBuf,
}

impl SqliteFile {
    /// The path of a database file not created yet (opening it creates it).
    pub fn new() -> SqliteFile {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("paperboy.db");
        SqliteFile { dir, path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary directory, to keep as long as the file is used.
    pub fn into_dir(self) -> TempDir {
        self.dir
    }
}

impl Default for SqliteFile {
    fn default() -> Self {
        SqliteFile::new()
    }
}

/// A database of its own on the test server, dropped (with whatever still
/// uses it) when this is dropped.
pub struct PgDatabase {
    /// Boxed: the options are large, and callers keep this in enums.
    server: Box<PgConnectOptions>,
    /// The database's name, `PREFIX_…`.
    pub name: String,
    /// The URL of the database: the server's URL with the name swapped in.
    pub url: String,
}

/// The server's URL, or `None` (after the note of [`crate::require::missing`]).
fn server_url() -> Option<String> {
    match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_string()),
        _ => crate::require::missing(&format!(
            "no PostgreSQL server: {PG_URL_VAR} is not set (scripts/test.sh starts a server and sets it; or point it \
             at one, postgres://user@host:port/postgres)"
        )),
    }
}

/// `server_url` naming the database `name` (query options kept).
fn database_url(server_url: &str, name: &str) -> String {
    let (base, query) = server_url.split_once('?').map_or((server_url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_end..].find('/').map_or(base.len(), |i| authority_end + i);
    let url = format!("{}/{name}", &base[..path_start]);
    query.map_or(url.clone(), |q| format!("{url}?{q}"))
}

/// Runs `sql` on the server's own database, on a thread with its own
/// runtime: callers may be sync tests, async tests, or `Drop`.
fn admin(server: &PgConnectOptions, sql: String) -> Result<(), sqlx::Error> {
    let server = server.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        rt.block_on(async {
            let mut conn = PgConnection::connect_with(&server).await?;
            sqlx::raw_sql(&sql).execute(&mut conn).await?;
            conn.close().await.ok();
            Ok(())
        })
    })
    .join()
    .expect("the admin thread")
}

impl PgDatabase {
    /// A new, empty database named `PREFIX_<pid>_<n>_<time>`; `None` when no
    /// server is configured (see the module documentation).
    pub fn create(prefix: &str) -> Option<PgDatabase> {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let url = server_url()?;
        let server = PgConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("{PG_URL_VAR} is not a PostgreSQL URL ({e}): {url}"));
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}_{}_{n}_{}", std::process::id(), stamp % 1_000_000_000);
        admin(&server, format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create a database on the server at {PG_URL_VAR} ({url}): {e}"));
        Some(PgDatabase { url: database_url(&url, &name), server: Box::new(server), name })
    }

    /// Options for connecting to this database.
    pub fn options(&self) -> PgConnectOptions {
        (*self.server).clone().database(&self.name)
    }

    /// One result of `sql` as `psql -tA` prints it (rows on lines, columns
    /// joined by `|`, booleans `t`/`f`), trimmed. Needs `psql` on the PATH.
    pub fn query(&self, sql: &str) -> String {
        let out = Command::new("psql").args([self.url.as_str(), "-tA", "-c", sql]).output().expect("run psql");
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if admin(&self.server, sql).is_err() {
            eprintln!("could not drop the test database {}; drop it by hand", self.name);
        }
    }
}
