//! arXiv API responses (Atom 1.0 with arXiv extensions), read entry by entry:
//! `<entry>` with `id` (`http://arxiv.org/abs/2104.12255v1`), `title`,
//! `summary`, `published`, `updated`, `author/name`, `arxiv:comment`,
//! `arxiv:journal_ref`, `arxiv:doi`, `arxiv:primary_category@term` and
//! `category@term`. Works for current responses and the 2016 format (which
//! declares the `arxiv:` prefix on each element).

use paperboy_core::{ArxivId, Paper, PaperId};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::ImportOptions;
use crate::dates::parse_rfc3339;
use crate::item::{Item, finish};
use crate::source::Source;
use crate::xml_util::{Path, attr, is_truncation, local, local_str, push_cdata, push_text, reader, xml_error_reason};

const TRUNCATED_FEED: &str = "XML ended before </feed>: the response is truncated and later entries may be missing";
const TRUNCATED_ENTRY: &str = "XML ended inside <entry>: the response is truncated (fetch it again)";

/// The fields of one `<entry>`, as text.
#[derive(Default)]
struct Entry {
    id: Option<String>,
    title: Option<String>,
    summary: Option<String>,
    published: Option<String>,
    updated: Option<String>,
    authors: Vec<String>,
    comment: Option<String>,
    journal_ref: Option<String>,
    doi: Option<String>,
    primary: Option<String>,
    categories: Vec<String>,
    /// A problem with the entry's content (not its XML structure).
    problem: Option<String>,
}

/// The entries of an arXiv API Atom feed.
///
/// `listed_on` is [`ImportOptions::listed_on`] if given, else the day of
/// `published` (UTC). An entry whose id is an `.../api/errors#...` URL is the
/// API reporting an error: it is rejected with the API's message.
pub(crate) struct AtomEntries {
    xml: Reader<Source>,
    buf: Vec<u8>,
    path: Path,
    text: String,
    entry_no: u64,
    feed_closed: bool,
    done: bool,
    opts: ImportOptions,
}

impl AtomEntries {
    pub(crate) fn new(source: Source, opts: ImportOptions) -> Self {
        AtomEntries {
            xml: reader(source),
            buf: Vec::with_capacity(16 * 1024),
            path: Path::default(),
            text: String::new(),
            entry_no: 0,
            feed_closed: false,
            done: false,
            opts,
        }
    }

    fn between_entries(&self) -> String {
        if self.entry_no == 0 { "before the first entry".to_string() } else { format!("after entry {}", self.entry_no) }
    }

    /// Reads one entry, from just after its start tag to its end tag.
    fn read_entry(&mut self) -> Item {
        let mut entry = Entry::default();
        self.path.clear();
        self.text.clear();
        let loc = format!("entry {}", self.entry_no);
        loop {
            self.buf.clear();
            match self.xml.read_event_into(&mut self.buf) {
                Ok(Event::Start(e)) => {
                    self.path.push(local_str(&e));
                    self.text.clear();
                    on_attributes(&mut entry, self.path.as_str(), &e);
                }
                Ok(Event::Empty(e)) => {
                    self.path.push(local_str(&e));
                    on_attributes(&mut entry, self.path.as_str(), &e);
                    self.path.pop();
                }
                Ok(Event::Text(t)) => {
                    if let Err(why) = push_text(&mut self.text, &t) {
                        entry.problem.get_or_insert(why);
                    }
                }
                Ok(Event::CData(c)) => {
                    if let Err(why) = push_cdata(&mut self.text, &c) {
                        entry.problem.get_or_insert(why);
                    }
                }
                Ok(Event::End(_)) => {
                    if self.path.depth() == 0 {
                        return self.build(entry, loc);
                    }
                    let text = std::mem::take(&mut self.text);
                    on_text(&mut entry, self.path.as_str(), text);
                    self.path.pop();
                }
                Ok(Event::Eof) => {
                    self.done = true;
                    return Item::rejected(loc, TRUNCATED_ENTRY);
                }
                Ok(_) => {}
                Err(e) if is_truncation(&e) => {
                    self.done = true;
                    return Item::rejected(loc, TRUNCATED_ENTRY);
                }
                Err(e) => {
                    self.done = true;
                    return Item::rejected(loc, xml_error_reason(&self.xml, &e));
                }
            }
        }
    }

    fn build(&self, e: Entry, loc: String) -> Item {
        let Some(raw_id) = e.id.as_deref().map(str::trim) else {
            return Item::rejected(loc, "the entry has no <id>");
        };
        if raw_id.contains("arxiv.org/api/errors") {
            let msg = e.summary.or(e.title).unwrap_or_default();
            let msg = paperboy_core::text::normalize_ws(&msg);
            return Item::rejected(loc, format!("the arXiv API reported an error: {msg}"));
        }
        if let Some(problem) = e.problem {
            return Item::rejected(loc, problem);
        }
        let arxiv = match ArxivId::parse(raw_id) {
            Ok(id) => id,
            Err(err) => return Item::rejected(loc, err.to_string()),
        };
        let published = e.published.as_deref().and_then(parse_rfc3339);
        let updated = e.updated.as_deref().and_then(parse_rfc3339);
        let listed_on = self
            .opts
            .listed_on
            .or(published.map(|d| d.date_naive()))
            .or(updated.map(|d| d.date_naive()))
            .unwrap_or(self.opts.today);
        let version = arxiv.version();
        let mut paper = Paper::new(PaperId::from(arxiv), e.title.unwrap_or_default(), listed_on);
        paper.version = version;
        paper.abstract_text = e.summary.unwrap_or_default();
        paper.authors = e.authors;
        paper.primary_category = e.primary;
        paper.categories = e.categories;
        paper.submitted_at = published;
        paper.updated_at = updated;
        paper.comment = e.comment;
        paper.journal_ref = e.journal_ref;
        paper.doi = e.doi;
        finish(paper, || loc)
    }
}

fn on_attributes(entry: &mut Entry, path: &str, e: &BytesStart<'_>) {
    match path {
        "category" => entry.categories.extend(attr(e, b"term")),
        "primary_category" => {
            if let Some(term) = attr(e, b"term") {
                entry.primary = Some(term);
            }
        }
        _ => {}
    }
}

fn on_text(entry: &mut Entry, path: &str, text: String) {
    let slot = match path {
        "id" => &mut entry.id,
        "title" => &mut entry.title,
        "summary" => &mut entry.summary,
        "published" => &mut entry.published,
        "updated" => &mut entry.updated,
        "comment" => &mut entry.comment,
        "journal_ref" => &mut entry.journal_ref,
        "doi" => &mut entry.doi,
        "author/name" => {
            entry.authors.push(text);
            return;
        }
        _ => return,
    };
    *slot = Some(text);
}

impl Iterator for AtomEntries {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        loop {
            self.buf.clear();
            match self.xml.read_event_into(&mut self.buf) {
                Ok(Event::Start(e)) if local(e.name().into_inner()) == b"entry" => {
                    self.entry_no += 1;
                    return Some(self.read_entry());
                }
                Ok(Event::End(e)) if local(e.name().into_inner()) == b"feed" => {
                    self.feed_closed = true;
                }
                Ok(Event::Eof) => {
                    self.done = true;
                    if self.feed_closed {
                        return None;
                    }
                    return Some(Item::rejected(self.between_entries(), TRUNCATED_FEED));
                }
                Ok(_) => {}
                Err(e) if is_truncation(&e) => {
                    self.done = true;
                    return Some(Item::rejected(self.between_entries(), TRUNCATED_FEED));
                }
                Err(e) => {
                    self.done = true;
                    return Some(Item::rejected(self.between_entries(), xml_error_reason(&self.xml, &e)));
                }
            }
        }
    }
}
