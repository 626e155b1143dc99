//! [`Mailing`] for [`SqliteStore`]: subscribers, saved searches and the
//! outbox, in portable SQL (`ON CONFLICT DO NOTHING`, `?` placeholders, text
//! timestamps that compare in time order).
//!
//! Claiming is one `UPDATE … WHERE id IN (SELECT …)` that sets the owner and
//! expiry of the lease, so two senders never hold the same row; every later
//! change of a row checks the owner, so a sender whose lease ran out (and
//! whose row someone else took over) cannot overwrite the new owner's state.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{Email, UserId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::mailing::{
    Frequency, MAX_CATEGORIES, MAX_SAVED_SEARCHES, MailKind, Mailing, NewMail, OutboxCounts, OutboxMail, SavedSearch,
    Subscriber, SubscriberId,
};
use crate::sqlite::{fmt_ts, parse_ts};
use crate::{SqliteStore, StoreError};

const SUBSCRIBER_COLUMNS: &str = "id, email, user_id, frequency, categories, created_at, confirmed_at, \
     unsubscribed_at, paused_at, bounces";

fn corrupt(id: i64, why: String) -> StoreError {
    StoreError::Corrupt { paper_id: format!("subscriber {id}"), why }
}

fn row_to_subscriber(r: &SqliteRow) -> Result<Subscriber, StoreError> {
    let id: i64 = r.get(0);
    let email = Email::parse(r.get::<&str, _>(1)).map_err(|e| corrupt(id, format!("email: {e}")))?;
    let frequency = Frequency::parse(r.get::<&str, _>(3)).ok_or_else(|| corrupt(id, "frequency".into()))?;
    let categories = r.get::<&str, _>(4).split_whitespace().map(str::to_string).collect();
    Ok(Subscriber {
        id: SubscriberId(id),
        email,
        user: r.get::<Option<i64>, _>(2).map(UserId),
        frequency,
        categories,
        created_at: parse_ts(r.get(5)).ok_or_else(|| corrupt(id, "created_at".into()))?,
        confirmed_at: parse_ts(r.get(6)),
        unsubscribed_at: parse_ts(r.get(7)),
        paused_at: parse_ts(r.get(8)),
        bounces: r.get::<i64, _>(9).clamp(0, i64::from(u32::MAX)) as u32,
    })
}

/// `' cs.LG cs.AI '`: space-padded, so one `LIKE '% cs.LG %'` finds a category.
fn pad_categories(categories: &[String]) -> String {
    let mut s = String::from(" ");
    for c in categories {
        s.push_str(c.trim());
        s.push(' ');
    }
    s
}

impl SqliteStore {
    async fn subscriber_where(&self, cond: &str, value: &str) -> Result<Option<Subscriber>, StoreError> {
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE {cond}");
        let row = sqlx::query(&sql).bind(value).fetch_optional(&self.pool).await?;
        row.map(|r| row_to_subscriber(&r)).transpose()
    }

    async fn subscriber_by_id(&self, id: SubscriberId) -> Result<Option<Subscriber>, StoreError> {
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE id = ?");
        let row = sqlx::query(&sql).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(|r| row_to_subscriber(&r)).transpose()
    }
}

#[async_trait]
impl Mailing for SqliteStore {
    async fn subscribe(&self, email: &Email, user: Option<UserId>) -> Result<Subscriber, StoreError> {
        let now = fmt_ts(Utc::now());
        let mut tx = self.pool.begin().await?;
        // A write first, so that the transaction holds the write lock.
        sqlx::query(
            "INSERT INTO subscribers (email, email_key, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (email_key) DO NOTHING",
        )
        .bind(email.as_str())
        .bind(email.key())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        // An unsubscribed address starts again and must opt in again.
        sqlx::query(
            "UPDATE subscribers SET confirmed_at = NULL, unsubscribed_at = NULL, paused_at = NULL, bounces = 0 \
             WHERE email_key = ? AND unsubscribed_at IS NOT NULL",
        )
        .bind(email.key())
        .execute(&mut *tx)
        .await?;
        if let Some(u) = user {
            // A member has one subscription: the first address linked stays.
            sqlx::query(
                "UPDATE subscribers SET user_id = ? WHERE email_key = ? AND user_id IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM subscribers o WHERE o.user_id = ?)",
            )
            .bind(u.0)
            .bind(email.key())
            .bind(u.0)
            .execute(&mut *tx)
            .await?;
        }
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email_key = ?");
        let row = sqlx::query(&sql).bind(email.key()).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        row_to_subscriber(&row)
    }

    async fn subscriber(&self, id: SubscriberId) -> Result<Option<Subscriber>, StoreError> {
        self.subscriber_by_id(id).await
    }

    async fn subscriber_by_email(&self, email: &Email) -> Result<Option<Subscriber>, StoreError> {
        self.subscriber_where("email_key = ?", &email.key()).await
    }

    async fn subscriber_for_user(&self, user: UserId) -> Result<Option<Subscriber>, StoreError> {
        self.subscriber_where("user_id = ?", &user.0.to_string()).await
    }

    async fn confirm_subscriber(&self, id: SubscriberId) -> Result<Subscriber, StoreError> {
        let now = fmt_ts(Utc::now());
        sqlx::query(
            "UPDATE subscribers SET confirmed_at = COALESCE(confirmed_at, ?), unsubscribed_at = NULL, \
             paused_at = NULL, bounces = 0 WHERE id = ?",
        )
        .bind(&now)
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        self.subscriber_by_id(id).await?.ok_or(StoreError::SubscriberNotFound(id.0))
    }

    async fn unsubscribe(&self, id: SubscriberId) -> Result<bool, StoreError> {
        let now = fmt_ts(Utc::now());
        sqlx::query("UPDATE subscribers SET unsubscribed_at = COALESCE(unsubscribed_at, ?) WHERE id = ?")
            .bind(&now)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(self.subscriber_by_id(id).await?.is_some())
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
        sqlx::query("UPDATE subscribers SET frequency = ?, categories = ?, paused_at = NULL, bounces = 0 WHERE id = ?")
            .bind(frequency.as_str())
            .bind(pad_categories(categories))
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        self.subscriber_by_id(id).await?.ok_or(StoreError::SubscriberNotFound(id.0))
    }

    async fn saved_searches(&self, id: SubscriberId) -> Result<Vec<SavedSearch>, StoreError> {
        let rows = sqlx::query("SELECT id, query FROM saved_searches WHERE subscriber_id = ? ORDER BY id")
            .bind(id.0)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| SavedSearch { id: r.get(0), query: r.get(1) }).collect())
    }

    async fn add_saved_search(&self, id: SubscriberId, query: &str) -> Result<SavedSearch, StoreError> {
        let now = fmt_ts(Utc::now());
        let mut tx = self.pool.begin().await?;
        // Insert first (takes the write lock), then check the count, so that
        // concurrent adds cannot both slip under the limit.
        let inserted = sqlx::query(
            "INSERT INTO saved_searches (subscriber_id, query, created_at) SELECT id, ?, ? FROM subscribers WHERE id = ?",
        )
        .bind(query)
        .bind(&now)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::SubscriberNotFound(id.0));
        }
        let new_id = inserted.last_insert_rowid();
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM saved_searches WHERE subscriber_id = ?")
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
        if count as usize > MAX_SAVED_SEARCHES {
            tx.rollback().await?;
            return Err(StoreError::TooManySavedSearches { max: MAX_SAVED_SEARCHES });
        }
        tx.commit().await?;
        Ok(SavedSearch { id: new_id, query: query.to_string() })
    }

    async fn remove_saved_search(&self, id: SubscriberId, search: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM saved_searches WHERE id = ? AND subscriber_id = ?")
            .bind(search)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn digest_candidates(
        &self,
        frequency: Frequency,
        kind: MailKind,
        period_key: &str,
        after: SubscriberId,
        limit: u32,
    ) -> Result<Vec<Subscriber>, StoreError> {
        let sql = format!(
            "SELECT {SUBSCRIBER_COLUMNS} FROM subscribers s WHERE s.frequency = ? AND s.confirmed_at IS NOT NULL \
             AND s.unsubscribed_at IS NULL AND s.paused_at IS NULL AND s.id > ? AND NOT EXISTS \
             (SELECT 1 FROM outbox o WHERE o.subscriber_id = s.id AND o.kind = ? AND o.period_key = ?) \
             ORDER BY s.id LIMIT ?"
        );
        let rows = sqlx::query(&sql)
            .bind(frequency.as_str())
            .bind(after.0)
            .bind(kind.as_str())
            .bind(period_key)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(row_to_subscriber).collect()
    }

    async fn enqueue_mail(&self, mail: &NewMail) -> Result<bool, StoreError> {
        let now = fmt_ts(Utc::now());
        let done = sqlx::query(
            "INSERT INTO outbox (subscriber_id, kind, period_key, recipient, message_id, message, next_attempt_at, \
             created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subscriber_id, kind, period_key) DO NOTHING",
        )
        .bind(mail.subscriber.0)
        .bind(mail.kind.as_str())
        .bind(&mail.period_key)
        .bind(&mail.recipient)
        .bind(&mail.message_id)
        .bind(&mail.message)
        .bind(&now)
        .bind(&now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn claim_mail(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMail>, StoreError> {
        let now_s = fmt_ts(now);
        let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5));
        let until = fmt_ts(now + lease);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? \
             AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at, id LIMIT ?)",
        )
        .bind(owner)
        .bind(&until)
        .bind(&now_s)
        .bind(&now_s)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(
            "SELECT id, subscriber_id, kind, period_key, recipient, message_id, message, attempts FROM outbox \
             WHERE state = 'pending' AND lease_owner = ? AND lease_until = ? ORDER BY id",
        )
        .bind(owner)
        .bind(&until)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.get(0);
                let kind = MailKind::parse(r.get::<&str, _>(2))
                    .ok_or_else(|| StoreError::Corrupt { paper_id: format!("outbox row {id}"), why: "kind".into() })?;
                Ok(OutboxMail {
                    id,
                    subscriber: SubscriberId(r.get(1)),
                    kind,
                    period_key: r.get(3),
                    recipient: r.get(4),
                    message_id: r.get(5),
                    message: r.get(6),
                    attempts: r.get::<i64, _>(7).clamp(0, i64::from(u32::MAX)) as u32,
                })
            })
            .collect()
    }

    async fn mark_sent(&self, id: i64, owner: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = ?, lease_owner = NULL, lease_until = NULL, last_error = NULL \
             WHERE id = ? AND lease_owner = ? AND state = 'pending'",
        )
        .bind(fmt_ts(now))
        .bind(id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() > 0 {
            sqlx::query(
                "UPDATE subscribers SET bounces = 0 WHERE id = (SELECT subscriber_id FROM outbox WHERE id = ?)",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn mark_retry(&self, id: i64, owner: &str, retry_at: DateTime<Utc>, error: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = ?, lease_owner = NULL, lease_until = NULL, last_error = ? \
             WHERE id = ? AND lease_owner = ? AND state = 'pending'",
        )
        .bind(fmt_ts(retry_at))
        .bind(error)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn mark_failed(&self, id: i64, owner: &str, error: &str, pause_after: u32) -> Result<bool, StoreError> {
        let now = fmt_ts(Utc::now());
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE outbox SET state = 'failed', lease_owner = NULL, lease_until = NULL, last_error = ? \
             WHERE id = ? AND lease_owner = ? AND state = 'pending'",
        )
        .bind(error)
        .bind(id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let sub: i64 =
            sqlx::query_scalar("SELECT subscriber_id FROM outbox WHERE id = ?").bind(id).fetch_one(&mut *tx).await?;
        sqlx::query("UPDATE subscribers SET bounces = bounces + 1 WHERE id = ?").bind(sub).execute(&mut *tx).await?;
        let paused = sqlx::query(
            "UPDATE subscribers SET paused_at = COALESCE(paused_at, ?) WHERE id = ? AND bounces >= ? AND paused_at IS NULL",
        )
        .bind(&now)
        .bind(sub)
        .bind(i64::from(pause_after.max(1)))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(paused)
    }

    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetch_all(&self.pool).await?;
        let mut c = OutboxCounts::default();
        for r in rows {
            let n = r.get::<i64, _>(1).max(0) as u64;
            match r.get::<&str, _>(0) {
                "pending" => c.pending = n,
                "sent" => c.sent = n,
                _ => c.failed += n,
            }
        }
        Ok(c)
    }

    async fn next_mail_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<String> = sqlx::query_scalar(
            "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at THEN lease_until \
             ELSE next_attempt_at END) FROM outbox WHERE state = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(parse_ts(next))
    }
}
