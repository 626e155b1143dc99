//! A build where one subscriber's digest fails: the others are built and
//! sent all the same, the failure is counted, and the next build makes only
//! the missing digest, so every subscriber still gets exactly one. The
//! failure is real: a trigger in the SQLite database refuses the outbox
//! insert for one recipient (as a full disk or a dropped connection would
//! refuse it), then is dropped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use paperboy_core::{Email, Paper, PaperId};
use paperboy_mail::{DeliverySettings, DigestBuilder, Mailer, Period, Postman, Security, Signer, Site};
use paperboy_store::{Catalog, Frequency, Mailing, SqlStore};
use paperboy_test_support::smtp::{Sink, smtp_settings};

const READERS: usize = 5;
const REFUSED: &str = "reader2@example.org";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failed_digest_does_not_stop_the_others_and_is_built_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::started(&dir.path().join("sink")) else { return };
    let db_path = dir.path().join("paperboy.db");
    let store = SqlStore::open_sqlite(&db_path).await.unwrap();
    let mut p = Paper::new(PaperId::parse("2611.00001").unwrap(), "Diffusion for proteins", Utc::now().date_naive());
    p.abstract_text = "We study diffusion models for protein design. ".repeat(5);
    p.version = Some(1);
    p.normalize();
    store.upsert_papers(&[p]).await.unwrap();
    for i in 0..READERS {
        let s = store.subscribe(&Email::parse(&format!("reader{i}@example.org")).unwrap(), None).await.unwrap();
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
    let mailer = Mailer::new(&smtp_settings(sink.port, Security::Plain, None), &builder.site.from).unwrap();
    let delivery = DeliverySettings { per_second: 200.0, ..DeliverySettings::default() };
    let postman = Postman::new(builder, mailer, delivery);

    let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", db_path.display())).await.unwrap();
    sqlx::query(&format!(
        "CREATE TRIGGER refuse_one BEFORE INSERT ON outbox WHEN NEW.recipient = '{REFUSED}' \
         BEGIN SELECT RAISE(ABORT, 'disk I/O error (injected)'); END"
    ))
    .execute(&raw)
    .await
    .unwrap();

    let period = Period::at(Frequency::Daily, Utc::now(), chrono_tz::UTC);
    let first = postman.builder.build_period(&period, None, false).await.unwrap();
    assert_eq!((first.built, first.failed), (READERS as u64 - 1, 1), "the readers after the failed one too");
    postman.deliver_now().await.unwrap();
    let mails = sink.wait_for(READERS - 1, Duration::from_secs(10));
    assert!(!mails.iter().any(|m| m.rcpt == REFUSED));

    sqlx::query("DROP TRIGGER refuse_one").execute(&raw).await.unwrap();
    let second = postman.builder.build_period(&period, None, false).await.unwrap();
    assert_eq!((second.built, second.already_there, second.failed), (1, 0, 0), "only the missing digest");
    postman.deliver_now().await.unwrap();
    let mails = sink.wait_for(READERS, Duration::from_secs(10));
    let mut per_rcpt: HashMap<String, usize> = HashMap::new();
    for m in &mails {
        *per_rcpt.entry(m.rcpt.clone()).or_default() += 1;
    }
    assert_eq!(per_rcpt.len(), READERS);
    assert!(per_rcpt.values().all(|n| *n == 1), "{per_rcpt:?}");
    let third = postman.builder.build_period(&period, None, false).await.unwrap();
    assert_eq!((third.built, third.failed), (0, 0), "nothing left to build");
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.sent, counts.pending, counts.failed), (READERS as u64, 0, 0));
}
