//! `/settings/interests` (`src/pages/interests.rs`) and the follow buttons
//! of paper pages: following and unfollowing categories and authors,
//! undoing "not for me", clearing (after a confirmation page), rotating the
//! private feed's secret (shown once), and privacy: another member sees
//! none of it, visitors are sent to log in, nothing is cacheable.

use chrono::Utc;
use paperboy_core::PaperId;
use paperboy_store::{InterestKind, Interests};
use reqwest::StatusCode;

use super::library::{member, site};
use crate::common::Browser;

#[tokio::test]
async fn categories_and_authors_are_followed_and_unfollowed() {
    let site = site().await;
    let mut ann = member(&site, "ann").await;
    let csrf = ann.csrf.clone();
    let r = ann.b.post("/settings/interests/categories", &[("csrf", &csrf), ("category", "cs.LG"), ("on", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/settings/interests#categories");
    ann.b.post("/settings/interests/categories", &[("csrf", &csrf), ("category", "cs.CL")]).await;
    let r = ann
        .b
        .post("/settings/interests/authors", &[("csrf", &csrf), ("name", "  Yoshua   Bengio "), ("on", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let profile = site.store.interest_profile(ann.id, 50).await.unwrap();
    assert_eq!(profile.categories, ["cs.LG", "cs.CL"]);
    assert_eq!(profile.authors, ["Yoshua Bengio"]);

    let page = ann.b.get("/settings/interests").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers.get("cache-control").unwrap(), "private, no-store");
    for shown in ["cs.LG", "cs.CL", "Yoshua Bengio", "<datalist id=\"known-categories\">"] {
        assert!(page.body.contains(shown), "{shown}");
    }

    ann.b.post("/settings/interests/categories", &[("csrf", &csrf), ("category", "cs.LG"), ("on", "0")]).await;
    ann.b.post("/settings/interests/authors", &[("csrf", &csrf), ("name", "Yoshua Bengio"), ("on", "0")]).await;
    let profile = site.store.interest_profile(ann.id, 50).await.unwrap();
    assert_eq!((profile.categories, profile.authors.len()), (vec!["cs.CL".to_string()], 0));

    // Bad input: a readable 400 on the page, nothing stored.
    let bad = ann.b.post("/settings/interests/categories", &[("csrf", &csrf), ("category", "<b>not one</b>")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("is not a category: use arXiv names such as cs.LG"), "{}", bad.body);
    let empty = ann.b.post("/settings/interests/authors", &[("csrf", &csrf), ("name", "  ")]).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(
        empty.body.contains("Type an author&#39;s name") || empty.body.contains("Type an author's name"),
        "{}",
        empty.body
    );
    let forged = ann.b.post("/settings/interests/authors", &[("name", "Mallory")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(site.store.interest_profile(ann.id, 50).await.unwrap().authors.is_empty());
}

#[tokio::test]
async fn the_paper_page_has_follow_buttons_for_members_only() {
    let site = site().await;
    let mut visitor = Browser::new(&site);
    let public = visitor.get("/papers/1706.03762").await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(!public.body.contains("/settings/interests/authors"), "no follow form for visitors");

    let mut ann = member(&site, "ann").await;
    let page = ann.b.get("/papers/1706.03762").await;
    assert!(page.body.contains("action=\"/settings/interests/authors\""));
    assert!(page.body.contains("title=\"Follow Alan Turing\""));
    let r = ann
        .b
        .post(
            "/settings/interests/authors",
            &[("csrf", &ann.csrf), ("name", "Alan Turing"), ("on", "1"), ("next", "/papers/1706.03762")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/papers/1706.03762");
    assert_eq!(site.store.interest_profile(ann.id, 10).await.unwrap().authors, ["Alan Turing"]);
    // `next` never leaves the site.
    let r = ann
        .b
        .post("/settings/interests/authors", &[("csrf", &ann.csrf), ("name", "Ada"), ("next", "//evil.example")])
        .await;
    assert_eq!(r.location(), "/");
}

#[tokio::test]
async fn not_for_me_is_listed_and_undone() {
    let site = site().await;
    let mut ann = member(&site, "ann").await;
    let id = PaperId::parse("2312.00752").unwrap();
    site.store.set_not_for_me(ann.id, &id, true, Utc::now()).await.unwrap();
    let page = ann.b.get("/settings/interests").await;
    assert!(page.body.contains("data-paper-id=\"2312.00752\""), "{}", page.body);
    let r = ann.b.post("/settings/interests/not-for-me", &[("csrf", &ann.csrf), ("paper", "2312.00752")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(site.store.not_for_me_papers(ann.id, 10, 0).await.unwrap().is_empty());
    let bad = ann.b.post("/settings/interests/not-for-me", &[("csrf", &ann.csrf), ("paper", "not an id")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn clearing_asks_first_then_clears_one_kind_or_everything() {
    let site = site().await;
    let mut ann = member(&site, "ann").await;
    let now = Utc::now();
    site.store.follow_author(ann.id, "Alan Turing", true, now).await.unwrap();
    site.store.follow_category(ann.id, "cs.CL", true, now).await.unwrap();
    site.store.set_not_for_me(ann.id, &PaperId::parse("1810.04805").unwrap(), true, now).await.unwrap();

    let confirm = ann.b.get("/settings/interests/clear?kind=authors").await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("Clear your followed authors?"));
    assert!(confirm.body.contains("name=\"kind\" value=\"authors\""));
    assert_eq!(ann.b.get("/settings/interests/clear?kind=votes").await.status, StatusCode::BAD_REQUEST);

    let r = ann.b.post("/settings/interests/clear", &[("csrf", &confirm.csrf()), ("kind", "authors")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let profile = site.store.interest_profile(ann.id, 10).await.unwrap();
    assert!(profile.authors.is_empty());
    assert_eq!(profile.categories, ["cs.CL"], "other kinds stay");
    assert_eq!(profile.not_for_me.len(), 1);

    let r = ann.b.post("/settings/interests/clear", &[("csrf", &ann.csrf), ("kind", "everything")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let profile = site.store.interest_profile(ann.id, 10).await.unwrap();
    assert!(profile.categories.is_empty() && profile.not_for_me.is_empty());
    // The same as the store's own clear.
    site.store.clear_interests(ann.id, InterestKind::Everything).await.unwrap();
}

#[tokio::test]
async fn the_feed_secret_is_rotated_and_shown_once() {
    let site = site().await;
    let mut ann = member(&site, "ann").await;
    let before = ann.b.get("/settings/interests").await;
    assert!(before.body.contains("Make a feed address"));
    let secret_of = |body: &str| {
        let at = body.find("/for-you/feed/").expect("a feed URL") + "/for-you/feed/".len();
        body[at..at + body[at..].find(".atom").unwrap()].to_string()
    };
    let r = ann.b.post("/settings/interests/feed-secret", &[("csrf", &ann.csrf)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers.get("cache-control").unwrap(), "private, no-store");
    let first = secret_of(&r.body);
    assert_eq!(site.store.feed_secret_user(&first).await.unwrap(), Some(ann.id));
    let later = ann.b.get("/settings/interests").await;
    assert!(!later.body.contains(&first), "shown only once");
    assert!(later.body.contains("Make a new feed address"));

    let r = ann.b.post("/settings/interests/feed-secret", &[("csrf", &ann.csrf)]).await;
    let second = secret_of(&r.body);
    assert_ne!(first, second);
    assert_eq!(site.store.feed_secret_user(&first).await.unwrap(), None, "the old address stops working");
    assert_eq!(site.store.feed_secret_user(&second).await.unwrap(), Some(ann.id));
}

#[tokio::test]
async fn nobody_else_sees_or_changes_a_members_interests() {
    let site = site().await;
    let ann = member(&site, "ann").await;
    let now = Utc::now();
    site.store.follow_author(ann.id, "Ann's Secret Author", true, now).await.unwrap();
    site.store.follow_category(ann.id, "q-bio.NC", true, now).await.unwrap();
    site.store.set_not_for_me(ann.id, &PaperId::parse("1512.03385").unwrap(), true, now).await.unwrap();

    let mut bob = member(&site, "bob").await;
    let page = bob.b.get("/settings/interests").await;
    assert_eq!(page.status, StatusCode::OK);
    for hidden in ["Secret Author", "q-bio.NC", "1512.03385"] {
        assert!(!page.body.contains(hidden), "{hidden} leaked to bob");
    }
    // Bob's clear clears Bob's.
    bob.b.post("/settings/interests/clear", &[("csrf", &bob.csrf), ("kind", "everything")]).await;
    let profile = site.store.interest_profile(ann.id, 10).await.unwrap();
    assert_eq!((profile.authors.len(), profile.categories.len(), profile.not_for_me.len()), (1, 1, 1));

    let mut visitor = Browser::new(&site);
    for path in ["/settings/interests", "/settings/interests/clear?kind=everything"] {
        let r = visitor.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert!(r.location().starts_with("/login?next=%2Fsettings%2Finterests"), "{path}: {}", r.location());
    }
    let r = visitor.post("/settings/interests/feed-secret", &[]).await;
    assert!(r.status.is_client_error());
    assert!(!site.store.has_feed_secret(ann.id).await.unwrap());
}
