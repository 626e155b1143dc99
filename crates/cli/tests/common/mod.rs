//! Helpers shared by the binary's end-to-end tests: run `paperboy` as a real
//! process on a free port with its own data directory, and stop it on drop.
//! The real components they talk to (SMTP sink, OAI-PMH and arXiv API
//! replays, PostgreSQL databases) come from `paperboy-test-support`.

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

/// `tests/fixtures/REL` of the repository.
pub use paperboy_test_support::fixtures::path as fixture;

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

    /// Stops the server and hands back its data directory (to run a command
    /// on the same data, then serve it again).
    pub fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.data_dir, tempfile::tempdir().expect("a temporary directory"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The server process's id (for reading `/proc/PID/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}
