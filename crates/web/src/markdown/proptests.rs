//! Property tests of the comment renderer: whatever a member types, the
//! output holds only the tags this module writes, properly nested, with no
//! attribute but a link's http(s) `href` and its fixed `rel`; all other text
//! is escaped, comes from the input in order, and is at most a constant
//! factor longer than it. Cases per property: `PROPTEST_CASES` (64 by
//! default; `bench/fuzz.sh` runs many more).

use proptest::prelude::*;
use proptest::test_runner::Config;

use super::render;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// Block elements, which only appear at the top level.
const BLOCKS: &[&str] = &["p", "pre", "ul", "ol"];
/// Inline elements.
const INLINE: &[&str] = &["code", "strong", "em", "a", "li"];
const ENTITIES: &[(&str, char)] = &[("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&#39;", '\'')];
const LINK_TAIL: &str = "\" rel=\"nofollow ugc\">";

/// What [`check`] read from a rendering.
struct Reading {
    /// The text outside tags, unescaped.
    text: String,
    /// The unescaped `href` of each link.
    hrefs: Vec<String>,
}

/// Unescapes text between tags; fails on a raw `<`, `>`, quote or an `&`
/// that does not start one of the five entities the escaper writes.
fn unescape(segment: &str, out: &mut String) -> Result<(), String> {
    let mut rest = segment;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' | '>' | '"' | '\'' => return Err(format!("unescaped {c:?} in {segment:?}")),
            '&' => {
                let (entity, ch) = ENTITIES
                    .iter()
                    .find(|(e, _)| rest.starts_with(e))
                    .ok_or_else(|| format!("stray & in {segment:?}"))?;
                out.push(*ch);
                rest = &rest[entity.len()..];
            }
            c => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Ok(())
}

/// Reads a rendering tag by tag and fails on anything the renderer does not
/// write: another tag or attribute, a bad nesting, an unclosed element.
fn check(html: &str) -> Result<Reading, String> {
    let mut reading = Reading { text: String::new(), hrefs: Vec::new() };
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        unescape(&rest[..lt], &mut reading.text)?;
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("</") {
            let gt = after.find('>').ok_or("unterminated end tag")?;
            let name = &after[..gt];
            if stack.pop() != Some(name) {
                return Err(format!("</{name}> closes {stack:?}"));
            }
            rest = &after[gt + 1..];
        } else if let Some(after) = rest.strip_prefix("<a href=\"") {
            let quote = after.find('"').ok_or("unterminated href")?;
            let mut href = String::new();
            unescape(&after[..quote], &mut href)?;
            let tail = &after[quote..];
            if !tail.starts_with(LINK_TAIL) {
                return Err(format!("link attributes beyond href: {tail:?}"));
            }
            if stack.contains(&"a") || stack.is_empty() {
                return Err(format!("link inside {stack:?}"));
            }
            reading.hrefs.push(href);
            stack.push("a");
            rest = &tail[LINK_TAIL.len()..];
        } else {
            let gt = rest.find('>').ok_or("unterminated tag")?;
            let name = &rest[1..gt];
            let block = BLOCKS.contains(&name);
            if !block && !INLINE.contains(&name) {
                return Err(format!("unexpected tag <{name}>"));
            }
            let top = stack.last().copied();
            let placed = match name {
                "p" | "pre" | "ul" | "ol" => top.is_none(),
                "li" => matches!(top, Some("ul" | "ol")),
                "code" => top.is_some() && top != Some("ul") && top != Some("ol"),
                _ => top.is_some_and(|t| !matches!(t, "ul" | "ol" | "pre")),
            };
            if !placed {
                return Err(format!("<{name}> inside {stack:?}"));
            }
            stack.push(&rest[1..gt]);
            rest = &rest[gt + 1..];
        }
    }
    unescape(rest, &mut reading.text)?;
    if !stack.is_empty() {
        return Err(format!("unclosed {stack:?}"));
    }
    Ok(reading)
}

/// Is `small` (whitespace ignored) a subsequence of `big` (whitespace ignored)?
fn is_subsequence(small: &str, big: &str) -> bool {
    let mut big = big.chars().filter(|c| !c.is_whitespace());
    small.chars().filter(|c| !c.is_whitespace()).all(|c| big.any(|b| b == c))
}

/// The properties every rendering has.
fn assert_safe(src: &str) -> Result<(), TestCaseError> {
    let html = render(src);
    let reading = check(&html).map_err(|e| TestCaseError::fail(format!("{e}\ninput: {src:?}\noutput: {html:?}")))?;
    for href in &reading.hrefs {
        let lower = href.to_ascii_lowercase();
        prop_assert!(lower.starts_with("http://") || lower.starts_with("https://"), "{href:?}");
        prop_assert!(!href.chars().any(|c| c.is_whitespace() || c.is_control() || "\"'<>`".contains(c)), "{href:?}");
    }
    prop_assert!(is_subsequence(&reading.text, src), "text not from the input: {:?} from {src:?}", reading.text);
    prop_assert!(html.len() <= 16 * src.len() + 64, "{} bytes from {}", html.len(), src.len());
    Ok(())
}

/// Text made of the syntax's own pieces, plus markup and script attempts.
fn markdown_soup(max_pieces: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        proptest::sample::select(vec![
            "*",
            "**",
            "_",
            "__",
            "`",
            "```",
            "[",
            "]",
            "(",
            ")",
            "](",
            "\\",
            " ",
            "  ",
            "\n",
            "\n\n",
            "\r\n",
            "\t",
            "- ",
            "* ",
            "+ ",
            "1. ",
            "2) ",
            "<",
            ">",
            "\"",
            "'",
            "&",
            "&amp;",
            "<script>",
            "<img src=x onerror=y>",
            "javascript:",
            "JaVaScRiPt:",
            "data:text/html,",
            "//",
            "http://",
            "https://",
            "HTTPS://a.b/",
            "é",
            "€",
            "\u{0}",
            "\u{7f}",
            "\u{2028}",
            "x",
            "y z",
        ])
        .prop_map(str::to_string),
        "[a-z0-9]{1,5}",
    ];
    proptest::collection::vec(piece, 0..max_pieces).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary text renders to safe, well-formed HTML.
    #[test]
    fn any_text_renders_safely(src in any::<String>()) {
        assert_safe(&src)?;
    }

    /// Markdown-shaped text with injection attempts renders to safe,
    /// well-formed HTML.
    #[test]
    fn markdown_soup_renders_safely(src in markdown_soup(60)) {
        assert_safe(&src)?;
    }

    /// A link with any target: rendered as a link only for http(s) without
    /// spaces or quotes, and its text and target never escape the element.
    #[test]
    fn links_are_http_only(text in "[^\\[\\]\n]{1,20}", url in "((https?|javascript|data|ftp|HTTP)://?)?[^()\n]{0,30}") {
        let src = format!("see [{text}]({url}) here");
        assert_safe(&src)?;
        let html = render(&src);
        let linked = html.contains("<a href=");
        let lower = url.to_ascii_lowercase();
        let plain = !url.chars().any(|c| c.is_whitespace() || c.is_control() || "\"'<>`".contains(c));
        let expected = (lower.starts_with("http://") || lower.starts_with("https://")) && url.len() > 8 && plain;
        prop_assert_eq!(linked, expected, "{:?}", html);
    }

    /// Long comments (up to the 10,000-character limit) of the syntax's
    /// pieces: still safe, and bounded in output.
    #[test]
    fn long_comments_render_safely(src in markdown_soup(2_000)) {
        assert_safe(&src)?;
    }
}
