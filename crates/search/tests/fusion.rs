//! Fusion of keyword and semantic rankings.

use paperboy_search::fusion::{Fusion, fuse};

fn list(items: &[(&str, f32)]) -> Vec<(String, f32)> {
    items.iter().map(|(k, s)| (k.to_string(), *s)).collect()
}

#[test]
fn rrf_rewards_agreement() {
    let kw = list(&[("a", 10.0), ("b", 9.0), ("e", 5.0), ("c", 1.0)]);
    let sem = list(&[("c", 0.9), ("b", 0.8), ("d", 0.7)]);
    let fused = fuse(&kw, &sem, Fusion::Rrf { k: 60.0 });
    // b is 2nd in both: 2/62 = 0.03226 beats c's 1/64 + 1/61 = 0.03202,
    // which beats a's 1/61 alone; d and e tie at 1/63 (broken by key).
    let order: Vec<&str> = fused.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(order, ["b", "c", "a", "d", "e"]);
    assert!((fused[0].1 - 2.0 / 62.0).abs() < 1e-6);
}

#[test]
fn blend_normalises_bm25_and_weights() {
    let kw = list(&[("a", 20.0), ("b", 10.0)]);
    let sem = list(&[("b", 0.9), ("c", 0.5)]);
    let fused = fuse(&kw, &sem, Fusion::Blend { keyword_weight: 0.5 });
    let get = |k: &str| fused.iter().find(|(x, _)| x == k).unwrap().1;
    assert!((get("a") - 0.5).abs() < 1e-6); // 0.5 * 20/20
    assert!((get("b") - (0.25 + 0.45)).abs() < 1e-6); // 0.5 * 10/20 + 0.5 * 0.9
    assert!((get("c") - 0.25).abs() < 1e-6);
    assert_eq!(fused[0].0, "b");
    // Weight 1 is keyword order; weight 0 is semantic order.
    let k_only = fuse(&kw, &sem, Fusion::Blend { keyword_weight: 1.0 });
    assert_eq!(k_only[0].0, "a");
    let s_only = fuse(&kw, &sem, Fusion::Blend { keyword_weight: 0.0 });
    assert_eq!(s_only[0].0, "b");
    assert_eq!(s_only[1].0, "c");
}

#[test]
fn empty_sides_and_ties() {
    assert!(fuse(&[], &[], Fusion::default()).is_empty());
    let kw = list(&[("x", 0.0), ("y", 0.0)]);
    let fused = fuse(&kw, &[], Fusion::default());
    assert_eq!(fused.len(), 2);
    assert!(fused.iter().all(|(_, s)| s.is_finite()));
    // Deterministic tie-break by key.
    assert_eq!(fused[0].0, "x");
}

#[test]
fn normalisations_map_scores_as_documented() {
    use paperboy_search::fusion::{Norm, normalise};
    let l = list(&[("a", 4.0), ("b", 2.0), ("c", 0.0)]);
    assert_eq!(normalise(&l, Norm::Max), vec![1.0, 0.5, 0.0]);
    assert_eq!(normalise(&l, Norm::MinMax), vec![1.0, 0.5, 0.0]);
    let z = normalise(&l, Norm::ZScore);
    // mean 2, population deviation sqrt(8/3)
    let sd = (8.0f32 / 3.0).sqrt();
    assert!((z[0] - 2.0 / sd).abs() < 1e-5 && z[1].abs() < 1e-6 && (z[2] + 2.0 / sd).abs() < 1e-5, "{z:?}");
    let shifted = list(&[("a", 0.9), ("b", 0.7)]);
    assert_eq!(normalise(&shifted, Norm::MinMax), vec![1.0, 0.0]);
    assert_eq!(normalise(&list(&[("a", -0.2)]), Norm::Raw), vec![0.0]);
    // A flat list has no spread: min-max gives 1, z-score 0.
    let flat = list(&[("a", 3.0), ("b", 3.0)]);
    assert_eq!(normalise(&flat, Norm::MinMax), vec![1.0, 1.0]);
    assert_eq!(normalise(&flat, Norm::ZScore), vec![0.0, 0.0]);
}

#[test]
fn zscore_fusion_counts_a_missing_side_as_its_worst_score() {
    let kw = list(&[("a", 10.0), ("b", 5.0), ("c", 0.0)]);
    let sem = list(&[("c", 0.9), ("b", 0.5), ("d", 0.1)]);
    let fused = fuse(&kw, &sem, Fusion::ZScore { keyword_weight: 0.5 });
    let order: Vec<&str> = fused.iter().map(|(k, _)| k.as_str()).collect();
    // a: top keyword, worst semantic; c: the reverse; b middling in both; d last.
    assert_eq!(order.len(), 4);
    assert_eq!(order[3], "d");
    let get = |k: &str| fused.iter().find(|(x, _)| x == k).unwrap().1;
    assert!((get("a") - get("c")).abs() < 1e-5, "symmetric lists give a and c the same score");
}

#[test]
fn adaptive_weight_moves_towards_the_peaked_side() {
    use paperboy_search::fusion::{adaptive_weight, peakedness};
    let peaked = [10.0, 2.0, 1.9, 1.8, 1.7];
    let flat = [0.6, 0.6, 0.6, 0.6, 0.59];
    assert!(peakedness(&peaked) > peakedness(&flat));
    assert_eq!(peakedness(&[1.0]), 0.0);
    assert_eq!(peakedness(&[2.0, 2.0, 2.0]), 0.0);
    let w = 0.35;
    assert!(adaptive_weight(w, 1.0, &peaked, &flat) > w);
    assert!(adaptive_weight(w, 1.0, &flat, &peaked) < w);
    // Strength 0 is the fixed weight; equal shapes keep it too.
    assert!((adaptive_weight(w, 0.0, &peaked, &flat) - w).abs() < 1e-6);
    assert!((adaptive_weight(w, 1.0, &peaked, &peaked) - w).abs() < 1e-6);
    // No shape on one side: the fixed weight.
    assert!((adaptive_weight(w, 1.0, &[1.0], &peaked) - w).abs() < 1e-6);
}

#[test]
fn complete_fills_the_other_sides_scores() {
    use paperboy_search::fusion::complete;
    let mut kw = list(&[("a", 9.0), ("b", 8.0)]);
    let mut sem = list(&[("c", 0.8), ("a", 0.7)]);
    let deeper = list(&[("a", 9.0), ("b", 8.0), ("x", 3.0), ("c", 2.0)]);
    let cos = |k: &str| match k {
        "b" => Some(0.75),
        _ => None,
    };
    complete(&mut kw, &mut sem, &deeper, cos);
    assert_eq!(kw, list(&[("a", 9.0), ("b", 8.0), ("c", 2.0)]));
    assert_eq!(sem, list(&[("c", 0.8), ("b", 0.75), ("a", 0.7)]));
    // Blending the completed lists: b (8/9 and 0.75) now beats c (2/9 and 0.8).
    let fused = fuse(&kw, &sem, Fusion::Blend { keyword_weight: 0.5 });
    assert_eq!(fused[0].0, "a");
    assert_eq!(fused[1].0, "b");
}

#[test]
fn prf_picks_terms_frequent_in_the_top_hits_and_rare_elsewhere() {
    use paperboy_search::keyword::expansion_terms;
    use std::collections::HashSet;
    let toks = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    let docs = vec![
        (toks("the distil student teacher the model"), 10.0),
        (toks("the student teacher logit the data"), 5.0),
        (toks("the unrel 42 ab"), 1.0),
    ];
    let query: HashSet<String> = ["model".to_string()].into();
    // "the" is everywhere in the collection: idf near 0.
    let idf = |t: &str| if t == "the" { 0.01 } else { 2.0 };
    let terms = expansion_terms(&docs, &query, idf, 3);
    let names: Vec<&str> = terms.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(names[..2], ["student", "teacher"], "{terms:?}");
    assert!((terms[0].1 - 1.0).abs() < 1e-6, "the best term has weight 1");
    assert!(terms.iter().all(|(t, w)| *w <= 1.0 && t != "model" && t != "42" && t != "ab" && t != "the"));
    assert!(expansion_terms(&[], &query, idf, 3).is_empty());
}
