//! `paperboy digest run` as a real process against the aiosmtpd sink:
//! killed with SIGKILL in the middle of a run and started again, every
//! subscriber ends up with exactly one digest (one Message-ID each; at most
//! the mails in flight re-sent, from the documented window between the server's
//! acceptance and the outbox update); and the command's refusals and dry run.

use crate::common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use paperboy_core::{Email, Paper, PaperId};
use paperboy_store::{Catalog, Frequency, Mailing, SqlStore};
use paperboy_test_support::smtp::Sink;

const SUBSCRIBERS: usize = 40;

fn paper(n: u32, title: &str) -> Paper {
    let mut p = Paper::new(PaperId::parse(&format!("2611.{n:05}")).unwrap(), title, Utc::now().date_naive());
    p.authors = vec!["Ada Lovelace".into()];
    p.abstract_text = format!("We study {title}. ").repeat(8);
    p.categories = vec!["cs.LG".into()];
    p.version = Some(1);
    p.normalize();
    p
}

/// A catalog with papers listed today and confirmed subscribers.
fn prepare(data: &Path, weekly: usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        std::fs::create_dir_all(data).unwrap();
        let store = SqlStore::open_sqlite(&data.join("paperboy.db")).await.unwrap();
        store
            .upsert_papers(&[paper(1, "Diffusion models for proteins"), paper(2, "Mixture of experts at scale")])
            .await
            .unwrap();
        for i in 0..SUBSCRIBERS + weekly {
            let s = store.subscribe(&Email::parse(&format!("r{i}@example.org")).unwrap(), None).await.unwrap();
            store.confirm_subscriber(s.id).await.unwrap();
            if i >= SUBSCRIBERS {
                store.update_subscription(s.id, Frequency::Weekly, &[]).await.unwrap();
            } else if i % 4 == 0 {
                store.add_saved_search(s.id, "diffusion").await.unwrap();
            }
        }
    });
}

fn digest_cmd(data: &Path, port: u16, extra: &[&str]) -> Command {
    let mut c = Command::new(common::bin());
    c.arg("--data-dir")
        .arg(data)
        .args(["digest", "run"])
        .args(extra)
        .env_remove("PAPERBOY_CONFIG")
        .env("PAPERBOY_SMTP_HOST", "127.0.0.1")
        .env("PAPERBOY_SMTP_PORT", port.to_string())
        .env("PAPERBOY_SMTP_SECURITY", "plain")
        .env("PAPERBOY_MAIL_RATE", "10")
        .env("PAPERBOY_MAIL_LEASE_SECS", "2")
        .env("PAPERBOY_MAIL_RETRY_SECS", "1")
        .env("PAPERBOY_MAIL_TIME_ZONE", "UTC")
        .env("PAPERBOY_BASE_URL", "http://127.0.0.1:9");
    c
}

#[test]
fn killed_mid_run_and_restarted_every_subscriber_gets_exactly_one_digest() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let Some(sink) = Sink::started(&dir.path().join("sink")) else { return };
    prepare(&data, 0);

    let mut child = digest_cmd(&data, sink.port, &["--period", "daily"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while sink.messages().len() < 8 {
        assert!(start.elapsed() < Duration::from_secs(120), "the run sent nothing");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = sink.messages().len();
    assert!(before < SUBSCRIBERS, "killed in the middle ({before} sent)");

    // The dead run's leases (2 s) run out; the new run finishes the job.
    std::thread::sleep(Duration::from_millis(2500));
    let out = digest_cmd(&data, sink.port, &["--period", "daily"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("queued: 0"), "the restart builds nothing new: {stdout}");

    let mails = sink.messages();
    let mut by_id: HashMap<String, Vec<String>> = HashMap::new();
    for m in &mails {
        by_id.entry(m.header("Message-ID").unwrap()).or_default().push(m.rcpt.clone());
    }
    assert_eq!(by_id.len(), SUBSCRIBERS, "one digest per subscriber, none missing");
    let mut rcpts: Vec<&String> = by_id.values().map(|v| &v[0]).collect();
    rcpts.sort();
    rcpts.dedup();
    assert_eq!(rcpts.len(), SUBSCRIBERS);
    for copies in by_id.values() {
        assert!(copies.iter().all(|r| r == &copies[0]), "a Message-ID belongs to one subscriber");
    }
    let resent = mails.len() - by_id.len();
    // The sender has up to 4 messages in flight (DeliverySettings::concurrency).
    assert!(resent <= 4, "at most the mails in flight at the kill are re-sent, got {resent}");
    // Saved searches made their own section.
    let with_search = mails.iter().find(|m| m.rcpt == "r0@example.org").unwrap();
    assert!(with_search.part("text/plain").unwrap().contains("YOUR SEARCH: DIFFUSION"));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let counts = rt.block_on(async {
        SqlStore::open_sqlite(&data.join("paperboy.db")).await.unwrap().outbox_counts().await.unwrap()
    });
    assert_eq!((counts.sent, counts.pending, counts.failed), (SUBSCRIBERS as u64, 0, 0));
}

#[test]
fn dry_run_sends_nothing_and_refusals_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    prepare(&data, 3);
    // Without SMTP: a dry run works, a real run says how to configure it.
    let dry = common::run(&data, &["digest", "run", "--period", "weekly", "--dry-run"]);
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    let stdout = String::from_utf8_lossy(&dry.stdout);
    assert!(stdout.contains("would be queued (dry run): 3"), "{stdout}");
    let real = common::run(&data, &["digest", "run", "--period", "daily"]);
    assert!(!real.status.success());
    assert!(String::from_utf8_lossy(&real.stderr).contains("PAPERBOY_SMTP_HOST"));
    let bad = common::run(&data, &["digest", "run", "--period", "daily", "--dry-run", "--to", "nobody"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not an email address"));
    let unknown = common::run(&data, &["digest", "run", "--period", "daily", "--dry-run", "--to", "x@example.org"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no confirmed, active daily subscription"));
    let hourly = common::run(&data, &["digest", "run", "--period", "hourly"]);
    assert!(!hourly.status.success());
    // A CA file that is not there stops the run before anything is queued.
    let missing_ca = data.join("no-such-ca.pem");
    let bad_tls = std::process::Command::new(common::bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["digest", "run", "--period", "daily"])
        .env_remove("PAPERBOY_CONFIG")
        .env("PAPERBOY_SMTP_HOST", "127.0.0.1")
        .env("PAPERBOY_SMTP_SECURITY", "starttls")
        .env("PAPERBOY_SMTP_CA_FILE", &missing_ca)
        .output()
        .unwrap();
    assert!(!bad_tls.status.success());
    let stderr = String::from_utf8_lossy(&bad_tls.stderr);
    assert!(stderr.contains("no-such-ca.pem") && stderr.contains("smtp_ca_file"), "{stderr}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let counts = rt.block_on(async {
        SqlStore::open_sqlite(&data.join("paperboy.db")).await.unwrap().outbox_counts().await.unwrap()
    });
    assert_eq!(
        counts.sent + counts.pending + counts.failed,
        0,
        "a dry run, and a run with bad TLS settings, queue nothing"
    );
}
