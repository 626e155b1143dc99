//! [`EvidenceStore`]: the evidence vectors ([`crate::evidence`]) of the
//! papers of one index directory, on disk, read by paper.
//!
//! Evidence is never searched, only read for the few hundred candidates of
//! a query, so its vectors stay on disk and only a map from a 64-bit hash of
//! the paper id to where its vectors are lives in memory (under 40 bytes a
//! paper, whatever its number of vectors): a million papers' passages add
//! about 25 MB to the server, not the gigabyte their vectors take. Reads are
//! `pread`s that the page cache serves; each checks that the record it reads
//! names the paper asked for, so two ids with the same hash (odds about
//! 1 in 10^7 at a million papers) cost one of them its evidence, never give
//! it the other's.
//!
//! The file, `evidence/evidence.log`: a header (magic, format version,
//! dimension), then checksummed records, each either *put* (paper id, text
//! hash, count, that many f32 vectors) or *delete* (the id's hash); the last
//! record of a paper wins. Writes are appended and fsynced per batch. Opening reads
//! the records up to the first torn or corrupt one and cuts the file there;
//! a file with a bad header or another dimension is set aside
//! (`evidence.log.corrupt`) and the store starts empty: evidence is derived
//! data, recomputed with the paper's vector. [`EvidenceStore::checkpoint`]
//! rewrites the file with only the live records once replaced and deleted
//! ones outweigh them.
//!
//! Writers store a paper's evidence *before* its vector: the paper's
//! vector being current (the engine's test for "pending") then implies its
//! evidence is too, whatever crash came between the two writes.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Result, SearchError};
use crate::vectors::{checksum, read_at, write_atomic_with};

const MAGIC: &[u8; 8] = b"PBEVID\0\0";
const VERSION: u32 = 1;
const HEADER: u64 = 8 + 4 + 4;
const FILE: &str = "evidence.log";
const PUT: u8 = 1;
const DELETE: u8 = 2;
/// A record longer than this is corrupt (a paper has at most
/// [`crate::evidence::MAX_EVIDENCE`] vectors).
const MAX_RECORD: usize = 1 << 24;
/// Dead bytes are compacted away once they pass this and the live bytes.
const COMPACT_AFTER: u64 = 1 << 20;

/// Where a paper's evidence is in the file.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Offset of its put record's payload.
    at: u64,
    count: u32,
}

/// The map's key for `paper`.
fn key(paper: &str) -> u64 {
    paperboy_core::id::fnv1a64(paper.as_bytes())
}

/// The evidence vectors of an index directory (module docs).
#[derive(Debug)]
pub struct EvidenceStore {
    path: PathBuf,
    dim: usize,
    map: HashMap<u64, Entry>,
    vectors: usize,
    /// Open for reading (and, when writable, appending).
    file: Option<File>,
    writable: bool,
    len: u64,
    /// Bytes of records that no longer count (replaced or deleted).
    dead: u64,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> SearchError {
    SearchError::io(format!("{what} {}", path.display()), e)
}

fn header(dim: usize) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER as usize);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&VERSION.to_le_bytes());
    h.extend_from_slice(&(dim as u32).to_le_bytes());
    h
}

/// Appends one framed record (length, payload, checksum) to `out`.
fn frame(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&checksum(payload).to_le_bytes());
}

fn put_payload(paper: &str, hash: u64, vectors: &[Vec<f32>]) -> Vec<u8> {
    let dim = vectors.first().map_or(0, Vec::len);
    let mut p = Vec::with_capacity(1 + 2 + paper.len() + 8 + 4 + vectors.len() * dim * 4);
    p.push(PUT);
    p.extend_from_slice(&(paper.len() as u16).to_le_bytes());
    p.extend_from_slice(paper.as_bytes());
    p.extend_from_slice(&hash.to_le_bytes());
    p.extend_from_slice(&(vectors.len() as u32).to_le_bytes());
    for x in vectors.iter().flatten() {
        p.extend_from_slice(&x.to_le_bytes());
    }
    p
}

fn delete_payload(key: u64) -> Vec<u8> {
    let mut p = Vec::with_capacity(9);
    p.push(DELETE);
    p.extend_from_slice(&key.to_le_bytes());
    p
}

/// A record read back, by the map's key of its paper.
enum Record {
    Put { key: u64, count: u32 },
    Delete { key: u64 },
}

/// A put payload's paper id, and the offset of its count (the vectors
/// follow it).
fn put_header(payload: &[u8]) -> Option<(&str, usize)> {
    let klen = u16::from_le_bytes(payload.get(1..3)?.try_into().ok()?) as usize;
    let paper = std::str::from_utf8(payload.get(3..3 + klen)?).ok()?;
    Some((paper, 3 + klen + 8))
}

fn parse(payload: &[u8], dim: usize) -> Option<Record> {
    match *payload.first()? {
        PUT => {
            let (paper, count_at) = put_header(payload)?;
            let count = u32::from_le_bytes(payload.get(count_at..count_at + 4)?.try_into().ok()?);
            (payload.len() == count_at + 4 + count as usize * dim * 4).then(|| Record::Put { key: key(paper), count })
        }
        DELETE => {
            let key = u64::from_le_bytes(payload.get(1..9)?.try_into().ok()?);
            (payload.len() == 9).then_some(Record::Delete { key })
        }
        _ => None,
    }
}

impl EvidenceStore {
    /// Opens (or creates) the store in `dir` for `dim`-number vectors.
    pub fn open(dir: &Path, dim: usize) -> Result<EvidenceStore> {
        fs::create_dir_all(dir).map_err(|e| io("creating", dir, e))?;
        let path = dir.join(FILE);
        let _ = fs::remove_file(dir.join(format!("{FILE}.tmp")));
        let mut store = EvidenceStore::load(&path, dim, true)?;
        if store.file.is_none() {
            store.reset()?;
        }
        Ok(store)
    }

    /// Reads the store in `dir` as it is, changing no file (another process
    /// writes it; a record it is appending is skipped).
    pub fn open_read_only(dir: &Path, dim: usize) -> Result<EvidenceStore> {
        EvidenceStore::load(&dir.join(FILE), dim, false)
    }

    fn empty(path: &Path, dim: usize, writable: bool) -> EvidenceStore {
        EvidenceStore {
            path: path.to_path_buf(),
            dim,
            map: HashMap::new(),
            vectors: 0,
            file: None,
            writable,
            len: 0,
            dead: 0,
        }
    }

    /// Reads the file's records; `file` stays `None` when there is no
    /// usable file (a writer then starts a new one).
    fn load(path: &Path, dim: usize, writable: bool) -> Result<EvidenceStore> {
        let mut store = EvidenceStore::empty(path, dim, writable);
        let file = match OpenOptions::new().read(true).write(writable).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(store),
            Err(e) => return Err(io("opening", path, e)),
        };
        let total = file.metadata().map_err(|e| io("reading", path, e))?.len();
        let mut reader = BufReader::with_capacity(1 << 20, &file);
        let mut head = [0u8; HEADER as usize];
        if total < HEADER || reader.read_exact(&mut head).is_err() || head[..] != header(dim)[..] {
            if writable {
                tracing::warn!(path = %path.display(), "evidence file unusable (or of another model); set aside, evidence will be recomputed");
                drop(reader);
                drop(file);
                let _ = fs::rename(path, path.with_extension("log.corrupt"));
            }
            return Ok(store);
        }
        let mut at = HEADER;
        let mut payload = Vec::new();
        loop {
            let mut len = [0u8; 4];
            if reader.read_exact(&mut len).is_err() {
                break;
            }
            let n = u32::from_le_bytes(len) as usize;
            if n > MAX_RECORD || at + 4 + n as u64 + 8 > total {
                break;
            }
            payload.resize(n, 0);
            let mut sum = [0u8; 8];
            if reader.read_exact(&mut payload).is_err() || reader.read_exact(&mut sum).is_err() {
                break;
            }
            if checksum(&payload) != u64::from_le_bytes(sum) {
                break;
            }
            let Some(record) = parse(&payload, dim) else { break };
            store.apply(record, at + 4, 4 + n as u64 + 8);
            at += 4 + n as u64 + 8;
        }
        drop(reader);
        if at < total && writable {
            tracing::warn!(path = %path.display(), kept = at, dropped = total - at, "evidence file ends in a torn or corrupt record; cut there");
            file.set_len(at).map_err(|e| io("cutting", path, e))?;
            file.sync_all().map_err(|e| io("syncing", path, e))?;
        }
        store.len = at;
        store.file = Some(file);
        Ok(store)
    }

    /// Applies a record whose payload starts at `payload_at` and that takes
    /// `size` bytes in the file.
    fn apply(&mut self, record: Record, payload_at: u64, size: u64) {
        match record {
            Record::Put { key, count } => {
                let entry = Entry { at: payload_at, count };
                self.vectors += count as usize;
                if let Some(old) = self.map.insert(key, entry) {
                    self.vectors -= old.count as usize;
                    self.dead += self.record_size(old.count);
                }
            }
            Record::Delete { key } => {
                if let Some(old) = self.map.remove(&key) {
                    self.vectors -= old.count as usize;
                    self.dead += self.record_size(old.count);
                }
                self.dead += size;
            }
        }
    }

    /// About the bytes a put of `count` vectors takes (its key aside).
    fn record_size(&self, count: u32) -> u64 {
        4 + 1 + 2 + 8 + 4 + count as u64 * self.dim as u64 * 4 + 8
    }

    /// Starts an empty file (header only), atomically.
    fn reset(&mut self) -> Result<()> {
        write_atomic_with(&self.path, |f| f.write_all(&header(self.dim)))?;
        let file =
            OpenOptions::new().read(true).write(true).open(&self.path).map_err(|e| io("opening", &self.path, e))?;
        self.file = Some(file);
        self.map.clear();
        self.vectors = 0;
        self.len = HEADER;
        self.dead = 0;
        Ok(())
    }

    fn append(&mut self, records: &[Vec<u8>]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        if !self.writable {
            return Err(SearchError::Locked(self.path.parent().unwrap_or(&self.path).to_path_buf()));
        }
        let mut buf = Vec::new();
        let mut placed = Vec::with_capacity(records.len());
        for payload in records {
            placed.push((self.len + buf.len() as u64 + 4, 4 + payload.len() as u64 + 8));
            frame(&mut buf, payload);
        }
        let file = self.file.as_mut().ok_or_else(|| {
            SearchError::io("appending to the evidence file", std::io::Error::other("the file is not open"))
        })?;
        file.seek(SeekFrom::Start(self.len))
            .and_then(|_| file.write_all(&buf))
            .and_then(|()| file.sync_data())
            .map_err(|e| io("appending to", &self.path, e))?;
        self.len += buf.len() as u64;
        for (payload, (at, size)) in records.iter().zip(placed) {
            if let Some(record) = parse(payload, self.dim) {
                self.apply(record, at, size);
            }
        }
        Ok(())
    }

    /// Evidence vectors stored, over all papers.
    pub fn len(&self) -> usize {
        self.vectors
    }

    /// Whether no paper has evidence.
    pub fn is_empty(&self) -> bool {
        self.vectors == 0
    }

    /// How many evidence vectors `paper` has.
    pub fn count(&self, paper: &str) -> usize {
        self.read(paper, false).map_or(0, |(_, count)| count)
    }

    /// Replaces the evidence of each `(paper, text hash, vectors)` (an empty
    /// list removes it), durably. Every vector must have the store's
    /// dimension.
    pub fn replace(&mut self, items: &[(&str, u64, &[Vec<f32>])]) -> Result<()> {
        if let Some(bad) = items.iter().flat_map(|(_, _, v)| v.iter()).find(|v| v.len() != self.dim) {
            return Err(SearchError::Dimension { want: self.dim, got: bad.len() });
        }
        let records: Vec<Vec<u8>> = items
            .iter()
            .filter_map(|&(paper, hash, vectors)| {
                let vectors = &vectors[..vectors.len().min(crate::evidence::MAX_EVIDENCE)];
                if !vectors.is_empty() {
                    Some(put_payload(paper, hash, vectors))
                } else {
                    self.map.contains_key(&key(paper)).then(|| delete_payload(key(paper)))
                }
            })
            .collect();
        self.append(&records)
    }

    /// Removes the evidence of `papers`.
    pub fn remove(&mut self, papers: &[&str]) -> Result<()> {
        let records: Vec<Vec<u8>> =
            papers.iter().map(|p| key(p)).filter(|k| self.map.contains_key(k)).map(delete_payload).collect();
        self.append(&records)
    }

    /// Keeps only the evidence of the papers `known` (drops that of papers
    /// no longer indexed).
    pub fn retain_known<'a>(&mut self, known: impl Iterator<Item = &'a str>) -> Result<()> {
        let known: std::collections::HashSet<u64> = known.map(key).collect();
        let records: Vec<Vec<u8>> =
            self.map.keys().filter(|k| !known.contains(k)).map(|&k| delete_payload(k)).collect();
        self.append(&records)
    }

    /// Removes every paper's evidence.
    pub fn clear(&mut self) -> Result<()> {
        if self.map.is_empty() && self.dead == 0 {
            return Ok(());
        }
        self.reset()
    }

    /// `paper`'s put record as stored (its payload, without the vectors
    /// unless `vectors`), with its vector count; `None` when it has none
    /// (or the read fails, which is logged).
    fn read(&self, paper: &str, vectors: bool) -> Option<(Vec<u8>, usize)> {
        let (entry, file) = (self.map.get(&key(paper))?, self.file.as_ref()?);
        let count = entry.count as usize;
        let mut buf = vec![0u8; 3 + paper.len() + 8 + 4 + if vectors { count * self.dim * 4 } else { 0 }];
        if let Err(e) = read_at(file, &mut buf, entry.at) {
            tracing::warn!(paper, error = %e, path = %self.path.display(), "reading evidence vectors failed");
            return None;
        }
        // Another paper whose id has the same hash: not this one's.
        (put_header(&buf).map(|(p, _)| p) == Some(paper)).then_some((buf, count))
    }

    /// The cosines of `q` (unit length) with `paper`'s evidence vectors,
    /// read from disk; empty when it has none (the paper is then scored by
    /// its vector alone).
    pub fn similarities(&self, paper: &str, q: &[f32]) -> Vec<f32> {
        if q.len() != self.dim {
            return Vec::new();
        }
        let Some((buf, _)) = self.read(paper, true) else { return Vec::new() };
        buf[3 + paper.len() + 8 + 4..]
            .chunks_exact(self.dim * 4)
            .map(|v| v.chunks_exact(4).zip(q).map(|(b, y)| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) * y).sum())
            .collect()
    }

    /// Rewrites the file with the live records only, when dead records
    /// outweigh them (or, with `force`, whenever there are any). Returns
    /// whether it did.
    pub fn checkpoint(&mut self, force: bool) -> Result<bool> {
        let live = self.len.saturating_sub(HEADER + self.dead);
        let due = self.dead > 0 && (force || (self.dead > COMPACT_AFTER && self.dead > live));
        if !due || !self.writable {
            return Ok(false);
        }
        let Some(old) = self.file.take() else { return Ok(false) };
        let mut live: Vec<Entry> = self.map.values().copied().collect();
        live.sort_by_key(|e| e.at);
        let dim = self.dim;
        let written = write_atomic_with(&self.path, |f| {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
            w.write_all(&header(dim))?;
            let mut len = [0u8; 4];
            let mut payload = Vec::new();
            let mut out = Vec::new();
            for e in &live {
                // The record's length sits just before its payload.
                read_at(&old, &mut len, e.at - 4)?;
                payload.resize(u32::from_le_bytes(len) as usize, 0);
                read_at(&old, &mut payload, e.at)?;
                out.clear();
                frame(&mut out, &payload);
                w.write_all(&out)?;
            }
            w.flush()
        });
        if let Err(e) = written {
            self.file = Some(old);
            return Err(e);
        }
        drop(old);
        let reloaded = EvidenceStore::load(&self.path, self.dim, true)?;
        *self = reloaded;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(dim: usize, at: usize) -> Vec<f32> {
        let mut v = vec![0.0; dim];
        v[at] = 1.0;
        v
    }

    #[test]
    fn replaces_removes_compacts_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = EvidenceStore::open(dir.path(), 8).unwrap();
        let three = vec![unit(8, 0), unit(8, 1), unit(8, 2)];
        let one = vec![unit(8, 3)];
        s.replace(&[("2501.00001", 7, &three), ("2501.00002", 9, &one)]).unwrap();
        assert_eq!((s.count("2501.00001"), s.count("2501.00002"), s.len()), (3, 1, 4));
        assert_eq!(s.similarities("2501.00001", &unit(8, 1)), vec![0.0, 1.0, 0.0]);
        assert!(s.replace(&[("2501.00009", 1, &[vec![0.0; 3]])]).is_err(), "a wrong length stores nothing");
        assert_eq!(s.count("2501.00009"), 0);
        // A shorter list replaces the old one; an empty one drops it.
        s.replace(&[("2501.00001", 8, &three[..1]), ("2501.00002", 10, &[])]).unwrap();
        assert_eq!((s.count("2501.00001"), s.count("2501.00002"), s.len()), (1, 0, 1));
        drop(s);
        let mut s = EvidenceStore::open(dir.path(), 8).unwrap();
        assert_eq!((s.count("2501.00001"), s.len()), (1, 1));
        assert!(s.similarities("2501.00002", &unit(8, 3)).is_empty());
        s.replace(&[("2501.00003", 1, &one)]).unwrap();
        s.retain_known(["2501.00003", "2501.00002"].into_iter()).unwrap();
        assert_eq!((s.count("2501.00001"), s.count("2501.00003")), (0, 1));
        let before = std::fs::metadata(dir.path().join(FILE)).unwrap().len();
        assert!(s.checkpoint(true).unwrap());
        let after = std::fs::metadata(dir.path().join(FILE)).unwrap().len();
        assert!(after < before, "{after} < {before}");
        assert_eq!(s.similarities("2501.00003", &unit(8, 3)), vec![1.0]);
        s.remove(&["2501.00003"]).unwrap();
        assert!(s.is_empty());
        drop(s);
        assert!(EvidenceStore::open(dir.path(), 8).unwrap().is_empty());
    }

    #[test]
    fn a_read_checks_the_record_names_the_paper() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = EvidenceStore::open(dir.path(), 4).unwrap();
        s.replace(&[("a", 1, &[unit(4, 0)])]).unwrap();
        // As if "b"'s id hashed like "a"'s: the map leads "b" to "a"'s record.
        let entry = s.map[&key("a")];
        s.map.insert(key("b"), entry);
        assert_eq!(s.similarities("a", &unit(4, 0)), vec![1.0]);
        assert!(s.similarities("b", &unit(4, 0)).is_empty(), "never another paper's evidence");
        assert_eq!(s.count("b"), 0);
    }

    #[test]
    fn a_torn_tail_is_cut_and_another_dimension_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = EvidenceStore::open(dir.path(), 4).unwrap();
        s.replace(&[("a", 1, &[unit(4, 0)])]).unwrap();
        s.replace(&[("b", 2, &[unit(4, 1), unit(4, 2)])]).unwrap();
        drop(s);
        let path = dir.path().join(FILE);
        let len = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 5).unwrap();
        // A reader skips the torn record and changes nothing.
        let r = EvidenceStore::open_read_only(dir.path(), 4).unwrap();
        assert_eq!((r.count("a"), r.count("b")), (1, 0));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len - 5);
        let mut s = EvidenceStore::open(dir.path(), 4).unwrap();
        assert_eq!((s.count("a"), s.count("b")), (1, 0));
        s.replace(&[("c", 3, &[unit(4, 3)])]).unwrap();
        drop(s);
        let s = EvidenceStore::open(dir.path(), 4).unwrap();
        assert_eq!((s.count("a"), s.count("c")), (1, 1), "appends after the cut are read back");
        drop(s);
        let s = EvidenceStore::open(dir.path(), 8).unwrap();
        assert!(s.is_empty());
        assert!(dir.path().join("evidence.log.corrupt").exists());
    }
}
