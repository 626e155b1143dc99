//! `paperboy digest run`: builds a period's email digests into the outbox
//! and delivers them; the `[mail]` settings; and the digest builder and
//! postman that `serve` hands to its digest and outbox jobs
//! (`paperboy_services::jobs`), which build the same digests at the
//! configured time.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use clap::{Args, Subcommand};
use paperboy_core::Email;
use paperboy_core::schedule::{Days, Schedule};
use paperboy_mail::{
    DeliveryOptions, DigestBuilder, Mailer, Period, Postman, SavedSearchMatcher, Security, Signer, Site, SmtpSettings,
};
use paperboy_search::SearchEngine;
use paperboy_services::jobs::digest::HybridMatcher;
use paperboy_services::lease::{DIGEST_LEASE, holder_id, wait_for_lease};
use paperboy_store::{Database, Frequency};
use serde::Deserialize;

use crate::config::Settings;

/// `[mail]` in paperboy.toml; every key also has a `PAPERBOY_SMTP_*` or
/// `PAPERBOY_MAIL_*` environment variable, which wins.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSection {
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    /// `plain`, `starttls` (default) or `tls`.
    pub smtp_security: Option<String>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// A PEM file of CA certificates trusted besides the built-in roots
    /// (a relay whose certificate a private CA signed).
    pub smtp_ca_file: Option<PathBuf>,
    /// The sender address, e.g. `digest@papers.example.org`.
    pub from: Option<String>,
    pub messages_per_second: Option<f64>,
    /// `HH:MM`, when `serve` builds and sends digests.
    pub digest_time: Option<String>,
    pub time_zone: Option<String>,
    /// First retry delay after a temporary failure (doubles each time).
    pub retry_seconds: Option<u64>,
    /// How long a sender holds claimed mails before another may take them.
    pub lease_seconds: Option<u64>,
}

/// The mail settings after the merge: `None` SMTP means mail is off.
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
    /// Applies `PAPERBOY_SMTP_*` / `PAPERBOY_MAIL_*` (via `env`) over the file section and checks it all.
    pub fn resolve(file: MailSection, env: impl Fn(&str) -> Option<String>) -> Result<MailSettings> {
        let pick = |key: &str, file: Option<String>| env(key).filter(|v| !v.trim().is_empty()).or(file);
        let num = |key: &str, file: Option<String>| -> Result<Option<String>> { Ok(pick(key, file)) };
        let security = match pick("PAPERBOY_SMTP_SECURITY", file.smtp_security) {
            Some(s) => Security::parse(&s).map_err(|e| anyhow::anyhow!("[mail] smtp_security: {e}"))?,
            None => Security::default(),
        };
        let port = match num("PAPERBOY_SMTP_PORT", file.smtp_port.map(|p| p.to_string()))? {
            Some(p) => {
                p.trim().parse::<u16>().with_context(|| format!("[mail] smtp_port {p:?}: give a port number"))?
            }
            None => security.default_port(),
        };
        let ca_file =
            pick("PAPERBOY_SMTP_CA_FILE", file.smtp_ca_file.map(|p| p.display().to_string())).map(PathBuf::from);
        let host = pick("PAPERBOY_SMTP_HOST", file.smtp_host);
        let smtp = host.filter(|h| !h.trim().is_empty()).map(|host| SmtpSettings {
            host,
            port,
            security,
            username: pick("PAPERBOY_SMTP_USERNAME", file.smtp_username.clone()),
            password: pick("PAPERBOY_SMTP_PASSWORD", file.smtp_password.clone()),
            timeout: Duration::from_secs(30),
            ca_file,
        });
        let rate = match num("PAPERBOY_MAIL_RATE", file.messages_per_second.map(|r| r.to_string()))? {
            Some(r) => r
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|r| *r > 0.0 && r.is_finite())
                .with_context(|| format!("[mail] messages_per_second {r:?}: give a positive number such as 10"))?,
            None => 10.0,
        };
        let secs = |key: &str, file: Option<u64>, default: u64| -> Result<Duration> {
            match pick(key, file.map(|v| v.to_string())) {
                Some(v) => Ok(Duration::from_secs(
                    v.trim().parse::<u64>().with_context(|| format!("{key} {v:?}: give whole seconds"))?.max(1),
                )),
                None => Ok(Duration::from_secs(default)),
            }
        };
        let settings = MailSettings {
            smtp,
            from: pick("PAPERBOY_MAIL_FROM", file.from).unwrap_or_else(|| "paperboy@localhost".to_string()),
            messages_per_second: rate,
            digest_time: pick("PAPERBOY_MAIL_DIGEST_TIME", file.digest_time).unwrap_or_else(|| "07:00".to_string()),
            time_zone: pick("PAPERBOY_MAIL_TIME_ZONE", file.time_zone).unwrap_or_else(|| "UTC".to_string()),
            retry: secs("PAPERBOY_MAIL_RETRY_SECS", file.retry_seconds, 60)?,
            lease: secs("PAPERBOY_MAIL_LEASE_SECS", file.lease_seconds, 120)?,
        };
        settings.schedule(Days::Weekdays).context("invalid [mail] digest_time or time_zone")?;
        paperboy_mail::message::sender("Paperboy", &settings.from).context("invalid [mail] from")?;
        Ok(settings)
    }

    /// When digests go out: weekdays for daily, Mondays for weekly.
    pub fn schedule(&self, days: Days) -> Result<Schedule> {
        Ok(Schedule::parse(&self.digest_time, &self.time_zone, days)?)
    }

    fn delivery(&self) -> DeliveryOptions {
        DeliveryOptions {
            lease: self.lease,
            per_second: self.messages_per_second,
            retry_base: self.retry,
            ..DeliveryOptions::default()
        }
    }
}

/// Everything mail needs, for `serve` and `digest run`. `smtp` may be
/// `None` only for a dry run.
pub async fn builder(
    settings: &Settings,
    db: Arc<dyn Database>,
    search: Option<Arc<SearchEngine>>,
    base_url: &str,
) -> Result<DigestBuilder> {
    let mail = &settings.mail;
    let signer = Signer::shared(db.as_ref(), &legacy_mail_key_path(&settings.data_dir)).await?;
    let from = paperboy_mail::message::sender(&settings.site_name, &mail.from)?;
    let tz = mail.time_zone.trim().parse().map_err(|_| anyhow::anyhow!("unknown time zone {:?}", mail.time_zone))?;
    Ok(DigestBuilder {
        db,
        search: search.map(|engine| Arc::new(HybridMatcher(engine)) as Arc<dyn SavedSearchMatcher>),
        signer,
        site: Site { name: settings.site_name.clone(), base_url: base_url.trim_end_matches('/').to_string(), from, tz },
    })
}

/// Where versions before the shared key kept the HMAC key of signed mail
/// links; read once, to carry that key into the database.
pub fn legacy_mail_key_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("mail.key")
}

/// The postman for `serve`, or `None` when no SMTP server is configured.
pub fn postman(builder: DigestBuilder, settings: &Settings) -> Result<Option<Arc<Postman>>> {
    let Some(smtp) = &settings.mail.smtp else {
        return Ok(None);
    };
    let mailer = Mailer::new(smtp, &builder.site.from)?;
    Ok(Some(Arc::new(Postman::new(builder, mailer, settings.mail.delivery()))))
}

#[derive(Debug, Subcommand)]
pub enum DigestCommand {
    /// Build this period's digests for every confirmed subscriber who has none yet, then deliver
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Which digests: daily (weekday subscribers) or weekly
    #[arg(long, value_name = "daily|weekly", value_parser = ["daily", "weekly"])]
    pub period: String,

    /// Build and render, but queue and send nothing; prints what would be sent
    #[arg(long)]
    pub dry_run: bool,

    /// Only the digest of this subscribed address
    #[arg(long, value_name = "ADDRESS")]
    pub to: Option<String>,

    /// Public URL of the site, for links in mails [default: [server] base_url, then http://ADDR]
    #[arg(long, env = "PAPERBOY_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
}

pub async fn run(cmd: DigestCommand, settings: &Settings) -> Result<ExitCode> {
    let DigestCommand::Run(args) = cmd;
    let frequency = Frequency::parse(&args.period).context("--period must be daily or weekly")?;
    let only = match &args.to {
        Some(a) => Some(Email::parse(a).with_context(|| format!("--to {a:?} is not an email address"))?),
        None => None,
    };
    if settings.mail.smtp.is_none() && !args.dry_run {
        bail!(
            "no SMTP server is configured: set PAPERBOY_SMTP_HOST (or [mail] smtp_host in paperboy.toml), \
             or use --dry-run to see what would be sent"
        );
    }
    let store = super::open_store(settings).await?;
    let db = store.into_database();
    if let Some(email) = &only {
        let sub = db.subscriber_by_email(email).await?;
        if !sub.as_ref().is_some_and(|s| s.is_active() && s.frequency == frequency) {
            bail!("{email} has no confirmed, active {} subscription: check the address and --period", args.period);
        }
    }
    let embedder = super::load_embedder(settings)?;
    // Beside a running server (same data directory) the index is read-only
    // here and the server keeps it current.
    let engine = super::open_engine(settings, embedder).context("saved searches need the search index")?;
    super::sync_with_progress(db.as_ref(), &engine).await?;
    let base_url =
        args.base_url.or_else(|| settings.base_url.clone()).unwrap_or_else(|| format!("http://{}", settings.addr));
    let builder = builder(settings, Arc::clone(&db), Some(engine), &base_url).await?;
    let period = Period::at(frequency, Utc::now(), builder.site.tz);
    if args.dry_run {
        let report = builder.build_period(&period, only.as_ref(), true).await?;
        println!(
            "{} digests for {} would be queued (dry run): {} (empty, not sent: {}, queued before: {})",
            args.period, period.key, report.built, report.empty, report.already_there
        );
        return Ok(ExitCode::SUCCESS);
    }
    // The SMTP settings are checked (a bad CA file, say) before anything is queued.
    let postman = postman(builder, settings)?.context("no SMTP server is configured: set PAPERBOY_SMTP_HOST")?;
    // One builder at a time across processes sharing the database; a
    // second run waits, then finds the holder's digests queued.
    let holder = holder_id();
    let build = || postman.builder.build_period(&period, only.as_ref(), false);
    let report = wait_for_lease(db.as_ref(), DIGEST_LEASE, &holder, settings.lease, build).await??;
    println!(
        "{} digests for {} queued: {} (empty, not sent: {}, queued before: {})",
        args.period, period.key, report.built, report.empty, report.already_there
    );
    let sent = postman.deliver_now().await?;
    let counts = db.outbox_counts().await?;
    println!(
        "delivered {} now; {} waiting to be retried, {} failed, {} subscriptions paused (outbox: {} sent, {} pending, {} failed)",
        sent.sent, sent.retrying, sent.failed, sent.paused, counts.sent, counts.pending, counts.failed
    );
    tracing::info!(
        search_ms = report.search_time.as_millis() as u64,
        render_ms = report.render_time.as_millis() as u64,
        smtp_ms = sent.smtp_time.as_millis() as u64,
        "digest run timings"
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_wins_over_the_file_and_bad_values_are_refused() {
        let file: MailSection =
            toml::from_str("smtp_host = \"mail.example.org\"\nsmtp_security = \"tls\"\nfrom = \"d@example.org\"\n")
                .unwrap();
        let s = MailSettings::resolve(file.clone(), |_| None).unwrap();
        let smtp = s.smtp.unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port, smtp.security), ("mail.example.org", 465, Security::Tls));
        let env = |k: &str| (k == "PAPERBOY_SMTP_PORT").then(|| "2525".to_string());
        assert_eq!(MailSettings::resolve(file.clone(), env).unwrap().smtp.unwrap().port, 2525);
        assert!(MailSettings::resolve(MailSection::default(), |_| None).unwrap().smtp.is_none(), "off by default");
        let bad_tz = |k: &str| (k == "PAPERBOY_MAIL_TIME_ZONE").then(|| "Mars/Olympus".to_string());
        assert!(MailSettings::resolve(file.clone(), bad_tz).is_err());
        let bad_from = |k: &str| (k == "PAPERBOY_MAIL_FROM").then(|| "x\r\nBcc: y".to_string());
        assert!(MailSettings::resolve(file, bad_from).is_err());
    }

    #[test]
    fn the_smtp_ca_file_comes_from_the_file_or_the_environment() {
        let file: MailSection = toml::from_str(
            "smtp_host = \"relay.internal\"\nsmtp_ca_file = \"/etc/paperboy/relay-ca.pem\"\nfrom = \"d@example.org\"\n",
        )
        .unwrap();
        let smtp = MailSettings::resolve(file.clone(), |_| None).unwrap().smtp.unwrap();
        assert_eq!(smtp.ca_file, Some(PathBuf::from("/etc/paperboy/relay-ca.pem")));
        let env = |k: &str| (k == "PAPERBOY_SMTP_CA_FILE").then(|| "/run/secrets/ca.pem".to_string());
        let smtp = MailSettings::resolve(file, env).unwrap().smtp.unwrap();
        assert_eq!(smtp.ca_file, Some(PathBuf::from("/run/secrets/ca.pem")));
        let none: MailSection = toml::from_str("smtp_host = \"relay.internal\"\n").unwrap();
        assert_eq!(MailSettings::resolve(none, |_| None).unwrap().smtp.unwrap().ca_file, None, "built-in roots only");
    }
}
