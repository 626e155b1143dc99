//! The digest and the confirmation mail as values, and their two renderings:
//! HTML with inline CSS in a single-column table layout (what Gmail,
//! Outlook and Apple Mail all render the same), and a plain-text alternative
//! with the same content and links. A digest opens with the member's own
//! recommendations ("Recommended for you", each paper with its reason line)
//! when it carries them, then the trending papers, then one section per
//! saved search and followed category.
//!
//! All text is escaped by maud; nothing here goes into a header.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use paperboy_core::text::trim_to_words;
use paperboy_store::StoredPaper;

/// Characters of an abstract shown in a digest.
pub const ABSTRACT_CHARS: usize = 280;
/// Authors named before "et al.".
const AUTHORS_SHOWN: usize = 4;

/// One paper as a digest shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestPaper {
    pub id: String,
    pub title: String,
    pub authors: String,
    pub abstract_text: String,
    pub upvotes: i64,
    /// Absolute link to the paper's page on the site.
    pub url: String,
    /// Why it was recommended (`Like: …`), for the papers of the
    /// "Recommended for you" section; `None` elsewhere.
    pub reason: Option<String>,
}

impl DigestPaper {
    pub fn from_stored(p: &StoredPaper, base_url: &str) -> Self {
        let authors = &p.paper.authors;
        let mut names = authors.iter().take(AUTHORS_SHOWN).cloned().collect::<Vec<_>>().join(", ");
        if authors.len() > AUTHORS_SHOWN {
            names.push_str(" et al.");
        }
        DigestPaper {
            id: p.paper.id.to_string(),
            title: p.paper.title.clone(),
            authors: names,
            abstract_text: trim_to_words(&p.paper.abstract_text, ABSTRACT_CHARS),
            upvotes: p.upvotes,
            url: format!("{base_url}/papers/{}", p.paper.id),
            reason: None,
        }
    }

    /// A recommended paper, shown with the reason it was picked.
    pub fn recommended(p: &StoredPaper, reason: &str, base_url: &str) -> Self {
        DigestPaper { reason: Some(reason.to_string()), ..DigestPaper::from_stored(p, base_url) }
    }
}

/// A titled list of papers: a saved search or a followed category.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub title: String,
    /// Where to see more on the site (the search or the category feed).
    pub more_url: String,
    pub papers: Vec<DigestPaper>,
}

/// One subscriber's digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub site_name: String,
    pub base_url: String,
    /// `Friday 27 November 2026` or `Week of 23 November 2026`.
    pub period_label: String,
    /// The member's own recommendations, best first, each with its reason
    /// (empty for a digest of trending papers only).
    pub recommended: Vec<DigestPaper>,
    pub trending: Vec<DigestPaper>,
    pub sections: Vec<Section>,
    pub manage_url: String,
    pub unsubscribe_url: String,
}

impl Digest {
    /// No paper anywhere: such a digest is not sent.
    pub fn is_empty(&self) -> bool {
        self.recommended.is_empty() && self.trending.is_empty() && self.sections.iter().all(|s| s.papers.is_empty())
    }

    /// What the digest is, in the subject and under the title: it says
    /// "recommended for you" whenever the digest carries recommendations.
    fn headline(&self) -> &'static str {
        match (self.recommended.is_empty(), self.trending.is_empty()) {
            (true, _) => "trending papers",
            (false, true) => "papers recommended for you",
            (false, false) => "recommended for you and trending papers",
        }
    }

    pub fn subject(&self) -> String {
        format!("{}: {}, {}", self.site_name, self.headline(), self.period_label)
    }

    /// The line under the title.
    fn subtitle(&self) -> &'static str {
        match (self.recommended.is_empty(), self.trending.is_empty()) {
            (true, _) => "Trending research papers",
            (false, true) => "Recommended for you",
            (false, false) => "Recommended for you and trending research papers",
        }
    }

    /// Where the member sees more recommendations on the site.
    fn for_you_url(&self) -> String {
        format!("{}/for-you", self.base_url)
    }

    pub fn html(&self) -> String {
        let body = html! {
            h1 style=(H1) { (self.site_name) }
            p style=(MUTED) { (self.subtitle()) " · " (self.period_label) }
            @if !self.recommended.is_empty() {
                h2 style=(H2) { "Recommended for you" }
                @for p in &self.recommended { (paper_html(p)) }
                p style=(SMALL) { a href=(self.for_you_url()) style=(LINK) { "More for you on " (self.site_name) " →" } }
            }
            @if !self.trending.is_empty() {
                h2 style=(H2) { "Trending" }
                @for p in &self.trending { (paper_html(p)) }
            }
            @for s in self.sections.iter().filter(|s| !s.papers.is_empty()) {
                h2 style=(H2) { (s.title) }
                @for p in &s.papers { (paper_html(p)) }
                p style=(SMALL) { a href=(s.more_url) style=(LINK) { "More on " (self.site_name) " →" } }
            }
            hr style="border:none;border-top:1px solid #e5e7eb;margin:24px 0;";
            p style=(SMALL) {
                "You get this because you subscribed at " a href=(self.base_url) style=(LINK) { (self.base_url) } ". "
                a href=(self.manage_url) style=(LINK) { "Manage your subscription" } " · "
                a href=(self.unsubscribe_url) style=(LINK) { "Unsubscribe" }
            }
        };
        frame(&self.subject(), body)
    }

    pub fn text(&self) -> String {
        let mut t = format!("{}\n{} · {}\n\n", self.site_name, self.subtitle(), self.period_label);
        if !self.recommended.is_empty() {
            t.push_str("RECOMMENDED FOR YOU\n\n");
            for p in &self.recommended {
                paper_text(&mut t, p);
            }
            t.push_str(&format!("More for you: {}\n\n", self.for_you_url()));
        }
        if !self.trending.is_empty() {
            t.push_str("TRENDING\n\n");
            for p in &self.trending {
                paper_text(&mut t, p);
            }
        }
        for s in self.sections.iter().filter(|s| !s.papers.is_empty()) {
            t.push_str(&s.title.to_uppercase());
            t.push_str("\n\n");
            for p in &s.papers {
                paper_text(&mut t, p);
            }
            t.push_str(&format!("More: {}\n\n", s.more_url));
        }
        t.push_str(&format!(
            "-- \nYou get this because you subscribed at {}.\nManage your subscription: {}\nUnsubscribe: {}\n",
            self.base_url, self.manage_url, self.unsubscribe_url
        ));
        t
    }
}

/// The double opt-in mail.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmMail {
    pub site_name: String,
    pub base_url: String,
    pub confirm_url: String,
    pub hours_valid: i64,
}

impl ConfirmMail {
    pub fn subject(&self) -> String {
        format!("Confirm your {} subscription", self.site_name)
    }

    pub fn html(&self) -> String {
        let body = html! {
            h1 style=(H1) { (self.site_name) }
            p { "Someone, hopefully you, asked for trending research papers from "
                a href=(self.base_url) style=(LINK) { (self.base_url) } " by email." }
            p { a href=(self.confirm_url) style=(BUTTON) { "Confirm my subscription" } }
            p style=(SMALL) { "The link works for " (self.hours_valid) " hours. If you did not ask, ignore this mail: "
                "nothing will be sent to you." }
        };
        frame(&self.subject(), body)
    }

    pub fn text(&self) -> String {
        format!(
            "{}\n\nSomeone, hopefully you, asked for trending research papers from {} by email.\n\n\
             Confirm your subscription: {}\n\nThe link works for {} hours. If you did not ask, ignore this mail: \
             nothing will be sent to you.\n",
            self.site_name, self.base_url, self.confirm_url, self.hours_valid
        )
    }
}

/// An account mail (email verification, password reset): one link.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkMail {
    pub site_name: String,
    pub subject: String,
    pub intro: String,
    pub button: String,
    pub url: String,
}

impl LinkMail {
    pub fn html(&self) -> String {
        let body = html! {
            h1 style=(H1) { (self.site_name) }
            p { (self.intro) }
            p { a href=(self.url) style=(BUTTON) { (self.button) } }
            p style=(SMALL) { "Or paste this address into your browser: " (self.url) }
        };
        frame(&self.subject, body)
    }

    pub fn text(&self) -> String {
        format!("{}\n\n{}\n\n{}: {}\n", self.site_name, self.intro, self.button, self.url)
    }
}

const H1: &str = "font-size:22px;margin:0 0 4px 0;color:#111827;";
const H2: &str = "font-size:17px;margin:24px 0 8px 0;color:#111827;border-bottom:2px solid #f59e0b;padding-bottom:4px;";
const MUTED: &str = "color:#6b7280;margin:0 0 16px 0;font-size:14px;";
const SMALL: &str = "color:#6b7280;font-size:12px;line-height:1.5;";
const LINK: &str = "color:#1d4ed8;text-decoration:underline;";
const BUTTON: &str = "display:inline-block;background:#1d4ed8;color:#ffffff;padding:10px 18px;border-radius:6px;\
                      text-decoration:none;font-weight:bold;";

/// The outer table every mail shares: 600 px wide, centred, system fonts.
fn frame(title: &str, content: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
            }
            body style="margin:0;padding:0;background:#f3f4f6;" {
                table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"
                    style="background:#f3f4f6;" {
                    tr { td align="center" style="padding:16px;" {
                        table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0"
                            style="max-width:600px;width:100%;background:#ffffff;border-radius:8px;" {
                            tr { td style="padding:24px;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;\
                                           font-size:15px;line-height:1.5;color:#1f2937;" {
                                (content)
                            } }
                        }
                    } }
                }
            }
        }
    }
    .into_string()
}

fn paper_html(p: &DigestPaper) -> Markup {
    html! {
        table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 16px 0;" {
            tr {
                td width="48" valign="top" style="font-size:13px;color:#6b7280;text-align:center;padding-top:2px;" {
                    (PreEscaped("&#9650;")) br; strong style="color:#111827;" { (p.upvotes) }
                }
                td valign="top" {
                    a href=(p.url) style="font-size:16px;font-weight:bold;color:#111827;text-decoration:none;" { (p.title) }
                    @if let Some(reason) = &p.reason {
                        div style="font-size:13px;color:#92400e;margin:2px 0;font-style:italic;" { (reason) }
                    }
                    @if !p.authors.is_empty() {
                        div style="font-size:13px;color:#4b5563;margin:2px 0;" { (p.authors) }
                    }
                    div style="font-size:14px;color:#374151;" { (p.abstract_text) }
                }
            }
        }
    }
}

fn paper_text(out: &mut String, p: &DigestPaper) {
    let votes = if p.upvotes == 1 { "1 vote".to_string() } else { format!("{} votes", p.upvotes) };
    out.push_str(&format!("* {} ({votes})\n", p.title));
    if let Some(reason) = &p.reason {
        out.push_str(&format!("  {reason}\n"));
    }
    if !p.authors.is_empty() {
        out.push_str(&format!("  {}\n", p.authors));
    }
    out.push_str(&format!("  {}\n  {}\n\n", p.abstract_text, p.url));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper(title: &str) -> DigestPaper {
        DigestPaper {
            id: "2611.00001".into(),
            title: title.into(),
            authors: "Ada Lovelace, Alan Turing".into(),
            abstract_text: "We show things.".into(),
            upvotes: 3,
            url: "https://p.example/papers/2611.00001".into(),
            reason: None,
        }
    }

    fn digest() -> Digest {
        Digest {
            site_name: "Paperboy".into(),
            base_url: "https://p.example".into(),
            period_label: "Friday 27 November 2026".into(),
            recommended: vec![],
            trending: vec![paper("Attention <is> all")],
            sections: vec![Section {
                title: "Search: diffusion".into(),
                more_url: "https://p.example/search?q=diffusion".into(),
                papers: vec![],
            }],
            manage_url: "https://p.example/subscription/m-1".into(),
            unsubscribe_url: "https://p.example/unsubscribe/u-1".into(),
        }
    }

    #[test]
    fn both_renderings_carry_the_papers_and_links_and_escape_text() {
        let d = digest();
        let html = d.html();
        assert!(html.contains("Attention &lt;is&gt; all"));
        assert!(html.contains("https://p.example/unsubscribe/u-1"));
        assert!(html.contains("style="), "inline CSS");
        assert!(!html.contains("Search: diffusion"), "empty sections are left out");
        let text = d.text();
        assert!(text.contains("* Attention <is> all (3 votes)"));
        assert!(text.contains("Unsubscribe: https://p.example/unsubscribe/u-1"));
    }

    #[test]
    fn a_digest_without_papers_is_empty() {
        let mut d = digest();
        assert!(!d.is_empty());
        d.trending.clear();
        assert!(d.is_empty());
        d.sections[0].papers.push(paper("x"));
        assert!(!d.is_empty());
        d.sections[0].papers.clear();
        d.recommended.push(paper("y"));
        assert!(!d.is_empty(), "recommendations alone make a digest");
    }

    #[test]
    fn recommendations_come_first_with_their_reasons_and_name_the_subject() {
        let mut d = digest();
        assert_eq!(d.subject(), "Paperboy: trending papers, Friday 27 November 2026");
        let mut pick = paper("Sparse <experts>");
        pick.reason = Some("Like: Mixture & routing".into());
        d.recommended.push(pick);
        assert_eq!(d.subject(), "Paperboy: recommended for you and trending papers, Friday 27 November 2026");
        let html = d.html();
        let (rec, trend) = (html.find("Recommended for you</h2>").unwrap(), html.find("Trending</h2>").unwrap());
        assert!(rec < trend, "recommendations before the trending list");
        assert!(html.contains("Like: Mixture &amp; routing"), "the reason line, escaped");
        assert!(html.contains("https://p.example/for-you"));
        let text = d.text();
        assert!(
            text.contains("RECOMMENDED FOR YOU\n\n* Sparse <experts> (3 votes)\n  Like: Mixture & routing\n"),
            "{text}"
        );
        assert!(text.find("RECOMMENDED FOR YOU").unwrap() < text.find("TRENDING").unwrap());
        d.trending.clear();
        assert_eq!(d.subject(), "Paperboy: papers recommended for you, Friday 27 November 2026");
        assert!(!d.html().contains("Trending</h2>") && !d.text().contains("TRENDING"));
    }
}
