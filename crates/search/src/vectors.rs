//! The persistent vector index: paper key → unit vector (plus the hash of
//! the text it was computed from), searchable by cosine similarity.
//!
//! Search is exact (brute force) below [`EXACT_BELOW`] live vectors, where a
//! scan is as fast as the graph and always right, and through the [`Hnsw`]
//! graph above. Replacing or deleting a key tombstones its node; the graph is
//! rebuilt from live vectors when tombstones pass a quarter of the nodes.
//!
//! Vectors put with [`VectorIndex::upsert_unlinked`] (a server loading the
//! database's vectors) and vectors replayed from the log are stored at once
//! but linked into the graph later, by [`VectorIndex::link_pending`]: until
//! then graph searches also scan that unlinked tail exactly, so every vector
//! is searchable from the moment it is read (a server that loads a million
//! vectors answers over all of them within a minute or two, and its graph
//! catches up in the background).
//!
//! Memory holds the vectors quantized to int8 (a scale per vector, see
//! [`crate::quant`]): the graph and the exact scan score on those, and the
//! best `k · rescore` candidates are then re-scored with the exact f32
//! vectors, which stay on disk (read with `pread` from the snapshot or the
//! log, where they already are: the page cache holds them, not the heap).
//! Similarities returned are exact; [`VectorIndex::get`] reads the exact
//! vector back.
//!
//! On disk, in the index directory:
//! - `vectors.bin`: a snapshot, format 3: a header (magic, version,
//!   generation, parameters, node count, length of the node section), the
//!   node section (key, hash, tombstone, links per node; a level count of 0
//!   marks a node of the unlinked tail), then every node's
//!   f32 vector in node order (so node `i`'s is at a computed offset), then a
//!   checksum; written to `vectors.bin.tmp`, fsynced and renamed over the
//!   old one. Format 2 (the same without unlinked nodes) is read as it is;
//!   format 1 (vectors interleaved with the nodes) is still read, and a
//!   writer rewrites it at open;
//! - `vectors.log`: the changes since that snapshot (a header naming the
//!   snapshot's generation, then checksummed upsert/delete records, an
//!   upsert carrying its f32 vector), appended and fsynced after each batch.
//!
//! Opening loads the snapshot and replays the log up to the first torn or
//! corrupt record, cutting the log there. A corrupt snapshot is set aside
//! (`vectors.bin.corrupt`) and the index starts empty: vectors are derived
//! data, the engine re-embeds whatever lacks one.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Result, SearchError};
use crate::hnsw::{Hnsw, HnswParams, Int8Store, MAX_LEVEL, Query, Scored};
use crate::quant::{dequantize, quantize_into};

/// Below this many live vectors search scans them all (exact). A rough
/// figure, not a careful measurement: a graph search at ef = 256 over 20k
/// 384-d vectors took 1.0–1.4 ms in release (tests/vector_index.rs), and a
/// scan costs about 0.1 ms per 1,000 vectors per core, so below ~5k the
/// exact scan is no slower and never misses.
pub const EXACT_BELOW: usize = 5_000;

/// Candidates re-scored exactly per result wanted, by default: 4 · k
/// (Recall@10 against exact f32 search, docs/BENCHMARKS.md "Compact
/// vectors").
pub const RESCORE: usize = 4;

const SNAP_MAGIC: &[u8; 8] = b"PBVECS\0\0";
const LOG_MAGIC: &[u8; 8] = b"PBVLOG\0\0";
/// The snapshot format written; 2 (every node linked) and 1 (vectors
/// between the nodes) are read too.
const SNAPSHOT_VERSION: u32 = 3;
const SNAPSHOT_V2: u32 = 2;
const SNAPSHOT_V1: u32 = 1;
/// The log's format (unchanged since version 1).
const LOG_VERSION: u32 = 1;
/// Bytes of a format-2 or -3 snapshot header.
const HEADER_V2: usize = 8 + 4 + 4 + 8 + 4 + 4 + 8 + 4 + 8 + 8;
/// A node's exact vector is in the log (else in the snapshot) at the offset
/// in the low bits.
const IN_LOG: u64 = 1 << 63;
const SNAPSHOT: &str = "vectors.bin";
const LOG: &str = "vectors.log";
const REC_UPSERT: u8 = 1;
const REC_DELETE: u8 = 2;
const MAX_KEY: usize = 512;

/// One search result from the vector index.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorHit {
    pub key: String,
    pub sim: f32,
}

/// Memory held by a vector index, in bytes (heap contents and vector
/// headers; the allocator's per-allocation overhead is not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryUse {
    /// Int8 codes and scales.
    pub vectors: usize,
    /// The graph's links.
    pub links: usize,
    /// Keys (twice: by node and in the key → node map), hashes, tombstones.
    pub keys: usize,
    /// Where each node's exact vector is on disk (8 bytes a node).
    pub locations: usize,
}

impl MemoryUse {
    pub fn total(&self) -> usize {
        self.vectors + self.links + self.keys + self.locations
    }
}

/// Paper key → vector, persisted in a directory.
pub struct VectorIndex {
    dir: PathBuf,
    dim: usize,
    graph: Hnsw,
    keys: Vec<String>,
    hashes: Vec<u64>,
    deleted: Vec<bool>,
    live: HashMap<String, u32>,
    /// Per node: where its exact f32 vector is (offset, [`IN_LOG`] bit).
    at: Vec<u64>,
    /// The snapshot file the `at` offsets without [`IN_LOG`] point into.
    snap_file: Option<File>,
    /// The log file, for reading exact vectors back.
    log_read: Option<File>,
    /// A format-1 snapshot was loaded: the writer rewrites it.
    old_format: bool,
    generation: u64,
    log: Option<File>,
    log_bytes: u64,
    snapshot_bytes: u64,
    /// Force exact or graph search regardless of size (tests, benchmarks).
    pub exact_below: usize,
    /// Candidate list size of graph searches (at least k).
    pub ef_search: usize,
    /// Re-score the best `k · rescore` quantized candidates with the exact
    /// vectors; 0 returns the quantized ranking and similarities as they are.
    pub rescore: usize,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dir", &self.dir)
            .field("dim", &self.dim)
            .field("live", &self.live.len())
            .field("nodes", &self.keys.len())
            .finish()
    }
}

pub(crate) fn checksum(bytes: &[u8]) -> u64 {
    let mut f = Fnv::new();
    f.update(bytes);
    f.finish()
}

/// FNV-style over 8-byte words, fed in pieces: fast, stable, and enough to
/// tell a torn or flipped file from a good one. The same value as hashing
/// the concatenated pieces at once.
struct Fnv {
    h: u64,
    pending: [u8; 8],
    npending: usize,
    len: u64,
}

const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Fnv {
    fn new() -> Self {
        Fnv { h: 0xcbf2_9ce4_8422_2325, pending: [0; 8], npending: 0, len: 0 }
    }

    fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if self.npending > 0 {
            let take = (8 - self.npending).min(bytes.len());
            self.pending[self.npending..self.npending + take].copy_from_slice(&bytes[..take]);
            self.npending += take;
            bytes = &bytes[take..];
            if self.npending < 8 {
                return;
            }
            self.h = (self.h ^ u64::from_le_bytes(self.pending)).wrapping_mul(FNV_PRIME);
            self.npending = 0;
        }
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.h = (self.h ^ w).wrapping_mul(FNV_PRIME);
        }
        let rest = chunks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.npending = rest.len();
    }

    fn finish(&self) -> u64 {
        let mut h = self.h;
        for &b in &self.pending[..self.npending] {
            h = (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
        h ^ self.len
    }
}

/// A writer that hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    sum: Fnv,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sum.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Reads exactly `buf.len()` bytes at `offset` (no shared file position).
pub(crate) fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(f, &mut buf[done..], offset + done as u64)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// A little-endian reader over a byte slice that reports running off the end.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn f32s(&mut self, n: usize, out: &mut Vec<f32>) -> Option<()> {
        let bytes = self.take(n.checked_mul(4)?)?;
        out.extend(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])));
        Some(())
    }
    fn key(&mut self) -> Option<String> {
        let n = self.u16()? as usize;
        if n > MAX_KEY {
            return None;
        }
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

fn put_key(out: &mut Vec<u8>, key: &str) {
    let k = &key.as_bytes()[..floor_boundary(key, MAX_KEY)];
    out.extend_from_slice(&(k.len() as u16).to_le_bytes());
    out.extend_from_slice(k);
}

/// Writes `bytes` to `path` atomically: temp file, fsync, rename, fsync dir.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// [`write_atomic`] with the contents written by `fill`.
pub(crate) fn write_atomic_with(path: &Path, fill: impl FnOnce(&mut File) -> std::io::Result<()>) -> Result<()> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let ctx = |what: &str| format!("{what} {}", tmp.display());
    {
        let mut f = File::create(&tmp).map_err(|e| SearchError::io(ctx("creating"), e))?;
        fill(&mut f).map_err(|e| SearchError::io(ctx("writing"), e))?;
        f.sync_all().map_err(|e| SearchError::io(ctx("syncing"), e))?;
    }
    fs::rename(&tmp, path)
        .map_err(|e| SearchError::io(format!("renaming {} over {}", tmp.display(), path.display()), e))?;
    if let Some(parent) = path.parent()
        && let Ok(d) = File::open(parent)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

impl VectorIndex {
    /// Opens (or creates) the vector index in `dir` for `dim`-dimensional
    /// vectors. A snapshot of another dimension is set aside and the index
    /// starts empty (the model changed). A format-1 snapshot is rewritten in
    /// the current format.
    pub fn open(dir: &Path, dim: usize) -> Result<VectorIndex> {
        fs::create_dir_all(dir).map_err(|e| SearchError::io(format!("creating {}", dir.display()), e))?;
        let _ = fs::remove_file(dir.join(format!("{SNAPSHOT}.tmp")));
        let _ = fs::remove_file(dir.join(format!("{LOG}.tmp")));
        let mut idx = Self::load(dir, dim, true)?;
        if idx.old_format {
            tracing::info!(dir = %dir.display(), vectors = idx.len(), "vector snapshot in format 1; rewriting it in format 2");
            idx.checkpoint(true)?;
        }
        Ok(idx)
    }

    /// Loads the index in `dir` as it is on disk, changing no file: for a
    /// process that reads an index another process writes (the writer may
    /// be in the middle of an append or a snapshot, so a torn log tail is
    /// skipped, not cut, and a bad snapshot is ignored, not set aside).
    /// Such an index must not be written to.
    pub fn open_read_only(dir: &Path, dim: usize) -> Result<VectorIndex> {
        Self::load(dir, dim, false)
    }

    fn load(dir: &Path, dim: usize, writable: bool) -> Result<VectorIndex> {
        let mut idx = VectorIndex::empty(dir, dim);
        let snap_path = dir.join(SNAPSHOT);
        match File::open(&snap_path) {
            Ok(file) => {
                let loaded = idx.load_snapshot(&file);
                match loaded {
                    Ok(Ok(())) => idx.snap_file = Some(file),
                    Ok(Err(why)) if writable => {
                        tracing::warn!(path = %snap_path.display(), why, "vector snapshot unusable; set aside, vectors will be recomputed");
                        drop(file);
                        let _ = fs::rename(&snap_path, snap_path.with_extension("bin.corrupt"));
                        idx = VectorIndex::empty(dir, dim);
                    }
                    Ok(Err(why)) => {
                        tracing::warn!(path = %snap_path.display(), why, "vector snapshot unusable; reading without vectors");
                        return Ok(VectorIndex::empty(dir, dim));
                    }
                    Err(e) => return Err(SearchError::io(format!("reading {}", snap_path.display()), e)),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SearchError::io(format!("opening {}", snap_path.display()), e)),
        }
        idx.replay_log(writable)?;
        Ok(idx)
    }

    fn empty(dir: &Path, dim: usize) -> VectorIndex {
        VectorIndex {
            dir: dir.to_path_buf(),
            dim,
            graph: Hnsw::new(dim, HnswParams::default()),
            keys: Vec::new(),
            hashes: Vec::new(),
            deleted: Vec::new(),
            live: HashMap::new(),
            at: Vec::new(),
            snap_file: None,
            log_read: None,
            old_format: false,
            generation: 0,
            log: None,
            log_bytes: 0,
            snapshot_bytes: 0,
            exact_below: EXACT_BELOW,
            ef_search: 256,
            rescore: RESCORE,
        }
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of live vectors.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// The text hash stored with `key`'s vector.
    pub fn hash_of(&self, key: &str) -> Option<u64> {
        self.live.get(key).map(|&n| self.hashes[n as usize])
    }

    /// The vector stored for `key`, read back exactly from disk (the
    /// dequantized one, with a warning, if the file cannot be read).
    pub fn get(&self, key: &str) -> Option<Vec<f32>> {
        let &n = self.live.get(key)?;
        let mut buf = vec![0u8; self.dim * 4];
        match self.read_exact_vector(n, &mut buf) {
            Ok(()) => Some(buf.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()),
            Err(e) => {
                tracing::warn!(key, error = %e, "reading an exact vector failed; using the quantized one");
                Some(dequantize(self.graph.code(n), self.graph.scale(n)))
            }
        }
    }

    /// All live keys.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.live.keys().map(String::as_str)
    }

    /// What the index holds in memory.
    pub fn memory(&self) -> MemoryUse {
        let string = std::mem::size_of::<String>();
        let key_heap: usize = self.keys.iter().map(String::capacity).sum();
        // The map holds (String, u32) entries plus a control byte each.
        let map = self.live.capacity() * (string + 4 + 4 + 1) + self.live.keys().map(String::capacity).sum::<usize>();
        MemoryUse {
            vectors: self.graph.vector_bytes(),
            links: self.graph.link_bytes(),
            keys: self.keys.capacity() * string + key_heap + map + self.hashes.capacity() * 8 + self.deleted.capacity(),
            locations: self.at.capacity() * 8,
        }
    }

    fn check_dim(&self, v: &[f32]) -> Result<()> {
        if v.len() != self.dim {
            return Err(SearchError::Dimension { want: self.dim, got: v.len() });
        }
        Ok(())
    }

    /// Adds or replaces vectors, links them into the graph (with any
    /// unlinked ones stored before them) and logs the change durably (fsync).
    pub fn upsert(&mut self, items: &[(String, u64, Vec<f32>)]) -> Result<()> {
        self.upsert_with(items, true)
    }

    /// [`upsert`](Self::upsert) without linking: the vectors are searchable
    /// at once (scanned), and [`link_pending`](Self::link_pending) links them.
    pub fn upsert_unlinked(&mut self, items: &[(String, u64, Vec<f32>)]) -> Result<()> {
        self.upsert_with(items, false)
    }

    /// Vectors stored but not yet linked into the graph.
    pub fn unlinked(&self) -> usize {
        self.graph.unlinked()
    }

    /// Links up to `max` of the unlinked vectors into the graph, oldest
    /// first; returns how many it linked. Nothing is written: a snapshot
    /// records the links, a restart before it links those nodes again.
    pub fn link_pending(&mut self, max: usize) -> usize {
        let mut n = 0;
        while n < max && self.graph.link_next().is_some() {
            n += 1;
        }
        n
    }

    fn upsert_with(&mut self, items: &[(String, u64, Vec<f32>)], link: bool) -> Result<()> {
        for (_, _, v) in items {
            self.check_dim(v)?;
        }
        if self.log.is_none() {
            self.start_log()?;
        }
        let base = self.log_bytes;
        let mut rec = Vec::new();
        let mut offsets = Vec::with_capacity(items.len());
        for (key, hash, v) in items {
            let mut payload = Vec::with_capacity(key.len() + 16 + v.len() * 4);
            payload.push(REC_UPSERT);
            put_key(&mut payload, key);
            payload.extend_from_slice(&hash.to_le_bytes());
            // The record is [len u32][payload][sum]: the vector starts here.
            offsets.push(IN_LOG | (base + rec.len() as u64 + 4 + payload.len() as u64));
            for x in v {
                payload.extend_from_slice(&x.to_le_bytes());
            }
            push_record(&mut rec, &payload);
        }
        self.append_log(&rec)?;
        let mut codes = Vec::with_capacity(self.dim);
        for ((key, hash, v), at) in items.iter().zip(offsets) {
            let scale = quantize_into(v, &mut codes);
            self.apply_upsert_quantized(key, *hash, &codes, scale, at, false);
        }
        if link {
            while self.graph.link_next().is_some() {}
        }
        Ok(())
    }

    /// Removes vectors by key (missing keys are ignored) and logs it.
    pub fn delete(&mut self, keys: &[&str]) -> Result<()> {
        let present: Vec<&str> = keys.iter().copied().filter(|k| self.live.contains_key(*k)).collect();
        if present.is_empty() {
            return Ok(());
        }
        let mut rec = Vec::new();
        for key in &present {
            let mut payload = vec![REC_DELETE];
            put_key(&mut payload, key);
            push_record(&mut rec, &payload);
        }
        self.append_log(&rec)?;
        for key in present {
            self.apply_delete(key);
        }
        Ok(())
    }

    /// Stores a node for `key` (replacing its old one); `link`: link it
    /// (and the unlinked nodes before it) into the graph now.
    fn apply_upsert_quantized(&mut self, key: &str, hash: u64, codes: &[i8], scale: f32, at: u64, link: bool) {
        let key = &key[..floor_boundary(key, MAX_KEY)];
        self.apply_delete(key);
        let node = if link {
            self.graph.insert_quantized(codes, scale)
        } else {
            self.graph.push_quantized_unlinked(codes, scale)
        };
        debug_assert_eq!(node as usize, self.keys.len());
        self.keys.push(key.to_string());
        self.hashes.push(hash);
        self.deleted.push(false);
        self.at.push(at);
        self.live.insert(key.to_string(), node);
    }

    fn apply_delete(&mut self, key: &str) {
        if let Some(n) = self.live.remove(key) {
            self.deleted[n as usize] = true;
        }
    }

    /// Reads node `n`'s exact vector (little-endian f32s) into `buf`.
    fn read_exact_vector(&self, n: u32, buf: &mut [u8]) -> std::io::Result<()> {
        let at = self.at[n as usize];
        let file = if at & IN_LOG != 0 { self.log_read.as_ref() } else { self.snap_file.as_ref() };
        let file = file.ok_or_else(|| std::io::Error::other("the file holding this vector is not open"))?;
        read_at(file, buf, at & !IN_LOG)
    }

    /// The exact similarity of `q` and node `n`; the quantized one when the
    /// exact vector cannot be read.
    fn exact_sim(&self, q: &[f32], n: u32, approx: f32, buf: &mut [u8]) -> f32 {
        match self.read_exact_vector(n, buf) {
            Ok(()) => {
                let mut acc = [0f32; 8];
                let words = buf.chunks_exact(32).zip(q.chunks_exact(8));
                for (w, qs) in words {
                    for i in 0..8 {
                        let x = f32::from_le_bytes([w[i * 4], w[i * 4 + 1], w[i * 4 + 2], w[i * 4 + 3]]);
                        acc[i] += x * qs[i];
                    }
                }
                let mut s = (acc[0] + acc[4]) + (acc[1] + acc[5]) + (acc[2] + acc[6]) + (acc[3] + acc[7]);
                let done = q.len() / 8 * 8;
                for (i, &qx) in q.iter().enumerate().skip(done) {
                    let w = &buf[i * 4..i * 4 + 4];
                    s += f32::from_le_bytes([w[0], w[1], w[2], w[3]]) * qx;
                }
                s
            }
            Err(e) => {
                tracing::warn!(node = n, error = %e, "reading an exact vector failed; keeping the quantized score");
                approx
            }
        }
    }

    /// The best `k` of `cands` (best first by quantized score): re-scored
    /// exactly unless `rescore` is 0.
    fn finish(&self, q: &[f32], mut cands: Vec<Scored>, k: usize) -> Vec<VectorHit> {
        if self.rescore > 0 {
            let mut buf = vec![0u8; self.dim * 4];
            for c in &mut cands {
                c.sim = self.exact_sim(q, c.node, c.sim, &mut buf);
            }
            cands.sort_unstable_by(|a, b| b.cmp(a));
        }
        cands.into_iter().take(k).map(|s| VectorHit { key: self.keys[s.node as usize].clone(), sim: s.sim }).collect()
    }

    /// How many quantized candidates to keep for `k` results.
    fn pool(&self, k: usize) -> usize {
        k.saturating_mul(self.rescore.max(1))
    }

    /// The `k` most similar live vectors to `q`, best first, among those
    /// `allow` accepts.
    pub fn search(&self, q: &[f32], k: usize, allow: &dyn Fn(&str) -> bool) -> Vec<VectorHit> {
        if q.len() != self.dim || k == 0 || self.live.is_empty() {
            return Vec::new();
        }
        if self.live.len() < self.exact_below {
            return self.search_exact(q, k, allow);
        }
        let pool = self.pool(k);
        let query = Query::new(q);
        let mut ef = self.ef_search.max(k * 2);
        // The unlinked tail, which the graph does not see, is scored once;
        // each round below takes its best `ef`.
        let mut tail = self.score_tail(&query);
        loop {
            let found = self.graph.search_prepared(&query, ef);
            let tail = best_of(&mut tail, ef);
            let exhausted = found.len() < ef && tail.len() < ef;
            let mut merged = found;
            merged.extend(tail);
            merged.sort_unstable_by(|a, b| b.cmp(a));
            let cands: Vec<Scored> = merged
                .iter()
                .filter(|s| !self.deleted[s.node as usize])
                .filter(|s| allow(&self.keys[s.node as usize]))
                .take(pool)
                .copied()
                .collect();
            // Filters or tombstones ate the candidates: widen, and past a
            // point scan exactly (a narrow filter is best served by a scan).
            if cands.len() >= k || exhausted {
                return self.finish(q, cands, k);
            }
            if ef >= 4096 {
                return self.search_exact(q, k, allow);
            }
            ef *= 4;
        }
    }

    /// Every node of the unlinked tail with its quantized score, unordered
    /// (all cores; empty when every node is linked).
    fn score_tail(&self, query: &Query) -> Vec<Scored> {
        let (from, to) = (self.graph.linked() as u32, self.graph.len() as u32);
        if from == to {
            return Vec::new();
        }
        (from..to)
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| Scored { sim: self.graph.sim(query, i), node: i })
            .collect()
    }

    /// Exact top-k among the given keys (those without a vector are
    /// skipped): the path for narrow filters.
    pub fn search_among<'a>(&self, q: &[f32], k: usize, keys: impl Iterator<Item = &'a str>) -> Vec<VectorHit> {
        if q.len() != self.dim || k == 0 {
            return Vec::new();
        }
        let query = Query::new(q);
        let mut scored: Vec<Scored> = keys
            .filter_map(|key| self.live.get(key))
            .map(|&n| Scored { sim: self.graph.sim(&query, n), node: n })
            .collect();
        let pool = self.pool(k);
        top(&mut scored, pool);
        self.finish(q, scored, k)
    }

    /// Exact top-k by scanning every live vector (in parallel): quantized
    /// scores, the best re-scored exactly.
    pub fn search_exact(&self, q: &[f32], k: usize, allow: &dyn Fn(&str) -> bool) -> Vec<VectorHit> {
        if q.len() != self.dim || k == 0 {
            return Vec::new();
        }
        let query = Query::new(q);
        let n = self.keys.len() as u32;
        let mut scored: Vec<Scored> = (0..n)
            .into_par_iter()
            .with_min_len(1024)
            .filter(|&i| !self.deleted[i as usize])
            .map(|i| Scored { sim: self.graph.sim(&query, i), node: i })
            .collect();
        let pool = self.pool(k);
        // The filter is not thread-safe and may be costly: ask it about the
        // best candidates first, and look further only when it refuses many.
        let mut want = pool.saturating_mul(8).max(1024);
        loop {
            let whole = want >= scored.len();
            if !whole {
                // The best `want` to the front, in no order.
                scored.select_nth_unstable_by(want - 1, |a, b| b.cmp(a));
            }
            let mut head = scored[..want.min(scored.len())].to_vec();
            head.sort_unstable_by(|a, b| b.cmp(a));
            let cands: Vec<Scored> =
                head.iter().filter(|s| allow(&self.keys[s.node as usize])).take(pool).copied().collect();
            if cands.len() >= pool || whole {
                return self.finish(q, cands, k);
            }
            want = want.saturating_mul(8);
        }
    }

    fn append_log(&mut self, records: &[u8]) -> Result<()> {
        let path = self.dir.join(LOG);
        if self.log.is_none() {
            self.start_log()?;
        }
        let f = self.log.as_mut().expect("log opened above");
        f.write_all(records)
            .and_then(|()| f.sync_data())
            .map_err(|e| SearchError::io(format!("appending to {}", path.display()), e))?;
        self.log_bytes += records.len() as u64;
        Ok(())
    }

    /// Opens the log for appending (and reading exact vectors back).
    fn open_log_for_append(&mut self) -> Result<()> {
        let path = self.dir.join(LOG);
        let f = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| SearchError::io(format!("opening {}", path.display()), e))?;
        self.log_read = Some(f.try_clone().map_err(|e| SearchError::io(format!("opening {}", path.display()), e))?);
        self.log = Some(f);
        Ok(())
    }

    /// Creates a fresh log for the current snapshot generation (atomically).
    fn start_log(&mut self) -> Result<()> {
        let path = self.dir.join(LOG);
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(LOG_MAGIC);
        header.extend_from_slice(&LOG_VERSION.to_le_bytes());
        header.extend_from_slice(&(self.dim as u32).to_le_bytes());
        header.extend_from_slice(&self.generation.to_le_bytes());
        write_atomic(&path, &header)?;
        self.open_log_for_append()?;
        self.log_bytes = header.len() as u64;
        Ok(())
    }

    /// Applies the log; `writable`: also repair it (start a new one, cut a
    /// torn tail) and keep it open for appending.
    fn replay_log(&mut self, writable: bool) -> Result<()> {
        let path = self.dir.join(LOG);
        // Read through the handle that is kept: the offsets recorded point
        // into this very file even if a writer replaces the path later.
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(SearchError::io(format!("opening {}", path.display()), e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| SearchError::io(format!("reading {}", path.display()), e))?;
        let mut c = Cursor { buf: &bytes, pos: 0 };
        let header_ok = c.take(8) == Some(&LOG_MAGIC[..])
            && c.u32() == Some(LOG_VERSION)
            && c.u32() == Some(self.dim as u32)
            && c.u64() == Some(self.generation);
        if !header_ok {
            // A log of an older snapshot (its changes are in the snapshot),
            // of another model, or torn in its header: start a new one.
            if writable {
                tracing::info!(path = %path.display(), "vector log does not belong to the snapshot; starting a new one");
                self.start_log()?;
            }
            return Ok(());
        }
        self.log_read = Some(file);
        let mut good = c.pos;
        let mut replayed = 0usize;
        let mut codes = Vec::with_capacity(self.dim);
        let mut v = Vec::with_capacity(self.dim);
        loop {
            let start = c.pos;
            let Some(payload) = read_record(&mut c) else { break };
            let mut p = Cursor { buf: payload, pos: 0 };
            let ok = match p.u8() {
                Some(REC_UPSERT) => (|| {
                    let key = p.key()?;
                    let hash = p.u64()?;
                    let at = IN_LOG | (start + 4 + p.pos) as u64;
                    v.clear();
                    p.f32s(self.dim, &mut v)?;
                    (p.pos == payload.len()).then_some((key, hash, at))
                })()
                .map(|(k, h, at)| {
                    // Linked later (`link_pending`): a long log replays fast.
                    let scale = quantize_into(&v, &mut codes);
                    self.apply_upsert_quantized(&k, h, &codes, scale, at, false);
                })
                .is_some(),
                Some(REC_DELETE) => p.key().map(|k| self.apply_delete(&k)).is_some(),
                _ => false,
            };
            if !ok {
                break;
            }
            good = c.pos;
            replayed += 1;
        }
        if !writable {
            tracing::debug!(replayed, "vector log read");
            return Ok(());
        }
        if good < bytes.len() {
            tracing::warn!(path = %path.display(), kept = good, len = bytes.len(), "vector log torn; cutting it after the last whole record");
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| SearchError::io(format!("opening {}", path.display()), e))?;
            f.set_len(good as u64)
                .and_then(|()| f.sync_all())
                .map_err(|e| SearchError::io(format!("truncating {}", path.display()), e))?;
        }
        tracing::debug!(replayed, "vector log replayed");
        self.open_log_for_append()?;
        self.log_bytes = good as u64;
        Ok(())
    }

    /// Writes a snapshot when the log has grown past the snapshot (so the
    /// total write cost stays linear), or always with `force`.
    pub fn checkpoint(&mut self, force: bool) -> Result<bool> {
        let grown = self.log_bytes > 64 * 1024 && self.log_bytes > self.snapshot_bytes / 2;
        if !(force || grown) {
            return Ok(false);
        }
        let tombstones = self.keys.len() - self.live.len();
        if tombstones > 0 && tombstones * 4 > self.keys.len() {
            self.rebuild();
        }
        self.generation += 1;
        let path = self.dir.join(SNAPSHOT);
        let meta = self.encode_nodes();
        let n = self.keys.len();
        let mut header = Vec::with_capacity(HEADER_V2);
        header.extend_from_slice(SNAP_MAGIC);
        header.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        header.extend_from_slice(&(self.dim as u32).to_le_bytes());
        header.extend_from_slice(&self.generation.to_le_bytes());
        let p = self.graph.params();
        header.extend_from_slice(&(p.m as u32).to_le_bytes());
        header.extend_from_slice(&(p.ef_construction as u32).to_le_bytes());
        header.extend_from_slice(&self.graph.rng_state().to_le_bytes());
        header.extend_from_slice(&self.graph.entry().unwrap_or(u32::MAX).to_le_bytes());
        header.extend_from_slice(&(n as u64).to_le_bytes());
        header.extend_from_slice(&(meta.len() as u64).to_le_bytes());
        debug_assert_eq!(header.len(), HEADER_V2);
        // The exact vectors come from the current files, still open.
        let mut total = 0u64;
        write_atomic_with(&path, |f| {
            let mut w = Hashing { inner: BufWriter::with_capacity(1 << 20, f), sum: Fnv::new() };
            w.write_all(&header)?;
            w.write_all(&meta)?;
            let mut buf = vec![0u8; self.dim * 4];
            for i in 0..n as u32 {
                self.read_exact_vector(i, &mut buf)?;
                w.write_all(&buf)?;
            }
            let sum = w.sum.finish();
            let mut inner = w.inner;
            inner.write_all(&sum.to_le_bytes())?;
            inner.flush()?;
            total = w.sum.len + 8;
            Ok(())
        })?;
        let file = File::open(&path).map_err(|e| SearchError::io(format!("opening {}", path.display()), e))?;
        self.snap_file = Some(file);
        let base = (HEADER_V2 + meta.len()) as u64;
        let stride = (self.dim * 4) as u64;
        for (i, at) in self.at.iter_mut().enumerate() {
            *at = base + i as u64 * stride;
        }
        self.snapshot_bytes = total;
        self.old_format = false;
        self.start_log()?;
        Ok(true)
    }

    /// Rebuilds the graph from the live vectors only (their quantized codes
    /// as they are; the exact vectors stay where they are on disk).
    fn rebuild(&mut self) {
        let mut live: Vec<(String, u32)> = self.live.iter().map(|(k, &n)| (k.clone(), n)).collect();
        live.sort_by_key(|&(_, n)| n);
        let old_graph = std::mem::replace(&mut self.graph, Hnsw::new(self.dim, HnswParams::default()));
        let old_hashes = std::mem::take(&mut self.hashes);
        let old_at = std::mem::take(&mut self.at);
        self.keys.clear();
        self.deleted.clear();
        self.live.clear();
        // Linked nodes are linked again, the unlinked tail stays a tail.
        let linked = old_graph.linked() as u32;
        for (key, n) in live {
            self.apply_upsert_quantized(
                &key,
                old_hashes[n as usize],
                old_graph.code(n),
                old_graph.scale(n),
                old_at[n as usize],
                n < linked,
            );
        }
    }

    /// The node section of a format-3 snapshot.
    fn encode_nodes(&self) -> Vec<u8> {
        let n = self.keys.len();
        let linked = self.graph.linked();
        let mut out = Vec::with_capacity(n * 180);
        for i in 0..n {
            put_key(&mut out, &self.keys[i]);
            out.extend_from_slice(&self.hashes[i].to_le_bytes());
            out.push(u8::from(self.deleted[i]));
            if i >= linked {
                out.push(0);
                continue;
            }
            let links = self.graph.links(i as u32);
            out.push(links.len() as u8);
            for l in links {
                out.extend_from_slice(&(l.len() as u16).to_le_bytes());
                for &x in l {
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
        out
    }

    /// Loads a snapshot from `file`: `Err` for I/O errors, `Ok(Err(why))`
    /// for a file that is not a good snapshot.
    fn load_snapshot(&mut self, file: &File) -> std::io::Result<std::result::Result<(), &'static str>> {
        let len = file.metadata()?.len();
        if len < 16 + 8 {
            return Ok(Err("file too short"));
        }
        let mut head = [0u8; 16];
        read_at(file, &mut head, 0)?;
        if head[..8] != SNAP_MAGIC[..] {
            return Ok(Err("not a Paperboy vector file"));
        }
        let version = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
        let dim = u32::from_le_bytes([head[12], head[13], head[14], head[15]]);
        let parsed = match version {
            SNAPSHOT_VERSION | SNAPSHOT_V2 | SNAPSHOT_V1 if dim != self.dim as u32 => {
                return Ok(Err("vectors of another dimension (the model changed)"));
            }
            SNAPSHOT_VERSION | SNAPSHOT_V2 => self.parse_v2(file, len, version == SNAPSHOT_VERSION)?,
            SNAPSHOT_V1 => {
                let mut bytes = Vec::with_capacity(len as usize);
                let mut f = file;
                f.read_to_end(&mut bytes)?;
                self.parse_v1(&bytes)
            }
            _ => return Ok(Err("unknown format version")),
        };
        let Ok(p) = parsed else {
            return Ok(parsed.map(|_| ()));
        };
        let mut live = HashMap::with_capacity(p.keys.len());
        for (i, k) in p.keys.iter().enumerate() {
            if !p.deleted[i] {
                live.insert(k.clone(), i as u32);
            }
        }
        self.old_format = version == SNAPSHOT_V1;
        self.generation = p.generation;
        self.graph = p.graph;
        self.keys = p.keys;
        self.hashes = p.hashes;
        self.deleted = p.deleted;
        self.at = p.at;
        self.live = live;
        self.snapshot_bytes = len;
        Ok(Ok(()))
    }

    /// Formats 2 and 3 (`may_end_unlinked`: format 3, which may end in
    /// unlinked nodes): the header and
    /// node section are read whole; the vectors are streamed (hashed and
    /// quantized a block at a time), so loading never holds the f32 vectors
    /// in memory.
    fn parse_v2(
        &self,
        file: &File,
        len: u64,
        may_end_unlinked: bool,
    ) -> std::io::Result<std::result::Result<Parsed, &'static str>> {
        if len < (HEADER_V2 + 8) as u64 {
            return Ok(Err("file too short"));
        }
        let mut header = [0u8; HEADER_V2];
        read_at(file, &mut header, 0)?;
        let mut sum = Fnv::new();
        sum.update(&header);
        let mut c = Cursor { buf: &header, pos: 16 };
        let fields = (|| Some((c.u64()?, c.u32()?, c.u32()?, c.u64()?, c.u32()?, c.u64()?, c.u64()?)))();
        let Some((generation, m, efc, rng, entry, n, meta_len)) = fields else {
            return Ok(Err("malformed header"));
        };
        let stride = (self.dim * 4) as u64;
        let expect =
            (|| (HEADER_V2 as u64).checked_add(meta_len)?.checked_add(n.checked_mul(stride)?)?.checked_add(8))();
        if expect != Some(len) {
            return Ok(Err("length does not match the header (torn or corrupted file)"));
        }
        if !(2..=256).contains(&(m as usize)) {
            return Ok(Err("malformed header"));
        }
        let n = n as usize;
        let mut meta = vec![0u8; meta_len as usize];
        read_at(file, &mut meta, HEADER_V2 as u64)?;
        sum.update(&meta);
        let mut codes = Vec::with_capacity(n * self.dim);
        let mut scales = Vec::with_capacity(n);
        let mut block = vec![0u8; (stride as usize) * 1024];
        let mut v = Vec::with_capacity(self.dim);
        let mut one = Vec::with_capacity(self.dim);
        let base = HEADER_V2 as u64 + meta_len;
        let mut done = 0usize;
        while done < n {
            let count = (n - done).min(1024);
            let bytes = &mut block[..count * stride as usize];
            read_at(file, bytes, base + done as u64 * stride)?;
            sum.update(bytes);
            for chunk in bytes.chunks_exact(stride as usize) {
                v.clear();
                v.extend(chunk.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
                scales.push(quantize_into(&v, &mut one));
                codes.extend_from_slice(&one);
            }
            done += count;
        }
        let mut tail = [0u8; 8];
        read_at(file, &mut tail, len - 8)?;
        if sum.finish() != u64::from_le_bytes(tail) {
            return Ok(Err("checksum mismatch (torn or corrupted file)"));
        }
        let mut c = Cursor { buf: &meta, pos: 0 };
        let nodes = (|| {
            let mut keys = Vec::with_capacity(n);
            let mut hashes = Vec::with_capacity(n);
            let mut deleted = Vec::with_capacity(n);
            let mut links = Vec::with_capacity(n);
            for _ in 0..n {
                keys.push(c.key()?);
                hashes.push(c.u64()?);
                deleted.push(c.u8()? != 0);
                match read_links(&mut c)? {
                    // Unlinked: only in format 3, and only after every linked node.
                    None if may_end_unlinked => {}
                    Some(ls) if links.len() == keys.len() - 1 => links.push(ls),
                    _ => return None,
                }
            }
            (c.pos == meta.len()).then_some((keys, hashes, deleted, links))
        })();
        let Some((keys, hashes, deleted, links)) = nodes else {
            return Ok(Err("malformed contents"));
        };
        let entry = (entry != u32::MAX).then_some(entry);
        let params = HnswParams { m: m as usize, ef_construction: efc as usize };
        let graph = Int8Store::from_parts(self.dim, codes, scales)
            .and_then(|store| Hnsw::from_parts(self.dim, params, store, links, entry, rng));
        let Some(graph) = graph else {
            return Ok(Err("malformed contents"));
        };
        let at = (0..n as u64).map(|i| base + i * stride).collect();
        Ok(Ok(Parsed { generation, graph, keys, hashes, deleted, at }))
    }

    /// Format 1 (vectors between the nodes), read whole: each node's exact
    /// vector stays where it is in that file until the writer rewrites it.
    fn parse_v1(&self, bytes: &[u8]) -> std::result::Result<Parsed, &'static str> {
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let want = u64::from_le_bytes(tail.try_into().map_err(|_| "bad tail")?);
        if checksum(body) != want {
            return Err("checksum mismatch (torn or corrupted file)");
        }
        let mut c = Cursor { buf: body, pos: 16 };
        let r = (|| {
            let generation = c.u64()?;
            let m = c.u32()? as usize;
            let efc = c.u32()? as usize;
            let rng = c.u64()?;
            let entry = c.u32()?;
            let n = c.u64()? as usize;
            if n > body.len() / (self.dim * 4).max(1) + 1 || !(2..=256).contains(&m) {
                return None;
            }
            let mut keys = Vec::with_capacity(n);
            let mut hashes = Vec::with_capacity(n);
            let mut deleted = Vec::with_capacity(n);
            let mut codes = Vec::with_capacity(n * self.dim);
            let mut scales = Vec::with_capacity(n);
            let mut at = Vec::with_capacity(n);
            let mut links = Vec::with_capacity(n);
            let mut v = Vec::with_capacity(self.dim);
            let mut one = Vec::with_capacity(self.dim);
            for _ in 0..n {
                keys.push(c.key()?);
                hashes.push(c.u64()?);
                deleted.push(c.u8()? != 0);
                at.push(c.pos as u64);
                v.clear();
                c.f32s(self.dim, &mut v)?;
                scales.push(quantize_into(&v, &mut one));
                codes.extend_from_slice(&one);
                links.push(read_links(&mut c)??);
            }
            if c.pos != body.len() {
                return None;
            }
            let entry = (entry != u32::MAX).then_some(entry);
            let params = HnswParams { m, ef_construction: efc };
            let store = Int8Store::from_parts(self.dim, codes, scales)?;
            let graph = Hnsw::from_parts(self.dim, params, store, links, entry, rng)?;
            Some(Parsed { generation, graph, keys, hashes, deleted, at })
        })();
        r.ok_or("malformed contents")
    }
}

/// A snapshot's contents, parsed.
struct Parsed {
    generation: u64,
    graph: Hnsw,
    keys: Vec<String>,
    hashes: Vec<u64>,
    deleted: Vec<bool>,
    at: Vec<u64>,
}

/// One node's links: a level count, then per level a count and node
/// numbers. `Some(None)`: a level count of 0, an unlinked node.
fn read_links(c: &mut Cursor<'_>) -> Option<Option<Vec<Vec<u32>>>> {
    let levels = c.u8()? as usize;
    if levels == 0 {
        return Some(None);
    }
    if levels > MAX_LEVEL + 1 {
        return None;
    }
    let mut ls = Vec::with_capacity(levels);
    for _ in 0..levels {
        let cnt = c.u16()? as usize;
        let mut l = Vec::with_capacity(cnt);
        for _ in 0..cnt {
            l.push(c.u32()?);
        }
        ls.push(l);
    }
    Some(Some(ls))
}

/// The best `n` of `scored`, best first, leaving `scored` whole (only
/// reordered) for a later, wider call.
fn best_of(scored: &mut [Scored], n: usize) -> Vec<Scored> {
    let n = n.min(scored.len());
    if n == 0 {
        return Vec::new();
    }
    if n < scored.len() {
        scored.select_nth_unstable_by(n - 1, |a, b| b.cmp(a));
    }
    let mut out = scored[..n].to_vec();
    out.sort_unstable_by(|a, b| b.cmp(a));
    out
}

/// Keeps the best `n` of `scored`, best first.
fn top(scored: &mut Vec<Scored>, n: usize) {
    if scored.len() > n {
        if n == 0 {
            scored.clear();
            return;
        }
        scored.select_nth_unstable_by(n - 1, |a, b| b.cmp(a));
        scored.truncate(n);
    }
    scored.sort_unstable_by(|a, b| b.cmp(a));
}

fn floor_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `[len u32][payload][checksum u64]`.
fn push_record(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&checksum(payload).to_le_bytes());
}

fn read_record<'a>(c: &mut Cursor<'a>) -> Option<&'a [u8]> {
    let len = c.u32()? as usize;
    if len > 16 * 1024 * 1024 {
        return None;
    }
    let payload = c.take(len)?;
    let sum = c.u64()?;
    (checksum(payload) == sum).then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut s = seed;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0
        };
        let centres: Vec<Vec<f32>> = (0..20).map(|_| (0..dim).map(|_| next()).collect()).collect();
        (0..n)
            .map(|i| {
                let mut v: Vec<f32> = centres[i % 20].iter().map(|x| x + 0.8 * next()).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter_mut().for_each(|x| *x /= norm);
                v
            })
            .collect()
    }

    fn items(vs: &[Vec<f32>]) -> Vec<(String, u64, Vec<f32>)> {
        vs.iter().enumerate().map(|(i, v)| (format!("k{i}"), i as u64, v.clone())).collect()
    }

    /// Exact top-k by f32 dot product over all vectors: the reference.
    fn reference(data: &[Vec<f32>], q: &[f32], k: usize) -> Vec<String> {
        let mut s: Vec<(f32, usize)> = data.iter().enumerate().map(|(i, v)| (crate::hnsw::dot(q, v), i)).collect();
        s.sort_by(|a, b| b.0.total_cmp(&a.0));
        s.into_iter().take(k).map(|(_, i)| format!("k{i}")).collect()
    }

    fn recall(idx: &VectorIndex, data: &[Vec<f32>], queries: &[Vec<f32>], exact: bool) -> f64 {
        let mut hit = 0;
        for q in queries {
            let want = reference(data, q, 10);
            let got = if exact { idx.search_exact(q, 10, &|_| true) } else { idx.search(q, 10, &|_| true) };
            hit += got.iter().filter(|h| want.contains(&h.key)).count();
        }
        hit as f64 / (queries.len() * 10) as f64
    }

    #[test]
    fn streaming_checksum_equals_the_whole_one() {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        for cut in [0, 1, 3, 8, 9, 500, 999, 1000] {
            let mut f = Fnv::new();
            f.update(&bytes[..cut]);
            f.update(&bytes[cut..]);
            assert_eq!(f.finish(), checksum(&bytes), "split at {cut}");
        }
    }

    #[test]
    fn quantized_search_with_rescoring_has_high_recall() {
        let dim = 48;
        let data = unit_vectors(3_000, dim, 5);
        let queries = unit_vectors(40, dim, 77);
        let dir = tempfile::tempdir().unwrap();
        let mut idx = VectorIndex::open(dir.path(), dim).unwrap();
        idx.upsert(&items(&data)).unwrap();
        idx.exact_below = 0;
        let graph = recall(&idx, &data, &queries, false);
        let exact = recall(&idx, &data, &queries, true);
        assert!(graph >= 0.95, "graph recall@10 {graph}");
        assert!(exact >= 0.99, "quantized exact scan recall@10 {exact}");
        // Similarities are the exact ones after re-scoring.
        let hit = &idx.search(&data[42], 1, &|_| true)[0];
        assert_eq!(hit.key, "k42");
        assert!((hit.sim - crate::hnsw::dot(&data[42], &data[42])).abs() < 1e-6);
        // Without re-scoring they are the quantized approximations.
        idx.rescore = 0;
        let approx = &idx.search_exact(&data[42], 1, &|_| true)[0];
        assert!((approx.sim - hit.sim).abs() < 5e-3);
    }

    #[test]
    fn snapshot_round_trip_keeps_exact_vectors_and_graph() {
        let dim = 19; // odd: the kernels' tails and unaligned offsets
        let data = unit_vectors(400, dim, 9);
        let dir = tempfile::tempdir().unwrap();
        let before;
        {
            let mut idx = VectorIndex::open(dir.path(), dim).unwrap();
            idx.upsert(&items(&data[..300])).unwrap();
            idx.checkpoint(true).unwrap();
            let rest: Vec<(String, u64, Vec<f32>)> = items(&data).split_off(300);
            idx.upsert(&rest).unwrap();
            idx.delete(&["k5"]).unwrap();
            // The exact vector is read back from the snapshot and the log.
            assert_eq!(idx.get("k10").unwrap(), data[10]);
            assert_eq!(idx.get("k350").unwrap(), data[350]);
            idx.exact_below = 0;
            before = idx.search(&data[7], 5, &|_| true);
            idx.checkpoint(true).unwrap();
            assert_eq!(idx.get("k350").unwrap(), data[350], "moved into the new snapshot");
        }
        let bytes = fs::read(dir.path().join(SNAPSHOT)).unwrap();
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), SNAPSHOT_VERSION);
        let mut idx = VectorIndex::open(dir.path(), dim).unwrap();
        assert_eq!(idx.len(), 399);
        assert!(idx.get("k5").is_none());
        for i in [0, 299, 300, 399] {
            assert_eq!(idx.get(&format!("k{i}")).unwrap(), data[i]);
        }
        idx.exact_below = 0;
        assert_eq!(idx.search(&data[7], 5, &|_| true), before);
        let mem = idx.memory();
        assert!(mem.vectors >= 400 * (dim + 4) && mem.vectors < 400 * dim * 4, "{mem:?}");
        assert!(mem.links > 0 && mem.locations == idx.keys.len() * 8);
    }

    /// Vectors put unlinked are found at once (the tail is scanned), survive
    /// a snapshot and a log replay as an unlinked tail, and linking them
    /// later gives the graph its usual recall.
    #[test]
    fn unlinked_vectors_are_searchable_before_and_after_linking() {
        let dim = 24;
        let data = unit_vectors(2_000, dim, 31);
        let queries = unit_vectors(30, dim, 32);
        let dir = tempfile::tempdir().unwrap();
        {
            let mut idx = VectorIndex::open(dir.path(), dim).unwrap();
            idx.exact_below = 0;
            let all = items(&data);
            idx.upsert(&all[..500]).unwrap();
            idx.upsert_unlinked(&all[500..1500]).unwrap();
            assert_eq!((idx.len(), idx.unlinked()), (1500, 1000));
            // A vector of the tail is its own nearest neighbour.
            assert_eq!(idx.search(&data[1234], 1, &|_| true)[0].key, "k1234");
            // Filters apply to the tail too.
            let hits = idx.search(&data[1234], 5, &|k| k != "k1234");
            assert!(hits.len() == 5 && hits.iter().all(|h| h.key != "k1234"));
            idx.checkpoint(true).unwrap();
            // More, logged after the snapshot, and a replacement in the tail.
            idx.upsert_unlinked(&all[1500..]).unwrap();
            idx.upsert_unlinked(&[("k600".to_string(), 600, data[7].clone())]).unwrap();
        }
        let bytes = fs::read(dir.path().join(SNAPSHOT)).unwrap();
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 3);
        let mut idx = VectorIndex::open(dir.path(), dim).unwrap();
        idx.exact_below = 0;
        assert_eq!(idx.len(), 2000);
        assert_eq!(idx.unlinked(), 1501, "the snapshot's tail and the log's vectors wait for linking");
        assert_eq!(idx.get("k600").unwrap(), data[7]);
        let mut data = data;
        data[600] = data[7].clone();
        let before = recall(&idx, &data, &queries, false);
        assert!(before >= 0.95, "recall@10 with the tail scanned {before}");
        assert_eq!(idx.link_pending(1000), 1000);
        assert_eq!(idx.link_pending(usize::MAX), 501);
        assert_eq!((idx.unlinked(), idx.link_pending(10)), (0, 0));
        let after = recall(&idx, &data, &queries, false);
        assert!(after >= 0.95, "graph recall@10 after linking {after}");
        idx.checkpoint(true).unwrap();
        drop(idx);
        let idx = VectorIndex::open(dir.path(), dim).unwrap();
        assert_eq!((idx.len(), idx.unlinked()), (2000, 0));
    }

    /// Writes `data` as a format-1 snapshot (vectors between the nodes),
    /// as the previous version of this module did, plus a format-1 log.
    fn write_v1(dir: &Path, dim: usize, data: &[Vec<f32>], logged: &[(String, u64, Vec<f32>)]) {
        let mut g: Hnsw = Hnsw::new(dim, HnswParams::default());
        for v in data {
            g.insert(v);
        }
        let generation = 3u64;
        let mut out = Vec::new();
        out.extend_from_slice(SNAP_MAGIC);
        out.extend_from_slice(&SNAPSHOT_V1.to_le_bytes());
        out.extend_from_slice(&(dim as u32).to_le_bytes());
        out.extend_from_slice(&generation.to_le_bytes());
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&128u32.to_le_bytes());
        out.extend_from_slice(&g.rng_state().to_le_bytes());
        out.extend_from_slice(&g.entry().unwrap().to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        for (i, v) in data.iter().enumerate() {
            put_key(&mut out, &format!("k{i}"));
            out.extend_from_slice(&(i as u64).to_le_bytes());
            out.push(0);
            for x in v {
                out.extend_from_slice(&x.to_le_bytes());
            }
            let links = g.links(i as u32);
            out.push(links.len() as u8);
            for l in links {
                out.extend_from_slice(&(l.len() as u16).to_le_bytes());
                for &x in l {
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
        let sum = checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        fs::write(dir.join(SNAPSHOT), &out).unwrap();
        let mut log = Vec::new();
        log.extend_from_slice(LOG_MAGIC);
        log.extend_from_slice(&1u32.to_le_bytes());
        log.extend_from_slice(&(dim as u32).to_le_bytes());
        log.extend_from_slice(&generation.to_le_bytes());
        for (key, hash, v) in logged {
            let mut payload = vec![REC_UPSERT];
            put_key(&mut payload, key);
            payload.extend_from_slice(&hash.to_le_bytes());
            for x in v {
                payload.extend_from_slice(&x.to_le_bytes());
            }
            push_record(&mut log, &payload);
        }
        fs::write(dir.join(LOG), &log).unwrap();
    }

    #[test]
    fn format_1_is_read_and_upgraded_at_open() {
        let dim = 24;
        let data = unit_vectors(120, dim, 13);
        let logged = vec![("extra".to_string(), 77u64, data[0].iter().map(|x| -x).collect::<Vec<f32>>())];
        let dir = tempfile::tempdir().unwrap();
        write_v1(dir.path(), dim, &data, &logged);
        // A reader takes it as it is, changing nothing.
        let reader = VectorIndex::open_read_only(dir.path(), dim).unwrap();
        assert_eq!(reader.len(), 121);
        assert_eq!(reader.get("k17").unwrap(), data[17]);
        assert_eq!(reader.get("extra").unwrap(), logged[0].2);
        let snap = fs::read(dir.path().join(SNAPSHOT)).unwrap();
        assert_eq!(u32::from_le_bytes(snap[8..12].try_into().unwrap()), SNAPSHOT_V1);
        drop(reader);
        // The writer rewrites it in format 2 with every vector.
        let idx = VectorIndex::open(dir.path(), dim).unwrap();
        let snap = fs::read(dir.path().join(SNAPSHOT)).unwrap();
        assert_eq!(u32::from_le_bytes(snap[8..12].try_into().unwrap()), SNAPSHOT_VERSION);
        assert_eq!(idx.len(), 121);
        assert_eq!(idx.hash_of("extra"), Some(77));
        drop(idx);
        let mut idx = VectorIndex::open(dir.path(), dim).unwrap();
        assert_eq!(idx.len(), 121);
        for i in [0, 17, 119] {
            assert_eq!(idx.get(&format!("k{i}")).unwrap(), data[i]);
            assert_eq!(idx.hash_of(&format!("k{i}")), Some(i as u64));
        }
        assert_eq!(idx.get("extra").unwrap(), logged[0].2);
        idx.exact_below = 0;
        assert_eq!(idx.search(&data[33], 1, &|_| true)[0].key, "k33");
    }

    #[test]
    fn a_torn_format_2_snapshot_is_refused() {
        let dim = 8;
        let data = unit_vectors(50, dim, 21);
        let dir = tempfile::tempdir().unwrap();
        {
            let mut idx = VectorIndex::open(dir.path(), dim).unwrap();
            idx.upsert(&items(&data)).unwrap();
            idx.checkpoint(true).unwrap();
        }
        let path = dir.path().join(SNAPSHOT);
        let bytes = fs::read(&path).unwrap();
        // Flip a bit in the vector section: only the checksum can tell.
        let mut flipped = bytes.clone();
        let at = bytes.len() - 8 - 5;
        flipped[at] ^= 1;
        fs::write(&path, &flipped).unwrap();
        assert_eq!(VectorIndex::open_read_only(dir.path(), dim).unwrap().len(), 0);
        fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert_eq!(VectorIndex::open_read_only(dir.path(), dim).unwrap().len(), 0);
        fs::write(&path, &bytes).unwrap();
        assert_eq!(VectorIndex::open_read_only(dir.path(), dim).unwrap().len(), 50);
    }
}
