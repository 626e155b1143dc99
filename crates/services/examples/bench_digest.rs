//! Benchmark: build and deliver personalised digests (each subscriber with
//! two saved searches) to a local SMTP sink, and say where the time goes:
//! search, rendering, the store, SMTP. With `--members M`, the first M
//! subscribers are members who upvoted five papers and asked for
//! recommendations beside the trending papers (their picks count as search
//! time). `bench/digest.sh` starts the sink and runs this; see
//! docs/BENCHMARKS.md.
//!
//! usage: bench_digest --port PORT [--subscribers 10000] [--papers 3000] [--members 0]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use paperboy_core::{Email, Paper, PaperId, Role, Username};
use paperboy_mail::{DeliverySettings, DigestBuilder, Mailer, Period, Postman, Security, Signer, Site, SmtpSettings};
use paperboy_search::SearchEngine;
use paperboy_services::jobs::digest::HybridMatcher;
use paperboy_services::jobs::picks::RecsPicks;
use paperboy_services::recommend::RecsService;
use paperboy_store::{Accounts, Catalog, Community, DigestContent, Frequency, Mailing, NewUser, SqlStore};

const TOPICS: &[&str] = &[
    "diffusion",
    "transformer",
    "reinforcement learning",
    "graph neural network",
    "protein folding",
    "language model",
    "robot navigation",
    "speech recognition",
    "federated learning",
    "mixture of experts",
    "contrastive learning",
    "optical flow",
    "quantum error correction",
    "causal inference",
    "image segmentation",
];

fn arg(name: &str, default: u32) -> u32 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = arg("--port", 0);
    if port == 0 {
        return Err("give --port of a running SMTP sink (bench/digest.sh starts one)".into());
    }
    let subscribers = arg("--subscribers", 10_000);
    let n_papers = arg("--papers", 3_000);
    let members = arg("--members", 0).min(subscribers);
    let dir = tempfile::tempdir()?;
    let store = SqlStore::open_sqlite(&dir.path().join("paperboy.db")).await?;
    let today = Utc::now().date_naive();
    let since = today - chrono::Days::new(3);
    let papers: Vec<Paper> = (0..n_papers)
        .map(|i| {
            let day = since + chrono::Days::new(u64::from(i % 4));
            let topic = TOPICS[i as usize % TOPICS.len()];
            let other = TOPICS[(i as usize * 7 + 3) % TOPICS.len()];
            let mut p = Paper::new(
                PaperId::parse(&format!("2611.{:05}", i + 1))?,
                format!("On {topic} and {other}, part {i}"),
                day,
            );
            p.authors = (0..5).map(|a| format!("Author{a} Surname{i}")).collect();
            p.abstract_text = format!("We study {topic} with ideas from {other}. ").repeat(12);
            p.categories = vec!["cs.LG".into()];
            p.version = Some(1);
            p.normalize();
            Ok(p)
        })
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    store.upsert_papers(&papers).await?;
    let engine = Arc::new(SearchEngine::open(&dir.path().join("index"), None)?);
    engine.index_papers(&papers)?;
    let t = Instant::now();
    for i in 0..subscribers {
        let email = Email::parse(&format!("reader{i}@example.org"))?;
        let user = if i < members {
            let user = store
                .create_user(&NewUser {
                    username: Username::parse(&format!("reader{i}"))?,
                    email: email.clone(),
                    password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash".into(),
                    role: Role::Member,
                    email_verified: true,
                })
                .await?;
            // Five papers on one topic (papers cycle through the topics).
            for k in 0..5u32 {
                let n = (i + k * TOPICS.len() as u32) % n_papers;
                store.set_vote(user.id, &papers[n as usize].id, true).await?;
            }
            Some(user.id)
        } else {
            None
        };
        let s = store.subscribe(&email, user).await?;
        store.confirm_subscriber(s.id).await?;
        if user.is_some() {
            store.set_digest_content(s.id, DigestContent::Both).await?;
        }
        store.add_saved_search(s.id, TOPICS[i as usize % TOPICS.len()]).await?;
        store.add_saved_search(s.id, TOPICS[(i as usize + 5) % TOPICS.len()]).await?;
    }
    eprintln!(
        "set up {n_papers} papers and {subscribers} subscribers ({members} members with recommendations) in {:.1?}",
        t.elapsed()
    );

    let db: Arc<dyn paperboy_store::Database> = Arc::new(store.clone());
    let site = Site {
        name: "Paperboy".into(),
        base_url: "https://papers.example.org".into(),
        from: paperboy_mail::message::sender("Paperboy", "digest@papers.example.org")?,
        tz: chrono_tz::UTC,
    };
    let recs = RecsService::new(Some(Arc::clone(&engine)), Default::default());
    let picks: Arc<dyn paperboy_mail::PersonalPicks> = Arc::new(RecsPicks::new(recs, Arc::clone(&db)));
    let search: Arc<dyn paperboy_mail::SavedSearchMatcher> = Arc::new(HybridMatcher(engine));
    let builder = DigestBuilder { db, search: Some(search), picks: Some(picks), signer: Signer::random()?, site };
    let smtp = SmtpSettings {
        host: "127.0.0.1".into(),
        port: u16::try_from(port)?,
        security: Security::Plain,
        username: None,
        password: None,
        timeout: Duration::from_secs(30),
        ca_file: None,
    };
    let mailer = Mailer::new(&smtp, &builder.site.from)?;
    let delivery = DeliverySettings { per_second: 1_000_000.0, batch: 200, ..DeliverySettings::default() };
    let postman = Postman::new(builder, mailer, delivery);
    let period = Period::at(Frequency::Daily, Utc::now(), chrono_tz::UTC);

    let t = Instant::now();
    let built = postman.builder.build_period(&period, None, false).await?;
    let build_time = t.elapsed();
    let t = Instant::now();
    let sent = postman.deliver_now().await?;
    let send_time = t.elapsed();
    let total = build_time + send_time;
    let counts = store.outbox_counts().await?;
    println!(
        "digests built: {} (empty: {}, not built: {}), sent: {}, outbox sent: {}",
        built.built, built.empty, built.failed, sent.sent, counts.sent
    );
    println!(
        "build: {:.1} s (search {:.1} s, render {:.1} s, store {:.1} s); deliver: {:.1} s (SMTP {:.1} s)",
        build_time.as_secs_f64(),
        built.search_time.as_secs_f64(),
        built.render_time.as_secs_f64(),
        built.store_time.as_secs_f64(),
        send_time.as_secs_f64(),
        sent.smtp_time.as_secs_f64()
    );
    println!(
        "end to end: {:.1} s, {:.0} messages/s (build {:.0}/s, deliver {:.0}/s)",
        total.as_secs_f64(),
        sent.sent as f64 / total.as_secs_f64(),
        built.built as f64 / build_time.as_secs_f64(),
        sent.sent as f64 / send_time.as_secs_f64()
    );
    Ok(())
}
