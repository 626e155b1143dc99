//! Evidence vectors: the extra vectors a paper carries beside its one
//! 256-token vector, so that a query can match the *part* of an abstract it
//! is about, and the rule that turns them into the paper's cosine.
//!
//! The paper's vector (`title. abstract`, cut at [`MAX_TOKENS`]) stays what
//! the graph, similar papers and recommendations use. Evidence is read only
//! to re-score the candidates of a search (a few hundred papers): a paper's
//! cosine becomes an aggregate of its vector's and its evidence's.
//!
//! Two kinds, chosen per deployment ([`Evidence`], part of the model
//! fingerprint, so changing it re-embeds every paper once):
//! - [`Evidence::Passages`] (the default): the rest of an abstract longer
//!   than the first vector sees, in titled passages of up to 256 tokens that
//!   overlap by [`PASSAGE_OVERLAP`]; aggregated by a soft maximum
//!   ([`SOFT_MAX_TEMPERATURE`]). Costs +28% embedding time on arXiv text.
//! - [`Evidence::Sentences`]: one `title. sentence` vector per sentence of
//!   the abstract; aggregated by the maximum. The best measured ranking
//!   (hybrid nDCG@10 0.7513 on SciFact train), at +146% embedding time on
//!   arXiv text: for deployments that value search quality over ingest speed.
//!
//! The measurements are in docs/BENCHMARKS.md ("Finer vectors").

use tokenizers::Tokenizer;

use crate::embed::MAX_TOKENS;

/// Tokens a passage shares with the one before it.
pub const PASSAGE_OVERLAP: usize = 32;
/// Temperature of the passages' soft maximum: `m + T · ln(mean(exp((cᵢ − m) / T)))`
/// over the first vector's and the passages' cosines (`m` their maximum).
pub const SOFT_MAX_TEMPERATURE: f32 = 0.05;
/// At most this many evidence vectors per paper (a bound on hostile or
/// enormous abstracts; real abstracts have up to ~20 sentences).
pub const MAX_EVIDENCE: usize = 32;

/// Which evidence vectors papers carry (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Evidence {
    /// Only the paper's vector.
    Off,
    /// The rest of long abstracts, in titled passages (soft maximum).
    #[default]
    Passages,
    /// Every sentence, titled (maximum).
    Sentences,
}

impl Evidence {
    /// Every kind, as [`Evidence::as_str`] names them.
    pub const ALL: [Evidence; 3] = [Evidence::Off, Evidence::Passages, Evidence::Sentences];

    /// The setting's name: `off`, `passages`, `sentences`.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Off => "off",
            Evidence::Passages => "passages",
            Evidence::Sentences => "sentences",
        }
    }

    /// Parses [`Evidence::as_str`]'s names (case-insensitive).
    pub fn parse(s: &str) -> Option<Evidence> {
        Evidence::ALL.into_iter().find(|e| e.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// What goes into the model fingerprint: empty for `Off`, so that
    /// vectors computed before evidence existed stay valid for it.
    pub(crate) fn fingerprint_part(self) -> String {
        match self {
            Evidence::Off => String::new(),
            Evidence::Passages => format!(";evidence=passages/{MAX_TOKENS}/{PASSAGE_OVERLAP}"),
            Evidence::Sentences => ";evidence=sentences".to_string(),
        }
    }

    /// The paper's cosine from its vector's (`first`) and its evidence's.
    pub fn aggregate(self, first: f32, evidence: &[f32]) -> f32 {
        if evidence.is_empty() {
            return first;
        }
        let m = evidence.iter().copied().fold(first, f32::max);
        match self {
            Evidence::Off => first,
            Evidence::Sentences => m,
            Evidence::Passages => {
                let t = SOFT_MAX_TEMPERATURE;
                let sum: f32 =
                    std::iter::once(first).chain(evidence.iter().copied()).map(|c| ((c - m) / t).exp()).sum();
                m + t * (sum / (evidence.len() + 1) as f32).ln()
            }
        }
    }

    /// The texts of a paper's evidence vectors (none for `Off`, for an empty
    /// abstract, and for passages of an abstract the first vector covers).
    /// `tokenizer` must not truncate (it only measures passages).
    pub fn texts(self, tokenizer: &Tokenizer, title: &str, abstract_text: &str) -> Vec<String> {
        let abstract_text = abstract_text.trim();
        if abstract_text.is_empty() {
            return Vec::new();
        }
        let title = title.trim().trim_end_matches('.');
        let mut out = match self {
            Evidence::Off => Vec::new(),
            Evidence::Sentences => sentences(abstract_text).into_iter().map(|s| format!("{title}. {s}")).collect(),
            Evidence::Passages => passages(tokenizer, title, abstract_text),
        };
        out.truncate(MAX_EVIDENCE);
        out
    }
}

/// Titled passages over what follows the first [`MAX_TOKENS`] − 2 tokens of
/// `title. abstract` (the [CLS] and [SEP] tokens take the other two), each
/// starting [`PASSAGE_OVERLAP`] tokens before the previous one's cut.
fn passages(tokenizer: &Tokenizer, title: &str, abstract_text: &str) -> Vec<String> {
    let full = format!("{title}. {abstract_text}");
    let Ok(enc) = tokenizer.encode(full.as_str(), false) else {
        return Vec::new();
    };
    let offsets = enc.get_offsets();
    let limit = MAX_TOKENS - 2;
    let mut out = Vec::new();
    let mut start = limit - PASSAGE_OVERLAP;
    while offsets.len() > limit && start + PASSAGE_OVERLAP < offsets.len() {
        let mut at = offsets[start].0.min(full.len());
        while !full.is_char_boundary(at) {
            at -= 1;
        }
        out.push(format!("{title}. {}", &full[at..]));
        start += limit - PASSAGE_OVERLAP;
    }
    out
}

/// The sentences of `text`: it is cut after `.`, `?` or `!` followed by
/// white space and then an upper-case letter or a digit (so "e.g. the" and
/// "Fig. 3b" mostly stay whole, and decimals always do).
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if !matches!(c, '.' | '?' | '!') {
            continue;
        }
        let rest = &text[i + c.len_utf8()..];
        let mut chars = rest.chars();
        if chars.next().is_some_and(char::is_whitespace)
            && chars.next().is_some_and(|n| n.is_uppercase() || n.is_ascii_digit())
        {
            let s = text[start..i + c.len_utf8()].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = i + c.len_utf8();
        }
    }
    let s = text[start..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_stops_before_capitals_and_digits() {
        let s = sentences("We study X. It works, e.g. on Y. 3 sets agree! Is it 0.5 better? yes.");
        assert_eq!(s, vec!["We study X.", "It works, e.g. on Y.", "3 sets agree!", "Is it 0.5 better? yes."]);
        assert!(sentences("  ").is_empty());
        assert_eq!(sentences("No stop at the end"), vec!["No stop at the end"]);
        assert_eq!(sentences("Ünïcode. Ça va."), vec!["Ünïcode.", "Ça va."]);
    }

    #[test]
    fn aggregates_follow_the_kind() {
        assert_eq!(Evidence::Sentences.aggregate(0.2, &[0.5, 0.3]), 0.5);
        assert_eq!(Evidence::Off.aggregate(0.2, &[0.5]), 0.2);
        assert_eq!(Evidence::Passages.aggregate(0.2, &[]), 0.2);
        // A soft maximum: below the maximum, above the mean, and close to
        // the maximum when one value stands out.
        let soft = Evidence::Passages.aggregate(0.40, &[0.42]);
        assert!(soft < 0.42 && soft > 0.41, "{soft}");
        let far = Evidence::Passages.aggregate(0.1, &[0.6]);
        assert!((far - (0.6 + 0.05 * 0.5f32.ln())).abs() < 1e-4, "{far}");
    }

    #[test]
    fn names_round_trip() {
        for e in Evidence::ALL {
            assert_eq!(Evidence::parse(e.as_str()), Some(e));
        }
        assert_eq!(Evidence::parse(" Sentences "), Some(Evidence::Sentences));
        assert_eq!(Evidence::parse("windows"), None);
        assert_eq!(Evidence::Off.fingerprint_part(), "");
        assert_ne!(Evidence::Passages.fingerprint_part(), Evidence::Sentences.fingerprint_part());
    }
}
