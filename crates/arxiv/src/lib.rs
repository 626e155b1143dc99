//! # paperboy-arxiv: a polite arXiv API client
//!
//! Fetches paper metadata from the arXiv API (`export.arxiv.org/api/query`)
//! for the web layer ("submit a paper by arXiv id or URL") and for a
//! harvester, and turns the Atom responses into [`Paper`]s with the same
//! parser `paperboy import` uses (`paperboy-ingest`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), paperboy_arxiv::ArxivError> {
//! use paperboy_arxiv::ArxivClient;
//! use paperboy_core::ArxivId;
//!
//! let client = ArxivClient::new()?;
//! let id = ArxivId::parse("https://arxiv.org/abs/2312.00752v2").expect("an arXiv id");
//! let paper = client.fetch_paper(&id).await?;
//! println!("{} ({} authors)", paper.title, paper.authors.len());
//! let page = client.fetch_listing("cat:cs.LG", 0, 100).await?;
//! println!("{} of {:?}", page.papers.len(), page.total_results);
//! # Ok(()) }
//! ```
//!
//! ## Manners
//!
//! - **Pacing**: at most one request every [`ArxivSettings::interval`] (3 s by
//!   default, as arXiv asks) across all clones of a client; concurrent
//!   callers queue. Share one client per process.
//! - **Retries**: timeouts, refused or dropped connections and HTTP 429, 500,
//!   502, 503 and 504 are retried up to [`ArxivSettings::max_retries`] times
//!   with exponential backoff; a `Retry-After` header (seconds or a date) is
//!   honoured instead of the backoff, up to [`ArxivSettings::max_retry_after`].
//! - **Identification**: a `User-Agent` naming Paperboy ([`DEFAULT_USER_AGENT`]).
//!
//! ## Errors
//!
//! [`ArxivError`] says what failed and what to do next: transport failures
//! after the retries ([`Timeout`](ArxivError::Timeout),
//! [`Connect`](ArxivError::Connect), [`Dropped`](ArxivError::Dropped),
//! [`Status`](ArxivError::Status)), arXiv refusing the request with its own
//! message ([`Api`](ArxivError::Api): arXiv reports a bad id as an Atom feed
//! whose one entry is titled "Error", with HTTP 200 or 400), an unknown
//! paper ([`NotFound`](ArxivError::NotFound)) and an unreadable response
//! ([`Parse`](ArxivError::Parse)). [`ArxivError::is_transient`] tells a
//! harvester whether to try again later.
//!
//! ## OAI-PMH
//!
//! [`OaiClient`] lists records page by page from arXiv's OAI-PMH endpoint
//! ([`DEFAULT_OAI_BASE_URL`]) with the same manners; harvested papers are
//! listed on their announcement day ([`announce`]).
//!
//! ## Feed day
//!
//! A fetched paper's `listed_on` is the UTC day of its first version's
//! submission (arXiv's `published`). Callers with another notion of the feed
//! day (the day a user submitted the paper, a harvest's announcement day)
//! set `paper.listed_on` themselves before storing it.

pub mod announce;
mod client;
mod error;
mod feed;
mod oai;
mod pace;

pub use client::{ArxivClient, ArxivSettings, DEFAULT_BASE_URL, DEFAULT_USER_AGENT, Listing, MAX_IDS_PER_REQUEST};
pub use error::ArxivError;
pub use oai::{DEFAULT_OAI_BASE_URL, ListRequest, MetadataFormat, OaiClient, OaiPage, parse_page};
pub use paperboy_core::{ArxivId, Paper};
pub use paperboy_ingest::Rejection;
