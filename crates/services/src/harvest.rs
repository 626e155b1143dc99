//! The arXiv harvester: lists records over OAI-PMH page by page, keeps the
//! papers in the configured categories, stores them, and checkpoints after
//! each stored page, recording the run in the store's harvest log.
//!
//! Order of work for a page: fetch (paced, retried: `paperboy-arxiv`) →
//! parse and check the whole page (a broken page fails the run before
//! anything of it is stored) → filter by category → upsert in one
//! transaction (new versions update, older ones are ignored, withdrawn
//! papers are marked, a listed paper keeps its day) → checkpoint (the next
//! resumption token). The next page is fetched while a page is stored. A process killed between the upsert and the
//! checkpoint re-fetches that page on resume; the upsert is idempotent, so
//! nothing is lost or duplicated.
//!
//! A harvest runs under the database lease [`HARVEST_LEASE`], so that one
//! process at a time harvests, whichever servers and commands share the
//! database; a second one gets [`LeaseError::Busy`], and a scheduled one
//! waits and takes over if the holder dies (its lease runs out), resuming
//! from the checkpoint.

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use paperboy_arxiv::{ArxivError, ArxivSettings, ListRequest, MetadataFormat, OaiClient, OaiPage};
use paperboy_core::Paper;
use paperboy_store::{
    Catalog, Coordination, HarvestArgs, HarvestCounts, HarvestRun, HarvestTrigger, Harvests, PaperBatch, StoreError,
    UpsertOutcome,
};
use thiserror::Error;
use tracing::{info, warn};

use crate::lease::{DEFAULT_LEASE, HARVEST_LEASE, LeaseError, holder_id, with_lease};

/// The categories followed unless configured otherwise.
pub const DEFAULT_CATEGORIES: &[&str] = &["cs.AI", "cs.CL", "cs.CV", "cs.LG", "stat.ML"];

/// Days an incremental harvest reaches back before the start of the last
/// completed one (OAI datestamps are days; re-reading a day is harmless).
const OVERLAP_DAYS: u64 = 1;
/// Days a first incremental harvest (no completed run yet) reaches back.
const FIRST_RUN_DAYS: u64 = 3;

/// What to harvest and how.
#[derive(Debug, Clone)]
pub struct HarvestSettings {
    /// The HTTP side: `base_url` is the OAI-PMH endpoint; pacing
    /// (`interval`), timeout and retries as for the arXiv API.
    pub client: ArxivSettings,
    pub format: MetadataFormat,
    /// An OAI set such as `cs`; `None` for the whole archive.
    pub set: Option<String>,
    /// First datestamp; `None` for incremental: from the last completed run
    /// (less a day), or a few days back on the first run.
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// Papers kept: any of their categories (primary or cross-list) is one of
    /// these, or lies in one of these archives (`cs` keeps `cs.*`). Empty
    /// keeps everything.
    pub categories: Vec<String>,
    /// Resume the latest unfinished run with the same arguments.
    pub resume: bool,
    pub trigger: HarvestTrigger,
    /// Length of the harvest lease (renewed every third of it while the
    /// harvest runs; how long a dead harvester blocks the next one).
    pub lease: Duration,
}

impl HarvestSettings {
    /// A harvest of `base_url` with the defaults: arXivRaw format, set `cs`,
    /// incremental, [`DEFAULT_CATEGORIES`], resuming.
    pub fn new(base_url: &str) -> Self {
        HarvestSettings {
            client: ArxivSettings { base_url: base_url.to_string(), ..ArxivSettings::default() },
            format: MetadataFormat::ArxivRaw,
            set: Some("cs".to_string()),
            from: None,
            until: None,
            categories: DEFAULT_CATEGORIES.iter().map(|c| c.to_string()).collect(),
            resume: true,
            trigger: HarvestTrigger::Manual,
            lease: DEFAULT_LEASE,
        }
    }
}

/// Why a harvest failed. The run is recorded as failed first (except when
/// the store itself cannot be reached).
#[derive(Debug, Error)]
pub enum HarvestError {
    #[error("harvest run {run} failed on page {page}: {source}")]
    Fetch {
        run: i64,
        page: u64,
        #[source]
        source: ArxivError,
    },
    #[error("harvest run {run} failed on page {page}: {reason}")]
    Protocol { run: i64, page: u64, reason: String },
    #[error("harvest: the database failed: {0} (the checkpoint is kept; run the harvest again to resume)")]
    Store(#[from] StoreError),
    #[error("harvest: {0}")]
    Config(ArxivError),
    #[error("harvest: {0}")]
    Lease(#[from] LeaseError),
}

impl HarvestError {
    /// The run this error ended, if it got as far as starting one.
    pub fn run(&self) -> Option<i64> {
        match self {
            HarvestError::Fetch { run, .. } | HarvestError::Protocol { run, .. } => Some(*run),
            HarvestError::Store(_) | HarvestError::Config(_) | HarvestError::Lease(_) => None,
        }
    }
}

/// Progress after each stored page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HarvestProgress {
    pub run: i64,
    /// Pages stored by this run.
    pub pages: u64,
    /// Counts of this run so far.
    pub counts: HarvestCounts,
    /// The server's `completeListSize`, when it says.
    pub complete_list_size: Option<u64>,
    /// Records before the next page in the complete list (`cursor` + this page), when known.
    pub position: Option<u64>,
}

/// Whether `paper` lies in `categories` (see [`HarvestSettings::categories`]).
pub fn in_categories(paper: &Paper, categories: &[String]) -> bool {
    if categories.is_empty() {
        return true;
    }
    paper.categories.iter().any(|c| {
        categories.iter().any(|want| {
            c.eq_ignore_ascii_case(want)
                || (!want.contains('.')
                    && c.len() > want.len()
                    && c.as_bytes()[want.len()] == b'.'
                    && c[..want.len()].eq_ignore_ascii_case(want))
        })
    })
}

/// The papers of `page` to store, and the page's counts before storing.
pub fn select(page: OaiPage, categories: &[String]) -> (PaperBatch, HarvestCounts) {
    let mut counts = HarvestCounts {
        records: page.records(),
        deleted: page.deleted,
        rejected: page.rejected.len() as u64,
        ..Default::default()
    };
    for r in &page.rejected {
        warn!(page = %page.url, "record not harvested: {r}");
    }
    let mut batch = PaperBatch::with_capacity(page.papers.len());
    for paper in page.papers {
        if in_categories(&paper, categories) {
            batch.push(paper);
        } else {
            counts.filtered += 1;
        }
    }
    (batch, counts)
}

/// Adds upsert outcomes to `counts`.
pub fn count_outcomes(counts: &mut HarvestCounts, outcomes: &[UpsertOutcome]) {
    for o in outcomes {
        match o {
            UpsertOutcome::Inserted => counts.inserted += 1,
            UpsertOutcome::Updated | UpsertOutcome::Merged => counts.updated += 1,
            UpsertOutcome::Unchanged => counts.unchanged += 1,
        }
    }
}

/// The `from` day of an incremental harvest.
async fn incremental_from<S: Harvests + ?Sized>(store: &S, config: &HarvestSettings) -> Result<NaiveDate, StoreError> {
    let last =
        store.last_completed_harvest(&config.client.base_url, config.format.prefix(), config.set.as_deref()).await?;
    let today = Utc::now().date_naive();
    Ok(match last {
        Some(run) => run.started_at.date_naive().checked_sub_days(Days::new(OVERLAP_DAYS)).unwrap_or(today),
        None => today.checked_sub_days(Days::new(FIRST_RUN_DAYS)).unwrap_or(today),
    })
}

/// Runs one harvest to its end (or its first failure) under the harvest
/// lease and returns the recorded run. `progress` is called after each
/// stored page.
pub async fn harvest<S>(
    store: &S,
    config: &HarvestSettings,
    progress: impl FnMut(&HarvestProgress),
) -> Result<HarvestRun, HarvestError>
where
    S: Catalog + Harvests + Coordination + ?Sized,
{
    let holder = holder_id();
    with_lease(store, HARVEST_LEASE, &holder, config.lease, harvest_holding_lease(store, config, progress)).await?
}

async fn harvest_holding_lease<S>(
    store: &S,
    config: &HarvestSettings,
    mut progress: impl FnMut(&HarvestProgress),
) -> Result<HarvestRun, HarvestError>
where
    S: Catalog + Harvests + ?Sized,
{
    let client = OaiClient::with_config(config.client.clone()).map_err(HarvestError::Config)?;
    let from = match config.from {
        Some(day) => Some(day),
        None if config.until.is_none() => Some(incremental_from(store, config).await?),
        None => None,
    };
    let request = ListRequest { format: config.format, set: config.set.clone(), from, until: config.until };
    let args = HarvestArgs {
        base_url: config.client.base_url.clone(),
        metadata_prefix: config.format.prefix().to_string(),
        set: config.set.clone(),
        from,
        until: config.until,
    };
    let run = store.start_harvest(&args, config.trigger, config.resume).await?;
    match &run.start_token {
        Some(token) => info!(run = run.id, resumed_from = run.resumed_from, token, "harvest resumes"),
        None => info!(run = run.id, from = ?from, until = ?config.until, set = ?config.set, "harvest starts"),
    }
    let mut token = run.start_token.clone();
    let mut state = HarvestProgress { run: run.id, ..HarvestProgress::default() };
    let mut fetched = client.list_records(&request, token.as_deref()).await;
    loop {
        let page_no = state.pages + 1;
        let page = match fetched {
            Ok(page) => page,
            Err(source) => {
                let err = HarvestError::Fetch { run: run.id, page: page_no, source };
                store.finish_harvest(run.id, Some(&err.to_string())).await?;
                return Err(err);
            }
        };
        let next = page.resumption_token.clone();
        if next.is_some() && next == token {
            let reason = format!(
                "the server sent the same resumption token again ({}): it is not advancing; \
                 try again later or report it to the repository",
                next.as_deref().unwrap_or_default()
            );
            let err = HarvestError::Protocol { run: run.id, page: page_no, reason };
            store.finish_harvest(run.id, Some(&err.to_string())).await?;
            return Err(err);
        }
        let size = page.complete_list_size;
        let position = page.cursor.map(|c| c + page.records());
        let (batch, counts) = select(page, &config.categories);
        // Store this page (then checkpoint) while the next one is fetched
        // and parsed: with pacing 0 the two halves overlap; with arXiv's
        // 3 s the fetch waits for its turn anyway. The checkpoint only ever
        // names a page after the stored one.
        let run_id = run.id;
        let checkpoint = next.as_deref();
        let store_page = async move {
            let mut counts = counts;
            if !batch.is_empty() {
                let outcomes = store.upsert_batch(batch).await?;
                count_outcomes(&mut counts, &outcomes);
            }
            store.record_harvest_page(run_id, &counts, checkpoint, size).await?;
            Ok::<_, StoreError>(counts)
        };
        let fetch_next = async {
            match checkpoint {
                Some(t) => Some(client.list_records(&request, Some(t)).await),
                None => None,
            }
        };
        let (stored, prefetched) = tokio::join!(store_page, fetch_next);
        let counts = stored?;
        state.pages = page_no;
        state.counts.add(&counts);
        state.complete_list_size = size.or(state.complete_list_size);
        state.position = position;
        progress(&state);
        match prefetched {
            Some(result) => {
                fetched = result;
                token = next;
            }
            None => break,
        }
    }
    let done = store.finish_harvest(run.id, None).await?;
    info!(
        run = done.id,
        pages = done.pages,
        records = done.counts.records,
        inserted = done.counts.inserted,
        updated = done.counts.updated,
        "harvest completed"
    );
    Ok(done)
}

/// One firing (at `fired`) of the daily schedule (the `harvest` job):
/// harvests, or waits for whoever holds the lease to complete a scheduled
/// harvest, taking over from its checkpoint if its lease runs out first.
/// Returns the run this process completed, or `None` when another process
/// did the firing's harvest. A failure is recorded in its run and returned
/// (the job retries it).
pub async fn harvest_when_fired<S>(
    store: &S,
    config: &HarvestSettings,
    fired: chrono::DateTime<Utc>,
) -> Result<Option<HarvestRun>, HarvestError>
where
    S: Catalog + Harvests + Coordination + ?Sized,
{
    let config = &HarvestSettings { trigger: HarvestTrigger::Schedule, ..config.clone() };
    let mut waiting = false;
    loop {
        match harvest(store, config, |_| {}).await {
            Ok(run) => {
                info!(
                    run = run.id,
                    inserted = run.counts.inserted,
                    updated = run.counts.updated,
                    "scheduled harvest done"
                );
                return Ok(Some(run));
            }
            Err(HarvestError::Lease(LeaseError::Busy { holder, until, .. })) => {
                // Said once per firing; the holder renews every third of a lease.
                if !waiting {
                    info!(%holder, %until, "another process is harvesting; this one takes over if it stops");
                    waiting = true;
                }
                let left = (until - Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(left + Duration::from_millis(500)).await;
                match store
                    .last_completed_harvest(&config.client.base_url, config.format.prefix(), config.set.as_deref())
                    .await
                {
                    Ok(Some(run))
                        if run.trigger == HarvestTrigger::Schedule && run.finished_at.is_some_and(|t| t >= fired) =>
                    {
                        info!(run = run.id, "the scheduled harvest was done by another process");
                        return Ok(None);
                    }
                    Ok(_) => {}
                    Err(e) => warn!(error = %e, "cannot read the harvest log; trying to harvest"),
                }
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper(cats: &[&str]) -> Paper {
        let mut p = Paper::new(
            paperboy_core::PaperId::from(paperboy_core::ArxivId::parse("2401.00001").unwrap()),
            "A title".to_string(),
            NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
        );
        p.categories = cats.iter().map(|c| c.to_string()).collect();
        p
    }

    #[test]
    fn categories_match_primary_cross_lists_and_archives() {
        let wanted: Vec<String> = DEFAULT_CATEGORIES.iter().map(|c| c.to_string()).collect();
        assert!(in_categories(&paper(&["cs.LG"]), &wanted));
        assert!(in_categories(&paper(&["math.OC", "stat.ML"]), &wanted), "a cross-list counts");
        assert!(!in_categories(&paper(&["cs.DM"]), &wanted));
        assert!(!in_categories(&paper(&["stat.ME"]), &wanted));
        let archive = vec!["cs".to_string()];
        assert!(in_categories(&paper(&["cs.DM"]), &archive));
        assert!(!in_categories(&paper(&["csx.DM"]), &archive));
        assert!(!in_categories(&paper(&["physics.comp-ph"]), &archive));
        assert!(in_categories(&paper(&["hep-th"]), &[]), "no categories keeps everything");
    }
}
