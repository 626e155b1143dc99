//! Embedded schema migrations.
//!
//! Each migration is a SQL file compiled into the binary and applied once, in
//! order, inside a transaction, and recorded in `schema_migrations`. A database
//! from a newer build is refused rather than misread.

use sqlx::{Connection, SqliteConnection};

use crate::StoreError;

/// (version, name, SQL) in the order they apply.
pub const SQLITE: &[(i64, &str, &str)] = &[
    (1, "papers", include_str!("../migrations/sqlite/0001_papers.sql")),
    (2, "paper_changes", include_str!("../migrations/sqlite/0002_paper_changes.sql")),
    (3, "community", include_str!("../migrations/sqlite/0003_community.sql")),
    (4, "mail", include_str!("../migrations/sqlite/0004_mail.sql")),
    (5, "harvest", include_str!("../migrations/sqlite/0005_harvest.sql")),
    (6, "coordination", include_str!("../migrations/sqlite/0006_coordination.sql")),
];

/// Applies every pending migration; returns how many ran.
pub async fn run_sqlite(conn: &mut SqliteConnection) -> Result<usize, StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations").fetch_one(&mut *conn).await?;
    let current = current.unwrap_or(0);
    let known = SQLITE.last().map(|m| m.0).unwrap_or(0);
    if current > known {
        return Err(StoreError::TooNew { found: current, known });
    }
    let mut ran = 0;
    for &(version, name, sql) in SQLITE.iter().filter(|m| m.0 > current) {
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(|source| StoreError::Migration { version, name, source })?;
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
            .bind(version)
            .bind(name)
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, name, "applied migration");
        ran += 1;
    }
    Ok(ran)
}
