//! One module per subcommand.

pub mod demo;
pub mod import;
pub mod papers;
pub mod serve;

use anyhow::{Context, Result};
use paperboy_store::SqliteStore;

use crate::config::Settings;

/// Opens the catalog in the data directory, creating both if needed.
pub async fn open_store(settings: &Settings) -> Result<SqliteStore> {
    settings.ensure_data_dir()?;
    let path = settings.database_path();
    SqliteStore::open(&path).await.with_context(|| format!("cannot open the catalog at {}", path.display()))
}
