//! The engine with the keyword index only (no model needed): field queries,
//! filters, exclusions, highlights, direct ids, similar papers, removal,
//! the watermark, crash recovery, and one writer per index directory.

use crate::common;

use chrono::NaiveDate;
use common::{catalog, paper};
use paperboy_core::PaperId;
use paperboy_search::{SearchEngine, SearchMode, SearchOptions};

fn engine() -> (tempfile::TempDir, SearchEngine) {
    let dir = tempfile::tempdir().unwrap();
    let e = SearchEngine::open(&dir.path().join("index"), None).unwrap();
    e.index_papers_at(1, &catalog()).unwrap();
    (dir, e)
}

fn ids(e: &SearchEngine, q: &str) -> Vec<String> {
    e.search(q, &SearchOptions::default()).unwrap().hits.iter().map(|h| h.id.to_string()).collect()
}

#[test]
fn keyword_search_ranks_and_falls_back_without_model() {
    let (_d, e) = engine();
    let r = e.search("selective state space", &SearchOptions::default()).unwrap();
    assert_eq!(r.hits[0].id.to_string(), "2312.00752");
    assert_eq!(r.mode_used, SearchMode::Keyword, "hybrid falls back to keyword without a model");
    assert!(!r.semantic_available);
    // Stemming: "transformers" finds "Transformer".
    assert!(ids(&e, "transformers").contains(&"1706.03762".to_string()));
}

#[test]
fn author_phrase_and_title_fields() {
    let (_d, e) = engine();
    let mut got = ids(&e, r#"au:"Tri Dao""#);
    got.sort();
    assert_eq!(got, ["2205.14135", "2312.00752"]);
    assert!(ids(&e, r#"au:"Dao Tri""#).is_empty(), "author phrases keep word order");
    let ti = ids(&e, "ti:attention");
    assert_eq!(ti.len(), 2);
    assert!(!ti.contains(&"2312.00752".to_string()), "Mamba has attention only in its abstract");
    // Accent folding in names.
    assert_eq!(ids(&e, "au:muller"), ["2502.00002"]);
}

#[test]
fn category_filters_exact_and_prefix() {
    let (_d, e) = engine();
    let mut cs = ids(&e, "cat:cs.*");
    cs.sort();
    assert_eq!(cs, ["1706.03762", "2006.11239", "2205.14135", "2312.00752", "2502.00002"]);
    let mut archive = ids(&e, "cat:cs");
    archive.sort();
    assert_eq!(archive, cs, "cat:cs means the whole archive, like cat:cs.*");
    assert_eq!(ids(&e, "cat:quant-ph"), ["2501.00001"]);
    assert_eq!(ids(&e, "cat:CS.CV"), ["2502.00002"]);
    let r = ids(&e, "transformer cat:cs.CL");
    assert_eq!(r, ["1706.03762"]);
    // Filter-only queries list newest first.
    assert_eq!(ids(&e, "cat:cs.LG")[0], "2312.00752");
    // Caller-side category option.
    let opts = SearchOptions { category: Some("stat.ML".into()), ..SearchOptions::default() };
    let r = e.search("models", &opts).unwrap();
    assert_eq!(r.hits.iter().map(|h| h.id.to_string()).collect::<Vec<_>>(), ["2006.11239"]);
}

#[test]
fn exclusions_and_dates() {
    let (_d, e) = engine();
    let with = ids(&e, "transformer");
    assert!(with.contains(&"2502.00002".to_string()));
    let without = ids(&e, "transformer -vision");
    assert!(!without.contains(&"2502.00002".to_string()));
    assert!(!without.is_empty());
    assert!(!ids(&e, "transformer -cat:cs.CV").contains(&"2502.00002".to_string()));
    let since = ids(&e, "transformer since:2023-01-01");
    assert!(since.iter().all(|id| id.as_str() >= "2312"), "{since:?}");
    assert!(since.contains(&"2502.00002".to_string()));
    assert_eq!(ids(&e, "year:2017"), ["1706.03762"]);
    assert_eq!(ids(&e, "until:2017-12-31 attention"), ["1706.03762"]);
    let opts = SearchOptions { since: NaiveDate::from_ymd_opt(2025, 1, 1), ..SearchOptions::default() };
    let r = e.search("", &opts).unwrap();
    assert_eq!(r.hits.len(), 2);
}

#[test]
fn highlights_escape_everything_and_mark_matches() {
    let (_d, e) = engine();
    let r = e.search("diffusion score", &SearchOptions::default()).unwrap();
    let h = r.hits[0].highlights.as_ref().unwrap();
    assert_eq!(h.title_html, "Denoising <mark>Diffusion</mark> Probabilistic Models");
    assert!(h.abstract_html.contains("&lt;b&gt;and&lt;/b&gt;"), "{}", h.abstract_html);
    assert!(h.abstract_html.contains("&amp;"));
    assert!(h.abstract_html.contains("<mark>score</mark>"));
    assert!(!h.abstract_html.contains("<b>"));
}

#[test]
fn direct_id_jumps() {
    let (_d, e) = engine();
    let r = e.search("https://arxiv.org/abs/2312.00752v2", &SearchOptions::default()).unwrap();
    assert_eq!(r.direct_id.as_ref().unwrap().to_string(), "2312.00752");
    assert_eq!(r.hits.len(), 1);
    let r = e.search("2401.99999", &SearchOptions::default()).unwrap();
    assert!(r.direct_id.is_some());
    assert!(r.hits.is_empty(), "unknown id: the site may still jump or fetch it");
}

#[test]
fn hostile_queries_do_not_error() {
    let (_d, e) = engine();
    let long = "attention ".repeat(1_200);
    for q in [
        long.as_str(),
        "\"unbalanced",
        "title:(a OR b) AND c^2 ~3 [1 TO 5] +x -y *z? /re/",
        "\u{0}\u{1b}[2J mamba",
        "-",
        "ti:",
        "\"\"",
        "foo:bar",
        "-\"\" -ti: cat:",
    ] {
        let r = e.search(q, &SearchOptions::default());
        assert!(r.is_ok(), "{q:?}: {r:?}");
    }
    assert!(!e.search(&long, &SearchOptions::default()).unwrap().hits.is_empty());
    assert_eq!(ids(&e, "\u{0}mamba\u{7}")[0], "2312.00752");
}

#[test]
fn pagination_and_limits() {
    let (_d, e) = engine();
    let all = ids(&e, "the");
    let page = e.search("the", &SearchOptions { limit: 2, offset: 1, ..SearchOptions::default() }).unwrap();
    let got: Vec<String> = page.hits.iter().map(|h| h.id.to_string()).collect();
    assert_eq!(got, all[1..3].to_vec());
    assert!(page.total_estimate >= all.len());
}

#[test]
fn similar_falls_back_to_keyword_more_like_this() {
    let (_d, e) = engine();
    let id = PaperId::parse("2205.14135").unwrap();
    let sim = e.similar(&id, 3).unwrap();
    assert!(!sim.is_empty());
    assert!(sim.iter().all(|h| h.id != id));
    assert!(e.similar(&PaperId::parse("2401.99999").unwrap(), 3).unwrap().is_empty());
}

#[test]
fn replace_and_remove() {
    let (_d, e) = engine();
    let mut p = catalog()[0].clone();
    p.title = "Renamed hyena operator".into();
    e.index_papers(&[p]).unwrap();
    assert_eq!(e.stats().unwrap().docs, 6);
    assert_eq!(ids(&e, "hyena"), ["2312.00752"]);
    assert!(!ids(&e, "ti:mamba").contains(&"2312.00752".to_string()));
    e.remove_at(7, &[PaperId::parse("2312.00752").unwrap()]).unwrap();
    assert!(ids(&e, "hyena").is_empty());
    assert_eq!(e.stats().unwrap().docs, 5);
    assert_eq!(e.applied_seq().unwrap(), 7);
}

#[test]
fn watermark_survives_reopen_and_never_goes_down() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    {
        let e = SearchEngine::open(&path, None).unwrap();
        assert_eq!(e.applied_seq().unwrap(), 0);
        e.index_papers_at(41, &catalog()[..2]).unwrap();
        e.index_papers_at(40, &catalog()[2..3]).unwrap();
        assert_eq!(e.applied_seq().unwrap(), 41);
        e.set_applied_seq(42).unwrap();
    }
    let e = SearchEngine::open(&path, None).unwrap();
    assert_eq!(e.applied_seq().unwrap(), 42);
    let s = e.stats().unwrap();
    assert_eq!(s.docs, 3);
    assert_eq!(s.pending_vectors, 3, "indexed without a model: vectors pending");
    assert_eq!(e.embed_pending(10, |_, _| {}).unwrap(), 0, "no model, nothing embedded");
}

#[test]
fn crash_before_commit_loses_only_uncommitted_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    {
        let e = SearchEngine::open(&path, None).unwrap();
        e.index_papers_at(10, &catalog()[..3]).unwrap();
        // Staged but never committed, then the process "dies".
        e.stage_without_commit(&catalog()[3..]).unwrap();
    }
    let e = SearchEngine::open(&path, None).unwrap();
    assert_eq!(e.applied_seq().unwrap(), 10, "the caller replays its changes after 10");
    assert_eq!(e.stats().unwrap().docs, 3);
    assert!(ids(&e, "diffusion").is_empty());
    // Replaying brings it up to date; the writer lock was released.
    e.index_papers_at(11, &catalog()[3..]).unwrap();
    assert_eq!(e.stats().unwrap().docs, 6);
    assert_eq!(ids(&e, "diffusion")[0], "2006.11239");
}

#[test]
fn second_writer_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let a = SearchEngine::open(&path, None).unwrap();
    a.index_papers(&catalog()[..1]).unwrap();
    let b = SearchEngine::open(&path, None).unwrap();
    let err = b.index_papers(&catalog()[1..2]).unwrap_err();
    assert!(err.to_string().contains("locked"), "{err}");
    // Readers still work.
    assert_eq!(b.stats().unwrap().docs, 1);
}

#[test]
fn local_ids_are_indexed_too() {
    let (_d, e) = engine();
    let local = PaperId::local_from_title("A paper from a pasted page");
    let mut p = paper("2312.00752", "A paper from a pasted page", "pasted abstract words", &[], &[], (2025, 3, 1));
    p.id = local.clone();
    e.index_papers(&[p]).unwrap();
    assert_eq!(ids(&e, "pasted"), [local.to_string()]);
}

#[test]
fn a_second_opener_reads_while_the_first_writes() {
    let (dir, writer) = engine();
    let path = dir.path().join("index");
    assert!(!writer.is_read_only());
    // Another opener (an OS file lock: another process, or another open here).
    let reader = SearchEngine::open(&path, None).unwrap();
    assert!(reader.is_read_only());
    assert_eq!(ids(&reader, "ti:attention").len(), 2, "it searches the committed index");
    assert_eq!(reader.applied_seq().unwrap(), 1);
    for result in [
        reader.index_papers_at(2, &catalog()),
        reader.set_applied_seq(5),
        reader.remove(&[PaperId::parse("2312.00752").unwrap()]),
        reader.checkpoint(),
    ] {
        assert!(matches!(result, Err(paperboy_search::SearchError::Locked(_))), "{result:?}");
    }
    assert_eq!(writer.applied_seq().unwrap(), 1, "nothing was written");
    writer.set_applied_seq(3).unwrap();
    drop(reader);
    drop(writer);
    // The lock goes with its holder.
    let next = SearchEngine::open(&path, None).unwrap();
    assert!(!next.is_read_only());
    assert_eq!(next.applied_seq().unwrap(), 3);
    next.set_applied_seq(4).unwrap();
}
