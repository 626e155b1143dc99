//! [`SearchEngine`]: the keyword index and the vector index of one data
//! directory, kept in step, behind the API the web server and the CLI use.
//!
//! Layout under the directory given to [`SearchEngine::open`] (normally
//! `data_dir/index/`): `keyword/` (tantivy), `vectors/` (see
//! [`crate::vectors`]), `evidence/` (the papers' evidence vectors, see
//! [`crate::evidence_store`]) and `vectors-model` (the fingerprint of the
//! model a standalone index's vectors come from: opened with another
//! model, the index drops its vectors and embeds again; an index from
//! before the file existed is taken to hold the opening model's vectors,
//! so that tools which fill an index without the model, such as the
//! benchmarks' synthetic vectors, are not undone).
//!
//! Consistency: the keyword index is the source of truth. Each keyword
//! commit stores the caller's change watermark (`applied_seq`) atomically
//! with the documents, so after a crash a caller replays its changes after
//! [`SearchEngine::applied_seq`]. Vectors are derived data: every keyword
//! document stores the hash of its embedding text, and a document whose
//! vector is missing or was computed from other text is *pending* until
//! [`SearchEngine::embed_pending`] catches up. Vectors of documents no longer
//! in the keyword index are dropped at open.
//!
//! Vectors come from one of two places. Standalone (`paperboy index`,
//! evaluation, tests) the engine embeds with its own model
//! ([`SearchEngine::embed_pending`]). A server instead follows the vectors
//! stored in the database ([`SearchEngine::put_vectors`]): each batch is
//! logged durably in the vector index, then the feed position it reached
//! is written to `vector-feed` beside the index (atomically, with the
//! fingerprint of the model the vectors belong to), so a restart resumes
//! there and a replay is harmless (upserts by paper id). A vector is kept
//! whatever the keyword document's text hash is: one that does not match
//! (yet) counts as pending, and becomes current when the document catches
//! up with the text it was computed from.
//!
//! One writer per directory: [`SearchEngine::open`] takes an exclusive lock
//! on `writer.lock` (an OS file lock, released when the process ends, however
//! it ends). The process that gets it writes; any other process that opens
//! the directory meanwhile, say `paperboy digest run` or `paperboy import`
//! beside a running server, gets a read-only engine: it searches the index
//! as committed when it opened, touches no file, and its writes fail with
//! [`SearchError::Locked`]. The writer (the server's follower) keeps the
//! index up to date for both.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use chrono::NaiveDate;
use paperboy_core::{Paper, PaperId};

use crate::embed::{Embedder, PaperVectors};
use crate::error::{Result, SearchError};
use crate::evidence::Evidence;
use crate::evidence_store::EvidenceStore;
use crate::fusion::{self, Fusion, fuse};
use crate::highlight;
use crate::keyword::{ExtraFilters, KeywordIndex, KeywordSettings, TEXT_ANALYZER, embedding_text};
use crate::query::{self, Field, ParsedQuery};
use crate::vectors::VectorIndex;

/// A ranked list of (paper key, score), best first.
pub type Ranked = Vec<(String, f32)>;

/// Filters letting fewer papers than this through are served by an exact
/// scan of just those papers' vectors; broader ones by the graph.
const EXACT_FILTER_BELOW: usize = 2_000;
/// Dimension assumed for the vector index when no model is loaded.
pub const DEFAULT_DIM: usize = 384;
/// Largest page size served.
pub const MAX_LIMIT: usize = 200;
/// Deepest result served (offset + limit).
pub const MAX_DEPTH: usize = 1_000;
/// Candidates taken from each side before fusion.
pub const FUSION_DEPTH: usize = 100;
/// Keyword hits read to give semantic candidates their BM25 score
/// ([`fusion::complete`]); below that a paper counts as no keyword match.
pub const KEYWORD_LOOKUP_DEPTH: usize = 1_000;
/// With evidence, semantic candidates are taken this many times deeper by
/// the papers' vectors, then re-scored with their evidence.
const EVIDENCE_WIDENING: usize = 2;
/// Characters of abstract in a highlight snippet.
const SNIPPET_CHARS: usize = 300;

/// Which ranking to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// BM25 only.
    Keyword,
    /// Embedding similarity only.
    Semantic,
    /// Both, fused.
    #[default]
    Hybrid,
}

impl SearchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SearchMode::Keyword => "keyword",
            SearchMode::Semantic => "semantic",
            SearchMode::Hybrid => "hybrid",
        }
    }

    /// Parses `keyword`, `semantic` or `hybrid`.
    pub fn parse(s: &str) -> Option<SearchMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "keyword" | "bm25" | "lexical" => Some(SearchMode::Keyword),
            "semantic" | "vector" | "dense" => Some(SearchMode::Semantic),
            "hybrid" => Some(SearchMode::Hybrid),
            _ => None,
        }
    }
}

impl std::fmt::Display for SearchMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to search for besides the query text.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub mode: SearchMode,
    pub limit: usize,
    pub offset: usize,
    /// Only this category (`cs.LG`) or archive (`cs`, `cs.*`).
    pub category: Option<String>,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// Compute highlighted title and snippet for each hit.
    pub highlights: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            mode: SearchMode::Hybrid,
            limit: 20,
            offset: 0,
            category: None,
            since: None,
            until: None,
            highlights: true,
        }
    }
}

/// HTML-escaped title and abstract snippet with `<mark>`ed matches.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Highlights {
    pub title_html: String,
    pub abstract_html: String,
}

/// One result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    pub id: PaperId,
    /// Higher is better; comparable within one result list only.
    pub score: f32,
    pub highlights: Option<Highlights>,
}

/// A page of results.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    /// How many papers match (exact for keyword queries, the candidate count
    /// for semantic ones).
    pub total_estimate: usize,
    /// The mode actually used (hybrid falls back to keyword without vectors).
    pub mode_used: SearchMode,
    /// The query was an arXiv id or URL: the site may jump to the paper.
    pub direct_id: Option<PaperId>,
    /// Whether semantic search could be used (model loaded, vectors present).
    pub semantic_available: bool,
}

/// Sizes of the indexes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IndexStats {
    /// Papers in the keyword index.
    pub docs: u64,
    /// Papers with a current vector.
    pub vectors: u64,
    /// Papers waiting for a vector (see [`SearchEngine::embed_pending`]).
    pub pending_vectors: u64,
    /// Vectors searchable (scanned) but not yet linked into the graph (see
    /// [`SearchEngine::link_vectors`]).
    pub unlinked_vectors: u64,
    /// Evidence vectors, over all papers (see [`crate::evidence`]).
    pub evidence_vectors: u64,
    /// The change watermark stored with the last commit.
    pub applied_seq: u64,
    /// A model is loaded.
    pub embedder_loaded: bool,
}

/// How long [`SearchEngine::link_vectors`] holds the vector index's write
/// lock at a time (searches wait for it at most this long).
pub const LINK_SLICE: std::time::Duration = std::time::Duration::from_millis(50);

/// The search engine of one index directory.
pub struct SearchEngine {
    dir: PathBuf,
    keyword: KeywordIndex,
    vectors: RwLock<VectorIndex>,
    evidence: RwLock<EvidenceStore>,
    embedder: Option<Arc<Embedder>>,
    fusion: RwLock<Fusion>,
    /// Filters matching fewer papers are served by an exact scan.
    exact_filter_below: std::sync::atomic::AtomicUsize,
    /// Serialises writers (indexing, removal, embedding) with each other.
    write: Mutex<()>,
    /// The held `writer.lock`; `None`: another process writes, this one only reads.
    writer_lock: Option<std::fs::File>,
}

impl std::fmt::Debug for SearchEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchEngine").field("dir", &self.dir).finish()
    }
}

fn lock_err<T>(p: std::sync::PoisonError<T>) -> T {
    p.into_inner()
}

/// The name of the lock file in an index directory.
pub const WRITER_LOCK: &str = "writer.lock";

/// The file beside the index that holds the vector feed's position.
pub const VECTOR_FEED_FILE: &str = "vector-feed";

/// The file beside the index that names the model of a standalone index's
/// vectors (module docs).
pub const VECTOR_MODEL_FILE: &str = "vectors-model";

/// How far the vector index has followed the database's vectors: the
/// model they belong to and the feed position applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorFeedMark {
    /// The model fingerprint (`ModelIdentity::fingerprint`).
    pub fingerprint: String,
    /// The last feed position whose vector is in the index.
    pub seq: u64,
}

impl VectorFeedMark {
    fn parse(text: &str) -> Option<VectorFeedMark> {
        let mut parts = text.split_whitespace();
        let fingerprint = parts.next()?.to_string();
        let seq = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(VectorFeedMark { fingerprint, seq })
    }
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let ctx = |what: &str| format!("{what} {}", tmp.display());
    let mut f = std::fs::File::create(&tmp).map_err(|e| SearchError::io(ctx("creating"), e))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| SearchError::io(ctx("writing"), e))?;
    std::fs::rename(&tmp, path).map_err(|e| SearchError::io(format!("renaming to {}", path.display()), e))?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// In a standalone index (one that does not follow the database's vector
/// feed, which has its own check), drops every vector when they come from
/// another model than `fingerprint`, and records `fingerprint` (module
/// docs).
fn check_standalone_model(
    dir: &Path,
    fingerprint: &str,
    vectors: &mut VectorIndex,
    evidence: &mut EvidenceStore,
) -> Result<()> {
    if dir.join(VECTOR_FEED_FILE).exists() {
        return Ok(());
    }
    let path = dir.join(VECTOR_MODEL_FILE);
    let recorded = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(SearchError::io(format!("reading {}", path.display()), e)),
    };
    if recorded.as_deref() == Some(fingerprint) {
        return Ok(());
    }
    if let Some(old) = recorded
        && (!vectors.is_empty() || !evidence.is_empty())
    {
        tracing::warn!(
            index = %dir.display(), old, new = fingerprint,
            vectors = vectors.len(),
            "the index's vectors come from another embedding model (or evidence setting); dropping them to embed again"
        );
        let keys: Vec<String> = vectors.keys().map(str::to_string).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        vectors.delete(&refs)?;
        vectors.checkpoint(true)?;
        evidence.clear()?;
        evidence.checkpoint(true)?;
    }
    write_file_atomic(&path, format!("{fingerprint}\n").as_bytes())
}

/// Takes `dir/writer.lock` for this process: `None` when another holds it.
fn take_writer_lock(dir: &Path) -> Result<Option<std::fs::File>> {
    let path = dir.join(WRITER_LOCK);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| SearchError::io(format!("opening {}", path.display()), e))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(SearchError::io(format!("locking {}", path.display()), e)),
    }
}

impl SearchEngine {
    /// Opens (or creates) the indexes under `dir`. Without an embedder the
    /// engine searches by keyword (and finds similar papers by their stored
    /// vectors when there are any).
    ///
    /// The engine writes when this process holds the directory's writer
    /// lock, and is read-only when another process does (module docs).
    pub fn open(dir: &Path, embedder: Option<Arc<Embedder>>) -> Result<SearchEngine> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError::io(format!("creating {}", dir.display()), e))?;
        let writer_lock = take_writer_lock(dir)?;
        let keyword = KeywordIndex::open(&dir.join("keyword"))?;
        let dim = embedder.as_ref().map_or(DEFAULT_DIM, |e| e.dim());
        let (vectors, evidence) = if writer_lock.is_some() {
            let mut vectors = VectorIndex::open(&dir.join("vectors"), dim)?;
            let mut evidence = EvidenceStore::open(&dir.join("evidence"), dim)?;
            // Drop vectors of papers the keyword index no longer has (a crash
            // between a keyword delete and the vector delete).
            let known: HashSet<String> = keyword.all_keys_with_hash()?.into_iter().map(|(k, _, _)| k).collect();
            let orphans: Vec<String> = vectors.keys().filter(|k| !known.contains(*k)).map(str::to_string).collect();
            if !orphans.is_empty() {
                let refs: Vec<&str> = orphans.iter().map(String::as_str).collect();
                vectors.delete(&refs)?;
            }
            evidence.retain_known(known.iter().map(String::as_str))?;
            if let Some(emb) = &embedder {
                check_standalone_model(dir, &emb.model_key().fingerprint, &mut vectors, &mut evidence)?;
            }
            (vectors, evidence)
        } else {
            tracing::info!(dir = %dir.display(), "another process writes this search index; reading it as it is");
            (
                VectorIndex::open_read_only(&dir.join("vectors"), dim)?,
                EvidenceStore::open_read_only(&dir.join("evidence"), dim)?,
            )
        };
        let fusion = Fusion::for_evidence(embedder.as_ref().map_or(Evidence::Off, |e| e.evidence()));
        Ok(SearchEngine {
            dir: dir.to_path_buf(),
            keyword,
            vectors: RwLock::new(vectors),
            evidence: RwLock::new(evidence),
            embedder,
            fusion: RwLock::new(fusion),
            exact_filter_below: std::sync::atomic::AtomicUsize::new(EXACT_FILTER_BELOW),
            write: Mutex::new(()),
            writer_lock,
        })
    }

    /// Whether another process writes this index (see the module docs).
    pub fn is_read_only(&self) -> bool {
        self.writer_lock.is_none()
    }

    /// The writer's turn, or [`SearchError::Locked`] on a read-only engine.
    fn write_turn(&self) -> Result<std::sync::MutexGuard<'_, ()>> {
        if self.is_read_only() {
            return Err(SearchError::Locked(self.dir.clone()));
        }
        Ok(self.write.lock().unwrap_or_else(lock_err))
    }

    /// The directory the engine lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The loaded model, if any.
    pub fn embedder(&self) -> Option<&Arc<Embedder>> {
        self.embedder.as_ref()
    }

    /// Sets how hybrid search fuses (tuning and evaluation).
    pub fn set_fusion(&self, f: Fusion) {
        *self.fusion.write().unwrap_or_else(lock_err) = f;
    }

    /// Sets keyword ranking tunables (tuning and evaluation).
    pub fn set_keyword_config(&mut self, c: KeywordSettings) {
        self.keyword.config = c;
    }

    /// Sets the filter size below which filtered semantic search scans the
    /// matching papers exactly instead of walking the graph (tests use 0 to
    /// exercise the graph path on a small catalog).
    pub fn set_exact_filter_below(&self, n: usize) {
        self.exact_filter_below.store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// Sets the graph search breadth (recall/latency trade-off).
    pub fn set_ef_search(&self, ef: usize) {
        self.vectors.write().unwrap_or_else(lock_err).ef_search = ef.max(1);
    }

    /// The change watermark stored with the last commit (0 for a new index).
    pub fn applied_seq(&self) -> Result<u64> {
        self.keyword.applied_seq()
    }

    /// Indexes (inserts or replaces) papers: keyword at once (committed),
    /// vectors too when a model is loaded. Keeps the watermark.
    pub fn index_papers(&self, papers: &[Paper]) -> Result<()> {
        self.index_inner(None, papers)
    }

    /// Like [`index_papers`](Self::index_papers), and records `seq` (the
    /// store's change sequence number these papers bring the index up to) in
    /// the same commit. The watermark never goes down.
    pub fn index_papers_at(&self, seq: u64, papers: &[Paper]) -> Result<()> {
        self.index_inner(Some(seq), papers)
    }

    /// Keyword-indexes papers and records `seq`, leaving their vectors to
    /// [`embed_pending`](Self::embed_pending): what a follower of the store's
    /// change feed calls, so that a paper is searchable by keyword at once
    /// however long embedding takes.
    pub fn index_keyword_at(&self, seq: u64, papers: &[Paper]) -> Result<()> {
        let _w = self.write_turn()?;
        self.keyword.stage(papers)?;
        self.keyword.commit(Some(seq))
    }

    fn index_inner(&self, seq: Option<u64>, papers: &[Paper]) -> Result<()> {
        let _w = self.write_turn()?;
        self.keyword.stage(papers)?;
        self.keyword.commit(seq)?;
        if let Some(emb) = &self.embedder
            && !papers.is_empty()
        {
            let texts: Vec<(&str, &str)> =
                papers.iter().map(|p| (p.title.as_str(), p.abstract_text.as_str())).collect();
            let vecs = emb.embed_papers(&texts)?;
            let items: Vec<(String, u64, PaperVectors)> = papers
                .iter()
                .zip(vecs)
                .map(|(p, v)| {
                    (p.id.to_string(), crate::keyword::text_hash(&embedding_text(&p.title, &p.abstract_text)), v)
                })
                .collect();
            self.store_vectors(&items, true)?;
        }
        Ok(())
    }

    /// Stores papers' vectors: their evidence first, then the vectors
    /// themselves ([`crate::evidence_store`] says why), `link`ing them into
    /// the graph now or later.
    fn store_vectors(&self, items: &[(String, u64, PaperVectors)], link: bool) -> Result<()> {
        let evidence: Vec<(&str, u64, &[Vec<f32>])> =
            items.iter().map(|(k, h, v)| (k.as_str(), *h, v.evidence.as_slice())).collect();
        let mut ev = self.evidence.write().unwrap_or_else(lock_err);
        ev.replace(&evidence)?;
        ev.checkpoint(false)?;
        drop(ev);
        let items: Vec<(String, u64, Vec<f32>)> =
            items.iter().map(|(k, h, v)| (k.clone(), *h, v.vector.clone())).collect();
        let mut vi = self.vectors.write().unwrap_or_else(lock_err);
        if link {
            vi.upsert(&items)?;
        } else {
            vi.upsert_unlinked(&items)?;
        }
        vi.checkpoint(false)?;
        Ok(())
    }

    /// Removes papers from both indexes.
    pub fn remove(&self, ids: &[PaperId]) -> Result<()> {
        self.remove_inner(None, ids)
    }

    /// Removes papers and records the watermark `seq` in the same commit.
    pub fn remove_at(&self, seq: u64, ids: &[PaperId]) -> Result<()> {
        self.remove_inner(Some(seq), ids)
    }

    fn remove_inner(&self, seq: Option<u64>, ids: &[PaperId]) -> Result<()> {
        let _w = self.write_turn()?;
        let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.keyword.stage_delete(&keys)?;
        self.keyword.commit(seq)?;
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut vi = self.vectors.write().unwrap_or_else(lock_err);
        vi.delete(&refs)?;
        vi.checkpoint(false)?;
        drop(vi);
        let mut ev = self.evidence.write().unwrap_or_else(lock_err);
        ev.remove(&refs)?;
        ev.checkpoint(false)?;
        Ok(())
    }

    /// Records a watermark without changing documents (the store's changes
    /// up to `seq` did not touch the index).
    pub fn set_applied_seq(&self, seq: u64) -> Result<()> {
        let _w = self.write_turn()?;
        self.keyword.commit(Some(seq))
    }

    /// Writes a vector snapshot now (e.g. at shutdown), so the next open
    /// replays no log.
    pub fn checkpoint(&self) -> Result<()> {
        let _w = self.write_turn()?;
        self.vectors.write().unwrap_or_else(lock_err).checkpoint(true)?;
        self.evidence.write().unwrap_or_else(lock_err).checkpoint(true)?;
        Ok(())
    }

    /// Where the vector index stands in the database's vector feed (module
    /// docs): `None` when it never followed one.
    pub fn vector_feed(&self) -> Result<Option<VectorFeedMark>> {
        let path = self.dir.join(VECTOR_FEED_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(VectorFeedMark::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SearchError::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Prepares to follow the vectors of the model `fingerprint` and returns
    /// the feed position to read after. An index that followed another
    /// model's vectors drops all its vectors first (models never mix) and
    /// starts from the beginning, as does one that never followed a feed
    /// (its own vectors stay until the feed replaces them).
    pub fn start_vector_feed(&self, fingerprint: &str) -> Result<u64> {
        let _w = self.write_turn()?;
        match self.vector_feed()? {
            Some(mark) if mark.fingerprint == fingerprint => Ok(mark.seq),
            Some(mark) => {
                tracing::warn!(
                    old = %mark.fingerprint, new = %fingerprint,
                    "the embedding model changed: dropping this index's vectors and loading the new model's"
                );
                let mut vi = self.vectors.write().unwrap_or_else(lock_err);
                let keys: Vec<String> = vi.keys().map(str::to_string).collect();
                let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
                vi.delete(&refs)?;
                vi.checkpoint(true)?;
                drop(vi);
                let mut ev = self.evidence.write().unwrap_or_else(lock_err);
                ev.clear()?;
                ev.checkpoint(true)?;
                drop(ev);
                self.write_vector_feed(fingerprint, 0)?;
                Ok(0)
            }
            None => Ok(0),
        }
    }

    /// Puts vectors computed elsewhere (by any process, stored in the
    /// database) into the vector index: `(paper, text hash, vectors)`, each
    /// replacing the paper's vector and evidence. Once they are durable, records `seq` as
    /// the feed position reached for the model `fingerprint`.
    ///
    /// The vectors are searchable at once but linked into the graph later,
    /// by [`link_vectors`](Self::link_vectors): reading is bound by the
    /// database, linking by the CPU, and a server loading a large catalog
    /// should have all of it searchable first.
    pub fn put_vectors(&self, fingerprint: &str, seq: u64, items: &[(PaperId, u64, PaperVectors)]) -> Result<()> {
        let _w = self.write_turn()?;
        if !items.is_empty() {
            let items: Vec<(String, u64, PaperVectors)> =
                items.iter().map(|(id, h, v)| (id.to_string(), *h, v.clone())).collect();
            self.store_vectors(&items, false)?;
        }
        self.write_vector_feed(fingerprint, seq)
    }

    /// Links vectors put by [`put_vectors`](Self::put_vectors) (or replayed
    /// at open) into the graph for up to `budget`, taking the index's write
    /// lock for about [`LINK_SLICE`] at a time so that searches go on in
    /// between. Returns `(linked, still unlinked)`. Linking only changes
    /// memory: the next snapshot records it.
    pub fn link_vectors(&self, budget: std::time::Duration) -> (usize, usize) {
        let start = std::time::Instant::now();
        let mut linked = 0;
        loop {
            let mut vi = self.vectors.write().unwrap_or_else(lock_err);
            let slice = std::time::Instant::now();
            while vi.unlinked() > 0 && slice.elapsed() < LINK_SLICE {
                linked += vi.link_pending(64);
            }
            let left = vi.unlinked();
            drop(vi);
            if left == 0 || start.elapsed() >= budget {
                return (linked, left);
            }
        }
    }

    fn write_vector_feed(&self, fingerprint: &str, seq: u64) -> Result<()> {
        write_file_atomic(&self.dir.join(VECTOR_FEED_FILE), format!("{fingerprint} {seq}\n").as_bytes())
    }

    /// The paper's sentence vector (L2-normalised), when the index has one.
    pub fn vector(&self, id: &PaperId) -> Option<Vec<f32>> {
        let vi = self.vectors.read().unwrap_or_else(lock_err);
        vi.get(&id.to_string())
    }

    /// Keys whose vector is missing or stale, with their document address.
    fn pending(&self) -> Result<Vec<(String, u64, tantivy::DocAddress)>> {
        let all = self.keyword.all_keys_with_hash()?;
        let vi = self.vectors.read().unwrap_or_else(lock_err);
        Ok(all.into_iter().filter(|(k, h, _)| vi.hash_of(k) != Some(*h)).collect())
    }

    /// Embeds papers indexed without a (current) vector, `batch` at a time,
    /// calling `progress(done, total)` after each batch. Returns how many
    /// were embedded; 0 without a model.
    pub fn embed_pending(&self, batch: usize, progress: impl FnMut(usize, usize)) -> Result<usize> {
        self.embed_pending_inner(batch, usize::MAX, false, progress).map(|(done, _)| done)
    }

    /// Like [`embed_pending`](Self::embed_pending), but embeds each paper's
    /// title alone while recording the vector as current for its full text.
    /// For benchmarks only: it builds a vector index of realistic size and
    /// shape about fifteen times faster (titles are ~15 tokens, abstracts
    /// ~250), at the cost of relevance, which those benchmarks do not measure.
    /// Each paper gets as many evidence vectors as its text would (counted
    /// by the tokenizer), all copies of the title's vector: search pays the
    /// real cost of re-scoring with them.
    pub fn embed_pending_titles_only(&self, batch: usize, progress: impl FnMut(usize, usize)) -> Result<usize> {
        self.embed_pending_inner(batch, usize::MAX, true, progress).map(|(done, _)| done)
    }

    /// Embeds at most `max` pending papers; returns (embedded, still waiting).
    /// Holding the writer lock only that long lets a background job take
    /// turns with indexing.
    pub fn embed_pending_up_to(&self, batch: usize, max: usize) -> Result<(usize, usize)> {
        self.embed_pending_inner(batch, max, false, |_, _| {})
    }

    fn embed_pending_inner(
        &self,
        batch: usize,
        max: usize,
        titles_only: bool,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<(usize, usize)> {
        let Some(emb) = self.embedder.clone() else {
            return Ok((0, 0));
        };
        let _w = self.write_turn()?;
        let mut pending = self.pending()?;
        let waiting = pending.len().saturating_sub(max);
        pending.truncate(max);
        let total = pending.len();
        let searcher = self.keyword.searcher();
        let mut done = 0;
        for chunk in pending.chunks(batch.max(1)) {
            let mut texts = Vec::with_capacity(chunk.len());
            for (_, _, addr) in chunk {
                let t = self.keyword.stored_text(&searcher, *addr)?;
                texts.push((t.title, t.abstract_text));
            }
            let vecs = if titles_only {
                let refs: Vec<&str> = texts.iter().map(|(t, _)| t.as_str()).collect();
                emb.embed(&refs)?
                    .into_iter()
                    .zip(&texts)
                    .map(|(vector, (t, a))| {
                        let n = emb.evidence_texts(t, a).len();
                        PaperVectors { evidence: vec![vector.clone(); n], vector }
                    })
                    .collect()
            } else {
                let refs: Vec<(&str, &str)> = texts.iter().map(|(t, a)| (t.as_str(), a.as_str())).collect();
                emb.embed_papers(&refs)?
            };
            let items: Vec<(String, u64, PaperVectors)> =
                chunk.iter().zip(vecs).map(|((k, h, _), v)| (k.clone(), *h, v)).collect();
            self.store_vectors(&items, true)?;
            done += chunk.len();
            progress(done, total);
        }
        if done > 0 {
            self.evidence.write().unwrap_or_else(lock_err).checkpoint(true)?;
            self.vectors.write().unwrap_or_else(lock_err).checkpoint(true)?;
        }
        Ok((done, waiting))
    }

    /// Index sizes and the watermark.
    pub fn stats(&self) -> Result<IndexStats> {
        let docs = self.keyword.num_docs();
        let pending = self.pending()?.len() as u64;
        Ok(IndexStats {
            docs,
            vectors: docs - pending.min(docs),
            pending_vectors: pending,
            unlinked_vectors: self.vectors.read().unwrap_or_else(lock_err).unlinked() as u64,
            evidence_vectors: self.evidence.read().unwrap_or_else(lock_err).len() as u64,
            applied_seq: self.applied_seq()?,
            embedder_loaded: self.embedder.is_some(),
        })
    }

    /// Whether semantic search can run now.
    pub fn semantic_available(&self) -> bool {
        self.embedder.is_some() && !self.vectors.read().unwrap_or_else(lock_err).is_empty()
    }

    /// Searches. Never fails on any query text (malformed syntax is read as
    /// words); errors come from the indexes only.
    pub fn search(&self, q: &str, opts: &SearchOptions) -> Result<SearchResults> {
        let parsed = query::parse(q);
        self.search_parsed(&parsed, opts)
    }

    /// Searches with an already parsed query.
    pub fn search_parsed(&self, parsed: &ParsedQuery, opts: &SearchOptions) -> Result<SearchResults> {
        let semantic_available = self.semantic_available();
        let limit = opts.limit.min(MAX_LIMIT);
        let offset = opts.offset.min(MAX_DEPTH);
        let depth = (offset + limit).min(MAX_DEPTH);
        if let Some(id) = &parsed.direct_id {
            let found = self.keyword.address_of(&id.to_string())?.is_some();
            let hits = if found && offset == 0 && limit > 0 {
                vec![self.hit(id.clone(), 1.0, parsed, opts.highlights)?]
            } else {
                Vec::new()
            };
            return Ok(SearchResults {
                total_estimate: usize::from(found),
                hits,
                mode_used: SearchMode::Keyword,
                direct_id: Some(id.clone()),
                semantic_available,
            });
        }
        let extra = ExtraFilters {
            category: opts.category.clone().filter(|c| !c.trim().is_empty()),
            since: opts.since,
            until: opts.until,
        };
        let sem_text = parsed.semantic_text();
        let mut mode = opts.mode;
        if mode != SearchMode::Keyword && (!semantic_available || sem_text.trim().is_empty()) {
            mode = SearchMode::Keyword;
        }
        let candidates = depth.max(FUSION_DEPTH);
        let (ranked, total) = match mode {
            SearchMode::Keyword => {
                let (hits, count) = self.keyword.search(parsed, &extra, depth.max(1))?;
                (hits.into_iter().map(|h| (h.key, h.score)).collect::<Vec<_>>(), count)
            }
            SearchMode::Semantic => {
                let sem = self.semantic(parsed, &extra, &sem_text, candidates)?;
                let n = sem.len();
                (sem, n)
            }
            SearchMode::Hybrid => {
                let (kw, sem, count) = self.hybrid_candidates(parsed, &extra, &sem_text, candidates)?;
                let terms = || self.keyword.analyze_up_to(TEXT_ANALYZER, &sem_text, usize::MAX).len();
                let fusion = self.fusion.read().unwrap_or_else(lock_err).for_query(terms);
                let fused = fuse(&kw, &sem, fusion);
                let n = fused.len().max(count);
                (fused, n)
            }
        };
        let mut hits = Vec::with_capacity(limit);
        for (key, score) in ranked.into_iter().skip(offset).take(limit) {
            if let Ok(id) = PaperId::parse(&key) {
                hits.push(self.hit(id, score, parsed, opts.highlights)?);
            }
        }
        Ok(SearchResults { hits, total_estimate: total, mode_used: mode, direct_id: None, semantic_available })
    }

    /// The two candidate lists of a hybrid query, completed (see
    /// [`fusion::complete`]): the top `n` of each side, each candidate with
    /// both its BM25 score (from the top [`KEYWORD_LOOKUP_DEPTH`]) and its
    /// cosine when known. Also returns the keyword match count.
    fn hybrid_candidates(
        &self,
        parsed: &ParsedQuery,
        extra: &ExtraFilters,
        sem_text: &str,
        n: usize,
    ) -> Result<(Ranked, Ranked, usize)> {
        // The keyword search runs while the query is being embedded.
        let (kw, sem) = rayon::join(
            || self.keyword.search(parsed, extra, n.max(KEYWORD_LOOKUP_DEPTH)),
            || self.semantic_with_vector(parsed, extra, sem_text, n),
        );
        let (kw, count) = kw?;
        let (mut sem, qv) = sem?;
        let deeper: Ranked = kw.into_iter().map(|h| (h.key, h.score)).collect();
        let mut top: Ranked = deeper.iter().take(n).cloned().collect();
        if !qv.is_empty() {
            let vi = self.vectors.read().unwrap_or_else(lock_err);
            let ev = self.evidence.read().unwrap_or_else(lock_err);
            let kind = self.evidence_kind(&ev);
            fusion::complete(&mut top, &mut sem, &deeper, |key| {
                vi.get(key).map(|v| kind.aggregate(dot(&v, &qv), &ev.similarities(key, &qv)))
            });
        }
        Ok((top, sem, count))
    }

    /// The evidence that re-scores candidates: the model's kind when the
    /// index holds any evidence, else none.
    fn evidence_kind(&self, ev: &EvidenceStore) -> Evidence {
        match &self.embedder {
            Some(emb) if !ev.is_empty() => emb.evidence(),
            _ => Evidence::Off,
        }
    }

    /// Semantic candidates: the query text's embedding against the vectors,
    /// restricted to papers passing the query's filters.
    fn semantic(&self, parsed: &ParsedQuery, extra: &ExtraFilters, text: &str, k: usize) -> Result<Vec<(String, f32)>> {
        self.semantic_with_vector(parsed, extra, text, k).map(|(hits, _)| hits)
    }

    /// [`semantic`](Self::semantic), also returning the query vector (empty
    /// without a model).
    fn semantic_with_vector(
        &self,
        parsed: &ParsedQuery,
        extra: &ExtraFilters,
        text: &str,
        k: usize,
    ) -> Result<(Ranked, Vec<f32>)> {
        let Some(emb) = &self.embedder else {
            return Ok((Vec::new(), Vec::new()));
        };
        let qv = emb.embed(&[text])?.pop().unwrap_or_default();
        let ev = self.evidence.read().unwrap_or_else(lock_err);
        let kind = self.evidence_kind(&ev);
        if kind == Evidence::Off {
            return Ok((self.semantic_by_vector(parsed, extra, &qv, k)?, qv));
        }
        // The candidates by the papers' vectors, twice as many as wanted,
        // re-scored with their evidence.
        let mut hits = self.semantic_by_vector(parsed, extra, &qv, k.saturating_mul(EVIDENCE_WIDENING))?;
        for (key, cos) in &mut hits {
            *cos = kind.aggregate(*cos, &ev.similarities(key, &qv));
        }
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        hits.truncate(k);
        Ok((hits, qv))
    }

    fn semantic_by_vector(&self, parsed: &ParsedQuery, extra: &ExtraFilters, qv: &[f32], k: usize) -> Result<Ranked> {
        let vi = self.vectors.read().unwrap_or_else(lock_err);
        let Some(filter) = self.keyword.filter_query(parsed, extra, true) else {
            return Ok(vi.search(qv, k, &|_: &str| true).into_iter().map(|h| (h.key, h.sim)).collect());
        };
        let searcher = self.keyword.searcher();
        let docs = self.keyword.matching_docs(&searcher, filter.as_ref())?;
        let hits = if docs.len() < self.exact_filter_below.load(std::sync::atomic::Ordering::Relaxed) {
            // A narrow filter (an author, a day): score exactly the few
            // papers it lets through.
            let keys = self.keyword.keys_of(&searcher, &docs);
            vi.search_among(qv, k, keys.iter().map(String::as_str))
        } else {
            // A broad filter (a category, a year, a negated word): walk the
            // graph and check each candidate, instead of reading the keys of
            // tens of thousands of matching documents.
            let allow = |key: &str| self.keyword.doc_of(&searcher, key).is_some_and(|a| docs.contains(&a));
            vi.search(qv, k, &allow)
        };
        Ok(hits.into_iter().map(|h| (h.key, h.sim)).collect())
    }

    fn hit(&self, id: PaperId, score: f32, parsed: &ParsedQuery, highlights: bool) -> Result<Hit> {
        let highlights = if highlights { self.highlights(&id.to_string(), parsed)? } else { None };
        Ok(Hit { id, score, highlights })
    }

    fn highlights(&self, key: &str, parsed: &ParsedQuery) -> Result<Option<Highlights>> {
        let Some(addr) = self.keyword.address_of(key)? else {
            return Ok(None);
        };
        let searcher = self.keyword.searcher();
        let text = self.keyword.stored_text(&searcher, addr)?;
        let Some(mut analyzer) = self.keyword.analyzer(TEXT_ANALYZER) else {
            return Ok(None);
        };
        let terms: HashSet<String> = parsed
            .clauses
            .iter()
            .filter(|c| c.field != Field::Authors)
            .flat_map(|c| self.keyword.analyze(TEXT_ANALYZER, c.text.as_str()))
            .collect();
        Ok(Some(Highlights {
            title_html: highlight::highlight_all(&text.title, &mut analyzer, &terms),
            abstract_html: highlight::snippet(&text.abstract_text, &mut analyzer, &terms, SNIPPET_CHARS),
        }))
    }

    /// Papers similar to `id`: nearest by vector when it has one, otherwise
    /// keyword "more like this" on its title and abstract. Empty when the
    /// paper is not indexed.
    pub fn similar(&self, id: &PaperId, limit: usize) -> Result<Vec<Hit>> {
        let key = id.to_string();
        let limit = limit.min(MAX_LIMIT);
        let by_vector: Option<Vec<(String, f32)>> = {
            let vi = self.vectors.read().unwrap_or_else(lock_err);
            vi.get(&key)
                .map(|v| vi.search(&v, limit + 1, &|k: &str| k != key).into_iter().map(|h| (h.key, h.sim)).collect())
        };
        let ranked = match by_vector {
            Some(r) => r,
            None => match self.keyword.address_of(&key)? {
                Some(addr) => self
                    .keyword
                    .more_like_this(addr, limit + 1)?
                    .into_iter()
                    .filter(|h| h.key != key)
                    .map(|h| (h.key, h.score))
                    .collect(),
                None => Vec::new(),
            },
        };
        Ok(ranked
            .into_iter()
            .take(limit)
            .filter_map(|(k, score)| PaperId::parse(&k).ok().map(|id| Hit { id, score, highlights: None }))
            .collect())
    }

    /// Test hook: stages papers in the keyword index without committing, as
    /// a crash between staging and commit would leave them.
    #[doc(hidden)]
    pub fn stage_without_commit(&self, papers: &[Paper]) -> Result<()> {
        self.keyword.stage(papers)
    }

    /// For tuning: a query's keyword list (top `kw_depth`), semantic list
    /// (top `sem_depth`), and the cosine of every keyword candidate that has
    /// a vector, so that fusion settings can be tried without searching again.
    #[doc(hidden)]
    pub fn candidate_scores(
        &self,
        q: &str,
        kw_depth: usize,
        sem_depth: usize,
    ) -> Result<(Ranked, Ranked, std::collections::HashMap<String, f32>)> {
        let parsed = query::parse(q);
        let extra = ExtraFilters::default();
        let (kw, _) = self.keyword.search(&parsed, &extra, kw_depth)?;
        let kw: Ranked = kw.into_iter().map(|h| (h.key, h.score)).collect();
        let text = parsed.semantic_text();
        let (sem, qv) = if self.semantic_available() && !text.trim().is_empty() {
            self.semantic_with_vector(&parsed, &extra, &text, sem_depth)?
        } else {
            (Vec::new(), Vec::new())
        };
        let vi = self.vectors.read().unwrap_or_else(lock_err);
        let ev = self.evidence.read().unwrap_or_else(lock_err);
        let kind = self.evidence_kind(&ev);
        let cos = if qv.is_empty() {
            Default::default()
        } else {
            kw.iter()
                .filter_map(|(k, _)| {
                    vi.get(k).map(|v| (k.clone(), kind.aggregate(dot(&v, &qv), &ev.similarities(k, &qv))))
                })
                .collect()
        };
        Ok((kw, sem, cos))
    }

    /// For tuning: `text` through the keyword index's text analyzer (every
    /// token, no cap).
    #[doc(hidden)]
    pub fn analyze_text(&self, text: &str) -> Vec<String> {
        self.keyword.analyze_up_to(TEXT_ANALYZER, text, usize::MAX)
    }

    /// Raw keyword and semantic candidate lists for one query (tuning).
    #[doc(hidden)]
    pub fn candidates(&self, q: &str, k: usize) -> Result<(Ranked, Ranked)> {
        let parsed = query::parse(q);
        let extra = ExtraFilters::default();
        let (kw, _) = self.keyword.search(&parsed, &extra, k)?;
        let kw = kw.into_iter().map(|h| (h.key, h.score)).collect();
        let text = parsed.semantic_text();
        let sem = if self.semantic_available() && !text.trim().is_empty() {
            self.semantic(&parsed, &extra, &text, k)?
        } else {
            Vec::new()
        };
        Ok((kw, sem))
    }
}

/// Dot product (the cosine of two unit vectors).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
