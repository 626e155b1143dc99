//! `paperboy eval recs DIR` on a tiny fixture (tests/fixtures/recs-mini): the
//! table's rows in order, the recommender finding each user's papers, the
//! JSON form, and a bad papers.jsonl line reported with its number and
//! skipped.

use crate::common::{fixture, run};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn eval_recs_prints_our_row_first_then_the_references_and_skips_a_bad_line() {
    let data = tempfile::tempdir().unwrap();
    let dir = fixture("recs-mini");
    let out = run(data.path(), &["eval", "recs", dir.to_str().unwrap()]);
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "stdout:\n{so}\nstderr:\n{se}");
    assert!(se.contains("papers.jsonl line 7:") && se.contains("skipped"), "stderr:\n{se}");
    assert!(so.contains("3 users, 6 candidates, 12 papers"), "{so}");
    let rows: Vec<&str> = so.lines().skip(2).collect();
    assert_eq!(rows.len(), 3, "{so}");
    assert!(rows[0].starts_with("paperboy ("), "{so}");
    assert!(rows[1].starts_with("recency "), "{so}");
    assert!(rows[2].starts_with("centroid ("), "{so}");
    // Each user's two 2026 papers of their topic come first: perfect scores.
    let cols: Vec<&str> = rows[0].split_whitespace().rev().take(3).collect();
    assert_eq!(cols, ["1.0000", "1.0000", "1.0000"], "{so}");
    // Recency puts the newest (quantum) papers first and does worse.
    assert!(rows[1].contains("0.6754"), "{so}");

    let out = run(data.path(), &["eval", "recs", dir.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let methods = json["methods"].as_array().unwrap();
    assert_eq!(methods.len(), 3);
    assert!(methods[0]["method"].as_str().unwrap().starts_with("paperboy ("));
    assert_eq!(methods[1]["method"], "recency");
    assert_eq!(methods[0]["users"], 3);
    assert_eq!(methods[0]["ndcg@10"], 1.0);
}

#[test]
fn eval_recs_names_the_file_and_line_of_a_bad_users_line() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("recs-mini");
    for f in ["papers.jsonl", "candidates.txt"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(
        dir.path().join("users.jsonl"),
        "{\"user\": \"a\", \"liked\": [], \"relevant\": []}\n{\"user\": 1\n",
    )
    .unwrap();
    let out = run(data.path(), &["eval", "recs", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let se = stderr(&out);
    assert!(se.contains("users.jsonl line 2"), "{se}");
}
