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
//!
//! Linking can lag behind storing: [`Hnsw::push_unlinked`] stores a vector
//! without linking it, and [`Hnsw::link_next`] links the oldest unlinked one
//! later. Nodes `0..linked()` are in the graph and the rest form an unlinked
//! tail, which searches of the graph do not see: the caller scans it (a
//! server loading a million vectors has them all searchable as soon as they
//! are read, and builds the graph in the background).

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

/// How the graph keeps its vectors and scores a query against them.
pub trait Store: std::fmt::Debug + Clone {
    /// A query prepared once for many scores.
    type Query;
    fn with_dim(dim: usize) -> Self;
    fn dim(&self) -> usize;
    /// Number of vectors held.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Appends a vector (`dim` long).
    fn push(&mut self, v: &[f32]);
    fn prepare(&self, v: &[f32]) -> Self::Query;
    /// A stored node as a query (while inserting it).
    fn node_query(&self, node: u32) -> Self::Query;
    fn sim(&self, q: &Self::Query, node: u32) -> f32;
    fn sim_nodes(&self, a: u32, b: u32) -> f32;
    /// Heap bytes held.
    fn bytes(&self) -> usize;
}

/// A vector quantized for scoring against an [`Int8Store`].
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    codes: Vec<i8>,
    scale: f32,
}

impl Query {
    /// Quantizes `v` (same scheme as the stored vectors).
    pub fn new(v: &[f32]) -> Self {
        let mut codes = Vec::with_capacity(v.len());
        let scale = quantize_into(v, &mut codes);
        Query { codes, scale }
    }
}

/// Int8 codes stored contiguously, a scale per vector: what the index uses.
#[derive(Debug, Clone)]
pub struct Int8Store {
    dim: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
}

impl Int8Store {
    /// Codes and scales (`codes.len() == dim · scales.len()`).
    pub fn from_parts(dim: usize, codes: Vec<i8>, scales: Vec<f32>) -> Option<Self> {
        (dim > 0 && codes.len() == scales.len() * dim).then_some(Int8Store { dim, codes, scales })
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

    /// Appends already quantized codes.
    pub fn push_quantized(&mut self, codes: &[i8], scale: f32) {
        let n = self.scales.len();
        self.codes.extend_from_slice(&codes[..self.dim.min(codes.len())]);
        self.codes.resize((n + 1) * self.dim, 0);
        self.scales.push(scale);
    }
}

impl Store for Int8Store {
    type Query = Query;
    fn with_dim(dim: usize) -> Self {
        Int8Store { dim, codes: Vec::new(), scales: Vec::new() }
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn len(&self) -> usize {
        self.scales.len()
    }
    fn push(&mut self, v: &[f32]) {
        let q = Query::new(&v[..self.dim.min(v.len())]);
        self.push_quantized(&q.codes, q.scale);
    }
    fn prepare(&self, v: &[f32]) -> Query {
        Query::new(v)
    }
    fn node_query(&self, node: u32) -> Query {
        Query { codes: self.code(node).to_vec(), scale: self.scale(node) }
    }
    #[inline]
    fn sim(&self, q: &Query, node: u32) -> f32 {
        dot_i8(&q.codes, self.code(node)) as f32 * (q.scale * self.scales[node as usize])
    }
    fn sim_nodes(&self, a: u32, b: u32) -> f32 {
        dot_i8(self.code(a), self.code(b)) as f32 * (self.scales[a as usize] * self.scales[b as usize])
    }
    fn bytes(&self) -> usize {
        self.codes.capacity() + self.scales.capacity() * 4
    }
}

/// Plain f32 vectors: the reference the int8 store is measured against
/// (`examples/vector_bench.rs`), four times its size.
#[derive(Debug, Clone)]
pub struct F32Store {
    dim: usize,
    vectors: Vec<f32>,
}

impl F32Store {
    pub fn vector(&self, node: u32) -> &[f32] {
        let i = node as usize * self.dim;
        &self.vectors[i..i + self.dim]
    }
}

impl Store for F32Store {
    type Query = Vec<f32>;
    fn with_dim(dim: usize) -> Self {
        F32Store { dim, vectors: Vec::new() }
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn len(&self) -> usize {
        self.vectors.len() / self.dim.max(1)
    }
    fn push(&mut self, v: &[f32]) {
        let n = self.len();
        self.vectors.extend_from_slice(&v[..self.dim.min(v.len())]);
        self.vectors.resize((n + 1) * self.dim, 0.0);
    }
    fn prepare(&self, v: &[f32]) -> Vec<f32> {
        v.to_vec()
    }
    fn node_query(&self, node: u32) -> Vec<f32> {
        self.vector(node).to_vec()
    }
    #[inline]
    fn sim(&self, q: &Vec<f32>, node: u32) -> f32 {
        dot(q, self.vector(node))
    }
    fn sim_nodes(&self, a: u32, b: u32) -> f32 {
        dot(self.vector(a), self.vector(b))
    }
    fn bytes(&self) -> usize {
        self.vectors.capacity() * 4
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

/// The graph: the vectors in a [`Store`] (int8 unless said otherwise),
/// links per node per layer.
#[derive(Debug, Clone)]
pub struct Hnsw<S: Store = Int8Store> {
    dim: usize,
    params: HnswParams,
    store: S,
    /// links[node][layer] = neighbour nodes, for the linked nodes
    /// `0..links.len()` (the store may hold more: the unlinked tail).
    links: Vec<Vec<Vec<u32>>>,
    entry: Option<u32>,
    rng: u64,
}

impl<S: Store> Hnsw<S> {
    pub fn new(dim: usize, params: HnswParams) -> Self {
        Hnsw { dim, params, store: S::with_dim(dim), links: Vec::new(), entry: None, rng: 0x9e37_79b9_7f4a_7c15 }
    }

    /// Rebuilds a graph from its parts (see `vectors.rs` for the file):
    /// `links` for the linked nodes, the store's other vectors an unlinked
    /// tail. Returns `None` when the parts are inconsistent.
    pub fn from_parts(
        dim: usize,
        params: HnswParams,
        store: S,
        links: Vec<Vec<Vec<u32>>>,
        entry: Option<u32>,
        rng: u64,
    ) -> Option<Self> {
        let n = links.len();
        if dim == 0 || store.dim() != dim || store.len() < n || entry.is_some_and(|e| e as usize >= n) {
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
        Some(Hnsw { dim, params, store, links, entry, rng })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }
    pub fn params(&self) -> HnswParams {
        self.params
    }
    /// Nodes stored, linked or not.
    pub fn len(&self) -> usize {
        self.store.len()
    }
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }
    /// Nodes in the graph: `0..linked()`; the others wait for [`Self::link_next`].
    pub fn linked(&self) -> usize {
        self.links.len()
    }
    /// Nodes stored but not yet linked.
    pub fn unlinked(&self) -> usize {
        self.store.len() - self.links.len()
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

    /// The stored vectors.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Similarity of a prepared query and a node (approximate for int8).
    #[inline]
    pub fn sim(&self, q: &S::Query, node: u32) -> f32 {
        self.store.sim(q, node)
    }

    fn sim_nodes(&self, a: u32, b: u32) -> f32 {
        self.store.sim_nodes(a, b)
    }

    /// Bytes held by the vectors.
    pub fn vector_bytes(&self) -> usize {
        self.store.bytes()
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

    /// Adds a vector (expected unit length, `dim` long), links it (and any
    /// unlinked node stored before it) and returns its node.
    pub fn insert(&mut self, v: &[f32]) -> u32 {
        debug_assert_eq!(v.len(), self.dim);
        self.store.push(v);
        while self.link_next().is_some() {}
        (self.store.len() - 1) as u32
    }

    /// Stores a vector without linking it (see the module docs).
    pub fn push_unlinked(&mut self, v: &[f32]) -> u32 {
        self.store.push(v);
        (self.store.len() - 1) as u32
    }

    /// Links the oldest unlinked node into the graph; `None` when every node
    /// is linked.
    pub fn link_next(&mut self) -> Option<u32> {
        (self.links.len() < self.store.len()).then(|| self.link_new())
    }

    /// Links node `links.len()` (stored, not yet linked) into the graph.
    fn link_new(&mut self) -> u32 {
        let node = self.links.len() as u32;
        let level = self.random_level();
        self.links.push(vec![Vec::new(); level + 1]);
        let Some(entry) = self.entry else {
            self.entry = Some(node);
            return node;
        };
        let top = self.top_level();
        let q = self.store.node_query(node);
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
    fn greedy(&self, q: &S::Query, mut cur: Scored, layer: usize) -> Scored {
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
        q: &S::Query,
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
        self.search_prepared(&self.store.prepare(q), ef)
    }

    /// [`search`](Self::search) with a query prepared once by the caller
    /// ([`Store::prepare`], e.g. quantized).
    pub fn search_prepared(&self, q: &S::Query, ef: usize) -> Vec<Scored> {
        let Some(entry) = self.entry else {
            return Vec::new();
        };
        let mut cur = Scored { sim: self.sim(q, entry), node: entry };
        for layer in (1..=self.top_level()).rev() {
            cur = self.greedy(q, cur, layer);
        }
        let mut visited = Visited::new(self.len());
        self.search_layer(q, &[cur], ef.max(1), 0, &mut visited)
    }
}

impl Hnsw<Int8Store> {
    /// Adds an already quantized vector (`dim` codes), links it (and any
    /// unlinked node before it) and returns its node.
    pub fn insert_quantized(&mut self, codes: &[i8], scale: f32) -> u32 {
        self.store.push_quantized(codes, scale);
        while self.link_next().is_some() {}
        (self.store.len() - 1) as u32
    }

    /// Stores an already quantized vector without linking it.
    pub fn push_quantized_unlinked(&mut self, codes: &[i8], scale: f32) -> u32 {
        self.store.push_quantized(codes, scale);
        (self.store.len() - 1) as u32
    }

    /// The int8 codes of a node's vector.
    pub fn code(&self, node: u32) -> &[i8] {
        self.store.code(node)
    }

    /// The scale of a node's codes (vector ≈ scale · codes).
    pub fn scale(&self, node: u32) -> f32 {
        self.store.scale(node)
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
        let mut h: Hnsw = Hnsw::new(dim, HnswParams::default());
        let mut f: Hnsw<F32Store> = Hnsw::new(dim, HnswParams::default());
        for v in &data {
            f.insert(v);
            h.insert(v);
        }
        let (mut hit, mut hit_f32) = (0, 0);
        for q in &queries {
            let mut exact: Vec<(f32, u32)> = data.iter().enumerate().map(|(i, v)| (dot(q, v), i as u32)).collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            let want: Vec<u32> = exact.iter().take(10).map(|e| e.1).collect();
            hit += h.search(q, 64).iter().take(10).filter(|s| want.contains(&s.node)).count();
            hit_f32 += f.search(q, 64).iter().take(10).filter(|s| want.contains(&s.node)).count();
        }
        let recall = hit as f64 / 300.0;
        let recall_f32 = hit_f32 as f64 / 300.0;
        assert!(recall >= 0.9, "recall@10 {recall}");
        assert!(recall_f32 >= 0.95, "f32 recall@10 {recall_f32}");
        assert!(f.vector_bytes() >= n * dim * 4);
        assert!(h.vector_bytes() >= n * (dim + 4) && h.vector_bytes() * 2 < f.vector_bytes());
        assert!(h.link_bytes() > n * 4);
    }

    /// Vectors stored first and linked later make the same graph as vectors
    /// inserted one by one (the random levels are drawn in link order), and
    /// the graph only ever sees linked nodes.
    #[test]
    fn linking_later_builds_the_same_graph() {
        let dim = 16;
        let data: Vec<Vec<f32>> = (0..300)
            .map(|i| {
                let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let mut v: Vec<f32> = (0..dim)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                    })
                    .collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter_mut().for_each(|x| *x /= norm);
                v
            })
            .collect();
        let mut eager: Hnsw = Hnsw::new(dim, HnswParams::default());
        let mut lazy: Hnsw = Hnsw::new(dim, HnswParams::default());
        for v in &data[..100] {
            eager.insert(v);
            lazy.insert(v);
        }
        for v in &data[100..] {
            eager.insert(v);
            lazy.push_unlinked(v);
        }
        assert_eq!((lazy.len(), lazy.linked(), lazy.unlinked()), (300, 100, 200));
        // The graph's search sees the linked prefix only.
        assert!(lazy.search(&data[250], 300).iter().all(|s| s.node < 100));
        let mut n = 0;
        while let Some(node) = lazy.link_next() {
            assert_eq!(node, 100 + n);
            n += 1;
        }
        assert_eq!((n, lazy.unlinked()), (200, 0));
        for i in 0..300u32 {
            assert_eq!(lazy.links(i), eager.links(i), "node {i}");
        }
        assert_eq!(lazy.search(&data[250], 10)[0].node, 250);
        // A partly linked graph comes back from its parts.
        let mut part: Hnsw = Hnsw::new(dim, HnswParams::default());
        for v in &data[..50] {
            part.insert(v);
        }
        for v in &data[50..80] {
            part.push_unlinked(v);
        }
        let links: Vec<Vec<Vec<u32>>> = (0..50).map(|i| part.links(i).to_vec()).collect();
        let back = Hnsw::from_parts(dim, part.params(), part.store().clone(), links, part.entry(), part.rng_state())
            .expect("a linked prefix and an unlinked tail are consistent");
        assert_eq!((back.len(), back.linked()), (80, 50));
    }

    #[test]
    fn finds_itself() {
        let mut h: Hnsw = Hnsw::new(4, HnswParams::default());
        let vs = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]];
        for v in &vs {
            h.insert(v);
        }
        for (i, v) in vs.iter().enumerate() {
            assert_eq!(h.search(v, 3)[0].node, i as u32);
        }
    }
}
