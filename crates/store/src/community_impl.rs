//! [`Community`] for both backends, written once: members, sessions, tokens,
//! votes, submissions, comments, reading lists and moderation, in portable SQL.
//!
//! Like [`crate::coordination`], the implementation is one macro,
//! `impl_community!`, expanded for [`SqliteStore`] (placeholders as written)
//! and for [`PgStore`] (renumbered by [`numbered`]). What differs between the
//! backends is not branched on here but supplied per backend:
//! * the macro's arguments: the store and connection types and the
//!   placeholder function (a submission and hiding a paper change the
//!   catalog with the store's `find_existing`, `upsert_one` and
//!   `record_change`, which `catalog_impl.rs` generates for both);
//! * hook methods that each store defines (SQLite's in `sqlite_community.rs`,
//!   PostgreSQL's in `postgres/community.rs`, with the reasons for each):
//!   - `begin_write()`: a transaction that writes (SQLite: the in-process
//!     writer queue; PostgreSQL: a plain transaction);
//!   - `begin_catalog_write()`: a transaction that also appends to the change
//!     feed (SQLite: the same writer queue; PostgreSQL: holds the catalog
//!     advisory lock);
//!   - `Self::lock_paper_for_vote(conn, paper)`: run first in every vote
//!     change (PostgreSQL locks the paper's row; SQLite needs nothing);
//!   - `Self::hold_member(conn, user)`: run first in a submission, checks the
//!     member exists and keeps it for the transaction (SQLite: a no-op write
//!     that takes the write lock; PostgreSQL: a key-share row lock).
//!
//! Rules both keep: vote counts change in the same transaction as the votes
//! table, so they always agree; one-time links are spent by a conditional
//! `UPDATE`, which only one of two concurrent callers can win.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::member::{comment_body, token_name};
use paperboy_core::text::title_key;
use paperboy_core::{ApiTokenId, CommentId, Email, Paper, PaperId, Role, UserId, Username};
use sqlx::{PgConnection, Row, SqliteConnection};

use crate::community::{
    ApiToken, Audience, Comment, Community, EmailPurpose, MemberPapers, NewSession, NewUser, Profile, ReadingListEntry,
    Secret, Session, Submission, SubmitOutcome, User, Vote,
};
use crate::secret::{API_TOKEN_PREFIX, hash, random_hex};
use crate::sql_common::{
    COMMENT_SELECT, USER_COLUMN_COUNT, USER_COLUMNS, as_written, corrupt, numbered, row_to_comment, row_to_paper,
    row_to_user,
};
use crate::sqlite::{
    LOOKUP_CHUNK, PAPER_COLUMN_COUNT, PAPER_COLUMNS, PAPER_FROM, SUBMITTER_JOIN, fmt_ts, parse_ts, placeholders,
};
use crate::{FeedPage, FeedQuery, PgStore, SqliteStore, StoreError, StoredPaper};

/// API token uses closer together than this are not written down again.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

fn now_ts() -> String {
    fmt_ts(Utc::now())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

/// The timestamp format of the catalog tables (seconds, as `upsert_papers` writes).
fn paper_now(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Implements [`Community`] for `$store` (a store with a `pool` field and the
/// hook methods listed at the top of this module), whose transactions
/// dereference to `$conn`, running every statement through `$sql`
/// (placeholder style of the backend) and changing the catalog with the
/// store's `find_existing`, `upsert_one` and `record_change` (`catalog_impl.rs`).
macro_rules! impl_community {
    ($store:ty, $conn:ty, $sql:path $(,)?) => {
        impl $store {
            /// The member matching `cond` (SQL with one placeholder, for `value`).
            async fn user_where(conn: &mut $conn, cond: &str, value: &str) -> Result<Option<User>, StoreError> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE {cond}");
                let sql = $sql(&sql);
                let row = sqlx::query(&sql).bind(value).fetch_optional(&mut *conn).await?;
                row.map(|r| row_to_user(&r, 0)).transpose()
            }

            async fn user_by_id_on(conn: &mut $conn, id: UserId) -> Result<Option<User>, StoreError> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?");
                let sql = $sql(&sql);
                let row = sqlx::query(&sql).bind(id.0).fetch_optional(&mut *conn).await?;
                row.map(|r| row_to_user(&r, 0)).transpose()
            }

            /// Changes one member's vote on one paper inside the caller's transaction:
            /// `want` is `Some(state)` to set it, `None` to toggle. Fails with
            /// `PaperNotFound` (and the caller rolls back) for unknown or hidden papers.
            async fn apply_vote(
                conn: &mut $conn,
                user: UserId,
                paper: &str,
                want: Option<bool>,
            ) -> Result<Vote, StoreError> {
                Self::lock_paper_for_vote(&mut *conn, paper).await?;
                let now = now_ts();
                let mut delta = 0i64;
                if want != Some(true) {
                    let removed = sqlx::query(&$sql(
                        "DELETE FROM votes WHERE user_id = ? AND paper_pk = (SELECT pk FROM papers WHERE paper_id = ?)",
                    ))
                    .bind(user.0)
                    .bind(paper)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    delta -= removed as i64;
                }
                if delta == 0 && want != Some(false) {
                    let added = sqlx::query(&$sql(
                        "INSERT INTO votes (user_id, paper_pk, created_at) SELECT ?, pk, ? FROM papers \
                         WHERE paper_id = ? AND hidden_at IS NULL ON CONFLICT DO NOTHING",
                    ))
                    .bind(user.0)
                    .bind(&now)
                    .bind(paper)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    delta += added as i64;
                }
                if delta != 0 {
                    // The count and the answer in one statement: the vote row
                    // was just added (or removed), so `voted` is known.
                    let upvotes: Option<i64> = sqlx::query_scalar(&$sql(
                        "UPDATE papers SET upvotes = upvotes + ? WHERE paper_id = ? AND hidden_at IS NULL \
                         RETURNING upvotes",
                    ))
                    .bind(delta)
                    .bind(paper)
                    .fetch_optional(&mut *conn)
                    .await?;
                    let upvotes = upvotes.ok_or_else(|| StoreError::PaperNotFound { paper_id: paper.to_string() })?;
                    return Ok(Vote { upvotes, voted: delta > 0 });
                }
                // Nothing changed (a repeated vote, or a take-back of none): read the state.
                let row = sqlx::query(&$sql(
                    "SELECT p.upvotes, EXISTS (SELECT 1 FROM votes v WHERE v.user_id = ? AND v.paper_pk = p.pk) \
                     FROM papers p WHERE p.paper_id = ? AND p.hidden_at IS NULL",
                ))
                .bind(user.0)
                .bind(paper)
                .fetch_optional(&mut *conn)
                .await?;
                let row = row.ok_or_else(|| StoreError::PaperNotFound { paper_id: paper.to_string() })?;
                Ok(Vote { upvotes: row.get(0), voted: row.get(1) })
            }

            async fn comment_by_id(&self, id: CommentId, audience: Audience) -> Result<Comment, StoreError> {
                let sql = format!("{COMMENT_SELECT} WHERE c.id = ?");
                let sql = $sql(&sql);
                let row = sqlx::query(&sql).bind(id.0).fetch_optional(&self.pool).await?;
                row.map(|r| row_to_comment(&r, audience)).transpose()?.ok_or(StoreError::CommentNotFound(id))
            }

            /// Why an author-only change to comment `id` by `author` matched no row.
            async fn comment_refusal(&self, author: UserId, id: CommentId) -> StoreError {
                let row = sqlx::query(&$sql("SELECT user_id, deleted_at FROM comments WHERE id = ?"))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await;
                match row {
                    Err(e) => e.into(),
                    Ok(None) => StoreError::CommentNotFound(id),
                    Ok(Some(r)) if r.get::<i64, _>(0) != author.0 => StoreError::NotCommentAuthor(id),
                    Ok(Some(_)) => StoreError::CommentNotFound(id),
                }
            }

            /// Whether a paper exists and `audience` may see it.
            async fn paper_visible(&self, paper: &str) -> Result<bool, StoreError> {
                let n: i64 =
                    sqlx::query_scalar(&$sql("SELECT COUNT(*) FROM papers WHERE paper_id = ? AND hidden_at IS NULL"))
                        .bind(paper)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(n > 0)
            }

            /// The answer to a clash on a unique key of `users`.
            async fn user_clash(&self, username: Option<&Username>) -> StoreError {
                if let Some(name) = username {
                    let taken: Result<i64, _> =
                        sqlx::query_scalar(&$sql("SELECT COUNT(*) FROM users WHERE username_key = ?"))
                            .bind(name.key())
                            .fetch_one(&self.pool)
                            .await;
                    match taken {
                        Ok(n) if n > 0 => return StoreError::UsernameTaken { username: name.to_string() },
                        Err(e) => return e.into(),
                        Ok(_) => {}
                    }
                }
                StoreError::EmailTaken
            }

            /// Runs `sql` (with `?` placeholders), an UPDATE of one member with `value` then the id to bind.
            async fn update_user(&self, id: UserId, sql: &str, value: &str) -> Result<(), StoreError> {
                let n = sqlx::query(&$sql(sql)).bind(value).bind(id.0).execute(&self.pool).await?.rows_affected();
                if n == 0 { Err(StoreError::UserNotFound(id)) } else { Ok(()) }
            }
        }

        #[async_trait]
        impl Community for $store {
            async fn create_user(&self, new: &NewUser) -> Result<User, StoreError> {
                let now = now_ts();
                let verified = new.email_verified.then(|| now.clone());
                let inserted = sqlx::query(&$sql(
                    "INSERT INTO users (username, username_key, email, email_key, password_hash, is_admin, \
                     email_verified_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                ))
                .bind(new.username.as_str())
                .bind(new.username.key())
                .bind(new.email.as_str())
                .bind(new.email.key())
                .bind(&new.password_hash)
                .bind(new.role.is_admin())
                .bind(verified)
                .bind(&now)
                .fetch_one(&self.pool)
                .await;
                let id: i64 = match inserted {
                    Ok(r) => r.get(0),
                    Err(e) if is_unique_violation(&e) => return Err(self.user_clash(Some(&new.username)).await),
                    Err(e) => return Err(e.into()),
                };
                let mut conn = self.pool.acquire().await?;
                Self::user_by_id_on(&mut conn, UserId(id)).await?.ok_or(StoreError::UserNotFound(UserId(id)))
            }

            async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                Self::user_by_id_on(&mut conn, id).await
            }

            async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                Self::user_where(&mut conn, "u.username_key = ?", &username.key()).await
            }

            async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                Self::user_where(&mut conn, "u.email_key = ?", &email.key()).await
            }

            async fn password_hash(&self, id: UserId) -> Result<Option<String>, StoreError> {
                Ok(sqlx::query_scalar(&$sql("SELECT password_hash FROM users WHERE id = ?"))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn set_password(&self, id: UserId, password_hash: &str) -> Result<(), StoreError> {
                self.update_user(id, "UPDATE users SET password_hash = ? WHERE id = ?", password_hash).await
            }

            async fn set_email(&self, id: UserId, email: &Email) -> Result<User, StoreError> {
                let key = email.key();
                // Only a different address needs verifying again, not a new spelling of the same one.
                let done = sqlx::query(&$sql(
                    "UPDATE users SET email = ?, \
                     email_verified_at = CASE WHEN email_key = ? THEN email_verified_at END, \
                     email_key = ? WHERE id = ?",
                ))
                .bind(email.as_str())
                .bind(&key)
                .bind(&key)
                .bind(id.0)
                .execute(&self.pool)
                .await;
                match done {
                    Ok(r) if r.rows_affected() == 0 => return Err(StoreError::UserNotFound(id)),
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e) => return Err(StoreError::EmailTaken),
                    Err(e) => return Err(e.into()),
                }
                self.user_by_id(id).await?.ok_or(StoreError::UserNotFound(id))
            }

            async fn mark_email_verified(&self, id: UserId) -> Result<(), StoreError> {
                let now = now_ts();
                self.update_user(
                    id,
                    "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?) WHERE id = ?",
                    &now,
                )
                .await
            }

            async fn set_role(&self, id: UserId, role: Role) -> Result<(), StoreError> {
                let n = sqlx::query(&$sql("UPDATE users SET is_admin = ? WHERE id = ?"))
                    .bind(role.is_admin())
                    .bind(id.0)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                if n == 0 { Err(StoreError::UserNotFound(id)) } else { Ok(()) }
            }

            async fn set_suspended(&self, id: UserId, suspended: bool) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let n = if suspended {
                    let n =
                        sqlx::query(&$sql("UPDATE users SET suspended_at = COALESCE(suspended_at, ?) WHERE id = ?"))
                            .bind(now_ts())
                            .bind(id.0)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    sqlx::query(&$sql("DELETE FROM sessions WHERE user_id = ?")).bind(id.0).execute(&mut *tx).await?;
                    n
                } else {
                    sqlx::query(&$sql("UPDATE users SET suspended_at = NULL WHERE id = ?"))
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                };
                if n == 0 {
                    return Err(StoreError::UserNotFound(id));
                }
                tx.commit().await?;
                Ok(())
            }

            async fn create_session(&self, user: UserId, expires_at: DateTime<Utc>) -> Result<NewSession, StoreError> {
                let token = random_hex()?;
                let csrf_token = random_hex()?;
                let n = sqlx::query(&$sql(
                    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
                     SELECT ?, id, ?, ?, ? FROM users WHERE id = ?",
                ))
                .bind(hash(&token))
                .bind(&csrf_token)
                .bind(now_ts())
                .bind(fmt_ts(expires_at))
                .bind(user.0)
                .execute(&self.pool)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(StoreError::UserNotFound(user));
                }
                Ok(NewSession { token: Secret(token), csrf_token, expires_at })
            }

            async fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
                let sql = format!(
                    "SELECT {USER_COLUMNS}, s.csrf_token, s.created_at, s.expires_at FROM sessions s \
                     JOIN users u ON u.id = s.user_id \
                     WHERE s.token_hash = ? AND s.expires_at > ? AND u.suspended_at IS NULL"
                );
                let sql = $sql(&sql);
                let row = sqlx::query(&sql).bind(hash(token)).bind(now_ts()).fetch_optional(&self.pool).await?;
                let Some(r) = row else { return Ok(None) };
                let o = USER_COLUMN_COUNT;
                let when = |i: usize| parse_ts(r.get(o + i)).ok_or_else(|| corrupt("session", "timestamp".into()));
                Ok(Some(Session {
                    user: row_to_user(&r, 0)?,
                    csrf_token: r.get(o),
                    created_at: when(1)?,
                    expires_at: when(2)?,
                }))
            }

            async fn delete_session(&self, token: &str) -> Result<bool, StoreError> {
                let n = sqlx::query(&$sql("DELETE FROM sessions WHERE token_hash = ?"))
                    .bind(hash(token))
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            }

            async fn delete_user_sessions(&self, user: UserId) -> Result<u64, StoreError> {
                Ok(sqlx::query(&$sql("DELETE FROM sessions WHERE user_id = ?"))
                    .bind(user.0)
                    .execute(&self.pool)
                    .await?
                    .rows_affected())
            }

            async fn purge_expired(&self) -> Result<u64, StoreError> {
                let now = now_ts();
                let mut tx = self.begin_write().await?;
                let a = sqlx::query(&$sql("DELETE FROM sessions WHERE expires_at <= ?"))
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                let b = sqlx::query(&$sql("DELETE FROM email_tokens WHERE expires_at <= ?"))
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(a.rows_affected() + b.rows_affected())
            }

            async fn create_api_token(&self, user: UserId, name: &str) -> Result<(ApiToken, Secret), StoreError> {
                let name = token_name(name)?;
                let secret = format!("{API_TOKEN_PREFIX}{}", random_hex()?);
                let now = Utc::now();
                let row = sqlx::query(&$sql(
                    "INSERT INTO api_tokens (user_id, name, token_hash, created_at) SELECT id, ?, ?, ? FROM users \
                     WHERE id = ? RETURNING id",
                ))
                .bind(name)
                .bind(hash(&secret))
                .bind(fmt_ts(now))
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
                let id: i64 = row.ok_or(StoreError::UserNotFound(user))?.get(0);
                let token = ApiToken {
                    id: ApiTokenId(id),
                    name: name.to_string(),
                    created_at: now,
                    last_used_at: None,
                    revoked_at: None,
                };
                Ok((token, Secret(secret)))
            }

            async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, StoreError> {
                let rows = sqlx::query(&$sql(
                    "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = ? \
                     ORDER BY id DESC",
                ))
                .bind(user.0)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(ApiToken {
                            id: ApiTokenId(r.get(0)),
                            name: r.get(1),
                            created_at: parse_ts(r.get(2)).ok_or_else(|| corrupt("api token", "created_at".into()))?,
                            last_used_at: parse_ts(r.get(3)),
                            revoked_at: parse_ts(r.get(4)),
                        })
                    })
                    .collect()
            }

            async fn revoke_api_token(&self, user: UserId, token: ApiTokenId) -> Result<bool, StoreError> {
                let n = sqlx::query(&$sql(
                    "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
                ))
                .bind(now_ts())
                .bind(token.0)
                .bind(user.0)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            async fn api_token_user(&self, secret: &str) -> Result<Option<User>, StoreError> {
                let token_hash = hash(secret);
                let sql = format!(
                    "SELECT {USER_COLUMNS}, t.id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.suspended_at IS NULL"
                );
                let sql = $sql(&sql);
                let Some(r) = sqlx::query(&sql).bind(&token_hash).fetch_optional(&self.pool).await? else {
                    return Ok(None);
                };
                let user = row_to_user(&r, 0)?;
                let now = Utc::now();
                let last = parse_ts(r.get(USER_COLUMN_COUNT + 1));
                if last.is_none_or(|t| (now - t).num_seconds() >= LAST_USED_RESOLUTION_SECS) {
                    sqlx::query(&$sql("UPDATE api_tokens SET last_used_at = ? WHERE id = ?"))
                        .bind(fmt_ts(now))
                        .bind(r.get::<i64, _>(USER_COLUMN_COUNT))
                        .execute(&self.pool)
                        .await?;
                }
                Ok(Some(user))
            }

            async fn create_email_token(
                &self,
                user: UserId,
                purpose: EmailPurpose,
                expires_at: DateTime<Utc>,
            ) -> Result<Secret, StoreError> {
                let secret = random_hex()?;
                let n = sqlx::query(&$sql(
                    "INSERT INTO email_tokens (token_hash, user_id, purpose, email_key, created_at, expires_at) \
                     SELECT ?, id, ?, email_key, ?, ? FROM users WHERE id = ?",
                ))
                .bind(hash(&secret))
                .bind(purpose.as_str())
                .bind(now_ts())
                .bind(fmt_ts(expires_at))
                .bind(user.0)
                .execute(&self.pool)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(StoreError::UserNotFound(user));
                }
                Ok(Secret(secret))
            }

            async fn consume_email_token(&self, secret: &str, purpose: EmailPurpose) -> Result<User, StoreError> {
                let token_hash = hash(secret);
                let now = now_ts();
                let mut tx = self.begin_write().await?;
                // The write comes first: only one caller can mark the link used.
                let used = sqlx::query(&$sql(
                    "UPDATE email_tokens SET used_at = ? WHERE token_hash = ? AND purpose = ? AND used_at IS NULL \
                     AND expires_at > ?",
                ))
                .bind(&now)
                .bind(&token_hash)
                .bind(purpose.as_str())
                .bind(&now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let row = sqlx::query(&$sql(
                    "SELECT user_id, email_key, purpose, used_at FROM email_tokens WHERE token_hash = ?",
                ))
                .bind(&token_hash)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { return Err(StoreError::TokenUnknown) };
                if row.get::<&str, _>(2) != purpose.as_str() {
                    return Err(StoreError::TokenUnknown);
                }
                if used == 0 {
                    return Err(if row.get::<Option<String>, _>(3).is_some() {
                        StoreError::TokenUsed
                    } else {
                        StoreError::TokenExpired
                    });
                }
                let user_id = UserId(row.get(0));
                if purpose == EmailPurpose::Verify {
                    let n = sqlx::query(&$sql(
                        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?) \
                         WHERE id = ? AND email_key = ?",
                    ))
                    .bind(&now)
                    .bind(user_id.0)
                    .bind(row.get::<&str, _>(1))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        // The address changed since the link was sent: the link is spent and proves nothing.
                        tx.commit().await?;
                        return Err(StoreError::TokenUnknown);
                    }
                }
                let user = Self::user_by_id_on(&mut tx, user_id).await?.ok_or(StoreError::UserNotFound(user_id))?;
                tx.commit().await?;
                Ok(user)
            }

            async fn toggle_vote(&self, user: UserId, paper: &PaperId) -> Result<Vote, StoreError> {
                let mut tx = self.begin_write().await?;
                let vote = Self::apply_vote(&mut tx, user, &paper.to_string(), None).await?;
                tx.commit().await?;
                Ok(vote)
            }

            async fn set_vote(&self, user: UserId, paper: &PaperId, voted: bool) -> Result<Vote, StoreError> {
                let mut tx = self.begin_write().await?;
                let vote = Self::apply_vote(&mut tx, user, &paper.to_string(), Some(voted)).await?;
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
                    let sql = $sql(&sql);
                    let mut q = sqlx::query_scalar::<_, String>(&sql).bind(user.0);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    found.extend(q.fetch_all(&self.pool).await?);
                }
                Ok(papers.iter().filter(|p| found.contains(&p.to_string())).cloned().collect())
            }

            async fn submit_paper(
                &self,
                user: UserId,
                paper: &Paper,
                now: DateTime<Utc>,
            ) -> Result<Submission, StoreError> {
                let mut paper = paper.clone();
                paper.listed_on = now.date_naive();
                paper.normalize();
                paper.validate()?;
                let id = paper.id.to_string();
                let stamp = fmt_ts(now);
                let mut tx = self.begin_catalog_write().await?;
                if !Self::hold_member(&mut tx, user).await? {
                    return Err(StoreError::UserNotFound(user));
                }
                let existed = Self::find_existing(&mut tx, &paper, &title_key(&paper.title)).await?.is_some();
                Self::upsert_one(&mut tx, &paper, &paper_now(now)).await?;
                let outcome = if existed {
                    SubmitOutcome::AlreadyListed
                } else {
                    sqlx::query(&$sql(
                        "INSERT INTO submissions (paper_pk, user_id, submitted_at) SELECT pk, ?, ? FROM papers \
                         WHERE paper_id = ?",
                    ))
                    .bind(user.0)
                    .bind(&stamp)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                    SubmitOutcome::Submitted
                };
                // After a merge the paper lives under the arXiv id either way.
                let vote = Self::apply_vote(&mut tx, user, &id, Some(true)).await?;
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
                    let row = sqlx::query(&$sql(
                        "SELECT p.paper_id, c.parent_id, c.deleted_at, c.hidden_at FROM comments c \
                         JOIN papers p ON p.pk = c.paper_pk WHERE c.id = ?",
                    ))
                    .bind(parent.0)
                    .fetch_optional(&self.pool)
                    .await?;
                    let why = match row {
                        None => Some("there is no such comment"),
                        Some(r) if r.get::<&str, _>(0) != paper_id => Some("it is on another paper"),
                        Some(r) if r.get::<Option<i64>, _>(1).is_some() => {
                            Some("it is a reply itself; reply to its parent")
                        }
                        Some(r) if r.get::<Option<String>, _>(2).is_some() => Some("it was deleted"),
                        Some(r) if r.get::<Option<String>, _>(3).is_some() => Some("it was hidden by a moderator"),
                        Some(_) => None,
                    };
                    if let Some(why) = why {
                        return Err(StoreError::BadReply { parent, why });
                    }
                }
                let row = sqlx::query(&$sql(
                    "INSERT INTO comments (paper_pk, user_id, parent_id, body, created_at) \
                     SELECT pk, ?, ?, ?, ? FROM papers WHERE paper_id = ? AND hidden_at IS NULL RETURNING id",
                ))
                .bind(author.0)
                .bind(parent.map(|p| p.0))
                .bind(body)
                .bind(now_ts())
                .bind(&paper_id)
                .fetch_optional(&self.pool)
                .await;
                let row = match row {
                    Ok(r) => r,
                    Err(e) if e.as_database_error().is_some_and(|d| d.is_foreign_key_violation()) => {
                        return Err(StoreError::UserNotFound(author));
                    }
                    Err(e) => return Err(e.into()),
                };
                let id = CommentId(row.ok_or(StoreError::PaperNotFound { paper_id })?.get(0));
                self.comment_by_id(id, Audience::Admin).await
            }

            async fn edit_comment(
                &self,
                author: UserId,
                comment: CommentId,
                body: &str,
            ) -> Result<Comment, StoreError> {
                let body = comment_body(body)?;
                let n = sqlx::query(&$sql(
                    "UPDATE comments SET body = ?, edited_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL",
                ))
                .bind(body)
                .bind(now_ts())
                .bind(comment.0)
                .bind(author.0)
                .execute(&self.pool)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(self.comment_refusal(author, comment).await);
                }
                self.comment_by_id(comment, Audience::Admin).await
            }

            async fn delete_comment(&self, author: UserId, comment: CommentId) -> Result<(), StoreError> {
                let n = sqlx::query(&$sql(
                    "UPDATE comments SET body = '', deleted_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL",
                ))
                .bind(now_ts())
                .bind(comment.0)
                .bind(author.0)
                .execute(&self.pool)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(self.comment_refusal(author, comment).await);
                }
                Ok(())
            }

            async fn set_comment_hidden(&self, comment: CommentId, hidden: bool) -> Result<(), StoreError> {
                let n = if hidden {
                    sqlx::query(&$sql("UPDATE comments SET hidden_at = COALESCE(hidden_at, ?) WHERE id = ?"))
                        .bind(now_ts())
                        .bind(comment.0)
                        .execute(&self.pool)
                        .await?
                } else {
                    sqlx::query(&$sql("UPDATE comments SET hidden_at = NULL WHERE id = ?"))
                        .bind(comment.0)
                        .execute(&self.pool)
                        .await?
                }
                .rows_affected();
                if n == 0 { Err(StoreError::CommentNotFound(comment)) } else { Ok(()) }
            }

            async fn comments(&self, paper: &PaperId, audience: Audience) -> Result<Vec<Comment>, StoreError> {
                let hidden = if audience == Audience::Public { " AND p.hidden_at IS NULL" } else { "" };
                let sql = format!("{COMMENT_SELECT} WHERE p.paper_id = ?{hidden} ORDER BY c.id");
                let sql = $sql(&sql);
                let rows = sqlx::query(&sql).bind(paper.to_string()).fetch_all(&self.pool).await?;
                rows.iter().map(|r| row_to_comment(r, audience)).collect()
            }

            async fn comment_counts(&self, papers: &[PaperId]) -> Result<Vec<(PaperId, u64)>, StoreError> {
                let ids: Vec<String> = papers.iter().map(PaperId::to_string).collect();
                let mut counts = std::collections::HashMap::new();
                for chunk in ids.chunks(LOOKUP_CHUNK) {
                    let sql = format!(
                        "SELECT p.paper_id, COUNT(*) FROM comments c JOIN papers p ON p.pk = c.paper_pk \
                         WHERE c.deleted_at IS NULL AND c.hidden_at IS NULL AND p.paper_id IN ({}) GROUP BY p.paper_id",
                        placeholders(chunk.len())
                    );
                    let sql = $sql(&sql);
                    let mut q = sqlx::query(&sql);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    for r in q.fetch_all(&self.pool).await? {
                        counts.insert(r.get::<String, _>(0), r.get::<i64, _>(1) as u64);
                    }
                }
                Ok(papers.iter().map(|p| (p.clone(), counts.get(&p.to_string()).copied().unwrap_or(0))).collect())
            }

            async fn add_to_reading_list(&self, user: UserId, paper: &PaperId) -> Result<bool, StoreError> {
                let id = paper.to_string();
                let n = sqlx::query(&$sql(
                    "INSERT INTO reading_list (user_id, paper_pk, added_at) SELECT ?, pk, ? FROM papers \
                     WHERE paper_id = ? AND hidden_at IS NULL ON CONFLICT DO NOTHING",
                ))
                .bind(user.0)
                .bind(now_ts())
                .bind(&id)
                .execute(&self.pool)
                .await?
                .rows_affected();
                if n == 0 && !self.paper_visible(&id).await? {
                    return Err(StoreError::PaperNotFound { paper_id: id });
                }
                Ok(n > 0)
            }

            async fn remove_from_reading_list(&self, user: UserId, paper: &PaperId) -> Result<bool, StoreError> {
                let n = sqlx::query(&$sql(
                    "DELETE FROM reading_list WHERE user_id = ? \
                     AND paper_pk = (SELECT pk FROM papers WHERE paper_id = ?)",
                ))
                .bind(user.0)
                .bind(paper.to_string())
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            async fn reading_list(&self, user: UserId) -> Result<Vec<ReadingListEntry>, StoreError> {
                let sql = format!(
                    "SELECT {PAPER_COLUMNS}, r.added_at FROM reading_list r JOIN papers p ON p.pk = r.paper_pk \
                     {SUBMITTER_JOIN} WHERE r.user_id = ? AND p.hidden_at IS NULL \
                     ORDER BY r.added_at DESC, p.paper_id DESC"
                );
                let sql = $sql(&sql);
                let rows = sqlx::query(&sql).bind(user.0).fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| {
                        let paper = row_to_paper(r)?;
                        let added_at = parse_ts(r.get(PAPER_COLUMN_COUNT))
                            .ok_or_else(|| corrupt(&paper.paper.id.to_string(), "reading list added_at".into()))?;
                        Ok(ReadingListEntry { paper, added_at })
                    })
                    .collect()
            }

            async fn profile(&self, username: &Username) -> Result<Option<Profile>, StoreError> {
                let row = sqlx::query(&$sql(
                    "SELECT u.username, u.is_admin, u.created_at, u.suspended_at, \
                     (SELECT COUNT(*) FROM submissions s JOIN papers p ON p.pk = s.paper_pk \
                     WHERE s.user_id = u.id AND p.hidden_at IS NULL), \
                     (SELECT COUNT(*) FROM votes v JOIN papers p ON p.pk = v.paper_pk \
                     WHERE v.user_id = u.id AND p.hidden_at IS NULL), \
                     (SELECT COUNT(*) FROM comments c WHERE c.user_id = u.id AND c.deleted_at IS NULL \
                     AND c.hidden_at IS NULL) \
                     FROM users u WHERE u.username_key = ?",
                ))
                .bind(username.key())
                .fetch_optional(&self.pool)
                .await?;
                let Some(r) = row else { return Ok(None) };
                let label = format!("member {username}");
                Ok(Some(Profile {
                    username: Username::parse(r.get::<&str, _>(0)).map_err(|e| corrupt(&label, e.to_string()))?,
                    role: if r.get::<bool, _>(1) { Role::Admin } else { Role::Member },
                    joined_at: parse_ts(r.get(2)).ok_or_else(|| corrupt(&label, "created_at".into()))?,
                    suspended: r.get::<Option<String>, _>(3).is_some(),
                    submissions: r.get::<i64, _>(4) as u64,
                    upvotes: r.get::<i64, _>(5) as u64,
                    comments: r.get::<i64, _>(6) as u64,
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
                let total: i64 =
                    sqlx::query_scalar(&$sql(&format!("SELECT COUNT(*) FROM {from} AND p.hidden_at IS NULL")))
                        .bind(user.0)
                        .fetch_one(&self.pool)
                        .await?;
                let sql = format!(
                    "SELECT {PAPER_COLUMNS} FROM {from} AND p.hidden_at IS NULL ORDER BY {order}, p.paper_id DESC \
                     LIMIT ? OFFSET ?"
                );
                let sql = $sql(&sql);
                let rows = sqlx::query(&sql)
                    .bind(user.0)
                    .bind(i64::from(limit))
                    .bind(i64::from(offset))
                    .fetch_all(&self.pool)
                    .await?;
                let items = rows.iter().map(row_to_paper).collect::<Result<Vec<_>, _>>()?;
                Ok(FeedPage { items, total: total as u64 })
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
                let mut tx = self.begin_catalog_write().await?;
                let changed = if hidden {
                    sqlx::query(&$sql("UPDATE papers SET hidden_at = ? WHERE paper_id = ? AND hidden_at IS NULL"))
                        .bind(&now)
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?
                } else {
                    sqlx::query(&$sql(
                        "UPDATE papers SET hidden_at = NULL WHERE paper_id = ? AND hidden_at IS NOT NULL",
                    ))
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?
                }
                .rows_affected();
                if changed > 0 {
                    // Followers (the search index) drop a hidden paper and take a shown one back.
                    Self::record_change(&mut tx, &id, &paper_now(Utc::now())).await?;
                } else {
                    let n: i64 = sqlx::query_scalar(&$sql("SELECT COUNT(*) FROM papers WHERE paper_id = ?"))
                        .bind(&id)
                        .fetch_one(&mut *tx)
                        .await?;
                    if n == 0 {
                        return Err(StoreError::PaperNotFound { paper_id: id });
                    }
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

impl_community!(SqliteStore, SqliteConnection, as_written);
impl_community!(PgStore, PgConnection, numbered);
