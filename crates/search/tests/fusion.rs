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
