//! Format detection from content (never from the file name): the first
//! non-blank byte says JSON lines (`{`), XML (`<`) or text; the keys of the
//! first JSON record tell the Kaggle snapshot from arXiv JSONL, and the root
//! element tells an Atom feed from an OAI-PMH response.

use std::io::{self, BufRead, Read};

use crate::Format;
use crate::error::IngestError;
use crate::lines::MAX_LINE_BYTES;
use crate::source::{Source, peek, skip_leading_space, unread};
use crate::xml_util::{Root, root_element};

/// How much of an XML or text input is looked at.
const SNIFF_BYTES: usize = 64 * 1024;

/// Keys that only the Kaggle snapshot has.
const KAGGLE_KEYS: &[&str] = &["versions", "submitter", "authors_parsed", "update_date"];

/// A detected input: its format, the stream positioned at its first
/// non-blank byte, and how many lines were skipped to get there.
pub(crate) struct Detected {
    pub(crate) format: Format,
    pub(crate) source: Source,
    pub(crate) lines_before: u64,
}

pub(crate) fn detect(mut source: Source, what: &str) -> Result<Detected, IngestError> {
    let read_err = |e: io::Error| IngestError::Read { what: what.to_string(), source: e };
    let unknown = |found: &str| IngestError::UnknownFormat { what: what.to_string(), found: found.to_string() };
    let (lines_before, first) = skip_leading_space(&mut source).map_err(read_err)?;
    let Some(first) = first else {
        return Err(IngestError::Empty { what: what.to_string() });
    };
    let (format, source) = match first {
        b'{' => {
            let mut line = Vec::new();
            (&mut source).take(MAX_LINE_BYTES as u64).read_until(b'\n', &mut line).map_err(read_err)?;
            let format = if is_kaggle(&line) { Format::KaggleJsonl } else { Format::ArxivJsonl };
            (format, unread(line, source))
        }
        b'[' => {
            return Err(unknown("a JSON array; convert it to JSON lines (one object a line), e.g. with `jq -c '.[]'`"));
        }
        b'<' => {
            let (prefix, source) = peek(source, SNIFF_BYTES).map_err(read_err)?;
            let format = match root_element(&prefix) {
                Root::Element(name) => match name.as_str() {
                    "feed" => Format::ArxivAtom,
                    "OAI-PMH" => Format::OaiPmh,
                    n if n.eq_ignore_ascii_case("html") => {
                        return Err(unknown(
                            "an HTML page, not an API response (an error or \"Retry after\" page? \
                             wait and fetch again)",
                        ));
                    }
                    other => return Err(unknown(&format!("XML whose root element is <{other}>"))),
                },
                Root::NotFound => {
                    return Err(unknown("XML without a root element in its first 64 KiB"));
                }
                Root::Malformed(reason) => {
                    return Err(IngestError::BadXml { what: what.to_string(), reason });
                }
            };
            (format, source)
        }
        _ => {
            let (prefix, source) = peek(source, SNIFF_BYTES).map_err(read_err)?;
            if let Some(found) = not_text(&prefix, prefix.len() == SNIFF_BYTES) {
                return Err(unknown(found));
            }
            (Format::Listing, source)
        }
    };
    Ok(Detected { format, source, lines_before })
}

/// Does the first JSON record have keys only the Kaggle snapshot has? Falls
/// back to looking for the quoted key names when the line is not valid JSON.
fn is_kaggle(line: &[u8]) -> bool {
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line) {
        Ok(map) => KAGGLE_KEYS.iter().any(|k| map.contains_key(*k)),
        Err(_) => KAGGLE_KEYS.iter().any(|k| {
            let quoted = format!("\"{k}\"");
            line.windows(quoted.len()).any(|w| w == quoted.as_bytes())
        }),
    }
}

/// Why `prefix` is not UTF-8 text, if it is not. `cut` says the prefix may
/// end in the middle of a character.
fn not_text(prefix: &[u8], cut: bool) -> Option<&'static str> {
    let text_ok = match std::str::from_utf8(prefix) {
        Ok(_) => true,
        Err(e) => cut && e.error_len().is_none(),
    };
    if !text_ok {
        return Some(
            "neither UTF-8 text nor a known format (another compression than gzip or zstd, \
             or text in another encoding? re-encode it as UTF-8)",
        );
    }
    let binary = prefix.iter().any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c));
    binary.then_some("binary data, not text (another compression than gzip or zstd?)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn fmt(bytes: &[u8]) -> Result<Format, IngestError> {
        detect(Box::new(Cursor::new(bytes.to_vec())), "test").map(|d| d.format)
    }

    #[test]
    fn detects_each_format_from_content() {
        assert_eq!(fmt(b"\n\n {\"id\":\"x\"}\n").unwrap(), Format::ArxivJsonl);
        assert_eq!(fmt(b"{\"id\":\"x\",\"update_date\":\"2008-01-01\"}").unwrap(), Format::KaggleJsonl);
        assert_eq!(fmt(b"{\"id\":\"x\",\"versions\":[{\"ver").unwrap(), Format::KaggleJsonl);
        assert_eq!(fmt(b"<?xml version='1.0'?>\n<feed/>").unwrap(), Format::ArxivAtom);
        assert_eq!(fmt(b"<OAI-PMH xmlns='x'></OAI-PMH>").unwrap(), Format::OaiPmh);
        assert_eq!(fmt("Título\n\nx".as_bytes()).unwrap(), Format::Listing);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(matches!(fmt(b" \n\t"), Err(IngestError::Empty { .. })));
        let e = fmt(b"<html><body>Retry after 10 seconds</body></html>").unwrap_err();
        assert!(e.to_string().contains("HTML page"), "{e}");
        let e = fmt(b"<rss></rss>").unwrap_err();
        assert!(e.to_string().contains("<rss>"), "{e}");
        let e = fmt(b"PK\x03\x04\x00\x00").unwrap_err();
        assert!(e.to_string().contains("binary"), "{e}");
        let e = fmt(b"caf\xe9").unwrap_err();
        assert!(e.to_string().contains("UTF-8"), "{e}");
        let e = fmt(b"[{\"id\":1}]").unwrap_err();
        assert!(e.to_string().contains("jq"), "{e}");
    }

    #[test]
    fn the_stream_still_starts_at_the_first_record() {
        let d = detect(Box::new(Cursor::new(b"\n\n{\"id\":1}\n{}\n".to_vec())), "t").unwrap();
        assert_eq!(d.lines_before, 2);
        let mut rest = String::new();
        let mut src = d.source;
        src.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "{\"id\":1}\n{}\n");
    }
}
