//! The SMTP sink for the mail, web and CLI tests: runs the aiosmtpd sink of
//! `tests/fixtures/smtp/sink.py` as a real SMTP server on a chosen port,
//! stops and restarts it, tells it which recipients to refuse, and reads what it received, with just enough MIME
//! (headers, multipart parts, quoted-printable and base64) to check mails.
//! [`Sink::with_tls`] runs it with STARTTLS or implicit TLS, its certificate
//! signed by the test CA of [`test_ca_file`].
//!
//! Python comes from `PAPERBOY_TEST_PYTHON` (set by scripts/test.sh) or the
//! repository's `.test-venv`. Without it a test is skipped with a message,
//! except under `CI=true`, where it fails ([`crate::require`]).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::fixtures::{self, repo_root};

/// The Python with aiosmtpd, or `None` (after saying why) outside CI.
pub fn python() -> Option<PathBuf> {
    let candidates =
        [std::env::var_os("PAPERBOY_TEST_PYTHON").map(PathBuf::from), Some(repo_root().join(".test-venv/bin/python"))];
    for p in candidates.into_iter().flatten() {
        let ok = Command::new(&p).args(["-c", "import aiosmtpd"]).output().is_ok_and(|o| o.status.success());
        if ok {
            return Some(p);
        }
    }
    crate::require::missing(
        "no Python with aiosmtpd: run scripts/test.sh (it creates .test-venv) or set PAPERBOY_TEST_PYTHON",
    )
}

/// Client settings for a sink on `port`: loopback, no credentials, a 5 s
/// timeout, `security` (`Plain` for a sink without TLS) and `ca_file`
/// (feature `mail`).
#[cfg(feature = "mail")]
pub fn smtp_settings(
    port: u16,
    security: paperboy_mail::Security,
    ca_file: Option<PathBuf>,
) -> paperboy_mail::SmtpSettings {
    paperboy_mail::SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security,
        username: None,
        password: None,
        timeout: Duration::from_secs(5),
        ca_file,
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// How a TLS sink protects its connections (`sink.py --tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkTls {
    /// STARTTLS offered, and required before any mail.
    StartTls,
    /// TLS from the first byte (port 465 style).
    Implicit,
}

/// The test CA (PEM) that signed the TLS sink's certificate for
/// `127.0.0.1` and `localhost` (tests/fixtures/smtp/README.md).
pub fn test_ca_file() -> PathBuf {
    fixtures::path("smtp/test-ca.pem")
}

/// The SMTP sink (see the module documentation).
pub struct Sink {
    python: PathBuf,
    pub port: u16,
    pub dir: PathBuf,
    /// `None`: plain SMTP.
    pub tls: Option<SinkTls>,
    child: Option<Child>,
}

impl Sink {
    /// A sink (not started) storing into `dir`, on a free port.
    pub fn new(dir: &Path) -> Option<Sink> {
        let python = python()?;
        std::fs::create_dir_all(dir).expect("sink dir");
        Some(Sink { python, port: free_port(), dir: dir.to_path_buf(), tls: None, child: None })
    }

    /// A started sink speaking TLS as `mode` says, with the test certificate.
    pub fn with_tls(dir: &Path, mode: SinkTls) -> Option<Sink> {
        let mut s = Sink::new(dir)?;
        s.tls = Some(mode);
        s.start();
        Some(s)
    }

    /// A started sink.
    pub fn started(dir: &Path) -> Option<Sink> {
        let mut s = Sink::new(dir)?;
        s.start();
        Some(s)
    }

    /// Starts the server and waits until it listens.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "sink already running");
        let dir = fixtures::path("smtp");
        let mut command = Command::new(&self.python);
        command.arg(dir.join("sink.py"));
        command.args(["--dir", &self.dir.display().to_string(), "--port", &self.port.to_string()]);
        if let Some(mode) = self.tls {
            let mode = match mode {
                SinkTls::StartTls => "starttls",
                SinkTls::Implicit => "implicit",
            };
            command.args(["--tls", mode]).arg("--cert").arg(dir.join("server.pem"));
            command.arg("--key").arg(dir.join("server.key"));
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start the SMTP sink");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("sink output");
        assert!(line.starts_with("listening on"), "sink said {line:?}");
        self.child = Some(child);
    }

    /// Stops the server: connections are refused until [`Sink::start`].
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Recipients answered 451 (`temp`) or 550 (`perm`).
    pub fn refuse(&self, temp: &[&str], perm: &[&str]) {
        let json = format!(
            "{{\"temp\": [{}], \"perm\": [{}]}}",
            temp.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", "),
            perm.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ")
        );
        std::fs::write(self.dir.join("control.json"), json).expect("control file");
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .expect("sink dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| Received::parse(&std::fs::read_to_string(p).expect("message file"))).collect()
    }

    /// Waits until at least `n` messages arrived (panics after `timeout`).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            assert!(start.elapsed() < timeout, "only {} of {n} messages arrived in {timeout:?}", m.len());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One received message.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope recipient.
    pub rcpt: String,
    pub raw: String,
}

impl Received {
    fn parse(file: &str) -> Received {
        let (first, raw) = file.split_once("\r\n").unwrap_or(("", file));
        Received { rcpt: first.trim_start_matches("X-Sink-Rcpt: ").trim().to_string(), raw: raw.to_string() }
    }

    /// A top-level header, unfolded (`None` when absent).
    pub fn header(&self, name: &str) -> Option<String> {
        header_in(split_head(&self.raw).0, name)
    }

    /// The decoded body of the part with this content type (`text/plain`, `text/html`).
    pub fn part(&self, content_type: &str) -> Option<String> {
        let top = self.header("Content-Type")?;
        let boundary = top.split("boundary=").nth(1)?.trim_matches('"').split([';', '"']).next()?.to_string();
        let body = split_head(&self.raw).1;
        for part in body.split(&format!("--{boundary}")) {
            let part = part.trim_start_matches("\r\n");
            let (head, content) = split_head(part);
            let ct = header_in(head, "Content-Type").unwrap_or_default();
            if ct.to_ascii_lowercase().starts_with(content_type) {
                let enc = header_in(head, "Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
                let bytes = match enc.as_str() {
                    "quoted-printable" => quoted_printable(content),
                    "base64" => base64(content),
                    _ => content.as_bytes().to_vec(),
                };
                return Some(String::from_utf8_lossy(&bytes).replace("\r\n", "\n"));
            }
        }
        None
    }

    /// Every `{base}/{prefix}…` link in the text part.
    pub fn links(&self, base: &str, prefix: &str) -> Vec<String> {
        let text = self.part("text/plain").unwrap_or_default();
        let start = format!("{base}/{prefix}");
        text.split_whitespace().filter(|w| w.starts_with(&start)).map(str::to_string).collect()
    }
}

fn split_head(s: &str) -> (&str, &str) {
    s.split_once("\r\n\r\n").unwrap_or((s, ""))
}

fn header_in(head: &str, name: &str) -> Option<String> {
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.split("\r\n").find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

fn quoted_printable(s: &str) -> Vec<u8> {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn base64(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let Some(v) = A.iter().position(|&a| a == c) else { continue };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
