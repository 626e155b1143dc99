//! A real local HTTP server that replays recorded OAI-PMH responses, for the
//! harvester's tests here and the `paperboy harvest` tests in
//! `crates/cli/tests/harvest.rs` (which include this file by path). Plain
//! std threads and sockets, so it serves a test of any kind and keeps
//! answering while the test blocks. Requests are keyed by their resumption
//! token ("" for a first page); each key has a queue of replies, the last
//! one repeating. Every request's query is logged.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this XML body.
    Xml(Vec<u8>),
    /// Any status, extra headers and body.
    Status { code: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Announces the whole body, sends half, closes the connection.
    DropMidway(Vec<u8>),
    /// Accepts the request and never answers (until the server is dropped, or a minute).
    Hang,
}

struct Shared {
    routes: Mutex<HashMap<String, Vec<Reply>>>,
    log: Mutex<Vec<String>>,
    stop: AtomicBool,
}

/// A running replay server.
pub struct Replay {
    /// The OAI-PMH base URL to configure (`http://127.0.0.1:PORT/oai`).
    pub base: String,
    shared: Arc<Shared>,
}

/// The harvest fixtures directory.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/harvest").join(name)
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
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

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of `key` in a query string, decoded.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| decode(v))
    })
}

impl Replay {
    pub fn start(routes: Vec<(String, Vec<Reply>)>) -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}/oai", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            routes: Mutex::new(routes.into_iter().collect()),
            log: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let s = Arc::clone(&shared);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = Arc::clone(&s);
                std::thread::spawn(move || handle(conn, &s));
            }
        });
        Replay { base, shared }
    }

    /// The query strings received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The resumption token of each request (`None` for a first page).
    pub fn tokens(&self) -> Vec<Option<String>> {
        self.requests().iter().map(|q| query_value(q, "resumptionToken")).collect()
    }

    /// Replaces the replies for `key`.
    pub fn set(&self, key: &str, replies: Vec<Reply>) {
        self.shared.routes.lock().unwrap().insert(key.to_string(), replies);
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.base.trim_start_matches("http://").trim_end_matches("/oai"));
    }
}

fn handle(mut conn: TcpStream, s: &Shared) {
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&req).lines().next().unwrap_or_default().to_string();
    let target = line.split_whitespace().nth(1).unwrap_or("/");
    let query = target.split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default();
    if s.stop.load(Ordering::SeqCst) {
        return;
    }
    s.log.lock().unwrap().push(query.clone());
    let key = query_value(&query, "resumptionToken").unwrap_or_default();
    let reply = {
        let mut routes = s.routes.lock().unwrap();
        match routes.get_mut(&key) {
            Some(q) if q.len() > 1 => Some(q.remove(0)),
            Some(q) => q.first().cloned(),
            None => None,
        }
    };
    let write = |conn: &mut TcpStream, code: u16, headers: &[(String, String)], body: &[u8], send: usize| {
        let mut head = format!("HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            head.push_str("Content-Type: text/xml\r\n");
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let _ = conn.write_all(head.as_bytes());
        let _ = conn.write_all(&body[..send]);
        let _ = conn.flush();
    };
    match reply {
        None => {
            let body = format!("no replay for token {key:?}").into_bytes();
            write(&mut conn, 404, &[], &body, body.len())
        }
        Some(Reply::Xml(body)) => write(&mut conn, 200, &[], &body, body.len()),
        Some(Reply::Status { code, headers, body }) => write(&mut conn, code, &headers, &body, body.len()),
        Some(Reply::DropMidway(body)) => write(&mut conn, 200, &[], &body, body.len() / 2),
        Some(Reply::Hang) => {
            let until = Instant::now() + Duration::from_secs(60);
            while Instant::now() < until && !s.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    let _ = conn.shutdown(Shutdown::Both);
}
