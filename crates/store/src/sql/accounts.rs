//! [`Accounts`] in portable SQL: members, sessions, personal API tokens
//! and one-time email links. Secrets come from [`crate::secret`]; only their
//! hashes are stored. Nothing here differs between the backends but
//! `begin_write` (suspending, spending a link, purging).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::member::token_name;
use paperboy_core::{ApiTokenId, Email, UserId, Username};

use super::exec::{Exec, Query};
use super::rows::{Cells, USER_COLUMN_COUNT, USER_COLUMNS, corrupt, row_to_user};
use super::{SqlStore, fmt_ts, now_ts, parse_ts};
use crate::secret::{API_TOKEN_PREFIX, hash, random_hex};
use crate::{Accounts, ApiToken, EmailPurpose, NewSession, NewUser, Secret, Session, StoreError, User};

/// API token uses closer together than this are not written down again.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

impl SqlStore {
    /// The member matching `cond` (SQL with one placeholder, for `value`).
    async fn user_where(on: Exec<'_>, cond: &str, value: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE {cond}");
        let row = Query::new(sql).bind(value).fetch_optional(on).await?;
        row.map(|r| row_to_user(&r, 0)).transpose()
    }

    pub(crate) async fn user_by_id_on(on: Exec<'_>, id: UserId) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?");
        let row = Query::new(sql).bind(id.0).fetch_optional(on).await?;
        row.map(|r| row_to_user(&r, 0)).transpose()
    }

    /// The answer to a clash on a unique key of `users`.
    async fn user_clash(&self, username: Option<&Username>) -> StoreError {
        if let Some(name) = username {
            let taken = Query::new("SELECT COUNT(*) FROM users WHERE username_key = ?")
                .bind(name.key())
                .fetch_one(self.pool())
                .await
                .map(|r| r.int(0));
            match taken {
                Ok(n) if n > 0 => return StoreError::UsernameTaken { username: name.to_string() },
                Err(e) => return e.into(),
                Ok(_) => {}
            }
        }
        StoreError::EmailTaken
    }

    /// Runs `sql` (with `?` placeholders), an UPDATE of one member with `value` then the id to bind.
    async fn update_user(&self, id: UserId, sql: &'static str, value: &str) -> Result<(), StoreError> {
        let n = Query::new(sql).bind(value).bind(id.0).execute(self.pool()).await?;
        if n == 0 { Err(StoreError::UserNotFound(id)) } else { Ok(()) }
    }
}

#[async_trait]
impl Accounts for SqlStore {
    async fn create_user(&self, new: &NewUser) -> Result<User, StoreError> {
        let now = now_ts();
        let verified = new.email_verified.then(|| now.clone());
        let inserted = Query::new(
            "INSERT INTO users (username, username_key, email, email_key, password_hash, is_admin, \
             email_verified_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.username.as_str())
        .bind(new.username.key())
        .bind(new.email.as_str())
        .bind(new.email.key())
        .bind(&new.password_hash)
        .bind(new.role.is_admin())
        .bind(verified)
        .bind(&now)
        .fetch_one(self.pool())
        .await;
        let id: i64 = match inserted {
            Ok(r) => r.int(0),
            Err(e) if is_unique_violation(&e) => return Err(self.user_clash(Some(&new.username)).await),
            Err(e) => return Err(e.into()),
        };
        Self::user_by_id_on(self.pool(), UserId(id)).await?.ok_or(StoreError::UserNotFound(UserId(id)))
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Self::user_by_id_on(self.pool(), id).await
    }

    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        Self::user_where(self.pool(), "u.username_key = ?", &username.key()).await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        Self::user_where(self.pool(), "u.email_key = ?", &email.key()).await
    }

    async fn password_hash(&self, id: UserId) -> Result<Option<String>, StoreError> {
        let row =
            Query::new("SELECT password_hash FROM users WHERE id = ?").bind(id.0).fetch_optional(self.pool()).await?;
        Ok(row.map(|r| r.text(0)))
    }

    async fn set_password(&self, id: UserId, password_hash: &str) -> Result<(), StoreError> {
        self.update_user(id, "UPDATE users SET password_hash = ? WHERE id = ?", password_hash).await
    }

    async fn set_email(&self, id: UserId, email: &Email) -> Result<User, StoreError> {
        let key = email.key();
        // Only a different address needs verifying again, not a new spelling of the same one.
        let done = Query::new(
            "UPDATE users SET email = ?, \
             email_verified_at = CASE WHEN email_key = ? THEN email_verified_at END, \
             email_key = ? WHERE id = ?",
        )
        .bind(email.as_str())
        .bind(&key)
        .bind(&key)
        .bind(id.0)
        .execute(self.pool())
        .await;
        match done {
            Ok(0) => return Err(StoreError::UserNotFound(id)),
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(StoreError::EmailTaken),
            Err(e) => return Err(e.into()),
        }
        self.user_by_id(id).await?.ok_or(StoreError::UserNotFound(id))
    }

    async fn mark_email_verified(&self, id: UserId) -> Result<(), StoreError> {
        let now = now_ts();
        self.update_user(id, "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?) WHERE id = ?", &now)
            .await
    }

    async fn create_session(&self, user: UserId, expires_at: DateTime<Utc>) -> Result<NewSession, StoreError> {
        let token = random_hex()?;
        let csrf_token = random_hex()?;
        let n = Query::new(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             SELECT ?, id, ?, ?, ? FROM users WHERE id = ?",
        )
        .bind(hash(&token))
        .bind(&csrf_token)
        .bind(now_ts())
        .bind(fmt_ts(expires_at))
        .bind(user.0)
        .execute(self.pool())
        .await?;
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
        let row = Query::new(sql).bind(hash(token)).bind(now_ts()).fetch_optional(self.pool()).await?;
        let Some(r) = row else { return Ok(None) };
        let o = USER_COLUMN_COUNT;
        let when = |i: usize| parse_ts(r.opt_text(o + i)).ok_or_else(|| corrupt("session", "timestamp".into()));
        Ok(Some(Session {
            user: row_to_user(&r, 0)?,
            csrf_token: r.text(o),
            created_at: when(1)?,
            expires_at: when(2)?,
        }))
    }

    async fn delete_session(&self, token: &str) -> Result<bool, StoreError> {
        let n = Query::new("DELETE FROM sessions WHERE token_hash = ?").bind(hash(token)).execute(self.pool()).await?;
        Ok(n > 0)
    }

    async fn delete_user_sessions(&self, user: UserId) -> Result<u64, StoreError> {
        Ok(Query::new("DELETE FROM sessions WHERE user_id = ?").bind(user.0).execute(self.pool()).await?)
    }

    async fn purge_expired(&self) -> Result<u64, StoreError> {
        let now = now_ts();
        let mut tx = self.backend().begin_write().await?;
        let a = Query::new("DELETE FROM sessions WHERE expires_at <= ?").bind(&now).execute(&mut tx).await?;
        let b = Query::new("DELETE FROM email_tokens WHERE expires_at <= ?").bind(&now).execute(&mut tx).await?;
        tx.commit().await?;
        Ok(a + b)
    }

    async fn create_api_token(&self, user: UserId, name: &str) -> Result<(ApiToken, Secret), StoreError> {
        let name = token_name(name)?;
        let secret = format!("{API_TOKEN_PREFIX}{}", random_hex()?);
        let now = Utc::now();
        let row = Query::new(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) SELECT id, ?, ?, ? FROM users \
             WHERE id = ? RETURNING id",
        )
        .bind(name)
        .bind(hash(&secret))
        .bind(fmt_ts(now))
        .bind(user.0)
        .fetch_optional(self.pool())
        .await?;
        let id: i64 = row.ok_or(StoreError::UserNotFound(user))?.int(0);
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
        let rows = Query::new(
            "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = ? \
             ORDER BY id DESC",
        )
        .bind(user.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: ApiTokenId(r.int(0)),
                    name: r.text(1),
                    created_at: parse_ts(r.opt_text(2)).ok_or_else(|| corrupt("api token", "created_at".into()))?,
                    last_used_at: parse_ts(r.opt_text(3)),
                    revoked_at: parse_ts(r.opt_text(4)),
                })
            })
            .collect()
    }

    async fn revoke_api_token(&self, user: UserId, token: ApiTokenId) -> Result<bool, StoreError> {
        let n = Query::new("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL")
            .bind(now_ts())
            .bind(token.0)
            .bind(user.0)
            .execute(self.pool())
            .await?;
        Ok(n > 0)
    }

    async fn revoke_user_api_tokens(&self, user: UserId) -> Result<u64, StoreError> {
        let n = Query::new("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
            .bind(now_ts())
            .bind(user.0)
            .execute(self.pool())
            .await?;
        Ok(n)
    }

    async fn api_token_user(&self, secret: &str) -> Result<Option<User>, StoreError> {
        let token_hash = hash(secret);
        let sql = format!(
            "SELECT {USER_COLUMNS}, t.id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.suspended_at IS NULL"
        );
        let Some(r) = Query::new(sql).bind(&token_hash).fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        let user = row_to_user(&r, 0)?;
        let now = Utc::now();
        let last = parse_ts(r.opt_text(USER_COLUMN_COUNT + 1));
        if last.is_none_or(|t| (now - t).num_seconds() >= LAST_USED_RESOLUTION_SECS) {
            Query::new("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
                .bind(fmt_ts(now))
                .bind(r.int(USER_COLUMN_COUNT))
                .execute(self.pool())
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
        let n = Query::new(
            "INSERT INTO email_tokens (token_hash, user_id, purpose, email_key, created_at, expires_at) \
             SELECT ?, id, ?, email_key, ?, ? FROM users WHERE id = ?",
        )
        .bind(hash(&secret))
        .bind(purpose.as_str())
        .bind(now_ts())
        .bind(fmt_ts(expires_at))
        .bind(user.0)
        .execute(self.pool())
        .await?;
        if n == 0 {
            return Err(StoreError::UserNotFound(user));
        }
        Ok(Secret(secret))
    }

    async fn consume_email_token(&self, secret: &str, purpose: EmailPurpose) -> Result<User, StoreError> {
        let token_hash = hash(secret);
        let now = now_ts();
        let mut tx = self.backend().begin_write().await?;
        // The write comes first: only one caller can mark the link used.
        let used = Query::new(
            "UPDATE email_tokens SET used_at = ? WHERE token_hash = ? AND purpose = ? AND used_at IS NULL \
             AND expires_at > ?",
        )
        .bind(&now)
        .bind(&token_hash)
        .bind(purpose.as_str())
        .bind(&now)
        .execute(&mut tx)
        .await?;
        let row = Query::new("SELECT user_id, email_key, purpose, used_at FROM email_tokens WHERE token_hash = ?")
            .bind(&token_hash)
            .fetch_optional(&mut tx)
            .await?;
        let Some(row) = row else { return Err(StoreError::TokenUnknown) };
        if row.text(2) != purpose.as_str() {
            return Err(StoreError::TokenUnknown);
        }
        if used == 0 {
            return Err(if row.opt_text(3).is_some() { StoreError::TokenUsed } else { StoreError::TokenExpired });
        }
        let user_id = UserId(row.int(0));
        if purpose == EmailPurpose::Verify {
            let n = Query::new(
                "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?) \
                 WHERE id = ? AND email_key = ?",
            )
            .bind(&now)
            .bind(user_id.0)
            .bind(row.text(1))
            .execute(&mut tx)
            .await?;
            if n == 0 {
                // The address changed since the link was sent: the link is spent and proves nothing.
                tx.commit().await?;
                return Err(StoreError::TokenUnknown);
            }
        }
        let user = Self::user_by_id_on(tx.exec(), user_id).await?.ok_or(StoreError::UserNotFound(user_id))?;
        tx.commit().await?;
        Ok(user)
    }

    async fn spend_email_tokens(&self, user: UserId, purpose: EmailPurpose) -> Result<u64, StoreError> {
        let n = Query::new("UPDATE email_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL")
            .bind(now_ts())
            .bind(user.0)
            .bind(purpose.as_str())
            .execute(self.pool())
            .await?;
        Ok(n)
    }
}
