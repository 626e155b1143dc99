//! A real HTTP server on loopback that answers from a script: the base of the
//! OAI-PMH ([`crate::oai`]) and arXiv API ([`crate::arxiv_api`]) replays.
//! Plain std threads and sockets, so it serves a test of any kind (async or
//! not) and keeps answering while the test blocks. Each request gets the
//! [`Reply`] that the server's function returns for its query string (or,
//! with [`Server::start_http`], for the whole request: path, query and
//! headers, for REST APIs); every request is logged. The server stops when
//! dropped.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this XML body.
    Xml(Vec<u8>),
    /// Any status, extra headers and body (`Content-Type: text/xml` unless
    /// the headers name another).
    Status { code: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Announces the whole body, sends half, closes the connection.
    DropMidway(Vec<u8>),
    /// Accepts the request and never answers (until the server is dropped, or a minute).
    Hang,
}

type Answer = dyn Fn(&Seen) -> Reply + Send + Sync;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// When it arrived.
    pub at: Instant,
    /// The request target: path and query (`/repos/o/r?page=2`).
    pub target: String,
    /// Its headers, names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(self.target.as_str(), |(p, _)| p)
    }

    /// The query string without its `?` ("" when none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

struct Shared {
    answer: Box<Answer>,
    log: Mutex<Vec<Seen>>,
    stop: AtomicBool,
}

/// A running server (see the module documentation).
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Server {
    /// Starts a server on a free port answering each request with
    /// `answer(query)`, the query string without its `?` ("" when none).
    pub fn start(answer: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
        Self::start_http(move |seen: &Seen| answer(seen.query()))
    }

    /// Starts a server on a free port answering each request with
    /// `answer(request)`.
    pub fn start_http(answer: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local address");
        let shared =
            Arc::new(Shared { answer: Box::new(answer), log: Mutex::new(Vec::new()), stop: AtomicBool::new(false) });
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
        Server { addr, shared }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The query strings received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.log.lock().unwrap().iter().map(|s| s.query().to_string()).collect()
    }

    /// The requests received, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
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

fn handle(mut conn: TcpStream, s: &Shared) {
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&req).into_owned();
    let mut lines = head.lines();
    let target = lines.next().unwrap_or_default().split_whitespace().nth(1).unwrap_or("/").to_string();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if s.stop.load(Ordering::SeqCst) {
        return;
    }
    let seen = Seen { at: Instant::now(), target, headers };
    s.log.lock().unwrap().push(seen.clone());
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
    match (s.answer)(&seen) {
        Reply::Xml(body) => write(&mut conn, 200, &[], &body, body.len()),
        Reply::Status { code, headers, body } => write(&mut conn, code, &headers, &body, body.len()),
        Reply::DropMidway(body) => write(&mut conn, 200, &[], &body, body.len() / 2),
        Reply::Hang => {
            let until = Instant::now() + Duration::from_secs(60);
            while Instant::now() < until && !s.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    let _ = conn.shutdown(Shutdown::Both);
}
