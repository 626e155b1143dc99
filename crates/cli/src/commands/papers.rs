//! `paperboy papers list|show`: look into the catalog from a terminal;
//! `paperboy papers resolve`: match papers without an arXiv id (pasted
//! pages, the demo's seed page) to arXiv by exact title.

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
    /// Match papers without an arXiv id to arXiv by exact title (one paced arXiv API query each); a match takes the local paper over, keeping its votes and signals
    Resolve {
        /// Try at most this many papers
        #[arg(long)]
        limit: Option<usize>,
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
        PapersCommand::Resolve { limit } => resolve(store.database(), &settings.arxiv.base_url, limit).await,
    }
}

/// Papers read per feed page while looking for local ones.
const RESOLVE_SCAN_PAGE: u32 = 2_000;

/// The catalog's papers without an arXiv id: `(id, title)`, oldest first.
async fn local_papers(store: &dyn Catalog) -> Result<Vec<(PaperId, String)>> {
    let mut found = Vec::new();
    let mut offset = 0;
    loop {
        let query = FeedQuery { offset, limit: RESOLVE_SCAN_PAGE, ..FeedQuery::default() };
        let page = store.feed(&query).await?;
        let n = page.items.len() as u32;
        found.extend(
            page.items
                .into_iter()
                .filter(|i| matches!(i.paper.id, PaperId::Local(_)))
                .map(|i| (i.paper.id, i.paper.title)),
        );
        if n < RESOLVE_SCAN_PAGE {
            return Ok(found);
        }
        offset += n;
    }
}

/// arXiv's title search for `title` as one phrase (quotes and arXiv's
/// operators' punctuation taken out; the exact comparison comes after).
fn title_query(title: &str) -> String {
    let words: String =
        title.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '\'' { c } else { ' ' }).collect();
    format!("ti:\"{}\"", words.split_whitespace().collect::<Vec<_>>().join(" "))
}

async fn resolve(store: &dyn Catalog, base_url: &str, limit: Option<usize>) -> Result<ExitCode> {
    let mut local = local_papers(store).await?;
    local.truncate(limit.unwrap_or(usize::MAX));
    if local.is_empty() {
        println!("every paper in the catalog has an arXiv id");
        return Ok(ExitCode::SUCCESS);
    }
    let client = paperboy_arxiv::ArxivClient::with_config(paperboy_arxiv::ArxivSettings {
        base_url: base_url.to_string(),
        ..paperboy_arxiv::ArxivSettings::default()
    })?;
    println!("matching {} papers to arXiv by title (one query every few seconds, as arXiv asks)", local.len());
    let (mut matched, mut unmatched) = (0, 0);
    for (id, title) in &local {
        let key = paperboy_core::text::title_key(title);
        let listing = client.fetch_listing(&title_query(title), 0, 10).await?;
        match listing.papers.into_iter().find(|p| paperboy_core::text::title_key(&p.title) == key) {
            Some(found) => {
                let arxiv_id = found.id.clone();
                let outcome = store.upsert_papers(&[found]).await?;
                println!("{id} -> {arxiv_id} ({})", serde_json::to_value(outcome[0])?.as_str().unwrap_or("?"));
                matched += 1;
            }
            None => {
                println!("{id}: no arXiv paper has the title {title:?}");
                unmatched += 1;
            }
        }
    }
    println!("{matched} matched, {unmatched} not found on arXiv");
    Ok(ExitCode::SUCCESS)
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
