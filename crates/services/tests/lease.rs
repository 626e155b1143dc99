//! Work under a database lease, on a real SQLite file: the lease is held
//! while the work runs and released after; a second holder is refused with
//! who holds it; a holder whose lease is taken away stops its work; a waiter
//! runs once a dead holder's lease has run out.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use paperboy_services::lease::{LeaseError, holder_id, wait_for_lease, with_lease};
use paperboy_store::{Coordination, SqlStore};

async fn open_store() -> (tempfile::TempDir, SqlStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open_sqlite(&dir.path().join("lease.db")).await.unwrap();
    (dir, store)
}

#[test]
fn holder_ids_differ_per_call() {
    let (a, b) = (holder_id(), holder_id());
    assert_ne!(a, b);
    assert!(a.contains(&format!(":{}:", std::process::id())), "{a}");
}

#[tokio::test]
async fn the_lease_is_held_during_the_work_and_released_after() {
    let (_dir, store) = open_store().await;
    let ttl = Duration::from_secs(60);
    let out = with_lease(&store, "job", "a", ttl, async {
        let inner = with_lease(&store, "job", "b", ttl, async { unreachable!("b ran beside a") }).await;
        match inner {
            Err(LeaseError::Busy { holder, until, .. }) => {
                assert_eq!(holder, "a");
                assert!(until > chrono::Utc::now());
            }
            other => panic!("b was not refused: {other:?}"),
        }
        assert!(store.lease("job").await.unwrap().unwrap().is_held_by("a"));
        42
    })
    .await
    .unwrap();
    assert_eq!(out, 42);
    assert_eq!(store.lease("job").await.unwrap(), None, "released when the work ended");
    assert_eq!(with_lease(&store, "job", "b", ttl, async { 7 }).await.unwrap(), 7);
}

#[tokio::test]
async fn a_holder_that_loses_its_lease_stops_its_work() {
    let (_dir, store) = open_store().await;
    let finished = AtomicBool::new(false);
    let work = async {
        // Taken over from under the holder (as when its lease ran out and
        // another process took it): the next renewal notices.
        store.release_lease("job", "a").await.unwrap();
        assert!(store.acquire_lease("job", "b", Duration::from_secs(60)).await.unwrap().is_held_by("b"));
        tokio::time::sleep(Duration::from_secs(30)).await;
        finished.store(true, Ordering::SeqCst);
    };
    let outcome = with_lease(&store, "job", "a", Duration::from_millis(300), work).await;
    assert!(matches!(outcome, Err(LeaseError::Lost { .. })), "{outcome:?}");
    assert!(!finished.load(Ordering::SeqCst), "the work was stopped");
    assert!(store.lease("job").await.unwrap().unwrap().is_held_by("b"), "the loser does not release b's lease");
}

#[tokio::test]
async fn a_waiter_takes_over_when_a_dead_holders_lease_runs_out() {
    let (_dir, store) = open_store().await;
    let store = Arc::new(store);
    // A holder that took the lease and died: it never renews.
    let dead = store.acquire_lease("digest", "dead", Duration::from_millis(800)).await.unwrap();
    let started = std::time::Instant::now();
    let ran =
        wait_for_lease(store.as_ref(), "digest", "waiter", Duration::from_secs(60), || async { chrono::Utc::now() })
            .await
            .unwrap();
    assert!(ran > dead.expires_at, "the work ran after the dead holder's lease ended");
    assert!(started.elapsed() < Duration::from_secs(10), "and soon after");
    assert_eq!(store.lease("digest").await.unwrap(), None);
}
