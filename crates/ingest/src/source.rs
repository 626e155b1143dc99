//! Byte sources: a counting wrapper for progress reporting, transparent
//! gzip / zstd decompression chosen by magic bytes, and small helpers to look
//! at the start of a stream without losing it.

use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The stream type every importer reads from.
pub(crate) type Source = Box<dyn BufRead + Send>;

/// Buffer size for decompressed streams and files.
pub(crate) const BUF_SIZE: usize = 256 * 1024;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Counts the bytes taken from the wrapped (possibly compressed) source.
///
/// Bytes are counted when they are `read` or `consume`d, never both, so the
/// count works whichever of `Read` and `BufRead` the next layer uses.
pub(crate) struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    pub(crate) fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        Counting { inner, count }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.count.fetch_add(amt as u64, Ordering::Relaxed);
        self.inner.consume(amt);
    }
}

/// Reads up to `n` bytes from the start of `source` and returns them with a
/// stream that still yields everything from the first byte.
pub(crate) fn peek(mut source: Source, n: usize) -> io::Result<(Vec<u8>, Source)> {
    let mut prefix = Vec::with_capacity(n.min(BUF_SIZE));
    (&mut source).take(n as u64).read_to_end(&mut prefix)?;
    let rest: Source = Box::new(Cursor::new(prefix.clone()).chain(source));
    Ok((prefix, rest))
}

/// Puts `prefix` back in front of `source`.
pub(crate) fn unread(prefix: Vec<u8>, source: Source) -> Source {
    if prefix.is_empty() { source } else { Box::new(Cursor::new(prefix).chain(source)) }
}

/// Wraps `source` in a decompressor when it starts with gzip or zstd magic
/// bytes (never judged by file name). Returns the stream and a short name of
/// the compression, if any.
pub(crate) fn decompress(source: Source) -> io::Result<(Source, Option<&'static str>)> {
    let (magic, source) = peek(source, ZSTD_MAGIC.len())?;
    if magic.starts_with(GZIP_MAGIC) {
        let dec = flate2::bufread::MultiGzDecoder::new(source);
        Ok((Box::new(BufReader::with_capacity(BUF_SIZE, dec)), Some("gzip")))
    } else if magic.starts_with(ZSTD_MAGIC) {
        let dec = zstd::stream::read::Decoder::with_buffer(source)?;
        Ok((Box::new(BufReader::with_capacity(BUF_SIZE, dec)), Some("zstd")))
    } else {
        Ok((source, None))
    }
}

/// Consumes leading whitespace and a UTF-8 byte-order mark. Returns how many
/// line breaks were skipped (so line numbers stay physical) and the first
/// byte after them, or `None` at the end of the stream.
pub(crate) fn skip_leading_space(source: &mut Source) -> io::Result<(u64, Option<u8>)> {
    let mut newlines = 0u64;
    let mut first_chunk = true;
    loop {
        let buf = source.fill_buf()?;
        if buf.is_empty() {
            return Ok((newlines, None));
        }
        let mut i = 0;
        if first_chunk && buf.starts_with(&[0xef, 0xbb, 0xbf]) {
            i = 3;
        }
        first_chunk = false;
        while i < buf.len() && matches!(buf[i], b' ' | b'\t' | b'\r' | b'\n' | 0x0c) {
            if buf[i] == b'\n' {
                newlines += 1;
            }
            i += 1;
        }
        let next = buf.get(i).copied();
        source.consume(i);
        if next.is_some() {
            return Ok((newlines, next));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_counts_consumed_bytes_once() {
        let count = Arc::new(AtomicU64::new(0));
        let mut r = Counting::new(Cursor::new(b"hello\nworld\n".to_vec()), count.clone());
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert_eq!(count.load(Ordering::Relaxed), 6);
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        assert_eq!(count.load(Ordering::Relaxed), 12);
    }

    #[test]
    fn peek_does_not_lose_bytes() {
        let src: Source = Box::new(Cursor::new(b"abcdef".to_vec()));
        let (p, mut rest) = peek(src, 4).unwrap();
        assert_eq!(p, b"abcd");
        let mut all = String::new();
        rest.read_to_string(&mut all).unwrap();
        assert_eq!(all, "abcdef");
    }

    #[test]
    fn leading_space_and_bom_are_skipped_and_lines_counted() {
        let mut src: Source = Box::new(Cursor::new(b"\xef\xbb\xbf \n\r\n  {x".to_vec()));
        let (lines, first) = skip_leading_space(&mut src).unwrap();
        assert_eq!((lines, first), (2, Some(b'{')));
        let mut empty: Source = Box::new(Cursor::new(b" \n ".to_vec()));
        assert_eq!(skip_leading_space(&mut empty).unwrap(), (1, None));
    }
}
