//! [`Harvests`] in portable SQL: the `harvest_runs` table, its statements
//! and row decoder.
//!
//! The rule every backend keeps: starting a run inserts it and then reads
//! the run it may resume in one transaction, taking turns with other starts
//! (the backend's `lock_harvest_start`, see
//! [`Backend`](super::backend::Backend)), so each sees the runs started
//! before it and two runs starting at once cannot both take over the same
//! checkpoint.

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};

use super::exec::Query;
use super::rows::Cells;
use super::{SqlStore, fmt_ts, parse_date, parse_ts};
use crate::{HarvestArgs, HarvestCounts, HarvestRun, HarvestStatus, HarvestTrigger, Harvests, StoreError};

/// Columns read into a [`HarvestRun`] by [`row_to_run`], in this order.
pub(crate) const RUN_COLUMNS: &str = "id, started_by, base_url, metadata_prefix, set_spec, from_day, until_day, \
     status, started_at, updated_at, finished_at, resumed_from, start_token, next_token, pages, records, inserted, \
     updated, unchanged, filtered, deleted, rejected, errors, complete_list_size, last_error";

/// Binds: trigger, base URL, prefix, set, from, until, started, updated.
pub(crate) const INSERT_RUN: &str = "INSERT INTO harvest_runs (started_by, base_url, metadata_prefix, set_spec, \
     from_day, until_day, status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?) RETURNING id";

/// The latest earlier run with the same arguments: id, status, checkpoint.
/// Binds: base URL, prefix, set, from, until, the new run's id.
pub(crate) const PREVIOUS_RUN: &str = "SELECT id, status, next_token FROM harvest_runs WHERE base_url = ? \
     AND metadata_prefix = ? AND set_spec = ? AND from_day = ? AND until_day = ? AND id < ? ORDER BY id DESC LIMIT 1";

/// Binds: resumed from, start token, next token, id.
pub(crate) const SET_RESUMED: &str =
    "UPDATE harvest_runs SET resumed_from = ?, start_token = ?, next_token = ? WHERE id = ?";

/// Binds: finished, updated, error, id.
pub(crate) const MARK_INTERRUPTED: &str = "UPDATE harvest_runs SET status = 'interrupted', finished_at = ?, \
     updated_at = ?, last_error = COALESCE(last_error, ?) WHERE id = ? AND status = 'running'";

/// Binds: records, inserted, updated, unchanged, filtered, deleted, rejected,
/// errors, next token, complete list size, updated at, id.
pub(crate) const RECORD_PAGE: &str = "UPDATE harvest_runs SET pages = pages + 1, records = records + ?, \
     inserted = inserted + ?, updated = updated + ?, unchanged = unchanged + ?, filtered = filtered + ?, \
     deleted = deleted + ?, rejected = rejected + ?, errors = errors + ?, next_token = ?, \
     complete_list_size = COALESCE(?, complete_list_size), updated_at = ? WHERE id = ?";

/// Binds: status, finished, updated, added errors, error, id.
pub(crate) const FINISH_RUN: &str = "UPDATE harvest_runs SET status = ?, finished_at = ?, updated_at = ?, \
     errors = errors + ?, last_error = COALESCE(?, last_error) WHERE id = ?";

/// Binds: limit.
pub(crate) const RECENT_RUNS_TAIL: &str = "ORDER BY id DESC LIMIT ?";

/// Binds: base URL, prefix, set.
pub(crate) const LAST_COMPLETED_WHERE: &str = "base_url = ? AND metadata_prefix = ? AND set_spec = ? \
     AND status = 'completed' ORDER BY id DESC LIMIT 1";

/// How a day argument is stored: `YYYY-MM-DD`, or `''` when absent.
pub(crate) fn day(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// The last error of a run that a later one took over.
pub(crate) fn interrupted_note(by: i64) -> String {
    format!("stopped before its last page; resumed by run {by}")
}

/// A count as stored (BIGINT), saturating.
pub(crate) fn stored_count(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

pub(crate) fn corrupt(id: i64, why: String) -> StoreError {
    StoreError::Corrupt { paper_id: format!("harvest run {id}"), why }
}

/// Reads a row of [`RUN_COLUMNS`].
pub(crate) fn row_to_run<R: Cells>(r: &R) -> Result<HarvestRun, StoreError> {
    let id = r.int(0);
    let status = r.text(7);
    let status = HarvestStatus::parse(&status).ok_or_else(|| corrupt(id, format!("unknown status {status:?}")))?;
    let trigger = match r.text(1).as_str() {
        "schedule" => HarvestTrigger::Schedule,
        _ => HarvestTrigger::Manual,
    };
    let text = |i: usize| Some(r.text(i)).filter(|s| !s.is_empty());
    let count = |i: usize| r.int(i).max(0) as u64;
    let started_at = parse_ts(Some(r.text(8))).ok_or_else(|| corrupt(id, "unreadable started_at".to_string()))?;
    Ok(HarvestRun {
        id,
        trigger,
        args: HarvestArgs {
            base_url: r.text(2),
            metadata_prefix: r.text(3),
            set: text(4),
            from: text(5).as_deref().and_then(parse_date),
            until: text(6).as_deref().and_then(parse_date),
        },
        status,
        started_at,
        updated_at: parse_ts(Some(r.text(9))).unwrap_or(started_at),
        finished_at: parse_ts(r.opt_text(10)),
        resumed_from: r.opt_int(11),
        start_token: r.opt_text(12),
        next_token: r.opt_text(13),
        pages: count(14),
        counts: HarvestCounts {
            records: count(15),
            inserted: count(16),
            updated: count(17),
            unchanged: count(18),
            filtered: count(19),
            deleted: count(20),
            rejected: count(21),
        },
        errors: count(22),
        complete_list_size: r.opt_int(23).map(|n| n.max(0) as u64),
        last_error: r.opt_text(24),
    })
}

impl SqlStore {
    async fn run_by_id(&self, id: i64) -> Result<Option<HarvestRun>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM harvest_runs WHERE id = ?");
        let row = Query::new(sql).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(row_to_run).transpose()
    }
}

#[async_trait]
impl Harvests for SqlStore {
    async fn start_harvest(
        &self,
        args: &HarvestArgs,
        trigger: HarvestTrigger,
        resume: bool,
    ) -> Result<HarvestRun, StoreError> {
        let now = fmt_ts(Utc::now());
        let set = args.set.clone().unwrap_or_default();
        let (from, until) = (day(args.from), day(args.until));
        let mut tx = self.backend().begin().await?;
        self.backend().lock_harvest_start(&mut tx).await?;
        let id = Query::new(INSERT_RUN)
            .bind(trigger.as_str())
            .bind(&args.base_url)
            .bind(&args.metadata_prefix)
            .bind(&set)
            .bind(&from)
            .bind(&until)
            .bind(&now)
            .bind(&now)
            .fetch_one(&mut tx)
            .await?
            .int(0);
        if resume {
            let previous = Query::new(PREVIOUS_RUN)
                .bind(&args.base_url)
                .bind(&args.metadata_prefix)
                .bind(&set)
                .bind(&from)
                .bind(&until)
                .bind(id)
                .fetch_optional(&mut tx)
                .await?
                .map(|r| (r.int(0), r.text(1), r.opt_text(2)));
            if let Some((old, status, Some(token))) = previous
                && status != HarvestStatus::Completed.as_str()
            {
                Query::new(SET_RESUMED).bind(old).bind(&token).bind(&token).bind(id).execute(&mut tx).await?;
                Query::new(MARK_INTERRUPTED)
                    .bind(&now)
                    .bind(&now)
                    .bind(interrupted_note(id))
                    .bind(old)
                    .execute(&mut tx)
                    .await?;
            }
        }
        tx.commit().await?;
        self.run_by_id(id).await?.ok_or_else(|| corrupt(id, "vanished after insert".to_string()))
    }

    async fn record_harvest_page(
        &self,
        run: i64,
        counts: &HarvestCounts,
        next_token: Option<&str>,
        complete_list_size: Option<u64>,
    ) -> Result<(), StoreError> {
        let n = stored_count;
        Query::new(RECORD_PAGE)
            .bind(n(counts.records))
            .bind(n(counts.inserted))
            .bind(n(counts.updated))
            .bind(n(counts.unchanged))
            .bind(n(counts.filtered))
            .bind(n(counts.deleted))
            .bind(n(counts.rejected))
            .bind(n(counts.rejected))
            .bind(next_token)
            .bind(complete_list_size.map(n))
            .bind(fmt_ts(Utc::now()))
            .bind(run)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn finish_harvest(&self, run: i64, error: Option<&str>) -> Result<HarvestRun, StoreError> {
        let now = fmt_ts(Utc::now());
        let status = if error.is_some() { HarvestStatus::Failed } else { HarvestStatus::Completed };
        Query::new(FINISH_RUN)
            .bind(status.as_str())
            .bind(&now)
            .bind(&now)
            .bind(i64::from(error.is_some()))
            .bind(error)
            .bind(run)
            .execute(self.pool())
            .await?;
        self.run_by_id(run).await?.ok_or_else(|| corrupt(run, "no such harvest run".to_string()))
    }

    async fn harvest_run(&self, id: i64) -> Result<Option<HarvestRun>, StoreError> {
        self.run_by_id(id).await
    }

    async fn recent_harvests(&self, limit: u32) -> Result<Vec<HarvestRun>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM harvest_runs {RECENT_RUNS_TAIL}");
        let rows = Query::new(sql).bind(i64::from(limit)).fetch_all(self.pool()).await?;
        rows.iter().map(row_to_run).collect()
    }

    async fn last_completed_harvest(
        &self,
        base_url: &str,
        metadata_prefix: &str,
        set: Option<&str>,
    ) -> Result<Option<HarvestRun>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM harvest_runs WHERE {LAST_COMPLETED_WHERE}");
        let row = Query::new(sql)
            .bind(base_url)
            .bind(metadata_prefix)
            .bind(set.unwrap_or_default())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(row_to_run).transpose()
    }
}
