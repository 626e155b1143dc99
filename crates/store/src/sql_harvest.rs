//! The SQL text and row decoder of [`crate::Harvests`] that both backends
//! run (`harvest_impl.rs`, with each backend's hooks in `sqlite_harvest.rs`
//! and `postgres/harvest.rs`): portable statements with `?` placeholders (PostgreSQL renumbers
//! them with [`crate::sql_common::numbered`]) over the same `harvest_runs`
//! table, read back through [`Cells`].

use chrono::NaiveDate;

use crate::StoreError;
use crate::harvest::{HarvestArgs, HarvestCounts, HarvestRun, HarvestStatus, HarvestTrigger};
use crate::sql_common::Cells;
use crate::sqlite::{parse_date, parse_ts};

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
