//! Text normalisation for metadata that arrives from arXiv: hard-wrapped
//! abstracts, indented titles, stray control characters. TeX is kept as text.
//! Also the one HTML escaper that search snippets and rendered comments share.

/// Collapses every run of whitespace (including line breaks) into one space,
/// drops control characters and trims both ends.
pub fn normalize_ws(s: &str) -> String {
    let mut out = s.to_string();
    normalize_ws_in_place(&mut out);
    out
}

/// [`normalize_ws`] without a new allocation: the text is compacted within
/// its own buffer (the result is never longer than the input).
///
/// Whitespace and control characters are those of [`char::is_whitespace`]
/// and [`char::is_control`]. Most text is ASCII whose words are already one
/// whitespace character apart (a hard-wrapped abstract); it is recognised
/// and fixed in two passes the compiler vectorises. The rest goes through
/// [`compact_ws`].
pub fn normalize_ws_in_place(s: &mut String) {
    match scan_ascii(s.as_bytes()) {
        Scan::Tidy => {}
        Scan::OtherSpaces => {
            let mut bytes = std::mem::take(s).into_bytes();
            for b in &mut bytes {
                // A select, not a branch, so that this loop is vectorised.
                *b = if is_ascii_ws(*b) { b' ' } else { *b };
            }
            *s = into_string(bytes);
        }
        Scan::Other => compact_ws(s),
    }
}

/// What [`scan_ascii`] found.
enum Scan {
    /// Already normalised.
    Tidy,
    /// Normalised once every whitespace byte is a space.
    OtherSpaces,
    /// Anything else: non-ASCII, control characters, runs of whitespace,
    /// whitespace at either end.
    Other,
}

/// ASCII whitespace as [`char::is_whitespace`] has it: space, `\t`, `\n`,
/// vertical tab, form feed, `\r`.
fn is_ascii_ws(b: u8) -> bool {
    b == b' ' || b.wrapping_sub(b'\t') < 5
}

fn scan_ascii(bytes: &[u8]) -> Scan {
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Scan::Tidy;
    };
    if is_ascii_ws(first) || is_ascii_ws(last) {
        return Scan::Other;
    }
    // One pass without early exit (it is vectorised): bit 0 marks anything
    // but printable ASCII and lone whitespace, bit 1 whitespace other than ' '.
    let flags = bytes.iter().zip(&bytes[1..]).fold(0u8, |acc, (&b, &next)| {
        let printable = b.wrapping_sub(b' ') < 0x5f;
        let odd = !(printable || is_ascii_ws(b)) || (is_ascii_ws(b) && is_ascii_ws(next));
        acc | u8::from(odd) | (u8::from(is_ascii_ws(b) && b != b' ') << 1)
    });
    // The pairs leave out the last byte, which is not whitespace.
    let flags = flags | u8::from(!is_printable_ascii(last));
    match flags {
        0 => Scan::Tidy,
        2 => Scan::OtherSpaces,
        _ => Scan::Other,
    }
}

/// The general case of [`normalize_ws_in_place`]: copies each run of kept
/// characters down over the whitespace and control characters before it.
fn compact_ws(s: &mut String) {
    let mut bytes = std::mem::take(s).into_bytes();
    let len = bytes.len();
    // Invariant: `w <= r`, and everything from `r` on is still the input, so
    // the input can be read where the output is being written.
    let (mut r, mut w) = (0, 0);
    // Whitespace was seen since the last character kept.
    let mut gap = false;
    while r < len {
        // The next run to keep: printable ASCII (scanned in one go), or one
        // other character that is neither whitespace nor a control.
        let start = r;
        let b = bytes[r];
        if is_printable_ascii(b) {
            r += bytes[r..].iter().position(|&b| !is_printable_ascii(b)).unwrap_or(len - r);
        } else if b < 0x80 {
            gap |= is_ascii_ws(b);
            r += 1;
            continue;
        } else {
            r += utf8_width(b);
            match std::str::from_utf8(&bytes[start..r]).ok().and_then(|c| c.chars().next()) {
                Some(c) if c.is_whitespace() => {
                    gap = true;
                    continue;
                }
                Some(c) if c.is_control() => continue,
                _ => {}
            }
        }
        if gap {
            // A skipped whitespace byte made room: `w < start` here.
            if w > 0 {
                bytes[w] = b' ';
                w += 1;
            }
            gap = false;
        }
        if w != start {
            bytes.copy_within(start..r, w);
        }
        w += r - start;
    }
    bytes.truncate(w);
    *s = into_string(bytes);
}

/// Only whole characters were dropped and ASCII bytes replaced or added, so
/// the bytes are still UTF-8; checking that is cheap and keeps this module
/// free of `unsafe`.
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `!` to `~`: ASCII that is neither whitespace nor a control character.
fn is_printable_ascii(b: u8) -> bool {
    b.wrapping_sub(0x21) < 0x5e
}

/// The length of the UTF-8 sequence that starts with the non-ASCII byte `lead`.
fn utf8_width(lead: u8) -> usize {
    match lead {
        0xf0.. => 4,
        0xe0.. => 3,
        _ => 2,
    }
}

/// A key under which two spellings of the same title compare equal:
/// lower case, letters and digits only, single spaces.
pub fn title_key(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut pending_space = false;
    for c in title.chars() {
        let keep = if c.is_ascii() { c.is_ascii_alphanumeric() } else { c.is_alphanumeric() };
        if !keep {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Cuts `s` to at most `max_chars` characters at a word boundary, adding `…`
/// when something was cut.
pub fn trim_to_words(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let cut: String = s.chars().take(max_chars).collect();
    let end = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}…", cut[..end].trim_end_matches([',', ';', ':', '.', ' ']))
}

/// Percent-encodes a query-string value: everything but unreserved
/// characters (letters, digits, `-._~`), as UTF-8 bytes.
pub fn percent_encode(s: &str) -> String {
    const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX_DIGITS[usize::from(b >> 4)]));
            out.push(char::from(HEX_DIGITS[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// Escapes text for HTML element content and attribute values: `&`, `<`,
/// `>`, `"` and `'`, appended to `out`.
pub fn escape_html(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_covers_the_five_special_characters() {
        let mut out = String::from("kept ");
        escape_html("<a href=\"x\">Tom & Jerry's</a>", &mut out);
        assert_eq!(out, "kept &lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
    }

    #[test]
    fn whitespace_is_collapsed_and_tex_kept() {
        assert_eq!(
            normalize_ws("  Sensor simulation is\n  pivotal for $\\mathcal{O}(n)$\r\n\ttime \u{7} "),
            "Sensor simulation is pivotal for $\\mathcal{O}(n)$ time"
        );
        assert_eq!(normalize_ws("\n\n"), "");
    }

    /// The straightforward definition [`normalize_ws`] must agree with.
    fn normalize_ws_reference(s: &str) -> String {
        s.split_whitespace()
            .map(|word| word.chars().filter(|c| !c.is_control()).collect::<String>())
            .filter(|word| !word.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The straightforward definition [`title_key`] must agree with.
    fn title_key_reference(title: &str) -> String {
        title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.chars().flat_map(char::to_lowercase).collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn fast_paths_match_the_definitions() {
        // Every whitespace and control character up to U+3000 and a few
        // others, between words, at the ends, and in runs.
        let specials: Vec<char> = (0u32..=0x3000)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace() || c.is_control())
            .chain(['\u{feff}', '\u{200b}', 'é', 'Σ', '中', '😀', 'İ', 'ß', '_', '-', '$'])
            .collect();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let words = ["a", "Mamba", "x1", "Ünïcode", "TeX$\\mathcal{O}$", "日本語"];
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..next(8) {
                match next(3) {
                    0 => s.push_str(words[next(words.len())]),
                    _ => s.push(specials[next(specials.len())]),
                }
            }
            assert_eq!(normalize_ws(&s), normalize_ws_reference(&s), "normalize_ws({s:?})");
            assert_eq!(title_key(&s), title_key_reference(&s), "title_key({s:?})");
        }
        for c in (0u32..0x3100).chain((0x3100..=0x10_ffff).step_by(97)).filter_map(char::from_u32) {
            let s = format!(" a{c}b {c} ");
            assert_eq!(normalize_ws(&s), normalize_ws_reference(&s), "normalize_ws({s:?})");
            assert_eq!(title_key(&s), title_key_reference(&s), "title_key({s:?})");
        }
    }

    #[test]
    fn title_keys_ignore_case_and_punctuation() {
        assert_eq!(title_key("Mamba: Linear-Time  Sequence Modeling!"), "mamba linear time sequence modeling");
        assert_eq!(title_key("mamba linear time sequence modeling"), "mamba linear time sequence modeling");
    }

    #[test]
    fn trimming_stops_at_words() {
        assert_eq!(trim_to_words("short", 10), "short");
        assert_eq!(trim_to_words("one two three four", 12), "one two…");
    }
}
