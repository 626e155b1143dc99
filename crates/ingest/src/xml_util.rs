//! Small helpers shared by the XML importers: a configured streaming reader,
//! namespace-prefix-blind names, attribute lookup, text collection with
//! entity handling, element paths, and finding the root element for format
//! detection.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, BytesText, Event};

use crate::lines::io_reason;
use crate::source::Source;

/// A streaming XML reader over `source`.
pub(crate) fn reader(source: Source) -> Reader<Source> {
    let mut r = Reader::from_reader(source);
    let cfg = r.config_mut();
    cfg.trim_text(false);
    cfg.check_end_names = true;
    cfg.expand_empty_elements = false;
    r
}

/// The element name without its namespace prefix (`arxiv:doi` -> `doi`).
pub(crate) fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// The local name of an element as text (`?` if it is not UTF-8).
pub(crate) fn local_str<'a>(e: &'a BytesStart<'_>) -> &'a str {
    let name = e.name().into_inner();
    std::str::from_utf8(local(name)).unwrap_or("?")
}

/// The value of the attribute whose local name is `name`, unescaped.
pub(crate) fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (local(a.key.as_ref()) == name).then(|| match a.unescape_value() {
            Ok(v) => v.into_owned(),
            Err(_) => String::from_utf8_lossy(&a.value).into_owned(),
        })
    })
}

/// Appends a text node to `out`. Unknown entities (`&nbsp;` in a title) are
/// kept as written; text that is not UTF-8 is an error for the record.
pub(crate) fn push_text(out: &mut String, t: &BytesText<'_>) -> Result<(), String> {
    match t.unescape() {
        Ok(s) => {
            out.push_str(&s);
            Ok(())
        }
        Err(_) => match std::str::from_utf8(t) {
            Ok(raw) => {
                out.push_str(raw);
                Ok(())
            }
            Err(e) => Err(format!("text is not valid UTF-8 ({e}); only UTF-8 XML is supported")),
        },
    }
}

/// Appends CDATA content to `out`.
pub(crate) fn push_cdata(out: &mut String, raw: &[u8]) -> Result<(), String> {
    match std::str::from_utf8(raw) {
        Ok(s) => {
            out.push_str(s);
            Ok(())
        }
        Err(e) => Err(format!("CDATA is not valid UTF-8 ({e})")),
    }
}

/// The path of the element being read, relative to a record element, as
/// `a/b/c`, maintained with one reused string.
#[derive(Default)]
pub(crate) struct Path {
    s: String,
    depth: usize,
}

impl Path {
    pub(crate) fn clear(&mut self) {
        self.s.clear();
        self.depth = 0;
    }

    pub(crate) fn push(&mut self, name: &str) {
        if self.depth > 0 {
            self.s.push('/');
        }
        self.s.push_str(name);
        self.depth += 1;
    }

    pub(crate) fn pop(&mut self) {
        match self.s.rfind('/') {
            Some(i) => self.s.truncate(i),
            None => self.s.clear(),
        }
        self.depth = self.depth.saturating_sub(1);
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.s
    }

    pub(crate) fn depth(&self) -> usize {
        self.depth
    }
}

/// The reason given for an XML error: where, what, and what to do.
pub(crate) fn xml_error_reason(xml: &Reader<Source>, e: &quick_xml::Error) -> String {
    match e {
        quick_xml::Error::Io(io) => io_reason(io),
        _ => format!("malformed XML at byte {}: {e}; the rest of the input was not imported", xml.error_position()),
    }
}

/// Did the XML end in the middle of a tag, comment or CDATA section?
pub(crate) fn is_truncation(e: &quick_xml::Error) -> bool {
    matches!(e, quick_xml::Error::Syntax(s) if *s != quick_xml::errors::SyntaxError::InvalidBangMarkup)
}

/// What the start of an XML document says about it.
pub(crate) enum Root {
    /// The local name of the root element.
    Element(String),
    /// No root element in the bytes given.
    NotFound,
    /// The bytes are not well-formed XML.
    Malformed(String),
}

/// Finds the root element in the first bytes of a document, skipping the
/// XML declaration, processing instructions, comments and a DOCTYPE.
pub(crate) fn root_element(prefix: &[u8]) -> Root {
    let mut r = Reader::from_reader(prefix);
    let mut buf = Vec::new();
    loop {
        match r.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                return Root::Element(local_str(&e).to_string());
            }
            Ok(Event::Eof) => return Root::NotFound,
            Ok(_) => {}
            Err(e) => return Root::Malformed(e.to_string()),
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_found_after_prologue() {
        let doc = br#"<?xml version="1.0"?><?xml-stylesheet href="x"?><!-- c --><!DOCTYPE x><a:feed xmlns:a="y"><b/></a:feed>"#;
        assert!(matches!(root_element(doc), Root::Element(n) if n == "feed"));
        assert!(matches!(root_element(b"<?xml version='1.0'?>"), Root::NotFound));
        assert!(matches!(root_element(b"<a x='1></a>"), Root::Malformed(_) | Root::NotFound));
    }

    #[test]
    fn paths_push_and_pop() {
        let mut p = Path::default();
        p.push("metadata");
        p.push("arXiv");
        p.push("id");
        assert_eq!(p.as_str(), "metadata/arXiv/id");
        assert_eq!(p.depth(), 3);
        p.pop();
        p.pop();
        assert_eq!(p.as_str(), "metadata");
        p.pop();
        p.pop();
        assert_eq!((p.as_str(), p.depth()), ("", 0));
    }

    #[test]
    fn local_names_drop_prefixes() {
        assert_eq!(local(b"arxiv:doi"), b"doi");
        assert_eq!(local(b"doi"), b"doi");
    }
}
