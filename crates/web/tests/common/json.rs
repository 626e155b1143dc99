//! The JSON API's shapes: the keys of a paper and of a daily-papers item,
//! and key sets to compare them with.

use std::collections::BTreeSet;

use serde_json::Value;

pub const ITEM_KEYS: &[&str] =
    &["paper", "title", "summary", "publishedAt", "submittedOnDailyAt", "numComments", "thumbnail", "upvotes"];

pub const PAPER_KEYS: &[&str] = &[
    "id",
    "title",
    "summary",
    "authors",
    "publishedAt",
    "updatedAt",
    "listedOn",
    "upvotes",
    "submittedBy",
    "categories",
    "primaryCategory",
    "version",
    "comment",
    "journalRef",
    "doi",
    "githubRepo",
    "githubStars",
    "trending",
    "projectPage",
    "withdrawn",
    "arxivUrl",
    "pdfUrl",
];

pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}
