//! [`OaiClient`]: arXiv's OAI-PMH interface (`ListRecords`), one page per
//! call, with the same pacing, retries, timeouts and `Retry-After` handling
//! as [`ArxivClient`] (it is one, pointed at the OAI-PMH endpoint), and the
//! page turned into papers by `paperboy-ingest`'s OAI-PMH parser.
//!
//! A page is checked whole before any of it is used: a page that is not
//! well-formed or ends early (a dropped download) is an
//! [`ArxivError::Parse`] naming the page's URL, never a partial page, so a
//! harvester never checkpoints past records it did not read.
//!
//! Each paper's `listed_on` is its announcement day (see [`crate::announce`]).

use std::fmt;
use std::io::Cursor;
use std::str::FromStr;

use chrono::NaiveDate;
use paperboy_core::Paper;
use paperboy_ingest::{ImportOptions, IngestError, Item, Rejection, oai_page_info};
use quick_xml::Reader;
use quick_xml::events::Event;
use reqwest::{StatusCode, Url};

use crate::announce::{announcement_day, announcement_day_of_date};
use crate::client::{ArxivClient, ArxivSettings};
use crate::error::ArxivError;

/// arXiv's OAI-PMH endpoint.
pub const DEFAULT_OAI_BASE_URL: &str = "https://oaipmh.arxiv.org/oai";

/// The metadata formats Paperboy harvests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetadataFormat {
    /// `arXiv`: structured authors; only the dates of v1 and the latest version.
    Arxiv,
    /// `arXivRaw`: every version with its submission time (exact announcement days).
    #[default]
    ArxivRaw,
}

impl MetadataFormat {
    /// The `metadataPrefix` value.
    pub fn prefix(self) -> &'static str {
        match self {
            MetadataFormat::Arxiv => "arXiv",
            MetadataFormat::ArxivRaw => "arXivRaw",
        }
    }
}

impl fmt::Display for MetadataFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

impl FromStr for MetadataFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            s if s.eq_ignore_ascii_case("arxiv") => Ok(MetadataFormat::Arxiv),
            s if s.eq_ignore_ascii_case("arxivraw") => Ok(MetadataFormat::ArxivRaw),
            other => Err(format!("{other:?} is not a metadata format Paperboy reads: use arXiv or arXivRaw")),
        }
    }
}

/// What to list: the arguments of the first `ListRecords` request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListRequest {
    pub format: MetadataFormat,
    /// An OAI set such as `cs` or `physics:hep-th`; `None` for everything.
    pub set: Option<String>,
    /// First datestamp (inclusive).
    pub from: Option<NaiveDate>,
    /// Last datestamp (inclusive).
    pub until: Option<NaiveDate>,
}

/// One `ListRecords` page, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct OaiPage {
    /// The request that produced it.
    pub url: String,
    /// Papers, normalised and validated, `listed_on` set to the announcement day.
    pub papers: Vec<Paper>,
    /// Records that could not be read (location and reason).
    pub rejected: Vec<Rejection>,
    /// Records deleted upstream (`<header status="deleted">`).
    pub deleted: u64,
    /// The token for the next page; `None` on the last page.
    pub resumption_token: Option<String>,
    /// `completeListSize` of the resumption token, when given.
    pub complete_list_size: Option<u64>,
    /// `cursor` of the resumption token, when given.
    pub cursor: Option<u64>,
}

impl OaiPage {
    /// Records on the page, whatever became of them.
    pub fn records(&self) -> u64 {
        (self.papers.len() + self.rejected.len()) as u64 + self.deleted
    }
}

/// A polite OAI-PMH client for arXiv; cheap to clone, clones share pacing.
#[derive(Debug, Clone)]
pub struct OaiClient {
    http: ArxivClient,
}

impl OaiClient {
    /// A client for the OAI-PMH endpoint `config.base_url` (e.g.
    /// [`DEFAULT_OAI_BASE_URL`]) with `config`'s pacing, timeout and retries.
    pub fn with_config(config: ArxivSettings) -> Result<Self, ArxivError> {
        Ok(OaiClient { http: ArxivClient::with_config(config)? })
    }

    /// The settings in use.
    pub fn config(&self) -> &ArxivSettings {
        self.http.config()
    }

    /// The URL of a `ListRecords` request: the first page of `request`, or
    /// the page of `token` (a resumption token carries the other arguments).
    pub fn list_url(&self, request: &ListRequest, token: Option<&str>) -> Result<Url, ArxivError> {
        let base = &self.http.config().base_url;
        let mut url = Url::parse(base).map_err(|e| ArxivError::Config(format!("the base URL {base:?}: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("verb", "ListRecords");
            match token {
                Some(token) => {
                    q.append_pair("resumptionToken", token);
                }
                None => {
                    q.append_pair("metadataPrefix", request.format.prefix());
                    if let Some(set) = request.set.as_deref().filter(|s| !s.is_empty()) {
                        q.append_pair("set", set);
                    }
                    if let Some(from) = request.from {
                        q.append_pair("from", &from.format("%Y-%m-%d").to_string());
                    }
                    if let Some(until) = request.until {
                        q.append_pair("until", &until.format("%Y-%m-%d").to_string());
                    }
                }
            }
        }
        Ok(url)
    }

    /// Fetches and parses one page (see [`list_url`](Self::list_url)).
    /// `noRecordsMatch` is an empty last page; any other OAI-PMH error is
    /// [`ArxivError::Oai`].
    pub async fn list_records(&self, request: &ListRequest, token: Option<&str>) -> Result<OaiPage, ArxivError> {
        let url = self.list_url(request, token)?;
        let url_text = url.to_string();
        let (status, body, attempts) = self.http.get(url, &url_text).await?;
        let format = request.format;
        if status != StatusCode::OK {
            // A 4xx may still be an OAI-PMH error document (badArgument).
            if let Ok(info) = oai_page_info(&body)
                && let Some((code, message)) = info.error
            {
                return Err(oai_error(&url_text, code, message));
            }
            return Err(ArxivError::Status { url: url_text, status: status.as_u16(), attempts, retry_after: None });
        }
        let today = chrono::Utc::now().date_naive();
        let parse_url = url_text.clone();
        tokio::task::spawn_blocking(move || parse_page(body, &parse_url, format, today))
            .await
            .map_err(|e| ArxivError::Parse { url: url_text, reason: format!("the parser failed: {e}") })?
    }
}

fn oai_error(url: &str, code: String, message: String) -> ArxivError {
    let hint = match code.as_str() {
        "badResumptionToken" => {
            "the resumption token expired or is invalid: start the harvest again from its first page"
        }
        "cannotDisseminateFormat" => "ask for metadataPrefix arXiv or arXivRaw",
        "badArgument" => "check the set, the dates (YYYY-MM-DD) and the base URL",
        "noSetHierarchy" => "this repository has no sets: harvest without a set",
        _ => "see the OAI-PMH 2.0 specification, section 3.6",
    };
    ArxivError::Oai { url: url.to_string(), code, message, hint: hint.to_string() }
}

/// Parses a `ListRecords` response body (synchronous; the harvester and the
/// benchmark call it directly). `format` decides how precise the
/// announcement day can be; `today` is only used for records without dates.
pub fn parse_page(body: Vec<u8>, url: &str, format: MetadataFormat, today: NaiveDate) -> Result<OaiPage, ArxivError> {
    let bad = |reason: String| ArxivError::Parse { url: url.to_string(), reason };
    check_complete(&body).map_err(bad)?;
    let info = oai_page_info(&body).map_err(|e| bad(e.to_string()))?;
    let mut page = OaiPage {
        url: url.to_string(),
        papers: Vec::new(),
        rejected: Vec::new(),
        deleted: 0,
        resumption_token: info.resumption_token,
        complete_list_size: info.complete_list_size,
        cursor: info.cursor,
    };
    if let Some((code, message)) = info.error {
        if code == "noRecordsMatch" {
            return Ok(page);
        }
        return Err(oai_error(url, code, message));
    }
    let opts = ImportOptions { listed_on: None, today };
    let records = match paperboy_ingest::from_reader(Cursor::new(body), &opts) {
        Ok(records) => records,
        Err(IngestError::Oai { code, message, .. }) => return Err(oai_error(url, code, message)),
        Err(e) => return Err(bad(e.to_string())),
    };
    for item in records {
        match item {
            Item::Paper(mut paper) => {
                if let Some(submitted) = paper.submitted_at {
                    paper.listed_on = match format {
                        MetadataFormat::ArxivRaw => announcement_day(submitted),
                        MetadataFormat::Arxiv => announcement_day_of_date(submitted.date_naive()),
                    };
                }
                page.papers.push(*paper);
            }
            Item::Rejected(r) => page.rejected.push(r),
            Item::Skipped(_) => page.deleted += 1,
        }
    }
    Ok(page)
}

/// Fails unless `body` is well-formed XML whose root element is closed: a
/// page cut short by a dropped connection or a broken proxy is refused
/// whole.
fn check_complete(body: &[u8]) -> Result<(), String> {
    // Reading from the slice borrows each event instead of copying it.
    let mut xml = Reader::from_reader(body);
    let mut depth = 0usize;
    let mut closed_root = false;
    loop {
        match xml.read_event() {
            Ok(Event::Start(_)) => {
                if closed_root {
                    return Err("content after the end of the document".to_string());
                }
                depth += 1;
            }
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                closed_root |= depth == 0;
            }
            Ok(Event::Empty(_)) if depth == 0 => closed_root = true,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "the page is not well-formed XML at byte {}: {e} (fetch it again; if it persists, \
                     the server is sending broken pages)",
                    xml.error_position()
                ));
            }
        }
    }
    if !closed_root {
        return Err(format!(
            "the page ends after {} bytes with {depth} element(s) still open: it was cut short (fetch it again)",
            body.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_print() {
        assert_eq!("arXivRaw".parse::<MetadataFormat>().unwrap(), MetadataFormat::ArxivRaw);
        assert_eq!("arxiv".parse::<MetadataFormat>().unwrap(), MetadataFormat::Arxiv);
        assert!("oai_dc".parse::<MetadataFormat>().unwrap_err().contains("arXivRaw"));
        assert_eq!(MetadataFormat::ArxivRaw.to_string(), "arXivRaw");
    }

    #[test]
    fn urls_carry_the_arguments_or_only_the_token() {
        let client =
            OaiClient::with_config(ArxivSettings { base_url: "http://127.0.0.1:9/oai".into(), ..Default::default() })
                .unwrap();
        let req = ListRequest {
            format: MetadataFormat::ArxivRaw,
            set: Some("cs".into()),
            from: NaiveDate::from_ymd_opt(2024, 3, 1),
            until: None,
        };
        assert_eq!(
            client.list_url(&req, None).unwrap().as_str(),
            "http://127.0.0.1:9/oai?verb=ListRecords&metadataPrefix=arXivRaw&set=cs&from=2024-03-01"
        );
        assert_eq!(
            client.list_url(&req, Some("496549|47001")).unwrap().as_str(),
            "http://127.0.0.1:9/oai?verb=ListRecords&resumptionToken=496549%7C47001"
        );
    }

    #[test]
    fn incomplete_and_broken_pages_are_refused() {
        assert!(check_complete(b"<OAI-PMH><ListRecords></ListRecords></OAI-PMH>").is_ok());
        let cut = check_complete(b"<OAI-PMH><ListRecords><record>").unwrap_err();
        assert!(cut.contains("cut short"), "{cut}");
        let broken = check_complete(b"<OAI-PMH><ListRecords></record></OAI-PMH>").unwrap_err();
        assert!(broken.contains("not well-formed"), "{broken}");
        assert!(check_complete(b"").is_err());
    }
}
