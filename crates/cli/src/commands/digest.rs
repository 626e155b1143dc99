//! `paperboy digest run`: builds a period's email digests into the outbox
//! and delivers them; and the serve-side scheduler and outbox sender. The
//! `[mail]` settings they share are in `config::mail`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::config::mail::MailSettings;
use crate::config::{self, Settings};
use anyhow::{Context, Result, bail};
use chrono::{Utc, Weekday};
use clap::{Args, Subcommand};
use paperboy_core::Email;
use paperboy_core::schedule::Days;
use paperboy_mail::{DigestBuilder, Mailer, Period, Postman, Signer, Site};
use paperboy_search::SearchEngine;
use paperboy_services::lease::{DIGEST_LEASE, LeaseError, holder_id, wait_for_lease, with_lease};
use paperboy_store::{Database, Frequency};

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
    let from = paperboy_mail::message::sender(&settings.server.site_name, &mail.from)?;
    let tz = mail.time_zone.trim().parse().map_err(|_| anyhow::anyhow!("unknown time zone {:?}", mail.time_zone))?;
    Ok(DigestBuilder {
        db,
        search,
        signer,
        site: Site {
            name: settings.server.site_name.clone(),
            base_url: base_url.trim_end_matches('/').to_string(),
            from,
            tz,
        },
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

    #[arg(long, value_name = "URL", help = config::server::BASE_URL.flag_help())]
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
    // --base-url is in settings.server already.
    let server = &settings.server;
    let base_url = server.base_url.clone().unwrap_or_else(|| format!("http://{}", server.addr));
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

/// `serve`'s mail tasks: the digest scheduler (weekday dailies and Monday
/// weeklies at the configured time, catching up at start on a period whose
/// time has passed: building is idempotent) and the outbox sender (every
/// few seconds, so retries and confirmation mails go out). Ends when
/// `stop` turns true.
///
/// Building a period holds the digest lease, so that of several servers
/// one builds; the others keep the period pending and try again on each
/// pass, finding it built once the holder is done, or building the rest
/// when the holder died and its lease ran out. Sending needs no lease: the
/// outbox hands each mail to one sender.
pub async fn run_in_server(
    postman: Arc<Postman>,
    settings: MailSettings,
    lease: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let (daily, weekly) = match (settings.schedule(Days::Weekdays), settings.schedule(Days::Weekly(Weekday::Mon))) {
        (Ok(d), Ok(w)) => (d, w),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "digest schedule is invalid; digests are off");
            return;
        }
    };
    tracing::info!(at = %settings.digest_time, tz = %settings.time_zone, "email digests are on");
    let tz = postman.builder.site.tz;
    let holder = holder_id();
    let mut pending: Vec<Period> = Vec::new();
    let now = Utc::now();
    for (schedule, freq) in [(daily, Frequency::Daily), (weekly, Frequency::Weekly)] {
        // Fired within the last day (daily) or week (weekly) but maybe not built: catch up.
        let window = if freq == Frequency::Daily { chrono::Duration::hours(20) } else { chrono::Duration::days(6) };
        if schedule.next_after(now - window) <= now {
            pending.push(Period::at(freq, now, tz));
        }
    }
    let mut next_daily = daily.next_after(Utc::now());
    let mut next_weekly = weekly.next_after(Utc::now());
    loop {
        let now = Utc::now();
        if now >= next_daily {
            pending.push(Period::at(Frequency::Daily, now, tz));
            next_daily = daily.next_after(now);
        }
        if now >= next_weekly {
            pending.push(Period::at(Frequency::Weekly, now, tz));
            next_weekly = weekly.next_after(now);
        }
        let mut still = Vec::new();
        for period in pending.drain(..) {
            if !build_and_log(&postman, &holder, lease, &period).await {
                still.push(period);
            }
        }
        pending = still;
        if let Err(e) = postman.deliver_now().await {
            tracing::warn!(error = %e, "mail delivery pass failed; retrying soon");
        }
        let until_next = (next_daily.min(next_weekly) - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            _ = tokio::time::sleep(until_next.min(Duration::from_secs(5))) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Builds `period` under the digest lease; `false` when another process
/// holds the lease (try again later).
async fn build_and_log(postman: &Arc<Postman>, holder: &str, lease: Duration, period: &Period) -> bool {
    let builder = &postman.builder;
    let build = builder.build_period(period, None, false);
    match with_lease(builder.db.as_ref(), DIGEST_LEASE, holder, lease, build).await {
        Ok(Ok(r)) => {
            tracing::info!(period = %period.key, built = r.built, empty = r.empty, "digests queued");
            true
        }
        Ok(Err(e)) => {
            tracing::error!(period = %period.key, error = %e, "building digests failed; the next run retries");
            true
        }
        Err(LeaseError::Busy { holder, .. }) => {
            tracing::debug!(period = %period.key, %holder, "another process is building digests");
            false
        }
        Err(e) => {
            tracing::warn!(period = %period.key, error = %e, "building digests stopped; trying again");
            false
        }
    }
}
