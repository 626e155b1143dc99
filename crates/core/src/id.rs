//! Paper identifiers.
//!
//! [`ArxivId`] accepts every way people write an arXiv identifier (new and
//! old style, with a version, an `arXiv:` prefix, or an abs/pdf/html URL
//! around it) and keeps one canonical form. [`PaperId`] is what the catalog
//! is keyed by: an arXiv id without version, or a stable local id for papers
//! that reached us without one (a pasted listing page).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::CoreError;
use crate::text::title_key;

/// Archives that used the old `archive/YYMMNNN` scheme (before April 2007).
const OLD_ARCHIVES: &[&str] = &[
    "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an", "chao-dyn", "chem-ph", "cmp-lg",
    "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math",
    "math-ph", "mtrl-th", "nlin", "nucl-ex", "nucl-th", "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio",
    "quant-ph", "solv-int", "supr-con",
];

/// A validated arXiv identifier, optionally with a version.
///
/// The canonical form is what arXiv itself prints: `2312.00752`, `2312.00752v2`,
/// `hep-th/9901001`, `hep-th/9901001v3`. Old-style ids written with a subject
/// class (`math.GT/0309136`) are reduced to their archive (`math/0309136`),
/// which is how arXiv resolves them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArxivId {
    base: String,
    version: Option<u32>,
}

impl ArxivId {
    /// Parses an identifier in any of the usual spellings (see the module docs).
    pub fn parse(input: &str) -> Result<Self, CoreError> {
        let bad = |why| CoreError::BadArxivId { input: truncate_for_message(input), why };
        let core = strip_decorations(input.trim()).ok_or_else(|| bad("empty"))?;
        let (body, version) = split_version(core).map_err(bad)?;
        let base = if let Some((archive, number)) = body.split_once('/') {
            parse_old(archive, number).map_err(bad)?
        } else {
            parse_new(body).map_err(bad)?
        };
        Ok(ArxivId { base, version })
    }

    /// The identifier without version, e.g. `2312.00752`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The version number, if one was given (`v2` gives 2).
    pub fn version(&self) -> Option<u32> {
        self.version
    }

    /// The same paper without a version.
    pub fn without_version(&self) -> ArxivId {
        ArxivId { base: self.base.clone(), version: None }
    }

    /// The same paper at a given version.
    pub fn with_version(&self, version: u32) -> ArxivId {
        ArxivId { base: self.base.clone(), version: Some(version) }
    }

    /// True for pre-2007 ids such as `hep-th/9901001`.
    pub fn is_old_style(&self) -> bool {
        self.base.contains('/')
    }
}

impl fmt::Display for ArxivId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.version {
            Some(v) => write!(f, "{}v{}", self.base, v),
            None => f.write_str(&self.base),
        }
    }
}

impl FromStr for ArxivId {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ArxivId::parse(s)
    }
}

fn truncate_for_message(input: &str) -> String {
    input.chars().take(80).collect()
}

/// Removes `arXiv:` prefixes, URL schemes and hosts, `abs/`, `pdf/`, `.pdf`,
/// query strings and fragments. Returns `None` when nothing is left.
fn strip_decorations(s: &str) -> Option<&str> {
    let mut s = s;
    let had_scheme = if let Some((_, rest)) = s.split_once("://") {
        s = rest;
        true
    } else {
        false
    };
    if let Some(i) = s.find(['?', '#']) {
        s = &s[..i];
    }
    // Compared as bytes: slicing the text at a fixed offset could split a
    // multi-byte character. A match is ASCII, so `6` is then a boundary.
    if s.as_bytes().get(..6).is_some_and(|p| p.eq_ignore_ascii_case(b"arxiv:")) {
        s = s[6..].trim_start();
    }
    let first = s.split('/').next().unwrap_or("");
    let tld = first.rsplit('.').next().unwrap_or("");
    let archive = first.split('.').next().unwrap_or("").to_ascii_lowercase();
    let looks_like_host = first.contains('.')
        && !OLD_ARCHIVES.contains(&archive.as_str())
        && !tld.is_empty()
        && tld.bytes().all(|b| b.is_ascii_alphabetic());
    if had_scheme || (looks_like_host && s.contains('/')) {
        // A host name: arxiv.org, export.arxiv.org, huggingface.co, ...
        s = s.split_once('/').map(|(_, path)| path).unwrap_or("");
        for prefix in ["abs/", "pdf/", "html/", "papers/", "format/"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest;
                break;
            }
        }
    }
    s = s.trim_end_matches('/');
    if s.len() > 4 && s.as_bytes()[s.len() - 4..].eq_ignore_ascii_case(b".pdf") {
        s = &s[..s.len() - 4];
    }
    (!s.is_empty()).then_some(s)
}

fn split_version(s: &str) -> Result<(&str, Option<u32>), &'static str> {
    // The version is a trailing `v` followed by digits, after the number part.
    let tail_start = s.rfind(['.', '/']).map(|i| i + 1).unwrap_or(0);
    match s[tail_start..].find(['v', 'V']) {
        None => Ok((s, None)),
        Some(rel) => {
            let at = tail_start + rel;
            let digits = &s[at + 1..];
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err("the version must be v followed by a number");
            }
            let v: u32 = digits.parse().map_err(|_| "the version number is too large")?;
            if v == 0 {
                return Err("versions start at v1");
            }
            Ok((&s[..at], Some(v)))
        }
    }
}

fn valid_month(mm: &str) -> bool {
    matches!(mm.parse::<u8>(), Ok(1..=12))
}

fn parse_new(body: &str) -> Result<String, &'static str> {
    let (yymm, number) = body.split_once('.').ok_or("a new-style id is YYMM.NNNNN")?;
    if yymm.len() != 4 || !yymm.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a new-style id starts with four digits YYMM");
    }
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the number after the dot must be digits");
    }
    let yy: u32 = yymm[..2].parse().unwrap_or(0);
    if !valid_month(&yymm[2..]) {
        return Err("the month in YYMM must be 01 to 12");
    }
    if yy < 7 || (yy == 7 && &yymm[2..] < "04") {
        return Err("new-style ids began in April 2007 (0704)");
    }
    let expected = if yy < 15 { 4 } else { 5 };
    if number.len() != expected {
        return Err(if expected == 4 {
            "ids from 2007 to 2014 have four digits after the dot"
        } else {
            "ids from 2015 on have five digits after the dot"
        });
    }
    Ok(format!("{yymm}.{number}"))
}

fn parse_old(archive: &str, number: &str) -> Result<String, &'static str> {
    let archive = archive.to_ascii_lowercase();
    // `math.GT` -> `math`: the subject class is not part of the identity.
    let archive = archive.split('.').next().unwrap_or("");
    if !OLD_ARCHIVES.contains(&archive) {
        return Err("unknown archive before the slash (e.g. hep-th, astro-ph, math)");
    }
    if number.len() != 7 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err("an old-style id has seven digits YYMMNNN after the slash");
    }
    if !valid_month(&number[2..4]) {
        return Err("the month in YYMMNNN must be 01 to 12");
    }
    let yy: u32 = number[..2].parse().unwrap_or(0);
    if (8..91).contains(&yy) {
        return Err("old-style ids run from 1991 to 2007");
    }
    Ok(format!("{archive}/{number}"))
}

/// The key of a paper in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PaperId {
    /// An arXiv paper, always without version.
    Arxiv(ArxivId),
    /// A paper known only by its title (for example from a pasted listing page):
    /// `pb-` followed by 16 hex digits of a hash of the normalised title, so the
    /// same title always gets the same id, on every machine.
    Local(String),
}

impl PaperId {
    /// Parses a paper id: an arXiv id in any spelling (its version is dropped)
    /// or a local `pb-…` id.
    pub fn parse(input: &str) -> Result<Self, CoreError> {
        let s = input.trim();
        if let Some(hex) = s.strip_prefix("pb-") {
            if hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Ok(PaperId::Local(format!("pb-{}", hex.to_ascii_lowercase())));
            }
            return Err(CoreError::BadPaperId { input: truncate_for_message(input) });
        }
        Ok(PaperId::Arxiv(ArxivId::parse(s)?.without_version()))
    }

    /// The stable local id of a paper with this title and no arXiv id.
    pub fn local_from_title(title: &str) -> PaperId {
        PaperId::Local(format!("pb-{:016x}", fnv1a64(title_key(title).as_bytes())))
    }

    /// The arXiv id, if this is an arXiv paper.
    pub fn arxiv(&self) -> Option<&ArxivId> {
        match self {
            PaperId::Arxiv(id) => Some(id),
            PaperId::Local(_) => None,
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(self, PaperId::Local(_))
    }
}

impl From<ArxivId> for PaperId {
    fn from(id: ArxivId) -> Self {
        PaperId::Arxiv(id.without_version())
    }
}

impl fmt::Display for PaperId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaperId::Arxiv(id) => id.fmt(f),
            PaperId::Local(s) => f.write_str(s),
        }
    }
}

impl FromStr for PaperId {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PaperId::parse(s)
    }
}

impl Serialize for PaperId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PaperId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        PaperId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// 64-bit FNV-1a: tiny, stable across platforms and releases (unlike std's
/// hasher), good enough to name a title.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        ArxivId::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).to_string()
    }

    #[test]
    fn parses_every_common_spelling() {
        assert_eq!(ok("2312.00752"), "2312.00752");
        assert_eq!(ok("2312.00752v2"), "2312.00752v2");
        assert_eq!(ok("  arXiv:2312.00752v2 "), "2312.00752v2");
        assert_eq!(ok("ARXIV: 2312.00752"), "2312.00752");
        assert_eq!(ok("https://arxiv.org/abs/2312.00752v3"), "2312.00752v3");
        assert_eq!(ok("https://arxiv.org/pdf/2312.00752.pdf"), "2312.00752");
        assert_eq!(ok("https://arxiv.org/pdf/2312.00752v1"), "2312.00752v1");
        assert_eq!(ok("http://export.arxiv.org/abs/2312.00752?context=cs"), "2312.00752");
        assert_eq!(ok("arxiv.org/abs/hep-th/9901001v3"), "hep-th/9901001v3");
        assert_eq!(ok("https://huggingface.co/papers/2312.00752"), "2312.00752");
        assert_eq!(ok("hep-th/9901001"), "hep-th/9901001");
        assert_eq!(ok("math.GT/0309136"), "math/0309136");
        assert_eq!(ok("0704.0001"), "0704.0001");
        assert_eq!(ok("1412.9999v12"), "1412.9999v12");
    }

    #[test]
    fn rejects_malformed_ids_with_a_reason() {
        for bad in [
            "",
            "abc",
            "2312.0075",
            "2312.007521",
            "2313.00752",
            "0703.0001",
            "1501.0001",
            "2312.00752v",
            "2312.00752v0",
            "2312.00752vx",
            "foo-bar/9901001",
            "hep-th/990100",
            "hep-th/9913001",
            "hep-th/1201001",
            "2312",
            "2312.",
            ".00752",
            "http://arxiv.org/abs/",
        ] {
            let err = ArxivId::parse(bad).expect_err(bad);
            assert!(err.to_string().contains("not an arXiv identifier"), "{bad}: {err}");
        }
    }

    #[test]
    fn non_ascii_text_is_refused_not_a_panic() {
        // Found by the property tests: byte offsets 6 (after `arXiv:`) and
        // len - 4 (before `.pdf`) fell inside a multi-byte character.
        for s in ["ࡰׯ\u{f99}", "ab€€", "arXiv€", "2312.00752€pdf", "é.pdf"] {
            assert!(ArxivId::parse(s).is_err(), "{s}");
            assert!(PaperId::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn versions_and_bases() {
        let id = ArxivId::parse("2312.00752v2").unwrap();
        assert_eq!(id.base(), "2312.00752");
        assert_eq!(id.version(), Some(2));
        assert_eq!(id.without_version().to_string(), "2312.00752");
        assert_eq!(id.with_version(5).to_string(), "2312.00752v5");
        assert!(!id.is_old_style());
        assert!(ArxivId::parse("cond-mat/0102536v1").unwrap().is_old_style());
    }

    #[test]
    fn paper_ids_drop_versions_and_round_trip() {
        let id = PaperId::parse("arXiv:2312.00752v4").unwrap();
        assert_eq!(id.to_string(), "2312.00752");
        let local = PaperId::local_from_title("Monotone deep   Boltzmann machines");
        assert_eq!(local, PaperId::local_from_title("monotone deep boltzmann machines."));
        assert!(local.is_local());
        assert_eq!(PaperId::parse(&local.to_string()).unwrap(), local);
        assert!(PaperId::parse("pb-xyz").is_err());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"2312.00752\"");
        let back: PaperId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
    }
}
