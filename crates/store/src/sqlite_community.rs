//! SQLite's hooks for [`Community`](crate::Community), whose implementation
//! both backends share (`community_impl.rs`).
//!
//! Transactions that read and then write start with a write (SQLite takes
//! its write lock at the first write; a transaction that read first could
//! not upgrade while another connection writes), and every write transaction
//! of this process waits its turn in [`SqliteStore::begin_write`]'s queue, so
//! vote changes, submissions and hiding need no locks of their own.

use paperboy_core::UserId;
use sqlx::SqliteConnection;

use crate::sqlite::WriteTx;
use crate::{SqliteStore, StoreError};

impl SqliteStore {
    /// A write transaction that may append to the change feed. SQLite has one
    /// writer at a time and this process's writers queue in
    /// [`SqliteStore::begin_write`], so catalog writers already take turns.
    pub(crate) async fn begin_catalog_write(&self) -> Result<WriteTx<'_>, StoreError> {
        self.begin_write().await
    }

    /// Run first in every vote change: nothing to lock, the transaction
    /// (from [`SqliteStore::begin_write`]) is the only writer, so votes and
    /// `upvotes` change together.
    pub(crate) async fn lock_paper_for_vote(_conn: &mut SqliteConnection, _paper: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// Run first in a submission; `false` when the member does not exist.
    /// A write first: it takes SQLite's write lock before anything is read,
    /// and it checks that the member exists.
    pub(crate) async fn hold_member(conn: &mut SqliteConnection, user: UserId) -> Result<bool, StoreError> {
        let member = sqlx::query("UPDATE users SET id = id WHERE id = ?")
            .bind(user.0)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        Ok(member > 0)
    }
}
