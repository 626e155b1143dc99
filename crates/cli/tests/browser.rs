//! The demo site in a real headless Chromium, driven over WebDriver
//! (chromedriver): open the feed, follow a paper link, check the paper page,
//! check the phone layout, sign up through the form and upvote from the
//! front page (real cookies, CSRF tokens and redirects), and keep
//! screenshots as test artefacts.
//!
//! Needs Debian's `chromium` and `chromium-driver` (scripts/test.sh installs
//! them). Without them the test is skipped with a message, except under CI,
//! where it fails.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use common::{Server, artifacts_dir};
use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
    _profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Option<Driver> {
        let chromedriver = which("chromedriver")?;
        let chromium = which("chromium").or_else(|| which("chromium-browser"))?;
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().ok()?;
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().ok()?;
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.path().display())]
            }
        }}});
        let resp: Value = http.post(format!("{base}/session")).json(&caps).send().ok()?.json().ok()?;
        let session = resp["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {resp}")).to_string();
        Some(Driver { child, base, session, http, _profile: profile })
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url).json(&body),
        };
        let v: Value = req.send().expect("webdriver request").json().expect("webdriver json");
        if v["value"].get("error").is_some() {
            panic!("webdriver {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd("POST", "/element", json!({"using": "css selector", "value": css}));
        v[ELEMENT_KEY].as_str().expect("element id").to_string()
    }

    fn count(&self, css: &str) -> usize {
        self.cmd("POST", "/elements", json!({"using": "css selector", "value": css})).as_array().map_or(0, |a| a.len())
    }

    fn text(&self, element: &str) -> String {
        self.cmd("GET", &format!("/element/{element}/text"), Value::Null).as_str().unwrap_or("").to_string()
    }

    fn script(&self, js: &str) -> Value {
        self.cmd("POST", "/execute/sync", json!({"script": js, "args": []}))
    }

    fn screenshot(&self, name: &str) {
        let b64 = self.cmd("GET", "/screenshot", Value::Null);
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or("")).expect("png");
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(artifacts_dir().join(name), png).expect("save screenshot");
    }

    fn resize(&self, width: u32, height: u32) {
        self.cmd("POST", "/window/rect", json!({"width": width, "height": height}));
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(name: &str) -> Option<String> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

#[test]
fn demo_feed_and_paper_page_in_chromium() {
    let Some(driver) = Driver::start() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium and chromedriver are required under CI: run scripts/test.sh, which installs them");
        }
        eprintln!("SKIPPED: chromium/chromedriver not installed (apt-get install chromium chromium-driver)");
        return;
    };
    let server = Server::start("demo", tempfile::tempdir().unwrap());

    // The front page: the latest day of the demo data.
    driver.resize(1280, 900);
    driver.goto(&server.url("/"));
    let title = driver.script("return document.title;");
    assert!(title.as_str().unwrap_or("").contains("Paperboy"), "page title {title}");
    let heading = driver.text(&driver.find("h1"));
    assert!(heading.contains("2026"), "the feed heading names the day: {heading}");
    let items = driver.count("[data-paper-id]");
    assert!(items >= 10, "the latest day lists papers, found {items}");
    driver.screenshot("feed-desktop.png");

    // Follow the first paper's title link.
    let link = driver.find("[data-paper-id] a.paper-title");
    let clicked_title = driver.text(&link);
    driver.cmd("POST", &format!("/element/{link}/click"), json!({}));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !driver.script("return location.pathname;").as_str().unwrap_or("").starts_with("/papers/26") {
        assert!(Instant::now() < deadline, "the click opened the paper page");
        std::thread::sleep(Duration::from_millis(50));
    }
    let h1 = driver.text(&driver.find("h1"));
    assert_eq!(h1, clicked_title, "the paper page shows the clicked paper");
    assert_eq!(driver.count("a[href^='https://arxiv.org/abs/']"), 1, "a link to arXiv");
    assert!(driver.count("a[href^='https://arxiv.org/pdf/']") >= 1, "a link to the PDF");
    let abstract_text = driver.text(&driver.find(".abstract"));
    assert!(abstract_text.len() > 100, "the abstract is shown");
    driver.screenshot("paper-desktop.png");

    // The seed page's day, on a phone: no sideways scrolling.
    driver.resize(390, 844);
    driver.goto(&server.url("/papers/date/2026-03-11"));
    let body = driver.text(&driver.find("main"));
    assert!(body.contains("73 papers"), "the 73 seed papers are listed on 11 March 2026: {body:.300}");
    assert_eq!(driver.count("[data-paper-id^='pb-']"), 30, "a full first page of local (seed) papers");
    let fits = driver.script("return document.documentElement.scrollWidth <= window.innerWidth + 1;");
    assert_eq!(fits, Value::Bool(true), "the phone layout does not overflow sideways");
    driver.screenshot("feed-phone.png");

    // A malformed id gets the 400 page, an unknown one the 404 page.
    driver.goto(&server.url("/papers/not-an-id"));
    assert!(driver.text(&driver.find("main")).contains("not an arXiv identifier"));
    driver.goto(&server.url("/papers/2312.99999"));
    assert!(driver.text(&driver.find("main")).contains("2312.99999"));

    // A visitor signs up through the form, upvotes from the front page and
    // sees the vote, all with real cookies and no JavaScript of ours.
    driver.resize(1280, 900);
    driver.goto(&server.url("/signup"));
    for (name, value) in
        [("username", "browser_user"), ("email", "browser@example.org"), ("password", "a long browser password")]
    {
        let field = driver.find(&format!("input[name='{name}']"));
        driver.cmd("POST", &format!("/element/{field}/value"), json!({ "text": value }));
    }
    let submit = driver.find("form[action='/signup'] button[type='submit']");
    driver.cmd("POST", &format!("/element/{submit}/click"), json!({}));
    wait_for_text(&driver, "Welcome, browser_user");
    driver.goto(&server.url("/"));
    assert!(driver.text(&driver.find("header")).contains("browser_user"), "the header names the member");
    let button = driver.find("[data-paper-id] form.vote button");
    driver.cmd("POST", &format!("/element/{button}/click"), json!({}));
    let deadline = Instant::now() + Duration::from_secs(10);
    while driver.count("[data-paper-id] button.upvote.voted") != 1 {
        assert!(Instant::now() < deadline, "the upvote is shown after the redirect back");
        std::thread::sleep(Duration::from_millis(50));
    }
    let voted = driver.text(&driver.find("button.upvote.voted"));
    assert!(voted.contains('1'), "the count went up: {voted}");
    driver.screenshot("feed-member.png");
}

/// Waits until `main` contains `text`.
fn wait_for_text(driver: &Driver, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let main =
            driver.script("return document.querySelector('main') ? document.querySelector('main').innerText : '';");
        if main.as_str().unwrap_or("").contains(text) {
            return;
        }
        assert!(Instant::now() < deadline, "waiting for {text:?}, the page says {main}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
