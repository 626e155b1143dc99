//! [`Harvests`] for both backends, written once: the `harvest_runs` table, in
//! portable SQL (statements and row decoder in `sql_harvest.rs`).
//!
//! Like [`crate::coordination`], the implementation is one macro,
//! `impl_harvests!`, expanded for [`SqliteStore`] (placeholders as written)
//! and for [`PgStore`] (renumbered by [`numbered`]). The one difference
//! between the backends is not branched on here but supplied per backend, as
//! a hook method each store defines (SQLite's in `sqlite_harvest.rs`,
//! PostgreSQL's in `postgres/harvest.rs`, with the reasons):
//! * `Self::lock_harvest_start(conn)`: run first when a run starts, before
//!   its insert (SQLite: nothing, the insert is a write and takes the write
//!   lock; PostgreSQL: a transaction advisory lock).
//!
//! The rule both keep: starting a run inserts it and then reads the run it
//! may resume in one transaction, taking turns with other starts, so each
//! sees the runs started before it and two runs starting at once cannot both
//! take over the same checkpoint.

use async_trait::async_trait;
use chrono::Utc;

use crate::harvest::{HarvestArgs, HarvestCounts, HarvestRun, HarvestStatus, HarvestTrigger, Harvests};
use crate::sql_common::{as_written, numbered};
use crate::sql_harvest::{
    FINISH_RUN, INSERT_RUN, LAST_COMPLETED_WHERE, MARK_INTERRUPTED, PREVIOUS_RUN, RECENT_RUNS_TAIL, RECORD_PAGE,
    RUN_COLUMNS, SET_RESUMED, corrupt, day, interrupted_note, row_to_run, stored_count,
};
use crate::sqlite::fmt_ts;
use crate::{PgStore, SqliteStore, StoreError};

/// Implements [`Harvests`] for `$store` (a store with a `pool` field and the
/// hook method listed at the top of this module), running every statement
/// through `$sql` (placeholder style of the backend).
macro_rules! impl_harvests {
    ($store:ty, $sql:path) => {
        impl $store {
            async fn run_by_id(&self, id: i64) -> Result<Option<HarvestRun>, StoreError> {
                let sql = format!("SELECT {RUN_COLUMNS} FROM harvest_runs WHERE id = ?");
                let sql = $sql(&sql);
                let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
                row.as_ref().map(row_to_run).transpose()
            }
        }

        #[async_trait]
        impl Harvests for $store {
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
                Self::lock_harvest_start(&mut *tx).await?;
                let id: i64 = sqlx::query_scalar(&$sql(INSERT_RUN))
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
                    let previous: Option<(i64, String, Option<String>)> = sqlx::query_as(&$sql(PREVIOUS_RUN))
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
                        sqlx::query(&$sql(SET_RESUMED))
                            .bind(old)
                            .bind(&token)
                            .bind(&token)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(&$sql(MARK_INTERRUPTED))
                            .bind(&now)
                            .bind(&now)
                            .bind(interrupted_note(id))
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
                let n = stored_count;
                sqlx::query(&$sql(RECORD_PAGE))
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
                sqlx::query(&$sql(FINISH_RUN))
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
                let sql = format!("SELECT {RUN_COLUMNS} FROM harvest_runs {RECENT_RUNS_TAIL}");
                let sql = $sql(&sql);
                let rows = sqlx::query(&sql).bind(i64::from(limit)).fetch_all(&self.pool).await?;
                rows.iter().map(row_to_run).collect()
            }

            async fn last_completed_harvest(
                &self,
                base_url: &str,
                metadata_prefix: &str,
                set: Option<&str>,
            ) -> Result<Option<HarvestRun>, StoreError> {
                let sql = format!("SELECT {RUN_COLUMNS} FROM harvest_runs WHERE {LAST_COMPLETED_WHERE}");
                let sql = $sql(&sql);
                let row = sqlx::query(&sql)
                    .bind(base_url)
                    .bind(metadata_prefix)
                    .bind(set.unwrap_or_default())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(row_to_run).transpose()
            }
        }
    };
}

impl_harvests!(SqliteStore, as_written);
impl_harvests!(PgStore, numbered);
