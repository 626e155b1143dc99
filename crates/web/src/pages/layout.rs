//! The page frame every HTML page shares: `<head>` (title, description,
//! canonical link, feed discovery links, stylesheet), the header with the
//! search box, the Day / Week / Month / Trending code tabs and the account links (log in /
//! sign up, or the member's For-you link, name and a log-out button, from
//! [`crate::auth::current_viewer`]), the email-digest subscribe box (when
//! mail is set up), and the footer.

use maud::{DOCTYPE, Markup, html};
use paperboy_core::FeedPeriod;

use crate::WebSettings;
use crate::assets::STYLE_URL;
use crate::links::{FeedKind, ViewOpts, feed_file_url, period_url};

/// What goes into `<head>` besides the fixed parts.
#[derive(Debug, Default)]
pub struct Head<'a> {
    /// The page's own title; the site name is appended.
    pub title: &'a str,
    pub description: Option<&'a str>,
    /// Absolute URL of the canonical version of this page.
    pub canonical: Option<String>,
    /// Atom and RSS versions of this page, announced for feed readers.
    pub feeds: Option<FeedLinks>,
    /// Error pages ask search engines not to index them.
    pub noindex: bool,
}

/// The hrefs of a view's Atom and RSS feeds (searches have Atom only).
#[derive(Debug)]
pub struct FeedLinks {
    pub atom: String,
    pub rss: Option<String>,
}

impl FeedLinks {
    pub fn for_view(period: Option<&FeedPeriod>, opts: ViewOpts<'_>) -> Self {
        FeedLinks {
            atom: feed_file_url(period, opts, FeedKind::Atom),
            rss: Some(feed_file_url(period, opts, FeedKind::Rss)),
        }
    }
}

/// Where the Day / Week / Month tabs lead.
#[derive(Debug, Default)]
pub struct Nav<'a> {
    /// The tabs switch to the day, week and month containing this period's
    /// start; without one they lead to the latest day, week and month.
    pub anchor: Option<FeedPeriod>,
    pub opts: ViewOpts<'a>,
    /// `day`, `week`, `month` or `trending`: the tab shown as current.
    pub active: Option<&'static str>,
    /// The text already in the header's search box (on search pages).
    pub query: Option<&'a str>,
}

impl Nav<'_> {
    fn tabs(&self) -> [(&'static str, &'static str, String); 3] {
        match self.anchor {
            Some(p) => {
                let start = p.start();
                [
                    ("day", "Day", period_url(&FeedPeriod::Day(start), self.opts, 0)),
                    ("week", "Week", period_url(&FeedPeriod::week_of(start), self.opts, 0)),
                    ("month", "Month", period_url(&FeedPeriod::month_of(start), self.opts, 0)),
                ]
            }
            None => [
                ("day", "Day", "/papers/date".to_string()),
                ("week", "Week", "/papers/week".to_string()),
                ("month", "Month", "/papers/month".to_string()),
            ],
        }
    }
}

/// Wraps `body` in the site's frame.
pub fn page(config: &WebSettings, head: &Head<'_>, nav: &Nav<'_>, body: Markup) -> String {
    let title = if head.title.is_empty() {
        format!("{} · Trending research papers", config.site_name)
    } else {
        format!("{} · {}", head.title, config.site_name)
    };
    let frame = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                @if let Some(d) = head.description {
                    meta name="description" content=(d);
                }
                @if head.noindex {
                    meta name="robots" content="noindex";
                }
                @if let Some(c) = &head.canonical {
                    link rel="canonical" href=(c);
                }
                @if let Some(f) = &head.feeds {
                    link rel="alternate" type=(FeedKind::Atom.mime()) title=(format!("{title} (Atom)")) href=(f.atom);
                    @if let Some(rss) = &f.rss {
                        link rel="alternate" type=(FeedKind::Rss.mime()) title=(format!("{title} (RSS)")) href=(rss);
                    }
                }
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(STYLE_URL.as_str());
            }
            body {
                header.site {
                    div.wrap {
                        a.brand href="/" {
                            span.logo aria-hidden="true" { "P" }
                            span.name { (config.site_name) }
                        }
                        span.tagline { "Trending research papers" }
                        form.site-search role="search" action="/search" method="get" {
                            label.sr-only for="site-q" { "Search papers" }
                            input #site-q type="search" name="q" value=(nav.query.unwrap_or(""))
                                placeholder="Search papers" autocomplete="off" maxlength="2048";
                            button type="submit" { "Search" }
                        }
                        (account_links())
                        nav.tabs aria-label="Period" {
                            @for (kind, label, href) in nav.tabs() {
                                @if nav.active == Some(kind) {
                                    a.tab.current href=(href) aria-current="page" { (label) }
                                } @else {
                                    a.tab href=(href) { (label) }
                                }
                            }
                            @if nav.active == Some("trending") {
                                a.tab.current href="/trending" aria-current="page" title="Papers whose code gains the most stars this week" { "Trending code" }
                            } @else {
                                a.tab href="/trending" title="Papers whose code gains the most stars this week" { "Trending code" }
                            }
                        }
                    }
                }
                main.wrap { (body) }
                @if config.mail_enabled {
                    aside.subscribe-box.wrap aria-label="Email digest" {
                        // Posts straight to /subscribe. Cached pages carry no
                        // CSRF token, so a visitor's post goes without one and
                        // is handled as anyone's (a confirmation mail first);
                        // a member's page (never cached) carries the member's.
                        form.inline method="post" action="/subscribe" {
                            @if let Some(v) = crate::auth::current_viewer() {
                                input type="hidden" name="csrf" value=(v.csrf());
                            }
                            label for="subscribe-email" { strong { "Get trending papers in your email inbox" } }
                            " "
                            input #subscribe-email type="email" name="email" placeholder="you@example.org"
                                autocomplete="email" maxlength="254";
                            " "
                            button type="submit" { "Subscribe" }
                        }
                    }
                }
                footer.site {
                    div.wrap {
                        a href="/" { "Latest papers" }
                        " · "
                        a href="/api/openapi.json" { "API" }
                        " · "
                        a href="/search" { "Search" }
                        @if let Some(f) = &head.feeds {
                            " · "
                            a href=(f.atom) { "Atom feed" }
                            @if let Some(rss) = &f.rss {
                                " · "
                                a href=(rss) { "RSS feed" }
                            }
                        } @else {
                            " · "
                            a href="/feed.atom" { "Atom feed" }
                            " · "
                            a href="/feed.rss" { "RSS feed" }
                        }
                        span.powered { "Served by " (config.site_name) }
                    }
                }
            }
        }
    };
    frame.into_string()
}

/// The header's account corner. Pages for a logged-in member are never
/// cached (see `cache.rs`), so the CSRF token here reaches only them.
fn account_links() -> Markup {
    let viewer = crate::auth::current_viewer();
    html! {
        div.account {
            @if let Some(v) = viewer {
                a.for-you href="/for-you" { "for you" }
                a href="/papers/submit" { "submit" }
                a href="/reading-list" { "reading list" }
                a.me href="/settings" { (v.user().username) }
                form.inline method="post" action="/logout" {
                    input type="hidden" name="csrf" value=(v.csrf());
                    button.link type="submit" { "log out" }
                }
            } @else {
                a href="/login" { "log in" }
                " / "
                a href="/signup" { "sign up" }
            }
        }
    }
}
