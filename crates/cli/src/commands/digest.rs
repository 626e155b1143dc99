//! `paperboy digest run`: builds a period's email digests into the outbox
//! and delivers them; and the digest builder and postman that `serve`
//! hands to its digest and outbox jobs (`paperboy_services::jobs`), which
//! build the same digests at the configured time, with saved searches
//! matched by hybrid search and a member's recommendations from the same
//! [`RecsService`] as `/for-you`. The `[mail]` settings they share are in
//! `config::mail`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::config::{self, Settings};
use anyhow::{Context, Result, bail};
use chrono::Utc;
use clap::{Args, Subcommand};
use paperboy_core::Email;
use paperboy_mail::{DigestBuilder, Mailer, Period, PersonalPicks, Postman, SavedSearchMatcher, Signer, Site};
use paperboy_search::SearchEngine;
use paperboy_services::jobs::digest::HybridMatcher;
use paperboy_services::jobs::picks::RecsPicks;
use paperboy_services::lease::{DIGEST_LEASE, holder_id, wait_for_lease};
use paperboy_services::recommend::{Popularity, RecsService};
use paperboy_store::{Database, Frequency};

/// The recommender over `engine`, scoring popularity with the site's
/// `[ranking]` settings: what `/for-you` and the personal digest rank with.
pub fn recommender(settings: &Settings, engine: &Arc<SearchEngine>) -> RecsService {
    RecsService::new(Some(Arc::clone(engine)), Popularity { params: settings.ranking, weights: settings.weights })
}

/// Everything mail needs, for `serve` and `digest run`. `smtp` may be
/// `None` only for a dry run; without `recs`, every digest carries
/// trending papers.
pub async fn builder(
    settings: &Settings,
    db: Arc<dyn Database>,
    search: Option<Arc<SearchEngine>>,
    recs: Option<RecsService>,
    base_url: &str,
) -> Result<DigestBuilder> {
    let mail = &settings.mail;
    let signer = Signer::shared(db.as_ref(), &legacy_mail_key_path(&settings.data_dir)).await?;
    let from = paperboy_mail::message::sender(&settings.server.site_name, &mail.from)?;
    let tz = mail.time_zone.trim().parse().map_err(|_| anyhow::anyhow!("unknown time zone {:?}", mail.time_zone))?;
    Ok(DigestBuilder {
        search: search.map(|engine| Arc::new(HybridMatcher(engine)) as Arc<dyn SavedSearchMatcher>),
        picks: recs.map(|r| Arc::new(RecsPicks::new(r, Arc::clone(&db))) as Arc<dyn PersonalPicks>),
        db,
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
    let recs = recommender(settings, &engine);
    let builder = builder(settings, Arc::clone(&db), Some(engine), Some(recs), &base_url).await?;
    let period = Period::at(frequency, Utc::now(), builder.site.tz);
    if args.dry_run {
        let report = builder.build_period(&period, only.as_ref(), true).await?;
        println!(
            "{} digests for {} would be queued (dry run): {} (empty, not sent: {}, queued before: {}{})",
            args.period,
            period.key,
            report.built,
            report.empty,
            report.already_there,
            not_built(report.failed)
        );
        return Ok(if report.failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS });
    }
    // The SMTP settings are checked (a bad CA file, say) before anything is queued.
    let postman = postman(builder, settings)?.context("no SMTP server is configured: set PAPERBOY_SMTP_HOST")?;
    // One builder at a time across processes sharing the database; a
    // second run waits, then finds the holder's digests queued.
    let holder = holder_id();
    let build = || postman.builder.build_period(&period, only.as_ref(), false);
    let report = wait_for_lease(db.as_ref(), DIGEST_LEASE, &holder, settings.lease, build).await??;
    println!(
        "{} digests for {} queued: {} (empty, not sent: {}, queued before: {}{})",
        args.period,
        period.key,
        report.built,
        report.empty,
        report.already_there,
        not_built(report.failed)
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
    if report.failed > 0 {
        eprintln!(
            "{} digests could not be built (the log says why); the others were sent. Run the same command again \
             to build the missing ones: nobody gets a second digest for {}.",
            report.failed, period.key
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `, not built: N` when some digests failed; nothing otherwise, so that
/// the line of a clean run reads as before.
fn not_built(failed: u64) -> String {
    if failed > 0 { format!(", not built: {failed}") } else { String::new() }
}
