//! `paperboy harvest` as a real process against a real local OAI-PMH replay
//! server: killed (SIGKILL) while waiting for page 3, then restarted, it
//! resumes from the checkpoint (the server's request log shows pages 1 and 2
//! are not fetched again), losing and duplicating nothing; `harvest status`
//! shows both runs; an OAI error fails the command and is recorded. The
//! harvest lease (5 s here) keeps a restart from harvesting until the killed
//! process's lease has run out.

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use paperboy_store::{Catalog, Coordination, HarvestStatus, Harvests, SqlStore};
use paperboy_test_support::oai::{Replay, Reply, chain, fixture, raw_page, split_pages};

fn harvest_cmd(data_dir: &std::path::Path, base: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(common::bin());
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(["harvest", "--base-url", base, "--format", "arXivRaw", "--set", "", "--categories", ""])
        .args(["--from", "2008-01-01", "--pacing", "0"])
        .args(extra)
        .env_remove("PAPERBOY_CONFIG")
        .env("PAPERBOY_HARVEST_TIMEOUT", "120")
        .env("PAPERBOY_JOB_LEASE_SECONDS", "5")
        .env("PAPERBOY_LOG", "warn");
    cmd
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn a_killed_harvest_resumes_from_its_checkpoint_without_loss_or_duplicates() {
    let pages = split_pages(&raw_page(), 3, "k");
    let replay = Replay::start(chain(&pages, "k"));
    // Page 3 hangs the first time: the process is killed while waiting for it.
    replay.set("k|2", vec![Reply::Hang, Reply::Xml(pages[2].clone())]);
    let dir = tempfile::tempdir().unwrap();
    let mut child = harvest_cmd(dir.path(), &replay.base, &[]).stdout(Stdio::null()).spawn().unwrap();
    // Page 3 is fetched while page 2 is stored; kill once page 2's checkpoint is committed.
    let deadline = Instant::now() + Duration::from_secs(120);
    while replay.requests().is_empty() {
        // The first request comes after the child has created the database.
        assert!(Instant::now() < deadline, "the harvest never asked for a page");
        assert!(child.try_wait().unwrap().is_none(), "the harvest exited early");
        std::thread::sleep(Duration::from_millis(10));
    }
    let rt = runtime();
    let store = rt.block_on(SqlStore::open_sqlite(&dir.path().join("paperboy.db"))).unwrap();
    loop {
        let run = rt.block_on(store.harvest_run(1)).unwrap();
        if replay.tokens().contains(&Some("k|2".to_string()))
            && run.is_some_and(|r| r.next_token.as_deref() == Some("k|2"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "the harvest never reached page 3: {:?}", replay.requests());
        assert!(child.try_wait().unwrap().is_none(), "the harvest exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // The dead process's lease has not run out yet: a restart is refused
    // before it asks for anything, and says until when.
    let lease = rt.block_on(store.lease("harvest")).unwrap().expect("the killed harvest held the lease");
    let refused = harvest_cmd(dir.path(), &replay.base, &[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "a second harvester ran while the lease was held");
    assert!(stderr.contains("holds the harvest lease") && stderr.contains(&lease.holder), "{stderr}");
    assert_eq!(replay.tokens().len(), 3, "the refused restart asked for nothing");
    assert_eq!(rt.block_on(store.recent_harvests(10)).unwrap().len(), 1, "and recorded no run");
    let status = common::run(dir.path(), &["harvest", "status"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains(&format!("Harvesting now: {} holds the harvest lease", lease.holder)), "{text}");
    while chrono::Utc::now() <= lease.expires_at {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(store);

    let out = harvest_cmd(dir.path(), &replay.base, &[]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("harvest run 2 completed, resuming run 1"), "{stdout}");
    assert_eq!(
        replay.tokens(),
        vec![None, Some("k|1".into()), Some("k|2".into()), Some("k|2".into())],
        "the restart asked for the checkpointed page only"
    );

    rt.block_on(async {
        let store = SqlStore::open_sqlite(&dir.path().join("paperboy.db")).await.unwrap();
        let first = store.harvest_run(1).await.unwrap().unwrap();
        let second = store.harvest_run(2).await.unwrap().unwrap();
        assert_eq!(first.status, HarvestStatus::Interrupted);
        assert_eq!(first.pages, 2);
        assert_eq!(second.status, HarvestStatus::Completed);
        assert_eq!((second.resumed_from, second.start_token.as_deref()), (Some(1), Some("k|2")));
        assert_eq!(first.counts.records + second.counts.records, 1000, "every record read exactly once");
        assert_eq!(second.counts.unchanged, 0, "nothing stored before the kill was stored again");
        let papers = store.count_papers().await.unwrap();
        assert_eq!(papers, first.counts.inserted + second.counts.inserted, "no record lost");
        assert_eq!(papers + first.counts.rejected + second.counts.rejected, 1000);
    });

    let status = common::run(dir.path(), &["harvest", "status"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success());
    assert!(text.contains("interrupted") && text.contains("completed"), "{text}");
    assert!(text.contains("resumed by run 2"), "{text}");
    assert!(text.contains("Harvesting now: no one"), "the finished harvest gave its lease up: {text}");
}

#[test]
fn an_oai_error_fails_the_command_and_is_recorded() {
    let replay =
        Replay::start(vec![(String::new(), vec![Reply::Xml(fixture("handmade-error-badResumptionToken.xml"))])]);
    let dir = tempfile::tempdir().unwrap();
    let out = harvest_cmd(dir.path(), &replay.base, &[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("badResumptionToken") && stderr.contains("run it again"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("harvest run 1 failed"));
    let status = common::run(dir.path(), &["harvest", "status"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("failed") && text.contains("last error") && text.contains("badResumptionToken"), "{text}");
    assert!(text.contains("Scheduled: off"), "{text}");
}

#[test]
fn bad_arguments_are_refused_before_any_request() {
    let replay = Replay::start(Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let out = harvest_cmd(dir.path(), &replay.base, &["--until", "2007-01-01"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("swap them"));
    let out = common::run(dir.path(), &["harvest", "--format", "oai_dc"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("arXivRaw"));
    assert!(replay.requests().is_empty());
}
