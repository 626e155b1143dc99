//! A real HTTP server standing in for the arXiv API (`…/api/query`), over the
//! recorded answers in `tests/fixtures/ingest/arxiv-api/`: `id_list=ID` is
//! answered with the recording `id_ID_s0_…` (the `/` of an old-style id and
//! the `,` between ids spelled `_`), any other query with arXiv's empty
//! answer for an id it does not have. It logs every query, so a test can
//! check whether, and for what, arXiv was asked. The server is a
//! [`crate::replay::Server`].

use std::path::PathBuf;

use crate::fixtures;
use crate::replay::{Reply, Server, query_value};

/// The recording of arXiv's answer for an id it does not have.
const NO_SUCH_PAPER: &str = "id_0808.05394_s0_m100_7b0c7d0a7cdd.atom.xml";

/// A running stand-in for the arXiv API.
pub struct ArxivApi {
    /// The query URL to configure (`http://127.0.0.1:PORT/api/query`).
    pub url: String,
    server: Server,
}

impl ArxivApi {
    /// Starts a server on a free port.
    pub fn start() -> ArxivApi {
        let dir = fixtures::path("ingest/arxiv-api");
        let server = Server::start(move |query| {
            let ids = query_value(query, "id_list").unwrap_or_default().replace(['/', ','], "_");
            let body = std::fs::read(recording(&dir, &ids)).expect("a recorded arXiv answer");
            Reply::Status {
                code: 200,
                headers: vec![("Content-Type".into(), "application/atom+xml; charset=utf-8".into())],
                body,
            }
        });
        ArxivApi { url: server.url("/api/query"), server }
    }

    /// The query strings received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.server.requests()
    }

    /// How many requests arrived.
    pub fn hits(&self) -> usize {
        self.requests().len()
    }
}

/// The recording for `ids` (already spelled as in file names), or the empty answer.
fn recording(dir: &std::path::Path, ids: &str) -> PathBuf {
    let prefix = format!("id_{ids}_s0_");
    let found = std::fs::read_dir(dir)
        .expect("the arXiv API fixtures")
        .filter_map(Result::ok)
        .find(|e| !ids.is_empty() && e.file_name().to_string_lossy().starts_with(&prefix));
    found.map_or_else(|| dir.join(NO_SUCH_PAPER), |e| e.path())
}
