//! Submissions through `paperboy_services::submit` against a real SQLite
//! file and the arXiv API replay of `paperboy-test-support`.

use chrono::{TimeZone, Utc};
use paperboy_core::{ArxivId, PaperId, Role};
use paperboy_services::accounts::{self, SignUp};
use paperboy_services::submit::{self, Fetcher, SubmitError, Submitted};
use paperboy_store::{Catalog, Database, SqlStore, SubmitOutcome, User};
use paperboy_test_support::arxiv_api::ArxivApi;

async fn store() -> (tempfile::TempDir, SqlStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open_sqlite(&dir.path().join("paperboy.db")).await.unwrap();
    (dir, store)
}

async fn member(db: &dyn Database, name: &str) -> User {
    let email = format!("{name}@example.org");
    let form = SignUp {
        username: name,
        email: &email,
        password: "correct horse battery",
        role: Role::Member,
        email_verified: true,
    };
    accounts::sign_up(db, &form).await.unwrap()
}

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).unwrap()
}

#[tokio::test]
async fn a_recent_paper_is_fetched_listed_and_upvoted_and_a_second_submission_is_an_upvote() {
    let (_dir, store) = store().await;
    let arxiv = ArxivApi::start();
    let fetcher = Fetcher::new(&arxiv.url);
    let (alice, bob) = (member(&store, "alice").await, member(&store, "bob").await);
    // The fixture is from 2016: seen from a week after its first version, it is recent.
    let now = Utc.with_ymd_and_hms(2016, 6, 3, 12, 0, 0).unwrap();
    let done = submit::submit(&store, &fetcher, &alice, &id("1605.08386v1"), 14, now).await.unwrap();
    let paper = PaperId::parse("1605.08386").unwrap();
    assert_eq!(done, Submitted::Listed { id: paper.clone(), outcome: SubmitOutcome::Submitted });
    assert_eq!(arxiv.hits(), 1);
    let stored = store.get_paper(&paper).await.unwrap().unwrap();
    assert_eq!(stored.upvotes, 1);
    assert_eq!(stored.submitted_by.as_ref().map(|u| u.as_str()), Some("alice"));
    assert_eq!(stored.paper.listed_on, now.date_naive());
    // Bob submits it again: no arXiv request, his upvote counts.
    let again = submit::submit(&store, &fetcher, &bob, &id("arXiv:1605.08386"), 14, now).await.unwrap();
    assert_eq!(again, Submitted::Upvoted(paper.clone()));
    assert_eq!(again.paper_id(), &paper);
    assert_eq!(arxiv.hits(), 1);
    assert_eq!(store.get_paper(&paper).await.unwrap().unwrap().upvotes, 2);
}

#[tokio::test]
async fn old_and_unknown_papers_are_refused_and_nothing_is_stored() {
    let (_dir, store) = store().await;
    let arxiv = ArxivApi::start();
    let fetcher = Fetcher::new(&arxiv.url);
    let alice = member(&store, "alice").await;
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    match submit::submit(&store, &fetcher, &alice, &id("1605.08386"), 14, now).await {
        Err(SubmitError::TooOld { id, window_days: 14, first }) => {
            assert_eq!(id.to_string(), "1605.08386");
            assert!(first < now - chrono::Duration::days(14));
        }
        other => panic!("an old paper was not refused: {other:?}"),
    }
    assert!(store.get_paper(&PaperId::parse("1605.08386").unwrap()).await.unwrap().is_none());
    let e = submit::submit(&store, &fetcher, &alice, &id("2601.99999"), 14, now).await.unwrap_err();
    assert!(matches!(e, SubmitError::NotFound(_)), "{e:?}");
    assert!(e.to_string().contains("arXiv has no paper 2601.99999"), "{e}");
}

#[tokio::test]
async fn without_an_arxiv_client_submissions_are_off_but_listed_papers_still_get_the_upvote() {
    let (_dir, store) = store().await;
    let fetcher = Fetcher::new("not a url");
    let alice = member(&store, "alice").await;
    let now = Utc::now();
    let e = submit::submit(&store, &fetcher, &alice, &id("2601.00001"), 14, now).await.unwrap_err();
    assert!(matches!(e, SubmitError::Off), "{e:?}");
    let mut p = paperboy_core::Paper::new(PaperId::parse("2601.00001").unwrap(), "Listed already", now.date_naive());
    p.normalize();
    store.upsert_papers(&[p]).await.unwrap();
    let done = submit::submit(&store, &fetcher, &alice, &id("2601.00001"), 14, now).await.unwrap();
    assert!(matches!(done, Submitted::Upvoted(_)));
}
