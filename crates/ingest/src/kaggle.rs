//! The Kaggle "arXiv metadata OAI snapshot": one JSON object a line with
//! `id, submitter, authors, title, comments, journal-ref, doi, report-no,
//! categories, license, abstract, versions, update_date, authors_parsed`.

use std::borrow::Cow;

use paperboy_core::{ArxivId, Paper, PaperId};
use serde::Deserialize;

use crate::ImportOptions;
use crate::authors::{full_name, split_authors};
use crate::dates::{parse_rfc2822, parse_ymd};
use crate::item::{Item, finish};
use crate::jsonl::{LineFormat, json_reason};

/// One line, borrowing every string that has no escapes from the line
/// itself (`Cow`): at a million records, the per-field allocations of owned
/// strings were a visible share of the import's parsing time.
#[derive(Deserialize)]
struct KaggleLine<'a> {
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    authors: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    title: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    comments: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "journal-ref")]
    journal_ref: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    doi: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    categories: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "abstract")]
    abstract_text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    versions: Option<Vec<KaggleVersion<'a>>>,
    #[serde(default, borrow)]
    update_date: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    authors_parsed: Option<Vec<Vec<Option<Cow<'a, str>>>>>,
}

#[derive(Deserialize)]
struct KaggleVersion<'a> {
    #[serde(default, borrow)]
    version: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    created: Option<Cow<'a, str>>,
}

/// The Kaggle snapshot.
///
/// * Authors come from `authors_parsed` (`[keyname, forenames, suffix]`,
///   written "Forenames Keyname Suffix"), else from splitting `authors`.
/// * `version` is the number of the last `versions` entry; `submitted_at`
///   is when v1 was created and `updated_at` when the last version was.
/// * `listed_on` is [`ImportOptions::listed_on`] if given, else the day v1
///   was created (else `update_date`, else today). That is an
///   approximation: arXiv announces a submission on the next weekday (or
///   later, after the daily cut-off and on holidays), and the OAI-PMH
///   harvester will refine it from the announcement data.
pub(crate) struct Kaggle {
    pub(crate) opts: ImportOptions,
}

impl LineFormat for Kaggle {
    fn parse(&mut self, line: &str, line_no: u64) -> Item {
        let loc = || format!("line {line_no}");
        let rec: KaggleLine = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(e) => return Item::rejected(loc(), json_reason(&e)),
        };
        let Some(raw_id) = rec.id.as_deref() else {
            return Item::rejected(loc(), "the record has no \"id\" (an arXiv id such as 0704.0001)");
        };
        let arxiv = match ArxivId::parse(raw_id) {
            Ok(id) => id,
            Err(e) => return Item::rejected(loc(), e.to_string()),
        };
        let versions = rec.versions.unwrap_or_default();
        let v1 = versions.iter().find(|v| v.version.as_deref().map(str::trim) == Some("v1")).or(versions.first());
        let last = versions.last();
        let created = |v: Option<&KaggleVersion<'_>>| v.and_then(|v| v.created.as_deref()).and_then(parse_rfc2822);
        let submitted_at = created(v1);
        let updated_at = created(last);
        let version = last.and_then(|v| v.version.as_deref()).and_then(version_number).or(arxiv.version());
        let listed_on = self
            .opts
            .listed_on
            .or(submitted_at.map(|d| d.date_naive()))
            .or(rec.update_date.as_deref().and_then(parse_ymd))
            .unwrap_or(self.opts.today);

        let authors = match rec.authors_parsed {
            Some(parsed) if !parsed.is_empty() => parsed
                .iter()
                .map(|parts| {
                    let part = |i: usize| parts.get(i).and_then(|p| p.as_deref()).unwrap_or("");
                    full_name(part(1), part(0), part(2))
                })
                .collect(),
            _ => rec.authors.as_deref().map(split_authors).unwrap_or_default(),
        };

        let owned = |s: Option<Cow<'_, str>>| s.map(Cow::into_owned);
        let mut paper = Paper::new(PaperId::from(arxiv), owned(rec.title).unwrap_or_default(), listed_on);
        paper.version = version;
        paper.authors = authors;
        paper.abstract_text = owned(rec.abstract_text).unwrap_or_default();
        paper.categories = owned(rec.categories).into_iter().collect();
        paper.submitted_at = submitted_at;
        paper.updated_at = updated_at;
        paper.comment = owned(rec.comments);
        paper.journal_ref = owned(rec.journal_ref);
        paper.doi = owned(rec.doi);
        finish(paper, loc)
    }
}

/// `"v3"` to 3.
pub(crate) fn version_number(v: &str) -> Option<u32> {
    let v = v.trim();
    v.strip_prefix(['v', 'V'])?.parse().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn version_numbers() {
        assert_eq!(version_number("v1"), Some(1));
        assert_eq!(version_number(" v12 "), Some(12));
        assert_eq!(version_number("v0"), None);
        assert_eq!(version_number("12"), None);
        assert_eq!(version_number("vx"), None);
    }

    #[test]
    fn authors_fall_back_to_the_string_and_dates_to_update_date() {
        let mut k =
            Kaggle { opts: ImportOptions { listed_on: None, today: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() } };
        let line = r#"{"id":"0704.0002","authors":"Ileana Streinu and Louis Theran","title":"Sparsity-certifying Graph Decompositions","categories":"math.CO cs.CG","abstract":"x","versions":[],"update_date":"2008-12-13","authors_parsed":[]}"#;
        match k.parse(line, 2) {
            Item::Paper(p) => {
                assert_eq!(p.authors, vec!["Ileana Streinu", "Louis Theran"]);
                assert_eq!(p.listed_on, NaiveDate::from_ymd_opt(2008, 12, 13).unwrap());
                assert_eq!(p.version, None);
                assert_eq!(p.categories, vec!["math.CO", "cs.CG"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
