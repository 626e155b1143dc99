//! `paperboy serve`: the web site, feeds and JSON API on one address.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use paperboy_store::Catalog;
use paperboy_web::{AppState, WebSettings};

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
    // Search: the index catches up with the catalog before we answer, then a
    // background task follows the change feed and embeds new papers.
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
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let follower = tokio::spawn(paperboy_services::indexer::follow(
        Arc::clone(&store),
        Arc::clone(&engine),
        std::time::Duration::from_secs(2),
        settings.search.embed_batch,
        stop_rx.clone(),
    ));
    // The daily arXiv harvest, only when enabled ([harvest] enabled = true).
    let harvester = settings.harvest.enabled.then(|| {
        let h = &settings.harvest;
        tracing::info!(at = %h.schedule.at, tz = %h.schedule.tz, base_url = %h.base_url, "daily harvest is on");
        tokio::spawn(paperboy_services::harvest::run_on_schedule(
            Arc::clone(&db),
            h.config(paperboy_store::HarvestTrigger::Schedule, settings.lease),
            h.schedule,
            stop_rx.clone(),
        ))
    });
    // Expired sessions, email links and rate-limit records are swept now and then.
    let sweeper = {
        let db = Arc::clone(&db);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                every.tick().await;
                match db.purge_expired().await {
                    Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions and links removed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
                }
                let old = chrono::Utc::now() - paperboy_web::ratelimit::SWEEP_AFTER;
                if let Err(e) = db.sweep_failures(old).await {
                    tracing::warn!(error = %e, "could not remove old rate-limit records");
                }
            }
        })
    };
    // Email digests and account mail, only when an SMTP server is configured.
    let builder = super::digest::builder(settings, Arc::clone(&db), Some(Arc::clone(&engine)), &base_url).await?;
    let postman = super::digest::postman(builder, settings)?;
    let mailman = postman.as_ref().map(|p| {
        tokio::spawn(super::digest::run_in_server(
            Arc::clone(p),
            settings.mail.clone(),
            settings.lease,
            stop_rx.clone(),
        ))
    });
    if postman.is_none() {
        tracing::info!("email is off: no SMTP server configured (set PAPERBOY_SMTP_HOST to turn digests on)");
    }
    let state = AppState {
        mail: postman,
        search: Some(Arc::clone(&engine)),
        store: Arc::clone(&db),
        config: Arc::new(WebSettings {
            base_url: base_url.clone(),
            site_name: settings.server.site_name.clone(),
            page_size: settings.server.page_size,
            arxiv_base_url: settings.arxiv.base_url.clone(),
            submit_window_days: settings.community.submit_window_days,
            mail_enabled: false,
            trusted_proxies: settings.server.trusted_proxies.clone(),
        }),
    };
    println!("Paperboy is serving {papers} papers at http://{local} (press Ctrl-C to stop)");
    tracing::info!(%local, %base_url, papers, "listening");
    paperboy_web::serve(listener, state, shutdown_signal()).await.context("the server failed")?;
    sweeper.abort();
    let _ = stop_tx.send(true);
    let _ = follower.await;
    if let Some(mailman) = mailman {
        let _ = mailman.await;
    }
    if let Some(harvester) = harvester {
        let _ = harvester.await;
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM, so that systemd and terminals stop us cleanly.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
