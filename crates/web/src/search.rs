//! What the search page, the search feed and the search API share: reading
//! the search parameters, running the engine (whose calls block: tantivy,
//! and for semantic search an embedding of the query) on the blocking
//! thread pool, and turning its hits, which carry only ids, into stored
//! papers.
//!
//! Parameters: `q` (the search-box text; control characters become spaces
//! and it is cut at the engine's length limit, so any input is safe),
//! `mode` (`keyword`, `semantic` or `hybrid`), `cat` (a category such as
//! `cs.CV`, or an archive: `cs` or `cs.*`), `since` and `until`
//! (`YYYY-MM-DD`, listing days, inclusive), `has_code=1` (only papers with
//! a code repository) and `p` (page, from 0). A bad value is a 400 that says
//! what is expected.

use std::sync::{Arc, LazyLock};

use chrono::NaiveDate;
use paperboy_core::PaperId;
use paperboy_search::query::MAX_QUERY_BYTES;
use paperboy_search::{Hit, SearchEngine, SearchError, SearchMode, SearchOptions, SearchResults};
use paperboy_store::{Catalog, StoredPaper};
use tokio::sync::Semaphore;

use crate::error::WebError;
use crate::params::{QueryString, is_category, percent_encode, quote};
use crate::signals::{has_code, has_code_repo};

/// Results per search page.
pub const PAGE_SIZE: u32 = 20;
/// Similar papers listed on a paper page.
pub const SIMILAR_ON_PAGE: usize = 6;
/// The deepest result the engine serves (offset + limit).
pub const MAX_DEPTH: usize = paperboy_search::engine::MAX_DEPTH;
/// Candidates taken by relevance when a feed picks its newest matches (the
/// engine's largest page).
const FEED_CANDIDATES: usize = paperboy_search::engine::MAX_LIMIT;

/// Engine calls running at once; more wait here rather than tying up
/// blocking threads (embedding a query keeps a core busy).
static PERMITS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()).max(2)));

/// The parameters of a search, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    /// The cleaned query text; empty when none was given.
    pub q: String,
    /// The mode asked for; `None` means the default (hybrid).
    pub mode: Option<SearchMode>,
    /// A category (`cs.CV`) or archive (`cs`, `cs.*`).
    pub cat: Option<String>,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// Only papers with a code repository.
    pub has_code: bool,
    /// The page, from 0.
    pub page: u32,
}

impl SearchParams {
    /// Reads and checks the parameters.
    pub fn parse(qs: &QueryString) -> Result<Self, WebError> {
        let q = clean_query(qs.get("q").unwrap_or(""));
        let mode = match qs.get("mode") {
            None => None,
            Some(m) => Some(SearchMode::parse(m).ok_or_else(|| {
                WebError::bad(format!("mode={:?} is not a search mode: use keyword, semantic or hybrid", quote(m)))
            })?),
        };
        let cat = qs.get("cat").map(search_category).transpose()?;
        let since = date_param(qs, "since")?;
        let until = date_param(qs, "until")?;
        if let (Some(s), Some(u)) = (since, until)
            && s > u
        {
            return Err(WebError::bad(format!(
                "since={s} is after until={u}: the date range is empty; give the earlier day as since"
            )));
        }
        Ok(SearchParams { q, mode, cat, since, until, has_code: has_code(qs)?, page: qs.page()? })
    }

    /// The mode asked for, or the default.
    pub fn requested_mode(&self) -> SearchMode {
        self.mode.unwrap_or_default()
    }

    /// The engine's options for one page of `limit` results from `offset`.
    pub fn options(&self, limit: usize, offset: usize, highlights: bool) -> SearchOptions {
        SearchOptions {
            mode: self.requested_mode(),
            limit,
            offset,
            category: self.cat.clone(),
            since: self.since,
            until: self.until,
            highlights,
        }
    }

    /// `path?q=…&mode=…&cat=…&since=…&until=…&p=…` with what is set (the
    /// page only when non-zero).
    pub fn url(&self, path: &str, page: u32) -> String {
        let mut url = String::with_capacity(path.len() + self.q.len() * 3 + 48);
        url.push_str(path);
        let mut sep = '?';
        let mut push = |key: &str, value: &str| {
            url.push(sep);
            url.push_str(key);
            url.push('=');
            url.push_str(&percent_encode(value));
            sep = '&';
        };
        if !self.q.is_empty() {
            push("q", &self.q);
        }
        if let Some(m) = self.mode {
            push("mode", m.as_str());
        }
        if let Some(c) = &self.cat {
            push("cat", c);
        }
        if let Some(d) = self.since {
            push("since", &d.to_string());
        }
        if let Some(d) = self.until {
            push("until", &d.to_string());
        }
        if self.has_code {
            push("has_code", "1");
        }
        if page > 0 {
            push("p", &page.to_string());
        }
        url
    }

    /// The same search with another category filter, from the first page.
    pub fn with_cat(&self, cat: Option<&str>) -> SearchParams {
        SearchParams { cat: cat.map(str::to_string), page: 0, ..self.clone() }
    }
}

/// The query as the engine will read it: control characters become
/// spaces, it is cut (on a character boundary) at the engine's limit, and
/// trimmed. Pages show and link this version, so they never echo more
/// than was searched.
pub fn clean_query(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_QUERY_BYTES));
    for c in raw.chars() {
        if out.len() + c.len_utf8() > MAX_QUERY_BYTES {
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out.trim().to_string()
}

/// `cat`: an arXiv category (`cs.CV`), an archive (`cs`) or `cs.*`.
fn search_category(c: &str) -> Result<String, WebError> {
    if is_category(c.strip_suffix(".*").unwrap_or(c)) {
        Ok(c.to_string())
    } else {
        Err(WebError::bad(format!(
            "cat={:?} is not a category: use an arXiv category such as cs.CV, or an archive such as cs or cs.*",
            quote(c)
        )))
    }
}

/// A `YYYY-MM-DD` parameter.
fn date_param(qs: &QueryString, key: &str) -> Result<Option<NaiveDate>, WebError> {
    let Some(v) = qs.get(key) else {
        return Ok(None);
    };
    let shaped = v.len() == 10 && v.as_bytes().get(4) == Some(&b'-') && v.as_bytes().get(7) == Some(&b'-');
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) if shaped => Ok(Some(d)),
        _ => Err(WebError::bad(format!("{key}={:?} is not a date: use YYYY-MM-DD, for example 2026-03-11", quote(v)))),
    }
}

/// The arXiv id a query consists of, when it is one (`2312.00752`, an
/// arXiv URL): the site jumps to that paper.
pub fn direct_id(q: &str) -> Option<PaperId> {
    paperboy_search::query::parse(q).direct_id
}

/// Runs `f` on the blocking pool, at most [`PERMITS`] at a time.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SearchError> + Send + 'static,
) -> Result<T, WebError> {
    let _permit = PERMITS.acquire().await.map_err(|e| WebError::Internal(format!("search permits: {e}")))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(format!("search task failed: {e}")))?
        .map_err(WebError::from)
}

/// Searches. Without semantic search (no model or no vectors) the search
/// runs in keyword mode whatever was asked; the results say so.
pub async fn run(engine: &Arc<SearchEngine>, q: &str, opts: SearchOptions) -> Result<SearchResults, WebError> {
    let engine = Arc::clone(engine);
    let q = q.to_string();
    let span = tracing::debug_span!("search", mode = ?opts.mode, query_chars = q.chars().count());
    let search = blocking(move || {
        let mut opts = opts;
        if opts.mode != SearchMode::Keyword && !engine.semantic_available() {
            opts.mode = SearchMode::Keyword;
        }
        engine.search(&q, &opts)
    });
    crate::metrics::timed(span, search).await
}

/// The stored papers of `hits`, in order, in one store call; hits the store
/// no longer has (or hides) are left out.
pub async fn papers_of(store: &dyn Catalog, hits: Vec<Hit>) -> Result<Vec<(StoredPaper, Hit)>, WebError> {
    let ids: Vec<PaperId> = hits.iter().map(|h| h.id.clone()).collect();
    let span = tracing::debug_span!("store.papers_by_ids", ids = ids.len());
    let mut papers = crate::metrics::timed(span, store.papers_by_ids(&ids)).await?.into_iter().peekable();
    let mut out = Vec::with_capacity(hits.len());
    for hit in hits {
        // `papers_by_ids` keeps the order of `ids` and leaves out the missing.
        if papers.peek().is_some_and(|p| p.paper.id == hit.id) {
            out.push((papers.next().expect("peeked"), hit));
        }
    }
    Ok(out)
}

/// One page of a search (`limit` results from `skip`) with its papers.
/// With `has_code` the engine, which knows nothing of repositories, is
/// asked for its best matches in turns of [`FEED_CANDIDATES`] (down to
/// [`MAX_DEPTH`]) and papers without code are left out; the total is then
/// exact when the matches ran out, and estimated from the share with code
/// otherwise.
pub async fn page(
    engine: &Arc<SearchEngine>,
    store: &dyn Catalog,
    params: &SearchParams,
    limit: usize,
    skip: usize,
    highlights: bool,
) -> Result<(SearchResults, Vec<(StoredPaper, Hit)>), WebError> {
    if !params.has_code {
        let mut results = run(engine, &params.q, params.options(limit, skip, highlights)).await?;
        let hits = std::mem::take(&mut results.hits);
        let found = papers_of(store, hits).await?;
        return Ok((results, found));
    }
    let mut kept = Vec::new();
    let mut seen = 0;
    loop {
        let turn = FEED_CANDIDATES.min(MAX_DEPTH - seen);
        let mut results = run(engine, &params.q, params.options(turn, seen, highlights)).await?;
        let hits = std::mem::take(&mut results.hits);
        let got = hits.len();
        seen += got;
        kept.extend(papers_of(store, hits).await?.into_iter().filter(|(p, _)| has_code_repo(p)));
        let ran_out = got < turn || seen >= results.total_estimate;
        if ran_out || seen >= MAX_DEPTH || kept.len() > skip + limit {
            results.total_estimate = if ran_out {
                kept.len()
            } else {
                let share = kept.len() as f64 / seen.max(1) as f64;
                ((results.total_estimate as f64 * share).round() as usize).max(kept.len())
            };
            let page = kept.into_iter().skip(skip).take(limit).collect();
            return Ok((results, page));
        }
    }
}

/// Up to `limit` papers similar to `id`, most similar first, with one store
/// call (the paper itself is looked up with its neighbours); `None` when the
/// catalog has no (visible) paper `id`.
pub async fn similar(
    engine: &Arc<SearchEngine>,
    store: &dyn Catalog,
    id: &PaperId,
    limit: usize,
) -> Result<Option<Vec<StoredPaper>>, WebError> {
    let engine = Arc::clone(engine);
    let target = id.clone();
    let hits = blocking(move || engine.similar(&target, limit)).await?;
    let mut ids = Vec::with_capacity(hits.len() + 1);
    ids.push(id.clone());
    ids.extend(hits.into_iter().map(|h| h.id).filter(|h| h != id));
    let mut papers = store.papers_by_ids(&ids).await?;
    if papers.first().is_none_or(|p| p.paper.id != *id) {
        return Ok(None);
    }
    papers.remove(0);
    papers.truncate(limit);
    Ok(Some(papers))
}

/// The newest `n` matches of a search, newest listing day first (papers of
/// one day in relevance order), for feed readers. The engine ranks by
/// relevance only, so this takes its best [`FEED_CANDIDATES`] and orders
/// them by day: a search with more matches than that may miss new papers
/// that rank low (an engine option to sort matches by day would fix it).
pub async fn newest_matches(
    engine: &Arc<SearchEngine>,
    store: &dyn Catalog,
    params: &SearchParams,
    n: usize,
) -> Result<Vec<StoredPaper>, WebError> {
    let results = run(engine, &params.q, params.options(FEED_CANDIDATES, 0, false)).await?;
    let mut found: Vec<StoredPaper> = papers_of(store, results.hits)
        .await?
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| !params.has_code || has_code_repo(p))
        .collect();
    // Stable: relevance order is kept within a day.
    found.sort_by_key(|p| std::cmp::Reverse(p.paper.listed_on));
    found.truncate(n);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(raw: &str) -> Result<SearchParams, WebError> {
        SearchParams::parse(&QueryString::parse(Some(raw))?)
    }

    #[test]
    fn reads_and_checks_parameters() {
        let p = params("q=au%3A%22Tri+Dao%22&mode=Semantic&cat=cs.*&since=2026-01-01&until=2026-03-31&p=2").unwrap();
        assert_eq!(p.q, "au:\"Tri Dao\"");
        assert_eq!(p.mode, Some(SearchMode::Semantic));
        assert_eq!(p.cat.as_deref(), Some("cs.*"));
        assert_eq!(p.page, 2);
        assert_eq!(
            p.url("/search", 3),
            "/search?q=au%3A%22Tri%20Dao%22&mode=semantic&cat=cs.%2A&since=2026-01-01&until=2026-03-31&p=3"
        );
        assert_eq!(params("").unwrap(), SearchParams::default());
        for (raw, expected) in [
            ("q=x&mode=fuzzy", "not a search mode"),
            ("q=x&since=2026-13-01", "not a date"),
            ("q=x&until=26-1-1", "not a date"),
            ("q=x&since=2026-03-02&until=2026-03-01", "is after"),
            ("q=x&cat=%3Cb%3E", "not a category"),
            ("q=x&p=-1", "not a page number"),
            ("q=x&has_code=2", "has_code=1"),
        ] {
            let err = params(raw).unwrap_err();
            assert!(err.to_string().contains(expected), "{raw}: {err}");
        }
    }

    #[test]
    fn cleans_hostile_queries() {
        assert_eq!(clean_query("  a\u{0}b\u{7}c \n"), "a b c");
        let long = "é".repeat(10_000);
        let cleaned = clean_query(&long);
        assert!(cleaned.len() <= MAX_QUERY_BYTES && cleaned.len() > MAX_QUERY_BYTES - 4);
        assert!(cleaned.chars().all(|c| c == 'é'));
    }

    #[test]
    fn finds_direct_ids() {
        assert_eq!(direct_id("2312.00752").map(|id| id.to_string()).as_deref(), Some("2312.00752"));
        assert!(direct_id("mamba state spaces").is_none());
    }
}
