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

/// Inline spans of `s`; `links` is false inside a link's text.
fn inline(s: &str, out: &mut String, links: bool) {
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
                if let Some((text, url, len)) = link(rest)
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
                    if let Some(end) = closing(rest, delim, c) {
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

/// `[text](url)` at the start of `s`: (text, url, bytes used).
fn link(s: &str) -> Option<(&str, &str, usize)> {
    let close = s.find("](")?;
    let text = &s[1..close];
    if text.is_empty() || text.contains('[') {
        return None;
    }
    let after = &s[close + 2..];
    let end = after.find(')')?;
    Some((text, &after[..end], close + 2 + end + 1))
}

/// Where the span opened by `delim` at the start of `s` closes: the inner
/// text is not empty and does not start or end with a space; an underscore
/// closer is not followed by a letter or digit.
fn closing(s: &str, delim: &str, c: char) -> Option<usize> {
    let inner_start = delim.len();
    if s[inner_start..].starts_with(char::is_whitespace) {
        return None;
    }
    let mut from = inner_start + s[inner_start..].chars().next()?.len_utf8();
    while let Some(pos) = s.get(from..)?.find(delim) {
        let at = from + pos;
        let inner = &s[inner_start..at];
        let after = s[at + delim.len()..].chars().next();
        let bad_end = inner.ends_with(char::is_whitespace)
            || (c == '_' && after.is_some_and(char::is_alphanumeric))
            // A single `*` never closes on a star of a `**` run (`*a **b** c*`).
            || (delim.len() == 1 && (s[at + 1..].starts_with(c) || s[..at].ends_with(c)));
        if !inner.is_empty() && !bad_end {
            return Some(at);
        }
        from = at + delim.len();
    }
    None
}

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
    fn odd_input_does_not_panic() {
        for s in
            ["*", "**", "`", "[", "[a](", "[a](b", "\\", "_", "é*ü*", "```", "1.", "- ", "***", "[](https://x.org)"]
        {
            let _ = render(s);
        }
    }
}
