//! `paperboy serve` with an SMTP server configured (the aiosmtpd sink): the
//! subscribe box is on the pages, the confirmation mail goes out and its
//! link works against the running server, and the digest scheduler catches
//! up on a digest time that has just passed (on weekdays, when daily
//! digests are due).

use crate::common;

use std::time::Duration;

use chrono::{Datelike, Timelike, Utc, Weekday};
use paperboy_core::{Email, Paper, PaperId};
use paperboy_store::{Catalog, Mailing, SqlStore};
use paperboy_test_support::smtp::Sink;

fn prepare(data: &std::path::Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        std::fs::create_dir_all(data).unwrap();
        let store = SqlStore::open_sqlite(&data.join("paperboy.db")).await.unwrap();
        let mut p = Paper::new(PaperId::parse("2611.00042").unwrap(), "Scheduling digests", Utc::now().date_naive());
        p.authors = vec!["Ada Lovelace".into()];
        p.abstract_text = "We send mail on time.".into();
        p.version = Some(1);
        p.normalize();
        store.upsert_papers(&[p]).await.unwrap();
        for i in 0..3 {
            let s = store.subscribe(&Email::parse(&format!("d{i}@example.org")).unwrap(), None).await.unwrap();
            store.confirm_subscriber(s.id).await.unwrap();
        }
    });
}

#[test]
fn serve_mails_confirmations_and_catches_up_on_due_digests() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::started(&dir.path().join("sink")) else { return };
    let data = tempfile::tempdir().unwrap();
    prepare(data.path());
    let now = Utc::now();
    // Two minutes ago (a run just before midnight would wrap to tomorrow: no catch-up then).
    let just_passed = now - chrono::Duration::minutes(2);
    let due_today =
        just_passed.date_naive() == now.date_naive() && !matches!(now.weekday(), Weekday::Sat | Weekday::Sun);
    let at = format!("{:02}:{:02}", just_passed.hour(), just_passed.minute());
    let port = sink.port.to_string();
    let server = common::Server::start_with(
        "serve",
        data,
        &[
            ("PAPERBOY_SMTP_HOST", "127.0.0.1"),
            ("PAPERBOY_SMTP_PORT", &port),
            ("PAPERBOY_SMTP_SECURITY", "plain"),
            ("PAPERBOY_MAIL_TIME_ZONE", "UTC"),
            ("PAPERBOY_MAIL_DIGEST_TIME", &at),
            ("PAPERBOY_MAIL_RATE", "50"),
        ],
    );
    if due_today {
        let mails = sink.wait_for(3, Duration::from_secs(30));
        let daily: Vec<_> = mails
            .iter()
            .filter(|m| m.header("Message-ID").unwrap_or_default().starts_with("<paperboy.daily."))
            .collect();
        assert_eq!(daily.len(), 3, "the daily digest went out at start-up");
        assert!(daily.iter().all(|m| m.part("text/plain").unwrap().contains("Scheduling digests")));
    }
    let before = sink.messages().len();

    let client = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let home = client.get(server.url("/")).send().unwrap().text().unwrap();
    assert!(home.contains("Get trending papers in your email inbox"));
    let form = client.get(server.url("/subscribe?email=new%40example.org")).send().unwrap();
    let cookie = form.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let body = form.text().unwrap();
    let at = body.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let csrf = &body[at..at + body[at..].find('"').unwrap()];
    let r = client
        .post(server.url("/subscribe"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf), ("email", "new@example.org")])
        .send()
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let mails = sink.wait_for(before + 1, Duration::from_secs(30));
    let confirm = mails.iter().find(|m| m.rcpt == "new@example.org").expect("confirmation mail");
    let link = confirm.links(&server.base, "subscribe/confirm/").pop().expect("a confirm link");
    let page = client.get(&link).send().unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    assert!(page.text().unwrap().contains("You are subscribed"));
}
