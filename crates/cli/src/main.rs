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

use crate::config::env::Env;
use crate::config::harvest::HarvestFlags;
use crate::config::{Flags, Settings};

/// Paperboy: trending research papers, self-hosted.
#[derive(Debug, Parser)]
#[command(name = "paperboy", version, about, after_help = config::help_text())]
struct Cli {
    // Each flag's help comes from its key in the config module (meaning, variable, default).
    #[arg(long, global = true, value_name = "DIR", help = config::database::DATA_DIR.flag_help())]
    data_dir: Option<PathBuf>,

    #[arg(long, global = true, value_name = "URL", help = config::database::DATABASE_URL.flag_help())]
    database_url: Option<String>,

    #[arg(long, global = true, value_name = "FILE", help = config::CONFIG.flag_help())]
    config: Option<PathBuf>,

    #[arg(long, global = true, value_name = "DIR", help = config::search::MODEL_DIR.flag_help())]
    model_dir: Option<PathBuf>,

    #[arg(long, global = true, value_name = "KIND", value_parser = parse_evidence, help = config::search::EVIDENCE.flag_help())]
    evidence: Option<paperboy_search::Evidence>,

    #[arg(long, global = true, value_name = "FILTER", help = config::LOG.flag_help())]
    log: Option<String>,

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
    /// Embed waiting papers into the database (a worker sharing the work with every server; needs only --database-url and the model)
    Embed(commands::embed::EmbedArgs),
    /// Measure search quality on a BEIR-format data set
    #[command(subcommand)]
    Eval(commands::eval::EvalCommand),
    /// Fetch or inspect the embedding model
    #[command(subcommand)]
    Model(commands::model::ModelCommand),
    /// Fetch new and updated papers from arXiv (OAI-PMH); `harvest status` shows the runs
    Harvest(commands::harvest::HarvestArgs),
    /// Trending signals (GitHub stars, Hugging Face upvotes): `signals fetch [--source github|huggingface|all]`, `signals status`
    #[command(subcommand)]
    Signals(commands::signals::SignalsCommand),
    /// Email digests: `digest run --period daily|weekly [--dry-run] [--to ADDRESS]`
    #[command(subcommand)]
    Digest(commands::digest::DigestCommand),
    /// Accounts and moderation: create-user, create-token, suspend, hide-paper, hide-comment
    #[command(subcommand)]
    Admin(commands::admin::AdminCommand),
    /// The deployment's state from its database: catalog, embedding backlog, last harvest and digest, leases (`--json` for scripts)
    Status(commands::status::StatusArgs),
    /// Apply the database's schema migrations and print its schema version
    Migrate(commands::database::MigrateArgs),
    /// Copy the SQLite catalog in --data-dir into an empty PostgreSQL database: `copy-to-postgres --to URL`
    #[command(visible_alias = "copy")]
    CopyToPostgres(commands::database::CopyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = Env::process();
    let log = match config::log_filter(cli.log.clone(), &env) {
        Ok(log) => log,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let filter = EnvFilter::try_new(&log).unwrap_or_else(|_| EnvFilter::new(config::DEFAULT_LOG));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .init();

    let result = (|| {
        let settings = Settings::load(flags(&cli), &env)?;
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

/// `--evidence`'s value.
fn parse_evidence(text: &str) -> Result<paperboy_search::Evidence, String> {
    paperboy_search::Evidence::parse(text).ok_or_else(|| format!("{text:?}: expected off, passages or sentences"))
}

/// The flags that set configuration keys, for the merge (the strongest layer).
fn flags(cli: &Cli) -> Flags {
    let mut flags = Flags {
        config: cli.config.clone(),
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        model_dir: cli.model_dir.clone(),
        evidence: cli.evidence,
        ..Flags::default()
    };
    let serve = match &cli.command {
        Command::Serve(args) => Some(args),
        Command::Demo(args) => Some(&args.serve),
        _ => None,
    };
    if let Some(args) = serve {
        flags.addr = args.addr.clone();
        flags.base_url = args.base_url.clone();
        flags.arxiv_base_url = args.arxiv_base_url.clone();
    }
    match &cli.command {
        Command::Digest(commands::digest::DigestCommand::Run(args)) => flags.base_url = args.base_url.clone(),
        Command::Harvest(args) => {
            flags.harvest = HarvestFlags {
                base_url: args.base_url.clone(),
                categories: args.categories.clone(),
                set: args.set.clone(),
                format: args.format,
                pacing: args.pacing,
            }
        }
        _ => {}
    }
    flags
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(_) => commands::serve::run(&settings).await,
        Command::Demo(args) => commands::demo::run(args, &settings).await,
        Command::Import(args) => commands::import::run(args, &settings).await,
        Command::Papers(cmd) => commands::papers::run(cmd, &settings).await,
        Command::Search(args) => commands::search::run(args, &settings).await,
        Command::Reindex(args) => commands::search::reindex(args, &settings).await,
        Command::Embed(args) => commands::embed::run(&args, &settings).await,
        Command::Eval(cmd) => commands::eval::run(cmd, &settings).await,
        Command::Model(cmd) => commands::model::run(cmd, &settings).await,
        Command::Admin(cmd) => commands::admin::run(cmd, &settings).await,
        Command::Digest(cmd) => commands::digest::run(cmd, &settings).await,
        Command::Harvest(args) => commands::harvest::run(args, &settings).await,
        Command::Signals(cmd) => commands::signals::run(cmd, &settings).await,
        Command::Status(args) => commands::status::run(args, &settings).await,
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

    #[test]
    fn help_shows_every_key_and_every_flag_of_the_table_exists() {
        let mut cli = Cli::command();
        let help = cli.render_long_help().to_string();
        for key in config::all_keys() {
            assert!(help.contains(key.env), "--help names {}", key.env);
            for flag in key.flags {
                let mut words: Vec<&str> = flag.split_whitespace().collect();
                let long = words.pop().and_then(|w| w.strip_prefix("--")).unwrap();
                let mut cmd = &cli;
                for sub in words {
                    cmd = cmd.find_subcommand(sub).unwrap_or_else(|| panic!("no subcommand {sub} for {flag}"));
                }
                let arg = cmd.get_arguments().find(|a| a.get_long() == Some(long));
                let arg = arg.unwrap_or_else(|| panic!("{flag} is in the key table but not on the command line"));
                assert!(arg.get_env().is_none(), "{flag}: the config module reads the environment, not clap");
            }
        }
    }

    #[test]
    fn the_flags_of_a_command_reach_the_merge() {
        let cli = Cli::parse_from(["paperboy", "--data-dir", "/d", "serve", "--addr", "127.0.0.1:7"]);
        let f = flags(&cli);
        assert_eq!((f.data_dir, f.addr.as_deref()), (Some("/d".into()), Some("127.0.0.1:7")));
        let cli = Cli::parse_from(["paperboy", "demo", "--base-url", "http://x"]);
        assert_eq!(flags(&cli).base_url.as_deref(), Some("http://x"));
        let cli = Cli::parse_from(["paperboy", "digest", "run", "--period", "daily", "--base-url", "http://y"]);
        assert_eq!(flags(&cli).base_url.as_deref(), Some("http://y"));
        let cli = Cli::parse_from(["paperboy", "harvest", "--set", "", "--pacing", "1"]);
        let h = flags(&cli).harvest;
        assert_eq!((h.set.as_deref(), h.pacing), (Some(""), Some(1.0)));
    }
}
