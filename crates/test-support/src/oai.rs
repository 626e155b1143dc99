//! An OAI-PMH server replaying recorded harvest pages, for the harvester's
//! tests (`crates/services/tests/harvest.rs`) and the `paperboy harvest`
//! tests (`crates/cli/tests/harvest.rs`), over the fixtures in
//! `tests/fixtures/harvest/`. Requests are keyed by their resumption token
//! ("" for a first page); each key has a queue of [`Reply`]s, the last one
//! repeating; a key without replies is a 404. Every request's query is
//! logged. The server is a [`crate::replay::Server`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::fixtures;
pub use crate::replay::Reply;
use crate::replay::{Server, query_value};

type Routes = Arc<Mutex<HashMap<String, Vec<Reply>>>>;

/// A running replay server.
pub struct Replay {
    /// The OAI-PMH base URL to configure (`http://127.0.0.1:PORT/oai`).
    pub base: String,
    routes: Routes,
    server: Server,
}

/// The bytes of the harvest fixture `name`.
pub fn fixture(name: &str) -> Vec<u8> {
    fixtures::read(&format!("harvest/{name}"))
}

/// The recorded 1,000-record arXivRaw page.
pub fn raw_page() -> Vec<u8> {
    fixture("arxivsync_arXivRaw_47001.xml")
}

/// Splits a `ListRecords` page into `n` pages of consecutive records,
/// chained by resumption tokens `PREFIX|1`, `PREFIX|2`, ...; the last page
/// ends the list. Returns the pages in order.
pub fn split_pages(body: &[u8], n: usize, prefix: &str) -> Vec<Vec<u8>> {
    let text = std::str::from_utf8(body).expect("UTF-8 page");
    let first = text.find("<record>").expect("a record");
    let last_end = text.rfind("</record>").expect("a record end") + "</record>".len();
    let head = &text[..first];
    let records: Vec<&str> =
        text[first..last_end].split_inclusive("</record>").map(|r| r.trim_start_matches('\n')).collect();
    let per = records.len().div_ceil(n);
    let total = records.len();
    records
        .chunks(per)
        .enumerate()
        .map(|(i, chunk)| {
            let mut page = String::from(head);
            for r in chunk {
                page.push_str(r);
                page.push('\n');
            }
            let cursor = i * per;
            if (i + 1) * per < total {
                page.push_str(&format!(
                    "<resumptionToken cursor='{cursor}' completeListSize='{total}'>{prefix}|{}</resumptionToken>\n",
                    i + 1
                ));
            } else {
                page.push_str(&format!("<resumptionToken cursor='{cursor}' completeListSize='{total}'/>\n"));
            }
            page.push_str("</ListRecords>\n</OAI-PMH>\n");
            page.into_bytes()
        })
        .collect()
}

/// Routes for `pages` chained as [`split_pages`] chains them.
pub fn chain(pages: &[Vec<u8>], prefix: &str) -> Vec<(String, Vec<Reply>)> {
    pages
        .iter()
        .enumerate()
        .map(|(i, p)| (if i == 0 { String::new() } else { format!("{prefix}|{i}") }, vec![Reply::Xml(p.clone())]))
        .collect()
}

impl Replay {
    /// Starts a server answering from `routes` (resumption token -> replies).
    pub fn start(routes: Vec<(String, Vec<Reply>)>) -> Replay {
        let routes: Routes = Arc::new(Mutex::new(routes.into_iter().collect()));
        let shared = Arc::clone(&routes);
        let server = Server::start(move |query| {
            let key = query_value(query, "resumptionToken").unwrap_or_default();
            let mut routes = shared.lock().unwrap();
            let reply = match routes.get_mut(&key) {
                Some(q) if q.len() > 1 => Some(q.remove(0)),
                Some(q) => q.first().cloned(),
                None => None,
            };
            reply.unwrap_or_else(|| Reply::Status {
                code: 404,
                headers: Vec::new(),
                body: format!("no replay for token {key:?}").into_bytes(),
            })
        });
        Replay { base: server.url("/oai"), routes, server }
    }

    /// The query strings received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.server.requests()
    }

    /// The resumption token of each request (`None` for a first page).
    pub fn tokens(&self) -> Vec<Option<String>> {
        self.requests().iter().map(|q| query_value(q, "resumptionToken")).collect()
    }

    /// Replaces the replies for `key`.
    pub fn set(&self, key: &str, replies: Vec<Reply>) {
        self.routes.lock().unwrap().insert(key.to_string(), replies);
    }
}
