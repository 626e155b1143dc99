//! Papers, comments and reading lists through `paperboy_services::{papers,
//! comments, members}` on a real SQLite file: what a viewer sees of a
//! paper, permission checks of moderation, listings with neighbours and
//! votes, profiles.

use chrono::{NaiveDate, Utc};
use paperboy_core::{FeedPeriod, Paper, PaperId, Role};
use paperboy_services::accounts::{self, SignUp};
use paperboy_services::comments::{self, CommentError, CommentLimit};
use paperboy_services::members;
use paperboy_services::papers::{self, PaperError, Slice};
use paperboy_store::{Catalog, MemberPapers, SqlStore, User};

async fn store() -> (tempfile::TempDir, SqlStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open_sqlite(&dir.path().join("paperboy.db")).await.unwrap();
    (dir, store)
}

async fn member(db: &SqlStore, name: &str, role: Role) -> User {
    let email = format!("{name}@example.org");
    let form = SignUp { username: name, email: &email, password: "correct horse battery", role, email_verified: true };
    accounts::sign_up(db, &form).await.unwrap()
}

fn paper(id: &str, day: NaiveDate) -> Paper {
    let mut p = Paper::new(PaperId::parse(id).unwrap(), format!("Paper {id}"), day);
    p.authors = vec!["Grace Hopper".into()];
    p.normalize();
    p
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

#[tokio::test]
async fn a_paper_page_has_the_viewers_vote_reading_list_and_discussion() {
    let (_dir, db) = store().await;
    db.upsert_papers(&[paper("2603.00001", day(2))]).await.unwrap();
    let id = PaperId::parse("2603.00001").unwrap();
    let (alice, bob) = (member(&db, "alice", Role::Member).await, member(&db, "bob", Role::Member).await);
    let admin = member(&db, "carol", Role::Admin).await;
    papers::toggle_vote(&db, &alice, &id).await.unwrap();
    members::save(&db, &alice, &id).await.unwrap();
    let c = comments::add(&db, &alice, &id, None, "First!", CommentLimit::DEFAULT).await.unwrap();
    let page = papers::page(&db, &id, Some(&alice), 0).await.unwrap();
    assert!(page.voted && page.saved);
    assert_eq!(page.paper.upvotes, 1);
    assert_eq!(page.discussion.comments.len(), 1);
    let visitor = papers::page(&db, &id, None, 0).await.unwrap();
    assert!(!visitor.voted && !visitor.saved);
    // Only the author edits; only admins hide.
    assert!(comments::edit(&db, &bob, c.id, "pwned").await.is_err());
    assert_eq!(comments::edit(&db, &alice, c.id, "First, edited").await.unwrap().body, "First, edited");
    assert!(matches!(comments::set_hidden(&db, &bob, c.id, true).await, Err(CommentError::NotAdmin)));
    comments::set_hidden(&db, &admin, c.id, true).await.unwrap();
    let shown = comments::visible(&db, &id, None).await.unwrap();
    assert!(shown[0].body.is_empty(), "hidden comments lose their text for visitors");
    assert_eq!(comments::visible(&db, &id, Some(&admin)).await.unwrap()[0].body, "First, edited");
    // Hidden papers: only admins see them, and nobody else can save them.
    assert!(matches!(papers::set_hidden(&db, &bob, &id, true).await, Err(PaperError::NotAdmin)));
    papers::set_hidden(&db, &admin, &id, true).await.unwrap();
    assert!(matches!(papers::page(&db, &id, Some(&bob), 0).await, Err(PaperError::Unknown(_))));
    assert!(papers::page(&db, &id, Some(&admin), 0).await.is_ok());
    assert!(matches!(members::save(&db, &bob, &id).await, Err(PaperError::Unknown(_))));
    members::unsave(&db, &alice, &id).await.unwrap();
    assert!(members::reading_list(&db, &alice).await.unwrap().is_empty());
}

#[tokio::test]
async fn comments_are_limited_per_minute_and_read_a_page_at_a_time() {
    let (_dir, db) = store().await;
    db.upsert_papers(&[paper("2603.00001", day(2))]).await.unwrap();
    let id = PaperId::parse("2603.00001").unwrap();
    let (alice, bob) = (member(&db, "alice", Role::Member).await, member(&db, "bob", Role::Member).await);
    let two = CommentLimit { per_minute: 2 };
    let first = comments::post(&db, &alice, &id, None, "one", two).await.unwrap();
    assert_eq!(first.page, 0);
    comments::add(&db, &alice, &id, Some(first.comment.id), "two", two).await.unwrap();
    match comments::add(&db, &alice, &id, None, "three", two).await {
        Err(CommentError::TooMany { limit: 2, retry_after }) => assert!((1..=60).contains(&retry_after)),
        other => panic!("expected TooMany, got {other:?}"),
    }
    comments::add(&db, &bob, &id, None, "bob's", two).await.unwrap();
    // 0 turns the limit off: enough for a second page.
    let off = CommentLimit { per_minute: 0 };
    let mut last = None;
    for i in 0..comments::PAGE_SIZE {
        last = Some(comments::post(&db, &alice, &id, None, &format!("more {i}"), off).await.unwrap());
    }
    assert_eq!(last.unwrap().page, 1, "the 104th comment is on the second page");
    let page0 = comments::discussion(&db, &id, None, 0).await.unwrap();
    assert_eq!((page0.comments.len(), page0.pages, page0.live), (comments::PAGE_SIZE as usize, 2, 103));
    assert_eq!(comments::discussion(&db, &id, None, 1).await.unwrap().comments.len(), 3);
    assert!(comments::discussion(&db, &id, None, 2).await.unwrap().comments.is_empty());
    assert_eq!(comments::locate(&db, first.comment.id, None).await.unwrap(), Some((id.clone(), 0)));
}

#[tokio::test]
async fn listings_know_the_latest_day_the_neighbours_and_the_viewers_votes() {
    let (_dir, db) = store().await;
    let slice = Slice { limit: 10, ..Slice::default() };
    assert!(papers::listing(&db, None, &slice, true, None).await.unwrap().is_none(), "an empty catalog");
    db.upsert_papers(&[paper("2603.00001", day(2)), paper("2603.00002", day(5)), paper("2603.00003", day(9))])
        .await
        .unwrap();
    let alice = member(&db, "alice", Role::Member).await;
    let voted_id = PaperId::parse("2603.00003").unwrap();
    papers::set_vote(&db, &alice, &voted_id, true).await.unwrap();
    let latest = papers::listing(&db, None, &slice, true, Some(alice.id)).await.unwrap().unwrap();
    assert_eq!(latest.period, FeedPeriod::Day(day(9)));
    assert_eq!(latest.page.total, 1);
    assert_eq!(latest.voted, vec![voted_id]);
    assert_eq!((latest.prev, latest.next), (Some(FeedPeriod::Day(day(5))), None));
    let middle = papers::listing(&db, Some(FeedPeriod::Day(day(5))), &slice, true, None).await.unwrap().unwrap();
    assert_eq!((middle.prev, middle.next), (Some(FeedPeriod::Day(day(2))), Some(FeedPeriod::Day(day(9)))));
    assert!(middle.voted.is_empty(), "visitors have no votes");
    let month = FeedPeriod::month_of(day(5));
    let whole = papers::listing(&db, Some(month), &slice, false, None).await.unwrap().unwrap();
    assert_eq!(whole.page.total, 3);
    assert_eq!((whole.prev, whole.next), (None, None), "not asked for");
}

#[tokio::test]
async fn profiles_show_a_members_lists() {
    let (_dir, db) = store().await;
    let today = Utc::now().date_naive();
    db.upsert_papers(&[paper("2603.00001", today)]).await.unwrap();
    let alice = member(&db, "alice", Role::Member).await;
    papers::set_vote(&db, &alice, &PaperId::parse("2603.00001").unwrap(), true).await.unwrap();
    let found = members::profile(&db, &alice.username, MemberPapers::Upvoted, 0, 30).await.unwrap().unwrap();
    assert_eq!(found.profile.upvotes, 1);
    assert_eq!(found.papers.total, 1);
    let none = members::profile(&db, &alice.username, MemberPapers::Submitted, 0, 30).await.unwrap().unwrap();
    assert_eq!(none.papers.total, 0);
    let nobody = paperboy_core::Username::parse("nobody").unwrap();
    assert!(members::profile(&db, &nobody, MemberPapers::Submitted, 0, 30).await.unwrap().is_none());
}
