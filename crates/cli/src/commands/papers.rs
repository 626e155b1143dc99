//! `paperboy papers list|show`: look into the catalog from a terminal.

use std::process::ExitCode;

use anyhow::{Result, anyhow};
use clap::{Args, Subcommand};
use paperboy_core::{FeedPeriod, PaperId};
use paperboy_store::{Catalog, FeedQuery, StoredPaper};

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub enum PapersCommand {
    /// List papers, newest first (the latest day with papers unless a period is given)
    List(ListArgs),
    /// Show one paper by arXiv id, URL, or local pb- id
    Show {
        /// e.g. 2312.00752, arXiv:2312.00752v2, https://arxiv.org/abs/hep-th/9901001
        id: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// One day, YYYY-MM-DD
    #[arg(long, conflicts_with_all = ["week", "month", "all"])]
    pub date: Option<String>,
    /// One ISO week, YYYY-Www
    #[arg(long, conflicts_with_all = ["month", "all"])]
    pub week: Option<String>,
    /// One month, YYYY-MM
    #[arg(long, conflicts_with = "all")]
    pub month: Option<String>,
    /// Every day
    #[arg(long)]
    pub all: bool,
    /// Only this category (primary or cross-list), e.g. cs.CV, or an archive, e.g. cs
    #[arg(long)]
    pub cat: Option<String>,
    /// How many papers to print
    #[arg(long, default_value_t = 30)]
    pub limit: u32,
    /// Skip this many papers first
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
    /// Print one JSON object per line instead of a table
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cmd: PapersCommand, settings: &Settings) -> Result<ExitCode> {
    let store = super::open_store(settings).await?;
    match cmd {
        PapersCommand::List(args) => list(store.database(), args).await,
        PapersCommand::Show { id, json } => show(store.database(), &id, json).await,
    }
}

async fn list(store: &dyn Catalog, args: ListArgs) -> Result<ExitCode> {
    let period = if let Some(d) = &args.date {
        Some(FeedPeriod::parse_day(d)?)
    } else if let Some(w) = &args.week {
        Some(FeedPeriod::parse_week(w)?)
    } else if let Some(m) = &args.month {
        Some(FeedPeriod::parse_month(m)?)
    } else if args.all {
        None
    } else {
        match store.latest_listing_date().await? {
            Some(d) => Some(FeedPeriod::Day(d)),
            None => {
                eprintln!("the catalog is empty: run `paperboy import FILE` or `paperboy demo`");
                return Ok(ExitCode::SUCCESS);
            }
        }
    };
    let query = FeedQuery {
        from: period.map(|p| p.start()),
        until: period.map(|p| p.end()),
        category: args.cat.clone(),
        offset: args.offset,
        limit: args.limit.clamp(1, 10_000),
        ..FeedQuery::default()
    };
    let page = store.feed(&query).await?;
    if args.json {
        for item in &page.items {
            println!("{}", serde_json::to_string(item)?);
        }
    } else {
        let what = period.map(|p| p.label()).unwrap_or_else(|| "all days".to_string());
        println!("{} papers, {what}; showing {}", page.total, page.items.len());
        for item in &page.items {
            println!("{}", table_row(item));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn table_row(item: &StoredPaper) -> String {
    let p = &item.paper;
    let title: String = if p.title.chars().count() > 90 {
        format!("{}…", p.title.chars().take(89).collect::<String>())
    } else {
        p.title.clone()
    };
    format!(
        "{:<20} {}  {:<8} {:>4}▲  {}",
        p.id.to_string(),
        p.listed_on,
        p.primary_category.as_deref().unwrap_or("-"),
        item.upvotes,
        title
    )
}

async fn show(store: &dyn Catalog, id: &str, json: bool) -> Result<ExitCode> {
    let id = PaperId::parse(id)?;
    let Some(item) = store.get_paper(&id).await? else {
        return Err(anyhow!("{id} is not in the catalog; import it first (paperboy import FILE)"));
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&item)?);
        return Ok(ExitCode::SUCCESS);
    }
    let p = &item.paper;
    println!("{}{}", p.id, p.version.map(|v| format!("v{v}")).unwrap_or_default());
    println!("{}", p.title);
    println!("{}", p.authors.join(", "));
    println!("categories: {}", p.categories.join(" "));
    println!("listed on:  {}", p.listed_on);
    if let Some(d) = p.submitted_at {
        println!("submitted:  {}", d.format("%Y-%m-%d"));
    }
    if let Some(d) = p.updated_at {
        println!("updated:    {}", d.format("%Y-%m-%d"));
    }
    for (label, value) in [
        ("comment", &p.comment),
        ("journal", &p.journal_ref),
        ("doi", &p.doi),
        ("code", &p.links.code),
        ("project", &p.links.project),
    ] {
        if let Some(v) = value {
            println!("{label:<11} {v}", label = format!("{label}:"));
        }
    }
    if let (Some(abs), Some(pdf)) = (p.abs_url(), p.pdf_url()) {
        println!("arXiv:      {abs}\npdf:        {pdf}");
    }
    if p.withdrawn {
        println!("WITHDRAWN");
    }
    println!("upvotes:    {}\n\n{}", item.upvotes, p.abstract_text);
    Ok(ExitCode::SUCCESS)
}
