//! The community change feed (`community_changes`, migration 0008) on both
//! backends: what votes, comments and moderation record, in their own
//! transactions, and what `reads::tracking` notes of the store's reads so
//! that a response cache knows which entries a change makes stale.

use crate::common;

use chrono::{Duration, NaiveDate, Utc};
use common::TestDb;
use paperboy_core::{Email, FeedSort, Paper, PaperId, Role, UserId, Username};
use paperboy_store::reads::tracking;
use paperboy_store::{
    Accounts, Catalog, Community, CommunityChange, CommunityKind, FeedQuery, MemberPapers, Moderation, NewUser,
    SqlStore,
};

on_both_backends!(votes_comments_and_moderation_are_recorded, reads_note_papers_feeds_and_members,);

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn paper(id: &str, title: &str, listed: &str) -> Paper {
    let mut p = Paper::new(PaperId::parse(id).unwrap(), title, day(listed));
    p.authors = vec!["Ada Lovelace".into()];
    p.abstract_text = format!("Abstract of {title}.");
    p.categories = vec!["cs.LG".into()];
    p.normalize();
    p
}

async fn seeded(store: &SqlStore) -> UserId {
    store
        .upsert_papers(&[paper("2603.00001", "Alpha", "2026-03-10"), paper("2603.00002", "Beta", "2026-03-11")])
        .await
        .unwrap();
    let user = store
        .create_user(&NewUser {
            username: Username::parse("ada").unwrap(),
            email: Email::parse("ada@example.org").unwrap(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash".into(),
            role: Role::Member,
            email_verified: true,
        })
        .await
        .unwrap();
    user.id
}

/// A change as (kind, paper, its day, member).
type Summary = (CommunityKind, Option<String>, Option<String>, Option<i64>);

fn summary(changes: &[CommunityChange]) -> Vec<Summary> {
    changes
        .iter()
        .map(|c| {
            (
                c.kind,
                c.paper_id.as_ref().map(|p| p.to_string()),
                c.listed_on.map(|d| d.to_string()),
                c.user.map(|u| u.0),
            )
        })
        .collect()
}

async fn votes_comments_and_moderation_are_recorded(db: TestDb) {
    let store = &db.store;
    let ada = seeded(store).await;
    assert_eq!(store.last_community_seq().await.unwrap(), 0, "papers are catalog changes");
    let alpha = PaperId::parse("2603.00001").unwrap();
    store.toggle_vote(ada, &alpha).await.unwrap();
    store.set_vote(ada, &alpha, true).await.unwrap(); // no change, nothing recorded
    store.toggle_vote(ada, &alpha).await.unwrap();
    let c = store.add_comment(ada, &alpha, None, "first").await.unwrap();
    store.edit_comment(ada, c.id, "first, edited").await.unwrap();
    store.set_comment_hidden(c.id, true).await.unwrap();
    assert!(store.delete_comment(ada, c.id).await.is_err(), "hidden: refused, and nothing recorded");
    store.set_comment_hidden(c.id, false).await.unwrap();
    store.delete_comment(ada, c.id).await.unwrap();
    store.set_suspended(ada, true).await.unwrap();
    // Refused writes record nothing.
    assert!(store.toggle_vote(ada, &PaperId::parse("9901.00001").unwrap()).await.is_err());

    let all = store.community_changes_since(0, 100).await.unwrap();
    let (vote, comment) = (CommunityKind::Vote, CommunityKind::Comment);
    let on = |k| (k, Some("2603.00001".to_string()), Some("2026-03-10".to_string()), Some(ada.0));
    assert_eq!(
        summary(&all),
        vec![
            on(vote),
            on(vote),
            on(comment),
            on(comment),
            on(comment),
            on(comment),
            on(comment),
            (CommunityKind::Member, None, None, Some(ada.0)),
        ]
    );
    let seqs: Vec<u64> = all.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(store.last_community_seq().await.unwrap(), seqs[7]);
    assert_eq!(summary(&store.community_changes_since(seqs[5], 100).await.unwrap()).len(), 2);
    assert_eq!(store.community_changes_since(0, 3).await.unwrap().len(), 3);

    // Sweeping keeps what is recent.
    assert_eq!(store.sweep_community_changes(Utc::now() - Duration::minutes(10)).await.unwrap(), 0);
    assert_eq!(store.sweep_community_changes(Utc::now() + Duration::seconds(1)).await.unwrap(), 8);
    assert!(store.community_changes_since(0, 100).await.unwrap().is_empty());
}

async fn reads_note_papers_feeds_and_members(db: TestDb) {
    let store = &db.store;
    let ada = seeded(store).await;
    let alpha = PaperId::parse("2603.00001").unwrap();
    let beta = PaperId::parse("2603.00002").unwrap();
    store.toggle_vote(ada, &beta).await.unwrap();

    let (_, reads) = tracking(store.get_paper(&alpha)).await;
    assert!(reads.papers.contains("2603.00001") && reads.papers.len() == 1);
    assert!(reads.ranges.is_empty() && reads.members.is_empty());

    let query = FeedQuery {
        from: Some(day("2026-03-11")),
        until: Some(day("2026-03-12")),
        sort: FeedSort::Top,
        ..FeedQuery::default()
    };
    let (_, reads) = tracking(store.feed(&query)).await;
    assert!(reads.papers.contains("2603.00002"));
    assert_eq!(reads.ranges.len(), 1);
    assert!(reads.ranges[0].by_votes);
    let others_vote = CommunityChange {
        seq: 1,
        kind: CommunityKind::Vote,
        paper_id: Some(PaperId::parse("2603.00099").unwrap()),
        listed_on: Some(day("2026-03-11")),
        user: Some(UserId(999)),
    };
    assert!(reads.stale_after(&others_vote), "a vote on that day can reorder the top feed");

    let (_, reads) = tracking(async {
        store.comments(&alpha, paperboy_store::Audience::Public).await.unwrap();
        store.comment_counts(std::slice::from_ref(&beta)).await.unwrap();
        store.profile(&Username::parse("ada").unwrap()).await.unwrap();
        store.member_papers(ada, MemberPapers::Upvoted, 0, 10).await.unwrap();
    })
    .await;
    assert!(reads.papers.contains("2603.00001") && reads.papers.contains("2603.00002"));
    assert!(reads.members.contains(&ada.0));
}
