//! The site's URLs in one place: feed pages with their query options,
//! paper pages, feed files, and outside links we are willing to render.

use paperboy_core::{FeedPeriod, FeedSort, PaperId};

use crate::params::percent_encode;

/// The order of the site's feed pages and Atom/RSS feeds when the URL
/// names none (the JSON API keeps `new`, Hugging Face's order by date).
pub const DEFAULT_SORT: FeedSort = FeedSort::Trending;

/// The query options a feed view keeps in its links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewOpts<'a> {
    pub cat: Option<&'a str>,
    pub sort: FeedSort,
    /// Only papers with a code repository (`?has_code=1`).
    pub has_code: bool,
}

impl Default for ViewOpts<'_> {
    fn default() -> Self {
        ViewOpts { cat: None, sort: DEFAULT_SORT, has_code: false }
    }
}

impl ViewOpts<'_> {
    /// Appends `?cat=…&sort=…&has_code=1` (only what differs from the defaults) and,
    /// when non-zero, the page number.
    fn push_query(&self, url: &mut String, page: u32) {
        let mut sep = '?';
        let mut push = |url: &mut String, key: &str, value: &str| {
            url.push(sep);
            url.push_str(key);
            url.push('=');
            url.push_str(&percent_encode(value));
            sep = '&';
        };
        if let Some(cat) = self.cat {
            push(url, "cat", cat);
        }
        if self.sort != DEFAULT_SORT {
            push(url, "sort", self.sort.as_str());
        }
        if self.has_code {
            push(url, "has_code", "1");
        }
        if page > 0 {
            push(url, "p", &page.to_string());
        }
    }
}

/// `/papers/date/2026-03-11?cat=cs.CV&p=1`.
pub fn period_url(period: &FeedPeriod, opts: ViewOpts<'_>, page: u32) -> String {
    let mut url = String::with_capacity(48);
    url.push_str("/papers/");
    url.push_str(&period.path());
    opts.push_query(&mut url, page);
    url
}

/// `/?cat=cs.CV`: the latest day with a view's options.
pub fn root_url(opts: ViewOpts<'_>) -> String {
    let mut url = String::from("/");
    opts.push_query(&mut url, 0);
    url
}

/// The Atom or RSS file of a view: `/papers/week/2026-W11/feed.rss?cat=cs`,
/// or `/feed.atom` for the latest day (`period` is `None`).
pub fn feed_file_url(period: Option<&FeedPeriod>, opts: ViewOpts<'_>, kind: FeedKind) -> String {
    let mut url = String::with_capacity(56);
    if let Some(p) = period {
        url.push_str("/papers/");
        url.push_str(&p.path());
    }
    url.push_str(kind.file_name());
    opts.push_query(&mut url, 0);
    url
}

/// Atom or RSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    Atom,
    Rss,
}

impl FeedKind {
    pub fn file_name(self) -> &'static str {
        match self {
            FeedKind::Atom => "/feed.atom",
            FeedKind::Rss => "/feed.rss",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FeedKind::Atom => "application/atom+xml; charset=utf-8",
            FeedKind::Rss => "application/rss+xml; charset=utf-8",
        }
    }

    /// The MIME type for `<link rel="alternate" type=…>`.
    pub fn mime(self) -> &'static str {
        match self {
            FeedKind::Atom => "application/atom+xml",
            FeedKind::Rss => "application/rss+xml",
        }
    }
}

/// `/papers/2312.00752`, `/papers/hep-th/9901001`, `/papers/pb-…`.
/// Paper ids are made of `[a-z0-9.-/]`, all safe in a path.
pub fn paper_path(id: &PaperId) -> String {
    format!("/papers/{id}")
}

/// `https://doi.org/10.1000/xyz`, with characters that would break the
/// URL percent-encoded (DOIs may contain almost anything).
pub fn doi_url(doi: &str) -> String {
    let mut url = String::from("https://doi.org/");
    for part in doi.trim().split('/') {
        if !url.ends_with('/') {
            url.push('/');
        }
        url.push_str(&percent_encode(part));
    }
    url
}

/// Only plain web links are rendered as `href`s; anything else (for
/// example `javascript:`) stays text.
pub fn is_web_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_view_urls() {
        let day = FeedPeriod::parse_day("2026-03-11").unwrap();
        let opts = ViewOpts { cat: Some("cs.CV"), sort: FeedSort::New, ..ViewOpts::default() };
        assert_eq!(period_url(&day, opts, 2), "/papers/date/2026-03-11?cat=cs.CV&sort=new&p=2");
        assert_eq!(period_url(&day, ViewOpts::default(), 0), "/papers/date/2026-03-11");
        assert_eq!(
            feed_file_url(Some(&day), opts, FeedKind::Rss),
            "/papers/date/2026-03-11/feed.rss?cat=cs.CV&sort=new"
        );
        let top = ViewOpts { cat: None, sort: FeedSort::Top, ..ViewOpts::default() };
        assert_eq!(period_url(&day, top, 0), "/papers/date/2026-03-11?sort=top");
        assert_eq!(feed_file_url(None, ViewOpts::default(), FeedKind::Atom), "/feed.atom");
        let code = ViewOpts { has_code: true, ..opts };
        assert_eq!(period_url(&day, code, 0), "/papers/date/2026-03-11?cat=cs.CV&sort=new&has_code=1");
    }

    #[test]
    fn doi_and_web_urls() {
        assert_eq!(doi_url("10.1000/a b"), "https://doi.org/10.1000/a%20b");
        assert!(is_web_url("https://github.com/a/b"));
        assert!(is_web_url("HTTP://x.org"));
        assert!(!is_web_url("javascript:alert(1)"));
        assert!(!is_web_url("https://x.org/a b"));
        assert!(!is_web_url("ftp"));
    }
}
