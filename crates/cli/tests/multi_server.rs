//! Three `paperboy serve` processes (three data directories, three search
//! indexes) on ONE fresh PostgreSQL database, as real processes:
//!
//! 1. votes sent round-robin across the three servers by several members at
//!    once (repeated upvotes and take-backs included) add up: every paper's
//!    `upvotes`, read from each server, equals the count from the clients'
//!    final states;
//! 2. a paper imported through one server's data directory is found by
//!    keyword search on all three (each index follows the change feed; the
//!    import finds its server's index locked and leaves it to that follower);
//! 3. `paperboy digest run --period daily` started three times at once (one
//!    aiosmtpd sink) mails every confirmed subscriber exactly once: one run
//!    holds the digest lease and builds, the others wait and find the work
//!    done; the deliveries are shared between the runs and the servers'
//!    senders. Each run uses a server's data directory, as an operator on
//!    that machine would: it searches the server's index read-only;
//! 4. the signed links in those mails (made by the runs) open on every
//!    server: the signing key is shared through the database;
//! 5. a session made by logging in on one server works on the others;
//! 6. wrong passwords sent round-robin to the three servers meet one limit:
//!    the sixth attempt is refused (429) whichever server it reaches.
//!
//! Needs `PAPERBOY_TEST_PG_URL` (and `psql`) and `PAPERBOY_TEST_PYTHON` with
//! aiosmtpd: skipped with a message when missing, except under CI.

use crate::common;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use paperboy_core::{Email, Paper, PaperId};
use paperboy_store::{Catalog, Mailing, SqlStore};
use paperboy_test_support::db::PgDatabase;
use paperboy_test_support::smtp::Sink;
use reqwest::blocking::Client;
use reqwest::redirect::Policy;

use common::{Server, bin};

/// Papers voted on (and listed today, for the digest).
const PAPERS: u32 = 6;
/// Members voting at the same time, one thread and one API token each.
const VOTERS: usize = 8;
/// Vote requests per member.
const VOTES_EACH: usize = 40;
/// Confirmed daily subscribers.
const SUBSCRIBERS: usize = 150;
const PASSWORD: &str = "a long enough password";

fn paperboy(data_dir: &Path, url: &str) -> Command {
    let mut c = Command::new(bin());
    c.arg("--data-dir")
        .arg(data_dir)
        .args(["--database-url", url])
        .env_remove("PAPERBOY_CONFIG")
        .env("PAPERBOY_LOG", "warn");
    c
}

fn ok(out: Output, what: &str) -> String {
    assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn paper_id(n: u32) -> String {
    format!("2611.{n:05}")
}

/// Papers listed today and confirmed daily subscribers, written through the store.
fn seed(url: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = SqlStore::open_postgres(url).await.unwrap();
        let papers: Vec<Paper> = (1..=PAPERS)
            .map(|n| {
                let title = format!("Shared catalogs, part {n}");
                let mut p = Paper::new(PaperId::parse(&paper_id(n)).unwrap(), &title, Utc::now().date_naive());
                p.authors = vec!["Ada Lovelace".into()];
                p.abstract_text = format!("We study {title}. ").repeat(8);
                p.categories = vec!["cs.DB".into()];
                p.version = Some(1);
                p.normalize();
                p
            })
            .collect();
        store.upsert_papers(&papers).await.unwrap();
        for i in 0..SUBSCRIBERS {
            let s = store.subscribe(&Email::parse(&format!("s{i}@example.org")).unwrap(), None).await.unwrap();
            store.confirm_subscriber(s.id).await.unwrap();
        }
    });
}

/// A member (through the CLI, as an admin would) and an API token for them.
fn member(data_dir: &Path, url: &str, name: &str) -> String {
    let mut child = paperboy(data_dir, url)
        .args(["admin", "create-user", name, "--email", &format!("{name}@example.org"), "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    ok(child.wait_with_output().unwrap(), "create-user");
    let out = paperboy(data_dir, url).args(["admin", "create-token", name]).output().unwrap();
    ok(out, "create-token").trim().to_string()
}

fn get_json(client: &Client, url: &str) -> serde_json::Value {
    let r = client.get(url).send().unwrap();
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.json().unwrap()
}

fn cookie_value(r: &reqwest::blocking::Response, name: &str) -> Option<String> {
    r.headers().get_all("set-cookie").iter().find_map(|v| {
        let pair = v.to_str().ok()?.split(';').next()?;
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name && !v.is_empty()).then(|| v.to_string())
    })
}

#[test]
fn three_servers_on_one_postgresql_database() {
    let Some(db) = PgDatabase::create("multi") else { return };
    let work = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::started(&work.path().join("sink")) else { return };
    let started = Instant::now();
    seed(&db.url);
    let voters: Vec<(String, String)> = (0..VOTERS)
        .map(|m| {
            let name = format!("voter{m}");
            let token = member(work.path(), &db.url, &name);
            (name, token)
        })
        .collect();

    // The servers send mail too (they verify signed links only then), but
    // their digest schedule is two hours away, so only the runs build.
    let port = sink.port.to_string();
    let digest_time = (Utc::now() + chrono::Duration::hours(2)).format("%H:%M").to_string();
    let env = [
        ("PAPERBOY_DATABASE_URL", db.url.as_str()),
        ("PAPERBOY_LOG", "warn"),
        ("PAPERBOY_SMTP_HOST", "127.0.0.1"),
        ("PAPERBOY_SMTP_PORT", port.as_str()),
        ("PAPERBOY_SMTP_SECURITY", "plain"),
        ("PAPERBOY_MAIL_TIME_ZONE", "UTC"),
        ("PAPERBOY_MAIL_DIGEST_TIME", digest_time.as_str()),
    ];
    let servers: Vec<Server> =
        (0..3).map(|_| Server::start_with("serve", tempfile::tempdir().unwrap(), &env)).collect();
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    eprintln!("setup and three servers: {:?}", started.elapsed());
    let client = Client::builder().redirect(Policy::none()).timeout(Duration::from_secs(30)).build().unwrap();

    // 1. Votes round-robin across the servers, several members at once.
    let t = Instant::now();
    let finals: Vec<Vec<bool>> = std::thread::scope(|scope| {
        let handles: Vec<_> = voters
            .iter()
            .enumerate()
            .map(|(m, (_, token))| {
                let bases = &bases;
                let client = client.clone();
                scope.spawn(move || {
                    let mut voted = vec![false; PAPERS as usize];
                    for i in 0..VOTES_EACH {
                        let p = (i * 5 + m * 3) % PAPERS as usize;
                        // Mostly upvotes (often of a paper already upvoted), every fourth a take-back.
                        let up = (i + m) % 4 != 3;
                        let url = format!("{}/api/papers/{}/upvote", bases[(i + m) % 3], paper_id(p as u32 + 1));
                        let req = if up { client.post(&url) } else { client.delete(&url) };
                        let r = req.bearer_auth(token).send().unwrap();
                        assert!(r.status().is_success(), "{url}: {}", r.status());
                        let body: serde_json::Value = r.json().unwrap();
                        assert_eq!(body["voted"], serde_json::Value::Bool(up), "{url}: {body}");
                        voted[p] = up;
                    }
                    voted
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for p in 0..PAPERS as usize {
        let expected = finals.iter().filter(|v| v[p]).count() as i64;
        for base in &bases {
            let paper = get_json(&client, &format!("{base}/api/papers/{}", paper_id(p as u32 + 1)));
            assert_eq!(paper["upvotes"].as_i64(), Some(expected), "paper {p} on {base}");
        }
    }
    let total: usize = finals.iter().map(|v| v.iter().filter(|x| **x).count()).sum();
    assert!(total > 0 && total < VOTERS * PAPERS as usize, "a mix of kept and taken-back votes: {total}");
    let rows = Command::new("psql")
        .args([db.url.as_str(), "-XAtq", "-c", "SELECT count(*) FROM votes"])
        .output()
        .expect("run psql");
    assert_eq!(ok(rows, "psql").trim(), total.to_string(), "one votes row per kept vote");
    eprintln!("{} votes from {VOTERS} members: {:?}", VOTERS * VOTES_EACH, t.elapsed());

    // 2. Imported through server 1's data directory, found on the other two.
    let t = Instant::now();
    let file = work.path().join("new.jsonl");
    let line = serde_json::json!({
        "id": "2611.09901",
        "title": "Quokkasort: ordering marsupials across replicated servers",
        "authors": ["Grace Hopper"],
        "abstract": "We sort quokkas on three servers that share one database and keep three indexes.",
        "categories": ["cs.DC"],
        "listing_date": Utc::now().date_naive().to_string(),
    });
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let out = paperboy(servers[0].data_dir.path(), &db.url).arg("import").arg(&file).output().unwrap();
    ok(out, "import");
    // Server 1 holds its own index, so the import leaves indexing to the followers: all three poll.
    for base in &bases {
        let url = format!("{base}/api/papers/search?q=quokkasort&mode=keyword");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let hits = get_json(&client, &url);
            let found = hits.as_array().unwrap().iter().any(|h| h["paper"]["id"] == "2611.09901");
            if found {
                break;
            }
            assert!(Instant::now() < deadline, "{url} never found the imported paper: {hits}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    eprintln!("import found on all three: {:?}", t.elapsed());

    // 3. Three digest runs at once: each subscriber mailed exactly once.
    let t = Instant::now();
    let runs: Vec<_> = (0..3)
        .map(|i| {
            paperboy(servers[i].data_dir.path(), &db.url)
                .args(["digest", "run", "--period", "daily"])
                .env("PAPERBOY_SMTP_HOST", "127.0.0.1")
                .env("PAPERBOY_SMTP_PORT", &port)
                .env("PAPERBOY_SMTP_SECURITY", "plain")
                .env("PAPERBOY_MAIL_RATE", "50")
                .env("PAPERBOY_MAIL_TIME_ZONE", "UTC")
                .env("PAPERBOY_BASE_URL", "http://127.0.0.1:9")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<String> = runs.into_iter().map(|c| ok(c.wait_with_output().unwrap(), "digest run")).collect();
    let queued: usize = outputs
        .iter()
        .map(|o| {
            let n = o.split(" queued: ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap_or("?");
            n.parse::<usize>().unwrap_or_else(|_| panic!("digest output: {o}"))
        })
        .sum();
    assert_eq!(queued, SUBSCRIBERS, "the three runs built each digest once between them: {outputs:?}");
    let delivered: Vec<usize> = outputs
        .iter()
        .map(|o| {
            let n = o.split("delivered ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap_or("?");
            n.parse::<usize>().unwrap_or_else(|_| panic!("digest output: {o}"))
        })
        .collect();
    assert!(delivered.iter().sum::<usize>() <= SUBSCRIBERS, "no digest delivered twice: {delivered:?}");
    // What the runs left, the servers' senders deliver.
    sink.wait_for(SUBSCRIBERS, Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(1)); // time for a duplicate to show up
    let mails = sink.messages();
    let mut ids: HashMap<String, Vec<String>> = HashMap::new();
    for m in &mails {
        ids.entry(m.rcpt.clone()).or_default().push(m.header("Message-ID").expect("a Message-ID"));
    }
    assert_eq!(ids.len(), SUBSCRIBERS, "every subscriber got mail");
    for (rcpt, got) in &ids {
        assert_eq!(got.len(), 1, "{rcpt} got {got:?}");
        assert!(got[0].starts_with("<paperboy.daily."), "{rcpt}: {got:?}");
    }
    assert_eq!(mails.len(), SUBSCRIBERS, "no duplicates");
    eprintln!("three digest runs (delivered {delivered:?}): {:?}", t.elapsed());

    // 4. The runs' signed links open on every server.
    let manage: Vec<String> =
        mails.iter().take(6).flat_map(|m| m.links("http://127.0.0.1:9", "subscription/")).collect();
    assert_eq!(manage.len(), 6, "a manage link in each mail");
    for (i, link) in manage.iter().enumerate() {
        let path = link.trim_start_matches("http://127.0.0.1:9");
        let r = client.get(format!("{}{path}", bases[i % 3])).send().unwrap();
        assert_eq!(r.status(), 200, "{path} on server {}", i % 3 + 1);
        assert!(r.text().unwrap().contains(&mails[i].rcpt), "{path} shows its subscriber");
    }
    let forged = format!("{}{}0", bases[1], manage[0].trim_start_matches("http://127.0.0.1:9"));
    assert_eq!(client.get(&forged).send().unwrap().status(), 400, "a changed token is refused");

    // 5. Logged in on server 1, the session works on servers 2 and 3.
    let (name, _) = &voters[0];
    let form = client.get(format!("{}/login", bases[0])).send().unwrap();
    assert_eq!(form.status(), 200);
    let csrf_cookie = cookie_value(&form, "pb_csrf").expect("a pb_csrf cookie");
    let body = form.text().unwrap();
    let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    let csrf = &body[at..at + body[at..].find('"').unwrap()];
    let r = client
        .post(format!("{}/login", bases[0]))
        .header("cookie", format!("pb_csrf={csrf_cookie}"))
        .form(&[("csrf", csrf), ("next", "/"), ("username", name.as_str()), ("password", PASSWORD)])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303, "logged in");
    let session = cookie_value(&r, "pb_session").expect("a session cookie");
    for base in &bases[1..] {
        let r =
            client.get(format!("{base}/settings")).header("cookie", format!("pb_session={session}")).send().unwrap();
        assert_eq!(r.status(), 200, "{base}/settings with server 1's session");
        assert!(r.text().unwrap().contains(&format!("/u/{name}")), "{base}/settings shows {name}");
    }
    let anonymous = client.get(format!("{}/settings", bases[1])).send().unwrap();
    assert_ne!(anonymous.status(), 200, "without the cookie /settings is not shown");

    // 6. Wrong passwords round-robin: five fail, the sixth is refused on any server.
    let (target, _) = &voters[1];
    let attempt = |base: &str| {
        client
            .post(format!("{base}/login"))
            .header("cookie", format!("pb_csrf={csrf_cookie}"))
            .form(&[("csrf", csrf), ("next", "/"), ("username", target.as_str()), ("password", "wrong password!")])
            .send()
            .unwrap()
            .status()
    };
    for i in 0..5 {
        assert_eq!(attempt(&bases[i % 3]), 401, "attempt {} on server {}", i + 1, i % 3 + 1);
    }
    for base in &bases {
        assert_eq!(attempt(base), 429, "{base} knows of the failures made on the other servers");
    }
    eprintln!("whole test: {:?}", started.elapsed());
}
