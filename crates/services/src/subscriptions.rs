//! Email digest subscriptions: subscribing (double opt-in for addresses
//! nobody has confirmed), the signed links of every mail (confirm,
//! unsubscribe, manage), and the changes a subscriber makes (frequency,
//! categories, saved searches, and for a member's own subscription what the
//! digest carries: trending papers, their recommendations, or both), for
//! visitors and for members in their settings.
//!
//! Signed links are checked with the [`Postman`]'s signer; a forged or
//! garbled link is [`SubscriptionError::Link`], one whose subscriber is
//! gone is [`SubscriptionError::Gone`]. What a subscriber typed wrong is a
//! [`Refusal`], a message for them, not an error.

use std::sync::Arc;

use chrono::Utc;
use paperboy_core::{Email, UserId};
use paperboy_mail::{MailError, Postman, Purpose, TokenError};
use paperboy_store::{
    Database, DigestContent, Frequency, MAX_CATEGORIES, SavedSearch, StoreError, Subscriber, SubscriberId, User,
};
use thiserror::Error;

use crate::limits::{LimitError, Limits};

/// Longest saved-search query accepted.
pub const MAX_QUERY_CHARS: usize = 200;

/// Why a subscription workflow failed.
#[derive(Debug, Error)]
pub enum SubscriptionError {
    /// A signed link that is forged, garbled or expired.
    #[error(transparent)]
    Link(TokenError),
    /// The link was fine but its subscriber no longer exists.
    #[error("this subscription no longer exists: subscribe again from any page")]
    Gone,
    /// A member without a subscription asked to change it.
    #[error("you have no email digest yet: subscribe first (in your settings)")]
    NoDigest,
    /// A member whose address is not verified asked to subscribe from their
    /// settings: linking a subscription to an account needs proof that the
    /// address is the member's, or anyone could sign up with someone
    /// else's address and take over that address's digest.
    #[error(
        "confirm your email address first: follow the link we mailed to {0} when you signed up, or send a new \
         one from your settings (Send a new confirmation link), then subscribe again"
    )]
    Unverified(Email),
    /// Over the subscribe form's rate limit.
    #[error(transparent)]
    Limited(crate::limits::LimitError),
    /// What was typed is not an email address (the message says why).
    #[error("{0}")]
    BadAddress(String),
    /// The confirmation mail could not be queued.
    #[error(transparent)]
    Mail(MailError),
    /// The store refused (too many categories, an unknown subscriber) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a subscriber typed that cannot be saved, as a message for them.
pub type Refusal = String;

/// A subscription and its saved searches: what the manage form shows.
#[derive(Debug, Clone)]
pub struct Digest {
    pub subscriber: Subscriber,
    pub searches: Vec<SavedSearch>,
}

/// One change from the manage form, as typed.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// New frequency (`None` when none was chosen), followed categories
    /// (`cs.LG cs.CV`, commas allowed), and what the digest carries
    /// (`trending`, `recommended` or `both`, as the form sends it; `None`
    /// leaves it as it is: the choice is only on a member's own
    /// subscription).
    Update { frequency: Option<Frequency>, categories: &'a str, content: Option<&'a str> },
    /// A saved search to add.
    AddSearch(&'a str),
    /// The saved search to remove (`None` when the form did not say).
    RemoveSearch(Option<i64>),
    /// An action the form does not have.
    Unknown,
}

/// What a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Saved,
    /// The query as saved (whitespace collapsed).
    SearchAdded(String),
    SearchRemoved,
}

/// Subscribes `email` (as typed) from the subscribe form, every request
/// counted against the subscribe limit of `client` (its address block),
/// see `limits.rs`; an address that is not one is
/// [`SubscriptionError::BadAddress`]. A member (`viewer`) subscribing their
/// own verified address needs no opt-in mail and is confirmed at once
/// (`Ok(true)`); anyone else gets a confirmation mail, unless the address
/// is confirmed already (`Ok(false)` either way, so the answer tells nobody
/// who is subscribed).
pub async fn subscribe_address(
    db: &dyn Database,
    postman: &Arc<Postman>,
    limits: &Limits,
    client: &str,
    email: &str,
    viewer: Option<&User>,
) -> Result<bool, SubscriptionError> {
    let _counted = limits.subscribe.reserve(db, &format!("ip:{client}")).await.map_err(|e| match e {
        LimitError::Store(s) => SubscriptionError::Store(s),
        other => SubscriptionError::Limited(other),
    })?;
    let email = &Email::parse(email).map_err(|e| SubscriptionError::BadAddress(e.to_string()))?;
    let own = viewer.filter(|u| u.email.key() == email.key() && u.email_verified_at.is_some());
    subscribe(db, postman, email, own.map(|u| u.id), own.is_some()).await?;
    Ok(own.is_some())
}

/// Subscribes a member with their account's address (from their settings),
/// linking the address's subscription (an existing one too) to the account
/// and confirming it at once. Only for a verified address
/// ([`SubscriptionError::Unverified`] otherwise): the link is what lets the
/// member read and change the subscription from their settings.
pub async fn subscribe_member(db: &dyn Database, postman: &Arc<Postman>, user: &User) -> Result<(), SubscriptionError> {
    if user.email_verified_at.is_none() {
        return Err(SubscriptionError::Unverified(user.email.clone()));
    }
    subscribe(db, postman, &user.email, Some(user.id), true).await
}

async fn subscribe(
    db: &dyn Database,
    postman: &Arc<Postman>,
    email: &Email,
    user: Option<UserId>,
    verified: bool,
) -> Result<(), SubscriptionError> {
    let sub = db.subscribe(email, user).await?;
    if verified {
        db.confirm_subscriber(sub.id).await?;
    } else if sub.confirmed_at.is_none() {
        postman.send_confirmation(&sub).await.map_err(SubscriptionError::Mail)?;
    }
    Ok(())
}

/// The subscriber a signed link made for `purpose` is for.
pub async fn subscriber_of(
    db: &dyn Database,
    postman: &Postman,
    token: &str,
    purpose: Purpose,
) -> Result<Subscriber, SubscriptionError> {
    let id = postman.signer().verify(token, purpose, Utc::now()).map_err(SubscriptionError::Link)?;
    db.subscriber(id).await?.ok_or(SubscriptionError::Gone)
}

/// The confirmation link: the subscription starts.
pub async fn confirm(db: &dyn Database, postman: &Postman, token: &str) -> Result<Subscriber, SubscriptionError> {
    let sub = subscriber_of(db, postman, token, Purpose::Confirm).await?;
    Ok(db.confirm_subscriber(sub.id).await?)
}

/// The unsubscribe button or RFC 8058 one-click: no more digests.
pub async fn unsubscribe(db: &dyn Database, postman: &Postman, token: &str) -> Result<Subscriber, SubscriptionError> {
    let sub = subscriber_of(db, postman, token, Purpose::Unsubscribe).await?;
    db.unsubscribe(sub.id).await?;
    tracing::info!(subscriber = %sub.id, "unsubscribed");
    Ok(sub)
}

/// The subscription behind a manage link, for its form.
pub async fn managed(db: &dyn Database, postman: &Postman, token: &str) -> Result<Digest, SubscriptionError> {
    let sub = subscriber_of(db, postman, token, Purpose::Manage).await?;
    Ok(digest_of(db, sub).await?)
}

/// Applies `change` to the subscription behind a manage link: the
/// subscription as it is afterwards, and what the change did or why it
/// was refused.
pub async fn manage(
    db: &dyn Database,
    postman: &Postman,
    token: &str,
    change: Change<'_>,
) -> Result<(Digest, Result<Done, Refusal>), SubscriptionError> {
    let sub = subscriber_of(db, postman, token, Purpose::Manage).await?;
    let outcome = apply(db, sub.id, change).await?;
    let sub = db.subscriber(sub.id).await?.unwrap_or(sub);
    Ok((digest_of(db, sub).await?, outcome))
}

/// A member's own subscription (linked to the account, or to its address
/// and the account), for their settings; `None` when they have none.
pub async fn member_digest(db: &dyn Database, user: &User) -> Result<Option<Digest>, StoreError> {
    let sub = match db.subscriber_for_user(user.id).await? {
        Some(s) => Some(s),
        None => db.subscriber_by_email(&user.email).await?.filter(|s| s.user == Some(user.id)),
    };
    match sub {
        Some(sub) => Ok(Some(digest_of(db, sub).await?)),
        None => Ok(None),
    }
}

/// Applies `change` to the member's own subscription (from their settings).
pub async fn member_manage(
    db: &dyn Database,
    user: &User,
    change: Change<'_>,
) -> Result<Result<Done, Refusal>, SubscriptionError> {
    let sub = db.subscriber_for_user(user.id).await?.ok_or(SubscriptionError::NoDigest)?;
    Ok(apply(db, sub.id, change).await?)
}

async fn digest_of(db: &dyn Database, subscriber: Subscriber) -> Result<Digest, StoreError> {
    let searches = db.saved_searches(subscriber.id).await?;
    Ok(Digest { subscriber, searches })
}

/// One change to subscription `id`: what it did, or why it was refused.
async fn apply(db: &dyn Database, id: SubscriberId, change: Change<'_>) -> Result<Result<Done, Refusal>, StoreError> {
    match change {
        Change::Update { frequency, categories, content } => {
            let Some(frequency) = frequency else {
                return Ok(Err("Choose how often: daily or weekly.".into()));
            };
            let categories = match parse_categories(categories) {
                Ok(c) => c,
                Err(msg) => return Ok(Err(msg)),
            };
            // What the digest carries first: when it is refused, nothing changes.
            if let Some(raw) = content
                && let Err(msg) = set_content(db, id, raw).await?
            {
                return Ok(Err(msg));
            }
            match db.update_subscription(id, frequency, &categories).await {
                Ok(_) => Ok(Ok(Done::Saved)),
                Err(e @ StoreError::TooManyCategories { .. }) => Ok(Err(capitalize(&e.to_string()))),
                Err(e) => Err(e),
            }
        }
        Change::AddSearch(raw) => {
            let query = match check_query(raw) {
                Ok(q) => q,
                Err(msg) => return Ok(Err(msg)),
            };
            match db.add_saved_search(id, &query).await {
                Ok(_) => Ok(Ok(Done::SearchAdded(query))),
                Err(e @ StoreError::TooManySavedSearches { .. }) => Ok(Err(capitalize(&e.to_string()))),
                Err(e) => Err(e),
            }
        }
        Change::RemoveSearch(None) => Ok(Err("Which saved search? Reload the page and try again.".into())),
        Change::RemoveSearch(Some(search)) => {
            db.remove_saved_search(id, search).await?;
            Ok(Ok(Done::SearchRemoved))
        }
        Change::Unknown => Ok(Err("Unknown action: reload the page and try again.".into())),
    }
}

/// Sets what subscription `id`'s digest carries, from the form's value
/// (`trending`, `recommended` or `both`), through
/// [`paperboy_store::Mailing::set_digest_content`]. A subscription that is
/// not a member's own can only carry trending papers: asking for more is
/// refused with the store's message (sign in and subscribe from the
/// settings), as is a value the form does not offer.
pub async fn set_content(db: &dyn Database, id: SubscriberId, raw: &str) -> Result<Result<Done, Refusal>, StoreError> {
    let Some(content) = DigestContent::parse(raw.trim()) else {
        return Ok(Err("Choose what the digest carries: trending papers, recommended for you, or both.".into()));
    };
    match db.set_digest_content(id, content).await {
        Ok(_) => Ok(Ok(Done::Saved)),
        Err(e @ StoreError::DigestNeedsMember) => Ok(Err(capitalize(&e.to_string()))),
        Err(e) => Err(e),
    }
}

/// The store's refusal as a sentence.
fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A saved-search query as typed: one line of at most [`MAX_QUERY_CHARS`]
/// characters, no control characters (a CR/LF is refused, not cleaned).
pub fn check_query(raw: &str) -> Result<String, Refusal> {
    if raw.chars().any(|c| c.is_control()) {
        return Err("A saved search is one line of text: remove line breaks and control characters.".into());
    }
    let q = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if q.is_empty() {
        return Err("Type what to search for, for example: diffusion models".into());
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(format!("A saved search has at most {MAX_QUERY_CHARS} characters: shorten it."));
    }
    Ok(q)
}

/// `cs.LG cs.CV` (commas allowed): arXiv category names only.
pub fn parse_categories(raw: &str) -> Result<Vec<String>, Refusal> {
    let mut out: Vec<String> = Vec::new();
    for c in raw.split([' ', ',', '\t']).filter(|c| !c.is_empty()) {
        let ok = c.len() <= 20
            && c.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic())
            && c.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-'));
        if !ok {
            let shown: String = c.chars().filter(|ch| !ch.is_control()).take(20).collect();
            return Err(format!("{shown:?} is not a category: use arXiv names such as cs.LG or math.PR."));
        }
        if !out.iter().any(|o| o == c) {
            out.push(c.to_string());
        }
    }
    if out.len() > MAX_CATEGORIES {
        return Err(format!("Follow at most {MAX_CATEGORIES} categories."));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_categories_are_checked() {
        assert_eq!(check_query("  diffusion   models ").unwrap(), "diffusion models");
        assert!(check_query("a\r\nBcc: x@y.org").is_err());
        assert!(check_query("   ").is_err());
        assert!(check_query(&"x".repeat(201)).is_err());
        assert_eq!(parse_categories("cs.LG, cs.CV cs.LG").unwrap(), vec!["cs.LG", "cs.CV"]);
        assert!(parse_categories("cs.LG'; DROP").is_err());
    }
}
