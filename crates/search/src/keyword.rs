//! The keyword index: a tantivy index of papers (title, abstract, authors,
//! categories, id, listing day) ranked with BM25, plus the analyzers and the
//! programmatic construction of tantivy queries from a [`ParsedQuery`]
//! (never through tantivy's own query-string parser, so no user input can
//! be read as tantivy syntax).
//!
//! Each commit carries a JSON payload with the caller's `applied_seq`, so
//! the watermark is stored atomically with the documents it describes.

use std::collections::HashSet;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::NaiveDate;
use paperboy_core::Paper;
use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, MoreLikeThisQuery, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{
    DateOptions, DateTimePrecision, FAST, Field as TField, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};
use tantivy::{
    DateTime, DocAddress, DocSet, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument, Term,
};

use crate::error::{Result, SearchError};
use crate::query::{CategoryFilter, Clause, Field, ParsedQuery, Text};

/// Analyzer for titles and abstracts: split on non-alphanumerics, drop
/// tokens over 40 bytes, lower-case, fold accents, English (Snowball)
/// stemming. Stopwords are kept (BM25's idf already discounts them, and
/// phrases keep working); stemming vs. no stemming and stopword removal
/// were not compared on SciFact yet.
pub const TEXT_ANALYZER: &str = "pb_en";
/// Analyzer for author names: like the text one, without stemming.
pub const NAME_ANALYZER: &str = "pb_name";
/// Analyzer for categories: the whole value, lower-cased.
pub const RAW_LOWER: &str = "pb_raw_lower";

/// Title boost relative to the abstract, tuned on SciFact train with
/// `examples/eval.rs --sweep` (keyword nDCG@10 for boost 0.3 / 0.4 / 0.5 /
/// 0.7 / 1 / 2: 0.692 / 0.694 / 0.692 / 0.687 / 0.676 / 0.624). Tantivy
/// scores each field with its own BM25 and sums them, so a word in both the
/// title and the abstract already counts twice; a title weight below 1
/// corrects that double counting.
pub const DEFAULT_TITLE_BOOST: f32 = 0.5;
/// Authors count like the abstract for plain words.
const AUTHOR_BOOST: f32 = 1.0;
/// Most analysed terms used from one query.
const MAX_TERMS: usize = 64;
/// Tantivy indexing memory budget.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: TField,
    pub title: TField,
    pub abstract_: TField,
    pub authors: TField,
    pub categories: TField,
    pub listed_on: TField,
    pub text_hash: TField,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |analyzer: &str| {
        TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(analyzer)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored()
    };
    let id = b.add_text_field("id", STRING | STORED | FAST);
    let title = b.add_text_field("title", text(TEXT_ANALYZER));
    let abstract_ = b.add_text_field("abstract", text(TEXT_ANALYZER));
    let authors = b.add_text_field("authors", text(NAME_ANALYZER));
    let categories = b.add_text_field(
        "categories",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(RAW_LOWER).set_index_option(IndexRecordOption::Basic),
        ),
    );
    let listed_on = b.add_date_field(
        "listed_on",
        DateOptions::from(INDEXED).set_stored().set_fast().set_precision(DateTimePrecision::Seconds),
    );
    let text_hash = b.add_u64_field("text_hash", FAST | STORED);
    (b.build(), Fields { id, title, abstract_, authors, categories, listed_on, text_hash })
}

fn register_analyzers(index: &Index) {
    let m = index.tokenizers();
    m.register(
        TEXT_ANALYZER,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .filter(Stemmer::new(Language::English))
            .build(),
    );
    m.register(
        NAME_ANALYZER,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build(),
    );
    m.register(RAW_LOWER, TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).build());
}

pub use paperboy_core::embedding::{embedding_text, text_hash};

/// Commit payload.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Payload {
    applied_seq: u64,
}

/// One keyword hit.
#[derive(Debug, Clone)]
pub struct KeywordHit {
    pub key: String,
    pub score: f32,
    pub addr: DocAddress,
}

/// The stored text of a paper, for highlighting and embedding.
#[derive(Debug, Clone, Default)]
pub struct StoredText {
    pub title: String,
    pub abstract_text: String,
}

/// Tunables of keyword ranking.
#[derive(Debug, Clone, Copy)]
pub struct KeywordSettings {
    pub title_boost: f32,
    /// Pseudo-relevance feedback (query expansion from the top hits); `None`
    /// searches the query as given.
    pub prf: Option<Prf>,
}

impl Default for KeywordSettings {
    fn default() -> Self {
        KeywordSettings { title_boost: DEFAULT_TITLE_BOOST, prf: None }
    }
}

/// RM3-style pseudo-relevance feedback: the query is searched, the `docs`
/// best hits are read, and the `terms` terms that best characterise them
/// ([`expansion_terms`]) are added to the query as optional clauses, the
/// best one with weight `weight` (relative to an original term's 1) and the
/// others in proportion. The set of matching papers does not change, only
/// their order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prf {
    pub docs: usize,
    pub terms: usize,
    pub weight: f32,
}

/// The expansion terms of pseudo-relevance feedback, best first, with
/// weights in (0, 1] (the best is 1). `docs` holds each feedback document's
/// analysed tokens and its retrieval score; `idf` gives a term's inverse
/// document frequency. A term's weight is `Σ_d (tf(t, d) / |d|) · (s_d /
/// s_max) · idf(t)`: frequent in the top documents (the more so the better
/// they matched) and rare in the collection. Terms of the query itself,
/// tokens of fewer than three characters and pure numbers are skipped.
pub fn expansion_terms(
    docs: &[(Vec<String>, f32)],
    query_terms: &HashSet<String>,
    idf: impl Fn(&str) -> f32,
    terms: usize,
) -> Vec<(String, f32)> {
    let best = docs.iter().map(|(_, s)| *s).fold(0.0f32, f32::max);
    if best <= 0.0 || terms == 0 {
        return Vec::new();
    }
    let mut weight: std::collections::HashMap<&str, f32> = std::collections::HashMap::new();
    for (tokens, score) in docs {
        if tokens.is_empty() {
            continue;
        }
        let share = score / best / tokens.len() as f32;
        for t in tokens {
            if t.len() < 3 || t.chars().all(|c| c.is_ascii_digit()) || query_terms.contains(t) {
                continue;
            }
            *weight.entry(t.as_str()).or_default() += share;
        }
    }
    let mut out: Vec<(String, f32)> =
        weight.into_iter().map(|(t, w)| (t.to_string(), w * idf(t))).filter(|(_, w)| *w > 0.0).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.truncate(terms);
    if let Some(top) = out.first().map(|(_, w)| *w) {
        for (_, w) in &mut out {
            *w /= top;
        }
    }
    out
}

/// The tantivy index with its writer (opened lazily) and reader.
pub struct KeywordIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    pub fields: Fields,
    pub config: KeywordSettings,
}

impl std::fmt::Debug for KeywordIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeywordIndex").field("dir", &self.dir).finish()
    }
}

impl KeywordIndex {
    /// Opens or creates the index in `dir`.
    pub fn open(dir: &Path) -> Result<KeywordIndex> {
        let err = |e: &dyn std::fmt::Display| SearchError::Index { dir: dir.to_path_buf(), why: e.to_string() };
        std::fs::create_dir_all(dir).map_err(|e| SearchError::io(format!("creating {}", dir.display()), e))?;
        let (schema, fields) = schema();
        let mmap = MmapDirectory::open(dir).map_err(|e| err(&e))?;
        let index = Index::open_or_create(mmap, schema).map_err(|e| {
            err(&format!(
                "{e} (the index was written by another Paperboy version; delete {} and reindex)",
                dir.display()
            ))
        })?;
        register_analyzers(&index);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(|e| err(&e))?;
        Ok(KeywordIndex {
            dir: dir.to_path_buf(),
            index,
            reader,
            writer: Mutex::new(None),
            fields,
            config: KeywordSettings::default(),
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> SearchError {
        SearchError::Index { dir: self.dir.clone(), why: e.to_string() }
    }

    /// The watermark stored with the last commit (0 for a new index).
    pub fn applied_seq(&self) -> Result<u64> {
        let metas = self.index.load_metas().map_err(|e| self.err(e))?;
        Ok(metas.payload.as_deref().and_then(|p| serde_json::from_str::<Payload>(p).ok()).map_or(0, |p| p.applied_seq))
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter) -> Result<T>) -> Result<T> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let w = self.index.writer(WRITER_MEMORY).map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => SearchError::Locked(self.dir.clone()),
                e => self.err(e),
            })?;
            *guard = Some(w);
        }
        let w = guard.as_mut().expect("writer set above");
        let r = f(w);
        if r.is_err() {
            // Drop what was staged: the next write starts from the last commit.
            let _ = w.rollback();
        }
        r
    }

    /// Stages papers (replacing same-id documents) without committing.
    pub fn stage(&self, papers: &[Paper]) -> Result<()> {
        let f = self.fields;
        self.with_writer(|w| {
            for p in papers {
                let key = p.id.to_string();
                w.delete_term(Term::from_field_text(f.id, &key));
                let mut doc = TantivyDocument::default();
                doc.add_text(f.id, &key);
                doc.add_text(f.title, &p.title);
                doc.add_text(f.abstract_, &p.abstract_text);
                for a in &p.authors {
                    doc.add_text(f.authors, a);
                }
                for c in &p.categories {
                    doc.add_text(f.categories, c);
                    if let Some((archive, _)) = c.split_once('.') {
                        doc.add_text(f.categories, archive);
                    }
                }
                doc.add_date(f.listed_on, date_of(p.listed_on));
                doc.add_u64(f.text_hash, text_hash(&embedding_text(&p.title, &p.abstract_text)));
                w.add_document(doc).map_err(|e| self.err(e))?;
            }
            Ok(())
        })
    }

    /// Stages deletions by key without committing.
    pub fn stage_delete(&self, keys: &[String]) -> Result<()> {
        let f = self.fields;
        self.with_writer(|w| {
            for k in keys {
                w.delete_term(Term::from_field_text(f.id, k));
            }
            Ok(())
        })
    }

    /// Commits everything staged with `applied_seq` as the new watermark
    /// (never lowered), and makes it visible to searches.
    pub fn commit(&self, applied_seq: Option<u64>) -> Result<()> {
        let seq = match applied_seq {
            Some(s) => s.max(self.applied_seq()?),
            None => self.applied_seq()?,
        };
        self.with_writer(|w| {
            let mut prepared = w.prepare_commit().map_err(|e| self.err(e))?;
            let payload = serde_json::to_string(&Payload { applied_seq: seq }).map_err(|e| self.err(e))?;
            prepared.set_payload(&payload);
            prepared.commit().map_err(|e| self.err(e))?;
            Ok(())
        })?;
        self.reader.reload().map_err(|e| self.err(e))
    }

    /// Drops the writer without committing (what a crash does); test hook.
    #[doc(hidden)]
    pub fn abandon_writer(&self) {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        *guard = None;
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Number of live documents.
    pub fn num_docs(&self) -> u64 {
        self.searcher().num_docs()
    }

    /// Analyses text with one of the registered analyzers.
    pub fn analyze(&self, analyzer: &str, text: &str) -> Vec<String> {
        self.analyze_up_to(analyzer, text, 4 * MAX_TERMS)
    }

    /// Like [`analyze`](Self::analyze), keeping at most `max` tokens.
    pub fn analyze_up_to(&self, analyzer: &str, text: &str, max: usize) -> Vec<String> {
        let Some(mut a) = self.index.tokenizers().get(analyzer) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut stream = a.token_stream(text);
        while out.len() < max && stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    /// The analyzer registered under `name` (for highlighting).
    pub fn analyzer(&self, name: &str) -> Option<TextAnalyzer> {
        self.index.tokenizers().get(name)
    }

    fn term_query(field: TField, token: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(Term::from_field_text(field, token), IndexRecordOption::WithFreqs))
    }

    fn phrase_or_term(field: TField, tokens: &[String]) -> Option<Box<dyn Query>> {
        match tokens.len() {
            0 => None,
            1 => Some(Self::term_query(field, &tokens[0])),
            _ => {
                let terms: Vec<Term> = tokens.iter().take(16).map(|t| Term::from_field_text(field, t)).collect();
                Some(Box::new(PhraseQuery::new(terms)))
            }
        }
    }

    fn boosted(q: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
        if (boost - 1.0).abs() < f32::EPSILON { q } else { Box::new(BoostQuery::new(q, boost)) }
    }

    /// The (field, analyzer, boost) triples a clause looks in.
    fn targets(&self, field: Field) -> Vec<(TField, &'static str, f32)> {
        let f = self.fields;
        match field {
            Field::Any => vec![
                (f.title, TEXT_ANALYZER, self.config.title_boost),
                (f.abstract_, TEXT_ANALYZER, 1.0),
                (f.authors, NAME_ANALYZER, AUTHOR_BOOST),
            ],
            Field::Title => vec![(f.title, TEXT_ANALYZER, self.config.title_boost)],
            Field::Abstract => vec![(f.abstract_, TEXT_ANALYZER, 1.0)],
            Field::Authors => vec![(f.authors, NAME_ANALYZER, 1.0)],
        }
    }

    /// One clause as a query: a word is any of its tokens in any target
    /// field; a phrase (or a multi-token field word such as `ti:covid-19`)
    /// is the token sequence in any target field.
    fn clause_query(&self, c: &Clause, budget: &mut usize) -> Option<Box<dyn Query>> {
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let as_phrase = matches!(c.text, Text::Phrase(_)) || c.field != Field::Any;
        for (field, analyzer, boost) in self.targets(c.field) {
            let tokens = self.analyze(analyzer, c.text.as_str());
            if as_phrase {
                if let Some(q) = Self::phrase_or_term(field, &tokens) {
                    parts.push((Occur::Should, Self::boosted(q, boost)));
                }
            } else {
                for t in tokens {
                    if *budget == 0 {
                        break;
                    }
                    *budget -= 1;
                    parts.push((Occur::Should, Self::boosted(Self::term_query(field, &t), boost)));
                }
            }
        }
        match parts.len() {
            0 => None,
            1 => parts.pop().map(|(_, q)| q),
            _ => Some(Box::new(BooleanQuery::new(parts))),
        }
    }

    fn category_query(&self, c: &CategoryFilter) -> Box<dyn Query> {
        Self::term_query(self.fields.categories, c.index_term())
    }

    fn date_query(&self, since: Option<NaiveDate>, until: Option<NaiveDate>) -> Option<Box<dyn Query>> {
        if since.is_none() && until.is_none() {
            return None;
        }
        let f = self.fields.listed_on;
        let lo = since.map_or(Bound::Unbounded, |d| Bound::Included(Term::from_field_date(f, date_of(d))));
        let hi = until.map_or(Bound::Unbounded, |d| Bound::Included(Term::from_field_date(f, date_of(d))));
        Some(Box::new(RangeQuery::new(lo, hi)))
    }

    /// The non-ranking part of a query: required clauses (phrases, field
    /// clauses) when `include_required`, categories, dates, exclusions, and
    /// the caller's extra category/date filters. `None` when nothing filters.
    pub fn filter_query(
        &self,
        q: &ParsedQuery,
        extra: &ExtraFilters,
        include_required: bool,
    ) -> Option<Box<dyn Query>> {
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut budget = MAX_TERMS;
        if include_required {
            for c in q.clauses.iter().filter(|c| is_required(c)) {
                if let Some(cq) = self.clause_query(c, &mut budget) {
                    parts.push((Occur::Must, Box::new(ConstScoreQuery::new(cq, 0.0))));
                }
            }
        }
        for c in &q.categories {
            parts.push((Occur::Must, Box::new(ConstScoreQuery::new(self.category_query(c), 0.0))));
        }
        if let Some(cat) = &extra.category {
            let t = cat.trim().to_ascii_lowercase();
            let t = t.trim_end_matches(".*").to_string();
            parts
                .push((Occur::Must, Box::new(ConstScoreQuery::new(Self::term_query(self.fields.categories, &t), 0.0))));
        }
        let since = max_opt(q.since, extra.since);
        let until = min_opt(q.until, extra.until);
        if let Some(d) = self.date_query(since, until) {
            parts.push((Occur::Must, Box::new(ConstScoreQuery::new(d, 0.0))));
        }
        for c in &q.excluded {
            if let Some(cq) = self.clause_query(c, &mut budget) {
                parts.push((Occur::MustNot, cq));
            }
        }
        for c in &q.excluded_categories {
            parts.push((Occur::MustNot, self.category_query(c)));
        }
        if parts.is_empty() {
            return None;
        }
        if !parts.iter().any(|(o, _)| *o == Occur::Must) {
            parts.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0))));
        }
        Some(Box::new(BooleanQuery::new(parts)))
    }

    /// The full keyword query: ranking clauses plus filters. `None` when the
    /// query has no text (then callers list filter matches by date).
    pub fn ranking_query(&self, q: &ParsedQuery, extra: &ExtraFilters) -> Option<Box<dyn Query>> {
        let mut budget = MAX_TERMS;
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut optional: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for c in &q.clauses {
            if let Some(cq) = self.clause_query(c, &mut budget) {
                if is_required(c) {
                    parts.push((Occur::Must, cq));
                } else {
                    optional.push((Occur::Should, cq));
                }
            }
        }
        // Plain words are alternatives to each other, but at least one of them
        // must match: beside a required clause or a filter, loose Should
        // clauses would let every filtered paper through.
        if !optional.is_empty() {
            parts.push((Occur::Must, Box::new(BooleanQuery::new(optional))));
        }
        if parts.is_empty() {
            return None;
        }
        if let Some(f) = self.filter_query(q, extra, false) {
            parts.push((Occur::Must, f));
        }
        Some(Box::new(BooleanQuery::new(parts)))
    }

    /// Top `limit` keyword hits for a query (BM25), or by newest listing day
    /// when the query has only filters. Returns the hits and a count of all
    /// matches.
    pub fn search(&self, q: &ParsedQuery, extra: &ExtraFilters, limit: usize) -> Result<(Vec<KeywordHit>, usize)> {
        let searcher = self.searcher();
        let limit = limit.max(1);
        if let Some(mut query) = self.ranking_query(q, extra) {
            if let Some(prf) = self.config.prf {
                query = self.expanded(&searcher, q, query, prf)?;
            }
            let (top, count) = searcher
                .search(&query, &(TopDocs::with_limit(limit).order_by_score(), Count))
                .map_err(|e| self.err(e))?;
            let keys = KeyReader::new(&searcher, self.fields);
            let hits = top
                .into_iter()
                .filter_map(|(score, addr)| keys.key(addr).map(|key| KeywordHit { key, score, addr }))
                .collect();
            return Ok((hits, count));
        }
        let Some(filter) = self.filter_query(q, extra, true) else {
            return Ok((Vec::new(), 0));
        };
        let (top, count) = searcher
            .search(
                &filter,
                &(TopDocs::with_limit(limit).order_by_fast_field::<DateTime>("listed_on", Order::Desc), Count),
            )
            .map_err(|e| self.err(e))?;
        let keys = KeyReader::new(&searcher, self.fields);
        let n = top.len().max(1) as f32;
        let hits = top
            .into_iter()
            .enumerate()
            .filter_map(|(i, (_, addr))| keys.key(addr).map(|key| KeywordHit { key, score: 1.0 - i as f32 / n, addr }))
            .collect();
        Ok((hits, count))
    }

    /// The query with pseudo-relevance feedback terms added (see [`Prf`]);
    /// the query unchanged when it has no plain words or no hits.
    fn expanded(
        &self,
        searcher: &Searcher,
        q: &ParsedQuery,
        query: Box<dyn Query>,
        prf: Prf,
    ) -> Result<Box<dyn Query>> {
        let words: HashSet<String> = q
            .clauses
            .iter()
            .filter(|c| c.field == Field::Any && matches!(c.text, Text::Word(_)))
            .flat_map(|c| self.analyze(TEXT_ANALYZER, c.text.as_str()))
            .collect();
        if words.is_empty() || prf.docs == 0 || prf.terms == 0 {
            return Ok(query);
        }
        let top = searcher.search(&query, &TopDocs::with_limit(prf.docs).order_by_score()).map_err(|e| self.err(e))?;
        let mut docs = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let text = self.stored_text(searcher, addr)?;
            let mut tokens = self.analyze_all(&text.title);
            tokens.extend(self.analyze_all(&text.abstract_text));
            docs.push((tokens, score));
        }
        let n = searcher.num_docs().max(1) as f32;
        let f = self.fields;
        let idf = |t: &str| {
            let df = searcher.doc_freq(&Term::from_field_text(f.abstract_, t)).unwrap_or(0) as f32;
            ((n - df + 0.5) / (df + 0.5)).ln_1p()
        };
        let terms = expansion_terms(&docs, &words, idf, prf.terms);
        if terms.is_empty() {
            return Ok(query);
        }
        let mut extra: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (t, w) in terms {
            for (field, boost) in [(f.title, self.config.title_boost), (f.abstract_, 1.0)] {
                extra.push((Occur::Should, Self::boosted(Self::term_query(field, &t), boost * w * prf.weight)));
            }
        }
        Ok(Box::new(BooleanQuery::new(vec![(Occur::Must, query), (Occur::Should, Box::new(BooleanQuery::new(extra)))])))
    }

    /// Every token of a text through the text analyzer (no length cap).
    fn analyze_all(&self, text: &str) -> Vec<String> {
        let Some(mut a) = self.index.tokenizers().get(TEXT_ANALYZER) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut stream = a.token_stream(text);
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    /// Addresses of the documents matching `filter` (cheap: no keys read).
    pub fn matching_docs(&self, searcher: &Searcher, filter: &dyn Query) -> Result<HashSet<DocAddress>> {
        searcher.search(filter, &DocSetCollector).map_err(|e| self.err(e))
    }

    /// The keys of some documents (a fast-field dictionary lookup each).
    pub fn keys_of(&self, searcher: &Searcher, docs: &HashSet<DocAddress>) -> HashSet<String> {
        let keys = KeyReader::new(searcher, self.fields);
        docs.iter().filter_map(|&a| keys.key(a)).collect()
    }

    /// The live document with this key, straight from the term dictionary
    /// (no query, no scoring: a few microseconds).
    pub fn doc_of(&self, searcher: &Searcher, key: &str) -> Option<DocAddress> {
        let term = Term::from_field_text(self.fields.id, key);
        for (ord, seg) in searcher.segment_readers().iter().enumerate() {
            let Ok(index) = seg.inverted_index(self.fields.id) else { continue };
            let Ok(Some(mut postings)) = index.read_postings(&term, IndexRecordOption::Basic) else { continue };
            let mut doc = postings.doc();
            while doc != tantivy::TERMINATED {
                if seg.alive_bitset().is_none_or(|b| b.is_alive(doc)) {
                    return Some(DocAddress::new(ord as u32, doc));
                }
                doc = postings.advance();
            }
        }
        None
    }

    /// Every document's key and text hash.
    ///
    /// Each segment's key dictionary is read once, in order, rather than
    /// looked up per document: a lookup scans a dictionary block, and at a
    /// million papers the lookups took over a minute of `serve`'s start
    /// (the engine checks its vectors against these keys when it opens).
    pub fn all_keys_with_hash(&self) -> Result<Vec<(String, u64, DocAddress)>> {
        let searcher = self.searcher();
        let mut out: Vec<(String, u64, DocAddress)> = Vec::with_capacity(searcher.num_docs() as usize);
        for (seg_ord, seg) in searcher.segment_readers().iter().enumerate() {
            let ff = seg.fast_fields();
            let (Some(ids), Ok(hashes)) = (ff.str("id").map_err(|e| self.err(e))?, ff.u64("text_hash")) else {
                continue;
            };
            let mut terms = Vec::with_capacity(ids.num_terms());
            let mut stream = ids.dictionary().stream().map_err(|e| self.err(e))?;
            while stream.advance() {
                terms.push(String::from_utf8_lossy(stream.key()).into_owned());
            }
            let alive = seg.alive_bitset();
            for doc in 0..seg.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                let key = ids.term_ords(doc).next().and_then(|o| terms.get(o as usize));
                if let (Some(key), Some(hash)) = (key, hashes.first(doc)) {
                    out.push((key.clone(), hash, DocAddress::new(seg_ord as u32, doc)));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Finds a document by key.
    pub fn address_of(&self, key: &str) -> Result<Option<DocAddress>> {
        let searcher = self.searcher();
        let q = TermQuery::new(Term::from_field_text(self.fields.id, key), IndexRecordOption::Basic);
        let top = searcher.search(&q, &TopDocs::with_limit(1).order_by_score()).map_err(|e| self.err(e))?;
        Ok(top.first().map(|(_, a)| *a))
    }

    /// The stored title and abstract of a document.
    pub fn stored_text(&self, searcher: &Searcher, addr: DocAddress) -> Result<StoredText> {
        let doc: TantivyDocument = searcher.doc(addr).map_err(|e| self.err(e))?;
        let get = |f: TField| doc.get_first(f).and_then(|v| v.as_str()).unwrap_or("").to_string();
        Ok(StoredText { title: get(self.fields.title), abstract_text: get(self.fields.abstract_) })
    }

    /// Keyword "more like this": documents sharing the distinctive terms of
    /// the given document's title and abstract.
    pub fn more_like_this(&self, addr: DocAddress, limit: usize) -> Result<Vec<KeywordHit>> {
        let searcher = self.searcher();
        let q = MoreLikeThisQuery::builder()
            .with_min_doc_frequency(1)
            .with_min_term_frequency(1)
            .with_max_query_terms(30)
            .with_min_word_length(3)
            .with_document(addr);
        let top = searcher.search(&q, &TopDocs::with_limit(limit.max(1)).order_by_score()).map_err(|e| self.err(e))?;
        let keys = KeyReader::new(&searcher, self.fields);
        Ok(top
            .into_iter()
            .filter(|(_, a)| *a != addr)
            .filter_map(|(score, a)| keys.key(a).map(|key| KeywordHit { key, score, addr: a }))
            .collect())
    }
}

/// Filters given by the caller besides the query text.
#[derive(Debug, Clone, Default)]
pub struct ExtraFilters {
    pub category: Option<String>,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

fn max_opt(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

fn min_opt(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Phrases and field-prefixed clauses must match; plain words only rank.
pub fn is_required(c: &Clause) -> bool {
    matches!(c.text, Text::Phrase(_)) || c.field != Field::Any
}

/// Midnight UTC of `d` as tantivy's date, which counts nanoseconds in an
/// `i64`: days outside 1677-09-22 to 2262-04-11 are clamped to that range.
/// (They used to overflow: `since:9999-01-01` panicked in a debug build and
/// filtered on a wrapped-around date in a release build.)
fn date_of(d: NaiveDate) -> DateTime {
    const MAX_SECS: i64 = i64::MAX / 1_000_000_000;
    let secs = d.and_hms_opt(0, 0, 0).map_or(0, |dt| dt.and_utc().timestamp());
    DateTime::from_timestamp_secs(secs.clamp(-MAX_SECS, MAX_SECS))
}

/// Reads document keys and text hashes from the fast fields, per segment.
pub struct KeyReader {
    ids: Vec<Option<tantivy::columnar::StrColumn>>,
    hashes: Vec<Option<tantivy::columnar::Column<u64>>>,
}

impl KeyReader {
    pub fn new(searcher: &Searcher, _fields: Fields) -> Self {
        let mut ids = Vec::new();
        let mut hashes = Vec::new();
        for seg in searcher.segment_readers() {
            let ff = seg.fast_fields();
            ids.push(ff.str("id").ok().flatten());
            hashes.push(ff.u64("text_hash").ok());
        }
        KeyReader { ids, hashes }
    }

    pub fn key(&self, addr: DocAddress) -> Option<String> {
        let col = self.ids.get(addr.segment_ord as usize)?.as_ref()?;
        let ord = col.term_ords(addr.doc_id).next()?;
        let mut s = String::new();
        col.ord_to_str(ord, &mut s).ok()?.then_some(s)
    }

    pub fn hash(&self, addr: DocAddress) -> Option<u64> {
        self.hashes.get(addr.segment_ord as usize)?.as_ref()?.first(addr.doc_id)
    }
}

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn dates_beyond_tantivys_range_are_clamped_in_order() {
        let days = [
            NaiveDate::MIN,
            NaiveDate::from_ymd_opt(1000, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2024, 3, 11).unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
            NaiveDate::MAX,
        ];
        let stamps: Vec<i64> = days.iter().map(|d| date_of(*d).into_timestamp_nanos()).collect();
        assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{stamps:?}");
        assert_eq!(date_of(days[2]).into_timestamp_secs(), 1_710_115_200);
    }
}
