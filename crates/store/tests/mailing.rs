//! The outbox's guarantees on a real SQLite file: one row per (subscriber,
//! kind, period) however often it is enqueued; a claimed row belongs to
//! one sender until its lease runs out, then to the next; a sender that lost
//! its lease cannot overwrite the new owner's outcome; and subscriptions
//! (re-subscribing, members' links, limits) behave as documented.

use std::time::Duration;

use chrono::Utc;
use paperboy_core::Email;
use paperboy_store::{
    Frequency, MAX_SAVED_SEARCHES, MailKind, Mailing, NewMail, SqliteStore, StoreError, SubscriberId,
};

fn mail(sub: SubscriberId, key: &str) -> NewMail {
    NewMail {
        subscriber: sub,
        kind: MailKind::Daily,
        period_key: key.into(),
        recipient: "ada@example.org".into(),
        message_id: format!("<{key}@example.org>"),
        message: "Subject: x\r\n\r\nx\r\n".into(),
    }
}

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("paperboy.db")).await.unwrap();
    (dir, s)
}

#[tokio::test]
async fn a_digest_is_enqueued_once_and_leased_to_one_sender_at_a_time() {
    let (_dir, s) = store().await;
    let sub = s.subscribe(&Email::parse("Ada@Example.org").unwrap(), None).await.unwrap();
    s.confirm_subscriber(sub.id).await.unwrap();
    assert!(s.enqueue_mail(&mail(sub.id, "2026-11-27")).await.unwrap());
    assert!(!s.enqueue_mail(&mail(sub.id, "2026-11-27")).await.unwrap(), "the unique key holds");
    let cands = s.digest_candidates(Frequency::Daily, MailKind::Daily, "2026-11-27", SubscriberId(0), 10).await;
    assert!(cands.unwrap().is_empty(), "a subscriber with a row for the period is not built again");

    let now = Utc::now();
    let lease = Duration::from_secs(60);
    let a = s.claim_mail("a", now, lease, 10).await.unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].attempts, 1);
    assert!(s.claim_mail("b", now, lease, 10).await.unwrap().is_empty(), "leased to a");
    // a crashes; after the lease b takes the row over.
    let later = now + chrono::Duration::seconds(61);
    let b = s.claim_mail("b", later, lease, 10).await.unwrap();
    assert_eq!((b.len(), b[0].attempts), (1, 2));
    assert!(!s.mark_sent(a[0].id, "a", later).await.unwrap(), "a lost its lease");
    assert!(!s.mark_retry(a[0].id, "a", later, "x").await.unwrap());
    assert!(s.mark_sent(b[0].id, "b", later).await.unwrap());
    let far = later + chrono::Duration::days(1);
    assert!(s.claim_mail("c", far, lease, 10).await.unwrap().is_empty(), "a sent row is never claimed again");
    let c = s.outbox_counts().await.unwrap();
    assert_eq!((c.sent, c.pending), (1, 0));
}

#[tokio::test]
async fn retries_wait_for_their_time_and_bounces_pause() {
    let (_dir, s) = store().await;
    let sub = s.subscribe(&Email::parse("bo@example.org").unwrap(), None).await.unwrap();
    s.enqueue_mail(&mail(sub.id, "p1")).await.unwrap();
    let now = Utc::now();
    let row = &s.claim_mail("a", now, Duration::from_secs(60), 1).await.unwrap()[0];
    let retry_at = now + chrono::Duration::seconds(30);
    assert!(s.mark_retry(row.id, "a", retry_at, "451").await.unwrap());
    assert!(s.claim_mail("a", now, Duration::from_secs(60), 1).await.unwrap().is_empty(), "not due yet");
    assert_eq!(s.next_mail_due().await.unwrap().unwrap().timestamp(), retry_at.timestamp());
    let row = &s.claim_mail("a", retry_at, Duration::from_secs(60), 1).await.unwrap()[0];
    assert!(!s.mark_failed(row.id, "a", "550", 2).await.unwrap(), "one bounce: not paused yet");
    s.enqueue_mail(&mail(sub.id, "p2")).await.unwrap();
    let row = &s.claim_mail("a", retry_at, Duration::from_secs(60), 1).await.unwrap()[0];
    assert!(s.mark_failed(row.id, "a", "550", 2).await.unwrap(), "two in a row: paused");
    let sub = s.subscriber(sub.id).await.unwrap().unwrap();
    assert_eq!(sub.bounces, 2);
    assert!(sub.paused_at.is_some());
    // Acting on the subscription resumes it.
    let sub = s.update_subscription(sub.id, Frequency::Weekly, &["cs.LG".into()]).await.unwrap();
    assert!(sub.paused_at.is_none() && sub.bounces == 0);
    assert_eq!(s.outbox_counts().await.unwrap().failed, 2);
}

#[tokio::test]
async fn subscriptions_restart_unconfirmed_and_keep_their_limits() {
    let (_dir, s) = store().await;
    let email = Email::parse("cy@example.org").unwrap();
    let sub = s.subscribe(&email, None).await.unwrap();
    assert!(sub.confirmed_at.is_none());
    let same = s.subscribe(&Email::parse("CY@example.org").unwrap(), None).await.unwrap();
    assert_eq!(same.id, sub.id, "addresses compare ignoring case");
    s.confirm_subscriber(sub.id).await.unwrap();
    assert!(s.unsubscribe(sub.id).await.unwrap());
    let back = s.subscribe(&email, None).await.unwrap();
    assert!(back.confirmed_at.is_none() && back.unsubscribed_at.is_none(), "a comeback opts in again");
    for i in 0..MAX_SAVED_SEARCHES {
        s.add_saved_search(sub.id, &format!("query {i}")).await.unwrap();
    }
    let err = s.add_saved_search(sub.id, "one too many").await.unwrap_err();
    assert!(matches!(err, StoreError::TooManySavedSearches { .. }), "{err}");
    assert_eq!(s.saved_searches(sub.id).await.unwrap().len(), MAX_SAVED_SEARCHES);
    let first = s.saved_searches(sub.id).await.unwrap()[0].id;
    assert!(s.remove_saved_search(sub.id, first).await.unwrap());
    assert!(!s.remove_saved_search(SubscriberId(sub.id.0 + 1), first).await.unwrap());
    assert!(matches!(
        s.add_saved_search(SubscriberId(999), "x").await.unwrap_err(),
        StoreError::SubscriberNotFound(999)
    ));
}
