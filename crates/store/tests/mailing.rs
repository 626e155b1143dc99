//! The outbox's guarantees on both backends (a SQLite file and a PostgreSQL
//! database, see `common`): one row per (subscriber, kind, period) however
//! often it is enqueued; a claimed row belongs to one sender until its lease
//! runs out, then to the next, also with many senders claiming at once on
//! their own connection pools; a sender that lost its lease cannot overwrite
//! the new owner's outcome; and subscriptions (re-subscribing, members'
//! links, limits) behave as documented.

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use common::TestDb;
use paperboy_core::{Email, Role, Username};
use paperboy_store::{Accounts, Mailing};
use paperboy_store::{
    Frequency, MAX_CATEGORIES, MAX_SAVED_SEARCHES, MailKind, NewMail, NewUser, StoreError, SubscriberId,
};

on_both_backends!(
    a_digest_is_enqueued_once_and_leased_to_one_sender_at_a_time,
    retries_wait_for_their_time_and_bounces_pause,
    subscriptions_restart_unconfirmed_and_keep_their_limits,
    concurrent_senders_never_claim_the_same_row,
    digest_candidates_page_in_id_order_and_skip_inactive_subscribers,
    a_member_keeps_one_subscription,
);

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

async fn a_digest_is_enqueued_once_and_leased_to_one_sender_at_a_time(db: TestDb) {
    let s = &db.store;
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

async fn retries_wait_for_their_time_and_bounces_pause(db: TestDb) {
    let s = &db.store;
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

async fn subscriptions_restart_unconfirmed_and_keep_their_limits(db: TestDb) {
    let s = &db.store;
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

async fn concurrent_senders_never_claim_the_same_row(db: TestDb) {
    let s = &db.store;
    let mut subs = Vec::new();
    for i in 0..40 {
        let sub = s.subscribe(&Email::parse(&format!("r{i}@example.org")).unwrap(), None).await.unwrap();
        assert!(s.enqueue_mail(&mail(sub.id, "2026-11-27")).await.unwrap());
        subs.push(sub.id);
    }
    let now = Utc::now();
    let mut senders = Vec::new();
    for (n, handle) in db.handles(4).await.into_iter().enumerate() {
        senders.push(tokio::spawn(async move {
            let owner = format!("sender-{n}");
            let mut mine = Vec::new();
            loop {
                let batch = handle.claim_mail(&owner, now, Duration::from_secs(60), 3).await.unwrap();
                if batch.is_empty() {
                    break;
                }
                assert!(batch.windows(2).all(|w| w[0].id < w[1].id), "a claim comes back in id order");
                for row in batch {
                    assert!(handle.mark_sent(row.id, &owner, now).await.unwrap(), "the owner may finish its row");
                    mine.push(row.id);
                }
            }
            mine
        }));
    }
    let mut seen = HashSet::new();
    for sender in senders {
        for id in sender.await.unwrap() {
            assert!(seen.insert(id), "row {id} was claimed by two senders");
        }
    }
    assert_eq!(seen.len(), subs.len(), "every row was claimed");
    let c = s.outbox_counts().await.unwrap();
    assert_eq!((c.sent, c.pending, c.failed), (40, 0, 0));
    assert_eq!(s.next_mail_due().await.unwrap(), None, "nothing left to send");
}

async fn digest_candidates_page_in_id_order_and_skip_inactive_subscribers(db: TestDb) {
    let s = &db.store;
    let mut active = Vec::new();
    for i in 0..5 {
        let sub = s.subscribe(&Email::parse(&format!("d{i}@example.org")).unwrap(), None).await.unwrap();
        s.confirm_subscriber(sub.id).await.unwrap();
        active.push(sub.id);
    }
    let unconfirmed = s.subscribe(&Email::parse("new@example.org").unwrap(), None).await.unwrap();
    let weekly = s.subscribe(&Email::parse("weekly@example.org").unwrap(), None).await.unwrap();
    s.confirm_subscriber(weekly.id).await.unwrap();
    s.update_subscription(weekly.id, Frequency::Weekly, &[]).await.unwrap();
    let gone = active.remove(1);
    assert!(s.unsubscribe(gone).await.unwrap());
    assert!(!s.unsubscribe(SubscriberId(9_999)).await.unwrap(), "no such subscriber");
    // One already has its digest for the day.
    assert!(s.enqueue_mail(&mail(active[0], "2026-11-27")).await.unwrap());
    let due = active[1..].to_vec();

    let page = |after, limit| s.digest_candidates(Frequency::Daily, MailKind::Daily, "2026-11-27", after, limit);
    let first = page(SubscriberId(0), 2).await.unwrap();
    assert_eq!(first.iter().map(|c| c.id).collect::<Vec<_>>(), due[..2]);
    let rest = page(first[1].id, 10).await.unwrap();
    assert_eq!(rest.iter().map(|c| c.id).collect::<Vec<_>>(), due[2..]);
    assert!(rest.iter().all(|c| c.is_active() && c.id != unconfirmed.id));
    let weeklies =
        s.digest_candidates(Frequency::Weekly, MailKind::Weekly, "2026-W48", SubscriberId(0), 10).await.unwrap();
    assert_eq!(weeklies.iter().map(|c| c.id).collect::<Vec<_>>(), vec![weekly.id]);

    let too_many: Vec<String> = (0..=MAX_CATEGORIES).map(|i| format!("cs.X{i}")).collect();
    let err = s.update_subscription(weekly.id, Frequency::Daily, &too_many).await.unwrap_err();
    assert!(matches!(err, StoreError::TooManyCategories { .. }), "{err}");
    let cats = vec!["cs.LG".to_string(), "math.ST".to_string()];
    let sub = s.update_subscription(weekly.id, Frequency::Weekly, &cats).await.unwrap();
    assert_eq!(sub.categories, cats, "categories come back in the order chosen");
    assert!(matches!(
        s.confirm_subscriber(SubscriberId(9_999)).await.unwrap_err(),
        StoreError::SubscriberNotFound(9_999)
    ));
}

async fn a_member_keeps_one_subscription(db: TestDb) {
    let s = &db.store;
    let user = s
        .create_user(&NewUser {
            username: Username::parse("ada").unwrap(),
            email: Email::parse("ada@example.org").unwrap(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash".into(),
            role: Role::Member,
            email_verified: true,
        })
        .await
        .unwrap();
    let first = s.subscribe(&Email::parse("ada@example.org").unwrap(), Some(user.id)).await.unwrap();
    assert_eq!(first.user, Some(user.id));
    let second = s.subscribe(&Email::parse("ada@work.example").unwrap(), Some(user.id)).await.unwrap();
    assert_eq!(second.user, None, "the first address linked stays the member's");
    assert_eq!(s.subscriber_for_user(user.id).await.unwrap().map(|x| x.id), Some(first.id));
    let by_email = s.subscriber_by_email(&Email::parse("ADA@example.org").unwrap()).await.unwrap();
    assert_eq!(by_email.map(|x| x.id), Some(first.id));
    assert_eq!(
        s.subscriber(second.id).await.unwrap().map(|x| x.email.as_str().to_string()).as_deref(),
        Some("ada@work.example")
    );
}
