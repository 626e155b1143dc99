//! OAI-PMH responses from arXiv (`ListRecords` and `GetRecord` pages), read
//! record by record, in the `arXiv` and `arXivRaw` metadata formats; plus
//! [`oai_page_info`], which reads the paging information a harvester needs.

use paperboy_core::{ArxivId, Paper, PaperId};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::ImportOptions;
use crate::authors::{full_name, split_authors};
use crate::dates::{parse_rfc2822, parse_ymd, ymd_as_datetime};
use crate::error::{IngestError, oai_hint};
use crate::item::{Item, finish};
use crate::kaggle::version_number;
use crate::source::Source;
use crate::xml_util::{Path, attr, is_truncation, local, local_str, push_cdata, push_text, reader, xml_error_reason};

/// The prefix arXiv puts before ids in OAI identifiers.
const ARXIV_OAI_PREFIX: &str = "oai:arXiv.org:";

/// Opens an OAI-PMH response: reads up to the verb element and returns the
/// records, or an error for an OAI-PMH `<error>` (other than
/// `noRecordsMatch`, which is zero records) and for verbs that carry no
/// records.
pub(crate) fn open_records(
    source: Source,
    opts: ImportOptions,
    what: &str,
) -> Result<Box<dyn Iterator<Item = Item> + Send>, IngestError> {
    let mut xml = reader(source);
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut depth = 0usize;
    loop {
        buf.clear();
        let (e, empty) = match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            Ok(Event::Eof) => {
                return Err(IngestError::UnknownFormat {
                    what: what.to_string(),
                    found: "an OAI-PMH response that ends before its ListRecords or GetRecord \
                            element (truncated?)"
                        .to_string(),
                });
            }
            Ok(_) => continue,
            Err(e) => {
                return Err(IngestError::BadXml { what: what.to_string(), reason: xml_error_reason(&xml, &e) });
            }
        };
        if !empty {
            depth += 1;
        }
        // Children of <OAI-PMH> are at depth 2 (1 for an empty element).
        let at_top = if empty { depth == 1 } else { depth == 2 };
        if !at_top {
            continue;
        }
        let name = local_str(&e).to_string();
        match name.as_str() {
            "responseDate" | "request" => {}
            "error" => {
                let code = attr(&e, b"code").unwrap_or_default();
                let mut message = String::new();
                if !empty {
                    read_text_to_end(&mut xml, &mut buf, &mut message);
                }
                if code == "noRecordsMatch" {
                    return Ok(Box::new(std::iter::empty()));
                }
                return Err(IngestError::Oai {
                    hint: oai_hint(&code),
                    code,
                    message: paperboy_core::text::normalize_ws(&message),
                });
            }
            "ListRecords" | "GetRecord" if empty => return Ok(Box::new(std::iter::empty())),
            "ListRecords" | "GetRecord" => {
                return Ok(Box::new(OaiRecords {
                    xml,
                    buf,
                    path: Path::default(),
                    text: String::new(),
                    record_no: 0,
                    list_closed: false,
                    done: false,
                    opts,
                }));
            }
            verb => {
                return Err(IngestError::NotRecords { what: what.to_string(), verb: verb.to_string() });
            }
        }
    }
}

/// Collects the text up to the end of the current element (used for
/// `<error>` messages).
fn read_text_to_end(xml: &mut Reader<Source>, buf: &mut Vec<u8>, out: &mut String) {
    let mut depth = 0usize;
    loop {
        buf.clear();
        match xml.read_event_into(buf) {
            Ok(Event::Text(t)) => {
                let _ = push_text(out, &t);
            }
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) if depth == 0 => return,
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Eof) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

const TRUNCATED_LIST: &str = "XML ended before </ListRecords>: the page is truncated and later \
                              records are missing (fetch it again)";
const TRUNCATED_RECORD: &str = "XML ended inside <record>: the page is truncated (fetch it again)";

/// The fields of one `<record>`, as text.
#[derive(Default)]
struct Record {
    identifier: Option<String>,
    deleted: bool,
    /// Local name of the element inside `<metadata>` (`arXiv`, `arXivRaw`, ...).
    format: Option<String>,
    /// The same element's name as written (`oai_dc:dc`), for messages.
    format_name: Option<String>,
    id: Option<String>,
    title: Option<String>,
    abstract_text: Option<String>,
    categories: Option<String>,
    comments: Option<String>,
    journal_ref: Option<String>,
    doi: Option<String>,
    // arXiv format
    created: Option<String>,
    updated: Option<String>,
    authors: Vec<String>,
    author: [String; 3], // keyname, forenames, suffix
    // arXivRaw format
    authors_text: Option<String>,
    versions: Vec<(Option<u32>, Option<String>)>,
    version: (Option<u32>, Option<String>),
    problem: Option<String>,
}

/// The records of an OAI-PMH `ListRecords` or `GetRecord` response.
///
/// * `<header status="deleted">` is skipped ("deleted upstream").
/// * `arXiv` format: `created` is v1's date, `updated` the latest version's.
/// * `arXivRaw` format: one `<version version="vN"><date>` per version
///   (RFC 2822); the highest is the paper's version.
/// * `listed_on` is [`ImportOptions::listed_on`] if given, else the day v1
///   was submitted (an approximation of the announcement day).
struct OaiRecords {
    xml: Reader<Source>,
    buf: Vec<u8>,
    path: Path,
    text: String,
    record_no: u64,
    list_closed: bool,
    done: bool,
    opts: ImportOptions,
}

impl OaiRecords {
    fn between_records(&self) -> String {
        if self.record_no == 0 {
            "before the first record".to_string()
        } else {
            format!("after record {}", self.record_no)
        }
    }

    fn read_record(&mut self) -> Item {
        let mut rec = Record::default();
        self.path.clear();
        self.text.clear();
        loop {
            self.buf.clear();
            match self.xml.read_event_into(&mut self.buf) {
                Ok(Event::Start(e)) => {
                    self.path.push(local_str(&e));
                    self.text.clear();
                    on_start(&mut rec, &self.path, &e);
                }
                Ok(Event::Empty(e)) => {
                    self.path.push(local_str(&e));
                    on_start(&mut rec, &self.path, &e);
                    on_end(&mut rec, self.path.as_str(), String::new());
                    self.path.pop();
                }
                Ok(Event::Text(t)) => {
                    if let Err(why) = push_text(&mut self.text, &t) {
                        rec.problem.get_or_insert(why);
                    }
                }
                Ok(Event::CData(c)) => {
                    if let Err(why) = push_cdata(&mut self.text, &c) {
                        rec.problem.get_or_insert(why);
                    }
                }
                Ok(Event::End(_)) => {
                    if self.path.depth() == 0 {
                        return self.build(rec);
                    }
                    let text = std::mem::take(&mut self.text);
                    on_end(&mut rec, self.path.as_str(), text);
                    self.path.pop();
                }
                Ok(Event::Eof) => {
                    self.done = true;
                    return Item::rejected(self.location(&rec), TRUNCATED_RECORD);
                }
                Ok(_) => {}
                Err(e) if is_truncation(&e) => {
                    self.done = true;
                    return Item::rejected(self.location(&rec), TRUNCATED_RECORD);
                }
                Err(e) => {
                    self.done = true;
                    return Item::rejected(self.location(&rec), xml_error_reason(&self.xml, &e));
                }
            }
        }
    }

    fn location(&self, rec: &Record) -> String {
        match &rec.identifier {
            Some(id) => format!("record {} ({})", self.record_no, id.trim()),
            None => format!("record {}", self.record_no),
        }
    }

    fn build(&self, rec: Record) -> Item {
        let loc = self.location(&rec);
        if rec.deleted {
            return Item::skipped(loc, "deleted upstream");
        }
        if let Some(problem) = rec.problem {
            return Item::rejected(loc, problem);
        }
        let raw_format = match rec.format.as_deref() {
            None => return Item::rejected(loc, "the record has no <metadata>"),
            Some(f @ ("arXiv" | "arXivRaw")) => f,
            Some(local_name) => {
                let other = rec.format_name.as_deref().unwrap_or(local_name);
                return Item::rejected(
                    loc,
                    format!(
                        "metadata format <{other}> is not supported: harvest with \
                         metadataPrefix=arXiv or arXivRaw"
                    ),
                );
            }
        };
        let raw_id = rec
            .id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .or_else(|| rec.identifier.as_deref().and_then(|i| i.trim().strip_prefix(ARXIV_OAI_PREFIX)));
        let Some(raw_id) = raw_id else {
            return Item::rejected(loc, "the record has no <id>");
        };
        let arxiv = match ArxivId::parse(raw_id) {
            Ok(id) => id,
            Err(e) => return Item::rejected(loc, e.to_string()),
        };
        let (version, submitted_at, updated_at, authors) = if raw_format == "arXiv" {
            let created = rec.created.as_deref().and_then(ymd_as_datetime);
            let updated = rec.updated.as_deref().and_then(ymd_as_datetime).or(created);
            (arxiv.version(), created, updated, rec.authors)
        } else {
            let v1 = rec.versions.iter().find(|(n, _)| *n == Some(1)).or(rec.versions.first());
            let last = rec.versions.iter().max_by_key(|(n, _)| *n);
            let date =
                |v: Option<&(Option<u32>, Option<String>)>| v.and_then(|(_, d)| d.as_deref()).and_then(parse_rfc2822);
            let version = last.and_then(|(n, _)| *n).or(arxiv.version());
            let authors = rec.authors_text.as_deref().map(split_authors).unwrap_or_default();
            (version, date(v1), date(last), authors)
        };
        let listed_on = self
            .opts
            .listed_on
            .or(submitted_at.map(|d| d.date_naive()))
            .or(rec.created.as_deref().and_then(parse_ymd))
            .unwrap_or(self.opts.today);
        let mut paper = Paper::new(PaperId::from(arxiv), rec.title.unwrap_or_default(), listed_on);
        paper.version = version;
        paper.authors = authors;
        paper.abstract_text = rec.abstract_text.unwrap_or_default();
        paper.categories = rec.categories.into_iter().collect();
        paper.submitted_at = submitted_at;
        paper.updated_at = updated_at;
        paper.comment = rec.comments;
        paper.journal_ref = rec.journal_ref;
        paper.doi = rec.doi;
        finish(paper, || loc)
    }
}

fn on_start(rec: &mut Record, path: &Path, e: &BytesStart<'_>) {
    match path.as_str() {
        "header" => {
            rec.deleted = attr(e, b"status").is_some_and(|s| s == "deleted");
        }
        p if path.depth() == 2 && p.starts_with("metadata/") => {
            rec.format = Some(local_str(e).to_string());
            rec.format_name = Some(String::from_utf8_lossy(e.name().into_inner()).into_owned());
        }
        "metadata/arXivRaw/version" => {
            rec.version = (attr(e, b"version").as_deref().and_then(version_number), None);
        }
        _ => {}
    }
}

fn on_end(rec: &mut Record, path: &str, text: String) {
    if path == "header/identifier" {
        rec.identifier = Some(text);
        return;
    }
    let Some((format, field)) = path.strip_prefix("metadata/").and_then(|rest| rest.split_once('/')) else {
        return;
    };
    let raw = format == "arXivRaw";
    let slot = match field {
        "id" => &mut rec.id,
        "title" => &mut rec.title,
        "abstract" => &mut rec.abstract_text,
        "categories" => &mut rec.categories,
        "comments" => &mut rec.comments,
        "journal-ref" => &mut rec.journal_ref,
        "doi" => &mut rec.doi,
        "created" => &mut rec.created,
        "updated" => &mut rec.updated,
        "authors" if raw => &mut rec.authors_text,
        "authors/author/keyname" => {
            rec.author[0] = text;
            return;
        }
        "authors/author/forenames" => {
            rec.author[1] = text;
            return;
        }
        "authors/author/suffix" => {
            rec.author[2] = text;
            return;
        }
        "authors/author" => {
            let [k, f, s] = std::mem::take(&mut rec.author);
            rec.authors.push(full_name(&f, &k, &s));
            return;
        }
        "version/date" if raw => {
            rec.version.1 = Some(text);
            return;
        }
        "version" if raw => {
            let v = std::mem::take(&mut rec.version);
            rec.versions.push(v);
            return;
        }
        _ => return,
    };
    *slot = Some(text);
}

impl Iterator for OaiRecords {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        loop {
            self.buf.clear();
            match self.xml.read_event_into(&mut self.buf) {
                Ok(Event::Start(e)) if local(e.name().into_inner()) == b"record" => {
                    self.record_no += 1;
                    return Some(self.read_record());
                }
                Ok(Event::End(e)) if matches!(local(e.name().into_inner()), b"ListRecords" | b"GetRecord") => {
                    self.list_closed = true;
                }
                Ok(Event::Eof) => {
                    self.done = true;
                    if self.list_closed {
                        return None;
                    }
                    return Some(Item::rejected(self.between_records(), TRUNCATED_LIST));
                }
                Ok(_) => {}
                Err(e) if is_truncation(&e) => {
                    self.done = true;
                    return Some(Item::rejected(self.between_records(), TRUNCATED_LIST));
                }
                Err(e) => {
                    self.done = true;
                    return Some(Item::rejected(self.between_records(), xml_error_reason(&self.xml, &e)));
                }
            }
        }
    }
}

/// Paging information of one OAI-PMH response page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OaiPageInfo {
    /// The token to ask for the next page; `None` when the list is complete
    /// (an empty `<resumptionToken/>` or none at all).
    pub resumption_token: Option<String>,
    /// `completeListSize`, when the server says.
    pub complete_list_size: Option<u64>,
    /// `cursor`, when the server says.
    pub cursor: Option<u64>,
    /// The first `<error>`, as (code, message), e.g.
    /// `("badResumptionToken", "...")` or `("noRecordsMatch", "...")`.
    pub error: Option<(String, String)>,
}

/// Reads the resumption token, list size, cursor and error of an OAI-PMH
/// response body, for a harvester deciding what to request next.
pub fn oai_page_info(bytes: &[u8]) -> Result<OaiPageInfo, IngestError> {
    let mut xml = Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut info = OaiPageInfo::default();
    let mut root_seen = false;
    // What the text being read belongs to.
    enum In {
        Nothing,
        Token(String),
        Error(String, String),
    }
    let mut inside = In::Nothing;
    loop {
        buf.clear();
        let event = xml.read_event_into(&mut buf).map_err(|e| IngestError::BadOaiPage {
            reason: format!("malformed XML at byte {}: {e}", xml.error_position()),
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = local(e.name().into_inner()).to_vec();
                let empty = matches!(event, Event::Empty(_));
                if !root_seen {
                    root_seen = true;
                    if name != b"OAI-PMH" {
                        let shown = String::from_utf8_lossy(&name).into_owned();
                        let reason = if shown.eq_ignore_ascii_case("html") {
                            "the response is an HTML page, not OAI-PMH XML (a 503 \"Retry after\" page? wait and retry)"
                                .to_string()
                        } else {
                            format!("the root element is <{shown}>, not <OAI-PMH>")
                        };
                        return Err(IngestError::BadOaiPage { reason });
                    }
                    continue;
                }
                match name.as_slice() {
                    b"resumptionToken" => {
                        info.complete_list_size = attr(e, b"completeListSize").and_then(|v| v.trim().parse().ok());
                        info.cursor = attr(e, b"cursor").and_then(|v| v.trim().parse().ok());
                        if !empty {
                            inside = In::Token(String::new());
                        }
                    }
                    b"error" if info.error.is_none() => {
                        let code = attr(e, b"code").unwrap_or_default();
                        if empty {
                            info.error = Some((code, String::new()));
                        } else {
                            inside = In::Error(code, String::new());
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => match &mut inside {
                In::Token(s) | In::Error(_, s) => {
                    let _ = push_text(s, &t);
                }
                In::Nothing => {}
            },
            Event::End(_) => match std::mem::replace(&mut inside, In::Nothing) {
                In::Token(s) => {
                    let s = s.trim();
                    info.resumption_token = (!s.is_empty()).then(|| s.to_string());
                }
                In::Error(code, msg) => {
                    info.error = Some((code, paperboy_core::text::normalize_ws(&msg)));
                }
                In::Nothing => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err(IngestError::BadOaiPage { reason: "there is no XML element in it".to_string() });
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_info_reads_errors_and_tokens() {
        let page = br#"<?xml version="1.0"?><OAI-PMH><responseDate>x</responseDate>
            <error code="badResumptionToken">The value of the resumptionToken argument is invalid or expired.</error></OAI-PMH>"#;
        let info = oai_page_info(page).unwrap();
        assert_eq!(
            info.error,
            Some((
                "badResumptionToken".to_string(),
                "The value of the resumptionToken argument is invalid or expired.".to_string()
            ))
        );
        assert_eq!(info.resumption_token, None);
        assert!(oai_page_info(b"<html><body>Retry after 10 seconds</body></html>").is_err());
        assert!(oai_page_info(b"").is_err());
    }
}
