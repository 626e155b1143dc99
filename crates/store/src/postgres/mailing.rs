//! PostgreSQL's hooks for [`Mailing`](crate::Mailing), whose implementation
//! both backends share (`../mailing_impl.rs`, the statements of
//! `sql_mailing.rs` with `$N` placeholders).
//!
//! What PostgreSQL needs besides, having many writers where SQLite has one:
//! * a claim is one statement, `WITH due AS (SELECT … FOR UPDATE SKIP LOCKED),
//!   claimed AS (UPDATE … WHERE id IN due RETURNING …)`: senders on any number
//!   of servers lease disjoint rows without waiting for one another, and a
//!   row whose lease another sender took meanwhile is re-checked and skipped;
//! * subscribing holds a transaction advisory lock ([`SUBSCRIBE_LOCK`]), so
//!   the "a member has one subscription" check and the link it guards take
//!   turns, as on SQLite;
//! * adding a saved search locks the subscriber's row first, so concurrent
//!   adds cannot both slip under the limit.

use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use crate::StoreError;
use crate::sql_common::numbered;
use crate::sql_mailing::{DUE_ROWS, LEASE_SET, MAIL_COLUMNS};

use super::PgStore;

/// Advisory lock key held (until commit) by every subscribe: "pbmailin" in ASCII.
const SUBSCRIBE_LOCK: i64 = 0x7062_6d61_696c_696e;

impl PgStore {
    /// Run first in a subscribe: takes [`SUBSCRIBE_LOCK`] until commit, so
    /// subscribes from any server take turns.
    pub(crate) async fn lock_for_subscribe(conn: &mut PgConnection) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(SUBSCRIBE_LOCK).execute(&mut *conn).await?;
        Ok(())
    }

    /// Run first when adding a saved search; `false` when the subscriber does
    /// not exist. The subscriber's row is locked until commit: concurrent adds
    /// for one subscriber take turns, and each counts the others' rows.
    pub(crate) async fn lock_subscriber_for_search(conn: &mut PgConnection, id: i64) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM subscribers WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(found.is_some())
    }

    /// Leases up to `limit` due rows to `owner` until `until` and returns
    /// them ([`MAIL_COLUMNS`], by id), in one statement.
    pub(crate) async fn claim_rows(
        &self,
        owner: &str,
        now: &str,
        until: &str,
        limit: u32,
    ) -> Result<Vec<PgRow>, StoreError> {
        // The due rows are picked (and locked) once; rows other senders hold
        // locks on are skipped, and one whose lease was taken since this
        // statement began is re-checked against the conditions and dropped.
        let sql = numbered(&format!(
            "WITH due AS MATERIALIZED ({DUE_ROWS} FOR UPDATE SKIP LOCKED), \
             claimed AS ({LEASE_SET} WHERE id IN (SELECT id FROM due) RETURNING {MAIL_COLUMNS}) \
             SELECT {MAIL_COLUMNS} FROM claimed ORDER BY id"
        ));
        let rows = sqlx::query(&sql)
            .bind(now)
            .bind(now)
            .bind(i64::from(limit))
            .bind(owner)
            .bind(until)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows)
    }
}
