//! The SQL text and row decoders of [`crate::Mailing`] that both backends
//! run (`mailing_impl.rs`, with each backend's hooks in `sqlite_mailing.rs`
//! and `postgres/mailing.rs`): portable statements with `?` placeholders (PostgreSQL renumbers
//! them with [`crate::sql_common::numbered`]) over the same `subscribers`,
//! `saved_searches` and `outbox` tables, read back through [`Cells`].
//!
//! Only claiming differs: SQLite (one writer) leases with an `UPDATE` and then
//! reads its rows back; PostgreSQL leases and returns the rows in one
//! statement that skips rows other senders have locked.

use paperboy_core::{Email, UserId};

use crate::StoreError;
use crate::mailing::{Frequency, MailKind, OutboxCounts, OutboxMail, Subscriber, SubscriberId};
use crate::sql_common::Cells;
use crate::sqlite::parse_ts;

/// Columns read into a [`Subscriber`] by [`row_to_subscriber`].
pub(crate) const SUBSCRIBER_COLUMNS: &str = "id, email, user_id, frequency, categories, created_at, confirmed_at, \
     unsubscribed_at, paused_at, bounces";

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
