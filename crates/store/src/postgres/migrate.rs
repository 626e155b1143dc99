//! The PostgreSQL migrations (`migrations/postgres/`, numbered like SQLite's
//! so the two schemas stay in step) and their runner: the rules of
//! [`crate::migrate`] (each file once, in order, in a transaction, recorded in
//! `schema_migrations`; a newer database refused), plus a session advisory
//! lock so that servers starting at the same time do not race.

use sqlx::{Connection, PgConnection};

use crate::StoreError;

/// (version, name, SQL) in the order they apply.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "papers", include_str!("../../migrations/postgres/0001_papers.sql")),
    (2, "paper_changes", include_str!("../../migrations/postgres/0002_paper_changes.sql")),
    (3, "community", include_str!("../../migrations/postgres/0003_community.sql")),
    (4, "mail", include_str!("../../migrations/postgres/0004_mail.sql")),
    (5, "harvest", include_str!("../../migrations/postgres/0005_harvest.sql")),
    (6, "coordination", include_str!("../../migrations/postgres/0006_coordination.sql")),
];

/// Advisory lock key held while migrating: "pbmigrat" in ASCII.
const MIGRATE_LOCK: i64 = 0x7062_6d69_6772_6174;

/// Applies every pending migration; returns how many ran.
pub(crate) async fn run(conn: &mut PgConnection) -> Result<usize, StoreError> {
    sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATE_LOCK).execute(&mut *conn).await?;
    let outcome = apply(conn).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATE_LOCK).execute(&mut *conn).await;
    let ran = outcome?;
    unlocked?;
    Ok(ran)
}

async fn apply(conn: &mut PgConnection) -> Result<usize, StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations").fetch_one(&mut *conn).await?;
    let current = current.unwrap_or(0);
    let known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if current > known {
        return Err(StoreError::TooNew { found: current, known });
    }
    let mut ran = 0;
    for &(version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(|source| StoreError::Migration { version, name, source })?;
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(version)
            .bind(name)
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, name, "applied migration (postgres)");
        ran += 1;
    }
    Ok(ran)
}
