//! `paperboy status` on a fresh and an imported database (SQLite, and
//! PostgreSQL when `PAPERBOY_TEST_PG_URL` is set), and `serve`'s metrics
//! listener and token.

use crate::common;

use std::process::Command;

use common::{Server, bin, fixture, run};
use paperboy_test_support::db::PgDatabase;

fn status_json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("status --json prints one JSON object")
}

#[test]
fn status_on_a_fresh_and_an_imported_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["status"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "Catalog: 0 papers",
        "Last harvest: never",
        "outbox 0 pending, 0 sent, 0 failed",
        "  harvest: never taken",
        "  digest: never taken",
        "  signals-github: never taken",
        "  signals-huggingface: never taken",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    let fresh = status_json(&run(dir.path(), &["status", "--json"]));
    assert_eq!(fresh["papers"], 0);
    assert_eq!(fresh["harvest"], serde_json::Value::Null);
    assert_eq!(fresh["leases"].as_array().unwrap().len(), 4);
    assert_eq!(fresh["leases"][0]["name"], "harvest");
    assert_eq!(fresh["leases"][0]["held"], false);

    let sample = fixture("ingest/jsonl/sample-200.jsonl");
    assert_eq!(run(dir.path(), &["import", sample.to_str().unwrap()]).status.code(), Some(0));
    let imported = status_json(&run(dir.path(), &["status", "--json"]));
    assert_eq!(imported["papers"], 200);
    let text = String::from_utf8_lossy(&run(dir.path(), &["status"]).stdout).into_owned();
    assert!(text.contains("Catalog: 200 papers"), "{text}");
}

#[test]
fn status_reads_postgresql() {
    let Some(db) = PgDatabase::create("status") else { return };
    let dir = tempfile::tempdir().unwrap();
    let paperboy = |args: &[&str]| {
        Command::new(bin())
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--database-url", &db.url])
            .args(args)
            .env_remove("PAPERBOY_CONFIG")
            .env("PAPERBOY_LOG", "warn")
            .output()
            .expect("run paperboy")
    };
    assert_eq!(status_json(&paperboy(&["status", "--json"]))["papers"], 0);
    let sample = fixture("ingest/jsonl/sample-200.jsonl");
    assert!(paperboy(&["import", sample.to_str().unwrap()]).status.success());
    assert_eq!(status_json(&paperboy(&["status", "--json"]))["papers"], 200);
    assert!(!dir.path().join("paperboy.db").exists());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn serve_answers_metrics_on_its_own_listener_or_with_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let metrics_addr = format!("127.0.0.1:{port}");
    let server = Server::start_with("serve", dir, &[("PAPERBOY_METRICS_ADDR", &metrics_addr)]);
    assert_eq!(reqwest::blocking::get(server.url("/metrics")).unwrap().status(), 404, "not on the public port");
    reqwest::blocking::get(server.url("/papers")).unwrap().text().unwrap();
    let text = reqwest::blocking::get(format!("http://{metrics_addr}/metrics")).unwrap().text().unwrap();
    assert!(text.contains("http_requests_total{route=\"/papers\",method=\"GET\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("paperboy_job_runs_total{job=\"index-follow\"}"), "the supervisor's jobs: {text}");
    assert!(text.contains("paperboy_papers 0"), "{text}");
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with("serve", dir, &[("PAPERBOY_METRICS_TOKEN", "s3cret")]);
    let client = reqwest::blocking::Client::new();
    assert_eq!(client.get(server.url("/metrics")).send().unwrap().status(), 401);
    assert_eq!(client.get(server.url("/metrics")).bearer_auth("wrong").send().unwrap().status(), 401);
    let r = client.get(server.url("/metrics")).bearer_auth("s3cret").send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("# TYPE http_requests_total counter"));
}
