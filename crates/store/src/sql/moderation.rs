//! [`Moderation`] in portable SQL: roles, suspensions, hiding comments and
//! papers, and the admin's view of papers and feeds (`paper_as` / `feed_as`
//! of `catalog.rs`). Hiding a paper appends to the change feed, so it runs
//! in the backend's `begin_catalog_write`; suspending deletes the member's
//! sessions in the same `begin_write` transaction. Role changes,
//! suspensions and hidden or shown comments append to the community change
//! feed in their transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{CommentId, PaperId, Role, UserId};

use super::exec::Query;
use super::rows::Cells;
use super::{SqlStore, now_ts, paper_now};
use crate::{Audience, CommunityKind, FeedPage, FeedQuery, Moderation, StoreError, StoredPaper};

#[async_trait]
impl Moderation for SqlStore {
    async fn set_role(&self, id: UserId, role: Role) -> Result<(), StoreError> {
        let mut tx = self.backend().begin_write().await?;
        let n = Query::new("UPDATE users SET is_admin = ? WHERE id = ?")
            .bind(role.is_admin())
            .bind(id.0)
            .execute(&mut tx)
            .await?;
        if n == 0 {
            return Err(StoreError::UserNotFound(id));
        }
        // Their profile shows the role.
        Self::record_community(&mut tx, CommunityKind::Member, None, Some(id)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_suspended(&self, id: UserId, suspended: bool) -> Result<(), StoreError> {
        let mut tx = self.backend().begin_write().await?;
        let n = if suspended {
            let n = Query::new("UPDATE users SET suspended_at = COALESCE(suspended_at, ?) WHERE id = ?")
                .bind(now_ts())
                .bind(id.0)
                .execute(&mut tx)
                .await?;
            Query::new("DELETE FROM sessions WHERE user_id = ?").bind(id.0).execute(&mut tx).await?;
            n
        } else {
            Query::new("UPDATE users SET suspended_at = NULL WHERE id = ?").bind(id.0).execute(&mut tx).await?
        };
        if n == 0 {
            return Err(StoreError::UserNotFound(id));
        }
        // Their profile says so on every server.
        Self::record_community(&mut tx, CommunityKind::Member, None, Some(id)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_comment_hidden(&self, comment: CommentId, hidden: bool) -> Result<(), StoreError> {
        let mut tx = self.backend().begin_write().await?;
        let n = if hidden {
            Query::new("UPDATE comments SET hidden_at = COALESCE(hidden_at, ?) WHERE id = ?")
                .bind(now_ts())
                .bind(comment.0)
                .execute(&mut tx)
                .await?
        } else {
            Query::new("UPDATE comments SET hidden_at = NULL WHERE id = ?").bind(comment.0).execute(&mut tx).await?
        };
        if n == 0 {
            return Err(StoreError::CommentNotFound(comment));
        }
        // Every server's cached copies of the discussion are dropped.
        Self::record_comment_change(&mut tx, comment).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn paper_for(&self, id: &PaperId, audience: Audience) -> Result<Option<StoredPaper>, StoreError> {
        self.paper_as(id, audience).await
    }

    async fn feed_for(
        &self,
        query: &FeedQuery,
        audience: Audience,
        now: DateTime<Utc>,
    ) -> Result<FeedPage, StoreError> {
        self.feed_as(query, audience, now).await
    }

    async fn set_paper_hidden(&self, paper: &PaperId, hidden: bool) -> Result<(), StoreError> {
        let id = paper.to_string();
        let now = now_ts();
        let mut tx = self.backend().begin_catalog_write().await?;
        let changed = if hidden {
            Query::new("UPDATE papers SET hidden_at = ? WHERE paper_id = ? AND hidden_at IS NULL")
                .bind(&now)
                .bind(&id)
                .execute(&mut tx)
                .await?
        } else {
            Query::new("UPDATE papers SET hidden_at = NULL WHERE paper_id = ? AND hidden_at IS NOT NULL")
                .bind(&id)
                .execute(&mut tx)
                .await?
        };
        if changed > 0 && !hidden {
            // Shown again, it may wait for vectors below where claims look.
            let pk = Query::new("SELECT pk FROM papers WHERE paper_id = ?").bind(&id).fetch_one(&mut tx).await?.int(0);
            super::embeddings::waits_again(&mut tx, pk).await?;
        }
        if changed > 0 {
            // Followers (the search index) drop a hidden paper and take a shown one back.
            Self::record_change(&mut tx, &id, &paper_now(Utc::now())).await?;
        } else {
            let n =
                Query::new("SELECT COUNT(*) FROM papers WHERE paper_id = ?").bind(&id).fetch_one(&mut tx).await?.int(0);
            if n == 0 {
                return Err(StoreError::PaperNotFound { paper_id: id });
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
