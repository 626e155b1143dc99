//! `[server]`: where `paperboy serve` listens, how the site names and links
//! itself, which reverse proxies it trusts, and how long it waits for slow
//! or idle clients and how many it serves at once.

use std::time::Duration;

use anyhow::Result;
use paperboy_core::net::IpBlock;
use paperboy_web::ConnectionLimits;
use serde::Deserialize;

use super::env::Env;
use super::key::{DefaultValue, Key, pick, pick_opt};

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_PAGE_SIZE: u32 = 30;
pub const DEFAULT_SITE_NAME: &str = "Paperboy";
/// Page sizes outside this range are brought into it.
const PAGE_SIZES: std::ops::RangeInclusive<u32> = 1..=100;

pub const ADDR: Key = Key::new(
    "server",
    "addr",
    "PAPERBOY_ADDR",
    DefaultValue::Text(DEFAULT_ADDR),
    "the address to listen on, HOST:PORT",
)
.flags(&["serve --addr", "demo --addr"]);
pub const BASE_URL: Key = Key::new(
    "server",
    "base_url",
    "PAPERBOY_BASE_URL",
    DefaultValue::Unset("http://ADDR"),
    "public URL of the site, for absolute links in feeds and mails",
)
.flags(&["serve --base-url", "demo --base-url", "digest run --base-url"]);
pub const PAGE_SIZE: Key = Key::new(
    "server",
    "page_size",
    "PAPERBOY_PAGE_SIZE",
    DefaultValue::Whole(DEFAULT_PAGE_SIZE as u64),
    "papers per feed page, 1 to 100",
);
pub const SITE_NAME: Key = Key::new(
    "server",
    "site_name",
    "PAPERBOY_SITE_NAME",
    DefaultValue::Text(DEFAULT_SITE_NAME),
    "shown in page titles and mail",
);
pub const TRUSTED_PROXIES: Key = Key::new(
    "server",
    "trusted_proxies",
    "PAPERBOY_TRUSTED_PROXIES",
    DefaultValue::List(&[]),
    "reverse proxies (addresses or blocks) whose X-Forwarded-For names the client",
);

pub const HEADER_TIMEOUT: Key = Key::new(
    "server",
    "header_timeout_seconds",
    "PAPERBOY_HEADER_TIMEOUT_SECONDS",
    DefaultValue::Whole(10),
    "a request's headers must arrive within this many seconds of its first byte, else the connection is closed",
);
pub const BODY_TIMEOUT: Key = Key::new(
    "server",
    "body_timeout_seconds",
    "PAPERBOY_BODY_TIMEOUT_SECONDS",
    DefaultValue::Whole(30),
    "a request's body must arrive within this many seconds of its headers, else 408",
);
pub const IDLE_TIMEOUT: Key = Key::new(
    "server",
    "idle_timeout_seconds",
    "PAPERBOY_IDLE_TIMEOUT_SECONDS",
    DefaultValue::Whole(60),
    "a connection that sends no request for this many seconds is closed",
);
pub const MAX_CONNECTIONS: Key = Key::new(
    "server",
    "max_connections",
    "PAPERBOY_MAX_CONNECTIONS",
    DefaultValue::Whole(512),
    "connections served at once; more are answered 503 with Retry-After at once",
);

pub const METRICS_ADDR: Key = Key::new(
    "server",
    "metrics_addr",
    "PAPERBOY_METRICS_ADDR",
    DefaultValue::Unset("no metrics listener"),
    "a second address, HOST:PORT, answering GET /metrics (Prometheus) and nothing else, e.g. 127.0.0.1:9898",
);
pub const METRICS_TOKEN: Key = Key::new(
    "server",
    "metrics_token",
    "PAPERBOY_METRICS_TOKEN",
    DefaultValue::Unset("/metrics is not on the public port"),
    "when set, the public port also answers GET /metrics to requests with Authorization: Bearer TOKEN",
);

pub const KEYS: &[Key] = &[
    ADDR,
    BASE_URL,
    PAGE_SIZE,
    SITE_NAME,
    TRUSTED_PROXIES,
    HEADER_TIMEOUT,
    BODY_TIMEOUT,
    IDLE_TIMEOUT,
    MAX_CONNECTIONS,
    METRICS_ADDR,
    METRICS_TOKEN,
];

/// `[server]` in `paperboy.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub addr: Option<String>,
    pub base_url: Option<String>,
    pub page_size: Option<u32>,
    pub site_name: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
    pub header_timeout_seconds: Option<u64>,
    pub body_timeout_seconds: Option<u64>,
    pub idle_timeout_seconds: Option<u64>,
    pub max_connections: Option<u64>,
    pub metrics_addr: Option<String>,
    pub metrics_token: Option<String>,
}

/// `[server]` after the merge.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub addr: String,
    /// `None`: links use the address the server listens on.
    pub base_url: Option<String>,
    pub page_size: u32,
    pub site_name: String,
    pub trusted_proxies: Vec<IpBlock>,
    /// Timeouts and the connection cap of `serve`.
    pub connections: ConnectionLimits,
    /// Where `/metrics` is answered on its own listener (`None`: nowhere).
    pub metrics_addr: Option<String>,
    /// The bearer token that opens `/metrics` on the public port (`None`: closed).
    pub metrics_token: Option<String>,
}

impl ServerSettings {
    /// Flags (`--addr`, `--base-url`) over the environment over the file over the defaults.
    pub fn resolve(
        addr_flag: Option<String>,
        base_url_flag: Option<String>,
        env: &Env,
        file: ServerSection,
    ) -> Result<ServerSettings> {
        let proxies = pick(&TRUSTED_PROXIES, None, env, file.trusted_proxies, Vec::new())?;
        let defaults = ConnectionLimits::default();
        let seconds = |key: &'static Key, file: Option<u64>, default: Duration| -> Result<Duration> {
            Ok(Duration::from_secs(pick(key, None, env, file, default.as_secs())?.value.max(1)))
        };
        let connections = ConnectionLimits {
            header_timeout: seconds(&HEADER_TIMEOUT, file.header_timeout_seconds, defaults.header_timeout)?,
            body_timeout: seconds(&BODY_TIMEOUT, file.body_timeout_seconds, defaults.body_timeout)?,
            idle_timeout: seconds(&IDLE_TIMEOUT, file.idle_timeout_seconds, defaults.idle_timeout)?,
            max_connections: usize::try_from(
                pick(&MAX_CONNECTIONS, None, env, file.max_connections, defaults.max_connections as u64)?.value.max(1),
            )
            .unwrap_or(usize::MAX),
        };
        Ok(ServerSettings {
            addr: pick(&ADDR, addr_flag, env, file.addr, DEFAULT_ADDR.to_string())?.value,
            base_url: pick_opt(&BASE_URL, base_url_flag, env, file.base_url)?.map(|p| p.value),
            page_size: pick(&PAGE_SIZE, None, env, file.page_size, DEFAULT_PAGE_SIZE)?
                .value
                .clamp(*PAGE_SIZES.start(), *PAGE_SIZES.end()),
            site_name: pick(&SITE_NAME, None, env, file.site_name, DEFAULT_SITE_NAME.to_string())?.value,
            trusted_proxies: proxies.convert(|list| list.iter().map(|p| p.parse::<IpBlock>()).collect())?,
            connections,
            metrics_addr: pick_opt(&METRICS_ADDR, None, env, file.metrics_addr)?
                .map(|p| p.value)
                .filter(|a: &String| !a.trim().is_empty()),
            metrics_token: pick_opt(&METRICS_TOKEN, None, env, file.metrics_token)?
                .map(|p| p.value)
                .filter(|t: &String| !t.trim().is_empty()),
        })
    }
}
