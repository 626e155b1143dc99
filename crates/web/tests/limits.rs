//! The limits of the account forms over real HTTP (`paperboy_services::limits`
//! applied by the workflows the handlers call): the password-change form is
//! limited like login, and a password change or reset locks out whoever had
//! the old password: other sessions, API tokens and outstanding reset links.

use crate::common;

use common::{Browser, Launch, Server as Site};
use paperboy_core::{Paper, PaperId, Role, UserId};
use paperboy_services::accounts::{self, SignUp};
use paperboy_store::{Accounts, Catalog, EmailPurpose};
use reqwest::StatusCode;

const PW: &str = "correct horse battery";
const PAPER: &str = "2603.00101";

async fn site() -> (Site, UserId) {
    let (dir, store) = common::sqlite().await;
    let mut p = Paper::new(
        PaperId::parse(PAPER).unwrap(),
        "Sparse Mixture of Experts",
        chrono::NaiveDate::from_ymd_opt(2026, 3, 12).unwrap(),
    );
    p.authors = vec!["Ada Lovelace".into()];
    p.abstract_text = "We study sparse mixtures of experts.".into();
    p.categories = vec!["cs.LG".into()];
    p.version = Some(1);
    p.normalize();
    store.upsert_papers(&[p]).await.unwrap();
    let form = SignUp {
        username: "alice",
        email: "alice@example.org",
        password: PW,
        role: Role::Member,
        email_verified: true,
    };
    let alice = accounts::sign_up(&store, &form).await.unwrap();
    (Launch::bind().await.keep(dir).serve(store), alice.id)
}

/// The status of an upvote through the API with `token`.
async fn api_vote(site: &Site, token: &str) -> StatusCode {
    let url = site.url(&format!("/api/papers/{PAPER}/upvote"));
    let r = common::client().post(url).header("authorization", format!("Bearer {token}")).send().await.unwrap();
    r.status()
}

async fn logged_in(site: &Site) -> (Browser, String) {
    let mut b = Browser::new(site);
    let r = b.log_in("alice", PW).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let csrf = b.get("/settings").await.csrf();
    (b, csrf)
}

#[tokio::test]
async fn the_password_change_form_is_limited_like_login() {
    let (site, _) = site().await;
    let (mut b, csrf) = logged_in(&site).await;
    for i in 0..5 {
        let r = b
            .post(
                "/settings/password",
                &[("csrf", &csrf), ("current", "not my password"), ("password", "x".repeat(12).as_str())],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "attempt {i}");
        assert!(r.body.contains("current password is wrong"), "{}", r.body);
    }
    // Now even the right password waits, and login from this address too.
    let r =
        b.post("/settings/password", &[("csrf", &csrf), ("current", PW), ("password", "a brand new passphrase")]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    let retry: u64 = r.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert_eq!(Browser::new(&site).log_in("alice", PW).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        Browser::new(&site).log_in("alice", "a brand new passphrase").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_password_change_revokes_api_tokens_and_reset_links() {
    let (site, alice) = site().await;
    let (mut b, csrf) = logged_in(&site).await;
    let (_, token) = site.store.create_api_token(alice, "laptop").await.unwrap();
    assert_eq!(api_vote(&site, token.as_str()).await, StatusCode::OK, "the token works before");
    let soon = chrono::Utc::now() + chrono::Duration::hours(1);
    let link = site.store.create_email_token(alice, EmailPurpose::Reset, soon).await.unwrap();
    let (mut other_browser, _) = logged_in(&site).await;

    let r =
        b.post("/settings/password", &[("csrf", &csrf), ("current", PW), ("password", "a brand new passphrase")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(b.get("/settings").await.status, StatusCode::OK, "this browser stays logged in");
    assert_eq!(other_browser.get("/settings").await.status, StatusCode::SEE_OTHER, "the other session is over");
    assert_eq!(api_vote(&site, token.as_str()).await, StatusCode::UNAUTHORIZED, "the API token is revoked");
    // The reset link made before the change no longer works.
    let mut v = Browser::new(&site);
    let path = format!("/reset/{}", link.as_str());
    let form = v.get(&path).await;
    let r = v.post(&path, &[("csrf", &form.csrf()), ("password", "the attacker's password")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("used already"), "{}", r.body);
    assert_eq!(Browser::new(&site).log_in("alice", "a brand new passphrase").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_password_reset_revokes_api_tokens_and_the_other_reset_links() {
    let (site, alice) = site().await;
    let (_, token) = site.store.create_api_token(alice, "laptop").await.unwrap();
    assert_eq!(api_vote(&site, token.as_str()).await, StatusCode::OK);
    let soon = chrono::Utc::now() + chrono::Duration::hours(1);
    let first = site.store.create_email_token(alice, EmailPurpose::Reset, soon).await.unwrap();
    let second = site.store.create_email_token(alice, EmailPurpose::Reset, soon).await.unwrap();

    let mut v = Browser::new(&site);
    let path = format!("/reset/{}", first.as_str());
    let form = v.get(&path).await;
    let r = v.post(&path, &[("csrf", &form.csrf()), ("password", "a brand new passphrase")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(api_vote(&site, token.as_str()).await, StatusCode::UNAUTHORIZED, "the API token is revoked");
    let path = format!("/reset/{}", second.as_str());
    let form = v.get(&path).await;
    let r = v.post(&path, &[("csrf", &form.csrf()), ("password", "the attacker's password")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "the other link is spent: {}", r.body);
    assert_eq!(Browser::new(&site).log_in("alice", "a brand new passphrase").await.status, StatusCode::SEE_OTHER);
}
