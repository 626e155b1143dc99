//! # paperboy-signals: what makes a paper trend besides local votes
//!
//! The engine half of trending signals, free of the store and the web: it
//! takes plain inputs and returns plain results, and a job wires it to the
//! store.
//!
//! - [`links`]: the GitHub repositories a paper names (code link, comment, abstract).
//! - [`github`]: the GitHub REST client (repository counts with ETags,
//!   renames and deletions; newest stargazers with `starred_at`), paced and
//!   obeying the rate limits across all clones.
//! - [`huggingface`]: the Hugging Face Papers client (daily lists and single
//!   papers: upvotes, comments, repository and stars, project page, keywords).
//! - [`velocity`]: stars gained this week from observations or stargazer
//!   times, and when to look at a repository again.
//!
//! The combined score these signals feed is pure domain logic and lives in
//! `paperboy_core::trending`, so that the store can rank with it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), paperboy_signals::FetchError> {
//! use paperboy_signals::{GithubClient, GithubSettings, RepoFetch, links};
//!
//! let github = GithubClient::new(GithubSettings::with_token(std::env::var("PAPERBOY_GITHUB_TOKEN").ok()))?;
//! for repo in links::paper_repos(None, None, "Code: https://github.com/state-spaces/mamba.") {
//!     match github.repo(&repo, None).await? {
//!         RepoFetch::Fresh(s) => println!("{} has {} stars (ETag {:?})", s.full_name, s.stars, s.etag),
//!         other => println!("{repo}: {other:?}"),
//!     }
//! }
//! # Ok(()) }
//! ```

mod error;
pub mod github;
mod governor;
mod http;
pub mod huggingface;
pub mod links;
pub mod velocity;

pub use error::FetchError;
pub use github::{GithubClient, GithubSettings, RepoFetch, RepoSnapshot, StargazerFetch, Stargazers};
pub use huggingface::{HfClient, HfPaper, HfSettings};
pub use links::RepoRef;
pub use velocity::{Gain, Observation, RefreshPolicy};
