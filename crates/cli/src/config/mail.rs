//! `[mail]`: the SMTP relay, the sender and the schedule of the email
//! digests (docs/EMAIL.md). Mail is off while no `smtp_host` is set.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use paperboy_core::schedule::{Days, Schedule};
use paperboy_mail::{DeliverySettings, Security, SmtpSettings};
use serde::Deserialize;

use super::env::Env;
use super::key::{DefaultValue, Key, pick, pick_opt};

pub const DEFAULT_SMTP_SECURITY: &str = "starttls";
pub const DEFAULT_FROM: &str = "paperboy@localhost";
pub const DEFAULT_MESSAGES_PER_SECOND: f64 = 10.0;
pub const DEFAULT_DIGEST_TIME: &str = "07:00";
pub const DEFAULT_TIME_ZONE: &str = "UTC";
pub const DEFAULT_RETRY_SECONDS: u64 = 60;
pub const DEFAULT_LEASE_SECONDS: u64 = 120;
/// The limit of one SMTP exchange (not configurable).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

pub const SMTP_HOST: Key = Key::new(
    "mail",
    "smtp_host",
    "PAPERBOY_SMTP_HOST",
    DefaultValue::Unset("mail is off"),
    "the SMTP relay that delivers digests and account mail",
);
pub const SMTP_PORT: Key = Key::new(
    "mail",
    "smtp_port",
    "PAPERBOY_SMTP_PORT",
    DefaultValue::Unset("by smtp_security: 25 plain, 587 starttls, 465 tls"),
    "the relay's port",
);
pub const SMTP_SECURITY: Key = Key::new(
    "mail",
    "smtp_security",
    "PAPERBOY_SMTP_SECURITY",
    DefaultValue::Text(DEFAULT_SMTP_SECURITY),
    "plain, starttls or tls",
);
pub const SMTP_USERNAME: Key =
    Key::new("mail", "smtp_username", "PAPERBOY_SMTP_USERNAME", DefaultValue::Unset("no login"), "SMTP login name");
pub const SMTP_PASSWORD: Key =
    Key::new("mail", "smtp_password", "PAPERBOY_SMTP_PASSWORD", DefaultValue::Unset("no login"), "SMTP password");
pub const SMTP_CA_FILE: Key = Key::new(
    "mail",
    "smtp_ca_file",
    "PAPERBOY_SMTP_CA_FILE",
    DefaultValue::Unset("the built-in roots only"),
    "PEM file of CA certificates trusted besides the built-in roots (a relay with a private CA)",
);
pub const FROM: Key =
    Key::new("mail", "from", "PAPERBOY_MAIL_FROM", DefaultValue::Text(DEFAULT_FROM), "the sender address");
pub const MESSAGES_PER_SECOND: Key = Key::new(
    "mail",
    "messages_per_second",
    "PAPERBOY_MAIL_RATE",
    DefaultValue::Number(DEFAULT_MESSAGES_PER_SECOND),
    "the most messages sent per second, above 0",
);
pub const DIGEST_TIME: Key = Key::new(
    "mail",
    "digest_time",
    "PAPERBOY_MAIL_DIGEST_TIME",
    DefaultValue::Text(DEFAULT_DIGEST_TIME),
    "HH:MM when `serve` sends digests: daily ones on weekdays, weekly ones on Mondays",
);
pub const TIME_ZONE: Key = Key::new(
    "mail",
    "time_zone",
    "PAPERBOY_MAIL_TIME_ZONE",
    DefaultValue::Text(DEFAULT_TIME_ZONE),
    "IANA time zone of digest_time and of the digests' days, e.g. Europe/Berlin",
);
pub const RETRY_SECONDS: Key = Key::new(
    "mail",
    "retry_seconds",
    "PAPERBOY_MAIL_RETRY_SECS",
    DefaultValue::Whole(DEFAULT_RETRY_SECONDS),
    "first retry after a temporary failure, then doubling",
);
pub const LEASE_SECONDS: Key = Key::new(
    "mail",
    "lease_seconds",
    "PAPERBOY_MAIL_LEASE_SECS",
    DefaultValue::Whole(DEFAULT_LEASE_SECONDS),
    "a crashed sender's claimed mails are retried after this",
);

pub const KEYS: &[Key] = &[
    SMTP_HOST,
    SMTP_PORT,
    SMTP_SECURITY,
    SMTP_USERNAME,
    SMTP_PASSWORD,
    SMTP_CA_FILE,
    FROM,
    MESSAGES_PER_SECOND,
    DIGEST_TIME,
    TIME_ZONE,
    RETRY_SECONDS,
    LEASE_SECONDS,
];

/// `[mail]` in `paperboy.toml`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSection {
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_security: Option<String>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub smtp_ca_file: Option<PathBuf>,
    pub from: Option<String>,
    pub messages_per_second: Option<f64>,
    pub digest_time: Option<String>,
    pub time_zone: Option<String>,
    pub retry_seconds: Option<u64>,
    pub lease_seconds: Option<u64>,
}

/// `[mail]` after the merge: `None` SMTP means mail is off.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub smtp: Option<SmtpSettings>,
    pub from: String,
    pub messages_per_second: f64,
    pub digest_time: String,
    pub time_zone: String,
    pub retry: Duration,
    pub lease: Duration,
}

impl MailSettings {
    /// The environment (`PAPERBOY_SMTP_*`, `PAPERBOY_MAIL_*`) over the file
    /// over the defaults, all checked.
    pub fn resolve(env: &Env, file: MailSection) -> Result<MailSettings> {
        let security = pick(&SMTP_SECURITY, None, env, file.smtp_security, DEFAULT_SMTP_SECURITY.to_string())?
            .convert(|s| Security::parse(s))?;
        let port = pick_opt(&SMTP_PORT, None, env, file.smtp_port)?.map_or(security.default_port(), |p| p.value);
        let ca_file = pick_opt(&SMTP_CA_FILE, None, env, file.smtp_ca_file)?.map(|p| p.value);
        let username = pick_opt(&SMTP_USERNAME, None, env, file.smtp_username)?.map(|p| p.value);
        let password = pick_opt(&SMTP_PASSWORD, None, env, file.smtp_password)?.map(|p| p.value);
        let host = pick_opt(&SMTP_HOST, None, env, file.smtp_host)?.map(|p| p.value);
        let smtp = host.filter(|h| !h.trim().is_empty()).map(|host| SmtpSettings {
            host,
            port,
            security,
            username,
            password,
            timeout: SMTP_TIMEOUT,
            ca_file,
        });
        let rate = pick(&MESSAGES_PER_SECOND, None, env, file.messages_per_second, DEFAULT_MESSAGES_PER_SECOND)?
            .check(|r| *r > 0.0 && r.is_finite(), "a positive number such as 10")?;
        let seconds = |key: &'static Key, file: Option<u64>, default: u64| -> Result<Duration> {
            Ok(Duration::from_secs(pick(key, None, env, file, default)?.value.max(1)))
        };
        let digest_time = pick(&DIGEST_TIME, None, env, file.digest_time, DEFAULT_DIGEST_TIME.to_string())?;
        let time_zone = pick(&TIME_ZONE, None, env, file.time_zone, DEFAULT_TIME_ZONE.to_string())?;
        let schedule_given = format!("{}; {}", digest_time.given(), time_zone.given());
        let from = pick(&FROM, None, env, file.from, DEFAULT_FROM.to_string())?;
        let from_given = from.given();
        let settings = MailSettings {
            smtp,
            from: from.value,
            messages_per_second: rate,
            digest_time: digest_time.value,
            time_zone: time_zone.value,
            retry: seconds(&RETRY_SECONDS, file.retry_seconds, DEFAULT_RETRY_SECONDS)?,
            lease: seconds(&LEASE_SECONDS, file.lease_seconds, DEFAULT_LEASE_SECONDS)?,
        };
        settings
            .schedule(Days::Weekdays)
            .with_context(|| format!("invalid [mail] digest_time or time_zone ({schedule_given})"))?;
        paperboy_mail::message::sender("Paperboy", &settings.from)
            .with_context(|| format!("invalid [mail] from ({from_given})"))?;
        Ok(settings)
    }

    /// When digests go out: weekdays for daily, Mondays for weekly.
    pub fn schedule(&self, days: Days) -> Result<Schedule> {
        Ok(Schedule::parse(&self.digest_time, &self.time_zone, days)?)
    }

    /// How the postman sends: lease, pace and retries from `[mail]`.
    pub fn delivery(&self) -> DeliverySettings {
        DeliverySettings {
            lease: self.lease,
            per_second: self.messages_per_second,
            retry_base: self.retry,
            ..DeliverySettings::default()
        }
    }
}
