//! The paper record and the rules that keep it tidy: whitespace normalised,
//! categories de-duplicated with the primary first, code and project links
//! found in the comment or abstract, and a content fingerprint so that
//! re-importing the same record is recognised as "unchanged".

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::id::{PaperId, fnv1a64};
use crate::text::normalize_ws;

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
        self.title = normalize_ws(&self.title);
        self.abstract_text = normalize_ws(&self.abstract_text);
        self.authors = self.authors.iter().map(|a| normalize_ws(a)).filter(|a| !a.is_empty()).collect();
        for field in [&mut self.comment, &mut self.journal_ref, &mut self.doi] {
            *field = field.as_deref().map(normalize_ws).filter(|s| !s.is_empty());
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
        if self.title.chars().count() > MAX_TITLE_CHARS {
            return Err(CoreError::InvalidPaper("the title is longer than 1,000 characters"));
        }
        if self.abstract_text.chars().count() > MAX_ABSTRACT_CHARS {
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
        let mut buf = String::with_capacity(self.title.len() + self.abstract_text.len() + 256);
        let mut push = |s: &str| {
            buf.push_str(s);
            buf.push('\u{1f}');
        };
        push(&self.id.to_string());
        push(&self.version.map(|v| v.to_string()).unwrap_or_default());
        push(&self.title);
        push(&self.authors.join("\u{1e}"));
        push(&self.abstract_text);
        push(&self.categories.join(" "));
        push(&self.submitted_at.map(|d| d.to_rfc3339()).unwrap_or_default());
        push(&self.updated_at.map(|d| d.to_rfc3339()).unwrap_or_default());
        for s in [&self.comment, &self.journal_ref, &self.doi, &self.links.code, &self.links.project] {
            push(s.as_deref().unwrap_or(""));
        }
        push(if self.withdrawn { "w" } else { "" });
        fnv1a64(buf.as_bytes())
    }
}

const CODE_HOSTS: &[&str] = &["github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "huggingface.co"];

/// Finds the first code-repository URL and the first project-page URL in a
/// comment or abstract.
pub fn find_links(comment: &str, abstract_text: &str) -> PaperLinks {
    let mut links = PaperLinks::default();
    for text in [comment, abstract_text] {
        for (start, _) in text.match_indices("http") {
            let rest = &text[start..];
            if !(rest.starts_with("http://") || rest.starts_with("https://")) {
                continue;
            }
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
    fn withdrawn_comments_mark_the_paper() {
        let mut p = sample();
        p.comment = Some("This paper has been withdrawn by the author".into());
        p.normalize();
        assert!(p.withdrawn);
    }
}
