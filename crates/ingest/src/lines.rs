//! Line-by-line reading with a reused buffer, physical line numbers, a cap on
//! line length (constant memory even for a file without line breaks) and
//! per-line UTF-8 checking, so one bad line never spoils its neighbours.

use std::io::{self, BufRead, Read as _};

use crate::source::Source;

/// Longest line we keep; longer lines are skipped and reported.
pub(crate) const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// One physical line, or what went wrong with it.
pub(crate) enum Line<'a> {
    /// The line without its line break (`\n` or `\r\n`).
    Text(&'a str),
    /// The line is not valid UTF-8; `valid_up_to` is the byte offset of the
    /// first bad byte.
    BadUtf8 { valid_up_to: usize },
    /// The line is longer than [`MAX_LINE_BYTES`]; it was skipped.
    TooLong,
    /// Reading failed; nothing more can be read.
    Io(io::Error),
    /// End of input.
    Eof,
}

enum Read {
    Line(usize),
    TooLong,
    Io(io::Error),
    Eof,
}

pub(crate) struct LineReader {
    source: Source,
    buf: Vec<u8>,
    line_no: u64,
    max: usize,
}

impl LineReader {
    /// `lines_before` is the number of lines already consumed from the input
    /// (so that reported line numbers are physical ones).
    pub(crate) fn new(source: Source, lines_before: u64) -> Self {
        LineReader { source, buf: Vec::with_capacity(64 * 1024), line_no: lines_before, max: MAX_LINE_BYTES }
    }

    #[cfg(test)]
    fn with_max(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// Reads the next line; also returns its 1-based physical line number.
    pub(crate) fn next_line(&mut self) -> (u64, Line<'_>) {
        let line = match self.read_line() {
            Read::Line(end) => match std::str::from_utf8(&self.buf[..end]) {
                Ok(s) => Line::Text(s),
                Err(e) => Line::BadUtf8 { valid_up_to: e.valid_up_to() },
            },
            Read::TooLong => Line::TooLong,
            Read::Io(e) => Line::Io(e),
            Read::Eof => Line::Eof,
        };
        (self.line_no, line)
    }

    /// Reads a line into `buf`; `Read::Line` holds where its content ends.
    fn read_line(&mut self) -> Read {
        self.buf.clear();
        let limit = self.max as u64 + 1;
        let n = match (&mut self.source).take(limit).read_until(b'\n', &mut self.buf) {
            Ok(n) => n,
            Err(e) => {
                self.line_no += 1;
                return Read::Io(e);
            }
        };
        if n == 0 {
            return Read::Eof;
        }
        self.line_no += 1;
        if self.buf.last() != Some(&b'\n') && self.buf.len() as u64 == limit {
            return match self.skip_rest_of_line() {
                Ok(()) => Read::TooLong,
                Err(e) => Read::Io(e),
            };
        }
        let mut end = self.buf.len();
        if self.buf[..end].ends_with(b"\n") {
            end -= 1;
        }
        if self.buf[..end].ends_with(b"\r") {
            end -= 1;
        }
        Read::Line(end)
    }

    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        loop {
            let chunk = self.source.fill_buf()?;
            if chunk.is_empty() {
                return Ok(());
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.source.consume(i + 1);
                    return Ok(());
                }
                None => {
                    let len = chunk.len();
                    self.source.consume(len);
                }
            }
        }
    }
}

/// The reason given for a line that is not valid UTF-8.
pub(crate) fn bad_utf8_reason(valid_up_to: usize) -> String {
    format!(
        "invalid UTF-8 at byte {} of the line (the file must be UTF-8; re-encode it, e.g. with iconv)",
        valid_up_to + 1
    )
}

/// The reason given for an over-long line.
pub(crate) fn too_long_reason() -> String {
    format!(
        "the line is longer than {} MiB and was skipped (is this really one record a line?)",
        MAX_LINE_BYTES / (1024 * 1024)
    )
}

/// The reason given when reading fails part-way.
pub(crate) fn io_reason(e: &io::Error) -> String {
    format!("read error: {e}; the rest of the input was not imported (is the file truncated or corrupt?)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn reader(bytes: &[u8]) -> LineReader {
        LineReader::new(Box::new(Cursor::new(bytes.to_vec())), 0)
    }

    #[test]
    fn lines_are_numbered_and_stripped() {
        let mut r = reader(b"a\r\n\nb\xffc\nlast");
        assert!(matches!(r.next_line(), (1, Line::Text("a"))));
        assert!(matches!(r.next_line(), (2, Line::Text(""))));
        assert!(matches!(r.next_line(), (3, Line::BadUtf8 { valid_up_to: 1 })));
        assert!(matches!(r.next_line(), (4, Line::Text("last"))));
        assert!(matches!(r.next_line(), (4, Line::Eof)));
    }

    #[test]
    fn over_long_lines_are_skipped_whole() {
        let mut r = reader(b"0123456789abc\nok\n").with_max(5);
        assert!(matches!(r.next_line(), (1, Line::TooLong)));
        assert!(matches!(r.next_line(), (2, Line::Text("ok"))));
        let mut exact = reader(b"12345\n").with_max(5);
        assert!(matches!(exact.next_line(), (1, Line::Text("12345"))));
    }
}
