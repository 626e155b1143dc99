//! The SQLite backend: one database file in WAL mode, a small connection pool,
//! and writes batched into transactions. This file holds the catalog
//! ([`Store`]) and the helpers both halves share; the community, mailing and
//! harvest halves are `community_impl.rs`, `mailing_impl.rs` and
//! `harvest_impl.rs` (shared with PostgreSQL), SQLite's hooks for them in
//! `sqlite_community.rs`, `sqlite_mailing.rs` and `sqlite_harvest.rs`.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::ranking::{Candidate, RankingParams, listed_at, rank_trending};
use paperboy_core::text::title_key;
use paperboy_core::{FeedSort, Paper, PaperId};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::{
    Audience, Change, FeedPage, FeedQuery, PaperBatch, Store, StoreError, StoredPaper, UpsertOutcome, migrate,
};

/// Columns read back into a [`StoredPaper`], in the order [`row_to_paper`]
/// expects, from [`PAPER_FROM`].
pub(crate) const PAPER_COLUMNS: &str = "p.paper_id, p.version, p.title, p.authors, p.abstract, p.primary_category, \
     p.categories, p.submitted_at, p.updated_at, p.listed_on, p.comment, p.journal_ref, p.doi, p.code_url, \
     p.project_url, p.withdrawn, p.upvotes, u.username, p.hidden_at";
/// How many columns [`PAPER_COLUMNS`] has.
pub(crate) const PAPER_COLUMN_COUNT: usize = 19;

/// Papers with their submitter (`s`, `u`), for [`PAPER_COLUMNS`].
pub(crate) const PAPER_FROM: &str =
    "papers p LEFT JOIN submissions s ON s.paper_pk = p.pk LEFT JOIN users u ON u.id = s.user_id";
/// The submitter joins of [`PAPER_FROM`], after another join to `papers p`.
pub(crate) const SUBMITTER_JOIN: &str =
    "LEFT JOIN submissions s ON s.paper_pk = p.pk LEFT JOIN users u ON u.id = s.user_id";

/// A Paperboy catalog in one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    ranking: RankingParams,
    /// Whose turn it is to write; see [`SqliteStore::begin_write`].
    writer: Arc<tokio::sync::Mutex<()>>,
}

/// A write transaction that holds the store's writer turn until it ends.
/// Dereferences to the connection; dropping it uncommitted rolls back.
pub(crate) struct WriteTx<'a> {
    // Declared first so that it ends (commit or rollback) before the turn is
    // handed on.
    tx: sqlx::Transaction<'a, sqlx::Sqlite>,
    _turn: tokio::sync::MutexGuard<'a, ()>,
}

impl WriteTx<'_> {
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("wal_autocheckpoint", "8192")
            .pragma("temp_store", "memory");
        Self::open_with(options, &path.display().to_string()).await
    }

    /// A private in-memory database (tests and throwaway evaluation runs).
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|source| StoreError::Open { path: ":memory:".into(), source })?
            .foreign_keys(true);
        // One connection: every connection to :memory: is a separate database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open { path: ":memory:".into(), source })?;
        let store = SqliteStore { pool, ranking: RankingParams::default(), writer: Arc::default() };
        store.migrate().await?;
        Ok(store)
    }

    async fn open_with(options: SqliteConnectOptions, label: &str) -> Result<Self, StoreError> {
        let threads = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(2);
        let pool = SqlitePoolOptions::new()
            .max_connections((threads * 2).clamp(4, 16))
            .min_connections(1)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open { path: label.to_string(), source })?;
        let store = SqliteStore { pool, ranking: RankingParams::default(), writer: Arc::default() };
        store.migrate().await?;
        Ok(store)
    }

    /// Starts a write transaction once no other write of this process is
    /// running. SQLite allows one writer at a time; left to itself, a second
    /// writer waits in SQLite's busy handler, which sleeps in steps of up to
    /// 100 ms and lets later writers overtake. Queueing here instead (fair,
    /// first come first served) keeps write latency flat under load. Other
    /// processes on the same file still meet the busy timeout.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx<'_>, StoreError> {
        let turn = self.writer.lock().await;
        let tx = self.pool.begin().await?;
        Ok(WriteTx { tx, _turn: turn })
    }

    /// The same store ranking `trending` feeds with `params` (the defaults
    /// otherwise; see docs/RANKING.md).
    pub fn with_ranking(mut self, params: RankingParams) -> Self {
        self.ranking = params;
        self
    }

    /// The trending parameters in use.
    pub fn ranking(&self) -> RankingParams {
        self.ranking
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        migrate::run_sqlite(&mut conn).await?;
        Ok(())
    }

    /// The underlying pool, for backends' own tests and maintenance commands.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Flushes the WAL into the main file (used before copying a database).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        Ok(())
    }
}

pub(crate) struct Existing {
    pub(crate) pk: i64,
    pub(crate) paper_id: String,
    pub(crate) version: Option<i64>,
    pub(crate) content_hash: i64,
}

/// The row a local paper (?1: id, ?2: title key) is: anything with its id or title.
pub(crate) const FIND_LOCAL_SQL: &str = "SELECT pk, paper_id, version, content_hash FROM papers \
     WHERE paper_id = ?1 OR title_key = ?2 ORDER BY CASE WHEN paper_id = ?1 THEN 0 ELSE 1 END LIMIT 1";
/// The row an arXiv paper is: found by id, or a local paper of the same title it takes over.
pub(crate) const FIND_ARXIV_SQL: &str = "SELECT pk, paper_id, version, content_hash FROM papers \
     WHERE paper_id = ?1 OR (title_key = ?2 AND paper_id LIKE 'pb-%') \
     ORDER BY CASE WHEN paper_id = ?1 THEN 0 ELSE 1 END LIMIT 1";

pub(crate) async fn find_existing(
    conn: &mut SqliteConnection,
    paper: &Paper,
    key: &str,
) -> Result<Option<Existing>, sqlx::Error> {
    let id = paper.id.to_string();
    let sql = if paper.id.is_local() { FIND_LOCAL_SQL } else { FIND_ARXIV_SQL };
    let row = sqlx::query(sql).bind(&id).bind(key).fetch_optional(&mut *conn).await?;
    Ok(row.map(|r| Existing { pk: r.get(0), paper_id: r.get(1), version: r.get(2), content_hash: r.get(3) }))
}

pub(crate) fn categories_column(p: &Paper) -> String {
    if p.categories.is_empty() { " ".to_string() } else { format!(" {} ", p.categories.join(" ")) }
}

pub(crate) fn ts(d: Option<DateTime<Utc>>) -> Option<String> {
    d.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

pub(crate) const INSERT_SQL: &str = "INSERT INTO papers (paper_id, version, title, title_key, authors, abstract, \
     primary_category, categories, submitted_at, updated_at, comment, journal_ref, doi, code_url, project_url, \
     withdrawn, content_hash, listed_on, created_at, modified_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?19)";

/// Updates keep `listed_on` (?18 is bound but unused), `created_at`, votes and
/// every row that refers to `pk`: the paper keeps its day and its history.
pub(crate) const UPDATE_SQL: &str = "UPDATE papers SET paper_id = ?1, version = ?2, title = ?3, title_key = ?4, \
     authors = ?5, abstract = ?6, primary_category = ?7, categories = ?8, submitted_at = ?9, updated_at = ?10, \
     comment = ?11, journal_ref = ?12, doi = ?13, code_url = ?14, project_url = ?15, withdrawn = ?16, \
     content_hash = ?17, modified_at = ?19 WHERE pk = ?20 AND ?18 IS NOT NULL";

/// What upserting `paper` (its id as text, its content fingerprint) does,
/// given the row [`find_existing`] matched: the upsert rules of [`Store`].
pub(crate) fn upsert_outcome(existing: Option<&Existing>, paper: &Paper, id: &str, hash: i64) -> UpsertOutcome {
    match existing {
        None => UpsertOutcome::Inserted,
        Some(e) if paper.id.is_local() && e.paper_id != id => UpsertOutcome::Unchanged,
        Some(e) if e.paper_id != id => UpsertOutcome::Merged,
        Some(e) if e.content_hash == hash => UpsertOutcome::Unchanged,
        Some(e) if matches!((e.version, paper.version), (Some(old), Some(new)) if i64::from(new) < old) => {
            UpsertOutcome::Unchanged
        }
        Some(_) => UpsertOutcome::Updated,
    }
}

pub(crate) async fn upsert_one(
    conn: &mut SqliteConnection,
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
    let mut q = sqlx::query(if existing.is_some() { UPDATE_SQL } else { INSERT_SQL })
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

pub(crate) async fn record_change(conn: &mut SqliteConnection, paper_id: &str, now: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO paper_changes (paper_id, changed_at) VALUES (?1, ?2)")
        .bind(paper_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Rows per multi-row INSERT (20 columns each, well under SQLite's and
/// PostgreSQL's bind-parameter limits).
pub(crate) const INSERT_ROWS: usize = 100;
/// Values per `IN (...)` lookup.
pub(crate) const LOOKUP_CHUNK: usize = 500;

/// Upserts a batch with few round trips: what already exists is looked up in
/// bulk, identical records are recognised from the bulk lookup, brand-new
/// papers go in with multi-row INSERTs, and only the rest (updates, title
/// matches, repeats within the batch) take the one-by-one path of
/// [`upsert_one`]. Outcomes are the same as one-by-one upserts in order.
/// The inserted papers' texts are moved out of `batch` (see [`flush_inserts`]).
async fn upsert_many(
    conn: &mut SqliteConnection,
    batch: &mut PaperBatch,
    now: &str,
) -> Result<Vec<UpsertOutcome>, sqlx::Error> {
    use std::collections::{HashMap, HashSet};
    let (ids, keys, hashes) = (&batch.ids, &batch.keys, &batch.hashes);

    let mut known_hash: HashMap<String, i64> = HashMap::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let sql =
            format!("SELECT paper_id, content_hash FROM papers WHERE paper_id IN ({})", placeholders(chunk.len()));
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
        keys.iter().zip(ids).filter(|(_, id)| !known_hash.contains_key(*id)).map(|(k, _)| k).collect();
    for chunk in unknown_keys.chunks(LOOKUP_CHUNK) {
        let sql = format!("SELECT title_key FROM papers WHERE title_key IN ({})", placeholders(chunk.len()));
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = q.bind(*k);
        }
        for row in q.fetch_all(&mut *conn).await? {
            known_keys.insert(row.get(0));
        }
    }

    let plan = plan_batch(ids, keys, hashes, &known_hash, &known_keys);

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

/// What the bulk lookups of [`upsert_many`] decide for each paper of a batch
/// (ids, title keys, fingerprints), given the fingerprints of the ids already
/// stored and the title keys already taken: `Some(Inserted)` for a new paper,
/// `Some(Unchanged)` for an identical one, `None` for the one-by-one path.
pub(crate) fn plan_batch(
    ids: &[String],
    keys: &[String],
    hashes: &[i64],
    known_hash: &std::collections::HashMap<String, i64>,
    known_keys: &std::collections::HashSet<String>,
) -> Vec<Option<UpsertOutcome>> {
    use std::collections::HashSet;
    // What the bulk lookups decide (`None`: the one-by-one path). Writes within
    // the batch cannot change these: they only touch rows with the ids and
    // title keys of papers on the one-by-one path, and every later paper with
    // one of those is on that path too.
    let mut seen_ids: HashSet<&str> = HashSet::new();
    let mut seen_keys: HashSet<&str> = HashSet::new();
    (0..ids.len())
        .map(|i| {
            let (id, key) = (ids[i].as_str(), keys[i].as_str());
            let repeated = !seen_ids.insert(id) | !seen_keys.insert(key);
            if repeated {
                None
            } else if let Some(&h) = known_hash.get(id) {
                (h == hashes[i]).then_some(UpsertOutcome::Unchanged)
            } else if known_keys.contains(key) {
                None
            } else {
                Some(UpsertOutcome::Inserted)
            }
        })
        .collect()
}

pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Inserts the papers of `batch` at `pending` with multi-row INSERTs and
/// records their changes.
///
/// Their texts are moved into the statements, which leaves those papers
/// hollow: sqlx copies every borrowed value before it hands a statement to
/// SQLite, and for an import that is every title and abstract once more.
///
/// `OR FAIL` rather than the default `OR ABORT`: an aborting multi-row
/// statement makes SQLite keep a statement journal (a copy of every page it
/// changes) to undo just that statement, while a failing one leaves its
/// earlier rows in place. Nothing here should fail (these ids and title keys
/// were just looked up), and if something does, the error rolls the whole
/// transaction back either way.
async fn flush_inserts(
    conn: &mut SqliteConnection,
    batch: &mut PaperBatch,
    pending: &mut Vec<usize>,
    now: &str,
) -> Result<(), sqlx::Error> {
    use std::mem::take;
    for chunk in pending.chunks(INSERT_ROWS) {
        // Plain `?` placeholders: sqlx resolves numbered ones much more slowly
        // in long statements (measured: 40 rows of ?NNN ran at half the speed).
        let row = format!("({})", ["?"; 20].join(", "));
        let rows = vec![row; chunk.len()];
        let sql = format!(
            "INSERT OR FAIL INTO papers (paper_id, version, title, title_key, authors, abstract, primary_category, \
             categories, submitted_at, updated_at, comment, journal_ref, doi, code_url, project_url, withdrawn, \
             content_hash, listed_on, created_at, modified_at) VALUES {}",
            rows.join(", ")
        );
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
        let sql = format!(
            "INSERT OR FAIL INTO paper_changes (paper_id, changed_at) VALUES {}",
            vec!["(?, ?)"; chunk.len()].join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in changed {
            q = q.bind(id).bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    pending.clear();
    Ok(())
}

pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

pub(crate) fn parse_ts(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok()).map(|d| d.with_timezone(&Utc))
}

/// How the community tables store an instant: RFC 3339 in UTC with
/// milliseconds, always the same width, so that text order is time order.
pub(crate) fn fmt_ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) use crate::sql_common::{row_to_paper, row_to_paper_at};

/// Escapes LIKE wildcards typed by a user inside a `% ... %` pattern.
fn like_escape_pattern(pattern: &str) -> String {
    let inner = &pattern[1..pattern.len() - 1];
    let escaped = inner.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// Appends the WHERE clause of a feed query over papers `p`; returns the
/// values to bind, in order.
pub(crate) fn feed_filter(q: &FeedQuery, audience: Audience, sql: &mut String) -> Vec<String> {
    let mut binds = Vec::new();
    sql.push_str(" WHERE 1 = 1");
    if audience == Audience::Public {
        sql.push_str(" AND p.hidden_at IS NULL");
    }
    if let Some(from) = q.from {
        binds.push(from.format("%Y-%m-%d").to_string());
        sql.push_str(&format!(" AND p.listed_on >= ?{}", binds.len()));
    }
    if let Some(until) = q.until {
        binds.push(until.format("%Y-%m-%d").to_string());
        sql.push_str(&format!(" AND p.listed_on < ?{}", binds.len()));
    }
    if let Some(cat) = q.category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        let pattern = if cat.contains('.') { format!("% {cat} %") } else { format!("% {cat}.%") };
        binds.push(like_escape_pattern(&pattern));
        sql.push_str(&format!(" AND p.categories LIKE ?{} ESCAPE '\\'", binds.len()));
    }
    binds
}

/// The `new` order, which also breaks every other order's ties.
pub(crate) const NEW_ORDER: &str = "p.listed_on DESC, p.paper_id DESC";

impl SqliteStore {
    /// One paper as `audience` sees it.
    pub(crate) async fn paper_as(&self, id: &PaperId, audience: Audience) -> Result<Option<StoredPaper>, StoreError> {
        let hidden = if audience == Audience::Public { " AND p.hidden_at IS NULL" } else { "" };
        let sql = format!("SELECT {PAPER_COLUMNS} FROM {PAPER_FROM} WHERE p.paper_id = ?1{hidden}");
        let row = sqlx::query(&sql).bind(id.to_string()).fetch_optional(&self.pool).await?;
        row.as_ref().map(row_to_paper).transpose()
    }

    /// A feed page as `audience` sees it, `trending` ranked at `now`.
    ///
    /// `new` and `top` are ordered and paged by SQL. `trending` needs a power
    /// function that not every SQLite build has, so it is ranked in Rust with
    /// `paperboy_core::ranking`, but only over the papers that have votes:
    /// every paper without votes scores 0 and ties in the `new` order, so
    /// those follow the ranked ones straight from SQL. `total` counts both.
    pub(crate) async fn feed_as(
        &self,
        query: &FeedQuery,
        audience: Audience,
        now: DateTime<Utc>,
    ) -> Result<FeedPage, StoreError> {
        let mut filter = String::new();
        let binds = feed_filter(query, audience, &mut filter);
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

    /// One page of papers matching `filter`, in SQL `order`.
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
            "SELECT {PAPER_COLUMNS} FROM {PAPER_FROM}{filter} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
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

    /// One page of the trending order (see [`SqliteStore::feed_as`]).
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
            let sql =
                format!("SELECT {PAPER_COLUMNS} FROM {PAPER_FROM} WHERE p.paper_id IN ({})", placeholders(chunk.len()));
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            let mut by_id = std::collections::HashMap::new();
            for r in q.fetch_all(&self.pool).await? {
                let p = row_to_paper(&r)?;
                by_id.insert(p.paper.id.to_string(), p);
            }
            items.extend(chunk.iter().filter_map(|id| by_id.remove(id)));
        }
        // The rest of the page: papers without votes, in the `new` order.
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

pub(crate) fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[async_trait]
impl Store for SqliteStore {
    async fn upsert_papers(&self, papers: &[Paper]) -> Result<Vec<UpsertOutcome>, StoreError> {
        self.upsert_batch(papers.iter().cloned().collect()).await
    }

    async fn upsert_batch(&self, mut batch: PaperBatch) -> Result<Vec<UpsertOutcome>, StoreError> {
        let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut tx = self.begin_write().await?;
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
        let prev: Option<String> = sqlx::query_scalar("SELECT MAX(listed_on) FROM papers WHERE listed_on < ?1")
            .bind(&d)
            .fetch_one(&self.pool)
            .await?;
        let next: Option<String> = sqlx::query_scalar("SELECT MIN(listed_on) FROM papers WHERE listed_on > ?1")
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
             WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2"
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
