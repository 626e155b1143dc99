//! Atom 1.0 and RSS 2.0 versions of every feed view: `/feed.atom` and
//! `/feed.rss` follow the latest day; `/papers/{date|week|month}/{value}/
//! feed.{atom|rss}` follow one period. All accept `?cat=`, `?sort=` and
//! `?has_code=1`.
//! `/search/feed.atom?q=…` follows a search: its newest matches.
//!
//! The XML is written by hand into one `String`: the documents are small
//! and regular, and every piece of text goes through [`escape_into`].

use std::fmt::Write as _;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use paperboy_core::FeedPeriod;
use paperboy_services::papers::{self, Slice};
use paperboy_store::StoredPaper;

use crate::AppState;
use crate::dates::{day_start, last_change, published_at};
use crate::error::{WebError, html_result};
use crate::links::{FeedKind, feed_file_url, paper_path, period_url, root_url};
use crate::pages::feed::{ViewParams, parse_period};
use crate::params::QueryString;
use crate::search::{SearchParams, newest_matches};

/// Papers per feed document (newest first).
pub const FEED_ITEMS: u32 = 100;
/// Matches per search feed (newest listing day first).
pub const SEARCH_FEED_ITEMS: usize = 50;
/// Authors listed per Atom entry; longer lists end with "et al.".
const MAX_AUTHORS: usize = 50;

/// What a feed document says about itself.
#[derive(Debug)]
pub struct FeedMeta {
    pub title: String,
    pub subtitle: String,
    /// The HTML page of the same view (absolute).
    pub html_url: String,
    /// This document's own URL (absolute).
    pub self_url: String,
    pub updated: DateTime<Utc>,
    /// The site's base URL, for links to paper pages.
    pub base_url: String,
    /// Named as the feed's author (Atom requires one when an entry has none).
    pub site_name: String,
}

/// Writes `s` with XML's five special characters escaped, leaving out the
/// characters XML 1.0 does not allow at all (most control characters).
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn atom_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The page of a paper on this site, absolute.
fn paper_url(base_url: &str, p: &StoredPaper) -> String {
    format!("{base_url}{}", paper_path(&p.paper.id))
}

/// An Atom 1.0 document (RFC 4287).
pub fn atom(meta: &FeedMeta, items: &[StoredPaper]) -> String {
    atom_document(meta, items, |_, item| &item.paper.abstract_text)
}

/// An Atom 1.0 document whose entries have their own summaries (the
/// `i`-th item's is `summaries[i]`; the abstract for items past its end).
pub fn atom_with_summaries<'a>(meta: &FeedMeta, items: &'a [StoredPaper], summaries: &'a [String]) -> String {
    atom_document(meta, items, |i, item| summaries.get(i).map_or(&item.paper.abstract_text, |s| s))
}

fn atom_document<'a>(
    meta: &FeedMeta,
    items: &'a [StoredPaper],
    summary: impl Fn(usize, &'a StoredPaper) -> &'a String,
) -> String {
    let mut out = String::with_capacity(1024 + items.len() * 1600);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    element(&mut out, "id", &meta.html_url);
    element(&mut out, "title", &meta.title);
    element(&mut out, "subtitle", &meta.subtitle);
    element(&mut out, "updated", &atom_time(meta.updated));
    link(&mut out, "self", FeedKind::Atom.mime(), &meta.self_url);
    link(&mut out, "alternate", "text/html", &meta.html_url);
    out.push_str("<author>");
    element(&mut out, "name", &meta.site_name);
    out.push_str("</author>\n");
    element(&mut out, "generator", "Paperboy");
    for (i, item) in items.iter().enumerate() {
        let p = &item.paper;
        let page = paper_url(&meta.base_url, item);
        out.push_str("<entry>\n");
        element(&mut out, "id", p.abs_url().as_deref().unwrap_or(&page));
        element(&mut out, "title", &p.title);
        link(&mut out, "alternate", "text/html", &page);
        if let Some(abs) = p.abs_url() {
            link(&mut out, "related", "text/html", &abs);
        }
        element(&mut out, "published", &atom_time(published_at(p)));
        element(&mut out, "updated", &atom_time(last_change(p)));
        for name in p.authors.iter().take(MAX_AUTHORS) {
            out.push_str("<author>");
            element(&mut out, "name", name);
            out.push_str("</author>\n");
        }
        if p.authors.len() > MAX_AUTHORS {
            out.push_str("<author><name>et al.</name></author>\n");
        }
        for c in &p.categories {
            out.push_str("<category term=\"");
            escape_into(&mut out, c);
            out.push_str("\"/>\n");
        }
        out.push_str("<summary type=\"text\">");
        escape_into(&mut out, summary(i, item));
        out.push_str("</summary>\n</entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

fn link(out: &mut String, rel: &str, mime: &str, href: &str) {
    let _ = write!(out, "<link rel=\"{rel}\" type=\"{mime}\" href=\"");
    escape_into(out, href);
    out.push_str("\"/>\n");
}

/// An RSS element whose text readers render as HTML (`description`): the
/// text is HTML-escaped first, then XML-escaped, so that markup inside an
/// imported abstract (`<img src=x onerror=…>`) reaches the reader as text,
/// never as HTML. Atom needs no such step: its text constructs say
/// `type="text"`.
fn html_element(out: &mut String, name: &str, text: &str) {
    let mut html = String::with_capacity(text.len() + 16);
    paperboy_core::text::escape_html(text, &mut html);
    element(out, name, &html);
}

/// An RSS 2.0 document, with an `atom:link rel="self"` as the RSS
/// Advisory Board recommends.
pub fn rss(meta: &FeedMeta, items: &[StoredPaper]) -> String {
    let mut out = String::with_capacity(1024 + items.len() * 1400);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n");
    element(&mut out, "title", &meta.title);
    element(&mut out, "link", &meta.html_url);
    html_element(&mut out, "description", &meta.subtitle);
    element(&mut out, "language", "en");
    element(&mut out, "lastBuildDate", &meta.updated.to_rfc2822());
    element(&mut out, "generator", "Paperboy");
    out.push_str("<atom:link rel=\"self\" type=\"application/rss+xml\" href=\"");
    escape_into(&mut out, &meta.self_url);
    out.push_str("\"/>\n");
    for item in items {
        let p = &item.paper;
        let page = paper_url(&meta.base_url, item);
        out.push_str("<item>\n");
        element(&mut out, "title", &p.title);
        element(&mut out, "link", &page);
        out.push_str("<guid isPermaLink=\"true\">");
        escape_into(&mut out, &page);
        out.push_str("</guid>\n");
        html_element(&mut out, "description", &p.abstract_text);
        element(&mut out, "pubDate", &last_change(p).to_rfc2822());
        if !p.authors.is_empty() {
            element(&mut out, "dc:creator", &crate::pages::feed::short_authors(&p.authors));
        }
        for c in &p.categories {
            element(&mut out, "category", c);
        }
        out.push_str("</item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// Loads the view and writes it as `kind`. `period` is `None` for the
/// latest day.
async fn render(
    st: &AppState,
    period: Option<FeedPeriod>,
    kind: FeedKind,
    q: Option<String>,
) -> Result<Response, WebError> {
    let params = ViewParams::parse(q.as_deref())?;
    let opts = params.opts();
    let slice = Slice {
        category: params.cat.clone(),
        sort: params.sort,
        has_code: params.has_code,
        offset: 0,
        limit: FEED_ITEMS,
    };
    let span = tracing::debug_span!("store.feed", period = ?period, feed = ?kind);
    let listing = crate::metrics::timed(span, papers::listing(st.store.as_ref(), period, &slice, false, None)).await?;
    let (shown, items) = match listing {
        Some(l) => (Some(l.period), l.page.items),
        None => (None, Vec::new()),
    };
    let base = st.config.base_url.as_str();
    let site = st.config.site_name.as_str();
    let label = match (&period, &shown) {
        (Some(p), _) => p.label(),
        (None, Some(p)) => format!("Latest papers ({})", p.label()),
        (None, None) => "Latest papers".to_string(),
    };
    let title = match &params.cat {
        Some(c) => format!("{site}: {label} · {c}"),
        None => format!("{site}: {label}"),
    };
    let html_url = match &period {
        Some(p) => format!("{base}{}", period_url(p, opts, 0)),
        None => format!("{base}{}", root_url(opts)),
    };
    let newest = items.iter().map(|i| last_change(&i.paper)).max();
    let updated = newest.or_else(|| shown.map(|p| day_start(p.start()))).unwrap_or_else(Utc::now);
    let meta = FeedMeta {
        title,
        subtitle: "Trending research papers".to_string(),
        html_url,
        self_url: format!("{base}{}", feed_file_url(period.as_ref(), opts, kind)),
        updated,
        base_url: base.to_string(),
        site_name: site.to_string(),
    };
    let body = match kind {
        FeedKind::Atom => atom(&meta, &items),
        FeedKind::Rss => rss(&meta, &items),
    };
    let mut response = ([(header::CONTENT_TYPE, kind.content_type())], body).into_response();
    if let Some(t) = newest {
        // The newest paper's change: what the document says it was updated.
        response.headers_mut().insert(header::LAST_MODIFIED, crate::conditional::http_date(t));
    }
    Ok(response)
}

async fn period_feed(
    st: AppState,
    period_kind: &str,
    path: Result<Path<String>, PathRejection>,
    kind: FeedKind,
    q: Option<String>,
) -> Response {
    let result = async {
        let period = parse_period(period_kind, path)?;
        render(&st, Some(period), kind, q).await
    };
    html_result(&st.config, result.await)
}

/// `GET /feed.atom`.
pub async fn latest_atom(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    html_result(&st.config, render(&st, None, FeedKind::Atom, q).await)
}

/// `GET /feed.rss`.
pub async fn latest_rss(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    html_result(&st.config, render(&st, None, FeedKind::Rss, q).await)
}

/// `GET /search/feed.atom?q=…&mode=…&cat=…&since=…&until=…`: the newest
/// [`SEARCH_FEED_ITEMS`] matches of a search, so that a feed reader sees
/// new papers as they are listed.
pub async fn search_atom(State(st): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let result = async {
        let params = SearchParams::parse(&QueryString::parse(raw.as_deref())?)?;
        let params = SearchParams { page: 0, ..params };
        if params.q.is_empty() {
            return Err(WebError::bad("q is required: give the search to follow, e.g. /search/feed.atom?q=diffusion"));
        }
        let engine = st.search.as_ref().ok_or(WebError::SearchOff)?;
        let items = newest_matches(engine, st.store.as_ref(), &params, SEARCH_FEED_ITEMS).await?;
        let base = st.config.base_url.as_str();
        let site = st.config.site_name.as_str();
        let mut title = format!("{site}: search \u{201c}{}\u{201d}", params.q);
        if let Some(c) = &params.cat {
            title.push_str(" · ");
            title.push_str(c);
        }
        let meta = FeedMeta {
            title,
            subtitle: "The newest papers matching a search".to_string(),
            html_url: format!("{base}{}", params.url("/search", 0)),
            self_url: format!("{base}{}", params.url("/search/feed.atom", 0)),
            updated: items.iter().map(|i| last_change(&i.paper)).max().unwrap_or_else(Utc::now),
            base_url: base.to_string(),
            site_name: site.to_string(),
        };
        Ok(([(header::CONTENT_TYPE, FeedKind::Atom.content_type())], atom(&meta, &items)).into_response())
    };
    html_result(&st.config, result.await)
}

macro_rules! period_feed_handler {
    ($name:ident, $period:literal, $kind:expr, $doc:literal) => {
        #[doc = $doc]
        pub async fn $name(
            State(st): State<AppState>,
            path: Result<Path<String>, PathRejection>,
            RawQuery(q): RawQuery,
        ) -> Response {
            period_feed(st, $period, path, $kind, q).await
        }
    };
}

period_feed_handler!(day_atom, "day", FeedKind::Atom, "`GET /papers/date/{day}/feed.atom`.");
period_feed_handler!(day_rss, "day", FeedKind::Rss, "`GET /papers/date/{day}/feed.rss`.");
period_feed_handler!(week_atom, "week", FeedKind::Atom, "`GET /papers/week/{week}/feed.atom`.");
period_feed_handler!(week_rss, "week", FeedKind::Rss, "`GET /papers/week/{week}/feed.rss`.");
period_feed_handler!(month_atom, "month", FeedKind::Atom, "`GET /papers/month/{month}/feed.atom`.");
period_feed_handler!(month_rss, "month", FeedKind::Rss, "`GET /papers/month/{month}/feed.rss`.");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_invalid_characters() {
        let mut out = String::new();
        escape_into(&mut out, "<a href=\"x\">&'\u{0}\u{7}ok\n");
        assert_eq!(out, "&lt;a href=&quot;x&quot;&gt;&amp;&apos;ok\n");
    }
}
