//! Issue 14, item 1, against the real `paperboy serve` process: 200 wrong
//! passwords for one account sent at once (one CSRF token, one client
//! address) let at most the login limit (5) reach password verification;
//! every other answer is 429 with `Retry-After`, and the server's resident
//! memory stays bounded. On a SQLite file, and on PostgreSQL when
//! `PAPERBOY_TEST_PG_URL` is set.
//!
//! A wrong password that reaches verification answers 401 (an argon2id
//! verification of 19 MiB), so the 401s are the verifications; the
//! reservations the store kept for the account are counted too.
//! Memory: the peak of `VmRSS` in `/proc/PID/status`, sampled every 5 ms
//! during the burst, minus `VmRSS` just before it, must stay under
//! [`MAX_GROWTH_MIB`]: five verifications take 5 × 19 MiB, and the hashing
//! cap (13 permits) bounds hashing to 247 MiB whatever gets through.
//! Before the fix, 100 such requests let 61 through and grew the process
//! by about 1 GB.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use paperboy_test_support::db::PgDatabase;
use reqwest::blocking::Client;
use reqwest::redirect::Policy;

use common::{Server, bin};

const REQUESTS: usize = 200;
/// The login limit per account and per address (`paperboy_services::limits::MAX_FAILURES`).
const LIMIT: usize = 5;
/// The most the server's resident memory may grow during the burst.
const MAX_GROWTH_MIB: u64 = 200;
const PASSWORD: &str = "the victim's long password";

/// `VmRSS` of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Creates the member `victim` as an admin would.
fn create_victim(data_dir: &Path, database_url: Option<&str>) {
    let mut c = Command::new(bin());
    c.arg("--data-dir").arg(data_dir).env_remove("PAPERBOY_CONFIG").env("PAPERBOY_LOG", "warn");
    if let Some(url) = database_url {
        c.args(["--database-url", url]);
    }
    let mut child = c
        .args(["admin", "create-user", "victim", "--email", "victim@example.org", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "create-user: {}", String::from_utf8_lossy(&out.stderr));
}

/// The burst against `server`; returns (401s, 429s).
fn burst(server: &Server) -> (usize, usize) {
    let client = Client::builder().redirect(Policy::none()).timeout(Duration::from_secs(120)).build().unwrap();
    let form = client.get(server.url("/login")).send().unwrap();
    let cookie = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| v.to_str().ok()?.split(';').next()?.strip_prefix("pb_csrf=").map(str::to_string))
        .expect("a pb_csrf cookie");
    let body = form.text().unwrap();
    let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    let csrf = body[at..at + body[at..].find('"').unwrap()].to_string();

    let pid = server.pid();
    let before = rss_kib(pid);
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let start = Arc::new(Barrier::new(REQUESTS));
    let started = Instant::now();
    let answers: Vec<(u16, bool)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..REQUESTS)
            .map(|_| {
                let (client, start, cookie, csrf) = (client.clone(), start.clone(), &cookie, &csrf);
                scope.spawn(move || {
                    start.wait();
                    let r = client
                        .post(server.url("/login"))
                        .header("cookie", format!("pb_csrf={cookie}"))
                        .form(&[
                            ("csrf", csrf.as_str()),
                            ("next", "/"),
                            ("username", "victim"),
                            ("password", "a wrong guess!"),
                        ])
                        .send()
                        .unwrap();
                    (r.status().as_u16(), r.headers().contains_key("retry-after"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let took = started.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = peak.load(Ordering::Relaxed);

    let verified = answers.iter().filter(|(s, _)| *s == 401).count();
    let limited = answers.iter().filter(|(s, retry)| *s == 429 && *retry).count();
    let others: Vec<_> = answers.iter().filter(|(s, _)| *s != 401 && *s != 429).collect();
    eprintln!(
        "{REQUESTS} wrong passwords at once in {took:?}: {verified} × 401, {limited} × 429; \
         VmRSS {} MiB before, peak {} MiB (+{} MiB)",
        before / 1024,
        peak / 1024,
        peak.saturating_sub(before) / 1024
    );
    assert!(others.is_empty(), "only 401 and 429 answers: {others:?}");
    assert!(verified <= LIMIT, "{verified} guesses reached password verification, the limit is {LIMIT}");
    assert!(verified >= 1, "some guesses are verified (the limit is not zero)");
    assert_eq!(verified + limited, REQUESTS, "every other answer is 429 with Retry-After");
    assert!(
        peak.saturating_sub(before) / 1024 < MAX_GROWTH_MIB,
        "the server grew by {} MiB (bound {MAX_GROWTH_MIB} MiB)",
        peak.saturating_sub(before) / 1024
    );
    // The right password now waits too: the account is at its limit.
    let r = client
        .post(server.url("/login"))
        .header("cookie", format!("pb_csrf={cookie}"))
        .form(&[("csrf", csrf.as_str()), ("next", "/"), ("username", "victim"), ("password", PASSWORD)])
        .send()
        .unwrap();
    assert_eq!(r.status(), 429);
    (verified, limited)
}

#[test]
fn a_burst_of_wrong_passwords_meets_the_limit_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    create_victim(dir.path(), None);
    let server = Server::start_with("serve", dir, &[("PAPERBOY_LOG", "warn")]);
    let (verified, _) = burst(&server);
    // Read while the server runs (the file goes with its data directory).
    let rows = counted(paperboy_store::SqlStore::open_sqlite(&server.data_dir.path().join("paperboy.db")));
    assert_eq!(rows, verified, "one counted attempt per verified guess");
}

/// The attempts the store keeps for the account, in the last hour.
fn counted(
    open: impl std::future::Future<Output = Result<paperboy_store::SqlStore, paperboy_store::StoreError>>,
) -> usize {
    use paperboy_store::Coordination;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = open.await.unwrap();
        let since = chrono::Utc::now() - chrono::Duration::hours(1);
        store.recent_failures("login:user:victim", since, 1000).await.unwrap().len()
    })
}

#[test]
fn a_burst_of_wrong_passwords_meets_the_limit_on_postgresql() {
    let Some(db) = PgDatabase::create("burst") else { return };
    let dir = tempfile::tempdir().unwrap();
    create_victim(dir.path(), Some(&db.url));
    let server =
        Server::start_with("serve", dir, &[("PAPERBOY_DATABASE_URL", db.url.as_str()), ("PAPERBOY_LOG", "warn")]);
    let (verified, _) = burst(&server);
    let rows = counted(paperboy_store::SqlStore::open_postgres(&db.url));
    assert_eq!(rows, verified, "one counted attempt per verified guess");
}
