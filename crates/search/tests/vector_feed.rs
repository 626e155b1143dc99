//! Vectors computed elsewhere enter an index through `put_vectors`: a vector
//! counts as current only when its text hash matches the keyword document,
//! the feed position is kept beside the index across reopening, and an
//! index that followed another model's vectors drops them all before
//! following the new model. No model needed: the vectors are made up.

use crate::common;

use common::catalog;
use paperboy_core::embedding::embedding_hash;
use paperboy_search::SearchEngine;

fn unit(seed: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..384).map(|i| ((i * 7 + seed * 13) % 17) as f32 - 8.0).collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

#[test]
fn vectors_from_the_database_enter_the_index_with_their_feed_position() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("index");
    let papers = catalog();
    {
        let engine = SearchEngine::open(&dir, None).unwrap();
        engine.index_keyword_at(1, &papers).unwrap();
        assert_eq!(engine.vector_feed().unwrap(), None);
        assert_eq!(engine.start_vector_feed("aaaa").unwrap(), 0);
        let mut items: Vec<_> = papers
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), embedding_hash(&p.title, &p.abstract_text), unit(i).into()))
            .collect();
        // One vector was computed from other text: it stays pending.
        items[0].1 ^= 1;
        engine.put_vectors("aaaa", 7, &items).unwrap();
        let stats = engine.stats().unwrap();
        assert_eq!((stats.vectors, stats.pending_vectors), (papers.len() as u64 - 1, 1));
        assert_eq!(engine.vector(&papers[1].id), Some(unit(1)));
        // A bad length stores nothing and keeps the position.
        assert!(engine.put_vectors("aaaa", 9, &[(papers[0].id.clone(), 1, vec![0.0; 3].into())]).is_err());
    }
    let engine = SearchEngine::open(&dir, None).unwrap();
    let mark = engine.vector_feed().unwrap().unwrap();
    assert_eq!((mark.fingerprint.as_str(), mark.seq), ("aaaa", 7));
    assert_eq!(engine.start_vector_feed("aaaa").unwrap(), 7, "the same model resumes");
    assert_eq!(engine.stats().unwrap().pending_vectors, 1, "durable across reopening");
    let p = &papers[0];
    engine
        .put_vectors("aaaa", 8, &[(p.id.clone(), embedding_hash(&p.title, &p.abstract_text), unit(0).into())])
        .unwrap();
    assert_eq!(engine.stats().unwrap().pending_vectors, 0);
    // Another model: its vectors never mix with the old ones.
    assert_eq!(engine.start_vector_feed("bbbb").unwrap(), 0);
    let stats = engine.stats().unwrap();
    assert_eq!((stats.vectors, stats.pending_vectors), (0, papers.len() as u64));
    assert_eq!(engine.vector_feed().unwrap().unwrap().fingerprint, "bbbb");
}
