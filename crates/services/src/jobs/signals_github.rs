//! GitHub stars for trending (issue 15, docs/RANKING.md "Trending
//! signals"): links papers to the repositories they name, then fetches the
//! repositories that are due, politely.
//!
//! One turn ([`fetch_github`], also what `paperboy signals fetch` runs):
//!
//! 1. **Link**: follows the catalog's change feed from the position kept in
//!    the source state and links each changed paper to the repositories of
//!    its code link, comment and abstract (`paperboy_signals::links`).
//! 2. **Wait** if the last turn met a rate limit whose reset is still ahead:
//!    no request at all before that time.
//! 3. **Fetch** the due repositories, most overdue first: conditional on the
//!    stored ETag (a 304 costs nothing), a repository seen the first time
//!    also gets its newest stargazers so that its weekly gain is right on
//!    the first fetch; 301 records the rename, 404 marks it gone; the next
//!    fetch is planned by `velocity::refresh_interval` (fast risers hourly,
//!    quiet ones weekly). The client's governor spaces requests and never
//!    sends one while GitHub says none remain; a wait longer than the
//!    client's `max_wait` ends the turn and is recorded as the source's
//!    `waiting_until`.
//!
//! The job ([`GithubSignals`]) runs a turn every few minutes under the
//! `signals-github` lease, so that of several servers one fetches.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::Paper;
use paperboy_signals::velocity::{self, Observation, RefreshInput, RefreshPolicy, WEEK};
use paperboy_signals::{FetchError, GithubClient, RepoFetch, RepoRef, RepoSnapshot, StargazerFetch, links};
use paperboy_store::{Database, LinkSource, RepoCounts, RepoLink, RepoUpdate, Repository, SourceState};

use super::{Clock, Job, JobContext, JobError, Ran, Schedule, chrono_duration};

/// The source name in the store's fetch state and in status output.
pub const SOURCE: &str = "github";
/// The lease a turn holds.
pub const LEASE: &str = "signals-github";
/// Changes read from the change feed per step of the linker.
const LINK_PAGE: u32 = 1_000;
/// A failed repository is tried again this much later.
const RETRY_FAILED: Duration = Duration::from_secs(3_600);

/// What a turn does besides the client's own settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubTurn {
    /// Repositories fetched per turn at most.
    pub batch: u32,
    /// How often repositories are fetched again.
    pub refresh: RefreshPolicy,
}

impl Default for GithubTurn {
    fn default() -> Self {
        GithubTurn { batch: 500, refresh: RefreshPolicy::default() }
    }
}

/// What one turn did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GithubReport {
    /// Papers read from the change feed, and new paper→repository links.
    pub papers_read: u64,
    pub links_added: u64,
    /// Repositories due at the start of the fetch.
    pub due: u64,
    /// 200s, 304s, renames, gone, failures.
    pub fetched: u64,
    pub not_modified: u64,
    pub renamed: u64,
    pub gone: u64,
    pub failed: u64,
    /// Stargazer pages read for repositories seen the first time.
    pub stargazer_pages: u64,
    /// The turn stopped for a rate limit: no request before this.
    pub waiting_until: Option<DateTime<Utc>>,
}

impl GithubReport {
    /// Repositories dealt with so far.
    pub fn done(&self) -> u64 {
        self.fetched + self.not_modified + self.renamed + self.gone + self.failed
    }

    /// One line for logs and `signals status`.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{} papers read, {} new links; {} of {} due repositories: {} fetched, {} not modified, {} renamed, \
             {} gone, {} failed; {} stargazer pages",
            self.papers_read,
            self.links_added,
            self.done(),
            self.due,
            self.fetched,
            self.not_modified,
            self.renamed,
            self.gone,
            self.failed,
            self.stargazer_pages
        );
        if let Some(until) = self.waiting_until {
            line.push_str(&format!("; rate-limited until {}", until.format("%Y-%m-%d %H:%M:%S UTC")));
        }
        line
    }
}

/// The repositories `paper` names, each with where it was found first
/// (code link, comment, abstract).
pub fn paper_links(paper: &Paper) -> Vec<RepoLink> {
    let mut out: Vec<RepoLink> = Vec::new();
    let sources = [
        (paper.links.code.as_deref(), LinkSource::CodeLink),
        (paper.comment.as_deref(), LinkSource::Comment),
        (Some(paper.abstract_text.as_str()), LinkSource::Abstract),
    ];
    for (text, source) in sources {
        let Some(text) = text else { continue };
        let found = if source == LinkSource::CodeLink {
            links::repo_from_url(text).into_iter().collect()
        } else {
            links::repos_in([text])
        };
        for repo in found {
            if !out.iter().any(|l| l.full_name.eq_ignore_ascii_case(&repo.full_name())) {
                out.push(RepoLink { full_name: repo.full_name(), source });
            }
        }
    }
    out
}

/// Links the papers changed since the source's cursor; returns (papers read, links added).
async fn link_changed(db: &dyn Database, state: &mut SourceState, clock: &dyn Clock) -> Result<(u64, u64), JobError> {
    let (mut read, mut added) = (0, 0);
    loop {
        let changes = db.changes_since(state.cursor, LINK_PAGE).await?;
        let Some(last) = changes.last().map(|c| c.seq) else { break };
        for change in &changes {
            let Some(paper) = &change.paper else { continue };
            read += 1;
            let found = paper_links(paper);
            if !found.is_empty() {
                added += u64::from(db.link_repositories(&paper.id, &found, clock.now()).await?);
            }
        }
        state.cursor = last;
        db.save_source_state(state).await?;
        if changes.len() < LINK_PAGE as usize {
            break;
        }
    }
    Ok((read, added))
}

/// Stars gained this week from the stored series plus an observation now,
/// and from a stargazer sample if there is one.
async fn weekly_gain(
    db: &dyn Database,
    repo: &str,
    stars_now: Option<u64>,
    sample: Option<velocity::Gain>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, JobError> {
    let mut series: Vec<Observation> =
        db.star_history(repo, now - WEEK).await?.into_iter().map(|(at, stars)| Observation { at, stars }).collect();
    if let Some(stars) = stars_now {
        series.push(Observation { at: now, stars });
    }
    let observed = velocity::gain_from_observations(&series, now, WEEK);
    Ok(velocity::weekly_stars(observed, sample).map(|g| g.stars))
}

/// One turn (see the module documentation). `progress` is called after each
/// repository with the report so far.
pub async fn fetch_github(
    db: &dyn Database,
    client: &GithubClient,
    clock: &dyn Clock,
    turn: &GithubTurn,
    progress: &mut (dyn FnMut(&GithubReport) + Send),
) -> Result<GithubReport, JobError> {
    let mut state = db.source_state(SOURCE).await?;
    let started = clock.now();
    let mut report = GithubReport::default();
    let (read, added) = link_changed(db, &mut state, clock).await?;
    (report.papers_read, report.links_added) = (read, added);

    let outcome = fetch_due(db, client, clock, turn, &mut state, &mut report, progress).await;
    state.last_run_at = Some(started);
    state.last_note = Some(report.summary());
    match &outcome {
        Ok(()) => {
            state.last_ok_at = Some(started);
            state.last_error = None;
        }
        Err(e) => state.last_error = Some(e.to_string()),
    }
    db.save_source_state(&state).await?;
    outcome.map(|()| report)
}

async fn fetch_due(
    db: &dyn Database,
    client: &GithubClient,
    clock: &dyn Clock,
    turn: &GithubTurn,
    state: &mut SourceState,
    report: &mut GithubReport,
    progress: &mut (dyn FnMut(&GithubReport) + Send),
) -> Result<(), JobError> {
    if let Some(until) = state.waiting_until.filter(|u| *u > clock.now()) {
        report.waiting_until = Some(until);
        return Ok(());
    }
    state.waiting_until = None;
    state.waiting_why = None;
    let due = db.due_repositories(clock.now(), turn.batch).await?;
    report.due = due.len() as u64;
    for repo in &due {
        match fetch_one(db, client, clock, turn, repo, report).await {
            Ok(None) => {}
            Ok(Some(until)) => {
                report.waiting_until = Some(until);
                state.waiting_until = Some(until);
                state.waiting_why = Some(format!(
                    "GitHub's rate limit: no requests left until its reset{}",
                    if client.config().token.is_some() { "" } else { " (no token: 60 requests an hour)" }
                ));
                break;
            }
            Err(FetchOneError::Stop(e)) => return Err(JobError::Failed(e.to_string())),
            Err(FetchOneError::Store(e)) => return Err(e),
        }
        progress(report);
    }
    Ok(())
}

enum FetchOneError {
    /// A failure that every further request would meet too (a refused token, bad settings).
    Stop(FetchError),
    Store(JobError),
}

impl From<paperboy_store::StoreError> for FetchOneError {
    fn from(e: paperboy_store::StoreError) -> Self {
        FetchOneError::Store(e.into())
    }
}

impl From<JobError> for FetchOneError {
    fn from(e: JobError) -> Self {
        FetchOneError::Store(e)
    }
}

/// Fetches and records one repository; `Some(until)` when the rate limit
/// stopped it before anything was sent.
async fn fetch_one(
    db: &dyn Database,
    client: &GithubClient,
    clock: &dyn Clock,
    turn: &GithubTurn,
    repo: &Repository,
    report: &mut GithubReport,
) -> Result<Option<DateTime<Utc>>, FetchOneError> {
    let Some(name) = RepoRef::parse(&repo.full_name) else {
        db.record_repository(&repo.full_name, RepoUpdate::Gone, clock.now()).await?;
        report.gone += 1;
        return Ok(None);
    };
    let etag = repo.etag.as_deref();
    let answer = client.repo(&name, etag).await;
    let now = clock.now();
    let plan = |weekly: Option<i64>, stars: u64, pushed_at: Option<DateTime<Utc>>| {
        let input = RefreshInput { first_seen: repo.first_seen, weekly_stars: weekly, stars, pushed_at };
        now + chrono_duration(velocity::refresh_interval(&input, now, &turn.refresh))
    };
    match answer {
        Ok(RepoFetch::RateLimited { until }) => return Ok(Some(until)),
        Ok(RepoFetch::Fresh(snapshot)) => {
            let weekly = first_week(db, client, repo, &name, &snapshot, now, report).await?;
            let next = plan(weekly, snapshot.stars, snapshot.pushed_at);
            let update = RepoUpdate::Fresh { counts: counts(&snapshot), weekly_stars: weekly, next_fetch_at: next };
            db.record_repository(&repo.full_name, update, now).await?;
            report.fetched += 1;
        }
        Ok(RepoFetch::Moved { to, snapshot }) => {
            let weekly = first_week(db, client, repo, &to, &snapshot, now, report).await?;
            let next = plan(weekly, snapshot.stars, snapshot.pushed_at);
            let update = RepoUpdate::Renamed { counts: counts(&snapshot), weekly_stars: weekly, next_fetch_at: next };
            db.record_repository(&repo.full_name, update, now).await?;
            report.renamed += 1;
        }
        Ok(RepoFetch::NotModified) => {
            let weekly = weekly_gain(db, &repo.full_name, repo.stars, None, now).await?;
            let next = plan(weekly, repo.stars.unwrap_or(0), repo.pushed_at);
            let update = RepoUpdate::NotModified { weekly_stars: weekly, next_fetch_at: next };
            db.record_repository(&repo.full_name, update, now).await?;
            report.not_modified += 1;
        }
        Ok(RepoFetch::Gone) => {
            db.record_repository(&repo.full_name, RepoUpdate::Gone, now).await?;
            report.gone += 1;
        }
        Err(FetchError::RateLimited { until, .. }) => return Ok(Some(until)),
        Err(e @ (FetchError::Unauthorized { .. } | FetchError::Config(_))) => return Err(FetchOneError::Stop(e)),
        Err(e) => {
            tracing::warn!(repo = %repo.full_name, error = %e, "GitHub fetch failed; trying again later");
            let update =
                RepoUpdate::Failed { error: e.to_string(), next_fetch_at: now + chrono_duration(RETRY_FAILED) };
            db.record_repository(&repo.full_name, update, now).await?;
            report.failed += 1;
        }
    }
    Ok(None)
}

/// The weekly gain after a full answer: from the series, and for a
/// repository never fetched before from its newest stargazers as well.
async fn first_week(
    db: &dyn Database,
    client: &GithubClient,
    repo: &Repository,
    name: &RepoRef,
    snapshot: &RepoSnapshot,
    now: DateTime<Utc>,
    report: &mut GithubReport,
) -> Result<Option<i64>, FetchOneError> {
    let mut sample = None;
    if repo.last_fetched.is_none() && snapshot.stars > 0 {
        match client.stargazers(name, now - WEEK).await {
            Ok(StargazerFetch::Sample(s)) => {
                report.stargazer_pages += u64::from(s.pages_read);
                sample = s.gain(now, WEEK);
            }
            // The counts are recorded anyway; the series takes over from the next fetch.
            Ok(StargazerFetch::Gone | StargazerFetch::RateLimited { .. }) => {}
            Err(e) => tracing::warn!(repo = %name.full_name(), error = %e, "stargazers not read"),
        }
    }
    Ok(weekly_gain(db, &repo.full_name, Some(snapshot.stars), sample, now).await?)
}

fn counts(s: &RepoSnapshot) -> RepoCounts {
    RepoCounts {
        full_name: s.full_name.clone(),
        stars: s.stars,
        forks: s.forks,
        pushed_at: s.pushed_at,
        etag: s.etag.clone(),
    }
}

/// The GitHub signals job: a turn every `every` under [`LEASE`].
pub struct GithubSignals {
    client: GithubClient,
    turn: GithubTurn,
    every: Duration,
}

impl GithubSignals {
    pub fn new(client: GithubClient, turn: GithubTurn, every: Duration) -> Self {
        GithubSignals { client, turn, every }
    }
}

#[async_trait]
impl Job for GithubSignals {
    fn name(&self) -> &str {
        "signals-github"
    }

    fn schedule(&self) -> Schedule {
        Schedule::Every(self.every)
    }

    fn lease(&self) -> Option<&str> {
        Some(LEASE)
    }

    async fn run(&self, ctx: &JobContext) -> Result<Ran, JobError> {
        let report = fetch_github(ctx.db.as_ref(), &self.client, ctx.clock.as_ref(), &self.turn, &mut |_| {}).await?;
        if report.done() == 0 && report.links_added == 0 {
            return Ok(Ran::idle());
        }
        Ok(Ran::did(report.summary()))
    }
}
