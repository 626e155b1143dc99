//! Upvote load benchmark: many members vote at once over the JSON API on
//! loopback, then every paper's count is checked against what the clients
//! did, so a lost or double-counted vote fails the run.
//!
//! The server is the real axum app over a fresh SQLite file, on its own
//! runtime (two worker threads); the clients are reqwest on another. Each
//! client is one member with a personal API token. Its script mixes first
//! upvotes, repeated upvotes (which must not count twice) and withdrawn
//! upvotes (`DELETE`), and it remembers what the final state of each of its
//! votes should be. In the same run the same clients then read papers
//! (`GET /api/papers/{id}`), so the write rate is reported next to the read
//! rate on the same machine at the same moment.
//!
//! ```sh
//! cargo run --release -p paperboy-web --example vote_bench -- [CLIENTS] [VOTES_PER_CLIENT] [PAPERS]
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use paperboy_core::{Email, PaperId, Role, Username};
use paperboy_store::Accounts;
use paperboy_store::{Catalog, NewUser, SqlStore};
use paperboy_test_support::synthetic;
use paperboy_web::{AppState, WebSettings};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What one client did: request latencies, and the final vote it expects
/// on each paper it touched.
struct ClientLog {
    latencies: Vec<Duration>,
    finals: HashMap<u32, bool>,
}

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let clients: u32 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(64);
    let per_client: u32 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(300);
    let papers: u32 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(400);

    let dir = tempfile::tempdir()?;
    let server_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;

    // Catalog, members and tokens, straight through the store.
    let (store, tokens) = server_rt.block_on(async {
        let store = Arc::new(SqlStore::open_sqlite(&dir.path().join("votes.db")).await?);
        store.upsert_papers(&synthetic::papers(papers).map_err(|e| e.to_string())?).await?;
        let hash = paperboy_services::accounts::hash_password("benchmark password").await?;
        let mut tokens = Vec::new();
        for c in 0..clients {
            let user = store
                .create_user(&NewUser {
                    username: Username::parse(&format!("voter{c}"))?,
                    email: Email::parse(&format!("voter{c}@example.org"))?,
                    password_hash: hash.clone(),
                    role: Role::Member,
                    email_verified: true,
                })
                .await?;
            let (_, secret) = store.create_api_token(user.id, "vote benchmark").await?;
            tokens.push(secret.as_str().to_string());
        }
        Ok::<_, BoxError>((store, tokens))
    })?;

    let listener = server_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState {
        cache: Arc::default(),
        store: store.clone(),
        config: Arc::new(WebSettings { base_url: base.clone(), ..WebSettings::default() }),
        search: None,
        mail: None,
        recs: paperboy_services::recommend::RecsService::new(None, Default::default()),
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = server_rt.spawn(paperboy_web::serve(listener, state, async {
        let _ = stop_rx.await;
    }));

    let http = reqwest::Client::builder().pool_max_idle_per_host(clients as usize).build()?;

    // Writes.
    let started = Instant::now();
    let logs: Vec<ClientLog> = client_rt.block_on(async {
        let tasks: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(c, token)| {
                tokio::spawn(vote_script(http.clone(), base.clone(), token.clone(), c as u32, per_client, papers))
            })
            .collect();
        let mut logs = Vec::new();
        for t in tasks {
            logs.push(t.await??);
        }
        Ok::<_, BoxError>(logs)
    })?;
    let write_secs = started.elapsed().as_secs_f64();
    let mut write_lat: Vec<Duration> = logs.iter().flat_map(|l| l.latencies.iter().copied()).collect();

    // Reads, by the same clients, as many requests.
    let started = Instant::now();
    let read_lat: Vec<Duration> = client_rt.block_on(async {
        let tasks: Vec<_> = (0..clients)
            .map(|c| tokio::spawn(read_script(http.clone(), base.clone(), c, per_client, papers)))
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        Ok::<_, BoxError>(all)
    })?;
    let read_secs = started.elapsed().as_secs_f64();

    // The count check: each paper's upvotes equal the clients' final votes.
    let mut expected = vec![0i64; papers as usize];
    for log in &logs {
        for (&paper, &voted) in &log.finals {
            expected[paper as usize] += i64::from(voted);
        }
    }
    let mismatches = server_rt.block_on(async {
        let mut bad = Vec::new();
        for (i, want) in expected.iter().enumerate() {
            let id = paper_id(i as u32)?;
            let got = store.get_paper(&id).await?.map_or(-1, |p| p.upvotes);
            if got != *want {
                bad.push(format!("{id}: expected {want}, stored {got}"));
            }
        }
        Ok::<_, BoxError>(bad)
    })?;
    let _ = stop_tx.send(());
    server_rt.block_on(server)??;

    let writes = write_lat.len();
    let votes: i64 = expected.iter().sum();
    println!(
        "| clients | requests | upvote requests/s | p50 | p99 | reads/s (same clients) | writes/reads | final votes | count check |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {clients} | {writes} | {:.0} | {} | {} | {:.0} | {:.2} | {votes} | {} |",
        writes as f64 / write_secs,
        ms(percentile(&mut write_lat, 0.50)),
        ms(percentile(&mut write_lat, 0.99)),
        read_lat.len() as f64 / read_secs,
        (writes as f64 / write_secs) / (read_lat.len() as f64 / read_secs),
        if mismatches.is_empty() {
            "ok: none lost, none doubled".to_string()
        } else {
            format!("{} papers wrong", mismatches.len())
        },
    );
    if !mismatches.is_empty() {
        for m in mismatches.iter().take(10) {
            eprintln!("{m}");
        }
        return Err(format!("{} papers have the wrong upvote count", mismatches.len()).into());
    }
    Ok(())
}

/// One member's requests: walk papers in a member-specific order; every
/// fifth step repeats an earlier upvote (must not count twice) and every
/// seventh takes one back. Checks every answer.
async fn vote_script(
    http: reqwest::Client,
    base: String,
    token: String,
    client: u32,
    steps: u32,
    papers: u32,
) -> Result<ClientLog, BoxError> {
    let mut log = ClientLog { latencies: Vec::with_capacity(steps as usize), finals: HashMap::new() };
    let stride = 7 + 2 * (client % 13); // odd, so walks cover many papers
    let mut next = client * 31 % papers;
    for step in 0..steps {
        let (paper, up) = if step % 7 == 6 && step > 0 {
            ((next + papers - stride % papers) % papers, false)
        } else if step % 5 == 4 {
            ((next + papers - stride % papers) % papers, true)
        } else {
            next = (next + stride) % papers;
            (next, true)
        };
        let url = format!("{base}/api/papers/{}/upvote", paper_id(paper)?);
        let req = if up { http.post(&url) } else { http.delete(&url) };
        let t = Instant::now();
        let resp = req.bearer_auth(&token).send().await?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await?;
        log.latencies.push(t.elapsed());
        if !status.is_success() || body["voted"] != serde_json::Value::Bool(up) {
            return Err(format!("client {client}: {url} answered {status}: {body}").into());
        }
        log.finals.insert(paper, up);
    }
    Ok(log)
}

async fn read_script(
    http: reqwest::Client,
    base: String,
    client: u32,
    steps: u32,
    papers: u32,
) -> Result<Vec<Duration>, BoxError> {
    let mut latencies = Vec::with_capacity(steps as usize);
    for step in 0..steps {
        let url = format!("{base}/api/papers/{}", paper_id((client * 31 + step * 7) % papers)?);
        let t = Instant::now();
        let resp = http.get(&url).send().await?;
        let status = resp.status();
        let _ = resp.bytes().await?;
        latencies.push(t.elapsed());
        if !status.is_success() {
            return Err(format!("{url} answered {status}").into());
        }
    }
    Ok(latencies)
}

fn paper_id(i: u32) -> Result<PaperId, BoxError> {
    Ok(PaperId::parse(&format!("2601.{:05}", i + 1))?)
}

fn percentile(v: &mut [Duration], q: f64) -> Duration {
    v.sort_unstable();
    v.get(((v.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
