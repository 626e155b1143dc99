//! Embedded schema migrations.
//!
//! Each migration is a SQL file compiled into the binary and applied once, in
//! order, inside a transaction, and recorded in `schema_migrations`. A database
//! from a newer build is refused rather than misread.
//!
//! The loop that does it is written once, as the macro `migrator!`, and
//! expanded here for SQLite's list ([`SQLITE`], by [`run_sqlite`]) and in
//! `postgres/migrate.rs` for PostgreSQL's (which runs it under a session
//! advisory lock).

use crate::sql_common::as_written;
use sqlx::SqliteConnection;

/// (version, name, SQL) in the order they apply.
pub const SQLITE: &[(i64, &str, &str)] = &[
    (1, "papers", include_str!("../migrations/sqlite/0001_papers.sql")),
    (2, "paper_changes", include_str!("../migrations/sqlite/0002_paper_changes.sql")),
    (3, "community", include_str!("../migrations/sqlite/0003_community.sql")),
    (4, "mail", include_str!("../migrations/sqlite/0004_mail.sql")),
    (5, "harvest", include_str!("../migrations/sqlite/0005_harvest.sql")),
    (6, "coordination", include_str!("../migrations/sqlite/0006_coordination.sql")),
];

/// The table that records applied migrations (the same on both backends).
pub(crate) const CREATE_SCHEMA_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
     (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

/// Binds: version, name, applied at.
pub(crate) const RECORD_MIGRATION: &str = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)";

/// Defines `$vis async fn $name(conn: &mut $conn) -> Result<usize, StoreError>`,
/// which applies every migration of `migrations` newer than the database's
/// version, each in its own transaction, recording it with
/// [`RECORD_MIGRATION`] through `sql` (placeholder style of the backend) and
/// logging `log`; it returns how many ran, and refuses a database newer than
/// the list.
macro_rules! migrator {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($conn:ty),
        migrations: $list:path,
        sql: $sql:path,
        log: $log:literal $(,)?
    ) => {
        $(#[$meta])*
        $vis async fn $name(conn: &mut $conn) -> Result<usize, $crate::StoreError> {
            sqlx::raw_sql($crate::migrate::CREATE_SCHEMA_MIGRATIONS).execute(&mut *conn).await?;
            let current: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations").fetch_one(&mut *conn).await?;
            let current = current.unwrap_or(0);
            let known = $list.last().map(|m| m.0).unwrap_or(0);
            if current > known {
                return Err($crate::StoreError::TooNew { found: current, known });
            }
            let mut ran = 0;
            for &(version, name, sql) in $list.iter().filter(|m| m.0 > current) {
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                sqlx::raw_sql(sql)
                    .execute(&mut *tx)
                    .await
                    .map_err(|source| $crate::StoreError::Migration { version, name, source })?;
                sqlx::query(&$sql($crate::migrate::RECORD_MIGRATION))
                    .bind(version)
                    .bind(name)
                    .bind(chrono::Utc::now().to_rfc3339())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                tracing::info!(version, name, $log);
                ran += 1;
            }
            Ok(ran)
        }
    };
}
pub(crate) use migrator;

migrator!(
    /// Applies every pending migration; returns how many ran.
    pub fn run_sqlite(SqliteConnection),
    migrations: SQLITE,
    sql: as_written,
    log: "applied migration",
);
