//! The JSON API, shaped like Hugging Face Papers' so that its clients work:
//! `GET /api/daily_papers` (an array of daily-paper items, pagination in
//! the `X-Total-Count` and `Link` headers), `GET /api/papers/{id}`,
//! `GET /api/papers/search?q=…` (an array of search items, the total in
//! `X-Total-Count` and the mode used in `X-Search-Mode`) and
//! `GET /api/papers/{id}/similar`; and, with a personal API token
//! (`Authorization: Bearer pb_…`, else 401), `POST` and `DELETE
//! /api/papers/{id}/upvote` to upvote or take the upvote back (idempotent;
//! the answer is `{"voted": …, "upvotes": …}`) and `GET
//! /api/recommendations` (the token's member's picks of a period, each with
//! its reason; `Cache-Control: private, no-store`). The daily list is ordered
//! `new` unless `sort=trending|top` asks otherwise. Field names are Hugging Face's where it
//! has them, camelCase otherwise. Errors are `{"error": "..."}`; search
//! answers 503 when the server runs without a search engine.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use paperboy_core::{FeedPeriod, FeedSort, PaperId};
use paperboy_recs::Reason;
use paperboy_search::Hit;
use paperboy_services::papers::{self, Slice};
use paperboy_store::{FeedQuery, StoredPaper};
use serde::Serialize;

use crate::AppState;
use crate::auth::ApiUser;
use crate::dates::{day_start, published_at, rfc3339};
use crate::error::{WebError, json_result};
use crate::pages::paper::parse_id;
use crate::params::{QueryString, offset, percent_encode};
use crate::search::{self as find, SearchParams};
use crate::signals::{Explained, Ranking, has_code};

/// Page size of `/api/daily_papers` when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest `limit` accepted.
pub const MAX_LIMIT: u32 = 100;

/// Results per search page when `limit` is absent.
pub const DEFAULT_SEARCH_LIMIT: u32 = 20;
/// Similar papers when `limit` is absent.
pub const DEFAULT_SIMILAR_LIMIT: u32 = 10;
/// Recommendations when `limit` is absent.
pub const DEFAULT_RECOMMENDATIONS_LIMIT: u32 = 30;

static X_TOTAL_COUNT: HeaderName = HeaderName::from_static("x-total-count");
static X_SEARCH_MODE: HeaderName = HeaderName::from_static("x-search-mode");

/// An author as Hugging Face lists them.
#[derive(Debug, Serialize)]
pub struct ApiAuthor<'a> {
    pub name: &'a str,
}

/// A paper: the body of `/api/papers/{id}` and the `paper` of each daily item.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiPaper<'a> {
    pub id: String,
    pub title: &'a str,
    pub summary: &'a str,
    pub authors: Vec<ApiAuthor<'a>>,
    /// First submission (RFC 3339), or the listing day when unknown.
    pub published_at: String,
    /// Latest version's submission (RFC 3339), when known.
    pub updated_at: Option<String>,
    /// The day the paper is listed on (`YYYY-MM-DD`).
    pub listed_on: String,
    pub upvotes: i64,
    /// The member who submitted the paper (`null` for imported papers).
    pub submitted_by: Option<&'a str>,
    pub categories: &'a [String],
    pub primary_category: Option<&'a str>,
    pub version: Option<u32>,
    pub comment: Option<&'a str>,
    pub journal_ref: Option<&'a str>,
    pub doi: Option<&'a str>,
    /// The code repository's URL: the GitHub repository a signal job
    /// recorded, else the paper's code link.
    pub github_repo: Option<String>,
    /// The repository's stars on GitHub at the last observation.
    pub github_stars: Option<u64>,
    pub project_page: Option<&'a str>,
    pub withdrawn: bool,
    pub arxiv_url: Option<String>,
    pub pdf_url: Option<String>,
    /// The trending score, its parts and the reason (docs/RANKING.md).
    pub trending: ApiTrending,
}

/// A paper's trending score at the time of the answer, with its parts and
/// the signals behind them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiTrending {
    /// `local + huggingface + stars`.
    pub score: f64,
    /// The local-votes term.
    pub local: f64,
    /// The Hugging Face upvotes term.
    pub huggingface: f64,
    /// The star-velocity term.
    pub stars: f64,
    /// One line: "+312 stars this week on owner/repo · 45 upvotes on
    /// Hugging Face · 3 votes here".
    pub reason: String,
    /// Stars the repository gained in the last 7 days.
    pub stars_this_week: Option<i64>,
    /// Upvotes on Hugging Face Papers (the source).
    pub huggingface_upvotes: Option<u64>,
    /// The paper's rank on a recorded source page.
    pub source_rank: Option<ApiSourceRank>,
}

/// A recorded rank on a source page: `{"page": "Trending Papers", "rank": 3}`.
#[derive(Debug, Serialize)]
pub struct ApiSourceRank {
    pub page: String,
    pub rank: u32,
}

impl ApiTrending {
    pub fn new(stored: &StoredPaper, e: &Explained) -> Self {
        let finite = |x: f64| if x.is_finite() { x } else { 0.0 };
        ApiTrending {
            score: finite(e.score.total),
            local: finite(e.score.local),
            huggingface: finite(e.score.huggingface),
            stars: finite(e.score.stars),
            reason: e.card_reason(),
            stars_this_week: e.stars_this_week,
            huggingface_upvotes: e.hf_upvotes,
            source_rank: stored
                .signals
                .source_rank
                .as_ref()
                .map(|r| ApiSourceRank { page: r.page.clone(), rank: r.rank }),
        }
    }
}

impl<'a> ApiPaper<'a> {
    /// The paper with its trending score at `now`.
    pub fn new(stored: &'a StoredPaper, ranking: &Ranking, now: DateTime<Utc>) -> Self {
        let p = &stored.paper;
        let explained = Explained::of(stored, ranking, now);
        ApiPaper {
            id: p.id.to_string(),
            title: &p.title,
            summary: &p.abstract_text,
            authors: p.authors.iter().map(|name| ApiAuthor { name }).collect(),
            published_at: rfc3339(published_at(p)),
            updated_at: p.updated_at.map(rfc3339),
            listed_on: p.listed_on.format("%Y-%m-%d").to_string(),
            upvotes: stored.upvotes,
            submitted_by: stored.submitted_by.as_ref().map(|u| u.as_str()),
            categories: &p.categories,
            primary_category: p.primary_category.as_deref(),
            version: p.version,
            comment: p.comment.as_deref(),
            journal_ref: p.journal_ref.as_deref(),
            doi: p.doi.as_deref(),
            github_repo: stored.signals.github_repo.as_ref().and(explained.repo_url()).or_else(|| p.links.code.clone()),
            github_stars: explained.stars,
            project_page: p.links.project.as_deref(),
            withdrawn: p.withdrawn,
            arxiv_url: p.abs_url(),
            pdf_url: p.pdf_url(),
            trending: ApiTrending::new(stored, &explained),
        }
    }
}

/// One element of `/api/daily_papers`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyPaper<'a> {
    pub paper: ApiPaper<'a>,
    pub title: &'a str,
    pub summary: &'a str,
    pub published_at: String,
    /// Midnight UTC of the day the paper is listed on.
    pub submitted_on_daily_at: String,
    pub num_comments: u32,
    pub thumbnail: Option<&'a str>,
    pub upvotes: i64,
}

impl<'a> DailyPaper<'a> {
    pub fn new(stored: &'a StoredPaper, ranking: &Ranking, now: DateTime<Utc>) -> Self {
        let paper = ApiPaper::new(stored, ranking, now);
        DailyPaper {
            title: paper.title,
            summary: paper.summary,
            published_at: paper.published_at.clone(),
            submitted_on_daily_at: rfc3339(day_start(stored.paper.listed_on)),
            num_comments: 0,
            thumbnail: None,
            upvotes: stored.upvotes,
            paper,
        }
    }
}

/// Highlighted title and abstract snippet: HTML, escaped, matches in `<mark>`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiHighlights<'a> {
    pub title_html: &'a str,
    pub summary_html: &'a str,
}

/// One element of `/api/papers/search`: a daily-paper-like item with the
/// search's highlights and score.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchItem<'a> {
    pub paper: ApiPaper<'a>,
    pub title: &'a str,
    pub summary: &'a str,
    pub published_at: String,
    pub highlights: Option<ApiHighlights<'a>>,
    /// Higher is better; comparable within one response only.
    pub score: f32,
}

impl<'a> SearchItem<'a> {
    pub fn new(stored: &'a StoredPaper, hit: &'a Hit, ranking: &Ranking, now: DateTime<Utc>) -> Self {
        let paper = ApiPaper::new(stored, ranking, now);
        SearchItem {
            title: paper.title,
            summary: paper.summary,
            published_at: paper.published_at.clone(),
            highlights: hit
                .highlights
                .as_ref()
                .map(|h| ApiHighlights { title_html: &h.title_html, summary_html: &h.abstract_html }),
            score: if hit.score.is_finite() { hit.score } else { 0.0 },
            paper,
        }
    }
}

/// Why a paper is recommended: `{"kind": "like", "text": "Like: …",
/// "paperId": "2603.00101"}` (`paperId` for `like` only).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiReason {
    /// `like`, `author`, `saved_search`, `category` or `popular`.
    pub kind: &'static str,
    /// The card's one line.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paper_id: Option<String>,
}

impl ApiReason {
    pub fn new(reason: &Reason) -> Self {
        let (kind, paper_id) = match reason {
            Reason::Like { id, .. } => ("like", Some(id.clone())),
            Reason::Author { .. } => ("author", None),
            Reason::SavedSearch { .. } => ("saved_search", None),
            Reason::Category { .. } => ("category", None),
            Reason::Popular => ("popular", None),
        };
        ApiReason { kind, text: reason.line(), paper_id }
    }
}

/// One element of `/api/recommendations`' `items`: the paper object with
/// its recommendation score and reason.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecommendedItem<'a> {
    #[serde(flatten)]
    pub paper: ApiPaper<'a>,
    /// Higher is better; comparable within one response only.
    pub score: f32,
    pub reason: ApiReason,
}

/// The body of `/api/recommendations`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendations<'a> {
    /// `2026-W11`, `2026-03-11` or `2026-03`.
    pub period: String,
    /// `day`, `week` or `month`.
    pub period_kind: &'static str,
    /// The member has no signal yet: the items are popular papers.
    pub cold_start: bool,
    pub items: Vec<RecommendedItem<'a>>,
}

/// `GET /api/recommendations?period=day|week|month&date=YYYY-MM-DD&limit=`:
/// the token's member's picks of the period holding `date` (default: the
/// latest listing day), best first.
pub async fn recommendations(State(st): State<AppState>, ApiUser(user): ApiUser, RawQuery(raw): RawQuery) -> Response {
    let result = async {
        let q = QueryString::parse(raw.as_deref())?;
        for key in q.keys() {
            if !["period", "date", "limit"].contains(&key) {
                return Err(WebError::bad(format!(
                    "unknown parameter {key:?}: /api/recommendations takes period, date and limit"
                )));
            }
        }
        let kind: &'static str = match q.get("period").unwrap_or("week") {
            "day" => "day",
            "week" => "week",
            "month" => "month",
            other => {
                return Err(WebError::bad(format!(
                    "period must be day, week or month, not {:?}",
                    crate::params::quote(other)
                )));
            }
        };
        let limit = q.limit(DEFAULT_RECOMMENDATIONS_LIMIT, MAX_LIMIT)?;
        let day = match q.get("date") {
            Some(d) => match FeedPeriod::parse_day(d)? {
                FeedPeriod::Day(day) => Some(day),
                _ => None,
            },
            None => st.store.latest_listing_date().await?,
        };
        let Some(day) = day else {
            let empty =
                Recommendations { period: String::new(), period_kind: kind, cold_start: true, items: Vec::new() };
            return Ok(json_response(StatusCode::OK, to_json(&empty)?));
        };
        let period = match kind {
            "day" => FeedPeriod::Day(day),
            "month" => FeedPeriod::month_of(day),
            _ => FeedPeriod::week_of(day),
        };
        let for_you = st.recs.for_member(st.store.as_ref(), user.id, period, limit).await?;
        let now = Utc::now();
        let items = for_you
            .picks
            .iter()
            .map(|p| RecommendedItem {
                paper: ApiPaper::new(&p.paper, &st.config.ranking, now),
                score: if p.score.is_finite() { p.score } else { 0.0 },
                reason: ApiReason::new(&p.reason),
            })
            .collect();
        let body =
            Recommendations { period: period.to_string(), period_kind: kind, cold_start: for_you.cold_start, items };
        Ok(json_response(StatusCode::OK, to_json(&body)?))
    };
    let mut r = json_result(result.await);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(crate::pages::for_you::PRIVATE));
    r
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, WebError> {
    // Serialising these types cannot fail (string keys, no maps), but a
    // failure must still not panic.
    serde_json::to_vec(value).map_err(|e| WebError::Internal(format!("encoding JSON: {e}")))
}

/// The period of `?date=` / `?week=` / `?month=` (at most one).
fn requested_period(q: &QueryString) -> Result<Option<FeedPeriod>, WebError> {
    let given: Vec<(&str, &str)> =
        ["date", "week", "month"].into_iter().filter_map(|k| q.get(k).map(|v| (k, v))).collect();
    match given.as_slice() {
        [] => Ok(None),
        [("date", v)] => Ok(Some(FeedPeriod::parse_day(v)?)),
        [("week", v)] => Ok(Some(FeedPeriod::parse_week(v)?)),
        [(_, v)] => Ok(Some(FeedPeriod::parse_month(v)?)),
        _ => Err(WebError::bad("give at most one of date, week and month".to_string())),
    }
}

/// `GET /api/daily_papers`.
pub async fn daily_papers(State(st): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let result = async {
        let q = QueryString::parse(raw.as_deref())?;
        let period = requested_period(&q)?;
        let category = q.category()?;
        let sort = q.sort()?;
        let code_only = has_code(&q)?;
        let page = q.page()?;
        let limit = q.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
        let skip = offset(page, limit)?;
        // Without a period, `sort=trending` is Hugging Face's Trending
        // Papers: the code-trending view, papers of any age (up to the
        // server's limit) by stars gained this week.
        let (period, data) = if period.is_none() && sort == FeedSort::Trending {
            let query =
                FeedQuery { category: category.clone(), has_code: true, offset: skip, limit, ..FeedQuery::default() };
            (None, st.store.code_trending(&query).await?)
        } else {
            let slice = Slice { category: category.clone(), sort, has_code: code_only, offset: skip, limit };
            let Some(listing) = papers::listing(st.store.as_ref(), period, &slice, false, None).await? else {
                return Ok(with_page_headers(json_response(StatusCode::OK, b"[]".to_vec()), 0, None));
            };
            (Some(listing.period), listing.page)
        };
        let now = Utc::now();
        let ranking = &st.config.ranking;
        let items: Vec<DailyPaper<'_>> = data.items.iter().map(|p| DailyPaper::new(p, ranking, now)).collect();
        let body = to_json(&items)?;
        let links = PageLinks {
            base_url: &st.config.base_url,
            period: period.as_ref(),
            category: category.as_deref(),
            sort: q.get("sort").map(|_| sort.as_str()),
            has_code: code_only,
            page,
            limit,
            total: data.total,
        };
        Ok(with_page_headers(json_response(StatusCode::OK, body), data.total, Some(links.header())))
    };
    json_result(result.await)
}

fn with_page_headers(mut response: Response, total: u64, link: Option<String>) -> Response {
    let headers = response.headers_mut();
    headers.insert(X_TOTAL_COUNT.clone(), HeaderValue::from(total));
    if let Some(value) = link.filter(|l| !l.is_empty()).and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LINK, value);
    }
    response
}

/// What the `Link` header of a daily-papers page is built from.
struct PageLinks<'a> {
    base_url: &'a str,
    /// `None`: the code-trending view.
    period: Option<&'a FeedPeriod>,
    category: Option<&'a str>,
    sort: Option<&'static str>,
    has_code: bool,
    page: u32,
    limit: u32,
    total: u64,
}

impl PageLinks<'_> {
    fn url(&self, page: u64) -> String {
        let mut params = Vec::with_capacity(6);
        if let Some(period) = self.period {
            let key = match period {
                FeedPeriod::Day(_) => "date",
                FeedPeriod::Week { .. } => "week",
                FeedPeriod::Month { .. } => "month",
            };
            params.push(format!("{key}={period}"));
        }
        if let Some(c) = self.category {
            params.push(format!("cat={}", percent_encode(c)));
        }
        if let Some(s) = self.sort {
            params.push(format!("sort={s}"));
        }
        if self.has_code {
            params.push("has_code=1".to_string());
        }
        params.push(format!("p={page}&limit={}", self.limit));
        format!("{}/api/daily_papers?{}", self.base_url, params.join("&"))
    }

    /// GitHub-style: `<url>; rel="next", <url>; rel="prev", …`.
    fn header(&self) -> String {
        let page = u64::from(self.page);
        let last = self.total.div_ceil(u64::from(self.limit)).max(1) - 1;
        let mut parts = Vec::with_capacity(4);
        if page < last {
            parts.push(format!("<{}>; rel=\"next\"", self.url(page + 1)));
        }
        if page > 0 {
            parts.push(format!("<{}>; rel=\"prev\"", self.url((page - 1).min(last))));
        }
        parts.push(format!("<{}>; rel=\"first\"", self.url(0)));
        parts.push(format!("<{}>; rel=\"last\"", self.url(last)));
        parts.join(", ")
    }
}

/// `GET /api/papers/{*id}`: the paper object (any spelling of the id), or
/// with a trailing `/similar` its similar papers (the wildcard takes both,
/// since old-style ids contain a slash: `hep-th/9901001/similar`).
pub async fn paper(
    State(st): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Ok(Path(p)) = &path
        && let Some(id) = p.strip_suffix("/similar")
    {
        return json_result(similar(&st, id, raw.as_deref()).await);
    }
    let result = async {
        let (id, _) = parse_id(path)?;
        let stored = st.store.get_paper(&id).await?.ok_or(WebError::UnknownPaper(id))?;
        Ok(json_response(StatusCode::OK, to_json(&ApiPaper::new(&stored, &st.config.ranking, Utc::now()))?))
    };
    json_result(result.await)
}

/// `POST /api/papers/{id}/upvote`: the token's member upvotes the paper.
pub async fn upvote(
    State(st): State<AppState>,
    ApiUser(user): ApiUser,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    json_result(set_vote(&st, &user, path, true).await)
}

/// `DELETE /api/papers/{id}/upvote`: takes the member's upvote back.
pub async fn remove_upvote(
    State(st): State<AppState>,
    ApiUser(user): ApiUser,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    json_result(set_vote(&st, &user, path, false).await)
}

async fn set_vote(
    st: &AppState,
    user: &paperboy_store::User,
    path: Result<Path<String>, PathRejection>,
    voted: bool,
) -> Result<Response, WebError> {
    let Path(raw) = path.map_err(|e| WebError::bad(e.body_text()))?;
    let Some(id) = raw.strip_suffix("/upvote") else {
        return Err(WebError::no_route(&format!("/api/papers/{raw}")));
    };
    let id = PaperId::parse(id)?;
    let vote = papers::set_vote(st.store.as_ref(), user, &id, voted).await?;
    Ok(json_response(StatusCode::OK, to_json(&vote)?))
}

/// `GET /api/papers/{id}/similar?limit=`: an array of paper objects, most
/// similar first.
async fn similar(st: &AppState, raw_id: &str, raw_query: Option<&str>) -> Result<Response, WebError> {
    let id = PaperId::parse(raw_id)?;
    let limit = QueryString::parse(raw_query)?.limit(DEFAULT_SIMILAR_LIMIT, MAX_LIMIT)?;
    let engine = st.search.as_ref().ok_or(WebError::SearchOff)?;
    let Some(papers) = find::similar(engine, st.store.as_ref(), &id, limit as usize).await? else {
        return Err(WebError::UnknownPaper(id));
    };
    let now = Utc::now();
    let items: Vec<ApiPaper<'_>> = papers.iter().map(|p| ApiPaper::new(p, &st.config.ranking, now)).collect();
    Ok(json_response(StatusCode::OK, to_json(&items)?))
}

/// `GET /api/papers/search?q=…&limit=&mode=&cat=&since=&until=&p=`.
pub async fn search(State(st): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let result = async {
        let qs = QueryString::parse(raw.as_deref())?;
        let params = SearchParams::parse(&qs)?;
        let limit = qs.limit(DEFAULT_SEARCH_LIMIT, MAX_LIMIT)?;
        let skip = offset(params.page, limit)?;
        if params.q.is_empty() {
            return Err(WebError::bad("q is required: give the text to search for, e.g. ?q=diffusion"));
        }
        let engine = st.search.as_ref().ok_or(WebError::SearchOff)?;
        let (results, found) =
            find::page(engine, st.store.as_ref(), &params, limit as usize, skip as usize, true).await?;
        let now = Utc::now();
        let items: Vec<SearchItem<'_>> =
            found.iter().map(|(p, h)| SearchItem::new(p, h, &st.config.ranking, now)).collect();
        let mut response =
            with_page_headers(json_response(StatusCode::OK, to_json(&items)?), results.total_estimate as u64, None);
        response.headers_mut().insert(X_SEARCH_MODE.clone(), HeaderValue::from_static(results.mode_used.as_str()));
        Ok(response)
    };
    json_result(result.await)
}
