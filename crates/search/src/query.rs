//! The search box's query syntax, parsed into a typed [`ParsedQuery`].
//!
//! Supported: plain words, `"quoted phrases"`, field prefixes `ti:` / `abs:` /
//! `au:` (each with a word or a quoted phrase, e.g. `au:"Tri Dao"`), category
//! filters `cat:cs.LG` (exact), `cat:cs.*` and `cat:cs` (a whole archive),
//! exclusions `-term`, `-"a phrase"`, `-field:term`, date filters on the
//! listing day `since:YYYY-MM-DD`, `until:YYYY-MM-DD`, `year:YYYY`, and an
//! arXiv id or URL as the whole query ([`ParsedQuery::direct_id`]).
//!
//! The parser never fails and never panics: anything malformed (an open
//! quote, an empty `ti:`, an unknown `foo:bar`, a stray colon, a lone `-`, a
//! bad date) is read as plain words. Control characters become spaces, the
//! input is cut at [`MAX_QUERY_BYTES`] and at most [`MAX_CLAUSES`] clauses are
//! kept, so hostile input costs bounded work. The words stay raw here; the
//! keyword index runs them through its own analyzer.

use chrono::NaiveDate;
use paperboy_core::PaperId;

/// Longest query (in bytes) that is looked at; the rest is ignored.
pub const MAX_QUERY_BYTES: usize = 2_048;
/// Most clauses (words, phrases, filters) kept from one query.
pub const MAX_CLAUSES: usize = 64;
/// Longest single word or phrase value (in bytes).
const MAX_VALUE_BYTES: usize = 256;

/// Where a clause looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Title, abstract and authors.
    Any,
    Title,
    Abstract,
    Authors,
}

/// A word or a phrase to look for, raw (not yet analysed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    Word(String),
    Phrase(String),
}

impl Text {
    /// The raw text of the word or phrase.
    pub fn as_str(&self) -> &str {
        match self {
            Text::Word(s) | Text::Phrase(s) => s,
        }
    }
}

/// One text clause: something to find in a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub field: Field,
    pub text: Text,
}

/// A category filter. Categories compare case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CategoryFilter {
    /// One category, e.g. `cs.lg`.
    Exact(String),
    /// A whole archive, e.g. `cs` (from `cat:cs` or `cat:cs.*`): the archive
    /// itself and every `cs.XX` category.
    Archive(String),
}

impl CategoryFilter {
    /// The term the keyword index stores for this filter (categories are
    /// indexed together with their archive, lower-cased).
    pub fn index_term(&self) -> &str {
        match self {
            CategoryFilter::Exact(s) | CategoryFilter::Archive(s) => s,
        }
    }
}

/// A parsed search-box query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    /// Positive clauses: plain words are optional (they rank), phrases and
    /// field-prefixed clauses are required.
    pub clauses: Vec<Clause>,
    /// Clauses that must not match (`-term`, `-ti:x`, `-"a b"`).
    pub excluded: Vec<Clause>,
    /// Every one of these must match (`cat:`).
    pub categories: Vec<CategoryFilter>,
    /// None of these may match (`-cat:`).
    pub excluded_categories: Vec<CategoryFilter>,
    /// Listed on or after this day.
    pub since: Option<NaiveDate>,
    /// Listed on or before this day.
    pub until: Option<NaiveDate>,
    /// The whole query was an arXiv id or URL: the site can jump to it.
    pub direct_id: Option<PaperId>,
    /// Part of the query was dropped (too long or too many clauses).
    pub truncated: bool,
}

impl ParsedQuery {
    /// True when the query has nothing that ranks (only filters, or nothing).
    pub fn has_text(&self) -> bool {
        !self.clauses.is_empty()
    }

    /// True when the query asks for nothing at all.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
            && self.excluded.is_empty()
            && self.categories.is_empty()
            && self.excluded_categories.is_empty()
            && self.since.is_none()
            && self.until.is_none()
            && self.direct_id.is_none()
    }

    /// True when anything besides ranking text narrows the results.
    pub fn has_filters(&self) -> bool {
        !(self.excluded.is_empty()
            && self.categories.is_empty()
            && self.excluded_categories.is_empty()
            && self.since.is_none()
            && self.until.is_none()
            && !self.clauses.iter().any(|c| c.field == Field::Authors))
    }

    /// The text to embed for semantic search: the positive words and phrases
    /// about the content (author names are filters, not meaning).
    pub fn semantic_text(&self) -> String {
        let parts: Vec<&str> =
            self.clauses.iter().filter(|c| c.field != Field::Authors).map(|c| c.text.as_str()).collect();
        parts.join(" ")
    }
}

/// Parses a query. Never fails; see the module docs for the syntax.
pub fn parse(input: &str) -> ParsedQuery {
    let mut q = ParsedQuery::default();
    let (cleaned, truncated) = sanitize(input);
    q.truncated = truncated;
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        return q;
    }
    if let Some(id) = direct_id(trimmed) {
        q.direct_id = Some(id);
        return q;
    }
    for (count, raw) in split_tokens(trimmed).into_iter().enumerate() {
        if count >= MAX_CLAUSES {
            q.truncated = true;
            break;
        }
        apply(&mut q, raw);
    }
    q
}

/// Control characters become spaces, curly quotes become straight ones, and
/// the input is cut (on a character boundary) at [`MAX_QUERY_BYTES`].
fn sanitize(input: &str) -> (String, bool) {
    let mut out = String::with_capacity(input.len().min(MAX_QUERY_BYTES));
    let mut truncated = false;
    for c in input.chars() {
        if out.len() + c.len_utf8() > MAX_QUERY_BYTES {
            truncated = true;
            break;
        }
        let c = match c {
            '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{ff02}' => '"',
            c if c.is_control() => ' ',
            c => c,
        };
        out.push(c);
    }
    (out, truncated)
}

/// An arXiv id or URL making up the whole query. Plain numbers, words and
/// anything with spaces are never taken for ids.
fn direct_id(s: &str) -> Option<PaperId> {
    if s.contains(char::is_whitespace) || !s.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let id = PaperId::parse(s).ok()?;
    id.arxiv().is_some().then_some(id)
}

/// One whitespace-separated piece of the query, with quotes kept together.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawToken<'a> {
    negated: bool,
    /// The `xx` of `xx:value`, when there is one.
    field: Option<&'a str>,
    value: &'a str,
    quoted: bool,
    /// The token as typed (for the plain-words fallback).
    whole: &'a str,
}

/// Splits the query into tokens. A `"` opens a phrase that runs to the next
/// `"`; an unclosed quote is dropped and its text read as words.
fn split_tokens(s: &str) -> Vec<RawToken<'_>> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() || is_unicode_space_at(s, i) {
            i += s[i..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let start = i;
        // Scan a prefix up to a quote or whitespace.
        let mut j = i;
        while j < bytes.len() && bytes[j] != b'"' && !is_space_at(s, j) {
            j += s[j..].chars().next().map_or(1, char::len_utf8);
        }
        if j < bytes.len() && bytes[j] == b'"' {
            // A quoted value, possibly after a prefix such as `-`, `au:`, `-ti:`.
            let prefix = &s[start..j];
            match s[j + 1..].find('"') {
                Some(close_rel) => {
                    let close = j + 1 + close_rel;
                    let value = &s[j + 1..close];
                    let end = close + 1;
                    out.push(token_with_prefix(prefix, value, true, &s[start..end]));
                    // Text glued after the closing quote (`"a b"c`) is
                    // scanned as a new token on the next round.
                    i = end;
                }
                None => {
                    // Unbalanced: drop the quote, read the rest as words.
                    if !prefix.is_empty() {
                        out.push(plain(prefix));
                    }
                    for w in s[j + 1..].split(|c: char| c.is_whitespace() || c == '"') {
                        if !w.is_empty() {
                            out.push(plain(w));
                        }
                    }
                    return out;
                }
            }
            continue;
        }
        let word = &s[start..j];
        out.push(token_with_prefix_unquoted(word));
        i = j;
    }
    out
}

fn is_space_at(s: &str, i: usize) -> bool {
    s.as_bytes()[i].is_ascii_whitespace() || is_unicode_space_at(s, i)
}

fn is_unicode_space_at(s: &str, i: usize) -> bool {
    s.is_char_boundary(i) && s[i..].chars().next().is_some_and(char::is_whitespace)
}

fn plain(word: &str) -> RawToken<'_> {
    RawToken { negated: false, field: None, value: word, quoted: false, whole: word }
}

/// `[-][field:]` before a quoted value.
fn token_with_prefix<'a>(prefix: &'a str, value: &'a str, quoted: bool, whole: &'a str) -> RawToken<'a> {
    let (negated, rest) = match prefix.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, prefix),
    };
    let field = if rest.is_empty() {
        None
    } else if let Some(f) = rest.strip_suffix(':') {
        Some(f)
    } else {
        // Something like `abc"x y"`: a word glued to a phrase; `abc` becomes
        // the field so that apply() rejects it and falls back to words.
        Some(rest)
    };
    RawToken { negated, field, value, quoted, whole }
}

fn token_with_prefix_unquoted(word: &str) -> RawToken<'_> {
    let (negated, rest) = match word.strip_prefix('-') {
        Some(r) if !r.is_empty() => (true, r),
        _ => (false, word),
    };
    let (field, value) = match rest.split_once(':') {
        Some((f, v)) => (Some(f), v),
        None => (None, rest),
    };
    RawToken { negated, field, value, quoted: false, whole: word }
}

fn text_field(name: &str) -> Option<Field> {
    match name.to_ascii_lowercase().as_str() {
        "ti" | "title" => Some(Field::Title),
        "abs" | "abstract" => Some(Field::Abstract),
        "au" | "author" | "authors" => Some(Field::Authors),
        _ => None,
    }
}

fn cap(value: &str) -> &str {
    if value.len() <= MAX_VALUE_BYTES {
        return value;
    }
    let mut end = MAX_VALUE_BYTES;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// Adds one token to the query, falling back to plain words when malformed.
fn apply(q: &mut ParsedQuery, t: RawToken<'_>) {
    let value = cap(t.value.trim());
    let text = |v: &str| {
        if t.quoted { Text::Phrase(v.to_string()) } else { Text::Word(v.to_string()) }
    };
    let push = |q: &mut ParsedQuery, clause: Clause| {
        if t.negated {
            q.excluded.push(clause);
        } else {
            q.clauses.push(clause);
        }
    };
    match t.field {
        None => {
            if value.is_empty() || !value.chars().any(char::is_alphanumeric) {
                return; // a lone `-`, `""`, punctuation: nothing to look for
            }
            push(q, Clause { field: Field::Any, text: text(value) });
        }
        Some(name) => {
            let lname = name.to_ascii_lowercase();
            let ok = !value.is_empty()
                && match lname.as_str() {
                    "cat" | "category" => apply_category(q, value, t.negated),
                    "since" if !t.negated => set_date(&mut q.since, value, true),
                    "until" if !t.negated => set_date(&mut q.until, value, false),
                    "year" if !t.negated => apply_year(q, value),
                    _ => match text_field(name) {
                        Some(field) if value.chars().any(char::is_alphanumeric) => {
                            push(q, Clause { field, text: text(value) });
                            true
                        }
                        _ => false,
                    },
                };
            if !ok {
                // Malformed: the whole token as plain words (the analyzer
                // splits it at the punctuation).
                let whole = cap(t.whole.trim_start_matches('-'));
                let words = whole.replace('"', " ");
                if words.chars().any(char::is_alphanumeric) {
                    q.clauses.push(Clause { field: Field::Any, text: Text::Word(words) });
                }
            }
        }
    }
}

fn apply_category(q: &mut ParsedQuery, value: &str, negated: bool) -> bool {
    let v = value.to_ascii_lowercase();
    let (body, archive_only) = match v.strip_suffix(".*") {
        Some(b) => (b.to_string(), true),
        None => (v.trim_end_matches('*').trim_end_matches('.').to_string(), v.ends_with('*')),
    };
    let valid = !body.is_empty()
        && body.len() <= 32
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && body.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && !body.contains("..");
    if !valid || (archive_only && body.contains('.')) {
        return false;
    }
    let f = if body.contains('.') { CategoryFilter::Exact(body) } else { CategoryFilter::Archive(body) };
    if negated {
        q.excluded_categories.push(f);
    } else {
        q.categories.push(f);
    }
    true
}

fn parse_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

/// `since:` keeps the latest bound given, `until:` the earliest, so several
/// bounds intersect.
fn set_date(slot: &mut Option<NaiveDate>, value: &str, is_since: bool) -> bool {
    let Some(d) = parse_date(value) else {
        return false;
    };
    *slot = Some(match *slot {
        Some(old) if is_since => old.max(d),
        Some(old) => old.min(d),
        None => d,
    });
    true
}

fn apply_year(q: &mut ParsedQuery, value: &str) -> bool {
    if value.len() != 4 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(y) = value.parse::<i32>() else {
        return false;
    };
    let (Some(first), Some(last)) = (NaiveDate::from_ymd_opt(y, 1, 1), NaiveDate::from_ymd_opt(y, 12, 31)) else {
        return false;
    };
    set_date(&mut q.since, &first.to_string(), true) && set_date(&mut q.until, &last.to_string(), false)
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    fn words(q: &ParsedQuery) -> Vec<String> {
        q.clauses.iter().map(|c| c.text.as_str().to_string()).collect()
    }

    #[test]
    fn plain_words_and_phrases() {
        let q = parse(r#"state space "linear time" models"#);
        assert_eq!(words(&q), ["state", "space", "linear time", "models"]);
        assert_eq!(q.clauses[2].text, Text::Phrase("linear time".into()));
        assert!(!q.has_filters());
    }

    #[test]
    fn fields_and_filters() {
        let q = parse(r#"au:"Tri Dao" ti:mamba cat:cs.* -cat:cs.CV since:2024-01-02 -transformer"#);
        assert_eq!(q.clauses[0], Clause { field: Field::Authors, text: Text::Phrase("Tri Dao".into()) });
        assert_eq!(q.clauses[1].field, Field::Title);
        assert_eq!(q.categories, [CategoryFilter::Archive("cs".into())]);
        assert_eq!(q.excluded_categories, [CategoryFilter::Exact("cs.cv".into())]);
        assert_eq!(q.since, NaiveDate::from_ymd_opt(2024, 1, 2));
        assert_eq!(q.excluded[0].text, Text::Word("transformer".into()));
    }

    #[test]
    fn malformed_falls_back_to_words() {
        let q = parse("foo:bar ti: :x - \"open quote");
        let w = words(&q);
        assert!(w.contains(&"foo:bar".to_string()), "{w:?}");
        assert!(w.contains(&"open".to_string()), "{w:?}");
        assert!(w.contains(&"quote".to_string()), "{w:?}");
        assert!(q.excluded.is_empty());
    }

    #[test]
    fn direct_ids() {
        assert!(parse("https://arxiv.org/abs/2312.00752v2").direct_id.is_some());
        assert!(parse("2312.00752").direct_id.is_some());
        assert!(parse("mamba 2312.00752").direct_id.is_none());
        assert!(parse("transformer").direct_id.is_none());
    }
}
