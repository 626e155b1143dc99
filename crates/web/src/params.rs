//! Query-string parsing where every bad value becomes a 400 with a clear
//! message (axum's `Query` extractor would answer with a plain-text 400,
//! which is wrong for the JSON API and unfriendly for the site).
//!
//! Handlers take the raw query (`RawQuery`, which cannot fail) and read it
//! through [`QueryString`]. Unknown parameters are ignored; a parameter
//! given twice is an error, because we could not know which one was meant.
//! Forms (`crate::auth::Form`) are read the same way.
//!
//! Parsing is linear in the input: `form_urlencoded` splits and decodes, a
//! hash map finds repeated names, and parsing stops at the
//! [`MAX_PARAMS`]th parameter (no page of ours takes more than a handful),
//! so a query string or form with tens of thousands of parameters is a
//! quick 400, not seconds of work.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use paperboy_core::FeedSort;
pub use paperboy_core::text::percent_encode;

use crate::error::WebError;

/// Longest parameter value quoted back in an error message.
const QUOTE_CHARS: usize = 40;

/// Most parameters one query string or form may carry.
pub const MAX_PARAMS: usize = 100;

/// A decoded query string.
#[derive(Debug, Default, Clone)]
pub struct QueryString {
    pairs: HashMap<String, String>,
}

impl QueryString {
    /// Decodes `a=1&b=x%20y` (`+` is a space; an invalid `%` escape is kept
    /// as typed, invalid UTF-8 becomes U+FFFD and the validators then reject
    /// the value). Empty values count as absent. A name given twice, or more
    /// than [`MAX_PARAMS`] parameters, is a 400.
    pub fn parse(raw: Option<&str>) -> Result<Self, WebError> {
        let mut pairs = HashMap::new();
        for (n, (key, value)) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()).enumerate() {
            if n == MAX_PARAMS {
                return Err(WebError::bad(format!(
                    "too many parameters: this site reads at most {MAX_PARAMS} in one request"
                )));
            }
            match pairs.entry(key.into_owned()) {
                Entry::Occupied(e) => {
                    return Err(WebError::bad(format!("the parameter {:?} is given more than once", quote(e.key()))));
                }
                Entry::Vacant(e) => {
                    e.insert(value.into_owned());
                }
            }
        }
        Ok(QueryString { pairs })
    }

    /// The trimmed value of `key`, `None` when absent or empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// The names of the parameters given (in no particular order).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.pairs.keys().map(String::as_str)
    }

    /// The value of `key` exactly as sent (not trimmed), `None` when absent.
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.pairs.get(key).map(String::as_str)
    }

    /// `cat`: an arXiv category (`cs.CV`) or archive (`cs`), or nothing.
    pub fn category(&self) -> Result<Option<String>, WebError> {
        match self.get("cat") {
            None => Ok(None),
            Some(c) if is_category(c) => Ok(Some(c.to_string())),
            Some(c) => Err(WebError::bad(format!(
                "cat={:?} is not a category: use an arXiv category such as cs.CV or an archive such as cs",
                quote(c)
            ))),
        }
    }

    /// `sort`: see [`FeedSort::parse`] (`new` when absent).
    pub fn sort(&self) -> Result<FeedSort, WebError> {
        Ok(FeedSort::parse(self.get("sort").unwrap_or(""))?)
    }

    /// `sort`, or `default` when absent.
    pub fn sort_or(&self, default: FeedSort) -> Result<FeedSort, WebError> {
        match self.get("sort") {
            None => Ok(default),
            Some(s) => Ok(FeedSort::parse(s)?),
        }
    }

    /// `p`: the page number, counted from 0.
    pub fn page(&self) -> Result<u32, WebError> {
        match self.get("p") {
            None => Ok(0),
            Some(p) => p
                .parse::<u32>()
                .map_err(|_| WebError::bad(format!("p={:?} is not a page number: use 0, 1, 2, …", quote(p)))),
        }
    }

    /// `limit`: a page size from 1 to `max`, `default` when absent.
    pub fn limit(&self, default: u32, max: u32) -> Result<u32, WebError> {
        let Some(raw) = self.get("limit") else {
            return Ok(default);
        };
        match raw.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(WebError::bad(format!("limit={:?} is out of range: use a number from 1 to {max}", quote(raw)))),
        }
    }
}

/// The row offset of page `page` of `size` rows, or a 400 when it overflows.
pub fn offset(page: u32, size: u32) -> Result<u32, WebError> {
    page.checked_mul(size).ok_or_else(|| WebError::bad(format!("p={page} is too large")))
}

/// Category names are short and made of letters, digits, `.`, `-` and `_`.
pub fn is_category(s: &str) -> bool {
    (1..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Shortens a user-supplied value before quoting it in a message.
pub(crate) fn quote(s: &str) -> String {
    s.chars().take(QUOTE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_rejects_duplicates() {
        let q = QueryString::parse(Some("cat=cs.CV&x=a+b%20c&empty=&p=2")).unwrap();
        assert_eq!(q.get("cat"), Some("cs.CV"));
        assert_eq!(q.get("x"), Some("a b c"));
        assert_eq!(q.get("empty"), None);
        assert_eq!(q.page().unwrap(), 2);
        assert!(QueryString::parse(Some("p=1&p=2")).is_err());
        let odd = QueryString::parse(Some("a=%zz%4&b=%FF")).unwrap();
        assert_eq!(odd.raw("a"), Some("%zz%4"));
        assert_eq!(odd.raw("b"), Some("\u{fffd}"));
    }

    #[test]
    fn validates_values() {
        let q = QueryString::parse(Some("cat=%3Cb%3E&p=-1&limit=101&sort=hot")).unwrap();
        assert!(q.category().unwrap_err().to_string().contains("not a category"));
        assert!(q.page().unwrap_err().to_string().contains("not a page number"));
        assert!(q.limit(50, 100).unwrap_err().to_string().contains("1 to 100"));
        assert!(q.sort().is_err());
        assert!(offset(u32::MAX, 30).is_err());
        assert_eq!(offset(2, 30).unwrap(), 60);
    }

    #[test]
    fn encodes_round_trip() {
        let s = "a b&c=d/é";
        let q = QueryString::parse(Some(&format!("x={}", percent_encode(s)))).unwrap();
        assert_eq!(q.raw("x"), Some(s));
        assert_eq!(percent_encode("cs.CV"), "cs.CV");
    }

    #[test]
    fn many_parameters_are_refused_at_the_limit() {
        let distinct: String = (0..50_000).map(|i| format!("k{i}=v&")).collect();
        let err = QueryString::parse(Some(&distinct)).unwrap_err();
        assert!(err.to_string().contains("too many parameters"), "{err}");
        let repeated = "k=v&".repeat(50_000);
        let err = QueryString::parse(Some(&repeated)).unwrap_err();
        assert!(err.to_string().contains("more than once"), "{err}");
        let at_limit: String = (0..MAX_PARAMS).map(|i| format!("k{i}={i}&&")).collect();
        let q = QueryString::parse(Some(&at_limit)).unwrap();
        assert_eq!(q.get("k99"), Some("99"));
        assert_eq!(QueryString::parse(Some("flag&x=1")).unwrap().raw("flag"), Some(""));
    }
}
