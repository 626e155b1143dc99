//! The community half of the store on both backends (a SQLite file and a
//! PostgreSQL database, see `common`): accounts, sessions, API tokens, email
//! links, votes (including many concurrent voters on several connection
//! pools), submissions, comments, reading lists, profiles, hidden papers, and
//! the `trending` and `top` feeds.

use crate::common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::TestDb;
use paperboy_core::{CommentId, Email, FeedSort, Paper, PaperId, RankingSettings, Role, UserId, Username};
use paperboy_store::{
    Accounts, Audience, Catalog, Community, EmailPurpose, FeedQuery, MemberPapers, Moderation, NewUser, SqlStore,
    StoreError, SubmitOutcome, User,
};

on_both_backends!(
    accounts_are_created_found_and_clash_by_name_or_address,
    sql_meta_characters_are_stored_verbatim_and_harmless,
    sessions_are_found_by_token_until_they_expire_or_end,
    api_tokens_are_shown_once_listed_revoked_by_their_owner_only,
    email_links_work_once_and_not_after_they_expire,
    votes_toggle_and_counts_follow,
    concurrent_toggles_never_lose_or_double_count,
    submitting_lists_a_new_paper_or_upvotes_a_listed_one,
    comments_with_one_level_of_replies_and_author_only_changes,
    a_hidden_comment_cannot_be_edited_or_deleted_by_its_author,
    a_discussion_is_paged_in_thread_order_with_positions,
    a_members_recent_comments_are_counted,
    reading_lists_are_per_member,
    hidden_papers_disappear_for_the_public_and_stay_for_admins,
    trending_and_top_order_and_page_correctly,
    one_object_serves_both_halves,
);

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn paper(id: &str, title: &str, listed: &str) -> Paper {
    let mut p = Paper::new(PaperId::parse(id).unwrap(), title, day(listed));
    p.authors = vec!["Ada Lovelace".into()];
    p.abstract_text = format!("Abstract of {title}.");
    p.categories = vec!["cs.LG".into()];
    p.version = Some(1);
    p.normalize();
    p
}

fn pid(s: &str) -> PaperId {
    PaperId::parse(s).unwrap()
}

fn new_user(name: &str, email: &str) -> NewUser {
    NewUser {
        username: Username::parse(name).unwrap(),
        email: Email::parse(email).unwrap(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash-of-{name}"),
        role: Role::Member,
        email_verified: false,
    }
}

async fn member(store: &SqlStore, name: &str) -> User {
    store.create_user(&new_user(name, &format!("{name}@example.org"))).await.unwrap()
}

/// A store with three papers and two members.
async fn seeded(store: &SqlStore) -> (User, User) {
    store
        .upsert_papers(&[
            paper("2603.00001", "Alpha", "2026-03-10"),
            paper("2603.00002", "Beta", "2026-03-11"),
            paper("2603.00003", "Gamma", "2026-03-11"),
        ])
        .await
        .unwrap();
    let ada = member(store, "ada").await;
    let bob = member(store, "bob").await;
    (ada, bob)
}

async fn accounts_are_created_found_and_clash_by_name_or_address(db: TestDb) {
    let store = &db.store;
    let ada = store.create_user(&new_user("Ada_L", "Ada@Example.org")).await.unwrap();
    assert_eq!(ada.username.as_str(), "Ada_L");
    assert_eq!(ada.role, Role::Member);
    assert!(!ada.is_verified() && !ada.is_suspended());

    let by_name = store.user_by_username(&Username::parse("ada_l").unwrap()).await.unwrap().unwrap();
    assert_eq!(by_name, ada, "usernames are found ignoring case");
    let by_mail = store.user_by_email(&Email::parse("ADA@example.ORG").unwrap()).await.unwrap().unwrap();
    assert_eq!(by_mail.id, ada.id);
    assert_eq!(store.user_by_id(ada.id).await.unwrap().unwrap(), ada);
    assert!(store.user_by_id(UserId(999)).await.unwrap().is_none());
    assert!(store.user_by_username(&Username::parse("nobody").unwrap()).await.unwrap().is_none());

    let e = store.create_user(&new_user("ADA_l", "other@example.org")).await.unwrap_err();
    assert!(matches!(e, StoreError::UsernameTaken { ref username } if username == "ADA_l"), "{e}");
    let e = store.create_user(&new_user("grace", "ada@EXAMPLE.org")).await.unwrap_err();
    assert!(matches!(e, StoreError::EmailTaken), "{e}");
    assert!(e.to_string().contains("reset"), "the message says what to do: {e}");

    // The password hash is kept verbatim; setting it replaces it.
    let hash = store.password_hash(ada.id).await.unwrap().unwrap();
    assert_eq!(hash, new_user("Ada_L", "x@example.org").password_hash);
    store.set_password(ada.id, "$argon2id$new").await.unwrap();
    assert_eq!(store.password_hash(ada.id).await.unwrap().unwrap(), "$argon2id$new");
    assert!(matches!(store.set_password(UserId(999), "x").await, Err(StoreError::UserNotFound(_))));

    // Verification, role, email change.
    store.mark_email_verified(ada.id).await.unwrap();
    let verified = store.user_by_id(ada.id).await.unwrap().unwrap();
    assert!(verified.is_verified());
    let same = store.set_email(ada.id, &Email::parse("ADA@example.org").unwrap()).await.unwrap();
    assert!(same.is_verified(), "a new spelling of the same address stays verified");
    let moved = store.set_email(ada.id, &Email::parse("ada@new.example").unwrap()).await.unwrap();
    assert!(!moved.is_verified(), "a new address must be verified again");
    store.create_user(&new_user("grace", "grace@example.org")).await.unwrap();
    let e = store.set_email(ada.id, &Email::parse("Grace@example.org").unwrap()).await.unwrap_err();
    assert!(matches!(e, StoreError::EmailTaken));
    store.set_role(ada.id, Role::Admin).await.unwrap();
    assert!(store.user_by_id(ada.id).await.unwrap().unwrap().is_admin());

    let admin = NewUser { role: Role::Admin, email_verified: true, ..new_user("root", "root@example.org") };
    let root = store.create_user(&admin).await.unwrap();
    assert!(root.is_admin() && root.is_verified());
}

async fn sql_meta_characters_are_stored_verbatim_and_harmless(db: TestDb) {
    let store = &db.store;
    let (ada, bob) = seeded(store).await;
    let weird = ["o'brien+x@example.org", "\"q\"@example.org", "a%b_c\\d@example.org"];
    for (i, mail) in weird.iter().enumerate() {
        let user = store.create_user(&new_user(&format!("user{i}"), mail)).await.unwrap();
        assert_eq!(user.email.as_str(), *mail);
        assert_eq!(store.user_by_email(&Email::parse(mail).unwrap()).await.unwrap().unwrap().id, user.id);
    }
    assert!(store.user_by_email(&Email::parse("a%b@example.org").unwrap()).await.unwrap().is_none());
    assert!(Username::parse("x'; DROP TABLE users;--").is_err(), "usernames cannot carry SQL at all");
    // A username with LIKE wildcards matches only itself.
    let under = member(store, "a_b").await;
    member(store, "axb").await;
    assert_eq!(store.user_by_username(&Username::parse("A_B").unwrap()).await.unwrap().unwrap().id, under.id);

    let nasty = "Robert'); DROP TABLE users; -- \"quoted\" 100% _x_ \\ `tick` <b>&amp;</b>\n\n**bold**";
    let c = store.add_comment(ada.id, &pid("2603.00001"), None, nasty).await.unwrap();
    assert_eq!(c.body, nasty);
    let listed = store.comments(&pid("2603.00001"), Audience::Public).await.unwrap();
    assert_eq!(listed[0].body, nasty);
    let name = store.create_api_token(bob.id, "it's; DROP TABLE api_tokens;--").await.unwrap().0.name;
    assert_eq!(name, "it's; DROP TABLE api_tokens;--");
    assert_eq!(db.count("SELECT COUNT(*) FROM users").await, 7);
    assert_eq!(db.count("SELECT COUNT(*) FROM api_tokens").await, 1);
    assert_eq!(store.count_papers().await.unwrap(), 3);
}

async fn sessions_are_found_by_token_until_they_expire_or_end(db: TestDb) {
    let store = &db.store;
    let (ada, bob) = seeded(store).await;
    let week = Utc::now() + Duration::days(7);
    let s1 = store.create_session(ada.id, week).await.unwrap();
    let s2 = store.create_session(ada.id, week).await.unwrap();
    assert_ne!(s1.token, s2.token, "every login gets a new session id");
    assert_ne!(s1.csrf_token, s2.csrf_token);
    assert_eq!(s1.token.as_str().len(), 64);
    assert!(!format!("{:?}", s1.token).contains(s1.token.as_str()), "secrets stay out of logs");

    let found = store.session(s1.token.as_str()).await.unwrap().unwrap();
    assert_eq!(found.user.id, ada.id);
    assert_eq!(found.csrf_token, s1.csrf_token);
    // Only the hash is stored.
    let stored = db.text("SELECT token_hash FROM sessions LIMIT 1").await;
    assert_ne!(stored, s1.token.as_str());
    assert_ne!(stored, s2.token.as_str());
    assert!(store.session("not-a-token").await.unwrap().is_none());
    assert!(store.session(&stored).await.unwrap().is_none(), "the stored hash is not a token");

    let old = store.create_session(bob.id, Utc::now() - Duration::seconds(1)).await.unwrap();
    assert!(store.session(old.token.as_str()).await.unwrap().is_none(), "expired sessions fail");
    assert_eq!(store.purge_expired().await.unwrap(), 1);

    assert!(store.delete_session(s1.token.as_str()).await.unwrap());
    assert!(!store.delete_session(s1.token.as_str()).await.unwrap());
    assert!(store.session(s1.token.as_str()).await.unwrap().is_none());
    assert!(store.session(s2.token.as_str()).await.unwrap().is_some());
    store.create_session(ada.id, week).await.unwrap();
    assert_eq!(store.delete_user_sessions(ada.id).await.unwrap(), 2);
    assert!(store.session(s2.token.as_str()).await.unwrap().is_none());
    assert!(matches!(store.create_session(UserId(999), week).await, Err(StoreError::UserNotFound(_))));

    // Suspension ends sessions and refuses new ones at lookup.
    let b = store.create_session(bob.id, week).await.unwrap();
    store.set_suspended(bob.id, true).await.unwrap();
    assert!(store.user_by_id(bob.id).await.unwrap().unwrap().is_suspended());
    assert!(store.session(b.token.as_str()).await.unwrap().is_none());
    let b2 = store.create_session(bob.id, week).await.unwrap();
    assert!(store.session(b2.token.as_str()).await.unwrap().is_none(), "suspended members have no sessions");
    store.set_suspended(bob.id, false).await.unwrap();
    assert!(store.session(b2.token.as_str()).await.unwrap().is_some());
    assert!(matches!(store.set_suspended(UserId(999), true).await, Err(StoreError::UserNotFound(_))));
}

async fn api_tokens_are_shown_once_listed_revoked_by_their_owner_only(db: TestDb) {
    let store = &db.store;
    let (ada, bob) = seeded(store).await;
    let (token, secret) = store.create_api_token(ada.id, "  laptop  ").await.unwrap();
    assert_eq!(token.name, "laptop");
    assert!(secret.as_str().starts_with("pb_") && secret.as_str().len() == 67);
    let (_, other) = store.create_api_token(ada.id, "ci").await.unwrap();
    assert!(matches!(store.create_api_token(ada.id, " ").await, Err(StoreError::Invalid(_))));
    assert!(matches!(store.create_api_token(UserId(999), "x").await, Err(StoreError::UserNotFound(_))));

    let listed = store.api_tokens(ada.id).await.unwrap();
    assert_eq!(listed.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["ci", "laptop"]);
    assert!(listed.iter().all(|t| t.last_used_at.is_none()));
    assert!(store.api_tokens(bob.id).await.unwrap().is_empty());

    assert_eq!(store.api_token_user(secret.as_str()).await.unwrap().unwrap().id, ada.id);
    let used = store.api_tokens(ada.id).await.unwrap();
    assert!(used.iter().find(|t| t.id == token.id).unwrap().last_used_at.is_some());
    assert!(store.api_token_user("pb_0000").await.unwrap().is_none());
    let n = db.count("SELECT COUNT(*) FROM api_tokens WHERE token_hash LIKE 'pb_%'").await;
    assert_eq!(n, 0, "only hashes are stored");

    assert!(!store.revoke_api_token(bob.id, token.id).await.unwrap(), "nobody revokes another's token");
    assert!(store.api_token_user(secret.as_str()).await.unwrap().is_some());
    assert!(store.revoke_api_token(ada.id, token.id).await.unwrap());
    assert!(!store.revoke_api_token(ada.id, token.id).await.unwrap());
    assert!(store.api_token_user(secret.as_str()).await.unwrap().is_none(), "revoked tokens fail");
    assert!(store.api_tokens(ada.id).await.unwrap().iter().any(|t| t.revoked_at.is_some()));

    store.set_suspended(ada.id, true).await.unwrap();
    assert!(store.api_token_user(other.as_str()).await.unwrap().is_none(), "suspended members' tokens fail");
}

async fn email_links_work_once_and_not_after_they_expire(db: TestDb) {
    let store = &db.store;
    let (ada, bob) = seeded(store).await;
    let later = Utc::now() + Duration::hours(24);
    let verify = store.create_email_token(ada.id, EmailPurpose::Verify, later).await.unwrap();
    let e = store.consume_email_token(verify.as_str(), EmailPurpose::Reset).await.unwrap_err();
    assert!(matches!(e, StoreError::TokenUnknown), "a link is only good for its purpose: {e}");
    let user = store.consume_email_token(verify.as_str(), EmailPurpose::Verify).await.unwrap();
    assert_eq!(user.id, ada.id);
    assert!(user.is_verified(), "a verification link verifies in the same transaction");
    let e = store.consume_email_token(verify.as_str(), EmailPurpose::Verify).await.unwrap_err();
    assert!(matches!(e, StoreError::TokenUsed), "{e}");

    let expired = store.create_email_token(bob.id, EmailPurpose::Reset, Utc::now() - Duration::seconds(1)).await;
    let e = store.consume_email_token(expired.unwrap().as_str(), EmailPurpose::Reset).await.unwrap_err();
    assert!(matches!(e, StoreError::TokenExpired), "{e}");
    let e = store.consume_email_token("0123", EmailPurpose::Reset).await.unwrap_err();
    assert!(matches!(e, StoreError::TokenUnknown), "{e}");

    let reset = store.create_email_token(bob.id, EmailPurpose::Reset, later).await.unwrap();
    assert_eq!(store.consume_email_token(reset.as_str(), EmailPurpose::Reset).await.unwrap().id, bob.id);
    assert!(!store.user_by_id(bob.id).await.unwrap().unwrap().is_verified(), "a reset link verifies nothing");

    // A verification link sent to an old address proves nothing about the new one.
    let old = store.create_email_token(bob.id, EmailPurpose::Verify, later).await.unwrap();
    store.set_email(bob.id, &Email::parse("bob@new.example").unwrap()).await.unwrap();
    let e = store.consume_email_token(old.as_str(), EmailPurpose::Verify).await.unwrap_err();
    assert!(matches!(e, StoreError::TokenUnknown), "{e}");
    assert!(!store.user_by_id(bob.id).await.unwrap().unwrap().is_verified());
    let n = db.count("SELECT COUNT(*) FROM email_tokens").await;
    assert_eq!(n, 4);
    assert_eq!(store.purge_expired().await.unwrap(), 1);
}

async fn votes_toggle_and_counts_follow(db: TestDb) {
    let store = &db.store;
    let (ada, bob) = seeded(store).await;
    let a = pid("2603.00001");
    let v = store.toggle_vote(ada.id, &a).await.unwrap();
    assert!(v.voted && v.upvotes == 1);
    let v = store.toggle_vote(bob.id, &a).await.unwrap();
    assert!(v.voted && v.upvotes == 2);
    let v = store.toggle_vote(ada.id, &a).await.unwrap();
    assert!(!v.voted && v.upvotes == 1, "a second toggle takes the vote back");
    assert_eq!(store.get_paper(&a).await.unwrap().unwrap().upvotes, 1);

    // Setting is idempotent.
    for _ in 0..2 {
        let v = store.set_vote(ada.id, &a, true).await.unwrap();
        assert!(v.voted && v.upvotes == 2);
    }
    for _ in 0..2 {
        let v = store.set_vote(bob.id, &a, false).await.unwrap();
        assert!(!v.voted && v.upvotes == 1);
    }
    let ids = [pid("2603.00002"), a.clone(), pid("2603.00003"), pid("9901.00001")];
    assert_eq!(store.voted_among(ada.id, &ids).await.unwrap(), vec![a.clone()]);
    assert!(store.voted_among(bob.id, &ids).await.unwrap().is_empty());
    assert!(store.voted_among(bob.id, &[]).await.unwrap().is_empty());

    let e = store.toggle_vote(ada.id, &pid("9901.00001")).await.unwrap_err();
    assert!(matches!(e, StoreError::PaperNotFound { .. }), "{e}");
    let n = db.count("SELECT COUNT(*) FROM votes").await;
    assert_eq!(n, 1);
}

/// Many members toggle votes at once through several connection pools on
/// one database, some members from several tasks at the same time;
/// afterwards every paper's count equals its vote rows and every member's
/// vote is what the parity of their toggles says.
async fn concurrent_toggles_never_lose_or_double_count(db: TestDb) {
    use std::collections::HashMap;
    let first = db.store.clone();
    let papers: Vec<PaperId> = (1..=3).map(|i| pid(&format!("2603.{i:05}"))).collect();
    let batch: Vec<Paper> =
        papers.iter().map(|id| paper(&id.to_string(), &format!("Paper {id}"), "2026-03-11")).collect();
    first.upsert_papers(&batch).await.unwrap();
    let mut users = Vec::new();
    for i in 0..64 {
        users.push(member(&first, &format!("voter{i:02}")).await.id);
    }
    let mut stores = vec![first];
    for _ in 0..3 {
        stores.push(db.reopen().await);
    }

    // Each member toggles each paper (i + j) % 7 + 1 times; every fourth
    // member does so from two tasks at once (on different pools).
    let mut tasks = tokio::task::JoinSet::new();
    let mut n_tasks = 0;
    for (i, &user) in users.iter().enumerate() {
        let copies = if i % 4 == 0 { 2 } else { 1 };
        for copy in 0..copies {
            let store = stores[(i + copy) % stores.len()].clone();
            let papers = papers.clone();
            n_tasks += 1;
            tasks.spawn(async move {
                let mut toggles = vec![0usize; papers.len()];
                for round in 0..7 {
                    for (j, id) in papers.iter().enumerate() {
                        if round < (i + j) % 7 + 1 {
                            store.toggle_vote(user, id).await.unwrap();
                            toggles[j] += 1;
                        }
                    }
                }
                (user, toggles)
            });
        }
    }
    let started = std::time::Instant::now();
    let mut per_member: HashMap<UserId, Vec<usize>> = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (user, toggles) = done.unwrap();
        let sum = per_member.entry(user).or_insert_with(|| vec![0; papers.len()]);
        for (j, t) in toggles.into_iter().enumerate() {
            sum[j] += t;
        }
    }
    let total: usize = per_member.values().flatten().sum();
    eprintln!("{total} toggles from {n_tasks} tasks in {:?}", started.elapsed());

    let store = &stores[0];
    for (j, id) in papers.iter().enumerate() {
        let count = store.get_paper(id).await.unwrap().unwrap().upvotes;
        let rows = db
            .count(&format!(
                "SELECT COUNT(*) FROM votes v JOIN papers p ON p.pk = v.paper_pk WHERE p.paper_id = '{id}'"
            ))
            .await;
        let expected = per_member.values().filter(|t| t[j] % 2 == 1).count() as i64;
        assert_eq!(count, rows, "{id}: the count equals the rows");
        assert_eq!(count, expected, "{id}: every toggle counted exactly once");
    }
    for (user, toggles) in &per_member {
        let voted = store.voted_among(*user, &papers).await.unwrap();
        for (j, id) in papers.iter().enumerate() {
            assert_eq!(voted.contains(id), toggles[j] % 2 == 1, "member {user}, paper {id}");
        }
    }
}

async fn submitting_lists_a_new_paper_or_upvotes_a_listed_one(db: TestDb) {
    let store = &db.store;
    let (ada, bob) = seeded(store).await;
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-12T09:30:00Z").unwrap().into();
    let new = paper("2603.00099", "Delta", "2020-01-01");
    let s = store.submit_paper(ada.id, &new, now).await.unwrap();
    assert_eq!(s.outcome, SubmitOutcome::Submitted);
    assert!(s.vote.voted && s.vote.upvotes == 1, "the submitter upvotes it");
    let got = store.get_paper(&new.id).await.unwrap().unwrap();
    assert_eq!(got.paper.listed_on, day("2026-03-12"), "listed on the day it was submitted");
    assert_eq!(got.submitted_by.as_ref().map(Username::as_str), Some("ada"));
    let json = serde_json::to_value(&got).unwrap();
    assert_eq!(json["submitted_by"], "ada");

    // Submitting it again, or a paper that was imported, upvotes instead.
    let s = store.submit_paper(bob.id, &new, now).await.unwrap();
    assert_eq!(s.outcome, SubmitOutcome::AlreadyListed);
    assert_eq!(s.vote.upvotes, 2);
    let s = store.submit_paper(bob.id, &new, now).await.unwrap();
    assert!(s.vote.voted && s.vote.upvotes == 2, "resubmitting never takes a vote back");
    let imported = paper("2603.00001", "Alpha", "2026-03-10");
    let s = store.submit_paper(bob.id, &imported, now).await.unwrap();
    assert_eq!(s.outcome, SubmitOutcome::AlreadyListed);
    let alpha = store.get_paper(&imported.id).await.unwrap().unwrap();
    assert_eq!(alpha.submitted_by, None, "an imported paper keeps no submitter");
    assert_eq!(alpha.paper.listed_on, day("2026-03-10"), "and keeps its feed day");
    let json = serde_json::to_value(&alpha).unwrap();
    assert!(json.get("submitted_by").is_none() && json.get("hidden_at").is_none(), "old JSON shape kept");

    let feed = store.feed(&FeedQuery { from: Some(day("2026-03-12")), ..Default::default() }).await.unwrap();
    assert_eq!(feed.items[0].submitted_by.as_ref().unwrap().as_str(), "ada", "feeds carry the submitter");
    let e = store.submit_paper(UserId(999), &paper("2603.00098", "Eps", "2026-03-12"), now).await.unwrap_err();
    assert!(matches!(e, StoreError::UserNotFound(_)), "{e}");
    assert!(store.get_paper(&pid("2603.00098")).await.unwrap().is_none(), "nothing half-done is left");

    let mine = store.member_papers(ada.id, MemberPapers::Submitted, 0, 10).await.unwrap();
    assert_eq!((mine.total, mine.items[0].paper.id.clone()), (1, new.id.clone()));
    let up = store.member_papers(bob.id, MemberPapers::Upvoted, 0, 10).await.unwrap();
    assert_eq!(up.total, 2);
    assert_eq!(store.member_papers(bob.id, MemberPapers::Upvoted, 1, 10).await.unwrap().items.len(), 1);
    let profile = store.profile(&Username::parse("BOB").unwrap()).await.unwrap().unwrap();
    assert_eq!((profile.submissions, profile.upvotes, profile.comments), (0, 2, 0));
    assert_eq!(profile.username.as_str(), "bob");
    assert!(store.profile(&Username::parse("nobody").unwrap()).await.unwrap().is_none());
}

async fn a_hidden_comment_cannot_be_edited_or_deleted_by_its_author(db: TestDb) {
    let store = &db.store;
    let (ada, _) = seeded(store).await;
    let a = pid("2603.00001");
    let c = store.add_comment(ada.id, &a, None, "Something a moderator hides").await.unwrap();
    store.set_comment_hidden(c.id, true).await.unwrap();
    let e = store.edit_comment(ada.id, c.id, "Something harmless").await.unwrap_err();
    assert!(matches!(e, StoreError::CommentHidden(id) if id == c.id), "{e}");
    let e = store.delete_comment(ada.id, c.id).await.unwrap_err();
    assert!(matches!(e, StoreError::CommentHidden(_)), "{e}");
    let kept = store.comments(&a, Audience::Admin).await.unwrap();
    assert_eq!(kept[0].body, "Something a moderator hides", "the moderated text stays for admins");
    assert!(kept[0].deleted_at.is_none() && kept[0].edited_at.is_none());
    // Shown again, it is the author's to change once more.
    store.set_comment_hidden(c.id, false).await.unwrap();
    assert_eq!(store.edit_comment(ada.id, c.id, "Edited").await.unwrap().body, "Edited");
}

async fn a_discussion_is_paged_in_thread_order_with_positions(db: TestDb) {
    let store = &db.store;
    let (ada, bob) = seeded(store).await;
    let (a, b) = (pid("2603.00001"), pid("2603.00002"));
    let empty = store.comment_page(&a, Audience::Public, 0, 10).await.unwrap();
    assert_eq!((empty.comments.len(), empty.total, empty.live), (0, 0, 0));
    // Replies arrive after later threads started: the page still keeps each
    // thread together, in the order the threads began.
    let t1 = store.add_comment(ada.id, &a, None, "one").await.unwrap();
    let t2 = store.add_comment(bob.id, &a, None, "two").await.unwrap();
    let r1a = store.add_comment(bob.id, &a, Some(t1.id), "one, a").await.unwrap();
    let t3 = store.add_comment(ada.id, &a, None, "three").await.unwrap();
    let r2 = store.add_comment(ada.id, &a, Some(t2.id), "two, a").await.unwrap();
    let r1b = store.add_comment(ada.id, &a, Some(t1.id), "one, b").await.unwrap();
    store.add_comment(ada.id, &b, None, "elsewhere").await.unwrap();
    let order = [t1.id, r1a.id, r1b.id, t2.id, r2.id, t3.id];
    let mut seen = Vec::new();
    for offset in [0, 4] {
        let page = store.comment_page(&a, Audience::Public, offset, 4).await.unwrap();
        assert_eq!((page.total, page.live), (6, 6));
        seen.extend(page.comments.iter().map(|c| c.id));
    }
    assert_eq!(seen, order);
    let past = store.comment_page(&a, Audience::Public, 6, 4).await.unwrap();
    assert!(past.comments.is_empty() && past.total == 6);
    for (row, id) in order.iter().enumerate() {
        assert_eq!(store.comment_position(*id, Audience::Public).await.unwrap(), Some((a.clone(), row as u64)));
    }
    assert_eq!(store.comment_position(CommentId(999_999), Audience::Admin).await.unwrap(), None);

    // Deleted and hidden comments keep their place; the live count drops
    // them (hidden ones only for the public).
    store.delete_comment(bob.id, r1a.id).await.unwrap();
    store.set_comment_hidden(t2.id, true).await.unwrap();
    let public = store.comment_page(&a, Audience::Public, 0, 10).await.unwrap();
    assert_eq!((public.comments.len(), public.total, public.live), (6, 6, 4));
    assert!(public.comments[3].body.is_empty(), "hidden text stays hidden on a page");
    let admin = store.comment_page(&a, Audience::Admin, 0, 10).await.unwrap();
    assert_eq!((admin.total, admin.live), (6, 5));
    assert_eq!(admin.comments[3].body, "two");

    // A hidden paper's discussion is nobody's but the admins'.
    store.set_paper_hidden(&a, true).await.unwrap();
    let public = store.comment_page(&a, Audience::Public, 0, 10).await.unwrap();
    assert_eq!((public.comments.len(), public.total), (0, 0));
    assert_eq!(store.comment_position(t3.id, Audience::Public).await.unwrap(), None);
    assert_eq!(store.comment_position(t3.id, Audience::Admin).await.unwrap(), Some((a.clone(), 5)));
}

async fn a_members_recent_comments_are_counted(db: TestDb) {
    let store = &db.store;
    let (ada, bob) = seeded(store).await;
    let a = pid("2603.00001");
    let before = Utc::now() - Duration::seconds(1);
    assert_eq!(store.comments_since(ada.id, before).await.unwrap(), (0, None));
    let first = store.add_comment(ada.id, &a, None, "one").await.unwrap();
    let second = store.add_comment(ada.id, &a, Some(first.id), "two").await.unwrap();
    store.add_comment(bob.id, &a, None, "bob's").await.unwrap();
    store.delete_comment(ada.id, second.id).await.unwrap();
    let (n, earliest) = store.comments_since(ada.id, before).await.unwrap();
    assert_eq!(n, 2, "replies and deleted comments count too");
    assert_eq!(earliest, Some(first.created_at));
    let later = Utc::now() + Duration::seconds(1);
    assert_eq!(store.comments_since(ada.id, later).await.unwrap(), (0, None));
}

async fn comments_with_one_level_of_replies_and_author_only_changes(db: TestDb) {
    let store = &db.store;
    let (ada, bob) = seeded(store).await;
    let (a, b) = (pid("2603.00001"), pid("2603.00002"));
    let top = store.add_comment(ada.id, &a, None, "First!").await.unwrap();
    assert_eq!((top.author.as_str(), top.parent, top.paper_id.clone()), ("ada", None, a.clone()));
    let reply = store.add_comment(bob.id, &a, Some(top.id), "A reply").await.unwrap();
    assert_eq!(reply.parent, Some(top.id));

    for (parent, paper) in [(reply.id, &a), (top.id, &b), (CommentId(999), &a)] {
        let e = store.add_comment(bob.id, paper, Some(parent), "nested").await.unwrap_err();
        assert!(matches!(e, StoreError::BadReply { .. }), "{e}");
    }
    assert!(matches!(store.add_comment(bob.id, &a, None, "  \n ").await, Err(StoreError::Invalid(_))));
    let e = store.add_comment(bob.id, &pid("9901.00001"), None, "hello").await.unwrap_err();
    assert!(matches!(e, StoreError::PaperNotFound { .. }), "{e}");

    // One member cannot edit or delete another's comment.
    let e = store.edit_comment(bob.id, top.id, "Bob was here").await.unwrap_err();
    assert!(matches!(e, StoreError::NotCommentAuthor(id) if id == top.id), "{e}");
    let e = store.delete_comment(bob.id, top.id).await.unwrap_err();
    assert!(matches!(e, StoreError::NotCommentAuthor(_)), "{e}");
    assert_eq!(store.comments(&a, Audience::Public).await.unwrap()[0].body, "First!");

    let edited = store.edit_comment(ada.id, top.id, "First, edited").await.unwrap();
    assert_eq!(edited.body, "First, edited");
    assert!(edited.edited_at.is_some());
    assert!(matches!(store.edit_comment(ada.id, CommentId(999), "x").await, Err(StoreError::CommentNotFound(_))));

    store.delete_comment(bob.id, reply.id).await.unwrap();
    let e = store.edit_comment(bob.id, reply.id, "back").await.unwrap_err();
    assert!(matches!(e, StoreError::CommentNotFound(_)), "deleted comments stay deleted: {e}");
    assert!(matches!(store.delete_comment(bob.id, reply.id).await, Err(StoreError::CommentNotFound(_))));
    let list = store.comments(&a, Audience::Public).await.unwrap();
    assert_eq!(list.len(), 2, "a deleted comment keeps its place");
    assert!(list[1].deleted_at.is_some() && list[1].body.is_empty(), "and loses its text");
    let e = store.add_comment(ada.id, &a, Some(reply.id), "to a deleted reply").await.unwrap_err();
    assert!(matches!(e, StoreError::BadReply { .. }));

    // Moderation.
    store.set_comment_hidden(top.id, true).await.unwrap();
    let public = store.comments(&a, Audience::Public).await.unwrap();
    assert!(public[0].hidden_at.is_some() && public[0].body.is_empty());
    let admin = store.comments(&a, Audience::Admin).await.unwrap();
    assert_eq!(admin[0].body, "First, edited");
    let e = store.add_comment(bob.id, &a, Some(top.id), "to hidden").await.unwrap_err();
    assert!(matches!(e, StoreError::BadReply { .. }));
    let counts = store.comment_counts(&[a.clone(), b.clone()]).await.unwrap();
    assert_eq!(counts, vec![(a.clone(), 0), (b.clone(), 0)]);
    store.set_comment_hidden(top.id, false).await.unwrap();
    assert_eq!(store.comment_counts(std::slice::from_ref(&a)).await.unwrap(), vec![(a.clone(), 1)]);
    assert!(matches!(store.set_comment_hidden(CommentId(999), true).await, Err(StoreError::CommentNotFound(_))));
    let profile = store.profile(&ada.username).await.unwrap().unwrap();
    assert_eq!(profile.comments, 1);
}

async fn reading_lists_are_per_member(db: TestDb) {
    let store = &db.store;
    let (ada, bob) = seeded(store).await;
    let (a, b) = (pid("2603.00001"), pid("2603.00002"));
    assert!(store.add_to_reading_list(ada.id, &a).await.unwrap());
    assert!(!store.add_to_reading_list(ada.id, &a).await.unwrap(), "adding twice keeps one entry");
    assert!(store.add_to_reading_list(ada.id, &b).await.unwrap());
    let list = store.reading_list(ada.id).await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().any(|e| e.paper.paper.id == a) && list.iter().any(|e| e.paper.paper.id == b));
    assert!(store.reading_list(bob.id).await.unwrap().is_empty());
    assert!(!store.remove_from_reading_list(bob.id, &a).await.unwrap());
    assert!(store.remove_from_reading_list(ada.id, &a).await.unwrap());
    assert_eq!(store.reading_list(ada.id).await.unwrap()[0].paper.paper.id, b);
    let e = store.add_to_reading_list(ada.id, &pid("9901.00001")).await.unwrap_err();
    assert!(matches!(e, StoreError::PaperNotFound { .. }));
}

async fn hidden_papers_disappear_for_the_public_and_stay_for_admins(db: TestDb) {
    let store = &db.store;
    let (ada, _bob) = seeded(store).await;
    let a = pid("2603.00001");
    store.toggle_vote(ada.id, &a).await.unwrap();
    store.add_to_reading_list(ada.id, &a).await.unwrap();
    let before = store.last_change_seq().await.unwrap();

    store.set_paper_hidden(&a, true).await.unwrap();
    store.set_paper_hidden(&a, true).await.unwrap();
    assert!(store.get_paper(&a).await.unwrap().is_none());
    let admin = store.paper_for(&a, Audience::Admin).await.unwrap().unwrap();
    assert!(admin.hidden_at.is_some());
    assert_eq!(store.feed(&FeedQuery::default()).await.unwrap().total, 2);
    let all = store.feed_for(&FeedQuery::default(), Audience::Admin, Utc::now()).await.unwrap();
    assert_eq!(all.total, 3);
    assert!(store.reading_list(ada.id).await.unwrap().is_empty());
    let e = store.toggle_vote(ada.id, &a).await.unwrap_err();
    assert!(matches!(e, StoreError::PaperNotFound { .. }), "{e}");
    assert_eq!(store.paper_for(&a, Audience::Admin).await.unwrap().unwrap().upvotes, 1, "nothing changed");
    assert!(matches!(store.add_comment(ada.id, &a, None, "hi").await, Err(StoreError::PaperNotFound { .. })));
    let changes = store.changes_since(before, 10).await.unwrap();
    assert_eq!(changes.len(), 1, "hiding is one change; hiding again is none");
    assert!(changes[0].paper.is_none(), "followers drop a hidden paper");

    store.set_paper_hidden(&a, false).await.unwrap();
    assert!(store.get_paper(&a).await.unwrap().unwrap().hidden_at.is_none());
    assert_eq!(store.reading_list(ada.id).await.unwrap().len(), 1);
    let changes = store.changes_since(before, 10).await.unwrap();
    assert!(changes[1].paper.is_some(), "and takes it back when shown");
    let e = store.set_paper_hidden(&pid("9901.00001"), true).await.unwrap_err();
    assert!(matches!(e, StoreError::PaperNotFound { .. }));
}

/// A catalog where votes and feed days are known, ranked at a fixed `now`.
async fn ranked_catalog(store: &SqlStore) -> DateTime<Utc> {
    let mut batch = Vec::new();
    for i in 1..=12 {
        let listed = if i <= 6 { "2026-03-10" } else { "2026-03-11" };
        batch.push(paper(&format!("2603.{i:05}"), &format!("Paper {i}"), listed));
    }
    store.upsert_papers(&batch).await.unwrap();
    // Votes: paper 1 (two days old at `now`) 6, paper 2 three, paper 7 (a day old) 2,
    // paper 8 two, paper 9 one; the rest none.
    let votes = [(1, 6), (2, 3), (7, 2), (8, 2), (9, 1)];
    let mut voters = Vec::new();
    for i in 0..6 {
        voters.push(member(store, &format!("voter{i}")).await.id);
    }
    for (p, n) in votes {
        for v in &voters[..n] {
            store.toggle_vote(*v, &pid(&format!("2603.{p:05}"))).await.unwrap();
        }
    }
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-12T00:00:00Z").unwrap().into();
    now
}

fn ids(page: &paperboy_store::FeedPage) -> Vec<String> {
    page.items.iter().map(|i| i.paper.id.to_string().trim_start_matches("2603.000").to_string()).collect()
}

async fn trending_and_top_order_and_page_correctly(db: TestDb) {
    let store = &db.store;
    let now = ranked_catalog(store).await;
    let q = |sort, offset, limit| FeedQuery { sort, offset, limit, ..Default::default() };

    // Scores at `now` (gravity 1.8, base 2): p1 6/50^1.8 = 0.00532, p2 0.00266,
    // p7 2/26^1.8 = 0.00568, p8 the same (tie: greater id first), p9 0.00284.
    let all = store.feed_for(&q(FeedSort::Trending, 0, 100), Audience::Public, now).await.unwrap();
    assert_eq!(all.total, 12);
    assert_eq!(ids(&all), ["08", "07", "01", "09", "02", "12", "11", "10", "06", "05", "04", "03"]);

    // Every page size gives the same order, across the voted/unvoted boundary.
    for limit in 1..=13 {
        let mut joined = Vec::new();
        let mut offset = 0;
        loop {
            let page = store.feed_for(&q(FeedSort::Trending, offset, limit), Audience::Public, now).await.unwrap();
            assert_eq!(page.total, 12);
            if page.items.is_empty() {
                break;
            }
            assert!(page.items.len() <= limit as usize);
            joined.extend(ids(&page));
            offset += limit;
        }
        assert_eq!(joined, ids(&all), "limit {limit}");
    }

    // Much later, age matters less and votes more: p1 leads.
    let later = now + Duration::days(30);
    let late = store.feed_for(&q(FeedSort::Trending, 0, 3), Audience::Public, later).await.unwrap();
    assert_eq!(ids(&late), ["01", "02", "08"]);
    // Gravity 0 is pure votes.
    let flat = store.clone().with_ranking(RankingSettings::new(0.0, 2.0).unwrap());
    let by_votes = flat.feed_for(&q(FeedSort::Trending, 0, 3), Audience::Public, now).await.unwrap();
    assert_eq!(ids(&by_votes), ["01", "02", "08"]);

    // Top: most votes, ties in the `new` order.
    let top = store.feed(&q(FeedSort::Top, 0, 6)).await.unwrap();
    assert_eq!(ids(&top), ["01", "02", "08", "07", "09", "12"]);
    let day = FeedQuery {
        from: Some(day("2026-03-11")),
        until: Some(day("2026-03-12")),
        sort: FeedSort::Top,
        limit: 2,
        offset: 1,
        ..Default::default()
    };
    let page = store.feed(&day).await.unwrap();
    assert_eq!((page.total, ids(&page)), (6, vec!["07".to_string(), "09".to_string()]));
    let new = store.feed(&q(FeedSort::New, 0, 3)).await.unwrap();
    assert_eq!(ids(&new), ["12", "11", "10"], "`new` is unchanged");
    assert!(store.feed(&q(FeedSort::Trending, 0, 0)).await.unwrap().items.is_empty());
    assert_eq!(store.feed(&q(FeedSort::Trending, 50, 10)).await.unwrap().items.len(), 0);

    // A submitted paper is ranked from its submission time.
    let ada = member(store, "ada").await;
    store.submit_paper(ada.id, &paper("2603.00050", "Fresh", "2026-03-11"), now - Duration::hours(1)).await.unwrap();
    let fresh = store.feed_for(&q(FeedSort::Trending, 0, 2), Audience::Public, now).await.unwrap();
    assert_eq!(ids(&fresh), ["50", "08"], "one vote an hour ago beats two votes a day ago");
}

async fn one_object_serves_both_halves(db: TestDb) {
    use std::sync::Arc;
    let (ada, _bob) = seeded(&db.store).await;
    let both = db.store.clone().into_database();
    let (catalog, community): (Arc<dyn Catalog>, Arc<dyn Community>) = (both.clone(), both);
    assert_eq!(catalog.count_papers().await.unwrap(), 3);
    let v = community.toggle_vote(ada.id, &pid("2603.00002")).await.unwrap();
    assert_eq!(v.upvotes, 1);
    let top = catalog.feed(&FeedQuery { sort: FeedSort::Top, limit: 1, ..Default::default() }).await.unwrap();
    assert_eq!(top.items[0].paper.id, pid("2603.00002"));
    // The SQLite backend is a whole `Database` (with mailing and harvests) for the web layer.
    if db.store.sqlite().is_some() {
        let whole: Arc<dyn paperboy_store::Database> = Arc::new(db.store.clone());
        assert_eq!(whole.get_paper(&pid("2603.00002")).await.unwrap().unwrap().upvotes, 1);
    }
}
