//! The `paperboy` binary end to end: import with rejections, demo idempotence,
//! papers list/show, configuration precedence, serving the demo, and other
//! commands beside a running server in its data directory.

use crate::common;

use common::{Server, fixture, run};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn import_reports_rejected_records_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixture("ingest/jsonl/sample-200.jsonl");
    let broken = fixture("ingest/broken/jsonl-cut-line.jsonl");
    let out = run(dir.path(), &["import", good.to_str().unwrap(), broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "rejections make the exit code non-zero\n{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("200 inserted"), "{text}");
    let err = stderr(&out);
    assert!(err.contains("jsonl-cut-line.jsonl: line"), "each rejection names file and line: {err}");

    // The same file again: nothing new, exit 0.
    let again = run(dir.path(), &["import", good.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("0 inserted, 0 updated, 0 merged into earlier local papers, 200 unchanged"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn import_of_a_missing_file_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["import", "/nonexistent/papers.jsonl"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("/nonexistent/papers.jsonl"), "{}", stderr(&out));
}

#[test]
fn demo_twice_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), &["demo", "--no-serve"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let count = |o: &std::process::Output| {
        stdout(o).lines().find_map(|l| l.strip_prefix("the catalog in ").map(|r| r.to_string())).unwrap_or_default()
    };
    let c1 = count(&first);
    assert!(c1.ends_with("holds 6707 papers"), "73 seed papers + 6,634 arXiv papers: {c1}");
    let second = run(dir.path(), &["demo", "--no-serve"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(count(&second), c1);
    assert!(stdout(&second).contains(" 0 inserted"), "{}", stdout(&second));

    let list = run(dir.path(), &["papers", "list", "--date", "2026-03-11", "--limit", "100", "--json"]);
    assert!(list.status.success(), "{}", stderr(&list));
    assert_eq!(stdout(&list).lines().count(), 73, "the seed page is listed on 2026-03-11");
    let show = run(dir.path(), &["papers", "show", "https://arxiv.org/abs/2606.32040v1"]);
    assert!(show.status.success(), "{}", stderr(&show));
    assert!(stdout(&show).contains("FaceMoE"), "{}", stdout(&show));
    let missing = run(dir.path(), &["papers", "show", "2312.99999"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("not in the catalog"));
    let bad = run(dir.path(), &["papers", "show", "not-an-id"]);
    assert!(stderr(&bad).contains("not an arXiv identifier"), "{}", stderr(&bad));
}

#[test]
fn config_file_environment_and_flags_take_precedence_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = dir.path().join("from-file");
    let from_env = dir.path().join("from-env");
    let from_flag = dir.path().join("from-flag");
    let cfg = dir.path().join("paperboy.toml");
    std::fs::write(&cfg, format!("data_dir = {:?}\n", from_file.to_str().unwrap())).unwrap();
    let listing = |envs: &[(&str, &std::path::Path)], flag: Option<&std::path::Path>| {
        let mut cmd = std::process::Command::new(common::bin());
        cmd.arg("--config").arg(&cfg);
        if let Some(f) = flag {
            cmd.arg("--data-dir").arg(f);
        }
        cmd.env_remove("PAPERBOY_DATA_DIR");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.args(["papers", "list"]).output().unwrap()
    };
    assert!(listing(&[], None).status.success());
    assert!(from_file.join("paperboy.db").exists(), "the config file's data_dir is used");
    assert!(listing(&[("PAPERBOY_DATA_DIR", &from_env)], None).status.success());
    assert!(from_env.join("paperboy.db").exists(), "the environment beats the file");
    assert!(listing(&[("PAPERBOY_DATA_DIR", &from_env)], Some(&from_flag)).status.success());
    assert!(from_flag.join("paperboy.db").exists(), "the flag beats the environment");

    std::fs::write(&cfg, "no_such_key = 1\n").unwrap();
    let bad = listing(&[], None);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a valid Paperboy config"));
}

#[test]
fn help_documents_configuration() {
    let out = std::process::Command::new(common::bin()).arg("--help").output().unwrap();
    let text = stdout(&out);
    for needle in ["PAPERBOY_DATA_DIR", "paperboy.toml", "serve", "demo", "import", "papers"] {
        assert!(text.contains(needle), "--help mentions {needle}");
    }
}

#[test]
fn a_bad_environment_value_stops_the_command_and_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(common::bin())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["papers", "list"])
        .env_remove("PAPERBOY_CONFIG")
        .env("PAPERBOY_JOB_LEASE_SECONDS", "soon")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("PAPERBOY_JOB_LEASE_SECONDS=\"soon\" is not valid: expected a whole number"), "{err}");
    assert!(!dir.path().join("paperboy.db").exists(), "nothing is opened with a bad setting");
    // Each flag's help names its variable and default, from the same key table.
    let help = stdout(&std::process::Command::new(common::bin()).args(["serve", "--help"]).output().unwrap());
    assert!(help.contains("[env: PAPERBOY_ADDR]") && help.contains("127.0.0.1:8080"), "{help}");
}

#[test]
fn serve_answers_on_the_printed_address() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixture("ingest/jsonl/sample-200.jsonl");
    assert_eq!(run(dir.path(), &["import", good.to_str().unwrap()]).status.code(), Some(0));
    let server = Server::start("serve", dir);
    let home = reqwest::blocking::get(server.url("/")).unwrap();
    assert_eq!(home.status(), 200);
    let body = home.text().unwrap();
    assert!(body.contains("Paperboy"));
    let api: serde_json::Value =
        reqwest::blocking::get(server.url("/api/daily_papers?limit=5")).unwrap().json().unwrap();
    assert_eq!(api.as_array().map(|a| a.len()), Some(5));
}

#[test]
fn beside_a_running_server_commands_read_its_index_and_leave_writing_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixture("ingest/jsonl/sample-200.jsonl");
    assert_eq!(run(dir.path(), &["import", good.to_str().unwrap()]).status.code(), Some(0));
    let path = dir.path().to_path_buf();
    let server = Server::start("serve", dir);

    // A second server on the same data directory is refused, with the way out.
    let second = run(&path, &["serve", "--addr", "127.0.0.1:0"]);
    assert!(!second.status.success());
    assert!(stderr(&second).contains("already uses the data directory"), "{}", stderr(&second));
    assert!(stderr(&second).contains("--data-dir"), "{}", stderr(&second));

    // Search reads the server's index.
    let found = run(&path, &["search", "--mode", "keyword", "--json", "transformer"]);
    assert!(found.status.success(), "{}", stderr(&found));
    let hits: Vec<serde_json::Value> = stdout(&found).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!hits.is_empty(), "the read-only index answers");

    // An import stores the paper and leaves indexing to the server, which finds it within seconds.
    let file = path.join("new.jsonl");
    let line = serde_json::json!({
        "id": "2611.09902",
        "title": "Wombatgrad: gradient descent in burrows",
        "authors": ["Ada Lovelace"],
        "abstract": "Wombats descend gradients underground.",
        "categories": ["cs.LG"],
        "listing_date": "2026-11-27",
    });
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let imported = run(&path, &["import", file.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let hits: serde_json::Value =
            reqwest::blocking::get(server.url("/api/papers/search?q=wombatgrad&mode=keyword")).unwrap().json().unwrap();
        if hits.as_array().unwrap().iter().any(|h| h["paper"]["id"] == "2611.09902") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the server never indexed the import: {hits}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // Rebuilding the index under the server is refused, and the server still answers.
    let reindex = run(&path, &["reindex", "--no-embed"]);
    assert!(!reindex.status.success());
    assert!(stderr(&reindex).contains("stop it before rebuilding"), "{}", stderr(&reindex));
    assert_eq!(reqwest::blocking::get(server.url("/search?q=wombatgrad")).unwrap().status(), 200);
}

/// Runs `paperboy ARGS` with `input` on stdin.
fn run_with_stdin(data_dir: &std::path::Path, args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(common::bin())
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("PAPERBOY_CONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn admin_creates_members_who_can_log_in_and_suspends_them() {
    let dir = tempfile::tempdir().unwrap();
    let create = ["admin", "create-user", "Grace", "--email", "grace@example.org", "--admin", "--password-stdin"];
    let out = run_with_stdin(dir.path(), &create, "a long enough password\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("created admin Grace"), "{}", stdout(&out));
    // Taken names, weak passwords and a missing password are refused with a reason.
    let again = run_with_stdin(dir.path(), &create, "a long enough password\n");
    assert!(!again.status.success() && stderr(&again).contains("taken"), "{}", stderr(&again));
    let weak = ["admin", "create-user", "ada", "--email", "ada@example.org", "--password-stdin"];
    let out = run_with_stdin(dir.path(), &weak, "short\n");
    assert!(!out.status.success() && stderr(&out).contains("at least 10"), "{}", stderr(&out));
    let out = run_with_stdin(dir.path(), &["admin", "create-user", "ada", "--email", "ada@example.org"], "");
    assert!(!out.status.success() && stderr(&out).contains("--password-stdin"), "{}", stderr(&out));
    let out = run(dir.path(), &["admin", "hide-paper", "2601.99999"]);
    assert!(!out.status.success() && stderr(&out).contains("no paper 2601.99999"), "{}", stderr(&out));

    // Some papers to vote on.
    let sample = fixture("ingest/jsonl/sample-200.jsonl");
    assert!(run(dir.path(), &["import", sample.to_str().unwrap()]).status.success());

    // The member logs in on the site.
    let server = Server::start("serve", dir);
    let client = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = |c: &reqwest::blocking::Client| {
        let form = c.get(format!("{}/login", server.base)).send().unwrap();
        let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        let body = form.text().unwrap();
        let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
        let csrf = body[at..at + 64].to_string();
        c.post(format!("{}/login", server.base))
            .header("cookie", cookie)
            .form(&[("csrf", csrf.as_str()), ("username", "grace"), ("password", "a long enough password")])
            .send()
            .unwrap()
    };
    let r = login(&client);
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    assert!(r.headers()["set-cookie"].to_str().unwrap().starts_with("pb_session="));
    // An operator-made API token votes through the JSON API as the member.
    let out = run(server.data_dir.path(), &["admin", "create-token", "grace", "--name", "feed bot"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    assert!(token.starts_with("pb_") && token.len() > 40, "one token on stdout: {token:?}");
    let paper = reqwest::blocking::get(format!("{}/api/daily_papers?limit=1", server.base)).unwrap().text().unwrap();
    let paper: serde_json::Value = serde_json::from_str(&paper).unwrap();
    let id = paper[0]["paper"]["id"].as_str().expect("a paper listed");
    let r = client.post(format!("{}/api/papers/{id}/upvote", server.base)).bearer_auth(&token).send().unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["voted"], true);
    let out = run(server.data_dir.path(), &["admin", "create-token", "nobody"]);
    assert!(!out.status.success() && stderr(&out).contains("no member named nobody"), "{}", stderr(&out));
    let out = run(server.data_dir.path(), &["admin", "hide-comment", "987654"]);
    assert!(!out.status.success() && stderr(&out).contains("987654"), "{}", stderr(&out));
    // Suspended, the password no longer logs in.
    let out = run(server.data_dir.path(), &["admin", "suspend", "grace"]);
    assert!(out.status.success() && stdout(&out).contains("suspended Grace"), "{}", stderr(&out));
    let r = login(&client);
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert!(r.text().unwrap().contains("suspended"));
}

#[test]
fn papers_resolve_asks_arxiv_by_exact_title_and_keeps_what_it_cannot_match() {
    let dir = tempfile::tempdir().unwrap();
    let listing = fixture("ingest/listing/trending-page.txt");
    let import = run(dir.path(), &["import", "--listed-on", "2026-03-11", listing.to_str().unwrap()]);
    assert!(import.status.success(), "{}", stderr(&import));
    // The replay has none of these titles (it answers id queries only).
    let arxiv = paperboy_test_support::arxiv_api::ArxivApi::start();
    let out = std::process::Command::new(common::bin())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["papers", "resolve", "--limit", "2"])
        .env_remove("PAPERBOY_CONFIG")
        .env("PAPERBOY_ARXIV_BASE_URL", &arxiv.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 matched, 2 not found on arXiv"), "{}", stdout(&out));
    let asked = arxiv.requests();
    assert_eq!(asked.len(), 2, "one query per paper: {asked:?}");
    assert!(asked.iter().all(|q| q.contains("search_query=ti%3A%22") || q.contains("search_query=ti:")), "{asked:?}");
    let list = run(dir.path(), &["papers", "list", "--date", "2026-03-11", "--limit", "100", "--json"]);
    assert_eq!(stdout(&list).lines().filter(|l| l.contains("\"pb-")).count(), 73, "nothing was merged");
}
