//! `[server]`: where `paperboy serve` listens, how the site names and links
//! itself, and which reverse proxies it trusts.

use anyhow::Result;
use paperboy_core::net::IpBlock;
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

pub const KEYS: &[Key] = &[ADDR, BASE_URL, PAGE_SIZE, SITE_NAME, TRUSTED_PROXIES];

/// `[server]` in `paperboy.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub addr: Option<String>,
    pub base_url: Option<String>,
    pub page_size: Option<u32>,
    pub site_name: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
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
        Ok(ServerSettings {
            addr: pick(&ADDR, addr_flag, env, file.addr, DEFAULT_ADDR.to_string())?.value,
            base_url: pick_opt(&BASE_URL, base_url_flag, env, file.base_url)?.map(|p| p.value),
            page_size: pick(&PAGE_SIZE, None, env, file.page_size, DEFAULT_PAGE_SIZE)?
                .value
                .clamp(*PAGE_SIZES.start(), *PAGE_SIZES.end()),
            site_name: pick(&SITE_NAME, None, env, file.site_name, DEFAULT_SITE_NAME.to_string())?.value,
            trusted_proxies: proxies.convert(|list| list.iter().map(|p| p.parse::<IpBlock>()).collect())?,
        })
    }
}
