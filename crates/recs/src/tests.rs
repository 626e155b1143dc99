//! The engine's behaviour on small fixed corpora: exclusions, reasons, cold
//! start, the "not for me" push-down, determinism and cached features.

use std::collections::HashSet;

use crate::rank::z;
use crate::{Candidate, Features, Item, Profile, Reason, Recommender, SearchMatch};

const NONE: &[String] = &[];

fn item<'a>(id: &'a str, title: &'a str, text: &'a str) -> Item<'a> {
    Item { id, title, text, authors: NONE, categories: NONE, vector: None }
}

fn cand(item: Item<'_>, popularity: f32) -> Candidate<'_> {
    Candidate { item, popularity }
}

/// Two topics, three papers each, plus two generic ones.
fn corpus() -> Vec<Item<'static>> {
    vec![
        item(
            "g1",
            "Graph neural networks for molecules",
            "message passing graph neural networks predict molecular properties",
        ),
        item(
            "g2",
            "Scalable graph neural networks",
            "sampling neighbours makes graph neural networks scale to large graphs",
        ),
        item("g3", "Graph transformers", "attention over graph nodes with positional encodings of the graph"),
        item(
            "s1",
            "Speech recognition with transducers",
            "streaming speech recognition with recurrent neural transducers",
        ),
        item(
            "s2",
            "Self-supervised speech models",
            "speech representations learned from unlabelled audio for recognition",
        ),
        item("s3", "Speech translation", "end-to-end speech translation without transcripts of the audio"),
        item("o1", "A survey of benchmarks", "we review benchmarks and evaluation practice"),
        item("o2", "Optimisation tricks", "learning rate schedules and warmup for training"),
    ]
}

fn ids(scored: &[crate::Scored], cands: &[Candidate]) -> Vec<String> {
    scored.iter().map(|s| cands[s.index].item.id.to_string()).collect()
}

#[test]
fn papers_like_the_liked_ones_come_first_with_the_closest_like_as_reason() {
    let all = corpus();
    let profile = Profile { liked: vec![all[0], all[1]], ..Profile::default() };
    let cands: Vec<Candidate> = all[2..].iter().map(|i| cand(*i, 0.0)).collect();
    let ranked = Recommender::default().rank(&profile, &cands);
    assert_eq!(ranked.len(), cands.len());
    assert_eq!(cands[ranked[0].index].item.id, "g3", "{:?}", ids(&ranked, &cands));
    match &ranked[0].reason {
        Reason::Like { id, title } => {
            assert!(id == "g1" || id == "g2");
            assert_eq!(title, if id == "g1" { all[0].title } else { all[1].title });
        }
        other => panic!("expected a Like reason, got {other:?}"),
    }
}

#[test]
fn liked_and_disliked_papers_are_never_recommended() {
    let all = corpus();
    let profile = Profile { liked: vec![all[0]], disliked: vec![all[3]], ..Profile::default() };
    let cands: Vec<Candidate> = all.iter().map(|i| cand(*i, 1.0)).collect();
    let ranked = Recommender::default().rank(&profile, &cands);
    let got = ids(&ranked, &cands);
    assert_eq!(got.len(), all.len() - 2);
    assert!(!got.contains(&"g1".to_string()) && !got.contains(&"s1".to_string()), "{got:?}");
}

#[test]
fn what_resembles_a_not_for_me_paper_goes_down() {
    let all = corpus();
    let liked = item("m", "Neural models", "neural networks for graph and speech recognition tasks");
    let cands: Vec<Candidate> = all.iter().map(|i| cand(*i, 0.0)).collect();
    let r = Recommender::default();
    let before = ids(&r.rank(&Profile { liked: vec![liked], ..Profile::default() }, &cands), &cands);
    let disliked = item("d", "Speech recognition", "speech recognition of audio with transducers");
    let after =
        ids(&r.rank(&Profile { liked: vec![liked], disliked: vec![disliked], ..Profile::default() }, &cands), &cands);
    let pos = |v: &[String], id: &str| v.iter().position(|x| x == id).unwrap();
    assert!(pos(&after, "s1") > pos(&before, "s1"), "before {before:?}, after {after:?}");
    assert!(pos(&after, "g1") <= pos(&before, "g1"), "before {before:?}, after {after:?}");
}

#[test]
fn cold_start_orders_by_follows_then_popularity() {
    let all = corpus();
    let authors = vec!["Ada Lovelace".to_string()];
    let cats = vec!["cs.SD".to_string()];
    let followed_author = vec!["ada  LOVELACE".to_string()];
    let followed_cat = vec!["cs.sd".to_string()];
    let mut by_ada = all[6];
    by_ada.authors = &authors;
    let mut in_sd = all[4];
    in_sd.categories = &cats;
    let cands = vec![cand(all[0], 5.0), cand(in_sd, 1.0), cand(all[1], 9.0), cand(by_ada, 0.0), cand(all[2], 5.0)];
    let profile = Profile { authors: &followed_author, categories: &followed_cat, ..Profile::default() };
    let ranked = Recommender::default().rank(&profile, &cands);
    assert_eq!(ids(&ranked, &cands), ["o1", "s2", "g2", "g1", "g3"]);
    assert_eq!(ranked[0].reason, Reason::Author { name: "Ada Lovelace".into() });
    assert_eq!(ranked[1].reason, Reason::Category { name: "cs.SD".into() });
    assert_eq!(ranked[2].reason, Reason::Popular);
}

#[test]
fn a_followed_author_is_the_reason_when_similarity_is_weak() {
    let all = corpus();
    let authors = vec!["Grace Hopper".to_string()];
    let mut by_grace = all[7];
    by_grace.authors = &authors;
    let query = "speech";
    let searches = vec![SearchMatch { query, ids: HashSet::from(["s3"]) }];
    let profile = Profile { liked: vec![all[0]], authors: &authors, searches, ..Profile::default() };
    let cands = vec![cand(all[1], 0.0), cand(by_grace, 0.0), cand(all[5], 0.0), cand(all[3], 0.0)];
    let ranked = Recommender::default().rank(&profile, &cands);
    let reason_of = |id: &str| ranked.iter().find(|s| cands[s.index].item.id == id).unwrap().reason.clone();
    assert_eq!(reason_of("o2"), Reason::Author { name: "Grace Hopper".into() });
    assert_eq!(reason_of("s3"), Reason::SavedSearch { query: "speech".into() });
    assert_eq!(reason_of("g2"), Reason::Like { id: "g1".into(), title: all[0].title.into() });
    // the bonus lifts the followed author's paper above the unrelated one
    let pos = |id: &str| ranked.iter().position(|s| cands[s.index].item.id == id).unwrap();
    assert!(pos("o2") < pos("s1"));
}

#[test]
fn ranking_is_deterministic_and_cached_features_give_the_same_result() {
    let all = corpus();
    let profile = Profile { liked: vec![all[0], all[3]], disliked: vec![all[6]], ..Profile::default() };
    let cands: Vec<Candidate> = all.iter().map(|i| cand(*i, 0.5)).collect();
    let r = Recommender::default();
    let first = r.rank(&profile, &cands);
    assert_eq!(first, r.rank(&profile, &cands));
    let cache: Vec<(&str, Features)> = all.iter().map(|i| (i.id, r.features(i))).collect();
    let cached = r.rank_with(&profile, &cands, |it| cache.iter().find(|(id, _)| *id == it.id).map(|(_, f)| f));
    assert_eq!(first, cached);
}

#[test]
fn vectors_join_the_blend_and_name_the_closest_like() {
    // Texts say nothing; the vectors put c1 next to l2.
    let v = |a: f32, b: f32| -> Vec<f32> {
        let n = (a * a + b * b).sqrt();
        vec![a / n, b / n, 0.0]
    };
    let leak = |v: Vec<f32>| -> &'static [f32] { Vec::leak(v) };
    let (va, vb) = (leak(v(1.0, 0.0)), leak(v(0.0, 1.0)));
    let (vc1, vc2, vc3) = (leak(v(0.1, 1.0)), leak(v(1.0, 1.0)), leak(v(-1.0, 0.2)));
    let mk = |id: &'static str, vec: &'static [f32]| Item { vector: Some(vec), ..item(id, "Untitled", "") };
    let profile = Profile { liked: vec![mk("l1", va), Item { title: "Second", ..mk("l2", vb) }], ..Profile::default() };
    let cands = vec![cand(mk("c3", vc3), 0.0), cand(mk("c2", vc2), 0.0), cand(mk("c1", vc1), 0.0)];
    let r = Recommender::default();
    assert!(r.uses_vectors(&profile, &cands));
    let ranked = r.rank(&profile, &cands);
    // c1 is nearly l2 (highest cosine), c2 between both (highest mean).
    assert_eq!(ids(&ranked, &cands), ["c1", "c2", "c3"]);
    assert_eq!(ranked[0].reason, Reason::Like { id: "l2".into(), title: "Second".into() });
}

#[test]
fn z_scores_of_a_constant_feature_are_zero() {
    assert_eq!(z(&[0.3, 0.3, 0.3]), vec![0.0, 0.0, 0.0]);
    let zs = z(&[1.0, 2.0, 3.0]);
    assert!((zs[0] + 1.2247).abs() < 1e-3 && zs[1].abs() < 1e-6 && (zs[2] - 1.2247).abs() < 1e-3, "{zs:?}");
    // Papers with no usable words: every score is equal, ties go by
    // popularity, then id.
    let a = item("b", "", "");
    let b = item("a", "", "");
    let c = item("c", "", "");
    let liked = item("l", "of the", "");
    let cands = vec![cand(a, 1.0), cand(b, 1.0), cand(c, 2.0)];
    let ranked = Recommender::default().rank(&Profile { liked: vec![liked], ..Profile::default() }, &cands);
    assert_eq!(ids(&ranked, &cands), ["c", "a", "b"]);
    assert!(ranked.iter().all(|s| s.reason == Reason::Popular));
}

#[test]
fn reason_lines_read_as_the_cards_show_them() {
    assert_eq!(Reason::Like { id: "1".into(), title: "Attention".into() }.line(), "Like: Attention");
    assert_eq!(Reason::Author { name: "Ada".into() }.line(), "By Ada, whom you follow");
    assert_eq!(Reason::SavedSearch { query: "rag".into() }.line(), "Matches your saved search “rag”");
    assert_eq!(Reason::Category { name: "cs.CL".into() }.line(), "In cs.CL, which you follow");
    assert_eq!(Reason::Popular.line(), "Popular right now");
}
