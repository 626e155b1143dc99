//! The code-trending view, `/trending` (and its Atom feed,
//! `/trending/feed.atom`): papers of any age up to `max_age_days` (180 by
//! default) that have a code repository, most stars gained this week first,
//! like Hugging Face's Trending Papers (docs/RANKING.md, "The code-trending
//! view"). `?cat=` narrows it to a category, `?p=` pages it. Every card
//! shows its repository, its stars and why it is here.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::html;
use paperboy_services::papers::Marks;
use paperboy_store::{FeedPage, FeedQuery};

use crate::dates::last_change;
use crate::error::{WebError, html_result};
use crate::feeds::{FEED_ITEMS, FeedMeta, atom};
use crate::links::FeedKind;
use crate::pages::feed::{Around, CardMarks, list_item, marks_among};
use crate::pages::html_response;
use crate::pages::layout::{FeedLinks, Head, Nav, page};
use crate::params::{QueryString, offset, percent_encode};
use crate::signals::Explained;
use crate::{AppState, WebSettings};

/// The options of the view.
#[derive(Debug, Default)]
struct TrendingParams {
    cat: Option<String>,
    page: u32,
}

impl TrendingParams {
    fn parse(raw: Option<&str>) -> Result<Self, WebError> {
        let q = QueryString::parse(raw)?;
        Ok(TrendingParams { cat: q.category()?, page: q.page()? })
    }

    /// `path?cat=…&p=…` with what is set.
    fn url(&self, path: &str, cat: Option<&str>, page: u32) -> String {
        let mut url = path.to_string();
        let mut sep = '?';
        if let Some(c) = cat {
            url.push(sep);
            url.push_str("cat=");
            url.push_str(&percent_encode(c));
            sep = '&';
        }
        if page > 0 {
            url.push(sep);
            url.push_str(&format!("p={page}"));
        }
        url
    }
}

/// The view's store query.
fn query(params: &TrendingParams, offset: u32, limit: u32) -> FeedQuery {
    FeedQuery { category: params.cat.clone(), has_code: true, offset, limit, ..FeedQuery::default() }
}

/// `GET /trending`.
pub async fn show(State(st): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let result = async {
        let params = TrendingParams::parse(raw.as_deref())?;
        let size = st.config.page_size.max(1);
        let data = st.store.code_trending(&query(&params, offset(params.page, size)?, size)).await?;
        let marks = marks_among(&st, &data.items).await?;
        Ok(html_response(StatusCode::OK, render(&st.config, &params, &data, &marks)))
    };
    html_result(&st.config, result.await)
}

fn render(config: &WebSettings, params: &TrendingParams, data: &FeedPage, marks: &Marks) -> String {
    let size = u64::from(config.page_size.max(1));
    let page_no = u64::from(params.page);
    let pages = data.total.div_ceil(size).max(1);
    let first_rank = page_no * size + 1;
    let here = params.url("/trending", params.cat.as_deref(), params.page);
    let chip = |c: &str| params.url("/trending", Some(c), 0);
    let around = Around { chip_url: &chip, back: &here };
    let now = Utc::now();
    let days = config.max_age_days;
    let body = html! {
        section.period-head {
            h1 { "Trending code" }
            p.summary {
                "Papers of the last " (days) " days with a code repository, most GitHub stars gained this week first. "
                strong.count { (data.total) } " " (if data.total == 1 { "paper" } else { "papers" })
                @if let Some(c) = &params.cat {
                    " in " span.chip.current { (c) } " · " a href="/trending" { "all categories" }
                }
            }
        }
        @if data.items.is_empty() {
            section.empty {
                @if data.total == 0 {
                    p {
                        "No papers with a known repository yet. Repositories and their stars come from the GitHub signal job ("
                        code { "paperboy signals fetch --source github" } ")."
                    }
                } @else {
                    p { "There is no page " (page_no + 1) " here." }
                    p { a href=(params.url("/trending", params.cat.as_deref(), 0)) { "← Back to the first page" } }
                }
            }
        } @else {
            ol.papers start=(first_rank) {
                @for (i, item) in data.items.iter().enumerate() {
                    (list_item(item, first_rank + i as u64, &CardMarks::of(marks, &item.paper.id), &Explained::of(item, &config.ranking, now), &around))
                }
            }
        }
        @if pages > 1 || page_no > 0 {
            nav.pages aria-label="Pages" {
                @if page_no > 0 {
                    a.prev rel="prev" href=(params.url("/trending", params.cat.as_deref(), (params.page - 1).min(pages as u32 - 1))) { "← Previous page" }
                }
                span.where { "Page " (page_no + 1) " of " (pages) }
                @if page_no + 1 < pages {
                    a.next rel="next" href=(params.url("/trending", params.cat.as_deref(), params.page + 1)) { "Next page →" }
                }
            }
        }
    };
    let atom_url = params.url("/trending/feed.atom", params.cat.as_deref(), 0);
    let head = Head {
        title: "Trending code",
        description: Some("Papers whose code is gaining the most GitHub stars this week."),
        canonical: Some(format!("{}{here}", config.base_url)),
        feeds: Some(FeedLinks { atom: atom_url, rss: None }),
        noindex: false,
    };
    let nav = Nav { active: Some("trending"), ..Nav::default() };
    page(config, &head, &nav, body)
}

/// `GET /trending/feed.atom`: the first [`FEED_ITEMS`] of the view.
pub async fn feed_atom(State(st): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let result = async {
        let params = TrendingParams::parse(raw.as_deref())?;
        let data = st.store.code_trending(&query(&params, 0, FEED_ITEMS)).await?;
        let base = st.config.base_url.as_str();
        let site = st.config.site_name.as_str();
        let title = match &params.cat {
            Some(c) => format!("{site}: trending code · {c}"),
            None => format!("{site}: trending code"),
        };
        let meta = FeedMeta {
            title,
            subtitle: "Papers whose code is gaining the most GitHub stars this week".to_string(),
            html_url: format!("{base}{}", params.url("/trending", params.cat.as_deref(), 0)),
            self_url: format!("{base}{}", params.url("/trending/feed.atom", params.cat.as_deref(), 0)),
            updated: data.items.iter().map(|i| last_change(&i.paper)).max().unwrap_or_else(Utc::now),
            base_url: base.to_string(),
            site_name: site.to_string(),
        };
        Ok(([(header::CONTENT_TYPE, FeedKind::Atom.content_type())], atom(&meta, &data.items)).into_response())
    };
    html_result(&st.config, result.await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_its_urls() {
        let p = TrendingParams::parse(Some("cat=cs.CV&p=2")).unwrap();
        assert_eq!(p.url("/trending", p.cat.as_deref(), p.page), "/trending?cat=cs.CV&p=2");
        assert_eq!(p.url("/trending/feed.atom", None, 0), "/trending/feed.atom");
        assert!(TrendingParams::parse(Some("cat=%3C")).is_err());
        let q = query(&p, 60, 30);
        assert!(q.has_code && q.offset == 60 && q.limit == 30);
    }
}
