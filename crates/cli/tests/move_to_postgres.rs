//! Moving an installation from SQLite to PostgreSQL: the demo catalog plus a
//! member and an API token, copied with `paperboy copy-to-postgres` into a
//! fresh database; row counts checked with `psql`, the moved installation
//! used through `--database-url`, and a second copy refused.
//!
//! Needs the server that `scripts/test.sh` starts (`PAPERBOY_TEST_PG_URL`)
//! and `psql`. Without the server the test is skipped with a message, except
//! under `CI=true`, where it fails.

use crate::common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::bin;
use paperboy_test_support::db::PgDatabase;

/// `paperboy --data-dir DIR [--database-url URL] ARGS`, with `stdin` fed in.
fn paperboy(data_dir: &Path, url: Option<&str>, args: &[&str], stdin: &str) -> Output {
    let mut cmd = Command::new(bin());
    cmd.arg("--data-dir").arg(data_dir);
    if let Some(url) = url {
        cmd.args(["--database-url", url]);
    }
    let mut child = cmd
        .args(args)
        .env_remove("PAPERBOY_CONFIG")
        .env_remove("PAPERBOY_DATABASE_URL")
        .env("PAPERBOY_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run paperboy");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The sorted JSON lines of `papers list --all --json`.
fn all_papers(data_dir: &Path, url: Option<&str>) -> Vec<String> {
    let out = paperboy(data_dir, url, &["papers", "list", "--all", "--limit", "100000", "--json"], "");
    let mut lines: Vec<String> = ok(&out).lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// The table of counts the copy prints: table -> (sqlite, postgres).
fn printed_counts(stdout: &str) -> BTreeMap<String, (u64, u64)> {
    stdout
        .lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            match cols.as_slice() {
                [table, a, b] => Some((table.to_string(), (a.parse().ok()?, b.parse().ok()?))),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn a_sqlite_installation_moves_to_postgresql_without_loss() {
    let Some(db) = PgDatabase::create("move") else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    ok(&paperboy(d, None, &["demo", "--no-serve"], ""));
    let out = paperboy(
        d,
        None,
        &["admin", "create-user", "ada", "--email", "ada@example.org", "--admin", "--password-stdin"],
        "a long enough password\n",
    );
    ok(&out);
    ok(&paperboy(d, None, &["admin", "create-token", "ada", "--name", "laptop"], ""));
    let before = all_papers(d, None);
    assert!(before.len() > 100, "the demo catalog has papers: {}", before.len());

    let migrate = ok(&paperboy(d, None, &["migrate"], ""));
    let latest = format!("up to date at schema version {}", paperboy_store::SQLITE_MIGRATIONS.last().unwrap().0);
    assert!(migrate.contains(&latest), "{migrate}");

    let out = ok(&paperboy(d, None, &["copy-to-postgres", "--to", &db.url], ""));
    let counts = printed_counts(&out);
    // Every table of the schema, as PostgreSQL lists them, so that a table
    // the copy forgets fails here.
    let tables = db.query(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' \
         ORDER BY tablename",
    );
    assert!(tables.lines().count() >= 14, "the schema's tables: {tables}");
    for table in tables.lines() {
        let (sqlite, printed_pg) = counts.get(table).copied().unwrap_or_else(|| panic!("no count for {table}: {out}"));
        let psql: u64 = db.query(&format!("SELECT count(*) FROM {table}")).parse().unwrap();
        assert_eq!(sqlite, psql, "{table}: SQLite and PostgreSQL (psql) differ");
        assert_eq!(printed_pg, psql, "{table}: the printed PostgreSQL count is psql's");
    }
    assert_eq!(counts["papers"].0, before.len() as u64, "the source count is the catalog's papers");
    assert_eq!(counts["users"].0, 1);
    assert_eq!(counts["api_tokens"].0, 1);
    assert_eq!(db.query("SELECT is_admin FROM users WHERE username = 'ada'"), "t", "INTEGER 1 became TRUE");
    assert_eq!(db.query("SELECT name FROM api_tokens"), "laptop");

    // The moved installation works: the same papers, and new rows get fresh
    // ids (the sequences were moved past the copied keys).
    let after = all_papers(d, Some(&db.url));
    assert_eq!(after, before, "papers list on PostgreSQL shows the SQLite catalog");
    ok(&paperboy(d, Some(&db.url), &["admin", "create-token", "ada"], ""));
    assert_eq!(db.query("SELECT count(*) FROM api_tokens"), "2");
    let out = paperboy(
        d,
        Some(&db.url),
        &["admin", "create-user", "bob", "--email", "bob@example.org", "--password-stdin"],
        "another long password\n",
    );
    ok(&out);
    assert_eq!(db.query("SELECT count(DISTINCT id) FROM users"), "2");
    let migrate = ok(&paperboy(d, Some(&db.url), &["migrate"], ""));
    let latest = format!(
        "PostgreSQL database is up to date at schema version {}",
        paperboy_store::POSTGRES_MIGRATIONS.last().unwrap().0
    );
    assert!(migrate.contains(&latest), "{migrate}");

    // A second copy into the now non-empty database is refused, and changes nothing.
    let out = paperboy(d, None, &["copy-to-postgres", "--to", &db.url], "");
    assert!(!out.status.success(), "a second copy must be refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not empty") && err.contains("empty database"), "{err}");
    assert_eq!(db.query("SELECT count(*) FROM papers"), before.len().to_string());
    assert_eq!(db.query("SELECT count(*) FROM users"), "2");
}
