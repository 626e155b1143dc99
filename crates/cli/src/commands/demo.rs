//! `paperboy demo`: import the bundled demo papers, then serve them.
//! Safe to run again: the import is idempotent, so nothing is duplicated.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;

use crate::commands::import::{Summary, import_records, options};
use crate::commands::serve::{self, ServeArgs};
use crate::config::Settings;
use crate::demo_data;
use paperboy_store::Catalog;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Import the demo papers and exit without serving
    #[arg(long)]
    pub no_serve: bool,

    // `serve`'s flags, merged into the settings by the config module.
    #[command(flatten)]
    pub serve: ServeArgs,
}

pub async fn run(args: DemoArgs, settings: &Settings) -> Result<ExitCode> {
    let store = super::open_store(settings).await?;
    let started = Instant::now();
    let mut total = Summary::default();
    for file in demo_data::files() {
        let records = paperboy_ingest::from_reader(std::io::Cursor::new(file.bytes), &options(file.listed_on))?;
        let s = import_records(store.database(), records, file.name, file.bytes.len() as u64).await?;
        total.add(s);
    }
    total.report(started.elapsed());
    let ranked = demo_data::record_seed_ranks(store.database()).await?;
    println!("recorded the seed page's order ({ranked} papers, \"#N on {}\")", demo_data::SEED_PAGE);
    super::index_after_import(settings, store.database()).await;
    if !total.rejected.is_empty() {
        bail!("the bundled demo data has rejected records; this is a bug in this build");
    }
    println!("the catalog in {} now holds {} papers", settings.data_dir.display(), store.count_papers().await?);
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    drop(store);
    serve::run(settings).await
}
