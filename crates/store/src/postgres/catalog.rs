//! [`Store`] for [`PgStore`]: upserts, lookups, feeds and the change feed,
//! with the SQLite backend's SQL and rules (`crate::sqlite`) run over
//! PostgreSQL. Its own code is the driver-typed glue: the upsert path, bulk
//! lookups, multi-row inserts (a plain `INSERT` where SQLite says
//! `INSERT OR FAIL`), and the feed queries.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::ranking::{Candidate, listed_at, rank_trending};
use paperboy_core::text::title_key;
use paperboy_core::{FeedSort, Paper, PaperId};
use sqlx::{PgConnection, Row};

use super::PgStore;
use crate::sql_common::{numbered, row_to_paper, row_to_paper_at};
use crate::sqlite::{
    Existing, FIND_ARXIV_SQL, FIND_LOCAL_SQL, INSERT_ROWS, INSERT_SQL, LOOKUP_CHUNK, NEW_ORDER, PAPER_COLUMNS,
    PAPER_FROM, UPDATE_SQL, categories_column, clamp_u32, feed_filter, parse_date, parse_ts, placeholders, plan_batch,
    ts, upsert_outcome,
};
use crate::{Audience, Change, FeedPage, FeedQuery, PaperBatch, Store, StoreError, StoredPaper, UpsertOutcome};

pub(crate) async fn find_existing(
    conn: &mut PgConnection,
    paper: &Paper,
    key: &str,
) -> Result<Option<Existing>, sqlx::Error> {
    let sql = numbered(if paper.id.is_local() { FIND_LOCAL_SQL } else { FIND_ARXIV_SQL });
    let row = sqlx::query(&sql).bind(paper.id.to_string()).bind(key).fetch_optional(&mut *conn).await?;
    Ok(row.map(|r| Existing { pk: r.get(0), paper_id: r.get(1), version: r.get(2), content_hash: r.get(3) }))
}

/// One paper by the upsert rules, inside the caller's catalog transaction.
pub(crate) async fn upsert_one(
    conn: &mut PgConnection,
    paper: &Paper,
    now: &str,
) -> Result<UpsertOutcome, sqlx::Error> {
    let key = title_key(&paper.title);
    let hash = paper.content_hash() as i64;
    let existing = find_existing(conn, paper, &key).await?;
    let id = paper.id.to_string();
    let outcome = upsert_outcome(existing.as_ref(), paper, &id, hash);
    if outcome == UpsertOutcome::Unchanged {
        return Ok(outcome);
    }
    let authors = serde_json::to_string(&paper.authors).unwrap_or_else(|_| "[]".into());
    let sql = numbered(if existing.is_some() { UPDATE_SQL } else { INSERT_SQL });
    let mut q = sqlx::query(&sql)
        .bind(&id)
        .bind(paper.version.map(i64::from))
        .bind(&paper.title)
        .bind(&key)
        .bind(authors)
        .bind(&paper.abstract_text)
        .bind(&paper.primary_category)
        .bind(categories_column(paper))
        .bind(ts(paper.submitted_at))
        .bind(ts(paper.updated_at))
        .bind(&paper.comment)
        .bind(&paper.journal_ref)
        .bind(&paper.doi)
        .bind(&paper.links.code)
        .bind(&paper.links.project)
        .bind(paper.withdrawn)
        .bind(hash)
        .bind(paper.listed_on.format("%Y-%m-%d").to_string())
        .bind(now);
    let renamed_from = existing.as_ref().filter(|e| e.paper_id != id).map(|e| e.paper_id.clone());
    if let Some(e) = existing {
        q = q.bind(e.pk);
    }
    q.execute(&mut *conn).await?;
    if let Some(old) = renamed_from {
        record_change(conn, &old, now).await?;
    }
    record_change(conn, &id, now).await?;
    Ok(outcome)
}

/// Appends to the change feed; the caller holds [`super::CATALOG_LOCK`].
pub(crate) async fn record_change(conn: &mut PgConnection, paper_id: &str, now: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO paper_changes (paper_id, changed_at) VALUES ($1, $2)")
        .bind(paper_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The batch upsert of the SQLite backend: bulk lookups, the same plan
/// ([`plan_batch`]), multi-row inserts for new papers, and [`upsert_one`]
/// for the rest, in order.
async fn upsert_many(
    conn: &mut PgConnection,
    batch: &mut PaperBatch,
    now: &str,
) -> Result<Vec<UpsertOutcome>, sqlx::Error> {
    let mut known_hash: HashMap<String, i64> = HashMap::new();
    for chunk in batch.ids.chunks(LOOKUP_CHUNK) {
        let sql = numbered(&format!(
            "SELECT paper_id, content_hash FROM papers WHERE paper_id IN ({})",
            placeholders(chunk.len())
        ));
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        for row in q.fetch_all(&mut *conn).await? {
            known_hash.insert(row.get(0), row.get(1));
        }
    }
    let mut known_keys: HashSet<String> = HashSet::new();
    let unknown_keys: Vec<&String> =
        batch.keys.iter().zip(&batch.ids).filter(|(_, id)| !known_hash.contains_key(*id)).map(|(k, _)| k).collect();
    for chunk in unknown_keys.chunks(LOOKUP_CHUNK) {
        let sql = numbered(&format!("SELECT title_key FROM papers WHERE title_key IN ({})", placeholders(chunk.len())));
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = q.bind(*k);
        }
        for row in q.fetch_all(&mut *conn).await? {
            known_keys.insert(row.get(0));
        }
    }
    let plan = plan_batch(&batch.ids, &batch.keys, &batch.hashes, &known_hash, &known_keys);

    let mut outcomes = Vec::with_capacity(plan.len());
    let mut pending: Vec<usize> = Vec::new();
    for (i, fast) in plan.into_iter().enumerate() {
        match fast {
            Some(UpsertOutcome::Inserted) => {
                pending.push(i);
                outcomes.push(UpsertOutcome::Inserted);
            }
            Some(o) => outcomes.push(o),
            None => {
                flush_inserts(conn, batch, &mut pending, now).await?;
                outcomes.push(upsert_one(conn, &batch.papers[i], now).await?);
            }
        }
    }
    flush_inserts(conn, batch, &mut pending, now).await?;
    Ok(outcomes)
}

/// Inserts the papers of `batch` at `pending` with multi-row INSERTs (the
/// columns of [`INSERT_SQL`]) and records their changes. A plain `INSERT`:
/// PostgreSQL rolls a failed statement back by itself, and the caller's
/// transaction with it.
async fn flush_inserts(
    conn: &mut PgConnection,
    batch: &mut PaperBatch,
    pending: &mut Vec<usize>,
    now: &str,
) -> Result<(), sqlx::Error> {
    use std::mem::take;
    let head = INSERT_SQL.split(" VALUES").next().unwrap_or(INSERT_SQL);
    for chunk in pending.chunks(INSERT_ROWS) {
        let row = format!("({})", ["?"; 20].join(", "));
        let sql = numbered(&format!("{head} VALUES {}", vec![row; chunk.len()].join(", ")));
        let mut q = sqlx::query(&sql);
        let mut changed = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let p = &mut batch.papers[i];
            let id = take(&mut batch.ids[i]);
            q = q
                .bind(id.clone())
                .bind(p.version.map(i64::from))
                .bind(take(&mut p.title))
                .bind(take(&mut batch.keys[i]))
                .bind(serde_json::to_string(&p.authors).unwrap_or_else(|_| "[]".into()))
                .bind(take(&mut p.abstract_text))
                .bind(p.primary_category.take())
                .bind(categories_column(p))
                .bind(ts(p.submitted_at))
                .bind(ts(p.updated_at))
                .bind(p.comment.take())
                .bind(p.journal_ref.take())
                .bind(p.doi.take())
                .bind(p.links.code.take())
                .bind(p.links.project.take())
                .bind(p.withdrawn)
                .bind(batch.hashes[i])
                .bind(p.listed_on.to_string())
                .bind(now)
                .bind(now);
            changed.push(id);
        }
        q.execute(&mut *conn).await?;
        let sql = numbered(&format!(
            "INSERT INTO paper_changes (paper_id, changed_at) VALUES {}",
            vec!["(?, ?)"; chunk.len()].join(", ")
        ));
        let mut q = sqlx::query(&sql);
        for id in changed {
            q = q.bind(id).bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    pending.clear();
    Ok(())
}

/// The feed filter of the SQLite backend for PostgreSQL. SQLite's `LIKE`
/// ignores ASCII case and PostgreSQL's does not; `ILIKE` is its equivalent
/// here (categories are ASCII).
fn pg_feed_filter(q: &FeedQuery, audience: Audience) -> (String, Vec<String>) {
    let mut filter = String::new();
    let binds = feed_filter(q, audience, &mut filter);
    (numbered(&filter.replace(" LIKE ", " ILIKE ")), binds)
}

impl PgStore {
    /// One paper as `audience` sees it.
    pub(crate) async fn paper_as(&self, id: &PaperId, audience: Audience) -> Result<Option<StoredPaper>, StoreError> {
        let hidden = if audience == Audience::Public { " AND p.hidden_at IS NULL" } else { "" };
        let sql = format!("SELECT {PAPER_COLUMNS} FROM {PAPER_FROM} WHERE p.paper_id = $1{hidden}");
        let row = sqlx::query(&sql).bind(id.to_string()).fetch_optional(&self.pool).await?;
        row.as_ref().map(row_to_paper).transpose()
    }

    /// A feed page as `audience` sees it, `trending` ranked at `now` (the
    /// SQLite backend's method, `SqliteStore::feed_as`, step by step).
    pub(crate) async fn feed_as(
        &self,
        query: &FeedQuery,
        audience: Audience,
        now: DateTime<Utc>,
    ) -> Result<FeedPage, StoreError> {
        let (filter, binds) = pg_feed_filter(query, audience);
        let count_sql = format!("SELECT COUNT(*) FROM papers p{filter}");
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for b in &binds {
            count = count.bind(b);
        }
        let total = count.fetch_one(&self.pool).await? as u64;
        let items = match query.sort {
            FeedSort::New => self.feed_page(&filter, &binds, NEW_ORDER, query.offset, query.limit).await?,
            FeedSort::Top => {
                let order = format!("p.upvotes DESC, {NEW_ORDER}");
                self.feed_page(&filter, &binds, &order, query.offset, query.limit).await?
            }
            FeedSort::Trending => self.trending_page(query, &filter, &binds, now).await?,
        };
        Ok(FeedPage { items, total })
    }

    async fn feed_page(
        &self,
        filter: &str,
        binds: &[String],
        order: &str,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<StoredPaper>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let n = binds.len();
        let sql = format!(
            "SELECT {PAPER_COLUMNS} FROM {PAPER_FROM}{filter} ORDER BY {order} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut page = sqlx::query(&sql);
        for b in binds {
            page = page.bind(b);
        }
        let rows = page.bind(i64::from(limit)).bind(i64::from(offset)).fetch_all(&self.pool).await?;
        rows.iter().map(row_to_paper).collect()
    }

    /// Papers with votes ranked in Rust, then the unvoted ones in the `new`
    /// order from SQL (see `SqliteStore::feed_as`).
    async fn trending_page(
        &self,
        query: &FeedQuery,
        filter: &str,
        binds: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<StoredPaper>, StoreError> {
        let sql = format!(
            "SELECT p.paper_id, p.upvotes, p.listed_on, s.submitted_at FROM papers p \
             LEFT JOIN submissions s ON s.paper_pk = p.pk{filter} AND p.upvotes > 0"
        );
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(b);
        }
        let mut candidates = Vec::new();
        for r in q.fetch_all(&self.pool).await? {
            let id: String = r.get(0);
            let day: String = r.get(2);
            let listed_on = parse_date(&day)
                .ok_or_else(|| StoreError::Corrupt { paper_id: id.clone(), why: format!("listed_on {day:?}") })?;
            let at = listed_at(listed_on, parse_ts(r.get(3)));
            candidates.push(Candidate { id, votes: r.get(1), listed_on, listed_at: at });
        }
        let voted = candidates.len();
        let (offset, limit) = (query.offset as usize, query.limit as usize);
        let ranked: Vec<String> = rank_trending(candidates, now, &self.ranking)
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|c| c.0.id)
            .collect();
        let mut items = Vec::with_capacity(limit.min(1_000));
        for chunk in ranked.chunks(LOOKUP_CHUNK) {
            let sql = numbered(&format!(
                "SELECT {PAPER_COLUMNS} FROM {PAPER_FROM} WHERE p.paper_id IN ({})",
                placeholders(chunk.len())
            ));
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            let mut by_id = HashMap::new();
            for r in q.fetch_all(&self.pool).await? {
                let p = row_to_paper(&r)?;
                by_id.insert(p.paper.id.to_string(), p);
            }
            items.extend(chunk.iter().filter_map(|id| by_id.remove(id)));
        }
        let rest = limit - ranked.len();
        if rest > 0 {
            let skip = offset.saturating_sub(voted);
            let unvoted = format!("{filter} AND p.upvotes <= 0");
            let more = self.feed_page(&unvoted, binds, NEW_ORDER, clamp_u32(skip), clamp_u32(rest)).await?;
            items.extend(more);
        }
        Ok(items)
    }
}

#[async_trait]
impl Store for PgStore {
    async fn upsert_papers(&self, papers: &[Paper]) -> Result<Vec<UpsertOutcome>, StoreError> {
        self.upsert_batch(papers.iter().cloned().collect()).await
    }

    async fn upsert_batch(&self, mut batch: PaperBatch) -> Result<Vec<UpsertOutcome>, StoreError> {
        let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut tx = self.begin_catalog_write().await?;
        let outcomes = upsert_many(&mut tx, &mut batch, &now).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn get_paper(&self, id: &PaperId) -> Result<Option<StoredPaper>, StoreError> {
        self.paper_as(id, Audience::Public).await
    }

    async fn feed(&self, query: &FeedQuery) -> Result<FeedPage, StoreError> {
        self.feed_as(query, Audience::Public, Utc::now()).await
    }

    async fn latest_listing_date(&self) -> Result<Option<NaiveDate>, StoreError> {
        let s: Option<String> = sqlx::query_scalar("SELECT MAX(listed_on) FROM papers").fetch_one(&self.pool).await?;
        Ok(s.as_deref().and_then(parse_date))
    }

    async fn neighbour_dates(&self, day: NaiveDate) -> Result<(Option<NaiveDate>, Option<NaiveDate>), StoreError> {
        let d = day.format("%Y-%m-%d").to_string();
        let prev: Option<String> = sqlx::query_scalar("SELECT MAX(listed_on) FROM papers WHERE listed_on < $1")
            .bind(&d)
            .fetch_one(&self.pool)
            .await?;
        let next: Option<String> = sqlx::query_scalar("SELECT MIN(listed_on) FROM papers WHERE listed_on > $1")
            .bind(&d)
            .fetch_one(&self.pool)
            .await?;
        Ok((prev.as_deref().and_then(parse_date), next.as_deref().and_then(parse_date)))
    }

    async fn count_papers(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM papers").fetch_one(&self.pool).await?;
        Ok(n as u64)
    }

    async fn changes_since(&self, after: u64, limit: u32) -> Result<Vec<Change>, StoreError> {
        let sql = format!(
            "SELECT c.seq, c.paper_id, p.pk IS NOT NULL AND p.hidden_at IS NULL, {PAPER_COLUMNS} \
             FROM paper_changes c LEFT JOIN papers p ON p.paper_id = c.paper_id \
             LEFT JOIN submissions s ON s.paper_pk = p.pk LEFT JOIN users u ON u.id = s.user_id \
             WHERE c.seq > $1 ORDER BY c.seq LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(i64::try_from(after).unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let seq: i64 = r.get(0);
            let raw_id: String = r.get(1);
            let paper_id = PaperId::parse(&raw_id)
                .map_err(|e| StoreError::Corrupt { paper_id: raw_id.clone(), why: e.to_string() })?;
            let paper = if r.get::<bool, _>(2) { Some(row_to_paper_at(r, 3)?.paper) } else { None };
            out.push(Change { seq: seq as u64, paper_id, paper });
        }
        Ok(out)
    }

    async fn last_change_seq(&self) -> Result<u64, StoreError> {
        let n: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM paper_changes").fetch_one(&self.pool).await?;
        Ok(n.unwrap_or(0) as u64)
    }
}
