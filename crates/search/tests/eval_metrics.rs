//! Metrics on hand-computed cases, and the whole evaluation on a tiny BEIR
//! fixture (keyword mode, no model needed).

use std::collections::HashMap;
use std::path::PathBuf;

use paperboy_search::SearchMode;
use paperboy_search::eval::{Qrels, eval_beir, load_beir, mrr_at, ndcg_at, recall_at};

fn qrels(items: &[(&str, u32)]) -> Qrels {
    items.iter().map(|(k, g)| (k.to_string(), *g)).collect::<HashMap<_, _>>()
}

fn ranking(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn ndcg_hand_computed() {
    // Relevant: a (grade 2), b (grade 1). Ranking: x, a, b.
    // DCG = 2/log2(3) + 1/log2(4) = 1.26186 + 0.5; IDCG = 2/1 + 1/log2(3) = 2.63093.
    let q = qrels(&[("a", 2), ("b", 1)]);
    let got = ndcg_at(&ranking(&["x", "a", "b"]), &q, 10);
    let want = (2.0 / 3f64.log2() + 0.5) / (2.0 + 1.0 / 3f64.log2());
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    assert!((ndcg_at(&ranking(&["a", "b"]), &q, 10) - 1.0).abs() < 1e-12);
    assert_eq!(ndcg_at(&ranking(&["x", "y"]), &q, 10), 0.0);
    // Cut-off: the relevant doc at rank 2 does not count at k = 1.
    assert_eq!(ndcg_at(&ranking(&["x", "a"]), &q, 1), 0.0);
    // Zero grades are not relevant.
    assert_eq!(ndcg_at(&ranking(&["z"]), &qrels(&[("z", 0)]), 10), 0.0);
}

#[test]
fn recall_and_mrr_hand_computed() {
    let q = qrels(&[("a", 1), ("b", 1), ("c", 1), ("d", 1)]);
    assert_eq!(recall_at(&ranking(&["a", "x", "c"]), &q, 100), 0.5);
    assert_eq!(recall_at(&ranking(&["a", "x", "c"]), &q, 1), 0.25);
    assert_eq!(mrr_at(&ranking(&["x", "y", "b"]), &q, 10), 1.0 / 3.0);
    assert_eq!(mrr_at(&ranking(&["x", "y", "b"]), &q, 2), 0.0);
    assert_eq!(mrr_at(&ranking(&[]), &q, 10), 0.0);
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/search/beir-mini")
}

#[test]
fn loads_beir_format() {
    let d = load_beir(&fixture(), "test").unwrap();
    assert_eq!(d.corpus.len(), 6);
    assert_eq!(d.queries.len(), 4);
    assert_eq!(d.qrels.len(), 3, "the header line is skipped");
    assert_eq!(d.qrels["q3"]["d6"], 2);
    let err = load_beir(&fixture(), "nosuchsplit").unwrap_err();
    assert!(err.to_string().contains("nosuchsplit"), "{err}");
}

#[test]
fn evaluates_the_mini_fixture() {
    let report = eval_beir(&fixture(), "test", &[SearchMode::Keyword], None).unwrap();
    assert_eq!(report.queries, 3);
    assert_eq!(report.documents, 6);
    let row = report.get(SearchMode::Keyword).unwrap();
    // Each query's best document shares its distinctive words: all first.
    assert!((row.mrr_at_10 - 1.0).abs() < 1e-9, "{report}");
    assert!(row.ndcg_at_10 > 0.9, "{report}");
    assert!((row.recall_at_100 - 1.0).abs() < 1e-9, "{report}");
    let table = report.to_string();
    let header = table.lines().find(|l| l.contains("nDCG@10")).unwrap();
    let (n, r, m) =
        (header.find("nDCG@10").unwrap(), header.find("Recall@100").unwrap(), header.find("MRR@10").unwrap());
    assert!(n < r && r < m, "columns in order: {header}");
    assert!(table.contains("| keyword "));
}
