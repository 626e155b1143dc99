//! [`Mailing`] for both backends, written once: subscribers, saved searches
//! and the outbox, in portable SQL (`sql_mailing.rs`: `ON CONFLICT DO
//! NOTHING`, `?` placeholders, text timestamps that compare in time order).
//!
//! Like [`crate::coordination`], the implementation is one macro,
//! `impl_mailing!`, expanded for [`SqliteStore`] (placeholders as written)
//! and for [`PgStore`] (renumbered by [`numbered`]). What differs between the
//! backends is not branched on here but supplied per backend:
//! * the macro's arguments: the store and its placeholder function;
//! * hook methods that each store defines (SQLite's in `sqlite_mailing.rs`,
//!   PostgreSQL's in `postgres/mailing.rs`, with the reasons for each):
//!   - `Self::lock_for_subscribe(conn)`: run first in a subscribe (SQLite:
//!     nothing, the insert after it is a write and takes the write lock;
//!     PostgreSQL: a transaction advisory lock, so "a member has one
//!     subscription" and the link it guards take turns);
//!   - `Self::lock_subscriber_for_search(conn, id)`: run first when adding a
//!     saved search, `false` for an unknown subscriber (SQLite: nothing, the
//!     insert takes the write lock before the count; PostgreSQL: locks the
//!     subscriber's row, so concurrent adds take turns);
//!   - `self.claim_rows(owner, now, until, limit)`: leases due outbox rows
//!     and returns them as [`MAIL_COLUMNS`] rows, oldest id first (SQLite: an
//!     `UPDATE … WHERE id IN (SELECT …)` then a read-back, in one
//!     transaction; PostgreSQL: one statement whose due rows are picked
//!     `FOR UPDATE SKIP LOCKED`).
//!
//! Rules both keep: a claim sets the owner and expiry of the lease, so two
//! senders never hold the same row; every later change of a row checks the
//! owner, so a sender whose lease ran out (and whose row someone else took
//! over) cannot overwrite the new owner's state.
//!
//! [`MAIL_COLUMNS`]: crate::sql_mailing::MAIL_COLUMNS

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{Email, UserId};
use sqlx::Row;

use crate::mailing::{
    Frequency, MAX_CATEGORIES, MAX_SAVED_SEARCHES, MailKind, Mailing, NewMail, OutboxCounts, OutboxMail, SavedSearch,
    Subscriber, SubscriberId,
};
use crate::sql_common::{as_written, numbered};
use crate::sql_mailing::{
    ADD_BOUNCE, ADD_SAVED_SEARCH, CONFIRM, COUNT_SAVED_SEARCHES, DIGEST_CANDIDATES_WHERE, ENQUEUE, MARK_FAILED,
    MARK_RETRY, MARK_SENT, NEXT_DUE, OUTBOX_COUNTS, OUTBOX_SUBSCRIBER, PAUSE_BOUNCING, REMOVE_SAVED_SEARCH,
    RESET_BOUNCES, SAVED_SEARCHES, SUBSCRIBE_INSERT, SUBSCRIBE_LINK_USER, SUBSCRIBE_RESTART, SUBSCRIBER_COLUMNS,
    UNSUBSCRIBE, UPDATE_SUBSCRIPTION, lease_until, outbox_counts, pad_categories, row_to_mail, row_to_subscriber,
};
use crate::sqlite::{fmt_ts, parse_ts};
use crate::{PgStore, SqliteStore, StoreError};

/// Implements [`Mailing`] for `$store` (a store with a `pool` field and the
/// hook methods listed at the top of this module), running every statement
/// through `$sql` (placeholder style of the backend).
macro_rules! impl_mailing {
    ($store:ty, $sql:path) => {
        impl $store {
            /// The subscriber whose integer column `column` (`id`, `user_id`) is `value`.
            async fn subscriber_where(&self, column: &str, value: i64) -> Result<Option<Subscriber>, StoreError> {
                let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE {column} = ?");
                let sql = $sql(&sql);
                let row = sqlx::query(&sql).bind(value).fetch_optional(&self.pool).await?;
                row.map(|r| row_to_subscriber(&r)).transpose()
            }
        }

        #[async_trait]
        impl Mailing for $store {
            async fn subscribe(&self, email: &Email, user: Option<UserId>) -> Result<Subscriber, StoreError> {
                let now = fmt_ts(Utc::now());
                let mut tx = self.pool.begin().await?;
                Self::lock_for_subscribe(&mut *tx).await?;
                sqlx::query(&$sql(SUBSCRIBE_INSERT))
                    .bind(email.as_str())
                    .bind(email.key())
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&$sql(SUBSCRIBE_RESTART)).bind(email.key()).execute(&mut *tx).await?;
                if let Some(u) = user {
                    sqlx::query(&$sql(SUBSCRIBE_LINK_USER))
                        .bind(u.0)
                        .bind(email.key())
                        .bind(u.0)
                        .execute(&mut *tx)
                        .await?;
                }
                let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email_key = ?");
                let sql = $sql(&sql);
                let row = sqlx::query(&sql).bind(email.key()).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                row_to_subscriber(&row)
            }

            async fn subscriber(&self, id: SubscriberId) -> Result<Option<Subscriber>, StoreError> {
                self.subscriber_where("id", id.0).await
            }

            async fn subscriber_by_email(&self, email: &Email) -> Result<Option<Subscriber>, StoreError> {
                let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email_key = ?");
                let sql = $sql(&sql);
                let row = sqlx::query(&sql).bind(email.key()).fetch_optional(&self.pool).await?;
                row.map(|r| row_to_subscriber(&r)).transpose()
            }

            async fn subscriber_for_user(&self, user: UserId) -> Result<Option<Subscriber>, StoreError> {
                self.subscriber_where("user_id", user.0).await
            }

            async fn confirm_subscriber(&self, id: SubscriberId) -> Result<Subscriber, StoreError> {
                let now = fmt_ts(Utc::now());
                sqlx::query(&$sql(CONFIRM)).bind(&now).bind(id.0).execute(&self.pool).await?;
                self.subscriber(id).await?.ok_or(StoreError::SubscriberNotFound(id.0))
            }

            async fn unsubscribe(&self, id: SubscriberId) -> Result<bool, StoreError> {
                let now = fmt_ts(Utc::now());
                sqlx::query(&$sql(UNSUBSCRIBE)).bind(&now).bind(id.0).execute(&self.pool).await?;
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
                sqlx::query(&$sql(UPDATE_SUBSCRIPTION))
                    .bind(frequency.as_str())
                    .bind(pad_categories(categories))
                    .bind(id.0)
                    .execute(&self.pool)
                    .await?;
                self.subscriber(id).await?.ok_or(StoreError::SubscriberNotFound(id.0))
            }

            async fn saved_searches(&self, id: SubscriberId) -> Result<Vec<SavedSearch>, StoreError> {
                let rows = sqlx::query(&$sql(SAVED_SEARCHES)).bind(id.0).fetch_all(&self.pool).await?;
                Ok(rows.iter().map(|r| SavedSearch { id: r.get(0), query: r.get(1) }).collect())
            }

            async fn add_saved_search(&self, id: SubscriberId, query: &str) -> Result<SavedSearch, StoreError> {
                let now = fmt_ts(Utc::now());
                let mut tx = self.pool.begin().await?;
                // Concurrent adds cannot both slip under the limit: the hook
                // makes them take turns, and each counts the others' rows.
                if !Self::lock_subscriber_for_search(&mut *tx, id.0).await? {
                    return Err(StoreError::SubscriberNotFound(id.0));
                }
                let new_id: Option<i64> = sqlx::query_scalar(&$sql(ADD_SAVED_SEARCH))
                    .bind(query)
                    .bind(&now)
                    .bind(id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(new_id) = new_id else {
                    return Err(StoreError::SubscriberNotFound(id.0));
                };
                let count: i64 = sqlx::query_scalar(&$sql(COUNT_SAVED_SEARCHES)).bind(id.0).fetch_one(&mut *tx).await?;
                if count as usize > MAX_SAVED_SEARCHES {
                    tx.rollback().await?;
                    return Err(StoreError::TooManySavedSearches { max: MAX_SAVED_SEARCHES });
                }
                tx.commit().await?;
                Ok(SavedSearch { id: new_id, query: query.to_string() })
            }

            async fn remove_saved_search(&self, id: SubscriberId, search: i64) -> Result<bool, StoreError> {
                let done = sqlx::query(&$sql(REMOVE_SAVED_SEARCH)).bind(search).bind(id.0).execute(&self.pool).await?;
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
                let sql = format!("SELECT {SUBSCRIBER_COLUMNS} FROM subscribers s WHERE {DIGEST_CANDIDATES_WHERE}");
                let sql = $sql(&sql);
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
                let done = sqlx::query(&$sql(ENQUEUE))
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
                let rows = self.claim_rows(owner, &now_s, &until, limit).await?;
                rows.iter().map(row_to_mail).collect()
            }

            async fn mark_sent(&self, id: i64, owner: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                let done =
                    sqlx::query(&$sql(MARK_SENT)).bind(fmt_ts(now)).bind(id).bind(owner).execute(&mut *tx).await?;
                if done.rows_affected() > 0 {
                    sqlx::query(&$sql(RESET_BOUNCES)).bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }

            async fn mark_retry(
                &self,
                id: i64,
                owner: &str,
                retry_at: DateTime<Utc>,
                error: &str,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(&$sql(MARK_RETRY))
                    .bind(fmt_ts(retry_at))
                    .bind(error)
                    .bind(id)
                    .bind(owner)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn mark_failed(
                &self,
                id: i64,
                owner: &str,
                error: &str,
                pause_after: u32,
            ) -> Result<bool, StoreError> {
                let now = fmt_ts(Utc::now());
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(&$sql(MARK_FAILED)).bind(error).bind(id).bind(owner).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                let sub: i64 = sqlx::query_scalar(&$sql(OUTBOX_SUBSCRIBER)).bind(id).fetch_one(&mut *tx).await?;
                // Bounces from several senders add up, and the pause below sees
                // them all: the transaction holds the subscriber's row until
                // commit (PostgreSQL: this update's row lock; SQLite: the write
                // lock, taken by the update above).
                sqlx::query(&$sql(ADD_BOUNCE)).bind(sub).execute(&mut *tx).await?;
                let paused = sqlx::query(&$sql(PAUSE_BOUNCING))
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
                let rows = sqlx::query(&$sql(OUTBOX_COUNTS)).fetch_all(&self.pool).await?;
                Ok(outbox_counts(rows.iter().map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))))
            }

            async fn next_mail_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
                let next: Option<String> = sqlx::query_scalar(&$sql(NEXT_DUE)).fetch_one(&self.pool).await?;
                Ok(parse_ts(next))
            }
        }
    };
}

impl_mailing!(SqliteStore, as_written);
impl_mailing!(PgStore, numbered);
