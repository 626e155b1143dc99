//! Members over real HTTP: the router on `127.0.0.1:0` over a SQLite file
//! in a temporary directory, driven by a tiny cookie-keeping browser.
//! Each test here guards one protection and fails if it is removed: CSRF
//! tokens on every state-changing form, escaping of what members type, SQL
//! meta-characters, ownership (no way to act as another member), a new
//! session id at login, rate limiting of wrong passwords, API tokens for
//! API writes, and no shared cache for members' pages.

use crate::common;

use chrono::NaiveDate;
use common::{Browser, Launch, Server as Site};
use paperboy_core::{Paper, PaperId, Role};
use paperboy_services::accounts::{self, SignUp};
use paperboy_store::{Accounts, Moderation};
use paperboy_store::{Catalog, Community};
use paperboy_test_support::arxiv_api::ArxivApi;
use paperboy_web::WebSettings;
use reqwest::StatusCode;
use serde_json::Value;

const PW: &str = "correct horse battery";
const PAPER: &str = "2603.00101";

fn paper(id: &str, title: &str) -> Paper {
    let mut p = Paper::new(PaperId::parse(id).unwrap(), title, NaiveDate::from_ymd_opt(2026, 3, 12).unwrap());
    p.authors = vec!["Ada Lovelace".into()];
    p.abstract_text = format!("We study {title}.");
    p.categories = vec!["cs.LG".into()];
    p.version = Some(1);
    p.normalize();
    p
}

async fn site() -> Site {
    site_with(WebSettings::default()).await
}

/// The site with `config` (its base URL is filled in).
async fn site_with(config: WebSettings) -> Site {
    let (dir, store) = common::sqlite().await;
    store
        .upsert_papers(&[paper(PAPER, "Sparse Mixture of Experts"), paper("2603.00102", "Diffusion at Scale")])
        .await
        .unwrap();
    common::members(&store, &["alice", "bob"], PW).await;
    Launch::bind().await.config(config).keep(dir).serve(store)
}

async fn logged_in(site: &Site, user: &str) -> (Browser, String) {
    let mut b = Browser::new(site);
    let r = b.log_in(user, PW).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let csrf = b.get("/settings").await.csrf();
    (b, csrf)
}

async fn upvotes(site: &Site, id: &str) -> i64 {
    site.store.get_paper(&PaperId::parse(id).unwrap()).await.unwrap().unwrap().upvotes
}

#[tokio::test]
async fn login_issues_a_new_session_id_and_logout_ends_it() {
    let site = site().await;
    let mut b = Browser::new(&site);
    // A session id planted before login is not kept.
    b.cookies.insert("pb_session".into(), "0".repeat(64));
    let r = b.log_in("alice", PW).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/");
    let cookie = r.headers.get("set-cookie").unwrap().to_str().unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http base URL");
    let first = b.session().unwrap();
    assert_ne!(first, "0".repeat(64));
    let home = b.get("/").await;
    assert!(home.body.contains("alice") && home.body.contains("log out"));
    // Logging in again gives a new id and ends the old session.
    b.log_in("alice", PW).await;
    let second = b.session().unwrap();
    assert_ne!(first, second);
    assert!(site.store.session(&first).await.unwrap().is_none(), "the old session is gone");
    assert!(site.store.session(&second).await.unwrap().is_some());
    // Logout ends the session server-side and clears the cookie.
    let csrf = b.get("/settings").await.csrf();
    let out = b.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(b.session().is_none());
    assert!(site.store.session(&second).await.unwrap().is_none());
    let settings = b.get("/settings").await;
    assert_eq!(settings.status, StatusCode::SEE_OTHER);
    assert!(settings.location().starts_with("/login?next="));
}

#[tokio::test]
async fn every_state_changing_form_needs_the_csrf_token() {
    let site = site().await;
    let (mut b, csrf) = logged_in(&site, "alice").await;
    let upvote = format!("/papers/{PAPER}/upvote");
    let comment = format!("/papers/{PAPER}/comments");
    let alice_id = site.store.user_by_username(&"alice".parse_username()).await.unwrap().unwrap().id;
    let existing = site.store.add_comment(alice_id, &PaperId::parse(PAPER).unwrap(), None, "first").await.unwrap();
    let (edit, delete, hide) = (
        format!("/comments/{}/edit", existing.id),
        format!("/comments/{}/delete", existing.id),
        format!("/comments/{}/hide", existing.id),
    );
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (upvote.as_str(), vec![]),
        (comment.as_str(), vec![("body", "csrf-less comment")]),
        (edit.as_str(), vec![("body", "changed")]),
        (delete.as_str(), vec![]),
        (hide.as_str(), vec![("hidden", "1")]),
        ("/logout", vec![]),
        ("/settings/password", vec![("current", PW), ("password", "another long password")]),
        ("/settings/tokens", vec![("name", "script")]),
        ("/settings/tokens/revoke", vec![("id", "1")]),
        ("/login", vec![("username", "alice"), ("password", PW)]),
        ("/signup", vec![("username", "mallory"), ("email", "m@example.org"), ("password", PW)]),
        ("/reset", vec![("email", "alice@example.org")]),
    ];
    for (path, fields) in &forms {
        for bad in [None, Some("wrong"), Some("")] {
            let mut f = fields.clone();
            if let Some(t) = bad {
                f.push(("csrf", t));
            }
            let r = b.post(path, &f).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {path} with csrf {bad:?}");
            assert!(r.body.contains("did not come from this site"), "{path}");
        }
    }
    // Nothing happened...
    assert_eq!(upvotes(&site, PAPER).await, 0);
    let thread = site.store.comments(&PaperId::parse(PAPER).unwrap(), paperboy_store::Audience::Admin).await.unwrap();
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0].body, "first");
    assert!(thread[0].deleted_at.is_none() && thread[0].hidden_at.is_none());
    assert!(site.store.session(&b.session().unwrap()).await.unwrap().is_some());
    let alice = site.store.user_by_username(&"alice".parse_username()).await.unwrap().unwrap();
    assert!(site.store.api_tokens(alice.id).await.unwrap().is_empty());
    // ...and with the token, the same form works.
    let r = b.post(&upvote, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(upvotes(&site, PAPER).await, 1);
    // A visitor's forms use the double-submit cookie: a token from another
    // browser is refused.
    let mut other = Browser::new(&site);
    let theirs = other.get("/login").await.csrf();
    let mut visitor = Browser::new(&site);
    visitor.get("/login").await;
    let r = visitor.post("/login", &[("csrf", &theirs), ("username", "alice"), ("password", PW)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

trait ParseUsername {
    fn parse_username(&self) -> paperboy_core::Username;
}

impl ParseUsername for str {
    fn parse_username(&self) -> paperboy_core::Username {
        paperboy_core::Username::parse(self).unwrap()
    }
}

#[tokio::test]
async fn wrong_passwords_are_rate_limited() {
    let site = site().await;
    let mut b = Browser::new(&site);
    for i in 0..5 {
        let r = b.log_in("alice", "wrong password!").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
        assert!(r.body.contains("Wrong username or password"));
    }
    // Now even the right password waits.
    let r = b.log_in("alice", PW).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(r.body.contains("Too many failed attempts"));
    assert!(b.session().is_none());
    // An unknown user gets the same answer as a wrong password.
    let mut c = Browser::new(&site);
    let r = c.log_in("nobody_here", "whatever password").await;
    // (Same client address: already over the limit.)
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Sign-ups are limited per address too.
    let mut s = Browser::new(&site);
    let csrf = s.get("/signup").await.csrf();
    for i in 0..5 {
        let r = s.post("/signup", &[("csrf", &csrf), ("username", "x"), ("email", "bad"), ("password", "p")]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "attempt {i}");
    }
    let r = s
        .post("/signup", &[("csrf", &csrf), ("username", "fine_name"), ("email", "f@example.org"), ("password", PW)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    let trusted = WebSettings { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..WebSettings::default() };
    let behind_proxy = site_with(trusted).await;
    let attempt = |xff: &str, user: &'static str| {
        let mut b = Browser::new(&behind_proxy);
        b.forwarded_for = Some(xff.to_string());
        async move { b.log_in(user, "wrong password!").await.status }
    };
    for i in 0..5 {
        assert_eq!(attempt("198.51.100.1", "nobody_one").await, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // A different user from the same client: the client's address is limited.
    assert_eq!(attempt("198.51.100.1", "nobody_two").await, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not.
    assert_eq!(attempt("198.51.100.2", "nobody_two").await, StatusCode::UNAUTHORIZED);
    // A client cannot dodge its limit by prepending an address of its choice:
    // the proxy appends the real one, and that is the one counted.
    assert_eq!(attempt("203.0.113.50, 198.51.100.1", "nobody_three").await, StatusCode::TOO_MANY_REQUESTS);

    // Without trusted proxies the header is ignored: everyone here is 127.0.0.1.
    let direct = site().await;
    let attempt = |xff: &str, user: &'static str| {
        let mut b = Browser::new(&direct);
        b.forwarded_for = Some(xff.to_string());
        async move { b.log_in(user, "wrong password!").await.status }
    };
    for i in 0..5 {
        assert_eq!(attempt(&format!("198.51.100.{i}"), "nobody_one").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt("198.51.100.77", "nobody_two").await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn what_members_type_comes_out_escaped() {
    let site = site().await;
    let mut b = Browser::new(&site);
    let csrf = b.get("/signup").await.csrf();
    let hostile = "<script>alert(1)</script>";
    let r = b
        .post("/signup", &[("csrf", &csrf), ("username", hostile), ("email", "x@example.org"), ("password", PW)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(!r.body.contains(hostile), "the rejected name is echoed escaped");
    assert!(r.body.contains("&lt;script&gt;"));
    // An attribute-breaking email is escaped in the value attribute.
    let r =
        b.post("/signup", &[("csrf", &csrf), ("username", "ok_name"), ("email", "\"><b>x@y"), ("password", PW)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(!r.body.contains("\"><b>"));
    // A hostile paper title is escaped on the pages members see too.
    site.store.upsert_papers(&[paper("2603.00103", "<img src=x onerror=alert(1)> title")]).await.unwrap();
    let (mut alice, _) = logged_in(&site, "alice").await;
    let page = alice.get("/papers/2603.00103").await;
    assert!(!page.body.contains("<img src=x"));
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt; title"));
}

#[tokio::test]
async fn sql_meta_characters_are_harmless() {
    let site = site().await;
    let mut b = Browser::new(&site);
    let r = b.log_in("alice' OR '1'='1' --", "' OR 1=1 --").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = b.log_in("alice@example.org' --", "x' OR 'x'='x").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(b.session().is_none());
    // A quote in an email address is allowed and stored as typed.
    let mut c = Browser::new(&site);
    let csrf = c.get("/signup").await.csrf();
    let r = c
        .post("/signup", &[("csrf", &csrf), ("username", "obrien"), ("email", "o'brien@example.ie"), ("password", PW)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let u = site.store.user_by_username(&"obrien".parse_username()).await.unwrap().unwrap();
    assert_eq!(u.email.as_str(), "o'brien@example.ie");
    // Both accounts and the catalog are intact.
    assert!(site.store.user_by_username(&"alice".parse_username()).await.unwrap().is_some());
    assert_eq!(site.store.count_papers().await.unwrap(), 2);
}

#[tokio::test]
async fn members_cannot_act_as_someone_else() {
    let site = site().await;
    let (mut alice, csrf) = logged_in(&site, "alice").await;
    let bob = site.store.user_by_username(&"bob".parse_username()).await.unwrap().unwrap();
    // A user id in the form is ignored: the vote is Alice's.
    let bob_id = bob.id.to_string();
    let r = alice
        .post(&format!("/papers/{PAPER}/upvote"), &[("csrf", &csrf), ("user", &bob_id), ("user_id", &bob_id)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let pid = PaperId::parse(PAPER).unwrap();
    assert!(site.store.voted_among(bob.id, std::slice::from_ref(&pid)).await.unwrap().is_empty());
    let alice_user = site.store.user_by_username(&"alice".parse_username()).await.unwrap().unwrap();
    assert_eq!(site.store.voted_among(alice_user.id, std::slice::from_ref(&pid)).await.unwrap(), vec![pid]);
    // Bob's token cannot be revoked by Alice.
    let (bob_token, _) = site.store.create_api_token(bob.id, "bob's").await.unwrap();
    let id = bob_token.id.to_string();
    let r = alice.post("/settings/tokens/revoke", &[("csrf", &csrf), ("id", &id)]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(site.store.api_tokens(bob.id).await.unwrap()[0].revoked_at.is_none());
    // Bob's session's CSRF token does not work in Alice's session.
    let (_, bob_csrf) = logged_in(&site, "bob").await;
    let r = alice.post(&format!("/papers/{PAPER}/upvote"), &[("csrf", &bob_csrf)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn api_writes_need_a_personal_token() {
    let site = site().await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/papers/{PAPER}/upvote", site.base);
    // No token, a malformed one, an unknown one: 401 JSON.
    for auth in [None, Some("Basic YWxpY2U6eA=="), Some("Bearer pb_0000000000000000000000000000000000000000")] {
        let mut req = client.post(&url);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].as_str().unwrap().contains("token"), "{v}");
    }
    // A session cookie is not an API credential.
    let (alice, _) = logged_in(&site, "alice").await;
    let r = client.post(&url).header("cookie", alice.cookie_header()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(upvotes(&site, PAPER).await, 0);
    // Created through the settings page, shown once, it works.
    let mut alice = alice;
    let csrf = alice.get("/settings").await.csrf();
    let page = alice.post("/settings/tokens", &[("csrf", &csrf), ("name", "laptop")]).await;
    assert_eq!(page.status, StatusCode::OK);
    let at = page.body.find("pb_").unwrap();
    let token = page.body[at..at + 67].to_string();
    let bearer = format!("Bearer {token}");
    let r = client.post(&url).header("authorization", &bearer).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v, serde_json::json!({"voted": true, "upvotes": 1}));
    // Idempotent; DELETE takes it back.
    let v: Value = client.post(&url).header("authorization", &bearer).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["upvotes"], 1);
    let v: Value = client.delete(&url).header("authorization", &bearer).send().await.unwrap().json().await.unwrap();
    assert_eq!(v, serde_json::json!({"voted": false, "upvotes": 0}));
    // Unknown papers are a 404 JSON, not a 500.
    let r = client
        .post(format!("{}/api/papers/2601.99999/upvote", site.base))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The settings page no longer shows the secret; a revoked token stops working.
    let settings = alice.get("/settings").await;
    assert!(!settings.body.contains(&token));
    let alice_user = site.store.user_by_username(&"alice".parse_username()).await.unwrap().unwrap();
    let tid = site.store.api_tokens(alice_user.id).await.unwrap()[0].id.to_string();
    let r = alice.post("/settings/tokens/revoke", &[("csrf", &settings.csrf()), ("id", &tid)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = client.post(&url).header("authorization", &bearer).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn members_pages_are_never_served_from_the_shared_cache() {
    let site = site().await;
    let mut visitor = Browser::new(&site);
    let first = visitor.get("/").await;
    assert!(first.body.contains("log in"));
    let (mut alice, csrf) = logged_in(&site, "alice").await;
    let mine = alice.get("/").await;
    assert!(mine.body.contains("alice") && mine.body.contains(&csrf));
    assert_eq!(mine.headers["cache-control"], "private, no-store");
    let again = visitor.get("/").await;
    assert!(!again.body.contains("alice") && !again.body.contains(&csrf));
    // Login forms carry a token and are never stored either.
    let a = Browser::new(&site).get("/login").await;
    let mut b = Browser::new(&site);
    let b = b.get("/login").await;
    assert_ne!(a.csrf(), b.csrf());
    assert_eq!(a.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn upvoting_from_a_list_toggles_and_shows_the_state() {
    let site = site().await;
    let (mut alice, csrf) = logged_in(&site, "alice").await;
    let back = "/papers/date/2026-03-12?sort=top";
    let r = alice.post(&format!("/papers/{PAPER}/upvote"), &[("csrf", &csrf), ("back", back)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), back);
    let page = alice.get(back).await;
    assert!(page.body.contains("upvote voted"), "the member's vote is shown");
    let visitor = Browser::new(&site).get(back).await;
    assert!(!visitor.body.contains("upvote voted"));
    assert!(visitor.body.contains("Log in to upvote"));
    // An open redirect through `back` is refused.
    let r = alice.post(&format!("/papers/{PAPER}/upvote"), &[("csrf", &csrf), ("back", "//evil.example/")]).await;
    assert_eq!(r.location(), "/");
    assert_eq!(upvotes(&site, PAPER).await, 0, "toggled back");
    // The default order is trending, and every order is one click away.
    let home = Browser::new(&site).get("/").await;
    assert!(home.body.contains("sort current") && home.body.contains(">Trending<"));
    assert!(home.body.contains("?sort=new") && home.body.contains("?sort=top"));
}

#[tokio::test]
async fn members_submit_recent_arxiv_papers() {
    let arxiv = ArxivApi::start();
    // The fixtures are from 2016; a wide window lets them in.
    let site = site_with(WebSettings {
        arxiv_base_url: arxiv.url.clone(),
        submit_window_days: 3650 * 3,
        ..WebSettings::default()
    })
    .await;
    // Visitors are sent to the login page.
    let mut visitor = Browser::new(&site);
    let r = visitor.get("/papers/submit").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login?next=%2Fpapers%2Fsubmit");
    let (mut alice, csrf) = logged_in(&site, "alice").await;
    assert!(alice.get("/papers/submit").await.body.contains("arXiv id or URL"));
    let r = alice.post("/papers/submit", &[("csrf", &csrf), ("id", "https://arxiv.org/abs/1605.08386v1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/papers/1605.08386");
    let stored = site.store.get_paper(&PaperId::parse("1605.08386").unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.upvotes, 1);
    assert_eq!(stored.submitted_by.as_ref().map(|u| u.as_str()), Some("alice"));
    assert_eq!(stored.paper.listed_on, chrono::Utc::now().date_naive());
    let page = alice.get("/papers/1605.08386").await;
    assert!(page.body.contains("Submitted by <a href=\"/u/alice\">alice</a>") && page.body.contains("upvote voted"));
    // Bob submits the same paper: no arXiv request, his upvote is added.
    let before = arxiv.hits();
    let (mut bob, bob_csrf) = logged_in(&site, "bob").await;
    let r = bob.post("/papers/submit", &[("csrf", &bob_csrf), ("id", "arXiv:1605.08386")]).await;
    assert_eq!(r.location(), "/papers/1605.08386");
    assert_eq!(arxiv.hits(), before);
    assert_eq!(upvotes(&site, "1605.08386").await, 2);
    // Not an id: a readable 400 on the form, the input escaped.
    let r = alice.post("/papers/submit", &[("csrf", &csrf), ("id", "<b>not an id</b>")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("&lt;b&gt;not an id") && !r.body.contains("<b>not"));
}

#[tokio::test]
async fn submissions_of_old_papers_are_refused() {
    let arxiv = ArxivApi::start();
    let site = site_with(WebSettings { arxiv_base_url: arxiv.url.clone(), ..WebSettings::default() }).await;
    let (mut alice, csrf) = logged_in(&site, "alice").await;
    let r = alice.post("/papers/submit", &[("csrf", &csrf), ("id", "1605.08386")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("more than 14 days ago"), "{}", r.body);
    assert!(site.store.get_paper(&PaperId::parse("1605.08386").unwrap()).await.unwrap().is_none());
    // An id arXiv does not know is a 404 on the form, not a 500.
    let r = alice.post("/papers/submit", &[("csrf", &csrf), ("id", "2601.99999")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("arXiv has no paper 2601.99999"), "{}", r.body);
}

fn comment_ids(html: &str) -> Vec<String> {
    html.split("<article class=\"comment\" id=\"c").skip(1).map(|s| s[..s.find('"').unwrap()].to_string()).collect()
}

#[tokio::test]
async fn comments_are_escaped_owned_and_moderated() {
    let site = site().await;
    let carol =
        SignUp { username: "carol", email: "carol@example.org", password: PW, role: Role::Admin, email_verified: true };
    accounts::sign_up(&site.store, &carol).await.unwrap();
    let (mut alice, a_csrf) = logged_in(&site, "alice").await;
    let (mut bob, b_csrf) = logged_in(&site, "bob").await;
    let path = format!("/papers/{PAPER}");
    let hostile = "<script>alert(1)</script> **bold** [x](javascript:alert(2)) [ok](https://example.org/\"onclick=\"x)";
    let r = alice.post(&format!("{path}/comments"), &[("csrf", &a_csrf), ("body", hostile)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with(&format!("{path}#c")));
    let page = Browser::new(&site).get(&path).await;
    assert!(!page.body.contains("<script>alert(1)"), "escaped");
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.body.contains("<strong>bold</strong>"));
    assert!(!page.body.contains("href=\"javascript") && !page.body.contains("onclick=\""));
    let ids = comment_ids(&page.body);
    assert_eq!(ids.len(), 1);
    let cid = &ids[0];
    // Bob can neither edit nor delete Alice's comment.
    let r = bob.post(&format!("/comments/{cid}/edit"), &[("csrf", &b_csrf), ("body", "pwned")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = bob.post(&format!("/comments/{cid}/delete"), &[("csrf", &b_csrf)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Nor hide it: he is no admin.
    let r = bob.post(&format!("/comments/{cid}/hide"), &[("csrf", &b_csrf), ("hidden", "1")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let page = Browser::new(&site).get(&path).await;
    assert!(!page.body.contains("pwned") && page.body.contains("<strong>bold</strong>"));
    // Bob replies; a reply to a reply is refused with a 400.
    let r = bob.post(&format!("{path}/comments"), &[("csrf", &b_csrf), ("body", "a _reply_"), ("parent", cid)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = alice.get(&path).await;
    assert!(page.body.contains("class=\"replies\"") && page.body.contains("<em>reply</em>"));
    let reply = comment_ids(&page.body)[1].clone();
    let r = alice.post(&format!("{path}/comments"), &[("csrf", &a_csrf), ("body", "deeper"), ("parent", &reply)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = alice.post(&format!("{path}/comments"), &[("csrf", &a_csrf), ("body", "   ")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Alice edits her own.
    let r = alice.post(&format!("/comments/{cid}/edit"), &[("csrf", &a_csrf), ("body", "now `calm`")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = Browser::new(&site).get(&path).await;
    assert!(page.body.contains("now <code>calm</code>") && page.body.contains("edited"));
    // Carol, an admin, hides Bob's reply; the public sees a placeholder.
    let (mut carol, c_csrf) = logged_in(&site, "carol").await;
    assert!(carol.get(&path).await.body.contains(">hide<"));
    assert!(!alice.get(&path).await.body.contains(">hide<"), "only admins see the hide button");
    let r =
        carol.post(&format!("/comments/{reply}/hide"), &[("csrf", &c_csrf), ("hidden", "1"), ("back", &path)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = Browser::new(&site).get(&path).await;
    assert!(page.body.contains("[hidden by a moderator]") && !page.body.contains("<em>reply</em>"));
    assert!(carol.get(&path).await.body.contains("<em>reply</em>"), "admins still see it");
    // Alice deletes her comment: its place stays, its text goes.
    let r = alice.post(&format!("/comments/{cid}/delete"), &[("csrf", &a_csrf), ("back", &path)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = Browser::new(&site).get(&path).await;
    assert!(page.body.contains("[deleted]") && !page.body.contains("calm"));
    // Unknown comments are 404s, not 500s.
    let r = alice.post("/comments/999999/edit", &[("csrf", &a_csrf), ("body", "x")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn profiles_reading_lists_and_moderation() {
    let site = site().await;
    // A title full of BibTeX and HTML specials.
    site.store.upsert_papers(&[paper("2603.00104", "50% {Faster} <b>Agents</b> & a_b")]).await.unwrap();
    let (mut alice, csrf) = logged_in(&site, "alice").await;
    alice.post(&format!("/papers/{PAPER}/upvote"), &[("csrf", &csrf)]).await;
    // Profile: public, counts, upvotes tab; unknown names are 404, bad ones 400.
    let profile = Browser::new(&site).get("/u/alice?tab=upvotes").await;
    assert_eq!(profile.status, StatusCode::OK);
    assert!(
        profile.body.contains("1 upvotes") && profile.body.contains("Sparse Mixture of Experts"),
        "{}",
        profile.body
    );
    assert!(!profile.body.contains("alice@example.org"), "the address stays private");
    assert_eq!(Browser::new(&site).get("/u/nobody_here").await.status, StatusCode::NOT_FOUND);
    assert_eq!(Browser::new(&site).get("/u/%3Cscript%3E").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(Browser::new(&site).get("/u/alice?tab=secrets").await.status, StatusCode::BAD_REQUEST);
    // Reading list: save from the paper page, list, BibTeX, remove.
    assert_eq!(Browser::new(&site).get("/reading-list").await.status, StatusCode::SEE_OTHER);
    let r = alice.post("/papers/2603.00104/save", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(alice.get("/papers/2603.00104").await.body.contains("Saved ✓"));
    let list = alice.get("/reading-list").await;
    assert!(list.body.contains("50% {Faster} &lt;b&gt;Agents&lt;/b&gt; &amp; a_b"), "{}", list.body);
    let bib = alice.get("/reading-list.bib").await;
    assert_eq!(bib.status, StatusCode::OK);
    assert!(bib.headers["content-type"].to_str().unwrap().starts_with("application/x-bibtex"));
    assert!(bib.body.contains(r"title = {{50\% \{Faster\} <b>Agents</b> \& a\_b}}"), "{}", bib.body);
    assert!(bib.body.contains("eprint = {2603.00104}"));
    alice.post("/papers/2603.00104/unsave", &[("csrf", &csrf), ("back", "/reading-list")]).await;
    assert!(alice.get("/reading-list").await.body.contains("Nothing saved yet"));
    // Hiding papers is for admins only.
    let r = alice.post(&format!("/papers/{PAPER}/hide"), &[("csrf", &csrf), ("hidden", "1")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let carol =
        SignUp { username: "carol", email: "carol@example.org", password: PW, role: Role::Admin, email_verified: true };
    accounts::sign_up(&site.store, &carol).await.unwrap();
    let (mut carol, c_csrf) = logged_in(&site, "carol").await;
    let r = carol.post(&format!("/papers/{PAPER}/hide"), &[("csrf", &c_csrf), ("hidden", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(Browser::new(&site).get(&format!("/papers/{PAPER}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(alice.get(&format!("/papers/{PAPER}")).await.status, StatusCode::NOT_FOUND);
    let admin_view = carol.get(&format!("/papers/{PAPER}")).await;
    assert!(admin_view.body.contains("Hidden by a moderator") && admin_view.body.contains("Show paper"));
    carol.post(&format!("/papers/{PAPER}/hide"), &[("csrf", &c_csrf), ("hidden", "0")]).await;
    assert_eq!(Browser::new(&site).get(&format!("/papers/{PAPER}")).await.status, StatusCode::OK);
    // A suspended member's session stops working at once.
    let alice_id = site.store.user_by_username(&"alice".parse_username()).await.unwrap().unwrap().id;
    site.store.set_suspended(alice_id, true).await.unwrap();
    assert_eq!(alice.get("/settings").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn password_reset_and_email_verification_links() {
    use paperboy_store::EmailPurpose;
    let site = site().await;
    let alice = site.store.user_by_username(&"alice".parse_username()).await.unwrap().unwrap();
    let (mut old_browser, _) = logged_in(&site, "alice").await;
    // Asking for a link says where it went, and the same for unknown addresses.
    let mut v = Browser::new(&site);
    let csrf = v.get("/reset").await.csrf();
    for email in ["alice@example.org", "nobody@example.org"] {
        let r = v.post("/reset", &[("csrf", &csrf), ("email", email)]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("the link was written to the server log"), "{}", r.body);
    }
    let soon = chrono::Utc::now() + chrono::Duration::hours(1);
    let token = site.store.create_email_token(alice.id, EmailPurpose::Reset, soon).await.unwrap();
    let link = format!("/reset/{}", token.as_str());
    let form = v.get(&link).await;
    assert_eq!(form.status, StatusCode::OK);
    // A weak password is refused before the link is used up.
    let r = v.post(&link, &[("csrf", &form.csrf()), ("password", "short")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = v.post(&link, &[("csrf", &form.csrf()), ("password", "a brand new password")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Password changed"));
    // Every old session is over; the new password works, the old one does not.
    assert_eq!(old_browser.get("/settings").await.status, StatusCode::SEE_OTHER);
    assert_eq!(Browser::new(&site).log_in("alice", PW).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(Browser::new(&site).log_in("alice", "a brand new password").await.status, StatusCode::SEE_OTHER);
    // A link works once; a made-up one is a 400.
    let r = v.post(&link, &[("csrf", &form.csrf()), ("password", "yet another password")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("used already"), "{}", r.body);
    assert_eq!(v.get("/reset/not-a-token").await.status, StatusCode::BAD_REQUEST);

    // Sign-up logs the new member in and makes a verification link.
    let mut d = Browser::new(&site);
    let csrf = d.get("/signup").await.csrf();
    let r = d
        .post("/signup", &[("csrf", &csrf), ("username", "dave"), ("email", "dave@example.org"), ("password", PW)])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("the link was written to the server log") && d.session().is_some());
    let dave = site.store.user_by_username(&"dave".parse_username()).await.unwrap().unwrap();
    assert!(!dave.is_verified());
    let token = site.store.create_email_token(dave.id, EmailPurpose::Verify, soon).await.unwrap();
    let r = d.get(&format!("/verify/{}", token.as_str())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Address confirmed"));
    assert!(site.store.user_by_username(&"dave".parse_username()).await.unwrap().unwrap().is_verified());
    assert_eq!(d.get(&format!("/verify/{}", "f".repeat(64))).await.status, StatusCode::BAD_REQUEST);
    // A link past its time is gone (410), and says so.
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    let old = site.store.create_email_token(dave.id, EmailPurpose::Verify, past).await.unwrap();
    let r = d.get(&format!("/verify/{}", old.as_str())).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(r.body.contains("expired"), "{}", r.body);
    // Taken names are refused readably.
    let csrf = d.get("/settings").await.csrf();
    let taken = [("csrf", csrf.as_str()), ("username", "ALICE"), ("email", "a2@example.org"), ("password", PW)];
    let r = d.post("/signup", &taken).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("is taken"));
}
