//! Database maintenance: `paperboy migrate` (apply the schema migrations of
//! the configured database and say which version it is at) and
//! `paperboy copy-to-postgres --to URL` (copy the SQLite installation in the
//! data directory into an empty PostgreSQL database, all tables in one
//! transaction, and compare row counts on both sides).

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use paperboy_store::{
    PgBackend, SqlStore, SqliteBackend, applied_migrations, copy_sqlite_to_postgres, is_postgres_url,
};

use crate::commands::open_store;
use crate::config::Settings;
use crate::progress::count_bar;

#[derive(Debug, Args)]
pub struct MigrateArgs {}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The empty PostgreSQL database to copy into, e.g. postgres://paperboy:secret@db.internal/paperboy
    #[arg(long, value_name = "URL")]
    pub to: String,
}

/// `paperboy migrate`: opening a store applies its pending migrations; the
/// ones recorded since this command started are the ones it applied.
pub async fn migrate(_args: MigrateArgs, settings: &Settings) -> Result<ExitCode> {
    let started = chrono::Utc::now();
    let store = open_store(settings).await?;
    let applied = applied_migrations(&store).await.context("cannot read the schema version")?;
    let mut fresh = 0;
    for m in &applied {
        let at = chrono::DateTime::parse_from_rfc3339(&m.applied_at).map(|t| t.to_utc());
        if at.is_ok_and(|t| t >= started) {
            println!("applied migration {} ({})", m.version, m.name);
            fresh += 1;
        }
    }
    let version = applied.last().map_or(0, |m| m.version);
    let backend = if store.sqlite().is_some() { "SQLite" } else { "PostgreSQL" };
    if fresh == 0 {
        println!("{backend} database is up to date at schema version {version}");
    } else {
        println!("{backend} database is now at schema version {version}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `paperboy copy-to-postgres --to URL`.
pub async fn copy_to_postgres(args: CopyArgs, settings: &Settings) -> Result<ExitCode> {
    if settings.database_url.is_some() {
        bail!(
            "copy-to-postgres reads the SQLite catalog in the data directory: drop --database-url \
             (and PAPERBOY_DATABASE_URL / database_url in the config), and name the target with --to"
        );
    }
    if !is_postgres_url(&args.to) {
        bail!("--to must be a PostgreSQL URL (postgres://user:password@host:port/database), not {:?}", args.to);
    }
    let path = settings.database_path();
    if !path.exists() {
        bail!("there is no catalog at {}: pass the --data-dir of the installation to copy", path.display());
    }
    let source =
        SqliteBackend::open(&path).await.with_context(|| format!("cannot open the catalog at {}", path.display()))?;
    let target = PgBackend::open(args.to.trim()).await.context("cannot open the target PostgreSQL database")?;

    let bar = count_bar(0, "copying");
    let counts = copy_sqlite_to_postgres(&source, &target, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await;
    bar.finish_and_clear();
    let counts = counts.context("the copy failed and nothing was written to PostgreSQL")?;

    println!("{:<16} {:>10} {:>10}", "table", "sqlite", "postgres");
    for c in &counts {
        println!("{:<16} {:>10} {:>10}", c.table, c.source, c.target);
    }
    // Counted again after the commit, through the ordinary store, so that a
    // difference here is not the copy checking its own work.
    let after = paperboy_store::table_counts(&SqlStore::from(target)).await?;
    for (c, (table, n)) in counts.iter().zip(&after) {
        if c.source != *n {
            bail!("table {table}: {} rows in SQLite but {n} in PostgreSQL after the copy", c.source);
        }
    }
    let total: u64 = counts.iter().map(|c| c.source).sum();
    println!(
        "copied {total} rows into PostgreSQL; use it with --database-url (or PAPERBOY_DATABASE_URL), and keep \
         {} as a backup",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
