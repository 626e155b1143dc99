//! Email digests over real HTTP and real SMTP: the site on `127.0.0.1:0`
//! with its outbox sender pointed at the aiosmtpd sink
//! (`tests/fixtures/smtp/sink.py`). The tests subscribe through the box on
//! the front page, read the confirmation mail, follow its link, receive a
//! digest, check its headers and both parts, use its manage link, and
//! unsubscribe with an RFC 8058 one-click POST; they check that bad input
//! (addresses, CR/LF, forged and expired links, a missing CSRF token outside
//! the subscribe box) is refused with a 4xx and a clear message, and that a
//! box post without a token never uses the member's session.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::{Browser, Launch, Page, Server};
use paperboy_core::{Email, Paper, PaperId};
use paperboy_mail::{DeliverySettings, DigestBuilder, Mailer, Period, Postman, Purpose, Security, Signer, Site};
use paperboy_store::{Catalog, Frequency, Mailing};
use paperboy_test_support::smtp::{Sink, smtp_settings};
use reqwest::StatusCode;

/// The site with digests on, its postman and the SMTP sink it sends to.
struct TestSite {
    postman: Arc<Postman>,
    sink: Sink,
    server: Server,
}

impl std::ops::Deref for TestSite {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

fn paper(n: u32, title: &str) -> Paper {
    let today = Utc::now().date_naive();
    let mut p = Paper::new(PaperId::parse(&format!("2611.{n:05}")).unwrap(), title, today);
    p.authors = vec!["Grace Hopper".into()];
    p.abstract_text = format!("We study {title} in depth. ").repeat(5);
    p.categories = vec!["cs.LG".into()];
    p.version = Some(1);
    p.normalize();
    p
}

async fn site() -> Option<TestSite> {
    site_with(false).await
}

/// [`site`], with members' recommendations in digests when `recommend`
/// (the recommender over text features: the test site has no vectors).
async fn site_with(recommend: bool) -> Option<TestSite> {
    let (dir, store) = common::sqlite().await;
    let sink = Sink::started(&dir.path().join("sink"))?;
    store.upsert_papers(&[paper(1, "Sparse Mixture of Experts"), paper(2, "Diffusion at Scale")]).await.unwrap();
    let launch = Launch::bind().await;
    let db: Arc<dyn paperboy_store::Database> = Arc::new(store.clone());
    let site = Site {
        name: "Paperboy".into(),
        base_url: launch.base.clone(),
        from: paperboy_mail::message::sender("Paperboy", "digest@example.org").unwrap(),
        tz: "UTC".parse().unwrap(),
    };
    let picks = recommend.then(|| {
        let recs = paperboy_services::recommend::RecsService::new(None, Default::default());
        Arc::new(paperboy_services::jobs::picks::RecsPicks::new(recs, Arc::clone(&db)))
            as Arc<dyn paperboy_mail::PersonalPicks>
    });
    let builder = DigestBuilder { db, search: None, picks, signer: Signer::random().unwrap(), site };
    let smtp = smtp_settings(sink.port, Security::Plain, None);
    let mailer = Mailer::new(&smtp, &builder.site.from).unwrap();
    let postman = Arc::new(Postman::new(builder, mailer, DeliverySettings { per_second: 100.0, ..Default::default() }));
    let server = launch.mail(Arc::clone(&postman)).keep(dir).serve(store);
    Some(TestSite { postman, sink, server })
}

/// Subscribes through the box on the front page: one POST, with no CSRF
/// token (the page is cached and carries none).
async fn subscribe(b: &mut Browser, email: &str) -> Page {
    let home = b.get("/").await;
    assert!(home.body.contains(r#"<form class="inline" method="post" action="/subscribe">"#), "{}", home.body);
    assert!(!home.body.contains(r#"name="csrf""#), "a cached page carries no CSRF token");
    b.post("/subscribe", &[("email", email)]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_confirm_receive_manage_and_unsubscribe_in_one_click() {
    let Some(site) = site().await else { return };
    let mut b = Browser::new(&site);
    let home = b.get("/").await;
    assert!(home.body.contains("Get trending papers in your email inbox"), "the box is on every page");

    let r = subscribe(&mut b, "ada@example.org").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Check your inbox"));
    let mails = site.sink.wait_for(1, Duration::from_secs(10));
    let confirm = &mails[0];
    assert_eq!(confirm.rcpt, "ada@example.org");
    assert!(confirm.header("Subject").unwrap().contains("Confirm your Paperboy subscription"));
    assert!(confirm.header("From").unwrap().contains("digest@example.org"));
    assert!(confirm.part("text/html").unwrap().contains("Confirm my subscription"));
    let links = confirm.links(&site.base, "subscribe/confirm/");
    assert_eq!(links.len(), 1, "{:?}", confirm.part("text/plain"));
    let email = Email::parse("ada@example.org").unwrap();
    assert!(site.store.subscriber_by_email(&email).await.unwrap().unwrap().confirmed_at.is_none());
    let done = b.get(&links[0]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("You are subscribed"));
    let sub = site.store.subscriber_by_email(&email).await.unwrap().unwrap();
    assert!(sub.is_active());

    // This morning's digest.
    let period = Period::at(Frequency::Daily, Utc::now(), "UTC".parse().unwrap());
    let built = site.postman.builder.build_period(&period, None, false).await.unwrap();
    assert_eq!(built.built, 1);
    site.postman.deliver_now().await.unwrap();
    let mails = site.sink.wait_for(2, Duration::from_secs(10));
    let digest = &mails[1];
    assert_eq!(digest.rcpt, "ada@example.org");
    assert_eq!(digest.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let list_unsub = digest.header("List-Unsubscribe").unwrap();
    let unsub_url = list_unsub.trim_start_matches('<').trim_end_matches('>').to_string();
    assert!(unsub_url.starts_with(&format!("{}/unsubscribe/", site.base)), "{unsub_url}");
    assert_eq!(digest.header("Message-ID").unwrap(), format!("<paperboy.daily.{}.{}@127.0.0.1>", period.key, sub.id.0));
    let text = digest.part("text/plain").unwrap();
    let html = digest.part("text/html").unwrap();
    for title in ["Sparse Mixture of Experts", "Diffusion at Scale"] {
        assert!(text.contains(title) && html.contains(title), "{title}");
    }
    assert!(text.contains("Grace Hopper") && text.contains(&format!("{}/papers/2611.00001", site.base)));

    // The manage link: weekly, a category, a saved search.
    let manage = digest.links(&site.base, "subscription/");
    assert_eq!(manage.len(), 1);
    let page = b.get(&manage[0]).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf();
    let saved = b
        .post(&manage[0], &[("csrf", &csrf), ("do", "update"), ("frequency", "weekly"), ("categories", "cs.LG cs.CV")])
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let added = b.post(&manage[0], &[("csrf", &csrf), ("do", "add"), ("query", "mixture of experts")]).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let sub = site.store.subscriber(sub.id).await.unwrap().unwrap();
    assert_eq!(sub.frequency, Frequency::Weekly);
    assert_eq!(sub.categories, vec!["cs.LG", "cs.CV"]);
    assert_eq!(site.store.saved_searches(sub.id).await.unwrap()[0].query, "mixture of experts");

    // RFC 8058 one-click: a POST with no cookie and no CSRF token.
    let page = reqwest::get(&unsub_url).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Unsubscribe"));
    assert!(site.store.subscriber(sub.id).await.unwrap().unwrap().unsubscribed_at.is_none(), "GET changes nothing");
    let one_click = reqwest::Client::new()
        .post(&unsub_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), StatusCode::OK);
    assert!(site.store.subscriber(sub.id).await.unwrap().unwrap().unsubscribed_at.is_some());
    let weekly = Period::at(Frequency::Weekly, Utc::now(), "UTC".parse().unwrap());
    assert_eq!(site.postman.builder.build_period(&weekly, None, false).await.unwrap().built, 0, "no more digests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_addresses_injection_and_bad_links_are_refused_clearly() {
    let Some(site) = site().await else { return };
    let mut b = Browser::new(&site);
    for (bad, why) in [
        ("not-an-address", "'@'"),
        ("ada@example.org\r\nBcc: evil@example.org", "no spaces or control characters"),
        ("", "254 characters"),
    ] {
        let r = subscribe(&mut b, bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(r.body.contains(why), "{bad:?}: {}", r.body);
    }
    assert_eq!(site.store.outbox_counts().await.unwrap().pending + site.store.outbox_counts().await.unwrap().sent, 0);
    // The form page (the box's fallback) still works, with its CSRF token.
    let form = b.get("/subscribe?email=x%40example.org").await;
    assert!(form.body.contains(r#"value="x@example.org""#) && form.body.contains(r#"name="csrf""#));
    // Other forms without a CSRF token are still refused.
    let r = b.client.post(format!("{}/login", site.base)).form(&[("username", "x"), ("password", "y")]).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::FORBIDDEN);

    // Forged, garbled, wrong-purpose and expired links.
    let sub = site.store.subscribe(&Email::parse("eve@example.org").unwrap(), None).await.unwrap();
    site.store.confirm_subscriber(sub.id).await.unwrap();
    let signer = site.postman.signer();
    let good = signer.sign(Purpose::Unsubscribe, sub.id, Utc::now() + chrono::Duration::days(1));
    let forged = good.replacen(&format!("-{}-", sub.id.0), &format!("-{}-", sub.id.0 + 1), 1);
    let expired = signer.sign(Purpose::Unsubscribe, sub.id, Utc::now() - chrono::Duration::hours(1));
    let manage_token = signer.sign(Purpose::Manage, sub.id, Utc::now() + chrono::Duration::days(1));
    for (path, status, why) in [
        (format!("/unsubscribe/{forged}"), StatusCode::BAD_REQUEST, "not valid"),
        ("/unsubscribe/u-1-99999999999-00".to_string(), StatusCode::BAD_REQUEST, "not valid"),
        (format!("/unsubscribe/{manage_token}"), StatusCode::BAD_REQUEST, "not valid"),
        (format!("/unsubscribe/{expired}"), StatusCode::GONE, "expired"),
        (format!("/subscribe/confirm/{good}"), StatusCode::BAD_REQUEST, "not valid"),
        (format!("/subscription/{good}"), StatusCode::BAD_REQUEST, "not valid"),
    ] {
        let get = b.get(&path).await;
        assert_eq!(get.status, status, "{path}");
        assert!(get.body.contains(why), "{path}: {}", get.body);
    }
    let post = b.post(&format!("/unsubscribe/{forged}"), &[("List-Unsubscribe", "One-Click")]).await;
    assert_eq!(post.status, StatusCode::BAD_REQUEST);
    assert!(site.store.subscriber(sub.id).await.unwrap().unwrap().unsubscribed_at.is_none(), "nothing changed");

    // CR/LF in a saved search and junk categories: refused, nothing saved.
    let manage = format!("/subscription/{manage_token}");
    let csrf = b.get(&manage).await.csrf();
    let r = b.post(&manage, &[("csrf", &csrf), ("do", "add"), ("query", "diffusion\r\nBcc: evil@example.org")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("line breaks"), "{}", r.body);
    let r = b
        .post(&manage, &[("csrf", &csrf), ("do", "update"), ("frequency", "daily"), ("categories", "cs.LG\r\nX")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("is not a category"), "{}", r.body);
    assert!(site.store.saved_searches(sub.id).await.unwrap().is_empty());
    let r = b.post(&manage, &[("csrf", &csrf), ("do", "update"), ("frequency", "hourly")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_links_are_mailed_and_the_preview_is_for_admins_only() {
    let Some(site) = site().await else { return };
    let mut b = Browser::new(&site);
    let form = b.get("/signup").await;
    let csrf = form.csrf();
    let r = b
        .post(
            "/signup",
            &[
                ("csrf", &csrf),
                ("username", "grace"),
                ("email", "grace@example.org"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("the mail we just sent you"));
    let mails = site.sink.wait_for(1, Duration::from_secs(10));
    assert_eq!(mails[0].rcpt, "grace@example.org");
    let verify = mails[0].links(&site.base, "verify/");
    assert_eq!(verify.len(), 1, "{:?}", mails[0].part("text/plain"));
    let done = b.get(&verify[0]).await;
    assert!(done.body.contains("Address confirmed"), "{}", done.body);

    // The preview: a member is refused, an admin sees the mail's HTML and text.
    let preview = b.get("/admin/digest").await;
    assert_eq!(preview.status, StatusCode::FORBIDDEN);
    let mut a = signed_in_admin(&site).await;
    let html = a.get("/admin/digest").await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.body.contains("Sparse Mixture of Experts") && html.body.contains("<table"));
    let text = a.get("/admin/digest?period=weekly&format=text").await;
    assert!(text.body.contains("TRENDING") && text.body.contains("week of"), "{}", text.body);
    assert_eq!(a.get("/admin/digest?period=hourly").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(site.sink.messages().len(), 1, "a preview sends nothing");

    // A member's own verified address: without a CSRF token the session is
    // ignored (a forged post can only ask for a confirmation mail) ...
    let root = Email::parse("root@example.org").unwrap();
    let r = a.post("/subscribe", &[("email", "root@example.org")]).await;
    assert!(r.body.contains("a mail with a confirmation link is on its way"), "{}", r.body);
    assert!(site.store.subscriber_by_email(&root).await.unwrap().unwrap().confirmed_at.is_none());
    site.sink.wait_for(2, Duration::from_secs(10));
    // ... and with the token that a member's page carries, it is subscribed at once.
    let page = a.get("/").await;
    assert!(page.body.contains(r#"action="/subscribe""#));
    let r = a.post("/subscribe", &[("csrf", &page.csrf()), ("email", "root@example.org")]).await;
    assert!(r.body.contains("You are subscribed with"), "{}", r.body);
    assert!(site.store.subscriber_by_email(&root).await.unwrap().unwrap().confirmed_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_chooses_what_the_digest_carries_and_a_plain_subscriber_cannot_choose_recommendations() {
    use paperboy_core::Role;
    use paperboy_services::accounts::{self, SignUp};
    use paperboy_store::DigestContent;
    let Some(site) = site().await else { return };
    let member = SignUp {
        username: "ada",
        email: "ada@example.org",
        password: "correct horse battery",
        role: Role::Member,
        email_verified: true,
    };
    accounts::sign_up(&site.store, &member).await.unwrap();
    let mut b = Browser::new(&site);
    let csrf = b.get("/login").await.csrf();
    b.post("/login", &[("csrf", &csrf), ("username", "ada"), ("password", "correct horse battery")]).await;
    let settings = b.get("/settings").await;
    assert!(!settings.body.contains("What the digest carries"), "no choice before there is a subscription");
    let r = b.post("/settings/digest", &[("csrf", &settings.csrf()), ("do", "subscribe")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "back to /settings: {}", r.body);
    let email = Email::parse("ada@example.org").unwrap();
    let sub = site.store.subscriber_by_email(&email).await.unwrap().unwrap();
    assert_eq!(sub.content, DigestContent::Trending, "a new subscription carries trending papers");

    // The choice is on the member's settings page, and round-trips.
    let page = b.get("/settings").await;
    assert!(page.body.contains("What the digest carries"), "{}", page.body);
    assert!(page.body.contains(r#"value="trending" checked"#), "{}", page.body);
    for (value, content) in [("recommended", DigestContent::Recommended), ("both", DigestContent::Both)] {
        let r = b
            .post(
                "/settings/digest",
                &[
                    ("csrf", &page.csrf()),
                    ("do", "update"),
                    ("frequency", "weekly"),
                    ("categories", "cs.LG"),
                    ("content", value),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{value}: {}", r.body);
        let now = site.store.subscriber(sub.id).await.unwrap().unwrap();
        assert_eq!((now.content, now.frequency), (content, Frequency::Weekly), "{value}");
        let shown = b.get("/settings").await;
        assert!(shown.body.contains(&format!(r#"value="{value}" checked"#)), "{value}: {}", shown.body);
    }
    let r = b
        .post(
            "/settings/digest",
            &[("csrf", &page.csrf()), ("do", "update"), ("frequency", "daily"), ("content", "everything")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Choose what the digest carries"), "{}", r.body);
    let now = site.store.subscriber(sub.id).await.unwrap().unwrap();
    assert_eq!((now.content, now.frequency), (DigestContent::Both, Frequency::Weekly), "a refusal changes nothing");

    // A subscription without a member: no choice on its manage page, and a
    // forged post asking for recommendations is a 400 that says why.
    let plain = site.store.subscribe(&Email::parse("bob@example.org").unwrap(), None).await.unwrap();
    site.store.confirm_subscriber(plain.id).await.unwrap();
    let token = site.postman.signer().sign(Purpose::Manage, plain.id, Utc::now() + chrono::Duration::days(1));
    let manage = format!("/subscription/{token}");
    let form = b.get(&manage).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(!form.body.contains("What the digest carries"), "{}", form.body);
    let r = b
        .post(&manage, &[("csrf", &form.csrf()), ("do", "update"), ("frequency", "weekly"), ("content", "recommended")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("Recommendations are mailed only to a member"), "{}", r.body);
    let after = site.store.subscriber(plain.id).await.unwrap().unwrap();
    assert_eq!((after.content, after.frequency), (DigestContent::Trending, Frequency::Daily), "nothing changed");
    // Trending stays a valid choice for it.
    let r = b
        .post(&manage, &[("csrf", &form.csrf()), ("do", "update"), ("frequency", "weekly"), ("content", "trending")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(site.store.subscriber(plain.id).await.unwrap().unwrap().frequency, Frequency::Weekly);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_preview_shows_the_admins_own_recommendations_with_reasons() {
    use paperboy_store::{Accounts, Community};
    let Some(site) = site_with(true).await else { return };
    let mut liked = paper(9, "Routing tokens in a sparse mixture of experts");
    liked.listed_on = Utc::now().date_naive() - chrono::Days::new(40);
    // Papers far from the like, so that the text features can tell.
    let others = [
        "Protein folding on cubic lattices",
        "Weak lensing shear of galaxy clusters",
        "Glacier retreat from satellite radar",
        "Bayesian optimisation of reaction yields",
    ];
    let mut papers: Vec<Paper> = others.iter().enumerate().map(|(i, t)| paper(20 + i as u32, t)).collect();
    papers.push(liked.clone());
    site.store.upsert_papers(&papers).await.unwrap();
    let mut a = signed_in_admin(&site).await;

    // No signal yet: nothing to recommend, the trending papers as before.
    let cold = a.get("/admin/digest?format=text").await;
    assert_eq!(cold.status, StatusCode::OK);
    assert!(cold.body.contains("TRENDING") && !cold.body.contains("RECOMMENDED"), "{}", cold.body);

    let user = site.store.user_by_email(&Email::parse("root@example.org").unwrap()).await.unwrap().unwrap();
    site.store.set_vote(user.id, &liked.id, true).await.unwrap();
    let both = a.get("/admin/digest?format=text").await;
    let (rec, trend) = (both.body.find("RECOMMENDED FOR YOU"), both.body.find("TRENDING"));
    assert!(rec.is_some() && trend.is_some() && rec < trend, "both, recommendations first: {}", both.body);
    assert!(both.body.contains(&format!("Like: {}", liked.title)), "{}", both.body);
    let only = a.get("/admin/digest?content=recommended").await;
    assert!(only.body.contains("Recommended for you</h2>") && !only.body.contains("Trending</h2>"), "{}", only.body);
    assert!(only.body.contains("Sparse Mixture of Experts"), "the paper closest to the like: {}", only.body);
    let bad = a.get("/admin/digest?content=everything").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("content must be trending, recommended or both"), "{}", bad.body);
    assert!(site.sink.messages().is_empty(), "a preview sends nothing");
}

/// Signs up the admin `root` (root@example.org) and returns a browser logged in as them.
async fn signed_in_admin(site: &Server) -> Browser {
    use paperboy_core::Role;
    use paperboy_services::accounts::{self, SignUp};
    let admin = SignUp {
        username: "root",
        email: "root@example.org",
        password: "correct horse battery",
        role: Role::Admin,
        email_verified: true,
    };
    accounts::sign_up(&site.store, &admin).await.unwrap();
    let mut a = Browser::new(site);
    let csrf = a.get("/login").await.csrf();
    a.post("/login", &[("csrf", &csrf), ("username", "root"), ("password", "correct horse battery")]).await;
    a
}
