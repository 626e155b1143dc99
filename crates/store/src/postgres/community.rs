//! PostgreSQL's hooks for [`Community`](crate::Community), whose
//! implementation both backends share (`community_impl.rs`, the same
//! statements with `$N` placeholders).
//!
//! What PostgreSQL needs besides: a vote change locks the paper's row first
//! (`SELECT … FOR UPDATE`), so concurrent toggles from any number of servers
//! queue per paper and `upvotes` always equals the votes rows; a submission
//! and hiding a paper append to the change feed, so they hold the catalog
//! lock ([`super::CATALOG_LOCK`], taken by [`PgStore::begin_catalog_write`]);
//! one-time links are spent by a conditional `UPDATE`, which only one of two
//! concurrent callers can win.

use paperboy_core::UserId;
use sqlx::{PgConnection, Postgres, Transaction};

use super::PgStore;
use crate::StoreError;

impl PgStore {
    /// A transaction that writes but leaves the change feed alone: no lock of
    /// its own (PostgreSQL has many writers; row locks and conditional
    /// statements keep them apart).
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'_, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// Run first in every vote change. The paper's row is locked until the
    /// transaction ends: every change to its votes waits here, on whichever
    /// server it runs. Fails with `PaperNotFound` for unknown or hidden papers.
    pub(crate) async fn lock_paper_for_vote(conn: &mut PgConnection, paper: &str) -> Result<(), StoreError> {
        let visible: Option<i64> =
            sqlx::query_scalar("SELECT pk FROM papers WHERE paper_id = $1 AND hidden_at IS NULL FOR UPDATE")
                .bind(paper)
                .fetch_optional(&mut *conn)
                .await?;
        if visible.is_none() {
            return Err(StoreError::PaperNotFound { paper_id: paper.to_string() });
        }
        Ok(())
    }

    /// Run first in a submission; `false` when the member does not exist.
    /// The member must exist (and stays, for this transaction). A key-share
    /// lock only: it never waits for, or blocks, the member's votes.
    pub(crate) async fn hold_member(conn: &mut PgConnection, user: UserId) -> Result<bool, StoreError> {
        let member: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1 FOR KEY SHARE")
            .bind(user.0)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(member.is_some())
    }
}
