//! Email subscriptions and the outbox: the [`Mailing`] trait.
//!
//! Rules every backend keeps (the argument is spelled out in docs/EMAIL.md):
//! * A mail is a row of the outbox, holding the whole rendered message,
//!   before any attempt to send it; `(subscriber, kind, period)` is unique,
//!   so a digest is built into the outbox at most once however many runs race.
//! * Senders *claim* due rows with a lease (owner and expiry, one statement);
//!   a row is sent only by the owner of an unexpired lease, and a crashed
//!   sender's rows become due again when the lease runs out.
//! * A sent row is never claimed again. A permanent failure is recorded,
//!   counts as a bounce of the subscriber, and enough bounces in a row pause
//!   the subscription; a delivered mail resets the count.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{Email, UserId};
use serde::Serialize;

use crate::StoreError;

/// A subscriber's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SubscriberId(pub i64);

impl std::fmt::Display for SubscriberId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How often a subscriber gets a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// Every weekday morning.
    #[default]
    Daily,
    /// Monday mornings.
    Weekly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
        }
    }

    /// `daily` or `weekly`, as stored and as typed on the command line.
    pub fn parse(s: &str) -> Option<Frequency> {
        match s.trim().to_ascii_lowercase().as_str() {
            "daily" => Some(Frequency::Daily),
            "weekly" => Some(Frequency::Weekly),
            _ => None,
        }
    }
}

/// What an outbox row carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailKind {
    /// The double opt-in mail with the confirmation link.
    Confirm,
    Daily,
    Weekly,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Confirm => "confirm",
            MailKind::Daily => "daily",
            MailKind::Weekly => "weekly",
        }
    }

    pub fn parse(s: &str) -> Option<MailKind> {
        match s {
            "confirm" => Some(MailKind::Confirm),
            "daily" => Some(MailKind::Daily),
            "weekly" => Some(MailKind::Weekly),
            _ => None,
        }
    }

    /// The digest kind of a frequency.
    pub fn digest(f: Frequency) -> MailKind {
        match f {
            Frequency::Daily => MailKind::Daily,
            Frequency::Weekly => MailKind::Weekly,
        }
    }
}

/// What a digest carries: the trending papers, the member's own
/// recommendations (only for a subscription linked to a member), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestContent {
    #[default]
    Trending,
    Recommended,
    Both,
}

impl DigestContent {
    pub fn as_str(self) -> &'static str {
        match self {
            DigestContent::Trending => "trending",
            DigestContent::Recommended => "recommended",
            DigestContent::Both => "both",
        }
    }

    pub fn parse(s: &str) -> Option<DigestContent> {
        match s {
            "trending" => Some(DigestContent::Trending),
            "recommended" => Some(DigestContent::Recommended),
            "both" => Some(DigestContent::Both),
            _ => None,
        }
    }
}

/// A subscription.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subscriber {
    pub id: SubscriberId,
    pub email: Email,
    /// The member whose subscription this is, if any.
    pub user: Option<UserId>,
    pub frequency: Frequency,
    /// Followed categories (`cs.LG`), in the order chosen.
    pub categories: Vec<String>,
    /// What the digest carries; `Recommended` and `Both` need `user`.
    pub content: DigestContent,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    /// Permanent delivery failures in a row.
    pub bounces: u32,
}

impl Subscriber {
    /// Confirmed, not unsubscribed and not paused: digests go out.
    pub fn is_active(&self) -> bool {
        self.confirmed_at.is_some() && self.unsubscribed_at.is_none() && self.paused_at.is_none()
    }
}

/// A query whose new matches a subscriber gets in each digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedSearch {
    pub id: i64,
    pub query: String,
}

/// A rendered mail to put into the outbox.
#[derive(Debug, Clone)]
pub struct NewMail {
    pub subscriber: SubscriberId,
    pub kind: MailKind,
    /// Which digest (`2026-11-27`, `2026-W48`) or which confirmation request.
    pub period_key: String,
    pub recipient: String,
    pub message_id: String,
    /// The whole RFC 5322 message, 7-bit.
    pub message: String,
}

/// A claimed outbox row, to be sent by the lease owner.
#[derive(Debug, Clone)]
pub struct OutboxMail {
    pub id: i64,
    pub subscriber: SubscriberId,
    pub kind: MailKind,
    pub period_key: String,
    pub recipient: String,
    pub message_id: String,
    pub message: String,
    /// Attempts including this one.
    pub attempts: u32,
}

/// How many outbox rows are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
}

/// Saved searches one subscriber may keep.
pub const MAX_SAVED_SEARCHES: usize = 10;
/// Categories one subscriber may follow.
pub const MAX_CATEGORIES: usize = 20;

/// Subscriptions and the outbox (see the module documentation).
#[async_trait]
pub trait Mailing: Send + Sync + 'static {
    /// Subscribes `email` (linked to `user` when a member asks), or returns
    /// the existing subscription. One that was unsubscribed starts again,
    /// unconfirmed (it needs a new opt-in); a member's own verified address
    /// needs no confirmation mail, so the caller may confirm it at once.
    async fn subscribe(&self, email: &Email, user: Option<UserId>) -> Result<Subscriber, StoreError>;

    async fn subscriber(&self, id: SubscriberId) -> Result<Option<Subscriber>, StoreError>;

    async fn subscriber_by_email(&self, email: &Email) -> Result<Option<Subscriber>, StoreError>;

    async fn subscriber_for_user(&self, user: UserId) -> Result<Option<Subscriber>, StoreError>;

    /// Marks the subscription confirmed (idempotent) and active again if it
    /// was unsubscribed; [`StoreError::SubscriberNotFound`] if it is gone.
    async fn confirm_subscriber(&self, id: SubscriberId) -> Result<Subscriber, StoreError>;

    /// Stops all digests (idempotent); `false` when there is no such subscriber.
    async fn unsubscribe(&self, id: SubscriberId) -> Result<bool, StoreError>;

    /// Sets what the digest carries. A subscription without a member can
    /// only carry [`DigestContent::Trending`]: anything else is
    /// [`StoreError::DigestNeedsMember`].
    async fn set_digest_content(&self, id: SubscriberId, content: DigestContent) -> Result<Subscriber, StoreError>;

    /// Sets frequency and followed categories (at most [`MAX_CATEGORIES`]);
    /// a paused subscription is resumed, since its owner just acted on it.
    async fn update_subscription(
        &self,
        id: SubscriberId,
        frequency: Frequency,
        categories: &[String],
    ) -> Result<Subscriber, StoreError>;

    async fn saved_searches(&self, id: SubscriberId) -> Result<Vec<SavedSearch>, StoreError>;

    /// Adds a saved search; [`StoreError::TooManySavedSearches`] past
    /// [`MAX_SAVED_SEARCHES`]. The query is stored as given: callers check it.
    async fn add_saved_search(&self, id: SubscriberId, query: &str) -> Result<SavedSearch, StoreError>;

    /// Removes one of the subscriber's saved searches; `false` if it was not theirs.
    async fn remove_saved_search(&self, id: SubscriberId, search: i64) -> Result<bool, StoreError>;

    /// Active subscribers with `frequency` that have no `kind`/`period_key`
    /// row in the outbox yet, ids above `after`, in id order, at most `limit`.
    async fn digest_candidates(
        &self,
        frequency: Frequency,
        kind: MailKind,
        period_key: &str,
        after: SubscriberId,
        limit: u32,
    ) -> Result<Vec<Subscriber>, StoreError>;

    /// Puts a rendered mail into the outbox, due now; `false` (and nothing
    /// changes) when the subscriber already has that kind and period.
    async fn enqueue_mail(&self, mail: &NewMail) -> Result<bool, StoreError>;

    /// Leases up to `limit` due pending rows to `owner` until `now + lease`:
    /// rows never leased, or whose lease ran out (a crashed sender's).
    async fn claim_mail(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMail>, StoreError>;

    /// Records delivery of a row `owner` holds, and resets the subscriber's
    /// bounce count. `false` if the row was not `owner`'s any more.
    async fn mark_sent(&self, id: i64, owner: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// A temporary failure: the row is due again at `retry_at`.
    async fn mark_retry(&self, id: i64, owner: &str, retry_at: DateTime<Utc>, error: &str) -> Result<bool, StoreError>;

    /// A permanent failure: the row is given up, the subscriber's bounce
    /// count goes up, and at `pause_after` bounces in a row the subscription
    /// is paused. Returns whether it is paused now.
    async fn mark_failed(&self, id: i64, owner: &str, error: &str, pause_after: u32) -> Result<bool, StoreError>;

    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError>;

    /// When the next pending row is due (for a sender deciding how long to sleep).
    async fn next_mail_due(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
}
