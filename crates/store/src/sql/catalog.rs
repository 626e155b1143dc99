//! [`Catalog`] in portable SQL: upserts (one by one and in bulk), lookups,
//! feeds and the change feed. Also the helpers the community and moderation
//! halves change the catalog with ([`SqlStore::upsert_one`],
//! [`SqlStore::record_change`]) and `paper_as` / `feed_as` (a paper or a feed
//! page as an audience sees it).
//!
//! What the backends supply (see [`Backend`](super::backend::Backend)):
//! `begin_catalog_write` (the transaction of an upsert, which appends to the
//! change feed), `bulk_insert` (the verb of the multi-row inserts of
//! `flush_inserts`) and `case_insensitive_like` (the feed's category
//! filter). Everything else is the same on both: the statements, the upsert
//! rules ([`upsert_outcome`]), the bulk plan ([`plan_batch`]) with its chunk
//! sizes ([`INSERT_ROWS`], [`LOOKUP_CHUNK`]), and the trending order, ranked
//! in Rust over the papers with a signal (votes, Hugging Face upvotes, stars
//! this week, a source rank; docs/RANKING.md).

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::embedding::embedding_hash;
use paperboy_core::ranking::{Candidate, age_hours, listed_at, trending_order};
use paperboy_core::text::title_key;
use paperboy_core::trending::{SignalInputs, score};
use paperboy_core::{FeedSort, Paper, PaperId};

use super::exec::{Query, Tx};
use super::rows::{Cells, PAPER_COLUMNS, PAPER_FROM, SUBMITTER_JOIN, row_to_paper, row_to_paper_at};
use super::{LOOKUP_CHUNK, SqlStore, parse_date, parse_ts, placeholders};
use crate::reads::DayRange;
use crate::{
    Audience, Catalog, Change, CommunityChange, CommunityKind, FeedPage, FeedQuery, PaperBatch, StoreError,
    StoredPaper, UpsertOutcome,
};

pub(crate) struct Existing {
    pub(crate) pk: i64,
    pub(crate) paper_id: String,
    pub(crate) version: Option<i64>,
    pub(crate) content_hash: i64,
    pub(crate) embed_hash: Option<i64>,
}

/// The row a local paper (?1: id, ?2: title key) is: anything with its id or title.
pub(crate) const FIND_LOCAL_SQL: &str = "SELECT pk, paper_id, version, content_hash, embed_hash FROM papers \
     WHERE paper_id = ?1 OR title_key = ?2 ORDER BY CASE WHEN paper_id = ?1 THEN 0 ELSE 1 END LIMIT 1";
/// The row an arXiv paper is: found by id, or a local paper of the same title it takes over.
pub(crate) const FIND_ARXIV_SQL: &str = "SELECT pk, paper_id, version, content_hash, embed_hash FROM papers \
     WHERE paper_id = ?1 OR (title_key = ?2 AND paper_id LIKE 'pb-%') \
     ORDER BY CASE WHEN paper_id = ?1 THEN 0 ELSE 1 END LIMIT 1";

pub(crate) fn categories_column(p: &Paper) -> String {
    if p.categories.is_empty() { " ".to_string() } else { format!(" {} ", p.categories.join(" ")) }
}

pub(crate) fn ts(d: Option<DateTime<Utc>>) -> Option<String> {
    d.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

pub(crate) const INSERT_SQL: &str = "INSERT INTO papers (paper_id, version, title, title_key, authors, abstract, \
     primary_category, categories, submitted_at, updated_at, comment, journal_ref, doi, code_url, project_url, \
     withdrawn, content_hash, listed_on, created_at, modified_at, embed_hash) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?19, ?20)";

/// Updates keep `listed_on` (?18 is bound but unused), `created_at`, votes and
/// every row that refers to `pk`: the paper keeps its day and its history.
/// `embed_hash` (?20) follows the title and abstract, so a changed text waits
/// for a new vector (`sql/embeddings.rs`).
pub(crate) const UPDATE_SQL: &str = "UPDATE papers SET paper_id = ?1, version = ?2, title = ?3, title_key = ?4, \
     authors = ?5, abstract = ?6, primary_category = ?7, categories = ?8, submitted_at = ?9, updated_at = ?10, \
     comment = ?11, journal_ref = ?12, doi = ?13, code_url = ?14, project_url = ?15, withdrawn = ?16, \
     content_hash = ?17, modified_at = ?19, embed_hash = ?20 WHERE pk = ?21 AND ?18 IS NOT NULL";

/// Appends one paper (?1) to the change feed, at ?2.
const RECORD_CHANGE_SQL: &str = "INSERT INTO paper_changes (paper_id, changed_at) VALUES (?1, ?2)";

/// What upserting `paper` (its id as text, its content fingerprint) does,
/// given the row `find_existing` matched: the upsert rules of [`Catalog`].
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

/// Rows per multi-row INSERT (20 columns each, well under SQLite's and
/// PostgreSQL's bind-parameter limits).
pub(crate) const INSERT_ROWS: usize = 100;

/// What the bulk lookups of `upsert_many` decide for each paper of a batch
/// (ids, title keys, fingerprints), given the fingerprints of the ids already
/// stored and the title keys already taken: `Some(Inserted)` for a new paper,
/// `Some(Unchanged)` for an identical one, `None` for the one-by-one path.
pub(crate) fn plan_batch(
    ids: &[String],
    keys: &[String],
    hashes: &[i64],
    known_hash: &HashMap<String, i64>,
    known_keys: &HashSet<String>,
) -> Vec<Option<UpsertOutcome>> {
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

/// Escapes LIKE wildcards typed by a user inside a `% ... %` pattern.
fn like_escape_pattern(pattern: &str) -> String {
    let inner = &pattern[1..pattern.len() - 1];
    let escaped = inner.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// Appends the WHERE clause of a feed query over papers `p` (portable SQL,
/// `?N` placeholders; `like` is the backend's ASCII-case-insensitive `LIKE`);
/// returns the values to bind, in order.
pub(crate) fn feed_filter(q: &FeedQuery, audience: Audience, like: &str, sql: &mut String) -> Vec<String> {
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
        sql.push_str(&format!(" AND p.categories {like} ?{} ESCAPE '\\'", binds.len()));
    }
    if q.has_code {
        sql.push_str(HAS_CODE);
    }
    binds
}

/// `?has_code=1`: a code link of its own, or a repository the signal jobs
/// linked (a live one: the summary leaves gone repositories out).
const HAS_CODE: &str = " AND (p.code_url IS NOT NULL OR EXISTS (SELECT 1 FROM paper_signals hc \
     WHERE hc.paper_pk = p.pk AND hc.github_repo IS NOT NULL))";

/// Over papers `p` with their summary `sg`: the paper has a signal the
/// trending order ranks by (votes, Hugging Face upvotes, stars this week,
/// a source rank). Papers without one follow in the `new` order.
const HAS_SIGNAL: &str = "(p.upvotes > 0 OR COALESCE(sg.hf_upvotes, 0) > 0 OR COALESCE(sg.stars_this_week, 0) > 0 \
     OR sg.source_rank IS NOT NULL)";

/// Over a summary `sg`: a signal of its own (Hugging Face upvotes, stars
/// this week, a source rank); [`HAS_SIGNAL`] is this or a local vote.
const SUMMARY_SIGNAL: &str =
    "(COALESCE(sg.hf_upvotes, 0) > 0 OR COALESCE(sg.stars_this_week, 0) > 0 OR sg.source_rank IS NOT NULL)";

/// The trending order of two scored candidates: higher score first; among
/// equal scores (0 for papers with only a source rank), a recorded rank
/// first, lower rank first; then [`trending_order`]'s ties (more votes, later
/// day, greater id).
fn signal_order(a: &(Candidate, f64, Option<i64>), b: &(Candidate, f64, Option<i64>)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1)
        .then_with(|| match (a.2, b.2) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
        .then_with(|| trending_order((&a.0, a.1), (&b.0, b.1)))
}

/// The `new` order, which also breaks every other order's ties.
pub(crate) const NEW_ORDER: &str = "p.listed_on DESC, p.paper_id DESC";

pub(crate) fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl SqlStore {
    /// The row `paper` (title key `key`) is, if any: by id, or by title
    /// (see [`FIND_LOCAL_SQL`] and [`FIND_ARXIV_SQL`]).
    pub(crate) async fn find_existing(
        tx: &mut Tx<'_>,
        paper: &Paper,
        key: &str,
    ) -> Result<Option<Existing>, sqlx::Error> {
        let id = paper.id.to_string();
        let sql = if paper.id.is_local() { FIND_LOCAL_SQL } else { FIND_ARXIV_SQL };
        let row = Query::new(sql).bind(&id).bind(key).fetch_optional(&mut *tx).await?;
        Ok(row.map(|r| Existing {
            pk: r.int(0),
            paper_id: r.text(1),
            version: r.opt_int(2),
            content_hash: r.int(3),
            embed_hash: r.opt_int(4),
        }))
    }

    /// One paper by the upsert rules, inside the caller's catalog
    /// transaction (from `begin_catalog_write`).
    pub(crate) async fn upsert_one(tx: &mut Tx<'_>, paper: &Paper, now: &str) -> Result<UpsertOutcome, sqlx::Error> {
        let key = title_key(&paper.title);
        let hash = paper.content_hash() as i64;
        let existing = Self::find_existing(tx, paper, &key).await?;
        let id = paper.id.to_string();
        let outcome = upsert_outcome(existing.as_ref(), paper, &id, hash);
        if outcome == UpsertOutcome::Unchanged {
            return Ok(outcome);
        }
        let authors = serde_json::to_string(&paper.authors).unwrap_or_else(|_| "[]".into());
        let embed_hash = embedding_hash(&paper.title, &paper.abstract_text) as i64;
        let sql = if existing.is_some() { UPDATE_SQL } else { INSERT_SQL };
        let mut q = Query::new(sql)
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
            .bind(now)
            .bind(embed_hash);
        let renamed_from = existing.as_ref().filter(|e| e.paper_id != id).map(|e| e.paper_id.clone());
        let waits_again = existing.as_ref().filter(|e| e.embed_hash != Some(embed_hash)).map(|e| e.pk);
        if let Some(e) = existing {
            q = q.bind(e.pk);
        }
        if let Some(pk) = waits_again {
            // Before the paper's row is written: vector stores lock the model's
            // row first and the paper's (a foreign-key check) second, so this
            // takes them in the same order (no deadlock with a merge on PostgreSQL).
            super::embeddings::waits_again(tx, pk).await?;
        }
        q.execute(&mut *tx).await?;
        if let Some(old) = renamed_from {
            Self::record_change(tx, &old, now).await?;
        }
        Self::record_change(tx, &id, now).await?;
        Ok(outcome)
    }

    /// Appends to the change feed, inside a transaction from
    /// `begin_catalog_write` (on PostgreSQL: holding the catalog lock).
    pub(crate) async fn record_change(tx: &mut Tx<'_>, paper_id: &str, now: &str) -> Result<(), sqlx::Error> {
        Query::new(RECORD_CHANGE_SQL).bind(paper_id).bind(now).execute(&mut *tx).await?;
        Ok(())
    }

    /// Appends to the community change feed, inside the transaction of the
    /// change it describes (any write transaction: no catalog lock).
    pub(crate) async fn record_community(
        tx: &mut Tx<'_>,
        kind: CommunityKind,
        paper_id: Option<&str>,
        user: Option<paperboy_core::UserId>,
    ) -> Result<(), sqlx::Error> {
        Query::new("INSERT INTO community_changes (kind, paper_id, user_id, changed_at) VALUES (?, ?, ?, ?)")
            .bind(kind.as_str())
            .bind(paper_id)
            .bind(user.map(|u| u.0))
            .bind(super::now_ts())
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// Upserts a batch with few round trips: what already exists is looked up in
    /// bulk, identical records are recognised from the bulk lookup, brand-new
    /// papers go in with multi-row INSERTs, and only the rest (updates, title
    /// matches, repeats within the batch) take the one-by-one path of
    /// `upsert_one`. Outcomes are the same as one-by-one upserts in order.
    /// The inserted papers' texts are moved out of `batch` (see `flush_inserts`).
    async fn upsert_many(
        &self,
        tx: &mut Tx<'_>,
        batch: &mut PaperBatch,
        now: &str,
    ) -> Result<Vec<UpsertOutcome>, sqlx::Error> {
        let (ids, keys, hashes) = (&batch.ids, &batch.keys, &batch.hashes);

        let mut known_hash: HashMap<String, i64> = HashMap::new();
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let sql =
                format!("SELECT paper_id, content_hash FROM papers WHERE paper_id IN ({})", placeholders(chunk.len()));
            let mut q = Query::new(sql);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&mut *tx).await? {
                known_hash.insert(row.text(0), row.int(1));
            }
        }
        let mut known_keys: HashSet<String> = HashSet::new();
        let unknown_keys: Vec<&String> =
            keys.iter().zip(ids).filter(|(_, id)| !known_hash.contains_key(*id)).map(|(k, _)| k).collect();
        for chunk in unknown_keys.chunks(LOOKUP_CHUNK) {
            let sql = format!("SELECT title_key FROM papers WHERE title_key IN ({})", placeholders(chunk.len()));
            let mut q = Query::new(sql);
            for k in chunk {
                q = q.bind(*k);
            }
            for row in q.fetch_all(&mut *tx).await? {
                known_keys.insert(row.text(0));
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
                    self.flush_inserts(tx, batch, &mut pending, now).await?;
                    outcomes.push(Self::upsert_one(tx, &batch.papers[i], now).await?);
                }
            }
        }
        self.flush_inserts(tx, batch, &mut pending, now).await?;
        Ok(outcomes)
    }

    /// Inserts the papers of `batch` at `pending` with multi-row INSERTs
    /// (`self.backend().bulk_insert()`, the columns of [`INSERT_SQL`]) and records
    /// their changes.
    ///
    /// Their texts are moved into the statements, which leaves those papers
    /// hollow: sqlx copies every borrowed value before it hands a statement to
    /// SQLite, and for an import that is every title and abstract once more.
    async fn flush_inserts(
        &self,
        tx: &mut Tx<'_>,
        batch: &mut PaperBatch,
        pending: &mut Vec<usize>,
        now: &str,
    ) -> Result<(), sqlx::Error> {
        use std::mem::take;
        for chunk in pending.chunks(INSERT_ROWS) {
            // Plain `?` placeholders: sqlx resolves numbered ones much more slowly
            // in long statements on SQLite (measured: 40 rows of ?NNN ran at half
            // the speed). PostgreSQL's executor numbers them, once per statement.
            let row = format!("({})", ["?"; 21].join(", "));
            let rows = vec![row; chunk.len()];
            let sql = format!(
                "{} INTO papers (paper_id, version, title, title_key, authors, abstract, primary_category, \
                 categories, submitted_at, updated_at, comment, journal_ref, doi, code_url, project_url, \
                 withdrawn, content_hash, listed_on, created_at, modified_at, embed_hash) VALUES {}",
                self.backend().bulk_insert(),
                rows.join(", ")
            );
            let mut q = Query::with_capacity(sql, chunk.len() * 21);
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
                    .bind(now)
                    .bind(batch.embed_hashes[i]);
                changed.push(id);
            }
            q.execute(&mut *tx).await?;
            let sql = format!(
                "{} INTO paper_changes (paper_id, changed_at) VALUES {}",
                self.backend().bulk_insert(),
                vec!["(?, ?)"; chunk.len()].join(", ")
            );
            let mut q = Query::new(sql);
            for id in changed {
                q = q.bind(id).bind(now);
            }
            q.execute(&mut *tx).await?;
        }
        pending.clear();
        Ok(())
    }

    /// One paper as `audience` sees it.
    pub(crate) async fn paper_as(&self, id: &PaperId, audience: Audience) -> Result<Option<StoredPaper>, StoreError> {
        crate::reads::paper(&id.to_string());
        let hidden = if audience == Audience::Public { " AND p.hidden_at IS NULL" } else { "" };
        let sql = format!("SELECT {PAPER_COLUMNS} FROM {PAPER_FROM} WHERE p.paper_id = ?1{hidden}");
        let row = Query::new(sql).bind(id.to_string()).fetch_optional(self.pool()).await?;
        row.as_ref().map(row_to_paper).transpose()
    }

    /// A feed page as `audience` sees it, `trending` ranked at `now`.
    ///
    /// `new` and `top` are ordered and paged by SQL. `trending` needs a power
    /// function that not every SQLite build has, so it is ranked in Rust with
    /// `paperboy_core::trending`, but only over the papers that have a
    /// signal: every paper without one scores 0 and ties in the `new` order,
    /// so those follow the ranked ones straight from SQL. `total` counts both.
    pub(crate) async fn feed_as(
        &self,
        query: &FeedQuery,
        audience: Audience,
        now: DateTime<Utc>,
    ) -> Result<FeedPage, StoreError> {
        let mut filter = String::new();
        let binds = feed_filter(query, audience, self.backend().case_insensitive_like(), &mut filter);
        let count_sql = format!("SELECT COUNT(*) FROM papers p{filter}");
        let mut count = Query::new(count_sql);
        for b in &binds {
            count = count.bind(b);
        }
        crate::reads::range(DayRange { from: query.from, until: query.until, by_votes: query.sort != FeedSort::New });
        let total = count.fetch_one(self.pool()).await?.int(0) as u64;
        let items = match query.sort {
            FeedSort::New => self.feed_page(&filter, &binds, NEW_ORDER, query.offset, query.limit).await?,
            FeedSort::Top => {
                let order = format!("p.upvotes DESC, {NEW_ORDER}");
                self.feed_page(&filter, &binds, &order, query.offset, query.limit).await?
            }
            FeedSort::Trending => self.trending_page(query, &filter, &binds, now).await?,
        };
        crate::reads::papers(items.iter().map(|i| &i.paper.id));
        Ok(FeedPage { items, total })
    }

    /// One page of papers matching `filter` (from [`feed_filter`]), in SQL `order`.
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
        let mut page = Query::new(sql);
        for b in binds {
            page = page.bind(b);
        }
        let rows = page.bind(i64::from(limit)).bind(i64::from(offset)).fetch_all(self.pool()).await?;
        rows.iter().map(row_to_paper).collect()
    }

    /// One page of the trending order (see `feed_as`): every paper with a
    /// signal ([`HAS_SIGNAL`]) scored with `paperboy_core::trending::score`
    /// and sorted by [`signal_order`], then the rest in the `new` order.
    async fn trending_page(
        &self,
        query: &FeedQuery,
        filter: &str,
        binds: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<StoredPaper>, StoreError> {
        // Two halves, so that neither visits every paper of the period with
        // its joins: the voted papers, found in the feed index (`papers_feed`,
        // which holds the votes), and the unvoted ones with a summary signal,
        // found from `paper_signals` (CROSS JOIN keeps SQLite from driving
        // the join from the papers; PostgreSQL plans it as an inner join).
        let columns = "p.paper_id, p.upvotes, p.listed_on, s.submitted_at, sg.hf_upvotes, sg.stars_this_week, \
             sg.source_rank";
        let sql = format!(
            "SELECT {columns} FROM papers p LEFT JOIN submissions s ON s.paper_pk = p.pk \
             LEFT JOIN paper_signals sg ON sg.paper_pk = p.pk{filter} AND p.upvotes > 0 \
             UNION ALL SELECT {columns} FROM paper_signals sg CROSS JOIN papers p \
             LEFT JOIN submissions s ON s.paper_pk = p.pk{filter} AND p.pk = sg.paper_pk AND p.upvotes <= 0 \
             AND {SUMMARY_SIGNAL}"
        );
        // Both halves name the same numbered placeholders.
        let mut q = Query::new(sql);
        for b in binds {
            q = q.bind(b);
        }
        let (ranking, weights) = (self.ranking(), self.signal_weights());
        let mut scored = Vec::new();
        for r in q.fetch_all(self.pool()).await? {
            let id = r.text(0);
            let day = r.text(2);
            let listed_on = parse_date(&day)
                .ok_or_else(|| StoreError::Corrupt { paper_id: id.clone(), why: format!("listed_on {day:?}") })?;
            let at = listed_at(listed_on, parse_ts(r.opt_text(3)));
            let inputs = SignalInputs {
                local_votes: r.int(1),
                hf_upvotes: r.opt_int(4).and_then(|n| u64::try_from(n).ok()),
                weekly_stars: r.opt_int(5),
                age_hours: age_hours(at, now),
                ..SignalInputs::default()
            };
            let total = score(&inputs, &weights, &ranking).total;
            scored.push((Candidate { id, votes: r.int(1), listed_on, listed_at: at }, total, r.opt_int(6)));
        }
        scored.sort_by(signal_order);
        let with_signal = scored.len();
        let (offset, limit) = (query.offset as usize, query.limit as usize);
        let ranked: Vec<String> = scored.into_iter().skip(offset).take(limit).map(|c| c.0.id).collect();
        let mut items = Vec::with_capacity(limit.min(1_000));
        for chunk in ranked.chunks(LOOKUP_CHUNK) {
            let sql =
                format!("SELECT {PAPER_COLUMNS} FROM {PAPER_FROM} WHERE p.paper_id IN ({})", placeholders(chunk.len()));
            let mut q = Query::new(sql);
            for id in chunk {
                q = q.bind(id);
            }
            let mut by_id = HashMap::new();
            for r in q.fetch_all(self.pool()).await? {
                let p = row_to_paper(&r)?;
                by_id.insert(p.paper.id.to_string(), p);
            }
            items.extend(chunk.iter().filter_map(|id| by_id.remove(id)));
        }
        // The rest of the page: papers without a signal, in the `new` order.
        let rest = limit - ranked.len();
        if rest > 0 {
            let skip = offset.saturating_sub(with_signal);
            let unranked = format!("{filter} AND NOT {HAS_SIGNAL}");
            let more = self.feed_page(&unranked, binds, NEW_ORDER, clamp_u32(skip), clamp_u32(rest)).await?;
            items.extend(more);
        }
        Ok(items)
    }
}

#[async_trait]
impl Catalog for SqlStore {
    async fn upsert_papers(&self, papers: &[Paper]) -> Result<Vec<UpsertOutcome>, StoreError> {
        self.upsert_batch(papers.iter().cloned().collect()).await
    }

    async fn upsert_batch(&self, mut batch: PaperBatch) -> Result<Vec<UpsertOutcome>, StoreError> {
        let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut tx = self.backend().begin_catalog_write().await?;
        let outcomes = self.upsert_many(&mut tx, &mut batch, &now).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn get_paper(&self, id: &PaperId) -> Result<Option<StoredPaper>, StoreError> {
        self.paper_as(id, Audience::Public).await
    }

    async fn feed(&self, query: &FeedQuery) -> Result<FeedPage, StoreError> {
        self.feed_as(query, Audience::Public, Utc::now()).await
    }

    async fn papers_by_ids(&self, ids: &[PaperId]) -> Result<Vec<StoredPaper>, StoreError> {
        crate::reads::papers(ids);
        let keys: Vec<String> = ids.iter().map(PaperId::to_string).collect();
        let mut by_id = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(LOOKUP_CHUNK) {
            let sql = format!(
                "SELECT {PAPER_COLUMNS} FROM {PAPER_FROM} WHERE p.paper_id IN ({}) AND p.hidden_at IS NULL",
                placeholders(chunk.len())
            );
            let mut q = Query::new(sql);
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(self.pool()).await? {
                let p = row_to_paper(&r)?;
                by_id.insert(p.paper.id.to_string(), p);
            }
        }
        // In the order asked for; an id asked for twice comes back once.
        Ok(keys.iter().filter_map(|k| by_id.remove(k)).collect())
    }

    async fn latest_listing_date(&self) -> Result<Option<NaiveDate>, StoreError> {
        let row = Query::new("SELECT MAX(listed_on) FROM papers").fetch_one(self.pool()).await?;
        Ok(row.opt_text(0).as_deref().and_then(parse_date))
    }

    async fn neighbour_dates(&self, day: NaiveDate) -> Result<(Option<NaiveDate>, Option<NaiveDate>), StoreError> {
        let d = day.format("%Y-%m-%d").to_string();
        let prev = Query::new("SELECT MAX(listed_on) FROM papers WHERE listed_on < ?1")
            .bind(&d)
            .fetch_one(self.pool())
            .await?
            .opt_text(0);
        let next = Query::new("SELECT MIN(listed_on) FROM papers WHERE listed_on > ?1")
            .bind(&d)
            .fetch_one(self.pool())
            .await?
            .opt_text(0);
        Ok((prev.as_deref().and_then(parse_date), next.as_deref().and_then(parse_date)))
    }

    async fn count_papers(&self) -> Result<u64, StoreError> {
        let n = Query::new("SELECT COUNT(*) FROM papers").fetch_one(self.pool()).await?.int(0);
        Ok(n as u64)
    }

    async fn changes_since(&self, after: u64, limit: u32) -> Result<Vec<Change>, StoreError> {
        let sql = format!(
            "SELECT c.seq, c.paper_id, p.pk IS NOT NULL AND p.hidden_at IS NULL, {PAPER_COLUMNS} \
             FROM paper_changes c LEFT JOIN papers p ON p.paper_id = c.paper_id {SUBMITTER_JOIN} \
             WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2"
        );
        let rows = Query::new(sql)
            .bind(i64::try_from(after).unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let seq = r.int(0);
            let raw_id = r.text(1);
            let paper_id = PaperId::parse(&raw_id)
                .map_err(|e| StoreError::Corrupt { paper_id: raw_id.clone(), why: e.to_string() })?;
            let paper = if r.flag(2) { Some(row_to_paper_at(r, 3)?.paper) } else { None };
            out.push(Change { seq: seq as u64, paper_id, paper });
        }
        Ok(out)
    }

    async fn last_change_seq(&self) -> Result<u64, StoreError> {
        let n = Query::new("SELECT MAX(seq) FROM paper_changes").fetch_one(self.pool()).await?.opt_int(0);
        Ok(n.unwrap_or(0) as u64)
    }

    async fn community_changes_since(&self, after: u64, limit: u32) -> Result<Vec<CommunityChange>, StoreError> {
        let rows = Query::new(
            "SELECT c.seq, c.kind, c.paper_id, p.listed_on, c.user_id FROM community_changes c \
             LEFT JOIN papers p ON p.paper_id = c.paper_id WHERE c.seq > ? ORDER BY c.seq LIMIT ?",
        )
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let seq = r.int(0);
            let label = format!("community change {seq}");
            let word = r.text(1);
            let kind = CommunityKind::parse(&word)
                .ok_or_else(|| StoreError::Corrupt { paper_id: label.clone(), why: format!("kind {word:?}") })?;
            let paper_id = match r.opt_text(2) {
                Some(raw) => {
                    Some(PaperId::parse(&raw).map_err(|e| StoreError::Corrupt { paper_id: raw, why: e.to_string() })?)
                }
                None => None,
            };
            let listed_on = r.opt_text(3).as_deref().and_then(parse_date);
            let user = r.opt_int(4).map(paperboy_core::UserId);
            out.push(CommunityChange { seq: seq as u64, kind, paper_id, listed_on, user });
        }
        Ok(out)
    }

    async fn last_community_seq(&self) -> Result<u64, StoreError> {
        let n = Query::new("SELECT MAX(seq) FROM community_changes").fetch_one(self.pool()).await?.opt_int(0);
        Ok(n.unwrap_or(0) as u64)
    }

    async fn sweep_community_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let n = Query::new("DELETE FROM community_changes WHERE changed_at < ?")
            .bind(super::fmt_ts(before))
            .execute(self.pool())
            .await?;
        Ok(n)
    }
}
