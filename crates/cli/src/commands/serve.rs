//! `paperboy serve`: the web site, feeds and JSON API on one address.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Weekday;
use clap::Args;
use paperboy_core::schedule::Days;
use paperboy_mail::Postman;
use paperboy_search::SearchEngine;
use paperboy_services::jobs::Supervisor;
use paperboy_services::jobs::cache_follow::CacheFollow;
use paperboy_services::jobs::digest::Digest;
use paperboy_services::jobs::embed::{Embed, EmbedWorker};
use paperboy_services::jobs::harvest::Harvest;
use paperboy_services::jobs::index_follow::IndexFollow;
use paperboy_services::jobs::outbox::Outbox;
use paperboy_services::jobs::sweep::Sweep;
use paperboy_services::jobs::vector_follow::VectorFollow;
use paperboy_store::{Catalog, Database, HarvestTrigger};
use paperboy_web::metrics::{HttpMetrics, MetricsState};
use paperboy_web::{AppState, ResponseCache, WebSettings};

use crate::config::{self, Settings};

// `serve`'s flags are settings ([server] addr and base_url, [arxiv] base_url):
// the config module merges them with the environment and the file.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, value_name = "HOST:PORT", help = config::server::ADDR.flag_help())]
    pub addr: Option<String>,

    #[arg(long, value_name = "URL", help = config::server::BASE_URL.flag_help())]
    pub base_url: Option<String>,

    #[arg(long, value_name = "URL", help = config::arxiv::BASE_URL.flag_help())]
    pub arxiv_base_url: Option<String>,
}

pub async fn run(settings: &Settings) -> Result<ExitCode> {
    let store = super::open_store(settings).await?;
    let addr = settings.server.addr.clone();
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (is another server running? choose one with --addr)"))?;
    let local = listener.local_addr()?;
    let base_url =
        settings.server.base_url.clone().unwrap_or_else(|| format!("http://{local}")).trim_end_matches('/').to_string();
    let papers = store.count_papers().await?;
    let db = store.into_database();
    let store: Arc<dyn Catalog> = db.clone();
    // Search: the index catches up with the catalog before we answer, then
    // background jobs follow the change feed, embed waiting papers (claimed
    // from the database, shared with every other server and worker) and
    // load the vectors stored in the database.
    let embedder = super::load_embedder(settings)?;
    let engine = super::open_engine(settings, embedder)?;
    if engine.is_read_only() {
        anyhow::bail!(
            "another Paperboy server already uses the data directory {} (its search index is locked): stop it, \
             or give each server its own --data-dir (several servers share a database through --database-url)",
            settings.data_dir.display()
        );
    }
    super::sync_with_progress(store.as_ref(), &engine).await?;
    // Recommendations, for the For-you pages and the personal digest (one
    // engine and feature cache for both).
    let recs = super::digest::recommender(settings, &engine);
    // Email digests and account mail, only when an SMTP server is configured.
    let builder =
        super::digest::builder(settings, Arc::clone(&db), Some(Arc::clone(&engine)), Some(recs.clone()), &base_url)
            .await?;
    let postman = super::digest::postman(builder, settings)?;
    if postman.is_none() {
        tracing::info!("email is off: no SMTP server configured (set PAPERBOY_SMTP_HOST to turn digests on)");
    }
    let cache = Arc::new(ResponseCache::default());
    let jobs = background_jobs(settings, &db, &engine, postman.as_ref(), &cache)?.start();
    let http = Arc::new(HttpMetrics::default());
    let metrics = MetricsState {
        http: Arc::clone(&http),
        cache: Arc::clone(&cache),
        store: Arc::clone(&db),
        jobs: Some(jobs.status()),
        embedding_model: engine.embedder().map(|e| paperboy_services::model::store_key(e)),
        backlog: Arc::default(),
        token: settings.server.metrics_token.clone(),
    };
    let state = AppState {
        cache,
        recs,
        mail: postman,
        search: Some(Arc::clone(&engine)),
        store: Arc::clone(&db),
        config: Arc::new(WebSettings {
            base_url: base_url.clone(),
            site_name: settings.server.site_name.clone(),
            page_size: settings.server.page_size,
            arxiv_base_url: settings.arxiv.base_url.clone(),
            submit_window_days: settings.community.submit_window_days,
            comments_per_minute: settings.community.comments_per_minute,
            mail_enabled: false,
            trusted_proxies: settings.server.trusted_proxies.clone(),
            connections: settings.server.connections,
            ranking: paperboy_web::signals::Ranking { params: settings.ranking, weights: settings.weights },
            max_age_days: settings.code_trending_days,
        }),
    };
    let limits = state.config.connections;
    let mut app = paperboy_web::router_with_metrics(state, http);
    if metrics.token.is_some() {
        tracing::info!("GET /metrics is on the public port for requests with the metrics token");
        app = app.merge(paperboy_web::metrics::router(metrics.clone()));
    }
    let metrics_server = match &settings.server.metrics_addr {
        Some(addr) => Some(metrics_listener(addr, MetricsState { token: None, ..metrics }, limits).await?),
        None => None,
    };
    println!("Paperboy is serving {papers} papers at http://{local} (press Ctrl-C to stop)");
    tracing::info!(%local, %base_url, papers, "listening");
    let served = paperboy_web::server::serve_router(listener, app, limits, super::shutdown_signal())
        .await
        .context("the server failed");
    if let Some(task) = metrics_server {
        task.abort();
    }
    jobs.shutdown(JOBS_STOP_BOUND).await;
    served?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Answers `GET /metrics` on `addr` (`[server] metrics_addr`) until aborted.
async fn metrics_listener(
    addr: &str,
    metrics: MetricsState,
    limits: paperboy_web::ConnectionLimits,
) -> Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for metrics (choose another PAPERBOY_METRICS_ADDR)"))?;
    let local = listener.local_addr()?;
    println!("Prometheus metrics: http://{local}/metrics");
    tracing::info!(%local, "metrics listening");
    let app = paperboy_web::metrics::router(metrics);
    Ok(tokio::spawn(async move {
        if let Err(e) = paperboy_web::server::serve_router(listener, app, limits, std::future::pending()).await {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    }))
}

/// How often the response cache reads the community change feed: what
/// another server changes shows here at most this late (plus a query).
const CACHE_FOLLOW_EVERY: Duration = Duration::from_millis(300);

/// How long the background jobs get to finish their runs at shutdown.
const JOBS_STOP_BOUND: Duration = Duration::from_secs(30);

/// The background work of a server, one supervisor for all of it: the
/// index follower, the vector follower and the embedder, the daily harvest (when enabled), the
/// sweeper, and, with mail on, the digests and the outbox sender. A new job
/// is one file in `paperboy_services::jobs` and one `register` line here.
fn background_jobs(
    settings: &Settings,
    db: &Arc<dyn Database>,
    engine: &Arc<SearchEngine>,
    postman: Option<&Arc<Postman>>,
    cache: &Arc<ResponseCache>,
) -> Result<Supervisor> {
    let mut jobs = Supervisor::new(Arc::clone(db)).with_lease_ttl(settings.lease);
    // Votes and comments taken by other servers reach this one's cached pages.
    jobs.register(CacheFollow::new(Arc::clone(cache) as _, CACHE_FOLLOW_EVERY));
    jobs.register(IndexFollow::new(Arc::clone(engine), Duration::from_secs(2)));
    if let Some(embedder) = engine.embedder() {
        let model = paperboy_services::model::store_key(embedder);
        jobs.register(VectorFollow::new(Arc::clone(engine), model, Duration::from_secs(2)));
        if settings.search.embed {
            let worker = EmbedWorker::new(Arc::clone(db), Arc::clone(embedder), settings.search.embed_batch);
            jobs.register(Embed::new(worker, Duration::from_secs(2)));
        } else {
            tracing::info!("this server embeds no papers (search.embed = false): it loads vectors stored by others");
        }
    }
    if settings.harvest.enabled {
        let h = &settings.harvest;
        tracing::info!(at = %h.schedule.at, tz = %h.schedule.tz, base_url = %h.base_url, "daily harvest is on");
        jobs.register(Harvest::new(h.config(HarvestTrigger::Schedule, settings.lease), h.schedule));
    }
    jobs.register(Sweep::default());
    super::signals::register_jobs(&mut jobs, &settings.signals)?;
    if let Some(postman) = postman {
        let mail = &settings.mail;
        tracing::info!(at = %mail.digest_time, tz = %mail.time_zone, "email digests are on");
        jobs.register(Digest::daily(Arc::clone(postman), mail.schedule(Days::Weekdays)?));
        jobs.register(Digest::weekly(Arc::clone(postman), mail.schedule(Days::Weekly(Weekday::Mon))?));
        jobs.register(Outbox::new(Arc::clone(postman), Duration::from_secs(5)));
    }
    Ok(jobs)
}
