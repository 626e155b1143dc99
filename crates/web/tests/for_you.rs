//! A member's recommendations over real HTTP (`src/pages/for_you.rs`,
//! `GET /api/recommendations`, the private feed, "not for me"): the
//! router on `127.0.0.1:0` over a SQLite file, the real recommender.
//!
//! What a member sees is ranked from what they like, each card with its
//! reason; "not for me" takes a paper out at once and undo brings it back;
//! a new like changes the very next answer; and nothing of a member's list,
//! reasons or negatives ever reaches another member, a visitor or the
//! shared response cache.

use crate::common;

use chrono::{NaiveDate, Utc};
use common::json::{PAPER_KEYS, keys, set};
use common::{Browser, Launch, Server as Site};
use paperboy_core::{Paper, PaperId};
use paperboy_store::{Accounts, Catalog, Interests};
use reqwest::StatusCode;
use serde_json::Value;

const PW: &str = "correct horse battery";

/// Diffusion image generation: Alice's taste.
const DIFFUSION: [(&str, &str); 5] = [
    ("2603.00201", "Latent diffusion models for high resolution image synthesis"),
    ("2603.00202", "Faster sampling for diffusion models of images"),
    ("2603.00203", "Guidance for text to image diffusion models"),
    ("2603.00204", "Diffusion models for image inpainting and editing"),
    ("2603.00205", "Consistency distillation of image diffusion models"),
];

/// Language models: Bob's taste.
const LANGUAGE: [(&str, &str); 5] = [
    ("2603.00301", "Chain of thought reasoning in large language models"),
    ("2603.00302", "Instruction tuning of large language models"),
    ("2603.00303", "Retrieval augmented large language models for question answering"),
    ("2603.00304", "Evaluating reasoning of large language models on math word problems"),
    ("2603.00305", "Tokenization choices for multilingual large language models"),
];

/// Neither.
const OTHER: [(&str, &str); 3] = [
    ("2603.00401", "Quantum error correction with surface codes"),
    ("2603.00402", "Legged robot locomotion over rough terrain"),
    ("2603.00403", "Proof of a conjecture on graph colouring"),
];

fn paper(id: &str, title: &str, day: u32, cats: &[&str]) -> Paper {
    let mut p = Paper::new(PaperId::parse(id).unwrap(), title, NaiveDate::from_ymd_opt(2026, 3, day).unwrap());
    p.authors = vec![format!("Author of {id}")];
    p.abstract_text =
        format!("We study {}. Experiments show that {} works well.", title.to_lowercase(), title.to_lowercase());
    p.categories = cats.iter().map(|c| c.to_string()).collect();
    p.version = Some(1);
    p.normalize();
    p
}

/// Thirteen papers in ISO week 2026-W11 (9 to 13 March), two members.
async fn site() -> Site {
    let (dir, store) = common::sqlite().await;
    let mut papers = Vec::new();
    for (i, (id, title)) in DIFFUSION.iter().enumerate() {
        papers.push(paper(id, title, 9 + i as u32, &["cs.CV"]));
    }
    for (i, (id, title)) in LANGUAGE.iter().enumerate() {
        papers.push(paper(id, title, 9 + i as u32, &["cs.CL"]));
    }
    for (i, (id, title)) in OTHER.iter().enumerate() {
        papers.push(paper(id, title, 10 + i as u32, &["quant-ph"]));
    }
    store.upsert_papers(&papers).await.unwrap();
    common::members(&store, &["alice", "bob", "carol"], PW).await;
    Launch::bind().await.keep(dir).serve(store)
}

async fn logged_in(site: &Site, user: &str) -> (Browser, String) {
    let mut b = Browser::new(site);
    let r = b.log_in(user, PW).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let csrf = b.get("/settings").await.csrf();
    (b, csrf)
}

async fn like(b: &mut Browser, csrf: &str, id: &str) {
    let r = b.post(&format!("/papers/{id}/upvote"), &[("csrf", csrf), ("back", "/for-you")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

async fn not_for_me(b: &mut Browser, csrf: &str, id: &str, on: &str) {
    let r = b.post(&format!("/papers/{id}/not-for-me"), &[("csrf", csrf), ("on", on), ("next", "/for-you")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/for-you");
}

/// The paper ids of the For-you list (in order), from the page's list only.
fn picks(body: &str) -> Vec<String> {
    let Some(start) = body.find("<ol class=\"papers for-you\"") else {
        return Vec::new();
    };
    let list = &body[start..start + body[start..].find("</ol>").unwrap()];
    list.split("data-paper-id=\"").skip(1).map(|s| s[..s.find('"').unwrap()].to_string()).collect()
}

async fn user_id(site: &Site, name: &str) -> paperboy_core::UserId {
    let name = paperboy_core::Username::parse(name).unwrap();
    site.store.user_by_username(&name).await.unwrap().unwrap().id
}

async fn token(site: &Site, name: &str) -> String {
    let (_, secret) = site.store.create_api_token(user_id(site, name).await, "test").await.unwrap();
    format!("Bearer {}", secret.as_str())
}

async fn api(site: &Site, auth: Option<&str>, query: &str) -> reqwest::Response {
    let mut r = site.client.get(site.url(&format!("/api/recommendations{query}")));
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn for_you_ranks_papers_like_the_liked_ones_with_like_reasons() {
    let site = site().await;
    let (mut alice, csrf) = logged_in(&site, "alice").await;
    like(&mut alice, &csrf, DIFFUSION[0].0).await;
    like(&mut alice, &csrf, DIFFUSION[1].0).await;
    let page = alice.get("/for-you").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.headers["cache-control"], "private, no-store");
    let ids = picks(&page.body);
    assert!(!ids.is_empty(), "{}", page.body);
    for liked in [DIFFUSION[0].0, DIFFUSION[1].0] {
        assert!(!ids.iter().any(|i| i == liked), "a liked paper is not recommended again: {ids:?}");
    }
    let diffusion: Vec<&str> = DIFFUSION[2..].iter().map(|(id, _)| *id).collect();
    for (rank, id) in ids.iter().take(3).enumerate() {
        assert!(diffusion.contains(&id.as_str()), "#{} is a diffusion paper: {ids:?}", rank + 1);
    }
    assert!(page.body.contains("Like: "), "cards say which liked paper they are like");
    let liked_link = format!("href=\"/papers/{}\"", DIFFUSION[0].0);
    let liked_link_2 = format!("href=\"/papers/{}\"", DIFFUSION[1].0);
    assert!(
        page.body.contains(&liked_link) || page.body.contains(&liked_link_2),
        "a Like reason links to the liked paper"
    );
    // The period pages work too, with their neighbours.
    let week = alice.get("/for-you/week/2026-W11").await;
    assert_eq!(week.status, StatusCode::OK);
    assert_eq!(picks(&week.body), ids, "/for-you is this week");
    assert!(
        week.body.contains("href=\"/for-you/week/2026-W10\"") && week.body.contains("href=\"/for-you/week/2026-W12\"")
    );
    let day = alice.get("/for-you/day/2026-03-11").await;
    assert_eq!(day.status, StatusCode::OK);
    assert!(picks(&day.body).iter().all(|id| [DIFFUSION[2].0, LANGUAGE[2].0, OTHER[1].0].contains(&id.as_str())));
    let month = alice.get("/for-you/month/2026-03").await;
    assert_eq!(month.status, StatusCode::OK);
    assert!(!picks(&month.body).is_empty());
    assert_eq!(alice.get("/for-you/week/2026-W99").await.status, StatusCode::BAD_REQUEST);
    // The header links to the page for members.
    assert!(alice.get("/").await.body.contains("href=\"/for-you\""));
}

#[tokio::test]
async fn the_model_reacts_to_a_new_like_in_the_next_request() {
    let site = site().await;
    let (mut bob, csrf) = logged_in(&site, "bob").await;
    let cold = bob.get("/for-you").await;
    assert!(cold.body.contains("Popular papers while we learn"), "no signal yet: cold start");
    assert!(cold.body.contains("action=\"/for-you/categories\""), "cold start offers categories");
    like(&mut bob, &csrf, LANGUAGE[0].0).await;
    let warm = bob.get("/for-you").await;
    let ids = picks(&warm.body);
    let language: Vec<&str> = LANGUAGE[1..].iter().map(|(id, _)| *id).collect();
    assert!(language.contains(&ids[0].as_str()), "one like and the next page leads with its kind: {ids:?}");
    assert!(!warm.body.contains("Popular papers while we learn"));
    // Liking a diffusion paper as well brings diffusion papers in, at once.
    like(&mut bob, &csrf, DIFFUSION[4].0).await;
    let both = picks(&bob.get("/for-you").await.body);
    let diffusion: Vec<&str> = DIFFUSION[..4].iter().map(|(id, _)| *id).collect();
    let first_diffusion = both.iter().position(|id| diffusion.contains(&id.as_str())).unwrap();
    let first_other = both.iter().position(|id| OTHER.iter().any(|(o, _)| o == id)).unwrap_or(both.len());
    assert!(first_diffusion < first_other, "{both:?}");
}

#[tokio::test]
async fn not_for_me_takes_a_paper_out_at_once_and_undo_brings_it_back() {
    let site = site().await;
    let (mut alice, csrf) = logged_in(&site, "alice").await;
    like(&mut alice, &csrf, DIFFUSION[0].0).await;
    let before = picks(&alice.get("/for-you").await.body);
    let gone = before[0].clone();
    not_for_me(&mut alice, &csrf, &gone, "1").await;
    let page = alice.get("/for-you").await;
    let after = picks(&page.body);
    assert!(!after.contains(&gone), "{gone} left the list: {after:?}");
    assert_eq!(after.len(), before.len() - 1);
    assert!(page.body.contains(&format!("data-hidden-paper=\"{gone}\"")), "the page offers to undo it");
    // Elsewhere the card says so and offers undo; a paper page too.
    let feed = alice.get("/papers/week/2026-W11").await.body;
    let card_at = feed.find(&format!("data-paper-id=\"{gone}\"")).unwrap();
    let card = &feed[card_at..card_at + feed[card_at..].find("</li>").unwrap()];
    assert!(card.contains("name=\"on\" value=\"0\"") && card.contains("Undo"), "{card}");
    let paper_page = alice.get(&format!("/papers/{gone}")).await.body;
    assert!(paper_page.contains(&format!("action=\"/papers/{gone}/not-for-me\"")));
    assert!(paper_page.contains("Undo"));
    // The API agrees.
    let auth = token(&site, "alice").await;
    let json: Value = api(&site, Some(&auth), "").await.json().await.unwrap();
    assert!(json["items"].as_array().unwrap().iter().all(|i| i["id"] != gone.as_str()));
    // Undo.
    not_for_me(&mut alice, &csrf, &gone, "0").await;
    let back = picks(&alice.get("/for-you").await.body);
    assert_eq!(back, before, "undo restores the list");
    // Bad input is a 400, visitors cannot post.
    let r = alice.post(&format!("/papers/{gone}/not-for-me"), &[("csrf", &csrf), ("on", "maybe")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = alice.post("/papers/2603.99999/not-for-me", &[("csrf", &csrf), ("on", "1")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let mut visitor = Browser::new(&site);
    let r = visitor.post(&format!("/papers/{gone}/not-for-me"), &[("on", "1")]).await;
    assert!(r.status.is_client_error(), "{}", r.status);
}

#[tokio::test]
async fn nobody_else_sees_a_members_list_reasons_or_negatives() {
    let site = site().await;
    let (mut alice, csrf) = logged_in(&site, "alice").await;
    like(&mut alice, &csrf, DIFFUSION[0].0).await;
    not_for_me(&mut alice, &csrf, OTHER[0].0, "1").await;
    let alice_page = alice.get("/for-you").await.body;
    assert!(alice_page.contains(&format!("Like: <a class=\"liked\" href=\"/papers/{}\"", DIFFUSION[0].0)));

    // Visitors are sent to log in; the API wants a token.
    let r = site.get("/for-you").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(common::header(&r, "location"), "/login?next=%2Ffor-you");
    for path in ["/for-you/week/2026-W11", "/for-you/day/2026-03-11", "/for-you/month/2026-03"] {
        assert_eq!(site.get(path).await.status(), StatusCode::SEE_OTHER, "{path}");
    }
    let r = api(&site, None, "").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(common::content_type(&r), "application/json");
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());

    // Bob sees his own (empty) profile: none of Alice's reasons or negatives.
    let (mut bob, _) = logged_in(&site, "bob").await;
    let bob_page = bob.get("/for-you").await.body;
    assert!(bob_page.contains("Popular papers while we learn"), "Bob has no signal");
    assert!(!bob_page.contains("Like: "));
    assert!(!bob_page.contains("data-hidden-paper"), "Alice's negatives are hers");
    assert!(picks(&bob_page).contains(&OTHER[0].0.to_string()), "Alice's not-for-me is not Bob's");
    let feed = bob.get("/papers/week/2026-W11").await.body;
    assert!(!feed.contains("name=\"on\" value=\"0\""), "no card is marked for Bob");

    // Bob's token answers with Bob's picks, never Alice's.
    let bob_token = token(&site, "bob").await;
    let r = api(&site, Some(&bob_token), "").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(common::header(&r, "cache-control"), "private, no-store");
    let json: Value = r.json().await.unwrap();
    assert_eq!(json["coldStart"], true);
    assert!(json["items"].as_array().unwrap().iter().all(|i| i["reason"]["kind"] == "popular"));
    let alice_token = token(&site, "alice").await;
    let json: Value = api(&site, Some(&alice_token), "").await.json().await.unwrap();
    assert_eq!(json["coldStart"], false);
    assert!(json["items"].as_array().unwrap().iter().all(|i| i["id"] != OTHER[0].0));

    // The private feed: the secret's owner's picks; a rotated secret is gone.
    let alice_id = user_id(&site, "alice").await;
    let secret = site.store.rotate_feed_secret(alice_id, Utc::now()).await.unwrap();
    let url = format!("/for-you/feed/{}.atom", secret.as_str());
    let r = site.get(&url).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(common::header(&r, "cache-control"), "private, no-store");
    assert!(common::content_type(&r).starts_with("application/atom+xml"));
    let atom = r.text().await.unwrap();
    assert!(atom.contains("<summary type=\"text\">Like: "), "{atom}");
    assert!(!atom.contains(OTHER[0].0), "negatives stay out of the feed");
    let newer = site.store.rotate_feed_secret(alice_id, Utc::now()).await.unwrap();
    assert_eq!(site.get(&url).await.status(), StatusCode::NOT_FOUND, "the old URL is revoked");
    assert_eq!(site.get(&format!("/for-you/feed/{}.atom", newer.as_str())).await.status(), StatusCode::OK);
    assert_eq!(site.get("/for-you/feed/not-a-secret.atom").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(site.get(&format!("/for-you/feed/{}", newer.as_str())).await.status(), StatusCode::NOT_FOUND);
    // Fetched twice without a session, the feed is rendered for its owner
    // each time: the shared cache never serves it (a new like shows).
    like(&mut alice, &csrf, LANGUAGE[0].0).await;
    let again = site.get(&format!("/for-you/feed/{}.atom", newer.as_str())).await.text().await.unwrap();
    assert!(again.contains(&format!("Like: {}", LANGUAGE[0].1)), "{again}");
}

#[tokio::test]
async fn the_api_answers_papers_with_reasons_and_refuses_bad_parameters() {
    let site = site().await;
    let (mut alice, csrf) = logged_in(&site, "alice").await;
    like(&mut alice, &csrf, DIFFUSION[0].0).await;
    let auth = token(&site, "alice").await;
    let r = api(&site, Some(&auth), "?period=week&date=2026-03-11&limit=3").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(common::content_type(&r), "application/json");
    let json: Value = r.json().await.unwrap();
    assert_eq!(keys(&json), set(&["period", "periodKind", "coldStart", "items"]));
    assert_eq!(json["period"], "2026-W11");
    assert_eq!(json["periodKind"], "week");
    assert_eq!(json["coldStart"], false);
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let mut expected = set(PAPER_KEYS);
    expected.extend(["score".to_string(), "reason".to_string()]);
    assert_eq!(keys(&items[0]), expected);
    let reason = &items[0]["reason"];
    assert_eq!(reason["kind"], "like");
    assert_eq!(reason["paperId"], DIFFUSION[0].0);
    assert_eq!(reason["text"], format!("Like: {}", DIFFUSION[0].1));
    assert!(items[0]["score"].is_number());
    let day: Value = api(&site, Some(&auth), "?period=day&date=2026-03-09").await.json().await.unwrap();
    assert_eq!(day["period"], "2026-03-09");
    assert!(day["items"].as_array().unwrap().iter().all(|i| i["listedOn"] == "2026-03-09"));
    let month: Value = api(&site, Some(&auth), "?period=month").await.json().await.unwrap();
    assert_eq!(month["period"], "2026-03");
    for bad in
        ["?period=year", "?date=2026-13-01", "?limit=0", "?limit=101", "?week=2026-W11", "?period=day&period=week"]
    {
        let r = api(&site, Some(&auth), bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.json::<Value>().await.unwrap()["error"].is_string(), "{bad}");
    }
    let r = api(&site, Some("Bearer pb_0000000000000000000000000000000000000000000000000000000000000000"), "").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The OpenAPI description matches what the server sends.
    let doc = site.json("/api/openapi.json", StatusCode::OK).await;
    let op = &doc["paths"]["/api/recommendations"]["get"];
    let params: Vec<&str> = op["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(params, ["period", "date", "limit"]);
    let schemas = &doc["components"]["schemas"];
    assert_eq!(keys(&schemas["Recommendations"]["properties"]), keys(&json));
    let item = &schemas["RecommendedItem"]["allOf"];
    assert_eq!(item[0]["$ref"], "#/components/schemas/Paper");
    assert_eq!(keys(&item[1]["properties"]), set(&["score", "reason"]));
    assert_eq!(keys(&schemas["Reason"]["properties"]), keys(reason));
}

#[tokio::test]
async fn a_new_member_picks_categories_and_is_offered_papers_to_like() {
    let site = site().await;
    let (mut carol, csrf) = logged_in(&site, "carol").await;
    let page = carol.get("/for-you").await.body;
    assert!(page.contains("name=\"follow:cs.CL\""));
    assert!(page.contains("<ol class=\"papers suggestions\""), "papers to like");
    let r = carol.post("/for-you/categories", &[("csrf", &csrf), ("follow:cs.CL", "1"), ("next", "/for-you")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/for-you");
    let carol_id = user_id(&site, "carol").await;
    let profile = site.store.interest_profile(carol_id, 10).await.unwrap();
    assert_eq!(profile.categories, ["cs.CL"]);
    let page = carol.get("/for-you").await.body;
    assert!(page.contains("name=\"follow:cs.CL\" value=\"1\" checked"), "the choice is shown");
    assert!(!page.contains("Popular papers while we learn"), "a followed category is a signal");
    let suggestions = &page[page.find("<ol class=\"papers suggestions\"").unwrap()..];
    let first = &suggestions[suggestions.find("data-paper-id=\"").unwrap() + 15..];
    assert!(first.starts_with("2603.003"), "suggestions start with the followed category: {}", &first[..20]);
    // Sign-up leads to this page.
    let mut dave = Browser::new(&site);
    let csrf = dave.get("/signup").await.csrf();
    let r = dave
        .post("/signup", &[("csrf", &csrf), ("username", "dave"), ("email", "dave@example.org"), ("password", PW)])
        .await;
    assert!(r.body.contains("href=\"/for-you\""), "the welcome page sends the member to For-you");
}
