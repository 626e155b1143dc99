//! [`Mailing`] in portable SQL: subscribers, saved searches and the outbox
//! (`ON CONFLICT DO NOTHING`, text timestamps that compare in time order),
//! with the statements and row decoders, and the claim statements' parts
//! (`DUE_ROWS`, `LEASE_SET`) that each backend's `claim_rows` puts together.
//!
//! What the backends supply (see [`Backend`](super::backend::Backend)):
//! `lock_for_subscribe` (run first in a subscribe), `lock_subscriber_for_search`
//! (run first when adding a saved search) and `claim_rows` (SQLite: an
//! `UPDATE … WHERE id IN (SELECT …)` then a read-back; PostgreSQL: one
//! statement whose due rows are picked `FOR UPDATE SKIP LOCKED`).
//!
//! Rules both keep: a claim sets the owner and expiry of the lease, so two
//! senders never hold the same row; every later change of a row checks the
//! owner, so a sender whose lease ran out (and whose row someone else took
//! over) cannot overwrite the new owner's state.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{Email, UserId};

use super::exec::Query;
use super::rows::Cells;
use super::{SqlStore, fmt_ts, parse_ts};
use crate::{
    DigestContent, Frequency, MAX_CATEGORIES, MAX_SAVED_SEARCHES, MailKind, Mailing, NewMail, OutboxCounts, OutboxMail,
    SavedSearch, StoreError, Subscriber, SubscriberId,
};

/// Columns read into a [`Subscriber`] by [`row_to_subscriber`].
pub(crate) const SUBSCRIBER_COLUMNS: &str = "id, email, user_id, frequency, categories, created_at, confirmed_at, \
     unsubscribed_at, paused_at, bounces, content";

/// Columns read into an [`OutboxMail`] by [`row_to_mail`].
pub(crate) const MAIL_COLUMNS: &str = "id, subscriber_id, kind, period_key, recipient, message_id, message, attempts";

pub(crate) const SUBSCRIBE_INSERT: &str = "INSERT INTO subscribers (email, email_key, created_at) VALUES (?, ?, ?) \
     ON CONFLICT (email_key) DO NOTHING";

/// An unsubscribed address starts again and must opt in again.
pub(crate) const SUBSCRIBE_RESTART: &str = "UPDATE subscribers SET confirmed_at = NULL, unsubscribed_at = NULL, \
     paused_at = NULL, bounces = 0 WHERE email_key = ? AND unsubscribed_at IS NOT NULL";

/// A member has one subscription: the first address linked stays.
/// Binds: user, email key, user.
pub(crate) const SUBSCRIBE_LINK_USER: &str = "UPDATE subscribers SET user_id = ? WHERE email_key = ? \
     AND user_id IS NULL AND NOT EXISTS (SELECT 1 FROM subscribers o WHERE o.user_id = ?)";

pub(crate) const CONFIRM: &str = "UPDATE subscribers SET confirmed_at = COALESCE(confirmed_at, ?), \
     unsubscribed_at = NULL, paused_at = NULL, bounces = 0 WHERE id = ?";

pub(crate) const UNSUBSCRIBE: &str =
    "UPDATE subscribers SET unsubscribed_at = COALESCE(unsubscribed_at, ?) WHERE id = ?";

/// Binds: frequency, padded categories, id.
pub(crate) const UPDATE_SUBSCRIPTION: &str =
    "UPDATE subscribers SET frequency = ?, categories = ?, paused_at = NULL, bounces = 0 WHERE id = ?";

/// Only a member's subscription may carry recommendations.
/// Binds: content, id, content.
pub(crate) const SET_CONTENT: &str =
    "UPDATE subscribers SET content = ? WHERE id = ? AND (user_id IS NOT NULL OR ? = 'trending')";

pub(crate) const SAVED_SEARCHES: &str = "SELECT id, query FROM saved_searches WHERE subscriber_id = ? ORDER BY id";

/// Inserts only for an existing subscriber; returns the new id (no row: no
/// such subscriber). Binds: query, created_at, subscriber.
pub(crate) const ADD_SAVED_SEARCH: &str = "INSERT INTO saved_searches (subscriber_id, query, created_at) \
     SELECT id, ?, ? FROM subscribers WHERE id = ? RETURNING id";

pub(crate) const COUNT_SAVED_SEARCHES: &str = "SELECT COUNT(*) FROM saved_searches WHERE subscriber_id = ?";

pub(crate) const REMOVE_SAVED_SEARCH: &str = "DELETE FROM saved_searches WHERE id = ? AND subscriber_id = ?";

/// Binds: frequency, after, kind, period key, limit.
pub(crate) const DIGEST_CANDIDATES_WHERE: &str = "s.frequency = ? AND s.confirmed_at IS NOT NULL \
     AND s.unsubscribed_at IS NULL AND s.paused_at IS NULL AND s.id > ? AND NOT EXISTS \
     (SELECT 1 FROM outbox o WHERE o.subscriber_id = s.id AND o.kind = ? AND o.period_key = ?) \
     ORDER BY s.id LIMIT ?";

/// Binds: subscriber, kind, period key, recipient, message id, message,
/// next attempt, created.
pub(crate) const ENQUEUE: &str = "INSERT INTO outbox (subscriber_id, kind, period_key, recipient, message_id, \
     message, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (subscriber_id, kind, period_key) DO NOTHING";

/// The due rows a claim may take: never leased or their lease ran out.
/// Binds: now, now, limit.
pub(crate) const DUE_ROWS: &str = "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? \
     AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at, id LIMIT ?";

/// The lease itself, completed by a `WHERE id IN (…)` of [`DUE_ROWS`].
/// Binds: owner, until.
pub(crate) const LEASE_SET: &str = "UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1";

/// Binds: sent at, id, owner.
pub(crate) const MARK_SENT: &str = "UPDATE outbox SET state = 'sent', sent_at = ?, lease_owner = NULL, \
     lease_until = NULL, last_error = NULL WHERE id = ? AND lease_owner = ? AND state = 'pending'";

/// A delivered mail resets the bounce count. Binds: outbox id.
pub(crate) const RESET_BOUNCES: &str =
    "UPDATE subscribers SET bounces = 0 WHERE id = (SELECT subscriber_id FROM outbox WHERE id = ?)";

/// Binds: retry at, error, id, owner.
pub(crate) const MARK_RETRY: &str = "UPDATE outbox SET next_attempt_at = ?, lease_owner = NULL, lease_until = NULL, \
     last_error = ? WHERE id = ? AND lease_owner = ? AND state = 'pending'";

/// Binds: error, id, owner.
pub(crate) const MARK_FAILED: &str = "UPDATE outbox SET state = 'failed', lease_owner = NULL, lease_until = NULL, \
     last_error = ? WHERE id = ? AND lease_owner = ? AND state = 'pending'";

pub(crate) const OUTBOX_SUBSCRIBER: &str = "SELECT subscriber_id FROM outbox WHERE id = ?";

pub(crate) const ADD_BOUNCE: &str = "UPDATE subscribers SET bounces = bounces + 1 WHERE id = ?";

/// Binds: now, subscriber, pause after.
pub(crate) const PAUSE_BOUNCING: &str = "UPDATE subscribers SET paused_at = COALESCE(paused_at, ?) WHERE id = ? \
     AND bounces >= ? AND paused_at IS NULL";

pub(crate) const OUTBOX_COUNTS: &str = "SELECT state, COUNT(*) FROM outbox GROUP BY state";

pub(crate) const NEXT_DUE: &str = "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at \
     THEN lease_until ELSE next_attempt_at END) FROM outbox WHERE state = 'pending'";

fn corrupt(id: i64, why: String) -> StoreError {
    StoreError::Corrupt { paper_id: format!("subscriber {id}"), why }
}

/// Reads a row of [`SUBSCRIBER_COLUMNS`].
pub(crate) fn row_to_subscriber<R: Cells>(r: &R) -> Result<Subscriber, StoreError> {
    let id = r.int(0);
    let email = Email::parse(&r.text(1)).map_err(|e| corrupt(id, format!("email: {e}")))?;
    let frequency = Frequency::parse(&r.text(3)).ok_or_else(|| corrupt(id, "frequency".into()))?;
    let categories = r.text(4).split_whitespace().map(str::to_string).collect();
    Ok(Subscriber {
        id: SubscriberId(id),
        email,
        user: r.opt_int(2).map(UserId),
        frequency,
        categories,
        content: DigestContent::parse(&r.text(10)).ok_or_else(|| corrupt(id, "content".into()))?,
        created_at: parse_ts(r.opt_text(5)).ok_or_else(|| corrupt(id, "created_at".into()))?,
        confirmed_at: parse_ts(r.opt_text(6)),
        unsubscribed_at: parse_ts(r.opt_text(7)),
        paused_at: parse_ts(r.opt_text(8)),
        bounces: r.int(9).clamp(0, i64::from(u32::MAX)) as u32,
    })
}

/// Reads a row of [`MAIL_COLUMNS`].
pub(crate) fn row_to_mail<R: Cells>(r: &R) -> Result<OutboxMail, StoreError> {
    let id = r.int(0);
    let kind = MailKind::parse(&r.text(2))
        .ok_or_else(|| StoreError::Corrupt { paper_id: format!("outbox row {id}"), why: "kind".into() })?;
    Ok(OutboxMail {
        id,
        subscriber: SubscriberId(r.int(1)),
        kind,
        period_key: r.text(3),
        recipient: r.text(4),
        message_id: r.text(5),
        message: r.text(6),
        attempts: r.int(7).clamp(0, i64::from(u32::MAX)) as u32,
    })
}

/// `' cs.LG cs.AI '`: space-padded, so one `LIKE '% cs.LG %'` finds a category.
pub(crate) fn pad_categories(categories: &[String]) -> String {
    let mut s = String::from(" ");
    for c in categories {
        s.push_str(c.trim());
        s.push(' ');
    }
    s
}

/// The lease's expiry; an out-of-range duration leases for five minutes.
pub(crate) fn lease_until(
    now: chrono::DateTime<chrono::Utc>,
    lease: std::time::Duration,
) -> chrono::DateTime<chrono::Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5))
}

/// Adds up `(state, count)` rows of [`OUTBOX_COUNTS`].
pub(crate) fn outbox_counts(rows: impl Iterator<Item = (String, i64)>) -> OutboxCounts {
    let mut c = OutboxCounts::default();
    for (state, n) in rows {
        let n = n.max(0) as u64;
        match state.as_str() {
            "pending" => c.pending = n,
            "sent" => c.sent = n,
            _ => c.failed += n,
        }
    }
    c
}

impl SqlStore {
    /// The subscriber whose integer column `column` (`id`, `user_id`) is `value`.
    async fn subscriber_where(&self, column: &str, value: i64) -> Result<Option<Subscriber>, StoreError> {
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE {column} = ?");
        let row = Query::new(sql).bind(value).fetch_optional(self.pool()).await?;
        row.map(|r| row_to_subscriber(&r)).transpose()
    }
}

#[async_trait]
impl Mailing for SqlStore {
    async fn subscribe(&self, email: &Email, user: Option<UserId>) -> Result<Subscriber, StoreError> {
        let now = fmt_ts(Utc::now());
        let mut tx = self.backend().begin().await?;
        self.backend().lock_for_subscribe(&mut tx).await?;
        Query::new(SUBSCRIBE_INSERT).bind(email.as_str()).bind(email.key()).bind(&now).execute(&mut tx).await?;
        Query::new(SUBSCRIBE_RESTART).bind(email.key()).execute(&mut tx).await?;
        if let Some(u) = user {
            Query::new(SUBSCRIBE_LINK_USER).bind(u.0).bind(email.key()).bind(u.0).execute(&mut tx).await?;
        }
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email_key = ?");
        let row = Query::new(sql).bind(email.key()).fetch_one(&mut tx).await?;
        tx.commit().await?;
        row_to_subscriber(&row)
    }

    async fn subscriber(&self, id: SubscriberId) -> Result<Option<Subscriber>, StoreError> {
        self.subscriber_where("id", id.0).await
    }

    async fn subscriber_by_email(&self, email: &Email) -> Result<Option<Subscriber>, StoreError> {
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email_key = ?");
        let row = Query::new(sql).bind(email.key()).fetch_optional(self.pool()).await?;
        row.map(|r| row_to_subscriber(&r)).transpose()
    }

    async fn subscriber_for_user(&self, user: UserId) -> Result<Option<Subscriber>, StoreError> {
        self.subscriber_where("user_id", user.0).await
    }

    async fn confirm_subscriber(&self, id: SubscriberId) -> Result<Subscriber, StoreError> {
        let now = fmt_ts(Utc::now());
        Query::new(CONFIRM).bind(&now).bind(id.0).execute(self.pool()).await?;
        self.subscriber(id).await?.ok_or(StoreError::SubscriberNotFound(id.0))
    }

    async fn unsubscribe(&self, id: SubscriberId) -> Result<bool, StoreError> {
        let now = fmt_ts(Utc::now());
        Query::new(UNSUBSCRIBE).bind(&now).bind(id.0).execute(self.pool()).await?;
        Ok(self.subscriber(id).await?.is_some())
    }

    async fn set_digest_content(&self, id: SubscriberId, content: DigestContent) -> Result<Subscriber, StoreError> {
        let changed = Query::new(SET_CONTENT)
            .bind(content.as_str())
            .bind(id.0)
            .bind(content.as_str())
            .execute(self.pool())
            .await?;
        if changed == 0 {
            // No row changed: no such subscriber, or one without a member.
            return match self.subscriber(id).await? {
                None => Err(StoreError::SubscriberNotFound(id.0)),
                Some(_) => Err(StoreError::DigestNeedsMember),
            };
        }
        self.subscriber(id).await?.ok_or(StoreError::SubscriberNotFound(id.0))
    }

    async fn update_subscription(
        &self,
        id: SubscriberId,
        frequency: Frequency,
        categories: &[String],
    ) -> Result<Subscriber, StoreError> {
        if categories.len() > MAX_CATEGORIES {
            return Err(StoreError::TooManyCategories { max: MAX_CATEGORIES });
        }
        Query::new(UPDATE_SUBSCRIPTION)
            .bind(frequency.as_str())
            .bind(pad_categories(categories))
            .bind(id.0)
            .execute(self.pool())
            .await?;
        self.subscriber(id).await?.ok_or(StoreError::SubscriberNotFound(id.0))
    }

    async fn saved_searches(&self, id: SubscriberId) -> Result<Vec<SavedSearch>, StoreError> {
        let rows = Query::new(SAVED_SEARCHES).bind(id.0).fetch_all(self.pool()).await?;
        Ok(rows.iter().map(|r| SavedSearch { id: r.int(0), query: r.text(1) }).collect())
    }

    async fn add_saved_search(&self, id: SubscriberId, query: &str) -> Result<SavedSearch, StoreError> {
        let now = fmt_ts(Utc::now());
        let mut tx = self.backend().begin().await?;
        // Concurrent adds cannot both slip under the limit: the hook
        // makes them take turns, and each counts the others' rows.
        if !self.backend().lock_subscriber_for_search(&mut tx, id.0).await? {
            return Err(StoreError::SubscriberNotFound(id.0));
        }
        let new_id = Query::new(ADD_SAVED_SEARCH)
            .bind(query)
            .bind(&now)
            .bind(id.0)
            .fetch_optional(&mut tx)
            .await?
            .map(|r| r.int(0));
        let Some(new_id) = new_id else {
            return Err(StoreError::SubscriberNotFound(id.0));
        };
        let count = Query::new(COUNT_SAVED_SEARCHES).bind(id.0).fetch_one(&mut tx).await?.int(0);
        if count as usize > MAX_SAVED_SEARCHES {
            tx.rollback().await?;
            return Err(StoreError::TooManySavedSearches { max: MAX_SAVED_SEARCHES });
        }
        tx.commit().await?;
        Ok(SavedSearch { id: new_id, query: query.to_string() })
    }

    async fn remove_saved_search(&self, id: SubscriberId, search: i64) -> Result<bool, StoreError> {
        let done = Query::new(REMOVE_SAVED_SEARCH).bind(search).bind(id.0).execute(self.pool()).await?;
        Ok(done > 0)
    }

    async fn digest_candidates(
        &self,
        frequency: Frequency,
        kind: MailKind,
        period_key: &str,
        after: SubscriberId,
        limit: u32,
    ) -> Result<Vec<Subscriber>, StoreError> {
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers s WHERE {DIGEST_CANDIDATES_WHERE}");
        let rows = Query::new(sql)
            .bind(frequency.as_str())
            .bind(after.0)
            .bind(kind.as_str())
            .bind(period_key)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_to_subscriber).collect()
    }

    async fn enqueue_mail(&self, mail: &NewMail) -> Result<bool, StoreError> {
        let now = fmt_ts(Utc::now());
        let done = Query::new(ENQUEUE)
            .bind(mail.subscriber.0)
            .bind(mail.kind.as_str())
            .bind(&mail.period_key)
            .bind(&mail.recipient)
            .bind(&mail.message_id)
            .bind(&mail.message)
            .bind(&now)
            .bind(&now)
            .execute(self.pool())
            .await?;
        Ok(done > 0)
    }

    async fn claim_mail(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMail>, StoreError> {
        let now_s = fmt_ts(now);
        let until = fmt_ts(lease_until(now, lease));
        let rows = self.backend().claim_rows(owner, &now_s, &until, limit).await?;
        rows.iter().map(row_to_mail).collect()
    }

    async fn mark_sent(&self, id: i64, owner: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.backend().begin().await?;
        let done = Query::new(MARK_SENT).bind(fmt_ts(now)).bind(id).bind(owner).execute(&mut tx).await?;
        if done > 0 {
            Query::new(RESET_BOUNCES).bind(id).execute(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(done > 0)
    }

    async fn mark_retry(&self, id: i64, owner: &str, retry_at: DateTime<Utc>, error: &str) -> Result<bool, StoreError> {
        let done =
            Query::new(MARK_RETRY).bind(fmt_ts(retry_at)).bind(error).bind(id).bind(owner).execute(self.pool()).await?;
        Ok(done > 0)
    }

    async fn mark_failed(&self, id: i64, owner: &str, error: &str, pause_after: u32) -> Result<bool, StoreError> {
        let now = fmt_ts(Utc::now());
        let mut tx = self.backend().begin().await?;
        let done = Query::new(MARK_FAILED).bind(error).bind(id).bind(owner).execute(&mut tx).await?;
        if done == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let sub = Query::new(OUTBOX_SUBSCRIBER).bind(id).fetch_one(&mut tx).await?.int(0);
        // Bounces from several senders add up, and the pause below sees
        // them all: the transaction holds the subscriber's row until
        // commit (PostgreSQL: this update's row lock; SQLite: the write
        // lock, taken by the update above).
        Query::new(ADD_BOUNCE).bind(sub).execute(&mut tx).await?;
        let paused = Query::new(PAUSE_BOUNCING)
            .bind(&now)
            .bind(sub)
            .bind(i64::from(pause_after.max(1)))
            .execute(&mut tx)
            .await?
            > 0;
        tx.commit().await?;
        Ok(paused)
    }

    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let rows = Query::new(OUTBOX_COUNTS).fetch_all(self.pool()).await?;
        Ok(outbox_counts(rows.iter().map(|r| (r.text(0), r.int(1)))))
    }

    async fn next_mail_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next = Query::new(NEXT_DUE).fetch_one(self.pool()).await?.opt_text(0);
        Ok(parse_ts(next))
    }
}
