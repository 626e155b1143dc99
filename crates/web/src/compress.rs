//! Response compression: gzip and brotli, negotiated by `Accept-Encoding`.
//!
//! Text bodies (HTML, JSON, Atom/RSS and other XML, CSS, JavaScript, plain
//! text, BibTeX) of at least [`MIN_SIZE`] bytes are compressed with the
//! coding the client prefers by q-value, brotli when `br` and `gzip` are
//! equally welcome. Images, small bodies, bodies already encoded, and
//! anything but a 200 are sent as they are. Every compressible response says
//! `Vary: Accept-Encoding`, compressed or not, so that shared caches keep
//! one copy per coding.
//!
//! The cached anonymous pages (`cache.rs`) keep each coding's bytes in their
//! cache entry, made on first demand, so a cache hit compresses nothing; the
//! other responses are compressed by [`crate::conditional`]'s middleware as
//! they leave. A compressed representation's `ETag` is the identity one's
//! with a suffix (`"…-br"`, `"…-gz"`), since it is another byte sequence.

use std::io::Write as _;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};

/// Smaller bodies are not compressed: the saving is lost in the headers.
pub const MIN_SIZE: usize = 1024;
/// gzip level (1 fastest, 9 smallest): 6, zlib's default.
const GZIP_LEVEL: u32 = 6;
/// Brotli quality (0-11): 5 compresses better than gzip -6 at about its speed.
const BROTLI_QUALITY: u32 = 5;
/// Brotli window, log2 bytes.
const BROTLI_WINDOW: u32 = 22;

/// A content coding this server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    /// The `Content-Encoding` token (`None` for identity).
    pub fn token(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }

    /// What this coding's `ETag` adds to the identity one's opaque tag.
    pub fn etag_suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Gzip => "-gz",
            Coding::Brotli => "-br",
        }
    }
}

/// The coding to send given the request's `Accept-Encoding` values: the
/// one with the highest q-value among `br` and `gzip` (`*` stands for
/// those not named), brotli on a tie; identity when neither is acceptable
/// or the header is absent.
pub fn negotiate<'a>(accept: impl IntoIterator<Item = &'a HeaderValue>) -> Coding {
    let (mut br, mut gzip, mut star) = (None::<f32>, None::<f32>, None::<f32>);
    for value in accept {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let mut q = 1.0f32;
            for param in parts {
                let Some((k, v)) = param.split_once('=') else { continue };
                if k.trim().eq_ignore_ascii_case("q") {
                    // An unreadable q-value makes the coding unacceptable.
                    q = v.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)).unwrap_or(0.0);
                }
            }
            let slot = match name.as_str() {
                "br" => &mut br,
                "gzip" | "x-gzip" => &mut gzip,
                "*" => &mut star,
                _ => continue,
            };
            // A coding named twice keeps its best q-value.
            *slot = Some(slot.map_or(q, |old| old.max(q)));
        }
    }
    let br = br.or(star).unwrap_or(0.0);
    let gzip = gzip.or(star).unwrap_or(0.0);
    if br <= 0.0 && gzip <= 0.0 {
        Coding::Identity
    } else if br >= gzip {
        Coding::Brotli
    } else {
        Coding::Gzip
    }
}

/// Whether a response with these headers is of a compressible type and not
/// encoded already (its size is checked apart: [`MIN_SIZE`]).
pub fn compressible_type(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::CONTENT_ENCODING) {
        return false;
    }
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime.starts_with("text/")
        || mime == "application/json"
        || mime == "application/javascript"
        || mime == "application/xml"
        || mime == "image/svg+xml"
        || mime.ends_with("+xml")
        || mime.ends_with("+json")
}

/// `body` encoded with `coding` (identity: as it is).
pub fn encode(coding: Coding, body: &[u8]) -> Bytes {
    match coding {
        Coding::Identity => Bytes::copy_from_slice(body),
        Coding::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 4 + 64),
                flate2::Compression::new(GZIP_LEVEL),
            );
            // Writing into a Vec cannot fail.
            let _ = enc.write_all(body);
            Bytes::from(enc.finish().unwrap_or_default())
        }
        Coding::Brotli => {
            let mut out = Vec::with_capacity(body.len() / 4 + 64);
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, BROTLI_WINDOW);
                let _ = w.write_all(body);
            }
            Bytes::from(out)
        }
    }
}

/// Adds `Accept-Encoding` to the response's `Vary` unless it is there.
pub fn vary_on_encoding(headers: &mut HeaderMap) {
    let present = headers.get_all(header::VARY).iter().any(|v| {
        v.to_str()
            .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case("accept-encoding") || t.trim() == "*"))
    });
    if !present {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// Sets the headers of a body sent with `coding`: `Content-Encoding`, no
/// `Content-Length` (the server writes the new one), and `Vary`.
pub fn mark_encoded(headers: &mut HeaderMap, coding: Coding) {
    if let Some(token) = coding.token() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
        headers.remove(header::CONTENT_LENGTH);
    }
    vary_on_encoding(headers);
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    fn pick(values: &[&'static str]) -> Coding {
        let values: Vec<HeaderValue> = values.iter().map(|v| HeaderValue::from_static(v)).collect();
        negotiate(values.iter())
    }

    #[test]
    fn negotiation_follows_q_values_and_prefers_brotli_on_a_tie() {
        assert_eq!(pick(&[]), Coding::Identity);
        assert_eq!(pick(&["gzip, deflate, br"]), Coding::Brotli);
        assert_eq!(pick(&["gzip"]), Coding::Gzip);
        assert_eq!(pick(&["br;q=0.5, gzip;q=0.8"]), Coding::Gzip);
        assert_eq!(pick(&["br;q=0.8, gzip;q=0.8"]), Coding::Brotli);
        assert_eq!(pick(&["gzip;q=0, br;q=0"]), Coding::Identity);
        assert_eq!(pick(&["identity"]), Coding::Identity);
        assert_eq!(pick(&["*"]), Coding::Brotli);
        assert_eq!(pick(&["*;q=0.1, gzip"]), Coding::Gzip);
        assert_eq!(pick(&["br;q=0", "*"]), Coding::Gzip, "br refused, gzip through *");
        assert_eq!(pick(&["GZIP;Q=1"]), Coding::Gzip);
        assert_eq!(pick(&["gzip;q=nonsense"]), Coding::Identity);
    }

    #[test]
    fn only_text_types_not_yet_encoded_are_compressed() {
        let with = |ct: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            h
        };
        for ct in [
            "text/html; charset=utf-8",
            "application/json",
            "application/atom+xml; charset=utf-8",
            "application/rss+xml",
            "text/css",
            "application/javascript",
        ] {
            assert!(compressible_type(&with(ct)), "{ct}");
        }
        for ct in ["image/png", "image/jpeg", "application/octet-stream", "application/zip"] {
            assert!(!compressible_type(&with(ct)), "{ct}");
        }
        let mut h = with("text/html");
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        assert!(!compressible_type(&h), "already encoded");
        assert!(!compressible_type(&HeaderMap::new()), "no type");
    }

    #[test]
    fn both_codings_round_trip() {
        let text = "<p>Attention is all you need</p>\n".repeat(200);
        let gz = encode(Coding::Gzip, text.as_bytes());
        let mut back = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut back).unwrap();
        assert_eq!(back, text);
        let br = encode(Coding::Brotli, text.as_bytes());
        let mut back = Vec::new();
        brotli::Decompressor::new(&br[..], 4096).read_to_end(&mut back).unwrap();
        assert_eq!(back, text.as_bytes());
        assert!(br.len() < text.len() / 10 && gz.len() < text.len() / 10);
    }

    #[test]
    fn vary_is_added_once() {
        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("cookie"));
        vary_on_encoding(&mut h);
        vary_on_encoding(&mut h);
        let all: Vec<_> = h.get_all(header::VARY).iter().collect();
        assert_eq!(all, ["cookie", "accept-encoding"]);
    }
}
