//! `paperboy`: the one binary that serves, imports and inspects a Paperboy
//! catalog. This file parses the command line and hands each subcommand to
//! its module under `commands/`.

mod commands;
mod config;
mod demo_data;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::config::{FileConfig, Settings};

const AFTER_HELP: &str = "\
Configuration, strongest first:
  1. command-line flags
  2. environment variables PAPERBOY_* (PAPERBOY_DATA_DIR, PAPERBOY_CONFIG, PAPERBOY_ADDR,
     PAPERBOY_DATABASE_URL, PAPERBOY_BASE_URL, PAPERBOY_ARXIV_BASE_URL, PAPERBOY_MODEL_DIR, PAPERBOY_LOG,
     PAPERBOY_TRUSTED_PROXIES (comma-separated addresses or blocks), PAPERBOY_JOB_LEASE_SECONDS,
     PAPERBOY_HARVEST_{ENABLED,BASE_URL,CATEGORIES,SET,FORMAT,PACING,TIMEOUT,AT,TIME_ZONE},
     PAPERBOY_SMTP_{HOST,PORT,SECURITY,USERNAME,PASSWORD,CA_FILE},
     PAPERBOY_MAIL_{FROM,RATE,DIGEST_TIME,TIME_ZONE,RETRY_SECS,LEASE_SECS})
  3. the config file: --config FILE, or ./paperboy.toml when present:
         data_dir = \"./paperboy-data\"
         database_url = \"postgres://paperboy@db.internal/paperboy\"   # default: SQLite in data_dir
         job_lease_seconds = 60    # harvest and digest building: one process at a time; a
                                   # crashed holder's lease runs out after this
         [server]
         addr = \"127.0.0.1:8080\"
         base_url = \"https://papers.example.org\"   # absolute links in feeds
         page_size = 30
         site_name = \"Paperboy\"
         trusted_proxies = [\"127.0.0.1\"]   # reverse proxies whose X-Forwarded-For names the client
         [search]
         model_dir = \"./models/all-MiniLM-L6-v2\"   # semantic search; `paperboy model fetch`
         embed_batch = 64
         [arxiv]
         base_url = \"https://export.arxiv.org/api/query\"   # where submissions are fetched
         [community]
         submit_window_days = 14   # how recent a submitted paper must be
         [ranking]                 # sort=trending: votes / (age_hours + base_hours)^gravity
         gravity = 1.8
         base_hours = 2
         [harvest]                 # arXiv OAI-PMH (docs/HARVESTING.md); env PAPERBOY_HARVEST_<KEY>
         enabled = false           # true: `paperboy serve` harvests daily at `at`
         base_url = \"https://oaipmh.arxiv.org/oai\"
         categories = [\"cs.AI\", \"cs.CL\", \"cs.CV\", \"cs.LG\", \"stat.ML\"]   # primary or cross-list
         set = \"cs\"                # OAI set; \"\" for all
         format = \"arXivRaw\"       # or arXiv (dates only)
         pacing_seconds = 3        # between requests (PAPERBOY_HARVEST_PACING)
         timeout_seconds = 60      # (PAPERBOY_HARVEST_TIMEOUT)
         at = \"02:00\"
         time_zone = \"America/New_York\"
         [mail]                    # email digests (docs/EMAIL.md); off without smtp_host
         smtp_host = \"smtp.example.org\"
         smtp_port = 587           # default by security: 25 plain, 587 starttls, 465 tls
         smtp_security = \"starttls\"   # plain, starttls or tls
         smtp_username = \"digest\"
         smtp_password = \"…\"
         smtp_ca_file = \"/etc/paperboy/relay-ca.pem\"   # PEM CAs trusted besides the built-in roots
         from = \"digest@papers.example.org\"
         messages_per_second = 10
         digest_time = \"07:00\"     # daily on weekdays, weekly on Mondays
         time_zone = \"UTC\"         # IANA name, e.g. Europe/Berlin
         retry_seconds = 60        # first retry after a temporary failure, then doubling
         lease_seconds = 120       # a crashed sender's mails are retried after this
  4. built-in defaults (shown above)

Start with `paperboy demo`: it imports the bundled demo papers and serves them.";

/// Paperboy: trending research papers, self-hosted.
#[derive(Debug, Parser)]
#[command(name = "paperboy", version, about, after_help = AFTER_HELP)]
struct Cli {
    /// Where the database and indexes live [default: ./paperboy-data]
    #[arg(long, global = true, env = "PAPERBOY_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// PostgreSQL database shared by several servers, e.g. postgres://paperboy:secret@db.internal/paperboy
    /// [default: SQLite in DATA_DIR/paperboy.db]
    #[arg(long, global = true, env = "PAPERBOY_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,

    /// Config file [default: ./paperboy.toml when present]
    #[arg(long, global = true, env = "PAPERBOY_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// Embedding model directory [default: DATA_DIR/models/all-MiniLM-L6-v2, then ./models/all-MiniLM-L6-v2]
    #[arg(long, global = true, env = "PAPERBOY_MODEL_DIR", value_name = "DIR")]
    model_dir: Option<PathBuf>,

    /// Log filter, e.g. `info`, `debug`, `paperboy_web=debug`
    #[arg(long, global = true, env = "PAPERBOY_LOG", default_value = "info")]
    log: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web site, feeds and JSON API
    Serve(commands::serve::ServeArgs),
    /// Import the bundled demo papers (idempotent), then serve them
    Demo(commands::demo::DemoArgs),
    /// Import papers from files (JSONL, Kaggle snapshot, arXiv Atom, OAI-PMH, plain listing; .gz/.zst ok)
    Import(commands::import::ImportArgs),
    /// List or show papers in the catalog
    #[command(subcommand)]
    Papers(commands::papers::PapersCommand),
    /// Search the catalog from the terminal (same syntax as the site)
    Search(commands::search::SearchArgs),
    /// Rebuild the search index from the catalog
    Reindex(commands::search::ReindexArgs),
    /// Measure search quality on a BEIR-format data set
    #[command(subcommand)]
    Eval(commands::eval::EvalCommand),
    /// Fetch or inspect the embedding model
    #[command(subcommand)]
    Model(commands::model::ModelCommand),
    /// Fetch new and updated papers from arXiv (OAI-PMH); `harvest status` shows the runs
    Harvest(commands::harvest::HarvestArgs),
    /// Email digests: `digest run --period daily|weekly [--dry-run] [--to ADDRESS]`
    #[command(subcommand)]
    Digest(commands::digest::DigestCommand),
    /// Accounts and moderation: create-user, create-token, suspend, hide-paper, hide-comment
    #[command(subcommand)]
    Admin(commands::admin::AdminCommand),
    /// Apply the database's schema migrations and print its schema version
    Migrate(commands::database::MigrateArgs),
    /// Copy the SQLite catalog in --data-dir into an empty PostgreSQL database: `copy-to-postgres --to URL`
    #[command(visible_alias = "copy")]
    CopyToPostgres(commands::database::CopyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .init();

    let result = (|| {
        let (file, path) = FileConfig::load(cli.config.as_deref())?;
        if let Some(path) = path {
            tracing::debug!(config = %path.display(), "loaded config file");
        }
        let mut settings = Settings::merge(cli.data_dir.clone(), cli.model_dir.clone(), file)?;
        if let Some(url) = cli.database_url.clone().filter(|u| !u.trim().is_empty()) {
            settings.database_url = Some(url);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        runtime.block_on(run(cli.command, settings))
    })();
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => commands::serve::run(args, &settings).await,
        Command::Demo(args) => commands::demo::run(args, &settings).await,
        Command::Import(args) => commands::import::run(args, &settings).await,
        Command::Papers(cmd) => commands::papers::run(cmd, &settings).await,
        Command::Search(args) => commands::search::run(args, &settings).await,
        Command::Reindex(args) => commands::search::reindex(args, &settings).await,
        Command::Eval(cmd) => commands::eval::run(cmd, &settings).await,
        Command::Model(cmd) => commands::model::run(cmd, &settings).await,
        Command::Admin(cmd) => commands::admin::run(cmd, &settings).await,
        Command::Digest(cmd) => commands::digest::run(cmd, &settings).await,
        Command::Harvest(args) => commands::harvest::run(args, &settings).await,
        Command::Migrate(args) => commands::database::migrate(args, &settings).await,
        Command::CopyToPostgres(args) => commands::database::copy_to_postgres(args, &settings).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
