//! The persistent vector index: paper key → unit vector (plus the hash of
//! the text it was computed from), searchable by cosine similarity.
//!
//! Search is exact (brute force) below [`EXACT_BELOW`] live vectors, where a
//! scan is as fast as the graph and always right, and through the [`Hnsw`]
//! graph above. Replacing or deleting a key tombstones its node; the graph is
//! rebuilt from live vectors when tombstones pass a quarter of the nodes.
//!
//! On disk, in the index directory:
//! - `vectors.bin`: a snapshot (magic, version, generation, parameters,
//!   nodes with key, hash, tombstone, vector and links, then a checksum),
//!   written to `vectors.bin.tmp`, fsynced and renamed over the old one;
//! - `vectors.log`: the changes since that snapshot (a header naming the
//!   snapshot's generation, then checksummed upsert/delete records), appended
//!   and fsynced after each batch.
//!
//! Opening loads the snapshot and replays the log up to the first torn or
//! corrupt record, cutting the log there. A corrupt snapshot is set aside
//! (`vectors.bin.corrupt`) and the index starts empty: vectors are derived
//! data, the engine re-embeds whatever lacks one.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Result, SearchError};
use crate::hnsw::{Hnsw, HnswParams, MAX_LEVEL, Scored, dot};

/// Below this many live vectors search scans them all (exact). A rough
/// figure, not a careful measurement: a graph search at ef = 256 over 20k
/// 384-d vectors took 1.0–1.4 ms in release (tests/vector_index.rs), and a
/// scan costs about 0.1 ms per 1,000 vectors per core, so below ~5k the
/// exact scan is no slower and never misses.
pub const EXACT_BELOW: usize = 5_000;

const SNAP_MAGIC: &[u8; 8] = b"PBVECS\0\0";
const LOG_MAGIC: &[u8; 8] = b"PBVLOG\0\0";
const FORMAT_VERSION: u32 = 1;
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

/// Paper key → vector, persisted in a directory.
pub struct VectorIndex {
    dir: PathBuf,
    dim: usize,
    graph: Hnsw,
    keys: Vec<String>,
    hashes: Vec<u64>,
    deleted: Vec<bool>,
    live: HashMap<String, u32>,
    generation: u64,
    log: Option<File>,
    log_bytes: u64,
    snapshot_bytes: u64,
    /// Force exact or graph search regardless of size (tests, benchmarks).
    pub exact_below: usize,
    /// Candidate list size of graph searches (at least k).
    pub ef_search: usize,
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

fn checksum(bytes: &[u8]) -> u64 {
    // FNV-style over 8-byte words: fast, stable, and enough to tell a torn
    // or flipped file from a good one.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ bytes.len() as u64
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
    let k = &key.as_bytes()[..key.len().min(MAX_KEY)];
    out.extend_from_slice(&(k.len() as u16).to_le_bytes());
    out.extend_from_slice(k);
}

/// Writes `bytes` to `path` atomically: temp file, fsync, rename, fsync dir.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let ctx = |what: &str| format!("{what} {}", tmp.display());
    {
        let mut f = File::create(&tmp).map_err(|e| SearchError::io(ctx("creating"), e))?;
        f.write_all(bytes).map_err(|e| SearchError::io(ctx("writing"), e))?;
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
    /// starts empty (the model changed).
    pub fn open(dir: &Path, dim: usize) -> Result<VectorIndex> {
        fs::create_dir_all(dir).map_err(|e| SearchError::io(format!("creating {}", dir.display()), e))?;
        let _ = fs::remove_file(dir.join(format!("{SNAPSHOT}.tmp")));
        let _ = fs::remove_file(dir.join(format!("{LOG}.tmp")));
        Self::load(dir, dim, true)
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
        if snap_path.exists() {
            let bytes =
                fs::read(&snap_path).map_err(|e| SearchError::io(format!("reading {}", snap_path.display()), e))?;
            idx.snapshot_bytes = bytes.len() as u64;
            match idx.load_snapshot(&bytes) {
                Ok(()) => {}
                Err(why) if writable => {
                    tracing::warn!(path = %snap_path.display(), why, "vector snapshot unusable; set aside, vectors will be recomputed");
                    let _ = fs::rename(&snap_path, snap_path.with_extension("bin.corrupt"));
                    idx = VectorIndex::empty(dir, dim);
                }
                Err(why) => {
                    tracing::warn!(path = %snap_path.display(), why, "vector snapshot unusable; reading without vectors");
                    return Ok(VectorIndex::empty(dir, dim));
                }
            }
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
            generation: 0,
            log: None,
            log_bytes: 0,
            snapshot_bytes: 0,
            exact_below: EXACT_BELOW,
            ef_search: 256,
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

    /// The vector stored for `key`.
    pub fn get(&self, key: &str) -> Option<&[f32]> {
        self.live.get(key).map(|&n| self.graph.vector(n))
    }

    /// All live keys.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.live.keys().map(String::as_str)
    }

    fn check_dim(&self, v: &[f32]) -> Result<()> {
        if v.len() != self.dim {
            return Err(SearchError::Dimension { want: self.dim, got: v.len() });
        }
        Ok(())
    }

    /// Adds or replaces vectors and logs the change durably (fsync).
    pub fn upsert(&mut self, items: &[(String, u64, Vec<f32>)]) -> Result<()> {
        for (_, _, v) in items {
            self.check_dim(v)?;
        }
        let mut rec = Vec::new();
        for (key, hash, v) in items {
            let mut payload = Vec::with_capacity(key.len() + 16 + v.len() * 4);
            payload.push(REC_UPSERT);
            put_key(&mut payload, key);
            payload.extend_from_slice(&hash.to_le_bytes());
            for x in v {
                payload.extend_from_slice(&x.to_le_bytes());
            }
            push_record(&mut rec, &payload);
        }
        self.append_log(&rec)?;
        for (key, hash, v) in items {
            self.apply_upsert(key, *hash, v);
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

    fn apply_upsert(&mut self, key: &str, hash: u64, v: &[f32]) {
        let key = &key[..floor_boundary(key, MAX_KEY)];
        self.apply_delete(key);
        let node = self.graph.insert(v);
        debug_assert_eq!(node as usize, self.keys.len());
        self.keys.push(key.to_string());
        self.hashes.push(hash);
        self.deleted.push(false);
        self.live.insert(key.to_string(), node);
    }

    fn apply_delete(&mut self, key: &str) {
        if let Some(n) = self.live.remove(key) {
            self.deleted[n as usize] = true;
        }
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
        let mut ef = self.ef_search.max(k * 2);
        loop {
            let found = self.graph.search(q, ef);
            let hits: Vec<VectorHit> = found
                .iter()
                .filter(|s| !self.deleted[s.node as usize])
                .filter(|s| allow(&self.keys[s.node as usize]))
                .take(k)
                .map(|s| VectorHit { key: self.keys[s.node as usize].clone(), sim: s.sim })
                .collect();
            // Filters or tombstones ate the candidates: widen, and past a
            // point scan exactly (a narrow filter is best served by a scan).
            if hits.len() >= k || found.len() < ef {
                return hits;
            }
            if ef >= 4096 {
                return self.search_exact(q, k, allow);
            }
            ef *= 4;
        }
    }

    /// Exact top-k among the given keys (those without a vector are
    /// skipped): the path for narrow filters.
    pub fn search_among<'a>(&self, q: &[f32], k: usize, keys: impl Iterator<Item = &'a str>) -> Vec<VectorHit> {
        if q.len() != self.dim || k == 0 {
            return Vec::new();
        }
        let mut scored: Vec<Scored> = keys
            .filter_map(|key| self.live.get(key))
            .map(|&n| Scored { sim: dot(q, self.graph.vector(n)), node: n })
            .collect();
        scored.sort_unstable_by(|a, b| b.cmp(a));
        scored.into_iter().take(k).map(|s| VectorHit { key: self.keys[s.node as usize].clone(), sim: s.sim }).collect()
    }

    /// Exact top-k by scanning every live vector (in parallel).
    pub fn search_exact(&self, q: &[f32], k: usize, allow: &dyn Fn(&str) -> bool) -> Vec<VectorHit> {
        if q.len() != self.dim || k == 0 {
            return Vec::new();
        }
        let nodes: Vec<u32> = self.live.values().copied().collect();
        let mut scored: Vec<Scored> = nodes
            .par_chunks(1024)
            .flat_map_iter(|chunk| chunk.iter().map(|&n| Scored { sim: dot(q, self.graph.vector(n)), node: n }))
            .collect();
        scored.sort_unstable_by(|a, b| b.cmp(a));
        scored
            .into_iter()
            .filter(|s| allow(&self.keys[s.node as usize]))
            .take(k)
            .map(|s| VectorHit { key: self.keys[s.node as usize].clone(), sim: s.sim })
            .collect()
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

    /// Creates a fresh log for the current snapshot generation (atomically).
    fn start_log(&mut self) -> Result<()> {
        let path = self.dir.join(LOG);
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(LOG_MAGIC);
        header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        header.extend_from_slice(&(self.dim as u32).to_le_bytes());
        header.extend_from_slice(&self.generation.to_le_bytes());
        write_atomic(&path, &header)?;
        let f = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| SearchError::io(format!("opening {}", path.display()), e))?;
        self.log = Some(f);
        self.log_bytes = header.len() as u64;
        Ok(())
    }

    /// Applies the log; `writable`: also repair it (start a new one, cut a
    /// torn tail) and keep it open for appending.
    fn replay_log(&mut self, writable: bool) -> Result<()> {
        let path = self.dir.join(LOG);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(SearchError::io(format!("reading {}", path.display()), e)),
        };
        let mut c = Cursor { buf: &bytes, pos: 0 };
        let header_ok = c.take(8) == Some(&LOG_MAGIC[..])
            && c.u32() == Some(FORMAT_VERSION)
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
        let mut good = c.pos;
        let mut replayed = 0usize;
        while let Some(payload) = read_record(&mut c) {
            let mut p = Cursor { buf: payload, pos: 0 };
            let ok = match p.u8() {
                Some(REC_UPSERT) => (|| {
                    let key = p.key()?;
                    let hash = p.u64()?;
                    let mut v = Vec::with_capacity(self.dim);
                    p.f32s(self.dim, &mut v)?;
                    (p.pos == payload.len()).then_some((key, hash, v))
                })()
                .map(|(k, h, v)| self.apply_upsert(&k, h, &v))
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
        let f = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| SearchError::io(format!("opening {}", path.display()), e))?;
        self.log = Some(f);
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
        let bytes = self.encode_snapshot();
        write_atomic(&self.dir.join(SNAPSHOT), &bytes)?;
        self.snapshot_bytes = bytes.len() as u64;
        self.start_log()?;
        Ok(true)
    }

    /// Rebuilds the graph from the live vectors only.
    fn rebuild(&mut self) {
        let mut live: Vec<(String, u32)> = self.live.iter().map(|(k, &n)| (k.clone(), n)).collect();
        live.sort_by_key(|&(_, n)| n);
        let old_graph = std::mem::replace(&mut self.graph, Hnsw::new(self.dim, HnswParams::default()));
        let old_hashes = std::mem::take(&mut self.hashes);
        self.keys.clear();
        self.deleted.clear();
        self.live.clear();
        for (key, n) in live {
            self.apply_upsert(&key, old_hashes[n as usize], old_graph.vector(n));
        }
    }

    fn encode_snapshot(&self) -> Vec<u8> {
        let n = self.keys.len();
        let mut out = Vec::with_capacity(64 + n * (self.dim * 4 + 200));
        out.extend_from_slice(SNAP_MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.dim as u32).to_le_bytes());
        out.extend_from_slice(&self.generation.to_le_bytes());
        let p = self.graph.params();
        out.extend_from_slice(&(p.m as u32).to_le_bytes());
        out.extend_from_slice(&(p.ef_construction as u32).to_le_bytes());
        out.extend_from_slice(&self.graph.rng_state().to_le_bytes());
        out.extend_from_slice(&self.graph.entry().unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&(n as u64).to_le_bytes());
        for i in 0..n {
            put_key(&mut out, &self.keys[i]);
            out.extend_from_slice(&self.hashes[i].to_le_bytes());
            out.push(u8::from(self.deleted[i]));
            for x in self.graph.vector(i as u32) {
                out.extend_from_slice(&x.to_le_bytes());
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
        let sum = checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    fn load_snapshot(&mut self, bytes: &[u8]) -> std::result::Result<(), &'static str> {
        if bytes.len() < 8 + 8 {
            return Err("file too short");
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let want = u64::from_le_bytes(tail.try_into().map_err(|_| "bad tail")?);
        if checksum(body) != want {
            return Err("checksum mismatch (torn or corrupted file)");
        }
        let mut c = Cursor { buf: body, pos: 0 };
        if c.take(8) != Some(&SNAP_MAGIC[..]) {
            return Err("not a Paperboy vector file");
        }
        if c.u32() != Some(FORMAT_VERSION) {
            return Err("unknown format version");
        }
        if c.u32() != Some(self.dim as u32) {
            return Err("vectors of another dimension (the model changed)");
        }
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
            let mut vectors = Vec::with_capacity(n * self.dim);
            let mut links = Vec::with_capacity(n);
            for _ in 0..n {
                keys.push(c.key()?);
                hashes.push(c.u64()?);
                deleted.push(c.u8()? != 0);
                c.f32s(self.dim, &mut vectors)?;
                let levels = c.u8()? as usize;
                if levels == 0 || levels > MAX_LEVEL + 1 {
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
                links.push(ls);
            }
            if c.pos != body.len() {
                return None;
            }
            let entry = (entry != u32::MAX).then_some(entry);
            let params = HnswParams { m, ef_construction: efc };
            let graph = Hnsw::from_parts(self.dim, params, vectors, links, entry, rng)?;
            Some((generation, graph, keys, hashes, deleted))
        })();
        let (generation, graph, keys, hashes, deleted) = r.ok_or("malformed contents")?;
        let mut live = HashMap::with_capacity(keys.len());
        for (i, k) in keys.iter().enumerate() {
            if !deleted[i] {
                live.insert(k.clone(), i as u32);
            }
        }
        self.generation = generation;
        self.graph = graph;
        self.keys = keys;
        self.hashes = hashes;
        self.deleted = deleted;
        self.live = live;
        Ok(())
    }
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
