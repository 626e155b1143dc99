//! Submissions: a member shares an arXiv paper.
//!
//! A paper already in the catalog is simply upvoted (no arXiv request).
//! Otherwise it is fetched through the arXiv API with the shared [`Fetcher`]
//! (one request every three seconds for the whole server) and accepted only
//! when its first version appeared within the submission window: the site
//! is about new research. An accepted paper is listed on the day it is
//! submitted, with the member as submitter and first upvote.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use paperboy_arxiv::{ArxivClient, ArxivError, ArxivSettings};
use paperboy_core::{ArxivId, PaperId};
use paperboy_store::{Database, StoreError, SubmitOutcome, User};
use thiserror::Error;

/// The arXiv client shared by all submissions (so its pacing is too);
/// without one (it could not be built, the reason is logged) submissions
/// are off.
#[derive(Clone)]
pub struct Fetcher(Option<Arc<ArxivClient>>);

impl Fetcher {
    /// A client of the arXiv API at `base_url` that fails sooner than a
    /// batch job would: a member is waiting.
    pub fn new(base_url: &str) -> Self {
        let arxiv = ArxivSettings {
            base_url: base_url.to_string(),
            max_retries: 1,
            timeout: Duration::from_secs(20),
            ..ArxivSettings::default()
        };
        match ArxivClient::with_config(arxiv) {
            Ok(c) => Fetcher(Some(Arc::new(c))),
            Err(e) => {
                tracing::error!(error = %e, "the arXiv client could not be set up; submissions are off");
                Fetcher(None)
            }
        }
    }
}

/// What a submission did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// The paper was listed already: the member's upvote was added.
    Upvoted(PaperId),
    /// The paper was fetched from arXiv and listed.
    Listed { id: PaperId, outcome: SubmitOutcome },
}

impl Submitted {
    /// The paper the member ends up on.
    pub fn paper_id(&self) -> &PaperId {
        match self {
            Submitted::Upvoted(id) | Submitted::Listed { id, .. } => id,
        }
    }
}

/// Why a submission was refused. All but [`SubmitError::Store`] are the
/// answer to show the member (arXiv's trouble included: it is not ours to fix).
#[derive(Debug, Error)]
pub enum SubmitError {
    /// No arXiv client: see [`Fetcher::new`].
    #[error("submissions are off: this server cannot reach arXiv")]
    Off,
    /// arXiv has no such paper.
    #[error(transparent)]
    NotFound(ArxivError),
    /// arXiv refused the query (its own error feed).
    #[error(transparent)]
    Refused(ArxivError),
    /// arXiv did not answer properly (timeouts, dropped connections, 5xx).
    #[error("arXiv did not answer properly just now; please try again in a few minutes")]
    Unavailable(ArxivError),
    /// arXiv's record has neither a submission nor an update time.
    #[error("arXiv gave no date for {0}, so it cannot be submitted")]
    NoDate(ArxivId),
    /// The paper first appeared before the submission window.
    #[error("{id} first appeared on arXiv on {}, more than {window_days} days ago: only recent papers can be submitted", first.date_naive())]
    TooOld { id: ArxivId, first: DateTime<Utc>, window_days: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `user` submits the arXiv paper `id` (any version; the paper is the
/// unversioned id) at `now`; papers older than `window_days` are refused.
pub async fn submit(
    db: &dyn Database,
    fetcher: &Fetcher,
    user: &User,
    id: &ArxivId,
    window_days: u32,
    now: DateTime<Utc>,
) -> Result<Submitted, SubmitError> {
    let arxiv_id = id.without_version();
    let paper_id = PaperId::Arxiv(arxiv_id.clone());
    if db.get_paper(&paper_id).await?.is_some() {
        db.set_vote(user.id, &paper_id, true).await?;
        return Ok(Submitted::Upvoted(paper_id));
    }
    let client = fetcher.0.as_ref().ok_or(SubmitError::Off)?;
    let paper = match client.fetch_paper(&arxiv_id).await {
        Ok(p) => p,
        Err(e @ ArxivError::NotFound(_)) => return Err(SubmitError::NotFound(e)),
        Err(e @ ArxivError::Api(_)) => return Err(SubmitError::Refused(e)),
        Err(e) => {
            tracing::warn!(error = %e, id = %arxiv_id, "a submission could not be fetched from arXiv");
            return Err(SubmitError::Unavailable(e));
        }
    };
    let first = paper.submitted_at.or(paper.updated_at).ok_or_else(|| SubmitError::NoDate(arxiv_id.clone()))?;
    if now - first > chrono::Duration::days(i64::from(window_days)) {
        return Err(SubmitError::TooOld { id: arxiv_id, first, window_days });
    }
    let done = db.submit_paper(user.id, &paper, now).await?;
    tracing::info!(user = %user.username, paper = %arxiv_id, outcome = ?done.outcome, "paper submitted");
    Ok(Submitted::Listed { id: paper.id, outcome: done.outcome })
}
