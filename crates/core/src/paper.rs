//! The paper record and the rules that keep it tidy: whitespace normalised,
//! categories de-duplicated with the primary first, code and project links
//! found in the comment or abstract, and a content fingerprint so that
//! re-importing the same record is recognised as "unchanged".

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::id::{PaperId, fnv1a64};
use crate::text::normalize_ws_in_place;

/// Longest title we accept; arXiv's own limit is far below this.
pub const MAX_TITLE_CHARS: usize = 1_000;
/// Longest abstract we accept (arXiv allows 1,920 characters; old records and
/// other sources run longer, so leave generous room).
pub const MAX_ABSTRACT_CHARS: usize = 20_000;

/// Links that belong to a paper besides arXiv's own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperLinks {
    /// A code repository (GitHub, GitLab, ...).
    pub code: Option<String>,
    /// A project page.
    pub project: Option<String>,
}

/// One paper in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paper {
    pub id: PaperId,
    /// Latest known arXiv version (`None` when the source does not say).
    pub version: Option<u32>,
    pub title: String,
    /// Author names in the order the paper gives them.
    pub authors: Vec<String>,
    #[serde(rename = "abstract")]
    pub abstract_text: String,
    pub primary_category: Option<String>,
    /// All categories, primary first, cross-lists after, no duplicates.
    pub categories: Vec<String>,
    /// When version 1 was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When the latest version was submitted.
    pub updated_at: Option<DateTime<Utc>>,
    /// The day the paper appears on our feed.
    pub listed_on: NaiveDate,
    pub comment: Option<String>,
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
    pub links: PaperLinks,
    /// Withdrawn by its authors: kept, but marked.
    pub withdrawn: bool,
}

impl Paper {
    /// A paper with just the required fields; fill in the rest, then call
    /// [`Paper::normalize`] and [`Paper::validate`].
    pub fn new(id: PaperId, title: impl Into<String>, listed_on: NaiveDate) -> Self {
        Paper {
            id,
            version: None,
            title: title.into(),
            authors: Vec::new(),
            abstract_text: String::new(),
            primary_category: None,
            categories: Vec::new(),
            submitted_at: None,
            updated_at: None,
            listed_on,
            comment: None,
            journal_ref: None,
            doi: None,
            links: PaperLinks::default(),
            withdrawn: false,
        }
    }

    /// Normalises whitespace everywhere, orders and de-duplicates categories,
    /// drops empty optional fields, and finds code and project links in the
    /// comment and abstract when none were given.
    pub fn normalize(&mut self) {
        normalize_ws_in_place(&mut self.title);
        normalize_ws_in_place(&mut self.abstract_text);
        self.authors.iter_mut().for_each(normalize_ws_in_place);
        self.authors.retain(|a| !a.is_empty());
        for field in [&mut self.comment, &mut self.journal_ref, &mut self.doi] {
            if let Some(s) = field {
                normalize_ws_in_place(s);
            }
            if field.as_deref() == Some("") {
                *field = None;
            }
        }
        let mut cats: Vec<String> = Vec::with_capacity(self.categories.len() + 1);
        let primary = self
            .primary_category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .or_else(|| self.categories.iter().flat_map(|c| c.split_whitespace()).next().map(str::to_string));
        if let Some(p) = &primary {
            cats.push(p.clone());
        }
        for c in self.categories.iter().flat_map(|c| c.split_whitespace()) {
            if !cats.iter().any(|x| x == c) {
                cats.push(c.to_string());
            }
        }
        self.primary_category = primary;
        self.categories = cats;
        if self.withdrawn_by_comment() {
            self.withdrawn = true;
        }
        if self.links.code.is_none() || self.links.project.is_none() {
            let found = find_links(self.comment.as_deref().unwrap_or(""), &self.abstract_text);
            self.links.code = self.links.code.take().or(found.code);
            self.links.project = self.links.project.take().or(found.project);
        }
    }

    fn withdrawn_by_comment(&self) -> bool {
        let c = self.comment.as_deref().unwrap_or("").to_ascii_lowercase();
        c.starts_with("this paper has been withdrawn") || c.starts_with("withdrawn")
    }

    /// Checks the invariants every stored paper satisfies.
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.title.is_empty() {
            return Err(CoreError::InvalidPaper("the title is empty"));
        }
        // No more characters than bytes: count them only when it may matter.
        if self.title.len() > MAX_TITLE_CHARS && self.title.chars().count() > MAX_TITLE_CHARS {
            return Err(CoreError::InvalidPaper("the title is longer than 1,000 characters"));
        }
        if self.abstract_text.len() > MAX_ABSTRACT_CHARS && self.abstract_text.chars().count() > MAX_ABSTRACT_CHARS {
            return Err(CoreError::InvalidPaper("the abstract is longer than 20,000 characters"));
        }
        if self.version == Some(0) {
            return Err(CoreError::InvalidPaper("versions start at 1"));
        }
        Ok(())
    }

    /// The arXiv abstract page, for arXiv papers.
    pub fn abs_url(&self) -> Option<String> {
        self.id.arxiv().map(|id| format!("https://arxiv.org/abs/{id}"))
    }

    /// The arXiv PDF (latest version), for arXiv papers.
    pub fn pdf_url(&self) -> Option<String> {
        self.id.arxiv().map(|id| format!("https://arxiv.org/pdf/{id}"))
    }

    /// A fingerprint of everything a source can tell us about the paper
    /// (not the feed date, which is ours). Equal fingerprints mean a re-import
    /// changes nothing.
    pub fn content_hash(&self) -> u64 {
        // FNV-1a over the fields, each followed by U+001F, written straight
        // into the hasher (the same bytes, and so the same value, as hashing
        // the fields joined into one string).
        use std::fmt::Write as _;
        let mut h = Fnv1a::new();
        let _ = write!(h, "{}", self.id);
        h.field_end();
        if let Some(v) = self.version {
            let _ = write!(h, "{v}");
        }
        h.field_end();
        h.bytes(self.title.as_bytes());
        h.field_end();
        for (i, a) in self.authors.iter().enumerate() {
            if i > 0 {
                h.bytes(&[0x1e]);
            }
            h.bytes(a.as_bytes());
        }
        h.field_end();
        h.bytes(self.abstract_text.as_bytes());
        h.field_end();
        for (i, c) in self.categories.iter().enumerate() {
            if i > 0 {
                h.bytes(b" ");
            }
            h.bytes(c.as_bytes());
        }
        h.field_end();
        for d in [self.submitted_at, self.updated_at] {
            if let Some(d) = d {
                h.bytes(d.to_rfc3339().as_bytes());
            }
            h.field_end();
        }
        for s in [&self.comment, &self.journal_ref, &self.doi, &self.links.code, &self.links.project] {
            h.bytes(s.as_deref().unwrap_or("").as_bytes());
            h.field_end();
        }
        if self.withdrawn {
            h.bytes(b"w");
        }
        h.field_end();
        h.0
    }
}

/// A streaming [`fnv1a64`].
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Fnv1a(fnv1a64(&[]))
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn field_end(&mut self) {
        self.bytes(&[0x1f]);
    }
}

impl std::fmt::Write for Fnv1a {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

const CODE_HOSTS: &[&str] = &["github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "huggingface.co"];

/// Finds the first code-repository URL and the first project-page URL in a
/// comment or abstract.
pub fn find_links(comment: &str, abstract_text: &str) -> PaperLinks {
    let mut links = PaperLinks::default();
    for text in [comment, abstract_text] {
        for start in url_starts(text) {
            let rest = &text[start..];
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '}' | '\\'))
                .unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',', ';', ':', ')', ']', '!', '?']);
            let host = url.split("://").nth(1).unwrap_or("").split('/').next().unwrap_or("");
            let host = host.trim_start_matches("www.").to_ascii_lowercase();
            let path_parts = url.split("://").nth(1).unwrap_or("").split('/').filter(|p| !p.is_empty()).count();
            if CODE_HOSTS.contains(&host.as_str()) && path_parts >= 3 {
                links.code.get_or_insert_with(|| url.to_string());
            } else if !host.is_empty()
                && !CODE_HOSTS.contains(&host.as_str())
                && !host.ends_with("arxiv.org")
                && !host.ends_with("doi.org")
            {
                links.project.get_or_insert_with(|| url.to_string());
            }
        }
    }
    links
}

/// Where each `http://` and `https://` in `text` starts, in order. Found by
/// their `:`, a rare character that `str::find` looks for a word at a time.
fn url_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(i) = text[from..].find(':').map(|i| from + i) {
            from = i + 1;
            if !text[i..].starts_with("://") {
                continue;
            }
            let before = &text.as_bytes()[..i];
            if before.ends_with(b"https") {
                return Some(i - 5);
            }
            if before.ends_with(b"http") {
                return Some(i - 4);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Paper {
        let mut p = Paper::new(
            PaperId::parse("2312.00752").unwrap(),
            " Mamba:\n  Linear-Time Sequence Modeling ",
            NaiveDate::from_ymd_opt(2023, 12, 4).unwrap(),
        );
        p.authors = vec![" Albert  Gu".into(), "".into(), "Tri Dao\n".into()];
        p.abstract_text = "Foundation models, now powering\n most of the exciting applications. Code at https://github.com/state-spaces/mamba.".into();
        p.categories = vec!["cs.LG cs.AI".into(), "cs.LG".into()];
        p.comment = Some("  ".into());
        p
    }

    #[test]
    fn normalize_cleans_every_field() {
        let mut p = sample();
        p.normalize();
        assert_eq!(p.title, "Mamba: Linear-Time Sequence Modeling");
        assert_eq!(p.authors, vec!["Albert Gu", "Tri Dao"]);
        assert_eq!(p.primary_category.as_deref(), Some("cs.LG"));
        assert_eq!(p.categories, vec!["cs.LG", "cs.AI"]);
        assert_eq!(p.comment, None);
        assert_eq!(p.links.code.as_deref(), Some("https://github.com/state-spaces/mamba"));
        assert!(p.validate().is_ok());
        assert_eq!(p.abs_url().unwrap(), "https://arxiv.org/abs/2312.00752");
    }

    #[test]
    fn content_hash_tracks_content_not_feed_date() {
        let mut a = sample();
        a.normalize();
        let mut b = a.clone();
        b.listed_on = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        assert_eq!(a.content_hash(), b.content_hash());
        b.version = Some(2);
        assert_ne!(a.content_hash(), b.content_hash());
    }

    /// The definition [`Paper::content_hash`] streams: stored fingerprints
    /// depend on it staying exactly this.
    fn content_hash_reference(p: &Paper) -> u64 {
        let mut buf = String::new();
        let mut push = |s: &str| {
            buf.push_str(s);
            buf.push('\u{1f}');
        };
        push(&p.id.to_string());
        push(&p.version.map(|v| v.to_string()).unwrap_or_default());
        push(&p.title);
        push(&p.authors.join("\u{1e}"));
        push(&p.abstract_text);
        push(&p.categories.join(" "));
        push(&p.submitted_at.map(|d| d.to_rfc3339()).unwrap_or_default());
        push(&p.updated_at.map(|d| d.to_rfc3339()).unwrap_or_default());
        for s in [&p.comment, &p.journal_ref, &p.doi, &p.links.code, &p.links.project] {
            push(s.as_deref().unwrap_or(""));
        }
        push(if p.withdrawn { "w" } else { "" });
        fnv1a64(buf.as_bytes())
    }

    #[test]
    fn content_hash_is_the_hash_of_the_joined_fields() {
        let mut a = sample();
        a.normalize();
        assert_eq!(a.content_hash(), content_hash_reference(&a));
        let mut b = Paper::new(PaperId::local_from_title("Only a title"), "Only a title", a.listed_on);
        assert_eq!(b.content_hash(), content_hash_reference(&b));
        b.authors = vec!["A".into(), "B C".into()];
        b.categories = vec!["cs.LG".into(), "cs.AI".into()];
        b.updated_at = Some(Utc::now());
        b.submitted_at = b.updated_at;
        b.doi = Some("10.1/x".into());
        b.links.code = Some("https://github.com/a/b".into());
        b.withdrawn = true;
        b.version = Some(12);
        assert_eq!(b.content_hash(), content_hash_reference(&b));
    }

    #[test]
    fn validation_rejects_empty_titles() {
        let mut p = sample();
        p.title = " \n ".into();
        p.normalize();
        assert!(p.validate().is_err());
    }

    #[test]
    fn links_found_in_comments() {
        let l = find_links("Project page: https://mamba.github.io/. Code: https://github.com/a/b", "");
        assert_eq!(l.code.as_deref(), Some("https://github.com/a/b"));
        assert_eq!(l.project.as_deref(), Some("https://mamba.github.io/"));
        let none = find_links("see https://arxiv.org/abs/1234.5678 and https://github.com", "");
        assert_eq!(none, PaperLinks::default());
    }

    #[test]
    fn urls_are_found_wherever_they_start() {
        let text = "é:https://a.io/x httphttp://b.io/ ://c.io :: http:/ https://github.com/a/b/c?u=http://d.io";
        let expected: Vec<usize> = text
            .match_indices("http")
            .map(|(i, _)| i)
            .filter(|&i| text[i..].starts_with("http://") || text[i..].starts_with("https://"))
            .collect();
        assert_eq!(url_starts(text).collect::<Vec<_>>(), expected);
        assert_eq!(expected.len(), 4);
        assert_eq!(url_starts("no links: none").count(), 0);
        let l = find_links("", "Code: https://github.com/a/b/c?u=http://d.io.");
        assert_eq!(l.code.as_deref(), Some("https://github.com/a/b/c?u=http://d.io"));
        assert_eq!(l.project.as_deref(), Some("http://d.io"));
    }

    #[test]
    fn withdrawn_comments_mark_the_paper() {
        let mut p = sample();
        p.comment = Some("This paper has been withdrawn by the author".into());
        p.normalize();
        assert!(p.withdrawn);
    }
}
