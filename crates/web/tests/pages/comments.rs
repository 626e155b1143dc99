//! The discussion under a paper (`src/pages/comments.rs`) over real HTTP:
//! a long discussion is shown a page at a time and no comment is lost
//! between pages, permalinks land on the page that holds the comment, bad
//! page numbers are 4xx, and members who post too fast get a 429 with
//! `Retry-After`.

use std::collections::HashSet;
use std::time::Instant;

use crate::common;

use common::catalog::start;
use common::{Browser, Launch, Server};
use paperboy_core::{CommentId, PaperId, Role};
use paperboy_services::accounts::{self, SignUp};
use paperboy_store::{Catalog, Community, User};
use paperboy_web::WebSettings;
use reqwest::StatusCode;

const PW: &str = "correct horse battery";
const PAPER: &str = "2603.00101";

async fn member(store: &paperboy_store::SqlStore, name: &str) -> User {
    let email = format!("{name}@example.org");
    let form = SignUp { username: name, email: &email, password: PW, role: Role::Member, email_verified: true };
    accounts::sign_up(store, &form).await.unwrap()
}

/// The comment ids of a page, in document order.
fn comment_ids(html: &str) -> Vec<i64> {
    html.split("<article class=\"comment\" id=\"c")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// The `rel="next"` link of a page, if any.
fn next_link(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\" href=\"")? + "rel=\"next\" href=\"".len();
    Some(html[at..at + html[at..].find('"').unwrap()].replace("&amp;", "&"))
}

#[tokio::test]
async fn a_long_discussion_is_paged_and_every_comment_is_on_exactly_one_page() {
    let s = start(30).await;
    let (ada, bob) = (member(&s.store, "ada").await, member(&s.store, "bob").await);
    let paper = PaperId::parse(PAPER).unwrap();
    // 1,000 threads; the first gets 2,000 replies (it spans many pages), and
    // 2,000 more replies land on earlier threads after later ones began.
    let started = Instant::now();
    let mut roots: Vec<CommentId> = Vec::new();
    let mut all: Vec<(CommentId, CommentId)> = Vec::new(); // (thread root, id)
    for i in 0..1_000 {
        let c = s.store.add_comment(ada.id, &paper, None, &format!("Thread {i}: **bold** and `code`")).await.unwrap();
        roots.push(c.id);
        all.push((c.id, c.id));
    }
    for k in 0..4_000usize {
        let root = if k % 2 == 0 { roots[0] } else { roots[(k * 7) % roots.len()] };
        let c = s.store.add_comment(bob.id, &paper, Some(root), &format!("Reply {k}")).await.unwrap();
        all.push((root, c.id));
    }
    eprintln!("5,000 comments stored in {:?}", started.elapsed());
    all.sort();
    let expected: Vec<i64> = all.iter().map(|(_, id)| id.0).collect();

    let mut seen: Vec<i64> = Vec::new();
    let mut path = format!("/papers/{PAPER}");
    let mut pages = 0;
    let walk = Instant::now();
    loop {
        let t = Instant::now();
        let body = s.text(&path, StatusCode::OK).await;
        if pages == 0 {
            eprintln!("first page of a 5,000-comment discussion: {:?}, {} bytes", t.elapsed(), body.len());
            assert!(body.contains("Discussion (5000)"), "the heading counts the whole discussion");
        }
        let ids = comment_ids(&body);
        assert!(!ids.is_empty() && ids.len() <= 100, "{path}: {} comments on one page", ids.len());
        if !roots.contains(&CommentId(ids[0])) {
            assert!(body.contains("a comment on the page before"), "{path}: a page that opens mid-thread says so");
        }
        seen.extend(ids);
        pages += 1;
        match next_link(&body) {
            Some(next) => path = next.trim_end_matches("#comments").to_string(),
            None => break,
        }
    }
    eprintln!("{pages} pages walked in {:?}", walk.elapsed());
    assert_eq!(seen.len(), 5_000, "every comment is shown");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 5_000, "and only once");
    assert_eq!(seen, expected, "threads stay together, oldest first");

    // A permalink lands on the page that holds the comment.
    let deep = all[1_500].1;
    let r = s.get(&format!("/comments/{deep}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&format!("/papers/{PAPER}?cpage=15#c{deep}")), "{location}");
    let page = s.text(location.split('#').next().unwrap(), StatusCode::OK).await;
    assert!(comment_ids(&page).contains(&deep.0));
    assert_eq!(s.get("/comments/999999").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(s.get("/comments/x").await.status(), StatusCode::BAD_REQUEST);

    // Pages that do not exist are 4xx with a readable message.
    let past = s.text(&format!("/papers/{PAPER}?cpage={pages}"), StatusCode::NOT_FOUND).await;
    assert!(past.contains(&format!("This discussion has {pages} pages of comments")), "{past}");
    let bad = s.text(&format!("/papers/{PAPER}?cpage=-1"), StatusCode::BAD_REQUEST).await;
    assert!(bad.contains("not a comment page number"));
    s.text(&format!("/papers/{PAPER}?cpage=4294967295"), StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_paper_without_comments_has_one_page() {
    let s = start(30).await;
    let body = s.text(&format!("/papers/{PAPER}"), StatusCode::OK).await;
    assert!(body.contains("No comments yet."));
    assert!(!body.contains("Comments page"), "no pager for one page");
    s.text(&format!("/papers/{PAPER}?cpage=0"), StatusCode::OK).await;
    s.text(&format!("/papers/{PAPER}?cpage=1"), StatusCode::NOT_FOUND).await;
}

async fn logged_in(site: &Server, user: &str) -> (Browser, String) {
    let mut b = Browser::new(site);
    let r = b.log_in(user, PW).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let csrf = b.get("/settings").await.csrf();
    (b, csrf)
}

#[tokio::test]
async fn members_who_post_too_fast_are_told_to_wait() {
    let (dir, store) = common::sqlite().await;
    store.upsert_papers(&common::catalog::catalog()).await.unwrap();
    member(&store, "ada").await;
    member(&store, "bob").await;
    // The default limit: 5 a minute.
    let s = Launch::bind().await.config(WebSettings::default()).keep(dir).serve(store);
    let (mut ada, csrf) = logged_in(&s, "ada").await;
    let path = format!("/papers/{PAPER}/comments");
    let mut first = None;
    for i in 0..5 {
        let r = ada.post(&path, &[("csrf", &csrf), ("body", &format!("Comment {i}"))]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        first.get_or_insert(r.location().to_string());
    }
    assert!(first.unwrap().starts_with(&format!("/papers/{PAPER}#c")), "page 0 keeps the plain link");
    let r = ada.post(&path, &[("csrf", &csrf), ("body", "One too many")]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    assert!(r.body.contains("5 comments in the last minute"), "{}", r.body);
    assert!(!s.text(&format!("/papers/{PAPER}"), StatusCode::OK).await.contains("One too many"));
    // A reply is refused as well; other members are not held up.
    let top = s.store.comments(&PaperId::parse(PAPER).unwrap(), paperboy_store::Audience::Public).await.unwrap()[0].id;
    let reply = [("csrf", csrf.as_str()), ("body", "A reply"), ("parent", &top.to_string())];
    assert_eq!(ada.post(&path, &reply).await.status, StatusCode::TOO_MANY_REQUESTS);
    let (mut bob, bob_csrf) = logged_in(&s, "bob").await;
    let r = bob.post(&path, &[("csrf", &bob_csrf), ("body", "Bob's turn")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}
