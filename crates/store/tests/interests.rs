//! A member's recommendation signals on both backends (migration 0010): "not
//! for me" marks, followed authors and categories, library imports and their
//! matching (arXiv id, DOI, title; duplicates; the size limit), the profile
//! that gathers them, clearing, the private feed secret, the digest's
//! content, privacy between members, hidden papers, and the profile's speed
//! at catalog scale (printed with `--nocapture`, not asserted).

use crate::common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::TestDb;
use paperboy_core::{Email, Paper, PaperId, Role, UserId, Username};
use paperboy_store::{
    Accounts, Catalog, Community, DigestContent, InterestKind, Interests, LibraryFormat, LikeSource, MAX_FOLLOWS,
    MAX_LIBRARY_ENTRIES, Mailing, Moderation, NewLibraryEntry, NewUser, SqlStore, StoreError, User,
};

on_both_backends!(
    not_for_me_marks_are_idempotent_private_and_skip_hidden_papers,
    follows_compare_names_loosely_keep_their_order_and_stop_at_the_limit,
    concurrent_follows_never_pass_the_limit,
    library_entries_match_by_arxiv_id_then_doi_then_title,
    duplicates_are_counted_against_the_library_and_the_upload,
    a_library_over_the_limit_stores_nothing,
    library_entries_are_their_owners_alone,
    the_profile_gathers_every_signal_latest_first,
    clearing_removes_one_kind_or_everything,
    feed_secrets_rotate_and_stop_working_for_suspended_members,
    digest_content_round_trips_and_needs_a_member,
    a_members_signals_go_with_the_member,
    the_profile_is_fast_at_catalog_scale,
);

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn pid(s: &str) -> PaperId {
    PaperId::parse(s).unwrap()
}

fn paper(id: &str, title: &str) -> Paper {
    let mut p = Paper::new(pid(id), title, day("2026-03-10"));
    p.authors = vec!["Ada Lovelace".into(), "Grace Hopper".into()];
    p.abstract_text = format!("Abstract of {title}.");
    p.categories = vec!["cs.LG".into()];
    p.version = Some(1);
    p.normalize();
    p
}

async fn member(store: &SqlStore, name: &str) -> User {
    let new = NewUser {
        username: Username::parse(name).unwrap(),
        email: Email::parse(&format!("{name}@example.org")).unwrap(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash-of-{name}"),
        role: Role::Member,
        email_verified: true,
    };
    store.create_user(&new).await.unwrap()
}

/// Five papers (one with a DOI) and two members.
async fn seeded(store: &SqlStore) -> (User, User) {
    let mut with_doi = paper("2603.00004", "Delta: Attention Over Graphs");
    with_doi.doi = Some("10.1145/ABC.123".into());
    store
        .upsert_papers(&[
            paper("2603.00001", "Alpha"),
            paper("2603.00002", "Beta Networks for Gamma Tasks"),
            paper("2603.00003", "Gamma"),
            with_doi,
            paper("2603.00005", "Epsilon"),
        ])
        .await
        .unwrap();
    (member(store, "ada").await, member(store, "bob").await)
}

fn entry(title: &str) -> NewLibraryEntry {
    NewLibraryEntry { title: title.into(), ..Default::default() }
}

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-12T08:00:00Z").unwrap().with_timezone(&Utc) + Duration::minutes(minutes)
}

fn ids(papers: impl IntoIterator<Item = PaperId>) -> Vec<String> {
    papers.into_iter().map(|p| p.to_string()).collect()
}

/// Runs a statement without parameters on the test database.
async fn exec(db: &TestDb, sql: &str) {
    match (db.store.sqlite(), db.store.postgres()) {
        (Some(s), _) => sqlx::raw_sql(sql).execute(s.pool()).await.map(drop).unwrap(),
        (_, Some(p)) => sqlx::raw_sql(sql).execute(p.pool()).await.map(drop).unwrap(),
        (None, None) => unreachable!("a store is on one of the two backends"),
    }
}

async fn not_for_me_marks_are_idempotent_private_and_skip_hidden_papers(db: TestDb) {
    let s = &db.store;
    let (ada, bob) = seeded(s).await;
    s.set_not_for_me(ada.id, &pid("2603.00001"), true, at(0)).await.unwrap();
    s.set_not_for_me(ada.id, &pid("2603.00002"), true, at(1)).await.unwrap();
    s.set_not_for_me(ada.id, &pid("2603.00001"), true, at(2)).await.unwrap();
    assert_eq!(db.count("SELECT COUNT(*) FROM not_for_me").await, 2, "one row per member and paper");

    // Most recent first: marking again moved 00001 to the front.
    let listed = s.not_for_me_papers(ada.id, 10, 0).await.unwrap();
    assert_eq!(ids(listed.iter().map(|p| p.paper.id.clone())), ["2603.00001", "2603.00002"]);
    assert_eq!(ids(s.not_for_me_papers(ada.id, 1, 1).await.unwrap().into_iter().map(|p| p.paper.id)), ["2603.00002"]);
    let among = s.not_for_me_among(ada.id, &[pid("2603.00003"), pid("2603.00002"), pid("2603.00001")]).await.unwrap();
    assert_eq!(ids(among), ["2603.00002", "2603.00001"], "in the order asked");

    // Bob sees none of Ada's marks.
    assert!(s.not_for_me_papers(bob.id, 10, 0).await.unwrap().is_empty());
    assert!(s.not_for_me_among(bob.id, &[pid("2603.00001")]).await.unwrap().is_empty());
    assert!(s.interest_profile(bob.id, 10).await.unwrap().not_for_me.is_empty());

    // Unknown and hidden papers are refused; a hidden paper leaves the lists.
    let err = s.set_not_for_me(ada.id, &pid("2603.09999"), true, at(3)).await.unwrap_err();
    assert!(matches!(err, StoreError::PaperNotFound { .. }), "{err}");
    s.set_paper_hidden(&pid("2603.00002"), true).await.unwrap();
    let err = s.set_not_for_me(ada.id, &pid("2603.00002"), true, at(3)).await.unwrap_err();
    assert!(matches!(err, StoreError::PaperNotFound { .. }), "{err}");
    assert_eq!(ids(s.not_for_me_papers(ada.id, 10, 0).await.unwrap().into_iter().map(|p| p.paper.id)), ["2603.00001"]);
    let profile = s.interest_profile(ada.id, 10).await.unwrap();
    assert_eq!(ids(profile.not_for_me.iter().map(|(p, _)| p.id.clone())), ["2603.00001"]);
    assert_eq!(profile.not_for_me[0].1, at(2));

    // Unmarking is idempotent too.
    s.set_not_for_me(ada.id, &pid("2603.00001"), false, at(4)).await.unwrap();
    s.set_not_for_me(ada.id, &pid("2603.00001"), false, at(5)).await.unwrap();
    assert!(s.not_for_me_papers(ada.id, 10, 0).await.unwrap().is_empty());
    let err = s.set_not_for_me(UserId(9999), &pid("2603.00003"), true, at(6)).await.unwrap_err();
    assert!(matches!(err, StoreError::UserNotFound(UserId(9999))), "{err}");
}

async fn follows_compare_names_loosely_keep_their_order_and_stop_at_the_limit(db: TestDb) {
    let s = &db.store;
    let (ada, bob) = seeded(s).await;
    s.follow_author(ada.id, "Grace  Hopper", true, at(0)).await.unwrap();
    s.follow_author(ada.id, "Ada Lovelace", true, at(1)).await.unwrap();
    s.follow_author(ada.id, " grace hopper ", true, at(2)).await.unwrap();
    s.follow_category(ada.id, "cs.CL", true, at(0)).await.unwrap();
    s.follow_category(ada.id, "stat.ML", true, at(1)).await.unwrap();
    s.follow_category(ada.id, "cs.CL", true, at(2)).await.unwrap();
    let profile = s.interest_profile(ada.id, 10).await.unwrap();
    assert_eq!(profile.authors, ["Grace Hopper", "Ada Lovelace"], "as first typed, in the order followed");
    assert_eq!(profile.categories, ["cs.CL", "stat.ML"]);
    assert!(!profile.is_empty());
    assert!(s.interest_profile(bob.id, 10).await.unwrap().is_empty(), "Bob follows nobody");

    s.follow_author(ada.id, "GRACE HOPPER", false, at(3)).await.unwrap();
    s.follow_category(ada.id, "cs.CL", false, at(3)).await.unwrap();
    let profile = s.interest_profile(ada.id, 10).await.unwrap();
    assert_eq!(profile.authors, ["Ada Lovelace"]);
    assert_eq!(profile.categories, ["stat.ML"]);
    assert!(matches!(s.follow_author(ada.id, "  ", true, at(4)).await, Err(StoreError::Invalid(_))));
    assert!(matches!(s.follow_author(UserId(9999), "X", true, at(4)).await, Err(StoreError::UserNotFound(_))));

    // Up to the limit, then refused, and nothing more is stored; following
    // one already followed is still fine.
    for i in 1..MAX_FOLLOWS {
        s.follow_author(ada.id, &format!("Author {i}"), true, at(5)).await.unwrap();
        s.follow_category(ada.id, &format!("x.C{i}"), true, at(5)).await.unwrap();
    }
    let err = s.follow_author(ada.id, "One Too Many", true, at(6)).await.unwrap_err();
    assert!(matches!(err, StoreError::TooMany { max: MAX_FOLLOWS, .. }), "{err}");
    let err = s.follow_category(ada.id, "y.Z", true, at(6)).await.unwrap_err();
    assert!(matches!(err, StoreError::TooMany { max: MAX_FOLLOWS, .. }), "{err}");
    s.follow_author(ada.id, "author 7", true, at(6)).await.unwrap();
    let profile = s.interest_profile(ada.id, 1000).await.unwrap();
    assert_eq!((profile.authors.len(), profile.categories.len()), (MAX_FOLLOWS, MAX_FOLLOWS));
    assert!(!profile.authors.iter().any(|a| a == "One Too Many"));
    assert_eq!(s.interest_profile(ada.id, 3).await.unwrap().authors.len(), 3, "at most the limit given");
    // Bob's own follows are unaffected by Ada's limit.
    s.follow_author(bob.id, "One Too Many", true, at(6)).await.unwrap();
    assert_eq!(s.interest_profile(bob.id, 10).await.unwrap().authors, ["One Too Many"]);
}

async fn concurrent_follows_never_pass_the_limit(db: TestDb) {
    let (ada, _) = seeded(&db.store).await;
    for i in 0..MAX_FOLLOWS - 10 {
        db.store.follow_author(ada.id, &format!("Author {i}"), true, at(0)).await.unwrap();
    }
    // Twenty follows at once from several servers' pools: ten fit.
    let handles = db.handles(4).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = handles[i % handles.len()].clone();
            tokio::spawn(async move { store.follow_author(ada.id, &format!("Late {i}"), true, at(1)).await })
        })
        .collect();
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => {}
            Err(StoreError::TooMany { .. }) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(refused, 10);
    assert_eq!(db.count("SELECT COUNT(*) FROM followed_authors").await as usize, MAX_FOLLOWS);
}

async fn library_entries_match_by_arxiv_id_then_doi_then_title(db: TestDb) {
    let s = &db.store;
    let (ada, _) = seeded(s).await;
    let entries = vec![
        // An arXiv id wins over a title that names another paper.
        NewLibraryEntry { arxiv_id: Some(pid("2603.00001")), ..entry("Epsilon") },
        // A DOI, compared without regard to case.
        NewLibraryEntry {
            doi: Some("10.1145/abc.123".into()),
            authors: vec!["D. Author".into()],
            year: Some(2026),
            key: Some("delta2026".into()),
            ..entry("Some Other Title")
        },
        // An arXiv DOI stands for the arXiv id.
        NewLibraryEntry { doi: Some("10.48550/arxiv.2603.00005".into()), ..entry("Unrelated") },
        // The exact title, ignoring case, spacing and punctuation.
        entry("beta   NETWORKS for gamma tasks."),
        // Not in the catalog: kept with its text.
        NewLibraryEntry {
            arxiv_id: Some(pid("2501.00001")),
            abstract_text: Some("We study  things.".into()),
            authors: vec!["Zed".into()],
            ..entry("A Paper Not Here")
        },
    ];
    let done = s.import_library(ada.id, LibraryFormat::Bibtex, &entries, at(0)).await.unwrap();
    assert_eq!((done.added, done.matched, done.duplicates), (5, 4, 0));

    let lib = s.library(ada.id, 10, 0).await.unwrap();
    let got: Vec<(Option<String>, Option<&str>)> =
        lib.iter().map(|e| (e.paper.as_ref().map(|p| p.to_string()), e.matched_by.as_deref())).collect();
    assert_eq!(
        got,
        [
            (Some("2603.00001".into()), Some("arxiv_id")),
            (Some("2603.00004".into()), Some("doi")),
            (Some("2603.00005".into()), Some("doi")),
            (Some("2603.00002".into()), Some("title")),
            (None, None),
        ],
        "one import keeps the upload's order"
    );
    let delta = &lib[1];
    assert_eq!(delta.format, LibraryFormat::Bibtex);
    assert_eq!(delta.key.as_deref(), Some("delta2026"));
    assert_eq!(delta.authors, ["D. Author"]);
    assert_eq!(delta.year, Some(2026));
    assert_eq!(delta.doi.as_deref(), Some("10.1145/abc.123"));
    assert_eq!(delta.added_at, at(0));
    assert_eq!(lib[4].arxiv_id.as_deref(), Some("2501.00001"));
    assert_eq!(lib[4].abstract_text.as_deref(), Some("We study things."));
    assert_eq!(ids(s.library(ada.id, 2, 3).await.unwrap().iter().filter_map(|e| e.paper.clone())), ["2603.00002"]);

    // Hidden papers are never matched, and a match whose paper is hidden
    // later counts through its text again.
    s.set_paper_hidden(&pid("2603.00003"), true).await.unwrap();
    let done = s.import_library(ada.id, LibraryFormat::Ris, &[entry("GAMMA")], at(1)).await.unwrap();
    assert_eq!((done.added, done.matched), (1, 0));
    s.set_paper_hidden(&pid("2603.00001"), true).await.unwrap();
    let lib = s.library(ada.id, 10, 0).await.unwrap();
    assert_eq!((lib[0].title.as_str(), lib[0].format, lib[0].paper.is_none()), ("GAMMA", LibraryFormat::Ris, true));
    let first = lib.iter().find(|e| e.title == "Epsilon").unwrap();
    assert_eq!((first.paper.as_ref(), first.matched_by.as_ref()), (None, None), "its paper was hidden");
    let profile = s.interest_profile(ada.id, 10).await.unwrap();
    assert_eq!(ids(profile.liked.iter().map(|l| l.paper.id.clone())).len(), 3);
    assert!(profile.liked.iter().all(|l| l.source == LikeSource::Library && l.paper.id != pid("2603.00001")));
    let texts: Vec<&str> = profile.library_texts.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(texts, ["GAMMA", "Epsilon", "A Paper Not Here"]);
    let not_here = profile.library_texts.iter().find(|t| t.title == "A Paper Not Here").unwrap();
    assert_eq!(
        (not_here.abstract_text.as_str(), not_here.authors.as_slice()),
        ("We study things.", &["Zed".to_string()][..])
    );
}

async fn duplicates_are_counted_against_the_library_and_the_upload(db: TestDb) {
    let s = &db.store;
    let (ada, bob) = seeded(s).await;
    let first = [
        NewLibraryEntry { arxiv_id: Some(pid("2603.00001")), ..entry("Alpha") },
        NewLibraryEntry { doi: Some("10.1/x".into()), ..entry("Not In The Catalog") },
    ];
    let done = s.import_library(ada.id, LibraryFormat::Bibtex, &first, at(0)).await.unwrap();
    assert_eq!((done.added, done.matched, done.duplicates), (2, 1, 0));
    let second = [
        // The same arXiv id through its arXiv DOI.
        NewLibraryEntry { doi: Some("10.48550/arXiv.2603.00001".into()), ..entry("Renamed") },
        // The same DOI under another title.
        NewLibraryEntry { doi: Some("10.1/X".into()), ..entry("Another Title") },
        // The same title, spelled differently.
        entry("not in the  catalog"),
        // New, then repeated within the upload.
        entry("Epsilon"),
        entry("EPSILON"),
        entry("Something New"),
    ];
    let done = s.import_library(ada.id, LibraryFormat::Ris, &second, at(1)).await.unwrap();
    assert_eq!((done.added, done.matched, done.duplicates), (2, 1, 4));
    assert_eq!(s.library(ada.id, 100, 0).await.unwrap().len(), 4);
    // Another member's library is theirs: nothing of Ada's is a duplicate there.
    let done = s.import_library(bob.id, LibraryFormat::Ris, &second, at(1)).await.unwrap();
    assert_eq!((done.added, done.matched, done.duplicates), (5, 2, 1));
}

async fn a_library_over_the_limit_stores_nothing(db: TestDb) {
    let s = &db.store;
    let (ada, _) = seeded(s).await;
    let many: Vec<NewLibraryEntry> = (0..MAX_LIBRARY_ENTRIES - 1).map(|i| entry(&format!("Entry {i}"))).collect();
    let done = s.import_library(ada.id, LibraryFormat::Bibtex, &many, at(0)).await.unwrap();
    assert_eq!(done.added as usize, MAX_LIBRARY_ENTRIES - 1);
    let two = [entry("Alpha"), entry("One Too Many")];
    let err = s.import_library(ada.id, LibraryFormat::Bibtex, &two, at(1)).await.unwrap_err();
    assert!(matches!(err, StoreError::TooMany { max: MAX_LIBRARY_ENTRIES, .. }), "{err}");
    assert_eq!(db.count("SELECT COUNT(*) FROM library_entries").await as usize, MAX_LIBRARY_ENTRIES - 1);
    // Duplicates do not count toward the limit; one more fits exactly.
    let done = s.import_library(ada.id, LibraryFormat::Bibtex, &[entry("Entry 1"), entry("Alpha")], at(2)).await;
    assert_eq!(done.unwrap().duplicates, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM library_entries").await as usize, MAX_LIBRARY_ENTRIES);
    let err = s.import_library(UserId(9999), LibraryFormat::Ris, &[entry("X")], at(3)).await.unwrap_err();
    assert!(matches!(err, StoreError::UserNotFound(_)), "{err}");
}

async fn library_entries_are_their_owners_alone(db: TestDb) {
    let s = &db.store;
    let (ada, bob) = seeded(s).await;
    s.import_library(ada.id, LibraryFormat::Bibtex, &[entry("Alpha"), entry("Elsewhere")], at(0)).await.unwrap();
    assert!(s.library(bob.id, 10, 0).await.unwrap().is_empty());
    let bob_profile = s.interest_profile(bob.id, 10).await.unwrap();
    assert!(bob_profile.liked.is_empty() && bob_profile.library_texts.is_empty());

    let lib = s.library(ada.id, 10, 0).await.unwrap();
    assert!(!s.remove_library_entry(bob.id, lib[0].id).await.unwrap(), "not Bob's to remove");
    assert_eq!(s.library(ada.id, 10, 0).await.unwrap().len(), 2);
    assert!(s.remove_library_entry(ada.id, lib[0].id).await.unwrap());
    assert!(!s.remove_library_entry(ada.id, lib[0].id).await.unwrap(), "gone already");
    let left = s.library(ada.id, 10, 0).await.unwrap();
    assert_eq!(left.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(), ["Elsewhere"]);
}

async fn the_profile_gathers_every_signal_latest_first(db: TestDb) {
    let s = &db.store;
    let (ada, bob) = seeded(s).await;
    // Upvotes and saves are stamped with the clock; the library with `now`,
    // here an hour ahead so that it is the latest word.
    s.set_vote(ada.id, &pid("2603.00001"), true).await.unwrap();
    s.add_to_reading_list(ada.id, &pid("2603.00002")).await.unwrap();
    s.set_vote(ada.id, &pid("2603.00002"), true).await.unwrap();
    let later = DateTime::from_timestamp_millis((Utc::now() + Duration::hours(1)).timestamp_millis()).unwrap();
    let lib = [entry("Gamma"), entry("Beta Networks for Gamma Tasks"), entry("Text Only")];
    s.import_library(ada.id, LibraryFormat::Bibtex, &lib, later).await.unwrap();
    s.set_vote(bob.id, &pid("2603.00005"), true).await.unwrap();
    s.set_not_for_me(ada.id, &pid("2603.00004"), true, later).await.unwrap();

    let profile = s.interest_profile(ada.id, 10).await.unwrap();
    let liked: Vec<(String, LikeSource)> = profile.liked.iter().map(|l| (l.paper.id.to_string(), l.source)).collect();
    assert_eq!(
        liked,
        [
            ("2603.00003".into(), LikeSource::Library),
            ("2603.00002".into(), LikeSource::Library),
            ("2603.00001".into(), LikeSource::Upvote),
        ],
        "one row per paper, its latest source; most recent first (ties by id, descending)"
    );
    assert_eq!(profile.liked[0].at, later);
    assert_eq!(profile.liked[0].paper.title, "Gamma");
    assert_eq!(profile.liked[0].paper.authors, ["Ada Lovelace", "Grace Hopper"]);
    assert_eq!(profile.library_texts.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(), ["Text Only"]);
    assert_eq!(profile.library_texts[0].abstract_text, "", "no abstract: empty text");
    assert_eq!(ids(profile.not_for_me.iter().map(|(p, _)| p.id.clone())), ["2603.00004"]);
    assert_eq!(s.interest_profile(ada.id, 2).await.unwrap().liked.len(), 2, "at most the limit given");

    // Without the library the upvote and the save speak; hidden papers go.
    s.clear_interests(ada.id, InterestKind::Library).await.unwrap();
    s.set_paper_hidden(&pid("2603.00001"), true).await.unwrap();
    let profile = s.interest_profile(ada.id, 10).await.unwrap();
    assert_eq!(ids(profile.liked.iter().map(|l| l.paper.id.clone())), ["2603.00002"]);
    assert!(matches!(profile.liked[0].source, LikeSource::Upvote | LikeSource::ReadingList));
    // Bob's upvote is his.
    let bobs = s.interest_profile(bob.id, 10).await.unwrap();
    assert_eq!(ids(bobs.liked.iter().map(|l| l.paper.id.clone())), ["2603.00005"]);
    assert!(bobs.not_for_me.is_empty());
}

async fn clearing_removes_one_kind_or_everything(db: TestDb) {
    let s = &db.store;
    let (ada, bob) = seeded(s).await;
    for u in [ada.id, bob.id] {
        s.set_not_for_me(u, &pid("2603.00001"), true, at(0)).await.unwrap();
        s.follow_author(u, "Ada Lovelace", true, at(0)).await.unwrap();
        s.follow_category(u, "cs.LG", true, at(0)).await.unwrap();
        s.import_library(u, LibraryFormat::Bibtex, &[entry("Gamma"), entry("Elsewhere")], at(0)).await.unwrap();
        s.set_vote(u, &pid("2603.00002"), true).await.unwrap();
    }
    let counts = |p: &paperboy_store::InterestProfile| {
        (p.not_for_me.len(), p.authors.len(), p.categories.len(), p.library_texts.len(), p.liked.len())
    };
    let before = counts(&s.interest_profile(ada.id, 10).await.unwrap());
    assert_eq!(before, (1, 1, 1, 1, 2));
    s.clear_interests(ada.id, InterestKind::NotForMe).await.unwrap();
    assert_eq!(counts(&s.interest_profile(ada.id, 10).await.unwrap()), (0, 1, 1, 1, 2));
    s.clear_interests(ada.id, InterestKind::Authors).await.unwrap();
    assert_eq!(counts(&s.interest_profile(ada.id, 10).await.unwrap()), (0, 0, 1, 1, 2));
    s.clear_interests(ada.id, InterestKind::Categories).await.unwrap();
    assert_eq!(counts(&s.interest_profile(ada.id, 10).await.unwrap()), (0, 0, 0, 1, 2));
    s.clear_interests(ada.id, InterestKind::Library).await.unwrap();
    assert_eq!(counts(&s.interest_profile(ada.id, 10).await.unwrap()), (0, 0, 0, 0, 1), "the upvote stays");
    assert_eq!(counts(&s.interest_profile(bob.id, 10).await.unwrap()), before, "Bob's signals are untouched");

    s.clear_interests(bob.id, InterestKind::Everything).await.unwrap();
    assert_eq!(counts(&s.interest_profile(bob.id, 10).await.unwrap()), (0, 0, 0, 0, 1));
    assert!(s.library(bob.id, 10, 0).await.unwrap().is_empty());
}

async fn feed_secrets_rotate_and_stop_working_for_suspended_members(db: TestDb) {
    let s = &db.store;
    let (ada, bob) = seeded(s).await;
    assert!(!s.has_feed_secret(ada.id).await.unwrap());
    let first = s.rotate_feed_secret(ada.id, at(0)).await.unwrap();
    assert_eq!(first.as_str().len(), 64);
    assert!(s.has_feed_secret(ada.id).await.unwrap());
    assert!(!s.has_feed_secret(bob.id).await.unwrap());
    assert_eq!(s.feed_secret_user(first.as_str()).await.unwrap(), Some(ada.id));
    assert_eq!(
        db.count(&format!("SELECT COUNT(*) FROM feed_secrets WHERE secret_hash = '{}'", first.as_str())).await,
        0,
        "only the hash is stored"
    );

    let second = s.rotate_feed_secret(ada.id, at(1)).await.unwrap();
    assert_ne!(first.as_str(), second.as_str());
    assert_eq!(s.feed_secret_user(first.as_str()).await.unwrap(), None, "the old secret is revoked");
    assert_eq!(s.feed_secret_user(second.as_str()).await.unwrap(), Some(ada.id));
    let bobs = s.rotate_feed_secret(bob.id, at(1)).await.unwrap();
    assert_eq!(s.feed_secret_user(bobs.as_str()).await.unwrap(), Some(bob.id));
    assert_eq!(s.feed_secret_user("not-a-secret").await.unwrap(), None);
    assert_eq!(db.count("SELECT COUNT(*) FROM feed_secrets").await, 2);

    s.set_suspended(ada.id, true).await.unwrap();
    assert_eq!(s.feed_secret_user(second.as_str()).await.unwrap(), None, "suspended");
    s.set_suspended(ada.id, false).await.unwrap();
    assert_eq!(s.feed_secret_user(second.as_str()).await.unwrap(), Some(ada.id));
    assert!(matches!(s.rotate_feed_secret(UserId(9999), at(2)).await, Err(StoreError::UserNotFound(_))));
}

async fn digest_content_round_trips_and_needs_a_member(db: TestDb) {
    let s = &db.store;
    let (ada, _) = seeded(s).await;
    let mine = s.subscribe(&ada.email, Some(ada.id)).await.unwrap();
    assert_eq!(mine.content, DigestContent::Trending, "the default");
    for content in [DigestContent::Recommended, DigestContent::Both, DigestContent::Trending, DigestContent::Both] {
        assert_eq!(s.set_digest_content(mine.id, content).await.unwrap().content, content);
        assert_eq!(s.subscriber(mine.id).await.unwrap().unwrap().content, content);
    }
    assert_eq!(s.subscriber_for_user(ada.id).await.unwrap().unwrap().content, DigestContent::Both);

    let anon = s.subscribe(&Email::parse("cy@example.org").unwrap(), None).await.unwrap();
    for content in [DigestContent::Recommended, DigestContent::Both] {
        let err = s.set_digest_content(anon.id, content).await.unwrap_err();
        assert!(matches!(err, StoreError::DigestNeedsMember), "{err}");
    }
    assert_eq!(s.subscriber(anon.id).await.unwrap().unwrap().content, DigestContent::Trending, "unchanged");
    assert_eq!(s.set_digest_content(anon.id, DigestContent::Trending).await.unwrap().content, DigestContent::Trending);
    let err = s.set_digest_content(paperboy_store::SubscriberId(9999), DigestContent::Trending).await.unwrap_err();
    assert!(matches!(err, StoreError::SubscriberNotFound(9999)), "{err}");
    // The column refuses anything else, whoever writes it.
    assert_eq!(db.text("SELECT content FROM subscribers WHERE email_key = 'cy@example.org'").await, "trending");
}

async fn a_members_signals_go_with_the_member(db: TestDb) {
    // Paperboy never deletes members today (their votes stay); if an
    // operator does, every interest table follows the member.
    let s = &db.store;
    let (ada, bob) = seeded(s).await;
    for u in [ada.id, bob.id] {
        s.set_not_for_me(u, &pid("2603.00001"), true, at(0)).await.unwrap();
        s.follow_author(u, "Ada Lovelace", true, at(0)).await.unwrap();
        s.follow_category(u, "cs.LG", true, at(0)).await.unwrap();
        s.import_library(u, LibraryFormat::Bibtex, &[entry("Gamma")], at(0)).await.unwrap();
        s.rotate_feed_secret(u, at(0)).await.unwrap();
    }
    exec(&db, &format!("DELETE FROM users WHERE id = {}", ada.id.0)).await;
    for table in ["not_for_me", "followed_authors", "followed_categories", "library_entries", "feed_secrets"] {
        assert_eq!(db.count(&format!("SELECT COUNT(*) FROM {table}")).await, 1, "{table}: only Bob's row is left");
        assert_eq!(db.count(&format!("SELECT COUNT(*) FROM {table} WHERE user_id = {}", bob.id.0)).await, 1);
    }
}

/// Not a pass/fail test: prints how long a member's profile takes to read
/// at the scale (75,000 papers; 500 upvotes, 500 saves, 500
/// matched library entries), so that `--nocapture` shows it.
async fn the_profile_is_fast_at_catalog_scale(db: TestDb) {
    let s = &db.store;
    let ada = member(s, "ada").await;
    let abstract_text = "word ".repeat(200);
    exec(
        &db,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 75000) \
             INSERT INTO papers (paper_id, version, title, title_key, authors, abstract, primary_category, \
             categories, listed_on, content_hash, created_at, modified_at) \
             SELECT '2601.' || CAST(10000 + i AS TEXT), 1, 'Paper number ' || CAST(i AS TEXT), \
             'paper number ' || CAST(i AS TEXT), '[\"Ada Lovelace\", \"Grace Hopper\", \"Alan Turing\"]', \
             '{abstract_text}', 'cs.LG', ' cs.LG stat.ML ', '2026-01-15', i, \
             '2026-01-15T00:00:00Z', '2026-01-15T00:00:00Z' FROM n"
        ),
    )
    .await;
    let uid = ada.id.0;
    exec(
        &db,
        &format!(
            "INSERT INTO votes (user_id, paper_pk, created_at) SELECT {uid}, pk, '2026-02-01T00:00:00.000Z' \
             FROM papers WHERE pk % 150 = 0 AND pk <= 75000;
             INSERT INTO reading_list (user_id, paper_pk, added_at) SELECT {uid}, pk, '2026-02-02T00:00:00.000Z' \
             FROM papers WHERE pk % 150 = 75 AND pk <= 75000"
        ),
    )
    .await;
    let lib: Vec<NewLibraryEntry> = (0..500)
        .map(|i| NewLibraryEntry {
            arxiv_id: Some(pid(&format!("2601.{}", 10000 + 150 * i + 30))),
            abstract_text: Some(abstract_text.clone()),
            ..entry(&format!("Library entry {i}"))
        })
        .collect();
    let started = std::time::Instant::now();
    let done = s.import_library(ada.id, LibraryFormat::Bibtex, &lib, at(0)).await.unwrap();
    let import = started.elapsed();
    assert_eq!((done.added, done.matched), (500, 500));

    for limit in [2000, 500] {
        let mut times = Vec::new();
        let cpu_before = process_cpu();
        for _ in 0..READS {
            let started = std::time::Instant::now();
            let profile = s.interest_profile(ada.id, limit).await.unwrap();
            times.push(started.elapsed());
            assert_eq!(profile.liked.len(), limit.min(1500) as usize);
        }
        let cpu = match (cpu_before, process_cpu()) {
            (Some(a), Some(b)) => format!("{:.2?}", (b - a) / READS),
            _ => "unknown".into(),
        };
        times.sort();
        eprintln!(
            "interest_profile(limit {limit}) on {} (75,000 papers; 500 upvotes + 500 saves + 500 library \
             entries), {READS} reads: wall min {:.2?}, median {:.2?}, max {:.2?}; CPU time of the whole process \
             per read {cpu}",
            s.backend_name(),
            times[0],
            times[READS as usize / 2],
            times[READS as usize - 1],
        );
    }
    eprintln!("importing the 500 entries on {} took {import:.2?}", s.backend_name());
}

/// Reads of the profile timed by [`the_profile_is_fast_at_catalog_scale`].
const READS: u32 = 30;

/// The CPU time this process has used (user and system, all threads), from
/// `/proc/self/stat` (Linux; `None` elsewhere): on a busy machine it says
/// more than the wall clock about one read's cost.
fn process_cpu() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces) start at the state, field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports these in USER_HZ, 100 per second on every common configuration.
    Some(std::time::Duration::from_millis(ticks * 10))
}
