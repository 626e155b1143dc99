//! JSON-lines importers: the shared line loop (one record a line, bad lines
//! rejected with their line number, the rest imported) and the arXiv JSONL
//! format of `data/arxiv/*.jsonl`:
//! `{"id","title","authors":[..],"abstract","categories":[..],"comment","listing_date"}`.

use std::borrow::Cow;
use std::fmt;

use paperboy_core::{ArxivId, Paper, PaperId};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::ImportOptions;
use crate::authors::split_authors;
use crate::dates::parse_ymd;
use crate::item::{Item, finish};
use crate::lines::{Line, LineReader, bad_utf8_reason, io_reason, too_long_reason};

/// Turns one non-blank line into an item.
pub(crate) trait LineFormat: Send + 'static {
    fn parse(&mut self, line: &str, line_no: u64) -> Item;
}

/// Iterates the records of a JSON-lines input. Blank lines are ignored; a
/// line that cannot be read or parsed is rejected as `line N` and the next
/// line is read. A read error ends the iteration after reporting it.
pub(crate) struct JsonLines<F> {
    lines: LineReader,
    format: F,
    done: bool,
}

impl<F: LineFormat> JsonLines<F> {
    pub(crate) fn new(lines: LineReader, format: F) -> Self {
        JsonLines { lines, format, done: false }
    }
}

impl<F: LineFormat> Iterator for JsonLines<F> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        loop {
            let (no, line) = self.lines.next_line();
            let loc = || format!("line {no}");
            return Some(match line {
                Line::Text(t) if t.trim().is_empty() => continue,
                Line::Text(t) => self.format.parse(t, no),
                Line::BadUtf8 { valid_up_to } => Item::rejected(loc(), bad_utf8_reason(valid_up_to)),
                Line::TooLong => Item::rejected(loc(), too_long_reason()),
                Line::Io(e) => {
                    self.done = true;
                    Item::rejected(loc(), io_reason(&e))
                }
                Line::Eof => {
                    self.done = true;
                    return None;
                }
            });
        }
    }
}

/// The reason for a line serde_json could not turn into a record.
pub(crate) fn json_reason(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("invalid JSON: {e}")
        }
        _ => format!("unexpected JSON content: {e}"),
    }
}

/// A list of names or categories, written either as a JSON array or as one
/// string (`"A. Smith and B. Jones"`, `"cs.LG cs.AI"`).
#[derive(Debug, PartialEq)]
pub(crate) enum Names {
    List(Vec<String>),
    Joined(String),
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Names;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Names, E> {
                Ok(Names::Joined(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Names, E> {
                Ok(Names::Joined(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Names, E> {
                Ok(Names::List(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Names, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(1024));
                while let Some(item) = seq.next_element::<Option<String>>()? {
                    out.extend(item);
                }
                Ok(Names::List(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl Names {
    /// Author names; a single string is split like arXiv's author lists.
    pub(crate) fn into_authors(self) -> Vec<String> {
        match self {
            Names::List(v) => v,
            Names::Joined(s) => split_authors(&s),
        }
    }

    /// Category codes; [`Paper::normalize`] splits space-separated strings.
    pub(crate) fn into_categories(self) -> Vec<String> {
        match self {
            Names::List(v) => v,
            Names::Joined(s) => vec![s],
        }
    }
}

/// One line of arXiv JSONL. Unknown fields are ignored; optional fields may
/// be `null` or missing.
#[derive(Deserialize)]
struct ArxivLine<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    authors: Option<Names>,
    #[serde(default, rename = "abstract")]
    abstract_text: Option<String>,
    #[serde(default)]
    categories: Option<Names>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    journal_ref: Option<String>,
    #[serde(default)]
    doi: Option<String>,
    #[serde(borrow, default)]
    listing_date: Option<Cow<'a, str>>,
}

/// arXiv JSONL. `listed_on` is the record's `listing_date`, else
/// [`ImportOptions::listed_on`], else [`ImportOptions::today`].
pub(crate) struct ArxivJsonl {
    pub(crate) opts: ImportOptions,
}

impl LineFormat for ArxivJsonl {
    fn parse(&mut self, line: &str, line_no: u64) -> Item {
        let loc = || format!("line {line_no}");
        let rec: ArxivLine = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(e) => return Item::rejected(loc(), json_reason(&e)),
        };
        let Some(raw_id) = rec.id.as_deref() else {
            return Item::rejected(loc(), "the record has no \"id\" (an arXiv id such as 2503.11731)");
        };
        let arxiv = match ArxivId::parse(raw_id) {
            Ok(id) => id,
            Err(e) => return Item::rejected(loc(), e.to_string()),
        };
        let listed_on = match rec.listing_date.as_deref() {
            Some(d) => match parse_ymd(d) {
                Some(d) => d,
                None => {
                    return Item::rejected(loc(), format!("listing_date {d:?} is not a date in YYYY-MM-DD form"));
                }
            },
            None => self.opts.listed_on.unwrap_or(self.opts.today),
        };
        let version = arxiv.version();
        let mut paper = Paper::new(PaperId::from(arxiv), rec.title.unwrap_or_default(), listed_on);
        paper.version = version;
        paper.authors = rec.authors.map(Names::into_authors).unwrap_or_default();
        paper.abstract_text = rec.abstract_text.unwrap_or_default();
        paper.categories = rec.categories.map(Names::into_categories).unwrap_or_default();
        paper.comment = rec.comment;
        paper.journal_ref = rec.journal_ref;
        paper.doi = rec.doi;
        finish(paper, loc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn opts() -> ImportOptions {
        ImportOptions { listed_on: None, today: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap() }
    }

    fn paper(item: Item) -> Paper {
        match item {
            Item::Paper(p) => *p,
            other => panic!("expected a paper, got {other:?}"),
        }
    }

    #[test]
    fn names_accept_lists_strings_and_nulls() {
        let v: Names = serde_json::from_str(r#"["A", null, "B"]"#).unwrap();
        assert_eq!(v, Names::List(vec!["A".into(), "B".into()]));
        let v: Names = serde_json::from_str(r#""A and B""#).unwrap();
        assert_eq!(v.into_authors(), vec!["A", "B"]);
        assert!(serde_json::from_str::<Names>("12").is_err());
    }

    #[test]
    fn a_minimal_line_gets_defaults() {
        let mut f = ArxivJsonl { opts: opts() };
        let p = paper(f.parse(
            r#"{"id":"2503.11731v2","title":" T ","authors":"A and B","categories":"cs.CV cs.RO","extra":{"x":1}}"#,
            1,
        ));
        assert_eq!(p.id.to_string(), "2503.11731");
        assert_eq!(p.version, Some(2));
        assert_eq!(p.authors, vec!["A", "B"]);
        assert_eq!(p.primary_category.as_deref(), Some("cs.CV"));
        assert_eq!(p.categories, vec!["cs.CV", "cs.RO"]);
        assert_eq!(p.listed_on, opts().today);
    }

    #[test]
    fn bad_lines_say_why() {
        let mut f = ArxivJsonl { opts: opts() };
        let cases = [
            (r#"{"id": "2503.1"#, "invalid JSON"),
            (r#"[1,2]"#, "unexpected JSON content"),
            (r#"{"title":"x"}"#, "no \"id\""),
            (r#"{"id":"2503.11731","title":"x","listing_date":"2025-02-30"}"#, "listing_date"),
            (r#"{"id":"2503.11731","title":null}"#, "title is empty"),
        ];
        for (line, why) in cases {
            match f.parse(line, 7) {
                Item::Rejected(r) => {
                    assert_eq!(r.location, "line 7");
                    assert!(r.reason.contains(why), "{line}: {}", r.reason);
                }
                other => panic!("{line}: {other:?}"),
            }
        }
    }
}
