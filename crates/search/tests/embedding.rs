//! Embedding exactness against sentence-transformers' reference vectors
//! (tests/fixtures/search/minilm-reference.json, from
//! bench/search/make_reference.py), and the engine's semantic paths. Needs
//! the model: skipped with a message when it is absent, failing under CI.

use crate::common;

use std::sync::Arc;

use common::{catalog, model_dir};
use paperboy_core::PaperId;
use paperboy_search::bert::Arithmetic;
use paperboy_search::{Embedder, SearchEngine, SearchError, SearchMode, SearchOptions};

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[test]
fn missing_model_error_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let err = Embedder::load(dir.path()).unwrap_err();
    assert!(matches!(err, SearchError::ModelMissing { file: "model.safetensors", .. }));
    let msg = err.to_string();
    assert!(msg.contains("model.safetensors") && msg.contains("scripts/fetch-model.sh"), "{msg}");
}

/// The reference texts and sentence-transformers' vectors for them.
fn reference_items() -> Vec<(String, Vec<f32>)> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/search/minilm-reference.json");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let items = doc["items"].as_array().unwrap();
    assert!(items.len() >= 20);
    assert!(items.iter().any(|i| i["tokens_untruncated"].as_u64().unwrap() > 256), "a long text is covered");
    items
        .iter()
        .map(|i| {
            let v = i["vector"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
            (i["text"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

/// Every text's vector is within `min_cosine` of sentence-transformers',
/// unit length, and the same alone as packed in a batch.
fn check_against_reference(emb: &Embedder, min_cosine: f32) {
    assert_eq!(emb.dim(), 384);
    let items = reference_items();
    let texts: Vec<&str> = items.iter().map(|(t, _)| t.as_str()).collect();
    let got = emb.embed(&texts).unwrap();
    for ((text, want), v) in items.iter().zip(&got) {
        let c = cosine(v, want);
        assert!(c >= min_cosine, "cosine {c} for {text:?} ({})", emb.arithmetic());
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
    // Packing sequences into one batch does not leak between them: every
    // text alone gives the vector it got in the batch.
    for (text, batched) in texts.iter().zip(&got) {
        let single = emb.embed(&[text]).unwrap();
        let c = cosine(&single[0], batched);
        assert!(c > 0.99999, "alone vs batched cosine {c} for {text:?} ({})", emb.arithmetic());
    }
}

#[test]
fn matches_sentence_transformers_reference() {
    let Some(dir) = model_dir("matches_sentence_transformers_reference") else {
        return;
    };
    let emb = Embedder::load_with(&dir, Arithmetic::F32).unwrap();
    assert_eq!(emb.arithmetic(), "f32-packed-1");
    check_against_reference(&emb, 0.999);
}

/// The int8 path (AVX-512 VNNI) trades a little exactness for speed: every
/// vector stays within cosine 0.99 of sentence-transformers'.
#[test]
fn int8_path_stays_close_to_sentence_transformers_reference() {
    let Some(dir) = model_dir("int8_path_stays_close_to_sentence_transformers_reference") else {
        return;
    };
    if !Arithmetic::Int8Vnni.is_available() {
        eprintln!("SKIPPED: this CPU has no AVX-512 VNNI, the int8 path is never chosen");
        assert_eq!(Embedder::load(&dir).unwrap().arithmetic(), "f32-packed-1");
        return;
    }
    let emb = Embedder::load_with(&dir, Arithmetic::Int8Vnni).unwrap();
    assert_eq!(emb.arithmetic(), "int8-vnni-1");
    check_against_reference(&emb, 0.99);
}

#[test]
fn engine_semantic_hybrid_similar_and_pending() {
    let Some(dir) = model_dir("engine_semantic_hybrid_similar_and_pending") else {
        return;
    };
    let emb = Arc::new(Embedder::load(&dir).unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("index");
    {
        // Indexed without a model: vectors pending.
        let e = SearchEngine::open(&path, None).unwrap();
        e.index_papers_at(5, &catalog()).unwrap();
    }
    let e = SearchEngine::open(&path, Some(emb.clone())).unwrap();
    assert_eq!(e.stats().unwrap().pending_vectors, 6);
    let mut calls = Vec::new();
    assert_eq!(e.embed_pending(4, |d, t| calls.push((d, t))).unwrap(), 6);
    assert_eq!(calls, [(4, 6), (6, 6)]);
    assert_eq!(e.stats().unwrap().pending_vectors, 0);

    // Semantic search finds meaning without shared words.
    let opts = SearchOptions { mode: SearchMode::Semantic, ..SearchOptions::default() };
    let r = e.search("generating pictures by gradually removing noise", &opts).unwrap();
    assert_eq!(r.mode_used, SearchMode::Semantic);
    assert_eq!(r.hits[0].id.to_string(), "2006.11239");
    // Filters apply to semantic results too.
    let r = e.search("generating pictures by gradually removing noise cat:quant-ph", &opts).unwrap();
    assert!(r.hits.iter().all(|h| h.id.to_string() == "2501.00001"));
    let narrow: Vec<String> = r.hits.iter().map(|h| h.id.to_string()).collect();
    assert!(!narrow.is_empty());
    // The broad-filter path (graph walk, each candidate checked against the
    // filter) gives the same answer as the exact scan of the matches.
    e.set_exact_filter_below(0);
    let r = e.search("generating pictures by gradually removing noise cat:quant-ph", &opts).unwrap();
    assert_eq!(r.hits.iter().map(|h| h.id.to_string()).collect::<Vec<_>>(), narrow);
    let r = e.search("generating pictures by gradually removing noise -quantum", &opts).unwrap();
    assert!(!r.hits.is_empty() && r.hits.iter().all(|h| h.id.to_string() != "2501.00001"));
    e.set_exact_filter_below(usize::MAX);
    let r2 = e.search("generating pictures by gradually removing noise -quantum", &opts).unwrap();
    assert_eq!(
        r.hits.iter().map(|h| h.id.to_string()).collect::<Vec<_>>(),
        r2.hits.iter().map(|h| h.id.to_string()).collect::<Vec<_>>()
    );
    let r = e.search("efficient attention kernels", &SearchOptions::default()).unwrap();
    assert_eq!(r.mode_used, SearchMode::Hybrid);
    assert!(r.semantic_available);
    assert_eq!(r.hits[0].id.to_string(), "2205.14135");

    // Similar by vector.
    let id = PaperId::parse("2205.14135").unwrap();
    let sim = e.similar(&id, 2).unwrap();
    assert_eq!(sim.len(), 2);
    assert!(sim.iter().all(|h| h.id != id));

    // A changed text makes the vector stale until re-embedded (here at once:
    // the engine has a model).
    let mut p = catalog()[4].clone();
    p.abstract_text = "Completely different: a study of protein folding.".into();
    e.index_papers_at(6, &[p]).unwrap();
    assert_eq!(e.stats().unwrap().pending_vectors, 0);
    drop(e);

    // Torn vector log: reopen, the lost vectors are pending, the watermark intact.
    let log = path.join("vectors/vectors.log");
    let len = std::fs::metadata(&log).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&log).unwrap().set_len(len - 10).unwrap();
    let e = SearchEngine::open(&path, Some(emb)).unwrap();
    assert_eq!(e.applied_seq().unwrap(), 6);
    let s = e.stats().unwrap();
    assert_eq!(s.docs, 6);
    assert_eq!(s.pending_vectors, 1, "the torn record's paper is pending again");
    assert_eq!(e.embed_pending(16, |_, _| {}).unwrap(), 1);
}
