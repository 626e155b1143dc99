//! The binary on PostgreSQL: `--database-url` puts the catalog and the
//! members in a PostgreSQL database that two "servers" (two data
//! directories, each with its own search index) share.
//!
//! Needs the server that `scripts/test.sh` starts (`PAPERBOY_TEST_PG_URL`).
//! Without it the test is skipped with a message, except under `CI=true`,
//! where it fails.

use crate::common;

use std::process::Command;

use common::{bin, fixture};
use paperboy_test_support::db::PgDatabase;

fn paperboy(data_dir: &std::path::Path, url: &str, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--database-url", url])
        .args(args)
        .env_remove("PAPERBOY_CONFIG")
        .env("PAPERBOY_LOG", "warn")
        .output()
        .expect("run paperboy")
}

#[test]
fn two_data_directories_share_one_postgresql_catalog() {
    let Some(db) = PgDatabase::create("cli") else { return };
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let sample = fixture("ingest/jsonl/sample-200.jsonl");

    // Imported through one...
    let out = paperboy(a.path(), &db.url, &["import", sample.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!a.path().join("paperboy.db").exists(), "no SQLite file when a database URL is given");

    // ...listed and searchable through the other, whose index is built from
    // the shared catalog.
    let out = paperboy(b.path(), &db.url, &["papers", "list", "--all", "--limit", "1000", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON paper per line"))
        .collect();
    let count = listed.len();
    assert!(count >= 150, "the other data directory sees the imported papers: {count}");
    let title = listed[0]["title"].as_str().expect("a title").to_string();
    let word = title.split_whitespace().max_by_key(|w| w.len()).unwrap().trim_matches(|c: char| !c.is_alphanumeric());
    let out = paperboy(b.path(), &db.url, &["search", "--mode", "keyword", word]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&title), "search on the other side finds {title:?}");

    // Members live there too.
    let mut create = Command::new(bin());
    create
        .arg("--data-dir")
        .arg(a.path())
        .args(["--database-url", &db.url, "admin", "create-user", "ada", "--email", "ada@example.org"])
        .arg("--password-stdin")
        .env_remove("PAPERBOY_CONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = create.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"a long enough password\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = paperboy(b.path(), &db.url, &["admin", "create-token", "ada"]);
    assert!(out.status.success(), "the member made through one is found through the other");

    // A wrong URL is a clear error, not a hang or a panic.
    let bad = db.url.replace(&db.name, "no_such_database");
    let out = paperboy(b.path(), &bad, &["papers", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("could not connect to PostgreSQL") && err.contains("database exists"), "{err}");
}
