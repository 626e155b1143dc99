//! [`Harvests`] for [`SqliteStore`]: the `harvest_runs` table, in portable SQL.
//!
//! Starting a run writes first (the new row) and then reads the run it may
//! resume, in one transaction, so two runs starting at once cannot both
//! take over the same checkpoint.

use async_trait::async_trait;
use chrono::Utc;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::harvest::{HarvestArgs, HarvestCounts, HarvestRun, HarvestStatus, HarvestTrigger, Harvests};
use crate::sqlite::{fmt_ts, parse_date, parse_ts};
use crate::{SqliteStore, StoreError};

const RUN_COLUMNS: &str = "id, started_by, base_url, metadata_prefix, set_spec, from_day, until_day, status, \
     started_at, updated_at, finished_at, resumed_from, start_token, next_token, pages, records, inserted, updated, \
     unchanged, filtered, deleted, rejected, errors, complete_list_size, last_error";

fn day(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn corrupt(id: i64, why: String) -> StoreError {
    StoreError::Corrupt { paper_id: format!("harvest run {id}"), why }
}

fn count(r: &SqliteRow, col: &str) -> u64 {
    r.get::<i64, _>(col).max(0) as u64
}

fn row_to_run(r: &SqliteRow) -> Result<HarvestRun, StoreError> {
    let id: i64 = r.get("id");
    let status: String = r.get("status");
    let status = HarvestStatus::parse(&status).ok_or_else(|| corrupt(id, format!("unknown status {status:?}")))?;
    let trigger = match r.get::<String, _>("started_by").as_str() {
        "schedule" => HarvestTrigger::Schedule,
        _ => HarvestTrigger::Manual,
    };
    let text = |col: &str| Some(r.get::<String, _>(col)).filter(|s| !s.is_empty());
    let started_at =
        parse_ts(Some(r.get("started_at"))).ok_or_else(|| corrupt(id, "unreadable started_at".to_string()))?;
    Ok(HarvestRun {
        id,
        trigger,
        args: HarvestArgs {
            base_url: r.get("base_url"),
            metadata_prefix: r.get("metadata_prefix"),
            set: text("set_spec"),
            from: text("from_day").as_deref().and_then(parse_date),
            until: text("until_day").as_deref().and_then(parse_date),
        },
        status,
        started_at,
        updated_at: parse_ts(Some(r.get("updated_at"))).unwrap_or(started_at),
        finished_at: parse_ts(r.get("finished_at")),
        resumed_from: r.get("resumed_from"),
        start_token: r.get("start_token"),
        next_token: r.get("next_token"),
        pages: count(r, "pages"),
        counts: HarvestCounts {
            records: count(r, "records"),
            inserted: count(r, "inserted"),
            updated: count(r, "updated"),
            unchanged: count(r, "unchanged"),
            filtered: count(r, "filtered"),
            deleted: count(r, "deleted"),
            rejected: count(r, "rejected"),
        },
        errors: count(r, "errors"),
        complete_list_size: r.get::<Option<i64>, _>("complete_list_size").map(|n| n.max(0) as u64),
        last_error: r.get("last_error"),
    })
}

impl SqliteStore {
    async fn run_by_id(&self, id: i64) -> Result<Option<HarvestRun>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM harvest_runs WHERE id = ?");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(row_to_run).transpose()
    }
}

#[async_trait]
impl Harvests for SqliteStore {
    async fn start_harvest(
        &self,
        args: &HarvestArgs,
        trigger: HarvestTrigger,
        resume: bool,
    ) -> Result<HarvestRun, StoreError> {
        let now = fmt_ts(Utc::now());
        let set = args.set.clone().unwrap_or_default();
        let (from, until) = (day(args.from), day(args.until));
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO harvest_runs (started_by, base_url, metadata_prefix, set_spec, from_day, until_day, status, \
             started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?) RETURNING id",
        )
        .bind(trigger.as_str())
        .bind(&args.base_url)
        .bind(&args.metadata_prefix)
        .bind(&set)
        .bind(&from)
        .bind(&until)
        .bind(&now)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        if resume {
            let previous: Option<(i64, String, Option<String>)> = sqlx::query_as(
                "SELECT id, status, next_token FROM harvest_runs WHERE base_url = ? AND metadata_prefix = ? \
                 AND set_spec = ? AND from_day = ? AND until_day = ? AND id < ? ORDER BY id DESC LIMIT 1",
            )
            .bind(&args.base_url)
            .bind(&args.metadata_prefix)
            .bind(&set)
            .bind(&from)
            .bind(&until)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((old, status, Some(token))) = previous
                && status != HarvestStatus::Completed.as_str()
            {
                sqlx::query("UPDATE harvest_runs SET resumed_from = ?, start_token = ?, next_token = ? WHERE id = ?")
                    .bind(old)
                    .bind(&token)
                    .bind(&token)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE harvest_runs SET status = 'interrupted', finished_at = ?, updated_at = ?, \
                     last_error = COALESCE(last_error, ?) WHERE id = ? AND status = 'running'",
                )
                .bind(&now)
                .bind(&now)
                .bind(format!("stopped before its last page; resumed by run {id}"))
                .bind(old)
                .execute(&mut *tx)
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
        let n = |v: u64| v.min(i64::MAX as u64) as i64;
        sqlx::query(
            "UPDATE harvest_runs SET pages = pages + 1, records = records + ?, inserted = inserted + ?, \
             updated = updated + ?, unchanged = unchanged + ?, filtered = filtered + ?, deleted = deleted + ?, \
             rejected = rejected + ?, errors = errors + ?, next_token = ?, \
             complete_list_size = COALESCE(?, complete_list_size), updated_at = ? WHERE id = ?",
        )
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn finish_harvest(&self, run: i64, error: Option<&str>) -> Result<HarvestRun, StoreError> {
        let now = fmt_ts(Utc::now());
        let status = if error.is_some() { HarvestStatus::Failed } else { HarvestStatus::Completed };
        sqlx::query(
            "UPDATE harvest_runs SET status = ?, finished_at = ?, updated_at = ?, errors = errors + ?, \
             last_error = COALESCE(?, last_error) WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(&now)
        .bind(&now)
        .bind(i64::from(error.is_some()))
        .bind(error)
        .bind(run)
        .execute(&self.pool)
        .await?;
        self.run_by_id(run).await?.ok_or_else(|| corrupt(run, "no such harvest run".to_string()))
    }

    async fn harvest_run(&self, id: i64) -> Result<Option<HarvestRun>, StoreError> {
        self.run_by_id(id).await
    }

    async fn recent_harvests(&self, limit: u32) -> Result<Vec<HarvestRun>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM harvest_runs ORDER BY id DESC LIMIT ?");
        let rows = sqlx::query(&sql).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(row_to_run).collect()
    }

    async fn last_completed_harvest(
        &self,
        base_url: &str,
        metadata_prefix: &str,
        set: Option<&str>,
    ) -> Result<Option<HarvestRun>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM harvest_runs WHERE base_url = ? AND metadata_prefix = ? AND set_spec = ? \
             AND status = 'completed' ORDER BY id DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(base_url)
            .bind(metadata_prefix)
            .bind(set.unwrap_or_default())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(row_to_run).transpose()
    }
}
