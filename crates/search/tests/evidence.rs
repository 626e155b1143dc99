//! Evidence vectors end to end: what texts a paper gets, that the engine
//! stores them and re-scores with them (a paper is found by the part of a
//! long abstract its 256-token vector cannot see), and that changing the
//! kind re-embeds a standalone index. Needs the model: skipped with a
//! message when it is absent, failing under CI.

use crate::common;

use std::sync::Arc;

use common::{catalog, model_dir, paper};
use paperboy_core::Paper;
use paperboy_search::{Embedder, Evidence, SearchEngine, SearchMode, SearchOptions};

/// A paper whose abstract talks about query planning for well over 256
/// tokens, and only at the very end about protein structure.
fn long_paper() -> Paper {
    let mut abs = String::new();
    for i in 0..24 {
        abs.push_str(&format!(
            "Step {i} of the optimiser enumerates join orders for relational query plans and estimates their cost. "
        ));
    }
    abs.push_str(
        "Finally, we predict the folded three-dimensional structure of proteins from their amino acid sequence.",
    );
    paper("2501.00100", "A Long Report", &abs, &["A. Author"], &["cs.DB"], (2025, 1, 10))
}

fn semantic_score(e: &SearchEngine, query: &str, id: &str) -> (usize, f32) {
    let opts = SearchOptions { mode: SearchMode::Semantic, limit: 20, ..SearchOptions::default() };
    let r = e.search(query, &opts).unwrap();
    assert_eq!(r.mode_used, SearchMode::Semantic);
    r.hits.iter().enumerate().find(|(_, h)| h.id.to_string() == id).map(|(i, h)| (i, h.score)).expect("found")
}

#[test]
fn texts_follow_the_kind() {
    let Some(dir) = model_dir("texts_follow_the_kind") else {
        return;
    };
    let emb = Embedder::load(&dir).unwrap();
    assert_eq!(emb.evidence(), Evidence::Passages, "the default");
    let p = long_paper();
    let passages = emb.evidence_texts(&p.title, &p.abstract_text);
    assert_eq!(passages.len(), 2, "{passages:?}");
    assert!(passages.iter().all(|t| t.starts_with("A Long Report. ")));
    assert!(passages[1].ends_with("amino acid sequence."));
    let short = &catalog()[0];
    assert!(emb.evidence_texts(&short.title, &short.abstract_text).is_empty(), "the first vector sees it all");
    assert!(emb.evidence_texts("Title only", "  ").is_empty());

    let fp = emb.model_key().fingerprint.clone();
    let emb = emb.with_evidence(Evidence::Sentences);
    assert_ne!(emb.model_key().fingerprint, fp, "the kind is part of the fingerprint");
    let sentences = emb.evidence_texts(&p.title, &p.abstract_text);
    assert_eq!(sentences.len(), 25);
    assert_eq!(
        sentences[0],
        "A Long Report. Step 0 of the optimiser enumerates join orders for relational query plans and estimates their cost."
    );
    let vectors = emb.embed_papers(&[(&p.title, &p.abstract_text), (&short.title, &short.abstract_text)]).unwrap();
    assert_eq!((vectors[0].evidence.len(), vectors[1].evidence.len()), (25, 2));
    let alone = emb.embed(&[&paperboy_core::embedding::embedding_text(&p.title, &p.abstract_text)]).unwrap();
    let cosine: f32 = alone[0].iter().zip(&vectors[0].vector).map(|(a, b)| a * b).sum();
    assert!(cosine > 0.9999, "the paper's vector is its `title. abstract` vector ({cosine})");
    let off = emb.with_evidence(Evidence::Off);
    assert!(off.evidence_texts(&p.title, &p.abstract_text).is_empty());
    assert!(off.embed_papers(&[(&p.title, &p.abstract_text)]).unwrap()[0].evidence.is_empty());
}

#[test]
fn evidence_finds_the_end_of_a_long_abstract_and_a_new_kind_reembeds() {
    let Some(dir) = model_dir("evidence_finds_the_end_of_a_long_abstract_and_a_new_kind_reembeds") else {
        return;
    };
    let base = Embedder::load(&dir).unwrap();
    let mut papers = catalog();
    papers.push(long_paper());
    let query = "predicting how proteins fold from their sequence";
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("index");

    let mut scores = Vec::new();
    for kind in [Evidence::Off, Evidence::Passages, Evidence::Sentences] {
        let emb = Arc::new(Embedder::load(&dir).unwrap().with_evidence(kind));
        let e = SearchEngine::open(&path, Some(emb)).unwrap();
        // The first open has no vectors; each later one finds the previous
        // kind's and drops them: every paper waits again.
        assert_eq!(e.stats().unwrap().pending_vectors, if kind == Evidence::Off { 0 } else { papers.len() as u64 });
        if kind == Evidence::Off {
            e.index_papers_at(1, &papers).unwrap();
        } else {
            assert_eq!(e.embed_pending(8, |_, _| {}).unwrap(), papers.len());
        }
        assert_eq!(e.stats().unwrap().pending_vectors, 0);
        scores.push(semantic_score(&e, query, "2501.00100"));
        // Hybrid and similar papers work the same way with evidence.
        let r = e.search("efficient attention kernels", &SearchOptions::default()).unwrap();
        assert_eq!((r.mode_used, r.hits[0].id.to_string().as_str()), (SearchMode::Hybrid, "2205.14135"));
        assert_eq!(e.similar(&papers[1].id, 3).unwrap().len(), 3);
    }
    let (off, passages, sentences) = (scores[0], scores[1], scores[2]);
    // The 256-token vector never reaches the last sentence; a passage does,
    // and a sentence vector most of all.
    assert!(passages.1 > off.1 + 0.05, "passages {passages:?} vs off {off:?}");
    assert!(sentences.1 > passages.1, "sentences {sentences:?} vs passages {passages:?}");
    assert_eq!(sentences.0, 0, "with sentences it ranks first");
    drop(base);

    // Removing the paper removes its evidence: reopened, nothing waits and
    // the search still answers.
    let emb = Arc::new(Embedder::load(&dir).unwrap().with_evidence(Evidence::Sentences));
    let e = SearchEngine::open(&path, Some(emb.clone())).unwrap();
    assert_eq!(e.stats().unwrap().pending_vectors, 0, "the same kind reopens without re-embedding");
    e.remove_at(2, &[papers.last().unwrap().id.clone()]).unwrap();
    drop(e);
    // An index from before the model was recorded (or filled without one)
    // is taken to hold the opening model's vectors: nothing is dropped.
    let marker = path.join(paperboy_search::engine::VECTOR_MODEL_FILE);
    std::fs::remove_file(&marker).unwrap();
    let e = SearchEngine::open(&path, Some(emb.clone())).unwrap();
    assert_eq!(e.stats().unwrap().pending_vectors, 0);
    assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), emb.model_key().fingerprint);
    drop(e);
    let evidence_dir = path.join("evidence");
    let store = paperboy_search::evidence_store::EvidenceStore::open(&evidence_dir, 384).unwrap();
    assert_eq!(store.count("2501.00100"), 0);
    assert!(store.count("2312.00752") > 0);
}
