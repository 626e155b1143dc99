//! `/admin/harvest` on the real server over a real SQLite file: an admin sees
//! who holds the harvest lease and the recorded runs (status, counts, last
//! error, checkpoint), a member gets 403, a visitor is redirected to the
//! login page.

use crate::common;

use chrono::{Duration, Utc};
use common::Launch;
use paperboy_core::Role;
use paperboy_services::accounts::{self, SignUp};
use paperboy_store::Accounts;
use paperboy_store::{Coordination, HarvestArgs, HarvestCounts, HarvestTrigger, Harvests, SqlStore};
use reqwest::StatusCode;

const PW: &str = "correct horse battery";

async fn session_cookie(store: &SqlStore, name: &str, role: Role) -> String {
    let form =
        SignUp { username: name, email: &format!("{name}@example.org"), password: PW, role, email_verified: true };
    let user = accounts::sign_up(store, &form).await.unwrap();
    let session = store.create_session(user.id, Utc::now() + Duration::days(1)).await.unwrap();
    format!("pb_session={}", session.token.as_str())
}

#[tokio::test]
async fn only_admins_see_the_harvest_log() {
    let (dir, store) = common::sqlite().await;
    let args = HarvestArgs {
        base_url: "http://127.0.0.1:9/oai".into(),
        metadata_prefix: "arXivRaw".into(),
        set: Some("cs".into()),
        from: None,
        until: None,
    };
    let done = store.start_harvest(&args, HarvestTrigger::Schedule, true).await.unwrap();
    let counts = HarvestCounts { records: 1000, inserted: 812, updated: 7, ..Default::default() };
    store.record_harvest_page(done.id, &counts, None, Some(1000)).await.unwrap();
    store.finish_harvest(done.id, None).await.unwrap();
    let failed = store.start_harvest(&HarvestArgs { set: None, ..args }, HarvestTrigger::Manual, true).await.unwrap();
    store.record_harvest_page(failed.id, &HarvestCounts::default(), Some("tok|1000"), None).await.unwrap();
    store.finish_harvest(failed.id, Some("page 2: <not well-formed>")).await.unwrap();
    let admin = session_cookie(&store, "carol", Role::Admin).await;
    let member = session_cookie(&store, "alice", Role::Member).await;
    let lease = store.acquire_lease("harvest", "db1:4242:0badcafe", std::time::Duration::from_secs(600)).await.unwrap();
    assert!(lease.is_held_by("db1:4242:0badcafe"));

    let s = Launch::bind().await.keep(dir).serve(store);
    let (client, url) = (&s.client, s.url("/admin/harvest"));

    let r = client.get(&url).header("cookie", &admin).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(body.contains("arXiv harvests"));
    assert!(body.contains("completed") && body.contains("schedule") && body.contains("812"), "{body}");
    assert!(body.contains("failed") && body.contains("page 2: &lt;not well-formed&gt;"), "escaped error: {body}");
    assert!(body.contains("tok|1000"), "the checkpoint is shown");
    assert!(body.contains("Harvesting now: <code>db1:4242:0badcafe</code>"), "the lease holder is shown: {body}");
    s.store.release_lease("harvest", "db1:4242:0badcafe").await.unwrap();
    let body = client.get(&url).header("cookie", &admin).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("No harvest is running."), "{body}");

    let r = client.get(&url).header("cookie", &member).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!r.text().await.unwrap().contains("812"));

    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "a visitor is sent to log in");
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(location.starts_with("/login"), "{location}");
}
