//! The migration loop both backends run at open: each migration of the
//! backend's list (`sqlite::MIGRATIONS`, `postgres::MIGRATIONS`) once, in
//! order, in a transaction, recorded in `schema_migrations`; a database from
//! a newer build is refused rather than misread. PostgreSQL runs it under a
//! session advisory lock (`postgres/mod.rs`).

use chrono::Utc;

use super::exec::{Exec, Query};
use super::rows::Cells;
use crate::StoreError;

/// A migration: (version, name, SQL), in the order they apply.
pub type Migration = (i64, &'static str, &'static str);

/// The table that records applied migrations (the same on both backends).
const CREATE_SCHEMA_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
     (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

/// Binds: version, name, applied at.
const RECORD_MIGRATION: &str = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)";

/// Applies every migration of `migrations` newer than the database's
/// version, on one connection; returns how many ran.
pub(crate) async fn apply(mut conn: Exec<'_>, migrations: &[Migration], backend: &str) -> Result<usize, StoreError> {
    conn.reborrow().run_script(CREATE_SCHEMA_MIGRATIONS).await?;
    let row = Query::new("SELECT MAX(version) FROM schema_migrations").fetch_one(conn.reborrow()).await?;
    let current = row.opt_int(0).unwrap_or(0);
    let known = migrations.last().map(|m| m.0).unwrap_or(0);
    if current > known {
        return Err(StoreError::TooNew { found: current, known });
    }
    let mut ran = 0;
    for &(version, name, sql) in migrations.iter().filter(|m| m.0 > current) {
        let mut tx = conn.reborrow().begin().await?;
        tx.exec().run_script(sql).await.map_err(|source| StoreError::Migration { version, name, source })?;
        Query::new(RECORD_MIGRATION).bind(version).bind(name).bind(Utc::now().to_rfc3339()).execute(&mut tx).await?;
        tx.commit().await?;
        tracing::info!(version, name, backend, "applied migration");
        ran += 1;
    }
    Ok(ran)
}
