//! STARTTLS and implicit TLS against a real TLS server (the aiosmtpd sink
//! with the test certificate of tests/fixtures/smtp, signed by a test CA):
//! with the CA as `ca_file` a message and a digest are delivered; without
//! it the certificate is refused, nothing is delivered, and the failure
//! says why and is retried later rather than counted as a bounce.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use paperboy_core::{Email, Paper, PaperId};
use paperboy_mail::{DeliverySettings, DigestBuilder, Mailer, Period, Postman, Security, SendError, Signer, Site};
use paperboy_store::{Catalog, Frequency, Mailing, SqlStore};
use paperboy_test_support::smtp::{Sink, SinkTls, smtp_settings, test_ca_file};

fn from() -> lettre::message::Mailbox {
    paperboy_mail::message::sender("Paperboy", "digest@example.org").unwrap()
}

fn message(id: &str) -> String {
    format!(
        "From: Paperboy <digest@example.org>\r\nTo: ada@example.org\r\nSubject: TLS check\r\n\
         Message-ID: {id}\r\n\r\nThis went over TLS.\r\n.starts with a dot\r\n"
    )
}

/// Two messages over one connection (the second reuses the pooled one),
/// each received exactly once and exactly as sent.
async fn delivers_with_the_test_ca(mode: SinkTls, security: Security) {
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::with_tls(&dir.path().join("sink"), mode) else { return };
    let mailer = Mailer::new(&smtp_settings(sink.port, security, Some(test_ca_file())), &from()).unwrap();
    let ids = [format!("<tls-{mode:?}-1@example.org>"), format!("<tls-{mode:?}-2@example.org>")];
    for id in &ids {
        mailer.send_raw("ada@example.org", message(id).as_bytes()).await.unwrap();
    }
    sink.wait_for(2, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(200));
    let got = sink.messages();
    assert_eq!(got.len(), 2, "exactly the two messages: {got:?}");
    for (m, id) in got.iter().zip(&ids) {
        assert_eq!(m.rcpt, "ada@example.org");
        assert_eq!(m.header("Message-ID").as_deref(), Some(id.as_str()));
        // lettre ends the data with CRLF . CRLF after the message's own CRLF.
        assert_eq!(m.raw.trim_end_matches("\r\n"), message(id).trim_end_matches("\r\n"), "the message as sent");
    }
}

/// The sink's certificate is not signed by a built-in root: refused, a
/// temporary failure (the operator can fix the setting; no bounce), whose
/// text names the certificate problem, and nothing arrives.
async fn refuses_an_untrusted_certificate(mode: SinkTls, security: Security) {
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::with_tls(&dir.path().join("sink"), mode) else { return };
    let mailer = Mailer::new(&smtp_settings(sink.port, security, None), &from()).unwrap();
    let r = mailer.send_raw("ada@example.org", message("<untrusted@example.org>").as_bytes()).await;
    let Err(SendError::Temporary(text)) = r else { panic!("expected a temporary failure, got {r:?}") };
    eprintln!("refused as expected: {text}");
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("certificate") && lower.contains("unknownissuer"), "{text}");
    assert!(text.contains("smtp_ca_file"), "the operator is told what to set: {text}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(sink.messages().is_empty(), "nothing delivered");
}

#[tokio::test]
async fn starttls_with_the_test_ca_delivers_exactly_the_message() {
    delivers_with_the_test_ca(SinkTls::StartTls, Security::StartTls).await;
}

#[tokio::test]
async fn implicit_tls_with_the_test_ca_delivers_exactly_the_message() {
    delivers_with_the_test_ca(SinkTls::Implicit, Security::Tls).await;
}

#[tokio::test]
async fn starttls_without_the_ca_refuses_the_certificate() {
    refuses_an_untrusted_certificate(SinkTls::StartTls, Security::StartTls).await;
}

#[tokio::test]
async fn implicit_tls_without_the_ca_refuses_the_certificate() {
    refuses_an_untrusted_certificate(SinkTls::Implicit, Security::Tls).await;
}

#[tokio::test]
async fn the_test_certificate_also_names_localhost() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::with_tls(&dir.path().join("sink"), SinkTls::Implicit) else { return };
    let mut smtp = smtp_settings(sink.port, Security::Tls, Some(test_ca_file()));
    smtp.host = "localhost".into();
    let mailer = Mailer::new(&smtp, &from()).unwrap();
    mailer.send_raw("ada@example.org", message("<localhost@example.org>").as_bytes()).await.unwrap();
    let got = sink.wait_for(1, Duration::from_secs(5));
    assert_eq!(got[0].header("Message-ID").as_deref(), Some("<localhost@example.org>"));
}

#[tokio::test]
async fn a_bad_ca_file_is_a_config_error_naming_it() {
    let missing = std::env::temp_dir().join("paperboy-no-such-dir/relay-ca.pem");
    let e = Mailer::new(&smtp_settings(465, Security::Tls, Some(missing.clone())), &from()).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, paperboy_mail::MailError::Config(_)), "{e:?}");
    assert!(text.contains(&missing.display().to_string()) && text.contains("smtp_ca_file"), "{text}");
}

/// A whole digest through the outbox: without the CA it waits (pending, no
/// bounce); once the CA is configured the same digest goes out once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_waits_for_the_ca_then_goes_out_over_starttls() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::with_tls(&dir.path().join("sink"), SinkTls::StartTls) else { return };
    let store = SqlStore::open_sqlite(&dir.path().join("paperboy.db")).await.unwrap();
    let today = Utc::now().date_naive();
    let mut paper = Paper::new(PaperId::parse("2611.00001").unwrap(), "Diffusion over TLS", today);
    paper.abstract_text = "We study diffusion models. ".repeat(5);
    paper.categories = vec!["cs.LG".into()];
    paper.normalize();
    store.upsert_papers(&[paper]).await.unwrap();
    let sub = store.subscribe(&Email::parse("ada@example.org").unwrap(), None).await.unwrap();
    store.confirm_subscriber(sub.id).await.unwrap();
    let site =
        Site { name: "Paperboy".into(), base_url: "http://127.0.0.1:9".into(), from: from(), tz: chrono_tz::UTC };
    let db: Arc<dyn paperboy_store::Database> = Arc::new(store.clone());
    let builder = DigestBuilder { db, search: None, picks: None, signer: Signer::random().unwrap(), site };
    let delivery =
        DeliverySettings { retry_base: Duration::from_millis(300), per_second: 100.0, ..DeliverySettings::default() };
    let postman = |ca_file: Option<PathBuf>| {
        let mailer = Mailer::new(&smtp_settings(sink.port, Security::StartTls, ca_file), &builder.site.from).unwrap();
        Postman::new(builder.clone(), mailer, delivery.clone())
    };

    let period = Period::at(Frequency::Daily, Utc::now(), chrono_tz::UTC);
    assert_eq!(builder.build_period(&period, None, false).await.unwrap().built, 1);
    let r = postman(None).deliver_now().await.unwrap();
    assert_eq!((r.sent, r.retrying, r.failed), (0, 1, 0), "{r:?}");
    assert_eq!(store.outbox_counts().await.unwrap().pending, 1);
    let ada = store.subscriber(sub.id).await.unwrap().unwrap();
    assert_eq!(ada.bounces, 0, "a certificate problem is not the subscriber's bounce");

    tokio::time::sleep(Duration::from_millis(400)).await;
    let r = postman(Some(test_ca_file())).deliver_now().await.unwrap();
    assert_eq!((r.sent, r.retrying, r.failed), (1, 0, 0), "{r:?}");
    let got = sink.wait_for(1, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(sink.messages().len(), 1, "exactly one mail");
    assert_eq!(got[0].rcpt, "ada@example.org");
    let id = got[0].header("Message-ID").unwrap();
    assert!(id.starts_with(&format!("<paperboy.daily.{}.", period.key)), "{id}");
    assert!(got[0].part("text/plain").unwrap().contains("Diffusion over TLS"));
    let c = store.outbox_counts().await.unwrap();
    assert_eq!((c.sent, c.pending, c.failed), (1, 0, 0));
}
