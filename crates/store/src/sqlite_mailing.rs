//! SQLite's hooks for [`Mailing`](crate::Mailing), whose implementation both
//! backends share (`mailing_impl.rs`; statements and row decoders in
//! `sql_mailing.rs`).
//!
//! SQLite has one writer at a time and takes its write lock at a
//! transaction's first write, so transactions that must not interleave start
//! with a write and need no locks of their own. Claiming is one
//! `UPDATE … WHERE id IN (SELECT …)` that sets the owner and expiry of the
//! lease, then reads the leased rows back in the same transaction.

use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

use crate::sql_mailing::{DUE_ROWS, LEASE_SET, MAIL_COLUMNS};
use crate::{SqliteStore, StoreError};

impl SqliteStore {
    /// Run first in a subscribe: nothing to lock. The insert that follows is a
    /// write first, so the transaction holds the write lock before the "a
    /// member has one subscription" check runs.
    pub(crate) async fn lock_for_subscribe(_conn: &mut SqliteConnection) -> Result<(), StoreError> {
        Ok(())
    }

    /// Run first when adding a saved search: nothing to lock (always `true`;
    /// the insert finds out whether the subscriber exists). The insert comes
    /// first (it takes the write lock) and the count after it, so concurrent
    /// adds cannot both slip under the limit.
    pub(crate) async fn lock_subscriber_for_search(_conn: &mut SqliteConnection, _id: i64) -> Result<bool, StoreError> {
        Ok(true)
    }

    /// Leases up to `limit` due rows to `owner` until `until` and returns
    /// them ([`MAIL_COLUMNS`], by id): one `UPDATE` of the due rows (a write,
    /// so no other sender runs between its choice and its lease), then the
    /// rows leased, read back by owner and expiry in the same transaction.
    pub(crate) async fn claim_rows(
        &self,
        owner: &str,
        now: &str,
        until: &str,
        limit: u32,
    ) -> Result<Vec<SqliteRow>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!("{LEASE_SET} WHERE id IN ({DUE_ROWS})"))
            .bind(owner)
            .bind(until)
            .bind(now)
            .bind(now)
            .bind(i64::from(limit))
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "SELECT {MAIL_COLUMNS} FROM outbox WHERE state = 'pending' AND lease_owner = ? AND lease_until = ? \
             ORDER BY id"
        );
        let rows = sqlx::query(&sql).bind(owner).bind(until).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }
}
