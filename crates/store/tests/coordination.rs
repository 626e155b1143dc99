//! Coordination through the database on both backends (see `common`):
//! a lease has one holder at a time even when many pools race for it, it
//! can be renewed and released by its holder only, and an expired one is
//! taken over; rate-limit failures are counted per key across handles, and
//! reservations hold their limit when many handles race for one key;
//! a shared secret is the first candidate offered, whoever asks.

use crate::common;

use std::time::Duration;

use chrono::{SubsecRound, Utc};
use common::TestDb;
use paperboy_store::{Coordination, Reservation};

on_both_backends!(
    a_lease_has_one_holder_until_it_expires,
    racing_holders_get_the_lease_once,
    failures_are_shared_and_swept,
    racing_reservations_never_pass_the_limit,
    released_reservations_make_room,
    the_first_secret_wins,
);

const MINUTE: Duration = Duration::from_secs(60);

async fn a_lease_has_one_holder_until_it_expires(db: TestDb) {
    let store = &db.store;
    assert_eq!(store.lease("harvest").await.unwrap(), None);
    let a = store.acquire_lease("harvest", "server-a", MINUTE).await.unwrap();
    assert!(a.is_held_by("server-a"));
    assert!(a.expires_at > Utc::now() + chrono::Duration::seconds(50));

    let b = store.acquire_lease("harvest", "server-b", MINUTE).await.unwrap();
    assert!(b.is_held_by("server-a"), "a live lease is not taken: {b:?}");
    assert_eq!(b.expires_at, a.expires_at);
    assert!(!store.renew_lease("harvest", "server-b", MINUTE).await.unwrap(), "only the holder renews");
    store.release_lease("harvest", "server-b").await.unwrap();
    assert!(store.lease("harvest").await.unwrap().unwrap().is_held_by("server-a"), "only the holder releases");

    // Other names are other leases.
    assert!(store.acquire_lease("digest", "server-b", MINUTE).await.unwrap().is_held_by("server-b"));

    // The holder extends its lease and keeps its start time.
    let again = store.acquire_lease("harvest", "server-a", MINUTE * 2).await.unwrap();
    assert!(again.is_held_by("server-a"));
    assert_eq!(again.acquired_at, a.acquired_at);
    assert!(again.expires_at > a.expires_at);
    assert!(store.renew_lease("harvest", "server-a", Duration::from_millis(1)).await.unwrap());

    // Expired (the holder died): the next one takes it, and the old holder
    // learns on its next renewal that it lost it.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let c = store.acquire_lease("harvest", "server-c", MINUTE).await.unwrap();
    assert!(c.is_held_by("server-c"), "an expired lease is taken over: {c:?}");
    assert!(c.acquired_at > a.acquired_at);
    assert!(!store.renew_lease("harvest", "server-a", MINUTE).await.unwrap());

    store.release_lease("harvest", "server-c").await.unwrap();
    assert_eq!(store.lease("harvest").await.unwrap(), None);
    assert!(store.acquire_lease("harvest", "server-a", MINUTE).await.unwrap().is_held_by("server-a"));
}

async fn racing_holders_get_the_lease_once(db: TestDb) {
    let mut tasks = Vec::new();
    for (i, handle) in db.handles(8).await.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let me = format!("server-{i}");
            let lease = handle.acquire_lease("digest", &me, MINUTE).await.unwrap();
            (me, lease)
        }));
    }
    let mut winners = Vec::new();
    let mut seen = Vec::new();
    for task in tasks {
        let (me, lease) = task.await.unwrap();
        if lease.is_held_by(&me) {
            winners.push(me);
        }
        seen.push(lease.holder);
    }
    assert_eq!(winners.len(), 1, "exactly one of eight takes the lease: {winners:?}");
    assert!(seen.iter().all(|h| *h == winners[0]), "everyone sees the winner: {seen:?}");
    assert_eq!(db.count("SELECT COUNT(*) FROM leases").await, 1);
}

async fn failures_are_shared_and_swept(db: TestDb) {
    let handles = db.handles(2).await;
    // Whole seconds: the store keeps milliseconds.
    let t0 = Utc::now().trunc_subsecs(0) - chrono::Duration::seconds(100);
    for i in 0..5 {
        handles[i % 2].record_failure("ip:192.0.2.1", t0 + chrono::Duration::seconds(i as i64 * 10)).await.unwrap();
    }
    handles[0].record_failure("user:alice", t0).await.unwrap();
    let recent = handles[1].recent_failures("ip:192.0.2.1", t0, 3).await.unwrap();
    assert_eq!(recent.len(), 3, "at most the limit");
    assert_eq!(recent[0], t0 + chrono::Duration::seconds(40), "newest first");
    assert_eq!(recent[2], t0 + chrono::Duration::seconds(20));
    let since = handles[0].recent_failures("ip:192.0.2.1", t0 + chrono::Duration::seconds(25), 10).await.unwrap();
    assert_eq!(since.len(), 2, "only those in the window");

    handles[1].clear_failures("ip:192.0.2.1").await.unwrap();
    assert!(handles[0].recent_failures("ip:192.0.2.1", t0, 10).await.unwrap().is_empty());
    assert_eq!(handles[0].recent_failures("user:alice", t0, 10).await.unwrap().len(), 1, "keys are separate");

    handles[0].record_failure("ip:new", Utc::now()).await.unwrap();
    let swept = handles[1].sweep_failures(Utc::now() - chrono::Duration::seconds(50)).await.unwrap();
    assert_eq!(swept, 1, "only the old failure goes");
    assert_eq!(db.count("SELECT COUNT(*) FROM rate_limit_failures").await, 1);
}

async fn racing_reservations_never_pass_the_limit(db: TestDb) {
    // Eight pools (eight servers) with ten attempts each, all at once, for one key.
    let now = Utc::now();
    let since = now - chrono::Duration::minutes(15);
    let mut tasks = Vec::new();
    for handle in db.handles(8).await {
        for _ in 0..10 {
            let handle = handle.clone();
            tasks.push(tokio::spawn(async move { handle.reserve_attempt("login:user:ada", 5, since, now).await }));
        }
    }
    let mut reserved = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Reservation::Reserved(_) => reserved += 1,
            Reservation::Denied { oldest } => assert_eq!(oldest.timestamp_millis(), now.timestamp_millis()),
        }
    }
    assert_eq!(reserved, 5, "exactly the limit is reserved, however many race");
    assert_eq!(db.count("SELECT COUNT(*) FROM rate_limit_failures").await, 5);
    // Another key is not affected.
    assert!(matches!(
        db.store.reserve_attempt("login:user:bob", 5, since, now).await.unwrap(),
        Reservation::Reserved(_)
    ));
}

async fn released_reservations_make_room(db: TestDb) {
    let handles = db.handles(2).await;
    let t0 = Utc::now().trunc_subsecs(0) - chrono::Duration::seconds(100);
    let at = |s: i64| t0 + chrono::Duration::seconds(s);
    let mut ids = Vec::new();
    for i in 0..3 {
        match handles[i % 2].reserve_attempt("signup:ip:192.0.2.1", 3, t0, at(i as i64 * 10)).await.unwrap() {
            Reservation::Reserved(id) => ids.push(id),
            denied => panic!("attempt {i} of 3 was refused: {denied:?}"),
        }
    }
    // Full: the wait is until the oldest counted leaves the window.
    let denied = handles[0].reserve_attempt("signup:ip:192.0.2.1", 3, t0, at(30)).await.unwrap();
    assert_eq!(denied, Reservation::Denied { oldest: t0 });
    // Past the oldest's window, there is room again.
    assert!(matches!(
        handles[1].reserve_attempt("signup:ip:192.0.2.1", 3, at(5), at(35)).await.unwrap(),
        Reservation::Reserved(_)
    ));
    // A released attempt no longer counts, and is released once.
    assert!(handles[1].release_attempt(&ids[1]).await.unwrap());
    assert!(!handles[0].release_attempt(&ids[1]).await.unwrap(), "already released");
    assert!(matches!(
        handles[0].reserve_attempt("signup:ip:192.0.2.1", 3, at(5), at(40)).await.unwrap(),
        Reservation::Reserved(_)
    ));
    // Reservations are failures for the older calls, and are swept like them.
    assert_eq!(handles[0].recent_failures("signup:ip:192.0.2.1", t0, 10).await.unwrap().len(), 4);
    assert_eq!(handles[1].sweep_failures(at(100)).await.unwrap(), 4);
}

async fn the_first_secret_wins(db: TestDb) {
    let handles = db.handles(4).await;
    let mut tasks = Vec::new();
    for (i, handle) in handles.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move { handle.shared_secret("mail-key", &format!("candidate-{i}")).await }));
    }
    let mut values = Vec::new();
    for task in tasks {
        values.push(task.await.unwrap().unwrap());
    }
    assert!(values[0].starts_with("candidate-"));
    assert!(values.iter().all(|v| *v == values[0]), "all agree: {values:?}");
    let reopened = db.reopen().await;
    assert_eq!(reopened.shared_secret("mail-key", "another").await.unwrap(), values[0]);
    assert_eq!(reopened.shared_secret("other", "x").await.unwrap(), "x");
}
