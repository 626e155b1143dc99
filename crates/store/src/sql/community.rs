//! [`Community`] in portable SQL: votes, submissions, comments, reading
//! lists and profiles.
//!
//! What the backends supply (see [`Backend`](super::backend::Backend)):
//! `begin_write` (every vote change), `lock_paper_for_vote` (run first in
//! every vote change), `begin_catalog_write` and `hold_member` (a
//! submission, which changes the catalog with [`SqlStore::upsert_one`]).
//! Vote counts change in the same transaction as the votes table, so they
//! always agree.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::member::comment_body;
use paperboy_core::text::title_key;
use paperboy_core::{CommentId, Paper, PaperId, Role, UserId, Username};

use super::exec::{Query, Tx};
use super::rows::{
    COMMENT_SELECT, Cells, PAPER_COLUMN_COUNT, PAPER_COLUMNS, PAPER_FROM, SUBMITTER_JOIN, corrupt, row_to_comment,
    row_to_paper,
};
use super::{LOOKUP_CHUNK, SqlStore, fmt_ts, now_ts, paper_now, parse_ts, placeholders};
use crate::{
    Audience, Comment, CommentPage, Community, CommunityKind, FeedPage, MemberPapers, Profile, ReadingListEntry,
    StoreError, Submission, SubmitOutcome, Vote,
};

impl SqlStore {
    /// Changes one member's vote on one paper inside the caller's transaction:
    /// `want` is `Some(state)` to set it, `None` to toggle. Fails with
    /// `PaperNotFound` (and the caller rolls back) for unknown or hidden papers.
    async fn apply_vote(
        &self,
        tx: &mut Tx<'_>,
        user: UserId,
        paper: &str,
        want: Option<bool>,
    ) -> Result<Vote, StoreError> {
        self.backend().lock_paper_for_vote(tx, paper).await?;
        let now = now_ts();
        let mut delta = 0i64;
        if want != Some(true) {
            let removed = Query::new(
                "DELETE FROM votes WHERE user_id = ? AND paper_pk = (SELECT pk FROM papers WHERE paper_id = ?)",
            )
            .bind(user.0)
            .bind(paper)
            .execute(&mut *tx)
            .await?;
            delta -= removed as i64;
        }
        if delta == 0 && want != Some(false) {
            let added = Query::new(
                "INSERT INTO votes (user_id, paper_pk, created_at) SELECT ?, pk, ? FROM papers \
                 WHERE paper_id = ? AND hidden_at IS NULL ON CONFLICT DO NOTHING",
            )
            .bind(user.0)
            .bind(&now)
            .bind(paper)
            .execute(&mut *tx)
            .await?;
            delta += added as i64;
        }
        if delta != 0 {
            // The count and the answer in one statement: the vote row
            // was just added (or removed), so `voted` is known.
            let upvotes = Query::new(
                "UPDATE papers SET upvotes = upvotes + ? WHERE paper_id = ? AND hidden_at IS NULL \
                 RETURNING upvotes",
            )
            .bind(delta)
            .bind(paper)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.int(0));
            let upvotes = upvotes.ok_or_else(|| StoreError::PaperNotFound { paper_id: paper.to_string() })?;
            Self::record_community(tx, CommunityKind::Vote, Some(paper), Some(user)).await?;
            return Ok(Vote { upvotes, voted: delta > 0 });
        }
        // Nothing changed (a repeated vote, or a take-back of none): read the state.
        let row = Query::new(
            "SELECT p.upvotes, EXISTS (SELECT 1 FROM votes v WHERE v.user_id = ? AND v.paper_pk = p.pk) \
             FROM papers p WHERE p.paper_id = ? AND p.hidden_at IS NULL",
        )
        .bind(user.0)
        .bind(paper)
        .fetch_optional(&mut *tx)
        .await?;
        let row = row.ok_or_else(|| StoreError::PaperNotFound { paper_id: paper.to_string() })?;
        Ok(Vote { upvotes: row.int(0), voted: row.flag(1) })
    }

    async fn comment_by_id(&self, id: CommentId, audience: Audience) -> Result<Comment, StoreError> {
        let sql = format!("{COMMENT_SELECT} WHERE c.id = ?");
        let row = Query::new(sql).bind(id.0).fetch_optional(self.pool()).await?;
        row.map(|r| row_to_comment(&r, audience)).transpose()?.ok_or(StoreError::CommentNotFound(id))
    }

    /// Why an author-only change to comment `id` by `author` matched no row.
    async fn comment_refusal(&self, author: UserId, id: CommentId) -> StoreError {
        let row = Query::new("SELECT user_id, deleted_at, hidden_at FROM comments WHERE id = ?")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await;
        match row {
            Err(e) => e.into(),
            Ok(None) => StoreError::CommentNotFound(id),
            Ok(Some(r)) if r.int(0) != author.0 => StoreError::NotCommentAuthor(id),
            // A moderator hid it: its author may no longer change or remove
            // it (deleting would erase what the moderator acted on).
            Ok(Some(r)) if r.opt_text(1).is_none() && r.opt_text(2).is_some() => StoreError::CommentHidden(id),
            Ok(Some(_)) => StoreError::CommentNotFound(id),
        }
    }

    /// Appends a comment change for comment `id` (its paper and author) to
    /// the community change feed, inside the caller's transaction.
    pub(crate) async fn record_comment_change(tx: &mut Tx<'_>, id: CommentId) -> Result<(), sqlx::Error> {
        Query::new(
            "INSERT INTO community_changes (kind, paper_id, user_id, changed_at) \
             SELECT ?, p.paper_id, c.user_id, ? FROM comments c JOIN papers p ON p.pk = c.paper_pk WHERE c.id = ?",
        )
        .bind(CommunityKind::Comment.as_str())
        .bind(now_ts())
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Runs `update` (binds: body or deletion time, comment id, author) on
    /// comment `id` with its change record, in one transaction; `false`
    /// when no row matched (nothing written).
    async fn change_own_comment(
        &self,
        update: &'static str,
        first: String,
        id: CommentId,
        author: UserId,
        also: Option<String>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.backend().begin_write().await?;
        let mut q = Query::new(update).bind(first);
        if let Some(also) = also {
            q = q.bind(also);
        }
        let n = q.bind(id.0).bind(author.0).execute(&mut tx).await?;
        if n == 0 {
            return Ok(false);
        }
        Self::record_comment_change(&mut tx, id).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whether a paper exists and `audience` may see it.
    async fn paper_visible(&self, paper: &str) -> Result<bool, StoreError> {
        let n = Query::new("SELECT COUNT(*) FROM papers WHERE paper_id = ? AND hidden_at IS NULL")
            .bind(paper)
            .fetch_one(self.pool())
            .await?
            .int(0);
        Ok(n > 0)
    }
}

#[async_trait]
impl Community for SqlStore {
    async fn toggle_vote(&self, user: UserId, paper: &PaperId) -> Result<Vote, StoreError> {
        let mut tx = self.backend().begin_write().await?;
        let vote = self.apply_vote(&mut tx, user, &paper.to_string(), None).await?;
        tx.commit().await?;
        Ok(vote)
    }

    async fn set_vote(&self, user: UserId, paper: &PaperId, voted: bool) -> Result<Vote, StoreError> {
        let mut tx = self.backend().begin_write().await?;
        let vote = self.apply_vote(&mut tx, user, &paper.to_string(), Some(voted)).await?;
        tx.commit().await?;
        Ok(vote)
    }

    async fn voted_among(&self, user: UserId, papers: &[PaperId]) -> Result<Vec<PaperId>, StoreError> {
        let ids: Vec<String> = papers.iter().map(PaperId::to_string).collect();
        let mut found = std::collections::HashSet::new();
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let sql = format!(
                "SELECT p.paper_id FROM votes v JOIN papers p ON p.pk = v.paper_pk \
                 WHERE v.user_id = ? AND p.paper_id IN ({})",
                placeholders(chunk.len())
            );
            let mut q = Query::new(sql).bind(user.0);
            for id in chunk {
                q = q.bind(id);
            }
            found.extend(q.fetch_all(self.pool()).await?.iter().map(|r| r.text(0)));
        }
        Ok(papers.iter().filter(|p| found.contains(&p.to_string())).cloned().collect())
    }

    async fn submit_paper(&self, user: UserId, paper: &Paper, now: DateTime<Utc>) -> Result<Submission, StoreError> {
        let mut paper = paper.clone();
        paper.listed_on = now.date_naive();
        paper.normalize();
        paper.validate()?;
        let id = paper.id.to_string();
        let stamp = fmt_ts(now);
        let mut tx = self.backend().begin_catalog_write().await?;
        if !self.backend().hold_member(&mut tx, user).await? {
            return Err(StoreError::UserNotFound(user));
        }
        let existed = Self::find_existing(&mut tx, &paper, &title_key(&paper.title)).await?.is_some();
        Self::upsert_one(&mut tx, &paper, &paper_now(now)).await?;
        let outcome = if existed {
            SubmitOutcome::AlreadyListed
        } else {
            Query::new(
                "INSERT INTO submissions (paper_pk, user_id, submitted_at) SELECT pk, ?, ? FROM papers \
                 WHERE paper_id = ?",
            )
            .bind(user.0)
            .bind(&stamp)
            .bind(&id)
            .execute(&mut tx)
            .await?;
            SubmitOutcome::Submitted
        };
        // After a merge the paper lives under the arXiv id either way.
        let vote = self.apply_vote(&mut tx, user, &id, Some(true)).await?;
        tx.commit().await?;
        Ok(Submission { outcome, vote })
    }

    async fn add_comment(
        &self,
        author: UserId,
        paper: &PaperId,
        parent: Option<CommentId>,
        body: &str,
    ) -> Result<Comment, StoreError> {
        let body = comment_body(body)?;
        let paper_id = paper.to_string();
        if let Some(parent) = parent {
            let row = Query::new(
                "SELECT p.paper_id, c.parent_id, c.deleted_at, c.hidden_at FROM comments c \
                 JOIN papers p ON p.pk = c.paper_pk WHERE c.id = ?",
            )
            .bind(parent.0)
            .fetch_optional(self.pool())
            .await?;
            let why = match row {
                None => Some("there is no such comment"),
                Some(r) if r.text(0) != paper_id => Some("it is on another paper"),
                Some(r) if r.opt_int(1).is_some() => Some("it is a reply itself; reply to its parent"),
                Some(r) if r.opt_text(2).is_some() => Some("it was deleted"),
                Some(r) if r.opt_text(3).is_some() => Some("it was hidden by a moderator"),
                Some(_) => None,
            };
            if let Some(why) = why {
                return Err(StoreError::BadReply { parent, why });
            }
        }
        let mut tx = self.backend().begin_write().await?;
        let row = Query::new(
            "INSERT INTO comments (paper_pk, user_id, parent_id, body, created_at) \
             SELECT pk, ?, ?, ?, ? FROM papers WHERE paper_id = ? AND hidden_at IS NULL RETURNING id",
        )
        .bind(author.0)
        .bind(parent.map(|p| p.0))
        .bind(body)
        .bind(now_ts())
        .bind(&paper_id)
        .fetch_optional(&mut tx)
        .await;
        let row = match row {
            Ok(r) => r,
            Err(e) if e.as_database_error().is_some_and(|d| d.is_foreign_key_violation()) => {
                return Err(StoreError::UserNotFound(author));
            }
            Err(e) => return Err(e.into()),
        };
        let id = CommentId(row.ok_or(StoreError::PaperNotFound { paper_id })?.int(0));
        Self::record_comment_change(&mut tx, id).await?;
        tx.commit().await?;
        self.comment_by_id(id, Audience::Admin).await
    }

    async fn edit_comment(&self, author: UserId, comment: CommentId, body: &str) -> Result<Comment, StoreError> {
        let body = comment_body(body)?;
        let changed = self
            .change_own_comment(
                "UPDATE comments SET body = ?, edited_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL \
                 AND hidden_at IS NULL",
                body.to_string(),
                comment,
                author,
                Some(now_ts()),
            )
            .await?;
        if !changed {
            return Err(self.comment_refusal(author, comment).await);
        }
        self.comment_by_id(comment, Audience::Admin).await
    }

    async fn delete_comment(&self, author: UserId, comment: CommentId) -> Result<(), StoreError> {
        let changed = self
            .change_own_comment(
                "UPDATE comments SET body = '', deleted_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL \
                 AND hidden_at IS NULL",
                now_ts(),
                comment,
                author,
                None,
            )
            .await?;
        if !changed {
            return Err(self.comment_refusal(author, comment).await);
        }
        Ok(())
    }

    async fn comments(&self, paper: &PaperId, audience: Audience) -> Result<Vec<Comment>, StoreError> {
        crate::reads::paper(&paper.to_string());
        let hidden = if audience == Audience::Public { " AND p.hidden_at IS NULL" } else { "" };
        let sql = format!("{COMMENT_SELECT} WHERE p.paper_id = ?{hidden} ORDER BY c.id");
        let rows = Query::new(sql).bind(paper.to_string()).fetch_all(self.pool()).await?;
        rows.iter().map(|r| row_to_comment(r, audience)).collect()
    }

    async fn comment_page(
        &self,
        paper: &PaperId,
        audience: Audience,
        offset: u32,
        limit: u32,
    ) -> Result<CommentPage, StoreError> {
        let hidden = if audience == Audience::Public { " AND p.hidden_at IS NULL" } else { "" };
        // Hidden comments have text only for admins.
        let live = if audience == Audience::Public { " AND c.hidden_at IS NULL" } else { "" };
        let paper_id = paper.to_string();
        let counts = Query::new(format!(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN c.deleted_at IS NULL{live} THEN 1 ELSE 0 END), 0) \
             FROM comments c JOIN papers p ON p.pk = c.paper_pk WHERE p.paper_id = ?{hidden}"
        ))
        .bind(&paper_id)
        .fetch_one(self.pool())
        .await?;
        let (total, live) = (counts.int(0) as u64, counts.int(1) as u64);
        if u64::from(offset) >= total || limit == 0 {
            return Ok(CommentPage { comments: Vec::new(), total, live });
        }
        // A reply's id is always above its parent's, so ordering by the
        // thread's root and then by id puts each thread together, oldest first.
        let sql = format!(
            "{COMMENT_SELECT} WHERE p.paper_id = ?{hidden} ORDER BY COALESCE(c.parent_id, c.id), c.id LIMIT ? OFFSET ?"
        );
        let rows = Query::new(sql)
            .bind(&paper_id)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(self.pool())
            .await?;
        let comments = rows.iter().map(|r| row_to_comment(r, audience)).collect::<Result<Vec<_>, _>>()?;
        Ok(CommentPage { comments, total, live })
    }

    async fn comment_position(&self, id: CommentId, audience: Audience) -> Result<Option<(PaperId, u64)>, StoreError> {
        let hidden = if audience == Audience::Public { " AND p.hidden_at IS NULL" } else { "" };
        let sql = format!(
            "SELECT p.paper_id, (SELECT COUNT(*) FROM comments o WHERE o.paper_pk = c.paper_pk \
             AND (COALESCE(o.parent_id, o.id) < COALESCE(c.parent_id, c.id) \
             OR (COALESCE(o.parent_id, o.id) = COALESCE(c.parent_id, c.id) AND o.id < c.id))) \
             FROM comments c JOIN papers p ON p.pk = c.paper_pk WHERE c.id = ?{hidden}"
        );
        let Some(row) = Query::new(sql).bind(id.0).fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        let paper = PaperId::parse(&row.text(0)).map_err(|e| corrupt(&format!("comment {id}"), e.to_string()))?;
        Ok(Some((paper, row.int(1) as u64)))
    }

    async fn comments_since(
        &self,
        author: UserId,
        since: DateTime<Utc>,
    ) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
        let row = Query::new("SELECT COUNT(*), MIN(created_at) FROM comments WHERE user_id = ? AND created_at >= ?")
            .bind(author.0)
            .bind(fmt_ts(since))
            .fetch_one(self.pool())
            .await?;
        Ok((row.int(0) as u64, parse_ts(row.opt_text(1))))
    }

    async fn comment_counts(&self, papers: &[PaperId]) -> Result<Vec<(PaperId, u64)>, StoreError> {
        crate::reads::papers(papers);
        let ids: Vec<String> = papers.iter().map(PaperId::to_string).collect();
        let mut counts = std::collections::HashMap::new();
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let sql = format!(
                "SELECT p.paper_id, COUNT(*) FROM comments c JOIN papers p ON p.pk = c.paper_pk \
                 WHERE c.deleted_at IS NULL AND c.hidden_at IS NULL AND p.paper_id IN ({}) GROUP BY p.paper_id",
                placeholders(chunk.len())
            );
            let mut q = Query::new(sql);
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(self.pool()).await? {
                counts.insert(r.text(0), r.int(1) as u64);
            }
        }
        Ok(papers.iter().map(|p| (p.clone(), counts.get(&p.to_string()).copied().unwrap_or(0))).collect())
    }

    async fn add_to_reading_list(&self, user: UserId, paper: &PaperId) -> Result<bool, StoreError> {
        let id = paper.to_string();
        let n = Query::new(
            "INSERT INTO reading_list (user_id, paper_pk, added_at) SELECT ?, pk, ? FROM papers \
             WHERE paper_id = ? AND hidden_at IS NULL ON CONFLICT DO NOTHING",
        )
        .bind(user.0)
        .bind(now_ts())
        .bind(&id)
        .execute(self.pool())
        .await?;
        if n == 0 && !self.paper_visible(&id).await? {
            return Err(StoreError::PaperNotFound { paper_id: id });
        }
        Ok(n > 0)
    }

    async fn remove_from_reading_list(&self, user: UserId, paper: &PaperId) -> Result<bool, StoreError> {
        let n = Query::new(
            "DELETE FROM reading_list WHERE user_id = ? \
             AND paper_pk = (SELECT pk FROM papers WHERE paper_id = ?)",
        )
        .bind(user.0)
        .bind(paper.to_string())
        .execute(self.pool())
        .await?;
        Ok(n > 0)
    }

    async fn reading_list(&self, user: UserId) -> Result<Vec<ReadingListEntry>, StoreError> {
        let sql = format!(
            "SELECT {PAPER_COLUMNS}, r.added_at FROM reading_list r JOIN papers p ON p.pk = r.paper_pk \
             {SUBMITTER_JOIN} WHERE r.user_id = ? AND p.hidden_at IS NULL \
             ORDER BY r.added_at DESC, p.paper_id DESC"
        );
        let rows = Query::new(sql).bind(user.0).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let paper = row_to_paper(r)?;
                let added_at = parse_ts(r.opt_text(PAPER_COLUMN_COUNT))
                    .ok_or_else(|| corrupt(&paper.paper.id.to_string(), "reading list added_at".into()))?;
                Ok(ReadingListEntry { paper, added_at })
            })
            .collect()
    }

    async fn profile(&self, username: &Username) -> Result<Option<Profile>, StoreError> {
        let row = Query::new(
            "SELECT u.username, u.is_admin, u.created_at, u.suspended_at, \
             (SELECT COUNT(*) FROM submissions s JOIN papers p ON p.pk = s.paper_pk \
             WHERE s.user_id = u.id AND p.hidden_at IS NULL), \
             (SELECT COUNT(*) FROM votes v JOIN papers p ON p.pk = v.paper_pk \
             WHERE v.user_id = u.id AND p.hidden_at IS NULL), \
             (SELECT COUNT(*) FROM comments c WHERE c.user_id = u.id AND c.deleted_at IS NULL \
             AND c.hidden_at IS NULL), u.id \
             FROM users u WHERE u.username_key = ?",
        )
        .bind(username.key())
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        crate::reads::member(UserId(r.int(7)));
        let label = format!("member {username}");
        Ok(Some(Profile {
            username: Username::parse(&r.text(0)).map_err(|e| corrupt(&label, e.to_string()))?,
            role: if r.flag(1) { Role::Admin } else { Role::Member },
            joined_at: parse_ts(r.opt_text(2)).ok_or_else(|| corrupt(&label, "created_at".into()))?,
            suspended: r.opt_text(3).is_some(),
            submissions: r.int(4) as u64,
            upvotes: r.int(5) as u64,
            comments: r.int(6) as u64,
        }))
    }

    async fn member_papers(
        &self,
        user: UserId,
        which: MemberPapers,
        offset: u32,
        limit: u32,
    ) -> Result<FeedPage, StoreError> {
        let (from, order) = match which {
            MemberPapers::Submitted => (format!("{PAPER_FROM} WHERE s.user_id = ?"), "s.submitted_at DESC"),
            MemberPapers::Upvoted => (
                format!("votes v JOIN papers p ON p.pk = v.paper_pk {SUBMITTER_JOIN} WHERE v.user_id = ?"),
                "v.created_at DESC",
            ),
        };
        let total = Query::new(format!("SELECT COUNT(*) FROM {from} AND p.hidden_at IS NULL"))
            .bind(user.0)
            .fetch_one(self.pool())
            .await?
            .int(0);
        let sql = format!(
            "SELECT {PAPER_COLUMNS} FROM {from} AND p.hidden_at IS NULL ORDER BY {order}, p.paper_id DESC \
             LIMIT ? OFFSET ?"
        );
        let rows =
            Query::new(sql).bind(user.0).bind(i64::from(limit)).bind(i64::from(offset)).fetch_all(self.pool()).await?;
        let items = rows.iter().map(row_to_paper).collect::<Result<Vec<_>, _>>()?;
        crate::reads::member(user);
        crate::reads::papers(items.iter().map(|i| &i.paper.id));
        Ok(FeedPage { items, total: total as u64 })
    }
}
