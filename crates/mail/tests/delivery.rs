//! Delivery against a real SMTP server (the aiosmtpd sink): the server down
//! then up delivers every digest exactly once; 451 answers are retried with
//! backoff; 550 answers are recorded and pause a subscriber after three in
//! a row; a rerun of a period builds nothing new.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use paperboy_core::{Email, Paper, PaperId};
use paperboy_mail::{DeliverySettings, DigestBuilder, Mailer, Period, Postman, Security, Signer, Site};
use paperboy_store::{Catalog, Frequency, MailKind, Mailing, NewMail, SqlStore, SubscriberId};
use paperboy_test_support::smtp::{Sink, smtp_settings};

fn paper(n: u32, day: NaiveDate) -> Paper {
    let mut p =
        Paper::new(PaperId::parse(&format!("2611.{n:05}")).unwrap(), format!("Paper number {n} on diffusion"), day);
    p.authors = vec!["Ada Lovelace".into(), "Alan Turing".into()];
    p.abstract_text = "We study diffusion models and what they learn. ".repeat(10);
    p.categories = vec!["cs.LG".into()];
    p.version = Some(1);
    p.normalize();
    p
}

async fn setup(dir: &std::path::Path, port: u16, subscribers: usize) -> (SqlStore, Arc<Postman>) {
    let store = SqlStore::open_sqlite(&dir.join("paperboy.db")).await.unwrap();
    let today = Utc::now().date_naive();
    store.upsert_papers(&[paper(1, today), paper(2, today)]).await.unwrap();
    for i in 0..subscribers {
        let email = Email::parse(&format!("reader{i}@example.org")).unwrap();
        let s = store.subscribe(&email, None).await.unwrap();
        store.confirm_subscriber(s.id).await.unwrap();
    }
    let site = Site {
        name: "Paperboy".into(),
        base_url: "http://127.0.0.1:9".into(),
        from: paperboy_mail::message::sender("Paperboy", "digest@example.org").unwrap(),
        tz: chrono_tz::UTC,
    };
    let db: Arc<dyn paperboy_store::Database> = Arc::new(store.clone());
    let builder = DigestBuilder { db, search: None, picks: None, signer: Signer::random().unwrap(), site };
    let smtp = smtp_settings(port, Security::Plain, None);
    let mailer = Mailer::new(&smtp, &builder.site.from).unwrap();
    let delivery = DeliverySettings {
        retry_base: Duration::from_millis(300),
        per_second: 200.0,
        lease: Duration::from_secs(30),
        ..DeliverySettings::default()
    };
    (store, Arc::new(Postman::new(builder, mailer, delivery)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_down_then_up_delivers_every_digest_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut sink) = Sink::new(&dir.path().join("sink")) else { return };
    let (store, postman) = setup(dir.path(), sink.port, 6).await;
    let period = Period::at(Frequency::Daily, Utc::now(), chrono_tz::UTC);

    // The server is down: everything is built once and waits for a retry.
    let built = postman.builder.build_period(&period, None, false).await.unwrap();
    assert_eq!(built.built, 6);
    let r = postman.deliver_now().await.unwrap();
    assert_eq!((r.sent, r.retrying), (0, 6));
    assert_eq!(store.outbox_counts().await.unwrap().pending, 6);
    // A second build for the same period adds nothing.
    let again = postman.builder.build_period(&period, None, false).await.unwrap();
    assert_eq!(again.built, 0);

    // Up again: after the backoff, each digest goes out once.
    sink.start();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let r = postman.deliver_now().await.unwrap();
    assert_eq!(r.sent, 6, "{r:?}");
    let r = postman.deliver_now().await.unwrap();
    assert_eq!(r.sent, 0, "nothing is sent twice");
    let got = sink.wait_for(6, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(200));
    let got_now = sink.messages();
    assert_eq!(got_now.len(), 6, "exactly one mail each");
    let mut rcpts: Vec<_> = got.iter().map(|m| m.rcpt.clone()).collect();
    rcpts.sort();
    rcpts.dedup();
    assert_eq!(rcpts.len(), 6);
    for m in &got {
        let id = m.header("Message-ID").unwrap();
        assert!(id.starts_with(&format!("<paperboy.daily.{}.", period.key)), "{id}");
        assert!(m.header("List-Unsubscribe").unwrap().starts_with("<http://127.0.0.1:9/unsubscribe/u-"));
        assert_eq!(m.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
        let text = m.part("text/plain").unwrap();
        assert!(text.contains("Paper number 1 on diffusion"), "{text}");
        let html = m.part("text/html").unwrap();
        assert!(html.contains("Paper number 2 on diffusion") && html.contains("style="));
    }
    let c = store.outbox_counts().await.unwrap();
    assert_eq!((c.sent, c.pending, c.failed), (6, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_refusals_are_retried_and_permanent_ones_pause_after_three() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::started(&dir.path().join("sink")) else { return };
    let (store, postman) = setup(dir.path(), sink.port, 3).await;
    sink.refuse(&["reader0@example.org"], &["reader1@example.org"]);
    let period = Period::at(Frequency::Daily, Utc::now(), chrono_tz::UTC);
    postman.builder.build_period(&period, None, false).await.unwrap();
    let r = postman.deliver_now().await.unwrap();
    assert_eq!((r.sent, r.retrying, r.failed), (1, 1, 1), "{r:?}");

    // The 451 address recovers: delivered on the retry.
    sink.refuse(&[], &["reader1@example.org"]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(postman.deliver_now().await.unwrap().sent, 1);
    assert_eq!(sink.messages().iter().filter(|m| m.rcpt == "reader0@example.org").count(), 1);

    // Two more permanent failures for reader1 (other mails): paused at the third.
    let bouncer = store.subscriber_by_email(&Email::parse("reader1@example.org").unwrap()).await.unwrap().unwrap();
    assert_eq!(bouncer.bounces, 1);
    for key in ["x1", "x2"] {
        let mail = NewMail {
            subscriber: bouncer.id,
            kind: MailKind::Confirm,
            period_key: key.into(),
            recipient: "reader1@example.org".into(),
            message_id: format!("<{key}@example.org>"),
            message: "Subject: x\r\n\r\nx\r\n".into(),
        };
        assert!(store.enqueue_mail(&mail).await.unwrap());
        let r = postman.deliver_now().await.unwrap();
        assert_eq!(r.failed, 1);
    }
    let bouncer = store.subscriber(bouncer.id).await.unwrap().unwrap();
    assert!(bouncer.paused_at.is_some(), "paused after three bounces");
    assert!(!bouncer.is_active());
    // A paused subscriber gets no digest in the next period.
    let next =
        store.digest_candidates(Frequency::Daily, MailKind::Daily, "next-period", SubscriberId(0), 100).await.unwrap();
    assert!(next.iter().all(|s| s.id != bouncer.id));
    assert_eq!(next.len(), 2);
}
