//! [`Mailing`] for [`PgStore`]: the SQLite backend's statements and row
//! decoders (`sql_mailing.rs`) with PostgreSQL's `$N` placeholders, and its
//! rules.
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

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{Email, UserId};
use sqlx::Row;

use crate::StoreError;
use crate::mailing::{
    Frequency, MAX_CATEGORIES, MAX_SAVED_SEARCHES, MailKind, Mailing, NewMail, OutboxCounts, OutboxMail, SavedSearch,
    Subscriber, SubscriberId,
};
use crate::sql_common::numbered;
use crate::sql_mailing::{
    ADD_BOUNCE, ADD_SAVED_SEARCH, CONFIRM, COUNT_SAVED_SEARCHES, DIGEST_CANDIDATES_WHERE, DUE_ROWS, ENQUEUE, LEASE_SET,
    MAIL_COLUMNS, MARK_FAILED, MARK_RETRY, MARK_SENT, NEXT_DUE, OUTBOX_COUNTS, OUTBOX_SUBSCRIBER, PAUSE_BOUNCING,
    REMOVE_SAVED_SEARCH, RESET_BOUNCES, SAVED_SEARCHES, SUBSCRIBE_INSERT, SUBSCRIBE_LINK_USER, SUBSCRIBE_RESTART,
    SUBSCRIBER_COLUMNS, UNSUBSCRIBE, UPDATE_SUBSCRIPTION, lease_until, outbox_counts, pad_categories, row_to_mail,
    row_to_subscriber,
};
use crate::sqlite::{fmt_ts, parse_ts};

use super::PgStore;

/// Advisory lock key held (until commit) by every subscribe: "pbmailin" in ASCII.
const SUBSCRIBE_LOCK: i64 = 0x7062_6d61_696c_696e;

impl PgStore {
    async fn subscriber_where(&self, cond: &str, value: i64) -> Result<Option<Subscriber>, StoreError> {
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE {cond} = $1");
        let row = sqlx::query(&sql).bind(value).fetch_optional(&self.pool).await?;
        row.map(|r| row_to_subscriber(&r)).transpose()
    }
}

#[async_trait]
impl Mailing for PgStore {
    async fn subscribe(&self, email: &Email, user: Option<UserId>) -> Result<Subscriber, StoreError> {
        let now = fmt_ts(Utc::now());
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(SUBSCRIBE_LOCK).execute(&mut *tx).await?;
        sqlx::query(&numbered(SUBSCRIBE_INSERT))
            .bind(email.as_str())
            .bind(email.key())
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&numbered(SUBSCRIBE_RESTART)).bind(email.key()).execute(&mut *tx).await?;
        if let Some(u) = user {
            sqlx::query(&numbered(SUBSCRIBE_LINK_USER)).bind(u.0).bind(email.key()).bind(u.0).execute(&mut *tx).await?;
        }
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email_key = $1");
        let row = sqlx::query(&sql).bind(email.key()).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        row_to_subscriber(&row)
    }

    async fn subscriber(&self, id: SubscriberId) -> Result<Option<Subscriber>, StoreError> {
        self.subscriber_where("id", id.0).await
    }

    async fn subscriber_by_email(&self, email: &Email) -> Result<Option<Subscriber>, StoreError> {
        let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email_key = $1");
        let row = sqlx::query(&sql).bind(email.key()).fetch_optional(&self.pool).await?;
        row.map(|r| row_to_subscriber(&r)).transpose()
    }

    async fn subscriber_for_user(&self, user: UserId) -> Result<Option<Subscriber>, StoreError> {
        self.subscriber_where("user_id", user.0).await
    }

    async fn confirm_subscriber(&self, id: SubscriberId) -> Result<Subscriber, StoreError> {
        let now = fmt_ts(Utc::now());
        sqlx::query(&numbered(CONFIRM)).bind(&now).bind(id.0).execute(&self.pool).await?;
        self.subscriber(id).await?.ok_or(StoreError::SubscriberNotFound(id.0))
    }

    async fn unsubscribe(&self, id: SubscriberId) -> Result<bool, StoreError> {
        let now = fmt_ts(Utc::now());
        sqlx::query(&numbered(UNSUBSCRIBE)).bind(&now).bind(id.0).execute(&self.pool).await?;
        Ok(self.subscriber(id).await?.is_some())
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
        sqlx::query(&numbered(UPDATE_SUBSCRIPTION))
            .bind(frequency.as_str())
            .bind(pad_categories(categories))
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        self.subscriber(id).await?.ok_or(StoreError::SubscriberNotFound(id.0))
    }

    async fn saved_searches(&self, id: SubscriberId) -> Result<Vec<SavedSearch>, StoreError> {
        let rows = sqlx::query(&numbered(SAVED_SEARCHES)).bind(id.0).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| SavedSearch { id: r.get(0), query: r.get(1) }).collect())
    }

    async fn add_saved_search(&self, id: SubscriberId, query: &str) -> Result<SavedSearch, StoreError> {
        let now = fmt_ts(Utc::now());
        let mut tx = self.pool.begin().await?;
        // The subscriber's row is locked until commit: concurrent adds for
        // one subscriber take turns, and each counts the others' rows.
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM subscribers WHERE id = $1 FOR UPDATE")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(StoreError::SubscriberNotFound(id.0));
        }
        let new_id: Option<i64> = sqlx::query_scalar(&numbered(ADD_SAVED_SEARCH))
            .bind(query)
            .bind(&now)
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(new_id) = new_id else {
            return Err(StoreError::SubscriberNotFound(id.0));
        };
        let count: i64 = sqlx::query_scalar(&numbered(COUNT_SAVED_SEARCHES)).bind(id.0).fetch_one(&mut *tx).await?;
        if count as usize > MAX_SAVED_SEARCHES {
            tx.rollback().await?;
            return Err(StoreError::TooManySavedSearches { max: MAX_SAVED_SEARCHES });
        }
        tx.commit().await?;
        Ok(SavedSearch { id: new_id, query: query.to_string() })
    }

    async fn remove_saved_search(&self, id: SubscriberId, search: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(&numbered(REMOVE_SAVED_SEARCH)).bind(search).bind(id.0).execute(&self.pool).await?;
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
        let sql = numbered(&format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers s WHERE {DIGEST_CANDIDATES_WHERE}"));
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
        let done = sqlx::query(&numbered(ENQUEUE))
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
        let until = fmt_ts(lease_until(now, lease));
        // The due rows are picked (and locked) once; rows other senders hold
        // locks on are skipped, and one whose lease was taken since this
        // statement began is re-checked against the conditions and dropped.
        let sql = numbered(&format!(
            "WITH due AS MATERIALIZED ({DUE_ROWS} FOR UPDATE SKIP LOCKED), \
             claimed AS ({LEASE_SET} WHERE id IN (SELECT id FROM due) RETURNING {MAIL_COLUMNS}) \
             SELECT {MAIL_COLUMNS} FROM claimed ORDER BY id"
        ));
        let rows = sqlx::query(&sql)
            .bind(&now_s)
            .bind(&now_s)
            .bind(i64::from(limit))
            .bind(owner)
            .bind(&until)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(row_to_mail).collect()
    }

    async fn mark_sent(&self, id: i64, owner: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(&numbered(MARK_SENT)).bind(fmt_ts(now)).bind(id).bind(owner).execute(&mut *tx).await?;
        if done.rows_affected() > 0 {
            sqlx::query(&numbered(RESET_BOUNCES)).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn mark_retry(&self, id: i64, owner: &str, retry_at: DateTime<Utc>, error: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(&numbered(MARK_RETRY))
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
        let done = sqlx::query(&numbered(MARK_FAILED)).bind(error).bind(id).bind(owner).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let sub: i64 = sqlx::query_scalar(&numbered(OUTBOX_SUBSCRIBER)).bind(id).fetch_one(&mut *tx).await?;
        // Locks the subscriber's row until commit: bounces from several
        // senders add up, and the pause below sees them all.
        sqlx::query(&numbered(ADD_BOUNCE)).bind(sub).execute(&mut *tx).await?;
        let paused = sqlx::query(&numbered(PAUSE_BOUNCING))
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
        let rows = sqlx::query(OUTBOX_COUNTS).fetch_all(&self.pool).await?;
        Ok(outbox_counts(rows.iter().map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))))
    }

    async fn next_mail_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<String> = sqlx::query_scalar(NEXT_DUE).fetch_one(&self.pool).await?;
        Ok(parse_ts(next))
    }
}
