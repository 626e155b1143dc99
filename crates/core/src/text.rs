//! Text normalisation for metadata that arrives from arXiv: hard-wrapped
//! abstracts, indented titles, stray control characters. TeX is kept as text.

/// Collapses every run of whitespace (including line breaks) into one space,
/// drops control characters and trims both ends.
pub fn normalize_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        // Whole words are copied at once; only the rare word with a control
        // character in it is filtered character by character.
        if word.chars().any(char::is_control) {
            let clean: String = word.chars().filter(|c| !c.is_control()).collect();
            if clean.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&clean);
        } else {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// A key under which two spellings of the same title compare equal:
/// lower case, letters and digits only, single spaces.
pub fn title_key(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut pending_space = false;
    for c in title.chars() {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_collapsed_and_tex_kept() {
        assert_eq!(
            normalize_ws("  Sensor simulation is\n  pivotal for $\\mathcal{O}(n)$\r\n\ttime \u{7} "),
            "Sensor simulation is pivotal for $\\mathcal{O}(n)$ time"
        );
        assert_eq!(normalize_ws("\n\n"), "");
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
