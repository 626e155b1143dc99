//! Hugging Face Papers for trending (issue 15, docs/RANKING.md "Trending
//! signals"): the recent days of `/api/daily_papers`, matched to the
//! catalog by arXiv id. Each listed paper gets its upvotes, comment count,
//! repository and stars, project page and keywords recorded (the store's
//! summary puts them on the paper), and its repository is linked so that
//! the GitHub job fetches it too.
//!
//! One turn ([`fetch_huggingface`], also what `paperboy signals fetch`
//! runs) reads `days` lists, today's (by the clock) and the days before.
//! The job ([`HfSignals`]) runs a turn every so often under the
//! `signals-huggingface` lease.

use std::time::Duration;

use async_trait::async_trait;
use paperboy_core::PaperId;
use paperboy_signals::{FetchError, HfClient, HfPaper};
use paperboy_store::{Database, HfSignal, LinkSource, RepoLink, StoreError};

use super::{Clock, Job, JobContext, JobError, Ran, Schedule};

/// The source name in the store's fetch state and in status output.
pub const SOURCE: &str = "huggingface";
/// The lease a turn holds.
pub const LEASE: &str = "signals-huggingface";

/// What one turn did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HfReport {
    /// Daily lists read, and the papers on them.
    pub days: u64,
    pub listed: u64,
    /// Listed papers the catalog has (recorded), and those it has not.
    pub matched: u64,
    pub unknown: u64,
    /// Repositories linked from Hugging Face's `githubRepo`.
    pub links_added: u64,
}

impl HfReport {
    /// One line for logs and `signals status`.
    pub fn summary(&self) -> String {
        format!(
            "{} daily lists, {} papers listed: {} matched here, {} not in the catalog; {} new repository links",
            self.days, self.listed, self.matched, self.unknown, self.links_added
        )
    }
}

fn signal(p: &HfPaper) -> HfSignal {
    HfSignal {
        upvotes: p.upvotes,
        comments: p.num_comments,
        github_repo: p.repo().map(|r| r.full_name()),
        github_stars: p.github_stars,
        project_page: p.project_page.clone(),
        ai_keywords: p.ai_keywords.clone(),
    }
}

/// One turn over the `days` most recent daily lists (see the module
/// documentation). `progress` is called after each day.
pub async fn fetch_huggingface(
    db: &dyn Database,
    client: &HfClient,
    clock: &dyn Clock,
    days: u32,
    progress: &mut (dyn FnMut(&HfReport) + Send),
) -> Result<HfReport, JobError> {
    let mut state = db.source_state(SOURCE).await?;
    let started = clock.now();
    let mut report = HfReport::default();
    let outcome = read_days(db, client, clock, days, &mut report, progress).await;
    state.last_run_at = Some(started);
    state.last_note = Some(report.summary());
    state.waiting_until = None;
    state.waiting_why = None;
    match &outcome {
        Ok(()) => {
            state.last_ok_at = Some(started);
            state.last_error = None;
        }
        Err(TurnError::Fetch(e)) => {
            if let FetchError::RateLimited { until, .. } = e {
                state.waiting_until = Some(*until);
                state.waiting_why = Some("Hugging Face asked to wait (Retry-After)".into());
            }
            state.last_error = Some(e.to_string());
        }
        Err(TurnError::Store(e)) => state.last_error = Some(e.to_string()),
    }
    db.save_source_state(&state).await?;
    match outcome {
        Ok(()) => Ok(report),
        Err(TurnError::Fetch(e)) => Err(JobError::Failed(e.to_string())),
        Err(TurnError::Store(e)) => Err(e.into()),
    }
}

/// Why a turn stopped.
enum TurnError {
    Fetch(FetchError),
    Store(StoreError),
}

async fn read_days(
    db: &dyn Database,
    client: &HfClient,
    clock: &dyn Clock,
    days: u32,
    report: &mut HfReport,
    progress: &mut (dyn FnMut(&HfReport) + Send),
) -> Result<(), TurnError> {
    let today = clock.now().date_naive();
    for back in 0..days.max(1) {
        let day = today - chrono::Duration::days(i64::from(back));
        let papers = client.daily_papers(day).await.map_err(TurnError::Fetch)?;
        report.days += 1;
        for p in &papers {
            report.listed += 1;
            let Ok(id) = PaperId::parse(&p.arxiv_id) else {
                report.unknown += 1;
                continue;
            };
            if !db.record_hf(&id, &signal(p), clock.now()).await.map_err(TurnError::Store)? {
                report.unknown += 1;
                continue;
            }
            report.matched += 1;
            if let Some(repo) = p.repo() {
                let link = RepoLink { full_name: repo.full_name(), source: LinkSource::Huggingface };
                report.links_added +=
                    u64::from(db.link_repositories(&id, &[link], clock.now()).await.map_err(TurnError::Store)?);
            }
        }
        progress(report);
    }
    Ok(())
}

/// The Hugging Face signals job: a turn every `every` under [`LEASE`].
pub struct HfSignals {
    client: HfClient,
    days: u32,
    every: Duration,
}

impl HfSignals {
    pub fn new(client: HfClient, days: u32, every: Duration) -> Self {
        HfSignals { client, days, every }
    }
}

#[async_trait]
impl Job for HfSignals {
    fn name(&self) -> &str {
        "signals-huggingface"
    }

    fn schedule(&self) -> Schedule {
        Schedule::Every(self.every)
    }

    fn lease(&self) -> Option<&str> {
        Some(LEASE)
    }

    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        let report =
            fetch_huggingface(ctx.db.as_ref(), &self.client, ctx.clock.as_ref(), self.days, &mut |_| {}).await?;
        Ok(Ran::did(report.summary()))
    }
}
