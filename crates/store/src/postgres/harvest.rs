//! PostgreSQL's hook for [`Harvests`](crate::Harvests), whose implementation
//! both backends share (`../harvest_impl.rs`, the statements of
//! `sql_harvest.rs` with `$N` placeholders).
//!
//! Starting a run holds a transaction advisory lock ([`HARVEST_LOCK`]) from
//! before its insert until commit, so starts from several servers take
//! turns as SQLite's single writer makes them: each sees the runs started
//! before it, and two cannot both take over the same checkpoint.

use sqlx::PgConnection;

use crate::StoreError;

use super::PgStore;

/// Advisory lock key held (until commit) while a run starts: "pbharvst" in ASCII.
const HARVEST_LOCK: i64 = 0x7062_6861_7276_7374;

impl PgStore {
    /// Run first when a run starts, before its insert: takes [`HARVEST_LOCK`]
    /// until commit, so starts from any server take turns.
    pub(crate) async fn lock_harvest_start(conn: &mut PgConnection) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(HARVEST_LOCK).execute(&mut *conn).await?;
        Ok(())
    }
}
