//! `multipart/form-data` bodies, for the one form that uploads a file (the
//! library upload of `/settings/library`). [`crate::auth::csrf_middleware`]
//! reads such a body (up to [`MAX_UPLOAD_BYTES`]), parses it here, checks
//! its `csrf` field like any form's, and hands the parsed [`Multipart`] on
//! in the request's extensions. No streaming: the cap keeps it small.

use axum::body::Bytes;
use axum::http::{HeaderMap, header};

use crate::error::WebError;

/// The largest multipart body accepted: a library file at its cap plus the
/// form's other fields and the part headers.
pub const MAX_UPLOAD_BYTES: usize = paperboy_services::library::MAX_LIBRARY_BYTES + 64 * 1024;

/// The paths whose POSTs may be `multipart/form-data`.
pub const MULTIPART_FORMS: &[&str] = &["/settings/library"];

/// The most parts a form may have.
const MAX_PARTS: usize = 32;

/// One field of a multipart form.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    /// The uploaded file's name, for file fields.
    pub filename: Option<String>,
    pub data: Bytes,
}

/// A parsed `multipart/form-data` body.
#[derive(Debug, Clone, Default)]
pub struct Multipart {
    parts: Vec<Part>,
}

/// The boundary of a `multipart/form-data` request, if it is one.
pub fn boundary(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let (kind, params) = ct.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    let first = needle[0];
    let mut i = from;
    while i + needle.len() <= haystack.len() {
        match haystack[i..haystack.len() - needle.len() + 1].iter().position(|&b| b == first) {
            None => return None,
            Some(off) => {
                i += off;
                if haystack[i..].starts_with(needle) {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

impl Multipart {
    /// Parses `body` with `boundary` (RFC 7578).
    pub fn parse(boundary: &str, body: &Bytes) -> Result<Self, WebError> {
        let bad = || WebError::bad("The upload is not a valid multipart/form-data body; send the form again");
        if boundary.is_empty() || boundary.len() > 200 {
            return Err(bad());
        }
        let delimiter = format!("--{boundary}");
        let next_delimiter = format!("\r\n--{boundary}");
        let mut pos = find(body, delimiter.as_bytes(), 0).ok_or_else(bad)? + delimiter.len();
        let mut parts = Vec::new();
        loop {
            if body[pos..].starts_with(b"--") {
                return Ok(Multipart { parts });
            }
            if !body[pos..].starts_with(b"\r\n") || parts.len() >= MAX_PARTS {
                return Err(bad());
            }
            pos += 2;
            let head_end = find(body, b"\r\n\r\n", pos).ok_or_else(bad)?;
            let head = std::str::from_utf8(&body[pos..head_end]).map_err(|_| bad())?;
            let data_start = head_end + 4;
            let data_end = find(body, next_delimiter.as_bytes(), data_start).ok_or_else(bad)?;
            let (name, filename) = disposition(head).ok_or_else(bad)?;
            parts.push(Part { name, filename, data: body.slice(data_start..data_end) });
            pos = data_end + next_delimiter.len();
        }
    }

    /// The first field called `name`.
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }

    /// A text field, trimmed; `None` when absent, empty or not UTF-8.
    pub fn text(&self, name: &str) -> Option<&str> {
        let p = self.part(name)?;
        std::str::from_utf8(&p.data).ok().map(str::trim).filter(|s| !s.is_empty())
    }
}

/// `name` and `filename` of a part's `Content-Disposition: form-data` header.
fn disposition(head: &str) -> Option<(String, Option<String>)> {
    let line = head
        .lines()
        .find(|l| l.split_once(':').is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition")))?;
    let (_, value) = line.split_once(':')?;
    let mut name = None;
    let mut filename = None;
    for param in value.split(';').skip(1) {
        let Some((k, v)) = param.trim().split_once('=') else { continue };
        let v = v.trim().trim_matches('"').to_string();
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(v),
            "filename" => filename = Some(v),
            _ => {}
        }
    }
    Some((name?, filename))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_files() {
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n\
              --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"my.bib\"\r\n\
              Content-Type: application/x-bibtex\r\n\r\n@misc{k,\r\n title={T}}\r\n--XyZ--\r\n",
        );
        let m = Multipart::parse("XyZ", &body).expect("valid");
        assert_eq!(m.text("csrf"), Some("abc"));
        let f = m.part("file").expect("file part");
        assert_eq!(f.filename.as_deref(), Some("my.bib"));
        assert_eq!(&f.data[..], b"@misc{k,\r\n title={T}}");
        assert!(m.text("text").is_none());
        assert!(Multipart::parse("XyZ", &Bytes::from_static(b"--XyZ\r\nno headers end")).is_err());
        assert!(Multipart::parse("Q", &Bytes::from_static(b"nothing")).is_err());
    }
}
