//! One module per subcommand.

pub mod admin;
pub mod database;
pub mod demo;
pub mod digest;
pub mod embed;
pub mod eval;
mod eval_recs;
pub mod harvest;
pub mod import;
pub mod model;
pub mod papers;
pub mod search;
pub mod serve;
pub mod signals;
pub mod status;

use std::sync::Arc;

use anyhow::{Context, Result};
use paperboy_search::{Embedder, SearchEngine};
use paperboy_store::{Catalog, SqlStore};

use crate::config::Settings;
use crate::progress::count_bar;

/// Opens the catalog: the PostgreSQL database when one is configured,
/// otherwise the SQLite file in the data directory (both created if
/// needed). The data directory is made either way: it holds the search index.
pub async fn open_store(settings: &Settings) -> Result<SqlStore> {
    open_store_as(settings, false).await
}

/// [`open_store`] for a bulk import: on SQLite, a larger page cache.
pub async fn open_store_for_import(settings: &Settings) -> Result<SqlStore> {
    open_store_as(settings, true).await
}

async fn open_store_as(settings: &Settings, import: bool) -> Result<SqlStore> {
    settings.ensure_data_dir()?;
    let store = match &settings.database_url {
        Some(url) => paperboy_store::open(url).await.context("cannot open the catalog in PostgreSQL")?,
        None => {
            let path = settings.database_path();
            let store =
                if import { SqlStore::open_sqlite_for_import(&path).await } else { SqlStore::open_sqlite(&path).await };
            store.with_context(|| format!("cannot open the catalog at {}", path.display()))?
        }
    };
    Ok(store
        .with_ranking(settings.ranking)
        .with_signal_weights(settings.weights)
        .with_code_trending_days(settings.code_trending_days))
}

/// Loads the embedding model if one is configured or in a default place.
/// `None` (with a log line saying how to turn semantic search on) otherwise.
pub fn load_embedder(settings: &Settings) -> Result<Option<Arc<Embedder>>> {
    let Some(dir) = paperboy_services::find_model_dir(settings.search.model_dir.as_deref(), &settings.data_dir) else {
        if let Some(dir) = &settings.search.model_dir {
            anyhow::bail!(
                "no model in {} (it needs model.safetensors and tokenizer.json): run `paperboy model fetch --dir {}`",
                dir.display(),
                dir.display()
            );
        }
        tracing::warn!("semantic search is off: no embedding model found; run `paperboy model fetch` to turn it on");
        return Ok(None);
    };
    let embedder = Embedder::load(&dir)
        .with_context(|| format!("cannot load the model in {}", dir.display()))?
        .with_evidence(settings.search.evidence);
    tracing::info!(model = %dir.display(), evidence = settings.search.evidence.as_str(), "semantic search is on");
    Ok(Some(Arc::new(embedder)))
}

/// Opens the search index in the data directory.
pub fn open_engine(settings: &Settings, embedder: Option<Arc<Embedder>>) -> Result<Arc<SearchEngine>> {
    let dir = settings.index_dir();
    let engine = SearchEngine::open(&dir, embedder).with_context(|| {
        format!("cannot open the search index in {} (rebuild it with `paperboy reindex`)", dir.display())
    })?;
    Ok(Arc::new(engine))
}

/// Brings the index up to date with the catalog, with a progress bar. A
/// read-only index (another process, normally the running server, writes
/// it) is left to its writer, which follows the catalog within seconds.
pub async fn sync_with_progress(store: &dyn Catalog, engine: &Arc<SearchEngine>) -> Result<()> {
    if engine.is_read_only() {
        tracing::info!(
            dir = %engine.dir().display(),
            "another Paperboy process (a running server?) writes this search index and keeps it up to date"
        );
        return Ok(());
    }
    let start = engine.applied_seq()?;
    let newest = store.last_change_seq().await?;
    if newest <= start {
        return Ok(());
    }
    let bar = count_bar(newest - start, "indexing");
    let report = paperboy_services::sync_index(store, engine, |applied, _| bar.set_position(applied - start))
        .await
        .context("updating the search index failed")?;
    bar.finish_and_clear();
    tracing::info!(indexed = report.indexed, removed = report.removed, "search index up to date");
    Ok(())
}

/// After an import: make the new papers searchable by keyword now. When the
/// index is busy (a running `paperboy serve` owns it) that server's follower
/// picks the papers up within seconds instead.
pub async fn index_after_import(settings: &Settings, store: &dyn Catalog) {
    let result = async {
        let engine = open_engine(settings, None)?;
        sync_with_progress(store, &engine).await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!("the search index was not updated now ({e:#}); `paperboy serve` brings it up to date");
    }
}

/// Resolves on Ctrl-C or SIGTERM, so that systemd and terminals stop us cleanly.
pub(crate) async fn shutdown_signal() {
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
