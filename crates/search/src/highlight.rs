//! Highlighted, HTML-escaped snippets: every character of the original text
//! is escaped, and the tokens whose analysed form is a query term are
//! wrapped in `<mark>…</mark>`.

use std::collections::HashSet;

use paperboy_core::text::escape_html;

use tantivy::tokenizer::TextAnalyzer;

/// Byte ranges of the tokens of `text` that match `terms`.
fn matches(text: &str, analyzer: &mut TextAnalyzer, terms: &HashSet<String>) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        if terms.contains(&t.text) && t.offset_from < t.offset_to && t.offset_to <= text.len() {
            out.push((t.offset_from, t.offset_to));
        }
    }
    out
}

fn render(text: &str, ranges: &[(usize, usize)], out: &mut String) {
    let mut pos = 0;
    for &(a, b) in ranges {
        if a < pos || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
            continue;
        }
        escape_html(&text[pos..a], out);
        out.push_str("<mark>");
        escape_html(&text[a..b], out);
        out.push_str("</mark>");
        pos = b;
    }
    escape_html(&text[pos..], out);
}

/// The whole text, escaped, with matches marked.
pub fn highlight_all(text: &str, analyzer: &mut TextAnalyzer, terms: &HashSet<String>) -> String {
    let ranges = matches(text, analyzer, terms);
    let mut out = String::with_capacity(text.len() + 16 * ranges.len());
    render(text, &ranges, &mut out);
    out
}

/// A window of about `max_chars` characters around the densest cluster of
/// matches (the start of the text when nothing matches), escaped, matches
/// marked, with "…" where the text was cut.
pub fn snippet(text: &str, analyzer: &mut TextAnalyzer, terms: &HashSet<String>, max_chars: usize) -> String {
    let ranges = matches(text, analyzer, terms);
    let max_bytes = max_chars.max(20) * 2;
    // Choose the start (a match) whose window holds the most matches.
    let mut best = (0usize, 0usize);
    for (i, &(a, _)) in ranges.iter().enumerate() {
        let n = ranges[i..].iter().take_while(|r| r.1 <= a + max_bytes).count();
        if n > best.1 {
            best = (i, n);
        }
    }
    let mut start = ranges.get(best.0).map_or(0, |r| r.0);
    // Back up a little for context, to a word start.
    start = start.saturating_sub(max_bytes / 6);
    while start > 0 && !text.is_char_boundary(start) {
        start -= 1;
    }
    if start > 0 {
        if let Some(sp) = text[..start].rfind(char::is_whitespace) {
            start = sp + 1;
        } else {
            start = 0;
        }
    }
    let mut end = (start + max_bytes).min(text.len());
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    if end < text.len()
        && let Some(sp) = text[start..end].rfind(char::is_whitespace)
        && sp > 0
    {
        end = start + sp;
    }
    let inside: Vec<(usize, usize)> =
        ranges.iter().filter(|r| r.0 >= start && r.1 <= end).map(|r| (r.0 - start, r.1 - start)).collect();
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    render(&text[start..end], &inside, &mut out);
    if end < text.len() {
        out.push('…');
    }
    out
}
