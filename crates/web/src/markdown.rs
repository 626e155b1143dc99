//! The small Markdown subset of comments, rendered by our own code so that
//! nothing a member types can become markup we did not mean:
//!
//! * blocks: paragraphs (separated by blank lines), fenced code blocks
//!   (```` ``` ````), and lists (`- `, `* `, `+ ` or `1. `; one level);
//! * inline: `` `code` ``, `**strong**` / `__strong__`, `*emphasis*` /
//!   `_emphasis_` (not inside words), `[text](https://…)` links, and `\`
//!   escapes. Links must be `http` or `https`, and get
//!   `rel="nofollow ugc"`; anything else is shown as typed.
//!
//! Every character of the input is HTML-escaped on the way out; the only
//! tags in the output are the ones this module writes, with no attributes
//! but a link's escaped `href` and its fixed `rel`.

/// Renders comment Markdown to safe HTML.
pub fn render(src: &str) -> String {
    let mut out = String::with_capacity(src.len() + src.len() / 4);
    let lines: Vec<&str> = src.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            i += 1;
        } else if trimmed.starts_with("```") {
            out.push_str("<pre><code>");
            i += 1;
            let mut first = true;
            while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                if !first {
                    out.push('\n');
                }
                escape_into(lines[i], &mut out);
                first = false;
                i += 1;
            }
            i += 1; // the closing fence (or the end)
            out.push_str("</code></pre>\n");
        } else if let Some(kind) = list_item(trimmed).map(|(k, _)| k) {
            out.push_str(if kind == List::Ordered { "<ol>" } else { "<ul>" });
            while i < lines.len() {
                match list_item(lines[i].trim_start()) {
                    Some((k, text)) if k == kind => {
                        out.push_str("<li>");
                        inline(text, &mut out, true);
                        out.push_str("</li>");
                        i += 1;
                    }
                    _ => break,
                }
            }
            out.push_str(if kind == List::Ordered { "</ol>\n" } else { "</ul>\n" });
        } else {
            out.push_str("<p>");
            let mut first = true;
            while i < lines.len() {
                let t = lines[i].trim_start();
                if t.is_empty() || t.starts_with("```") || (!first && list_item(t).is_some()) {
                    break;
                }
                if !first {
                    out.push('\n');
                }
                inline(lines[i].trim(), &mut out, true);
                first = false;
                i += 1;
            }
            out.push_str("</p>\n");
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Bullet,
    Ordered,
}

/// `- item`, `* item`, `+ item`, `12. item`, `3) item`.
fn list_item(line: &str) -> Option<(List, &str)> {
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some((List::Bullet, rest));
        }
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        let rest = &line[digits..];
        if let Some(text) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some((List::Ordered, text));
        }
    }
    None
}

/// Escapes `&`, `<`, `>`, `"` and `'`: the core's escaper, which search
/// snippets use too, so that snippets and comments are escaped by one function.
pub use paperboy_core::text::escape_html as escape_into;

/// A link target we render: http or https, no spaces, quotes or angle brackets.
fn safe_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() > 8
        && !url.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
}

/// What searches of one [`inline`] call found nothing from. A span's
/// closer is valid or not whatever opened it, so once a search from a
/// position finds none, a search from any later position finds none either;
/// remembering that keeps a comment full of unclosed `*`, `_` or `[a](`
/// linear instead of quadratic.
struct Misses {
    /// Per delimiter (`*`, `**`, `_`, `__`): no closer at or after this byte.
    closer: [usize; 4],
    /// No `)` at or after this byte.
    paren: usize,
}

impl Misses {
    fn new() -> Self {
        Misses { closer: [usize::MAX; 4], paren: usize::MAX }
    }
}

/// Inline spans of `s`; `links` is false inside a link's text.
fn inline(s: &str, out: &mut String, links: bool) {
    let mut misses = Misses::new();
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let c = rest.chars().next().unwrap_or(' ');
        let before = s[..i].chars().next_back();
        match c {
            '\\' => {
                if let Some(next) = rest[1..].chars().next().filter(|n| n.is_ascii_punctuation()) {
                    escape_into(&next.to_string(), out);
                    i += 1 + next.len_utf8();
                    continue;
                }
            }
            '`' => {
                if let Some(end) = rest[1..].find('`').filter(|&e| e > 0) {
                    out.push_str("<code>");
                    escape_into(&rest[1..1 + end], out);
                    out.push_str("</code>");
                    i += end + 2;
                    continue;
                }
            }
            '[' if links => {
                if let Some((text, url, len)) = link(s, i, &mut misses)
                    && safe_url(url)
                {
                    out.push_str("<a href=\"");
                    escape_into(url, out);
                    out.push_str("\" rel=\"nofollow ugc\">");
                    inline(text, out, false);
                    out.push_str("</a>");
                    i += len;
                    continue;
                }
            }
            '*' | '_' => {
                let intraword = c == '_' && before.is_some_and(char::is_alphanumeric);
                if !intraword {
                    let double = rest[1..].starts_with(c);
                    let delim = if double { &rest[..2] } else { &rest[..1] };
                    let kind = usize::from(c == '_') * 2 + usize::from(double);
                    if let Some(end) = closing(s, i, delim, c, &mut misses.closer[kind]) {
                        let inner = &rest[delim.len()..end];
                        out.push_str(if double { "<strong>" } else { "<em>" });
                        inline(inner, out, links);
                        out.push_str(if double { "</strong>" } else { "</em>" });
                        i += end + delim.len();
                        continue;
                    }
                }
            }
            _ => {}
        }
        escape_into(&rest[..c.len_utf8()], out);
        i += c.len_utf8();
    }
}

/// `[text](url)` at byte `i` of `s`: (text, url, bytes used). The text
/// holds no `[`, so `](` is looked for only up to the next one.
fn link<'a>(s: &'a str, i: usize, misses: &mut Misses) -> Option<(&'a str, &'a str, usize)> {
    let rest = &s[i..];
    let next_open = rest[1..].find('[').map_or(rest.len(), |j| j + 1);
    let close = rest[..next_open].find("](")?;
    let text = &rest[1..close];
    if text.is_empty() {
        return None;
    }
    let url_start = i + close + 2;
    if url_start >= misses.paren {
        return None;
    }
    let Some(end) = s[url_start..].find(')') else {
        misses.paren = url_start;
        return None;
    };
    Some((text, &s[url_start..url_start + end], close + 2 + end + 1))
}

/// Where the span opened by `delim` at byte `i` of `s` closes, relative to
/// `i`: the inner text is not empty and does not start or end with a
/// space; an underscore closer is not followed by a letter or digit; a
/// single `*` never closes on a star of a `**` run (`*a **b** c*`).
/// `miss` is where a search for this delimiter last found nothing.
fn closing(s: &str, i: usize, delim: &str, c: char, miss: &mut usize) -> Option<usize> {
    let inner_start = i + delim.len();
    if s[inner_start..].starts_with(char::is_whitespace) {
        return None;
    }
    let first = inner_start + s[inner_start..].chars().next()?.len_utf8();
    if first >= *miss {
        return None;
    }
    let mut from = first;
    while let Some(pos) = s.get(from..).and_then(|t| t.find(delim)) {
        let at = from + pos;
        let after = s[at + delim.len()..].chars().next();
        let bad_end = s[..at].ends_with(char::is_whitespace)
            || (c == '_' && after.is_some_and(char::is_alphanumeric))
            || (delim.len() == 1 && (s[at + 1..].starts_with(c) || s[..at].ends_with(c)));
        if !bad_end {
            return Some(at - i);
        }
        // Every candidate is looked at, overlapping ones too, so that what
        // is found does not depend on where the search started.
        from = at + 1;
    }
    *miss = first;
    None
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn paragraphs_emphasis_code_and_lists() {
        assert_eq!(
            render("Hello *world*!\n\nSecond **para**"),
            "<p>Hello <em>world</em>!</p>\n<p>Second <strong>para</strong></p>\n"
        );
        assert_eq!(render("use `a<b>` here"), "<p>use <code>a&lt;b&gt;</code> here</p>\n");
        assert_eq!(
            render("```\nfn main() { \"<x>\" }\n```"),
            "<pre><code>fn main() { &quot;&lt;x&gt;&quot; }</code></pre>\n"
        );
        assert_eq!(
            render("- one\n- _two_\n\n1. a\n2. b"),
            "<ul><li>one</li><li><em>two</em></li></ul>\n<ol><li>a</li><li>b</li></ol>\n"
        );
        assert_eq!(render("snake_case_name stays"), "<p>snake_case_name stays</p>\n");
        assert_eq!(render("2 * 3 * 4"), "<p>2 * 3 * 4</p>\n");
        assert_eq!(render(r"\*not em\*"), "<p>*not em*</p>\n");
        assert!(render("__bold__ and ***x***").contains("<strong>bold</strong>"));
        assert_eq!(render("*a **b** c*"), "<p><em>a <strong>b</strong> c</em></p>\n");
        assert_eq!(render("*é* _ü_"), "<p><em>é</em> <em>ü</em></p>\n");
    }

    #[test]
    fn links_are_http_only_and_marked_ugc() {
        assert_eq!(
            render("see [the paper](https://arxiv.org/abs/2312.00752)"),
            "<p>see <a href=\"https://arxiv.org/abs/2312.00752\" rel=\"nofollow ugc\">the paper</a></p>\n"
        );
        for bad in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](data:text/html,<script>alert(1)</script>)",
            "[x](vbscript:msgbox)",
            "[x](//evil.example)",
            "[x](https://a.example/\"onmouseover=\"alert(1))",
        ] {
            let html = render(bad);
            assert!(!html.contains("<a "), "{bad}: {html}");
            assert!(!html.contains("<script"), "{bad}: {html}");
        }
    }

    #[test]
    fn everything_else_is_escaped() {
        let html = render("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>");
        assert!(!html.contains("<script") && !html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        // Attribute injection through a link's text or url.
        let html = render("[\"><script>x</script>](https://ok.example/a)");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&quot;&gt;&lt;script&gt;"), "{html}");
        let html = render("[a](https://ok.example/?q=<b>)");
        assert!(!html.contains("<b>"), "{html}");
        // Markup inside code and emphasis is still escaped.
        assert!(!render("*<b>x</b>*").contains("<b>"));
        assert!(!render("`</code><script>`").contains("<script"));
        assert_eq!(render("a & b 'q'"), "<p>a &amp; b &#39;q&#39;</p>\n");
    }

    #[test]
    fn unclosed_delimiters_cost_linear_time() {
        // Each unclosed opener used to search to the end of the text: a
        // 10,000-character comment of `**a ` took 0.8 s to render in a
        // release build, on every view of its page.
        for s in ["*a ".repeat(3333), "**a ".repeat(2500), "_a ".repeat(3333), "[a](".repeat(2500), "[".repeat(10_000)]
        {
            let started = std::time::Instant::now();
            let html = render(&s);
            assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
            assert!(!html.contains("<em>") && !html.contains("<strong>") && !html.contains("<a "));
        }
        // Closers are still found after many openers that have none.
        assert_eq!(render("*a *b c*"), "<p><em>a *b c</em></p>\n");
    }

    #[test]
    fn odd_input_does_not_panic() {
        for s in
            ["*", "**", "`", "[", "[a](", "[a](b", "\\", "_", "é*ü*", "```", "1.", "- ", "***", "[](https://x.org)"]
        {
            let _ = render(s);
        }
    }
}
