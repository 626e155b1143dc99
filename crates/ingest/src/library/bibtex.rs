//! BibTeX as Zotero, Google Scholar, Mendeley, JabRef and DBLP export it.
//!
//! The file is cut into pieces at every line that starts an entry
//! (`@article{`, `@misc(`, …), so an entry with a brace that is never closed
//! is reported and the entries after it are still read. Within a piece:
//! `{…}` and `"…"` values with nested braces, `#` concatenation, `@string`
//! macros and the month macros; `@comment` and `@preamble` are skipped.

use std::collections::HashMap;

use super::{
    LibraryRecord, Rejected, arxiv_from_doi, arxiv_from_url, arxiv_id, arxiv_in_text, display_name, latex, non_empty,
    normalize_doi, year_in,
};

/// If `line` (left-trimmed) starts an entry, its type (lower case).
pub(crate) fn entry_start(line: &str) -> Option<String> {
    let rest = line.strip_prefix('@')?;
    let rest = rest.trim_start();
    let name_len = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
    if name_len == 0 {
        return None;
    }
    let after = rest[name_len..].trim_start();
    if after.starts_with('{') || after.starts_with('(') { Some(rest[..name_len].to_ascii_lowercase()) } else { None }
}

/// Every entry of a BibTeX file: the records read and the entries rejected.
pub(crate) fn parse(text: &str) -> (Vec<LibraryRecord>, Vec<Rejected>) {
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    let mut macros = month_macros();
    for (first_line, piece) in pieces(text) {
        let chars: Vec<char> = piece.chars().collect();
        let mut p = Parser { chars: &chars, pos: 0, line: first_line };
        while let Some(start_line) = p.next_entry() {
            match p.entry(&mut macros) {
                Ok(Entry::Skipped) => {}
                Ok(Entry::Record { key, fields }) => match record(key, &fields) {
                    Ok(r) => records.push(r),
                    Err(why) => rejected.push(Rejected { line: start_line, why }),
                },
                Err(why) => {
                    rejected.push(Rejected { line: start_line, why });
                    // The rest of this piece belongs to the broken entry.
                    break;
                }
            }
        }
    }
    (records, rejected)
}

/// The text cut at the lines that start entries, each with its 1-based first line.
fn pieces(text: &str) -> Vec<(usize, &str)> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if entry_start(line.trim_start()).is_some() {
            starts.push((n + 1, offset));
        }
        offset += line.len();
    }
    let mut out = Vec::with_capacity(starts.len());
    for (i, &(line, start)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(text.len(), |&(_, s)| s);
        out.push((line, &text[start..end]));
    }
    out
}

enum Entry {
    Skipped,
    Record { key: Option<String>, fields: HashMap<String, String> },
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
    /// The line `pos` is on.
    line: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Moves to the next `@` that starts an entry; its line.
    fn next_entry(&mut self) -> Option<usize> {
        while let Some(c) = self.peek() {
            if c == '@' {
                let rest: String = self.chars[self.pos..self.chars.len().min(self.pos + 64)].iter().collect();
                if entry_start(&rest).is_some() {
                    return Some(self.line);
                }
            }
            self.bump();
        }
        None
    }

    fn identifier(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || "_-:.+/'".contains(c) {
                s.push(c);
                self.bump();
            } else {
                break;
            }
        }
        s
    }

    /// One entry, from its `@`.
    fn entry(&mut self, macros: &mut HashMap<String, String>) -> Result<Entry, String> {
        self.bump(); // '@'
        self.skip_ws();
        let kind = self.identifier().to_ascii_lowercase();
        self.skip_ws();
        let close = match self.bump() {
            Some('{') => '}',
            Some('(') => ')',
            _ => return Err(format!("`@{kind}` is not followed by `{{`")),
        };
        match kind.as_str() {
            "comment" | "preamble" => {
                self.skip_balanced(close);
                Ok(Entry::Skipped)
            }
            "string" => {
                let fields = self.fields(close, macros)?;
                macros.extend(fields);
                Ok(Entry::Skipped)
            }
            _ => {
                let key = self.key(close);
                let fields = self.fields(close, macros)?;
                Ok(Entry::Record { key, fields })
            }
        }
    }

    /// Skips to the matching `close` (or the end of the piece).
    fn skip_balanced(&mut self, close: char) {
        let mut depth = 0usize;
        while let Some(c) = self.bump() {
            match c {
                '{' => depth += 1,
                '}' if depth > 0 => depth -= 1,
                c if c == close && depth == 0 => return,
                _ => {}
            }
        }
    }

    /// The citation key, up to the first `,`; none if the entry starts with a field.
    fn key(&mut self, close: char) -> Option<String> {
        let start = (self.pos, self.line);
        let mut key = String::new();
        while let Some(c) = self.peek() {
            if c == ',' || c == close {
                break;
            }
            if c == '=' || c == '{' || c == '"' {
                (self.pos, self.line) = start;
                return None;
            }
            key.push(c);
            self.bump();
        }
        let key = key.trim().to_string();
        if key.is_empty() { None } else { Some(key) }
    }

    /// `name = value, …` up to the closing delimiter. Field names are lower case.
    fn fields(&mut self, close: char, macros: &HashMap<String, String>) -> Result<HashMap<String, String>, String> {
        let mut fields = HashMap::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => {
                    return Err(format!(
                        "the entry never ends: a `{close}` is missing (check that every `{{` in it is closed)"
                    ));
                }
                Some(c) if c == close => {
                    self.bump();
                    return Ok(fields);
                }
                Some(',') => {
                    self.bump();
                    continue;
                }
                _ => {}
            }
            let field_line = self.line;
            let name = self.identifier().to_ascii_lowercase();
            if name.is_empty() {
                let found = self.peek().map(String::from).unwrap_or_default();
                return Err(format!("expected a field name on line {field_line}, found `{found}`"));
            }
            self.skip_ws();
            if self.bump() != Some('=') {
                return Err(format!("the field `{name}` on line {field_line} has no `=`"));
            }
            let value = self.value(&name, field_line, close, macros)?;
            fields.insert(name, value);
        }
    }

    /// A value: parts joined by `#`, each `{…}`, `"…"`, a number or a macro name.
    /// Braces inside are kept (they protect case and group names).
    fn value(
        &mut self,
        name: &str,
        field_line: usize,
        close: char,
        macros: &HashMap<String, String>,
    ) -> Result<String, String> {
        let mut value = String::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some('{') => {
                    self.bump();
                    value.push_str(&self.delimited('}', name, field_line)?);
                }
                Some('"') => {
                    self.bump();
                    value.push_str(&self.delimited('"', name, field_line)?);
                }
                Some(c) if c.is_ascii_digit() => {
                    while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                        value.push(d);
                        self.bump();
                    }
                }
                Some(c) if c.is_alphabetic() => {
                    let word = self.identifier();
                    match macros.get(&word.to_ascii_lowercase()) {
                        Some(text) => value.push_str(text),
                        None => value.push_str(&word),
                    }
                }
                Some(c) if c == close || c == ',' => {
                    return Err(format!("the field `{name}` on line {field_line} has no value"));
                }
                None => return Err(format!("the field `{name}` on line {field_line} never ends")),
                Some(c) => return Err(format!("unexpected `{c}` in the field `{name}` on line {field_line}")),
            }
            self.skip_ws();
            if self.peek() == Some('#') {
                self.bump();
            } else {
                return Ok(value);
            }
        }
    }

    /// The text up to the `end` that closes a value, keeping inner braces.
    fn delimited(&mut self, end: char, name: &str, field_line: usize) -> Result<String, String> {
        let mut depth = 0usize;
        let mut out = String::new();
        let mut escaped = false;
        while let Some(c) = self.bump() {
            if escaped {
                escaped = false;
                out.push(c);
                continue;
            }
            match c {
                '\\' => escaped = true,
                '{' => depth += 1,
                '}' if depth == 0 && end == '}' => return Ok(out),
                '}' if depth == 0 => {
                    return Err(format!("the field `{name}` on line {field_line} closes a `}}` that was never opened"));
                }
                '}' => depth -= 1,
                '"' if end == '"' && depth == 0 => return Ok(out),
                _ => {}
            }
            out.push(c);
        }
        Err(format!("unterminated braces: the field `{name}` on line {field_line} is never closed"))
    }
}

fn month_macros() -> HashMap<String, String> {
    [
        ("jan", "January"),
        ("feb", "February"),
        ("mar", "March"),
        ("apr", "April"),
        ("may", "May"),
        ("jun", "June"),
        ("jul", "July"),
        ("aug", "August"),
        ("sep", "September"),
        ("oct", "October"),
        ("nov", "November"),
        ("dec", "December"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A value meant literally (a DOI, URL or id): braces gone, `\_` and friends unescaped.
fn verbatim(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' | '}' => {}
            // `\_` is `_`; a command such as `\url` is dropped, its argument kept.
            '\\' => match chars.peek() {
                Some(&p) if p.is_ascii_punctuation() => {
                    out.push(p);
                    chars.next();
                }
                _ => while chars.next_if(char::is_ascii_alphabetic).is_some() {},
            },
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

/// Names of an `author` field split at the top-level `and`s, as "First Last".
fn split_names(raw: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut current = String::new();
    let mut word = String::new();
    let mut depth = 0usize;
    let flush_word = |word: &mut String, current: &mut String, names: &mut Vec<String>| {
        if word.eq_ignore_ascii_case("and") {
            names.push(std::mem::take(current));
        } else if !word.is_empty() {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        word.clear();
    };
    for c in raw.chars() {
        match c {
            '{' => {
                depth += 1;
                word.push(c);
            }
            '}' => {
                depth = depth.saturating_sub(1);
                word.push(c);
            }
            c if c.is_whitespace() && depth == 0 => flush_word(&mut word, &mut current, &mut names),
            c => word.push(c),
        }
    }
    flush_word(&mut word, &mut current, &mut names);
    names.push(current);
    names
        .iter()
        .filter(|n| !n.trim().eq_ignore_ascii_case("others"))
        .map(|n| display_name(&latex::decode(&top_level_commas(n))))
        .filter(|n| !n.is_empty())
        .collect()
}

/// Commas inside braces (`{Barnes, Noble}`) must not split a name: they are
/// replaced by a look-alike until the name is flipped. Decoding keeps it.
fn top_level_commas(name: &str) -> String {
    let mut depth = 0usize;
    name.chars()
        .map(|c| match c {
            '{' => {
                depth += 1;
                c
            }
            '}' => {
                depth = depth.saturating_sub(1);
                c
            }
            ',' if depth > 0 => '\u{201a}',
            c => c,
        })
        .collect()
}

/// The record of an entry's fields; `Err` says why it cannot be one.
fn record(key: Option<String>, fields: &HashMap<String, String>) -> Result<LibraryRecord, String> {
    let get = |name: &str| fields.get(name).map(String::as_str);
    let title = get("title").map(latex::decode).unwrap_or_default();
    if title.is_empty() {
        let what = key.as_deref().map(|k| format!("the entry `{k}`")).unwrap_or_else(|| "an entry".into());
        return Err(format!("{what} has no title"));
    }
    let doi = get("doi").and_then(|d| normalize_doi(&verbatim(d)));
    let authors = get("author").map(split_names).unwrap_or_default();
    let year = get("year").or(get("date")).and_then(|y| year_in(&verbatim(y)));
    let abstract_text = get("abstract").map(latex::decode).and_then(non_empty);
    Ok(LibraryRecord { key, title, abstract_text, authors, year, arxiv_id: arxiv_of(fields, doi.as_deref()), doi })
}

fn arxiv_of(fields: &HashMap<String, String>, doi: Option<&str>) -> Option<paperboy_core::PaperId> {
    let get = |name: &str| fields.get(name).map(|v| verbatim(v));
    let prefix = get("archiveprefix").or_else(|| get("eprinttype"));
    let eprint_is_arxiv = prefix.as_deref().is_none_or(|p| p.eq_ignore_ascii_case("arxiv"));
    let from_eprint = || if eprint_is_arxiv { get("eprint").and_then(|e| arxiv_id(&e)) } else { None };
    from_eprint()
        .or_else(|| get("arxivid").and_then(|e| arxiv_id(&e)))
        .or_else(|| {
            ["journal", "journaltitle", "booktitle", "volume", "note", "howpublished", "publisher"]
                .iter()
                .find_map(|f| get(f).and_then(|t| arxiv_in_text(&t)))
        })
        .or_else(|| {
            ["url", "pdf", "howpublished", "note"]
                .iter()
                .filter_map(|f| get(f))
                .find_map(|u| u.split_whitespace().find_map(arxiv_from_url))
        })
        .or_else(|| doi.and_then(arxiv_from_doi))
}
