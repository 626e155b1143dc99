//! A hierarchical navigable small-world graph (Malkov & Yashunin) over unit
//! vectors, scored by cosine similarity (= dot product). Nodes are numbered
//! in insertion order and never removed: deletion is the caller's business
//! (a tombstone list), the graph keeps routing through deleted nodes.
//!
//! The graph holds its vectors quantized to int8 ([`crate::quant`]), 384
//! bytes and a scale per 384-d node instead of 1,536 bytes, and scores with
//! the integer dot product both while building and while searching: the
//! similarities it returns are approximate (off by about 1e-3), and callers
//! that need exact ones re-score the best candidates (`vectors.rs`).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::quant::{dot_i8, quantize_into};

/// Graph parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswParams {
    /// Links per node on the upper layers (layer 0 gets twice as many).
    pub m: usize,
    /// Candidate list size while inserting.
    pub ef_construction: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams { m: 16, ef_construction: 128 }
    }
}

/// Highest layer a node can get (with m = 16 layers above 6 are vanishingly
/// rare; the cap bounds a corrupted or adversarial file).
pub const MAX_LEVEL: usize = 12;

/// Dot product of two equally long slices, with independent accumulators so
/// the compiler can vectorise it.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s = (acc[0] + acc[4]) + (acc[1] + acc[5]) + (acc[2] + acc[6]) + (acc[3] + acc[7]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// A vector quantized for scoring against the graph's nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    codes: Vec<i8>,
    scale: f32,
}

impl Query {
    /// Quantizes `v` (same scheme as the nodes).
    pub fn new(v: &[f32]) -> Self {
        let mut codes = Vec::with_capacity(v.len());
        let scale = quantize_into(v, &mut codes);
        Query { codes, scale }
    }

    /// A query from codes already quantized.
    pub fn from_codes(codes: Vec<i8>, scale: f32) -> Self {
        Query { codes, scale }
    }

    pub fn codes(&self) -> &[i8] {
        &self.codes
    }

    pub fn scale(&self) -> f32 {
        self.scale
    }
}

/// A scored node; ordered by score (then id, for determinism).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub sim: f32,
    pub node: u32,
}

impl Eq for Scored {}
impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sim.total_cmp(&other.sim).then_with(|| other.node.cmp(&self.node))
    }
}
impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The graph: int8 codes stored contiguously with a scale per node, links
/// per node per layer.
#[derive(Debug, Clone)]
pub struct Hnsw {
    dim: usize,
    params: HnswParams,
    codes: Vec<i8>,
    scales: Vec<f32>,
    /// links[node][layer] = neighbour nodes.
    links: Vec<Vec<Vec<u32>>>,
    entry: Option<u32>,
    rng: u64,
}

impl Hnsw {
    pub fn new(dim: usize, params: HnswParams) -> Self {
        Hnsw {
            dim,
            params,
            codes: Vec::new(),
            scales: Vec::new(),
            links: Vec::new(),
            entry: None,
            rng: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// Rebuilds a graph from its parts (see `vectors.rs` for the file).
    /// Returns `None` when the parts are inconsistent.
    pub fn from_parts(
        dim: usize,
        params: HnswParams,
        codes: Vec<i8>,
        scales: Vec<f32>,
        links: Vec<Vec<Vec<u32>>>,
        entry: Option<u32>,
        rng: u64,
    ) -> Option<Self> {
        let n = links.len();
        if dim == 0 || codes.len() != n * dim || scales.len() != n || entry.is_some_and(|e| e as usize >= n) {
            return None;
        }
        if n > 0 && entry.is_none() {
            return None;
        }
        if links
            .iter()
            .any(|ls| ls.is_empty() || ls.len() > MAX_LEVEL + 1 || ls.iter().flatten().any(|&x| x as usize >= n))
        {
            return None;
        }
        if let Some(e) = entry {
            let top = links[e as usize].len();
            if links.iter().any(|l| l.len() > top) {
                return None;
            }
        }
        Some(Hnsw { dim, params, codes, scales, links, entry, rng })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }
    pub fn params(&self) -> HnswParams {
        self.params
    }
    pub fn len(&self) -> usize {
        self.links.len()
    }
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }
    pub fn entry(&self) -> Option<u32> {
        self.entry
    }
    pub fn rng_state(&self) -> u64 {
        self.rng
    }
    pub fn links(&self, node: u32) -> &[Vec<u32>] {
        &self.links[node as usize]
    }

    /// The int8 codes of a node's vector.
    pub fn code(&self, node: u32) -> &[i8] {
        let i = node as usize * self.dim;
        &self.codes[i..i + self.dim]
    }

    /// The scale of a node's codes (vector ≈ scale · codes).
    pub fn scale(&self, node: u32) -> f32 {
        self.scales[node as usize]
    }

    /// Approximate similarity of a query and a node.
    #[inline]
    pub fn sim(&self, q: &Query, node: u32) -> f32 {
        dot_i8(&q.codes, self.code(node)) as f32 * (q.scale * self.scales[node as usize])
    }

    /// Approximate similarity of two nodes.
    fn sim_nodes(&self, a: u32, b: u32) -> f32 {
        dot_i8(self.code(a), self.code(b)) as f32 * (self.scales[a as usize] * self.scales[b as usize])
    }

    /// Bytes held by the quantized vectors (codes and scales).
    pub fn vector_bytes(&self) -> usize {
        self.codes.capacity() + self.scales.capacity() * 4
    }

    /// Bytes held by the links: the lists' contents and their headers (the
    /// allocator's own overhead, ~16 bytes per allocation, not counted).
    pub fn link_bytes(&self) -> usize {
        let header = std::mem::size_of::<Vec<u32>>();
        self.links.capacity() * header
            + self
                .links
                .iter()
                .map(|ls| ls.capacity() * header + ls.iter().map(|l| l.capacity() * 4).sum::<usize>())
                .sum::<usize>()
    }

    fn top_level(&self) -> usize {
        self.entry.map_or(0, |e| self.links[e as usize].len() - 1)
    }

    fn next_random(&mut self) -> f64 {
        // splitmix64: deterministic, so the same inserts give the same graph.
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn random_level(&mut self) -> usize {
        let ml = 1.0 / (self.params.m.max(2) as f64).ln();
        let l = (-self.next_random().ln() * ml).floor();
        (l as usize).min(MAX_LEVEL)
    }

    fn max_links(&self, layer: usize) -> usize {
        if layer == 0 { self.params.m * 2 } else { self.params.m }
    }

    /// Adds a vector (expected unit length, `dim` long) and returns its node.
    pub fn insert(&mut self, v: &[f32]) -> u32 {
        debug_assert_eq!(v.len(), self.dim);
        let q = Query::new(&v[..self.dim.min(v.len())]);
        self.insert_quantized(&q.codes, q.scale)
    }

    /// Adds an already quantized vector (`dim` codes) and returns its node.
    pub fn insert_quantized(&mut self, codes: &[i8], scale: f32) -> u32 {
        let node = self.links.len() as u32;
        self.codes.extend_from_slice(&codes[..self.dim.min(codes.len())]);
        self.codes.resize((node as usize + 1) * self.dim, 0);
        self.scales.push(scale);
        let level = self.random_level();
        self.links.push(vec![Vec::new(); level + 1]);
        let Some(entry) = self.entry else {
            self.entry = Some(node);
            return node;
        };
        let top = self.top_level();
        let q = Query { codes: self.code(node).to_vec(), scale: self.scales[node as usize] };
        let mut cur = Scored { sim: self.sim(&q, entry), node: entry };
        for layer in (level + 1..=top).rev() {
            cur = self.greedy(&q, cur, layer);
        }
        let mut eps = vec![cur];
        let mut visited = Visited::new(self.len());
        for layer in (0..=level.min(top)).rev() {
            let cands = self.search_layer(&q, &eps, self.params.ef_construction, layer, &mut visited);
            let chosen = self.select(&cands, self.max_links(layer));
            self.links[node as usize][layer] = chosen.iter().map(|s| s.node).collect();
            for s in &chosen {
                self.link_back(s.node, node, s.sim, layer);
            }
            eps = cands;
        }
        if level > top {
            self.entry = Some(node);
        }
        node
    }

    /// Adds `node` to `to`'s links on `layer`, pruning with the heuristic
    /// when the list overflows.
    fn link_back(&mut self, to: u32, node: u32, sim: f32, layer: usize) {
        let cap = self.max_links(layer);
        let list = &self.links[to as usize][layer];
        if list.len() < cap {
            self.links[to as usize][layer].push(node);
            return;
        }
        let mut cands: Vec<Scored> = list.iter().map(|&x| Scored { sim: self.sim_nodes(to, x), node: x }).collect();
        cands.push(Scored { sim, node });
        cands.sort_by(|a, b| b.cmp(a));
        let chosen = self.select(&cands, cap);
        self.links[to as usize][layer] = chosen.iter().map(|s| s.node).collect();
    }

    /// The neighbour-selection heuristic: keep a candidate only if it is
    /// closer to the base than to every neighbour already kept (this spreads
    /// links in all directions), then fill up with the closest skipped ones.
    /// `cands` is sorted best first.
    fn select(&self, cands: &[Scored], m: usize) -> Vec<Scored> {
        let mut kept: Vec<Scored> = Vec::with_capacity(m);
        let mut skipped: Vec<Scored> = Vec::new();
        for &c in cands {
            if kept.len() >= m {
                break;
            }
            if kept.iter().all(|k| self.sim_nodes(c.node, k.node) < c.sim) {
                kept.push(c);
            } else {
                skipped.push(c);
            }
        }
        for s in skipped {
            if kept.len() >= m {
                break;
            }
            kept.push(s);
        }
        kept
    }

    /// Greedy walk on one layer towards `q`.
    fn greedy(&self, q: &Query, mut cur: Scored, layer: usize) -> Scored {
        loop {
            let mut moved = false;
            for &n in self.links[cur.node as usize].get(layer).map_or(&[][..], |v| v) {
                let sim = self.sim(q, n);
                if sim > cur.sim {
                    cur = Scored { sim, node: n };
                    moved = true;
                }
            }
            if !moved {
                return cur;
            }
        }
    }

    /// Best-first search of one layer; returns up to `ef` nodes, best first.
    fn search_layer(
        &self,
        q: &Query,
        entries: &[Scored],
        ef: usize,
        layer: usize,
        visited: &mut Visited,
    ) -> Vec<Scored> {
        visited.clear();
        // candidates: max-heap by sim; results: min-heap (Reverse) by sim.
        let mut candidates: BinaryHeap<Scored> = BinaryHeap::new();
        let mut results: BinaryHeap<std::cmp::Reverse<Scored>> = BinaryHeap::new();
        for &e in entries {
            if visited.insert(e.node) {
                candidates.push(e);
                results.push(std::cmp::Reverse(e));
            }
        }
        while results.len() > ef {
            results.pop();
        }
        while let Some(c) = candidates.pop() {
            let worst = results.peek().map_or(f32::NEG_INFINITY, |r| r.0.sim);
            if c.sim < worst && results.len() >= ef {
                break;
            }
            let Some(neigh) = self.links[c.node as usize].get(layer) else {
                continue;
            };
            for &n in neigh {
                if !visited.insert(n) {
                    continue;
                }
                let sim = self.sim(q, n);
                let worst = results.peek().map_or(f32::NEG_INFINITY, |r| r.0.sim);
                if results.len() < ef || sim > worst {
                    let s = Scored { sim, node: n };
                    candidates.push(s);
                    results.push(std::cmp::Reverse(s));
                    if results.len() > ef {
                        results.pop();
                    }
                }
            }
        }
        let mut out: Vec<Scored> = results.into_iter().map(|r| r.0).collect();
        out.sort_by(|a, b| b.cmp(a));
        out
    }

    /// The (approximately) `ef` nearest nodes to `q`, best first, with
    /// approximate (quantized) similarities. Callers that filter (deleted
    /// nodes) ask for more than they need.
    pub fn search(&self, q: &[f32], ef: usize) -> Vec<Scored> {
        if q.len() != self.dim {
            return Vec::new();
        }
        self.search_quantized(&Query::new(q), ef)
    }

    /// [`search`](Self::search) with a query quantized once by the caller.
    pub fn search_quantized(&self, q: &Query, ef: usize) -> Vec<Scored> {
        let Some(entry) = self.entry else {
            return Vec::new();
        };
        if q.codes.len() != self.dim {
            return Vec::new();
        }
        let mut cur = Scored { sim: self.sim(q, entry), node: entry };
        for layer in (1..=self.top_level()).rev() {
            cur = self.greedy(q, cur, layer);
        }
        let mut visited = Visited::new(self.len());
        self.search_layer(q, &[cur], ef.max(1), 0, &mut visited)
    }
}

/// A visited set over node numbers, cleared in O(touched).
struct Visited {
    seen: Vec<bool>,
    touched: Vec<u32>,
}

impl Visited {
    fn new(n: usize) -> Self {
        Visited { seen: vec![false; n], touched: Vec::new() }
    }
    fn insert(&mut self, node: u32) -> bool {
        let i = node as usize;
        if i >= self.seen.len() {
            self.seen.resize(i + 1, false);
        }
        if self.seen[i] {
            false
        } else {
            self.seen[i] = true;
            self.touched.push(node);
            true
        }
    }
    fn clear(&mut self) {
        for &t in &self.touched {
            self.seen[t as usize] = false;
        }
        self.touched.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_naive() {
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.1).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-3);
    }

    /// Graph search on int8 codes against exact f32 search, no re-scoring:
    /// the graph alone must find most true neighbours.
    #[test]
    fn quantized_graph_recall_on_a_small_set() {
        let (dim, n) = (32, 2_000);
        let mut seed = 0x1234_5678u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0
        };
        let mut unit = |c: &[f32]| {
            let mut v: Vec<f32> = c.iter().map(|x| x + 0.7 * next()).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            v
        };
        let centres: Vec<Vec<f32>> =
            (0..10).map(|i| (0..dim).map(|d| if d % 10 == i { 1.0 } else { 0.0 }).collect()).collect();
        let data: Vec<Vec<f32>> = (0..n).map(|i| unit(&centres[i % 10])).collect();
        let queries: Vec<Vec<f32>> = (0..30).map(|i| unit(&centres[i % 10])).collect();
        let mut h = Hnsw::new(dim, HnswParams::default());
        for v in &data {
            h.insert(v);
        }
        let mut hit = 0;
        for q in &queries {
            let mut exact: Vec<(f32, u32)> = data.iter().enumerate().map(|(i, v)| (dot(q, v), i as u32)).collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            let want: Vec<u32> = exact.iter().take(10).map(|e| e.1).collect();
            hit += h.search(q, 64).iter().take(10).filter(|s| want.contains(&s.node)).count();
        }
        let recall = hit as f64 / 300.0;
        assert!(recall >= 0.9, "recall@10 {recall}");
        assert!(h.vector_bytes() >= n * (dim + 4) && h.link_bytes() > n * 4);
    }

    #[test]
    fn finds_itself() {
        let mut h = Hnsw::new(4, HnswParams::default());
        let vs = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]];
        for v in &vs {
            h.insert(v);
        }
        for (i, v) in vs.iter().enumerate() {
            assert_eq!(h.search(v, 3)[0].node, i as u32);
        }
    }
}
