//! Helpers shared by the binary's end-to-end tests: run `paperboy` as a real
//! process on a free port with its own data directory, and stop it on drop.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_paperboy")
}

/// Runs `paperboy ARGS` to completion with a private data directory.
pub fn run(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("PAPERBOY_CONFIG")
        .output()
        .expect("run paperboy")
}

/// The repository's test fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(rel)
}

/// Where tests leave screenshots and other artefacts.
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("PAPERBOY_TEST_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/artifacts"));
    std::fs::create_dir_all(&dir).expect("create artifacts dir");
    dir
}

/// A running `paperboy serve` or `paperboy demo`.
pub struct Server {
    child: Child,
    pub base: String,
    pub data_dir: tempfile::TempDir,
}

impl Server {
    /// Starts `paperboy <subcommand> --addr 127.0.0.1:0` and waits until it prints its address.
    pub fn start(subcommand: &str, data_dir: tempfile::TempDir) -> Server {
        Server::start_with(subcommand, data_dir, &[])
    }

    /// [`Server::start`] with extra environment variables (`PAPERBOY_*` settings).
    pub fn start_with(subcommand: &str, data_dir: tempfile::TempDir, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(bin())
            .arg("--data-dir")
            .arg(data_dir.path())
            .args([subcommand, "--addr", "127.0.0.1:0"])
            .env_remove("PAPERBOY_CONFIG")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start paperboy");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split(" at http://").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(180)).expect("paperboy printed its address");
        let server = Server { child, base: format!("http://{addr}"), data_dir };
        server.wait_healthy();
        server
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("{}/healthz", self.base);
        while Instant::now() < deadline {
            if reqwest::blocking::get(&url).map(|r| r.status().is_success()).unwrap_or(false) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{url} never answered");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh database on the PostgreSQL server that `scripts/test.sh` starts
/// (`PAPERBOY_TEST_PG_URL`), made and dropped with `psql`.
pub struct TestDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// A new database named `PREFIX_<pid>_<stamp>`. Without
    /// `PAPERBOY_TEST_PG_URL`: `None` after a SKIPPED message, or a panic
    /// under CI, where PostgreSQL is required.
    pub fn create(prefix: &str) -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var("PAPERBOY_TEST_PG_URL") else {
            if std::env::var_os("CI").is_some() {
                panic!("PAPERBOY_TEST_PG_URL is required under CI: run scripts/test.sh, which starts PostgreSQL");
            }
            eprintln!("SKIPPED: no PostgreSQL (set PAPERBOY_TEST_PG_URL, as scripts/test.sh does)");
            return None;
        };
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!("{prefix}_{}_{}", std::process::id(), stamp % 1_000_000_000);
        let ok = Command::new("psql")
            .args([admin_url.as_str(), "-q", "-c", &format!("CREATE DATABASE {name}")])
            .status()
            .expect("run psql")
            .success();
        assert!(ok, "psql could not create a database on {admin_url}");
        // `postgres://user@host:port/postgres?host=/dir` -> `/NAME?host=/dir`.
        let (head, tail) = admin_url.split_once('?').unwrap_or((admin_url.as_str(), ""));
        let base = head.rsplit_once('/').map_or(head, |(b, _)| b);
        let url = if tail.is_empty() { format!("{base}/{name}") } else { format!("{base}/{name}?{tail}") };
        Some(TestDatabase { admin_url, name, url })
    }

    /// One value from `psql -tA`.
    pub fn query(&self, sql: &str) -> String {
        let out = Command::new("psql").args([self.url.as_str(), "-tA", "-c", sql]).output().expect("run psql");
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([self.admin_url.as_str(), "-q", "-c", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)])
            .status();
    }
}
