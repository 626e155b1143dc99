//! [`Signals`] in portable SQL (migration 0009): repositories, their star
//! series and paper links, Hugging Face counts, source ranks, fetch state,
//! and the per-paper summary (`paper_signals`) that every paper query joins.
//!
//! The summary is rewritten, in the same transaction, whenever something it
//! is made of changes for a paper ([`SqlStore::refresh_summaries`]), so that
//! reading a page of papers costs one LEFT JOIN on a primary key. Its rule:
//! the paper's repository is the one found in the most trusted place (code
//! link, then Hugging Face, then comment, then abstract), then the one with
//! the most stars this week, then the most stars; gone and renamed
//! repositories are left out (a rename's links move to the new name).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::PaperId;
use paperboy_core::ranking::{age_hours, listed_at};
use paperboy_core::trending::{CodeCandidate, rank_code_trending};

use super::catalog::{clamp_u32, feed_filter};
use super::exec::{Query, Row, Tx};
use super::rows::Cells;
use super::{SqlStore, fmt_ts, parse_date, parse_ts};
use crate::{
    Audience, Catalog, FeedPage, FeedQuery, HfSignal, RepoCensus, RepoCounts, RepoLink, RepoStatus, RepoUpdate,
    Repository, Signals, SourceState, StoreError,
};

/// Binds: key, full name, first seen, next fetch.
const INSERT_REPO: &str = "INSERT INTO repositories (repo_key, full_name, status, first_seen, next_fetch_at) \
     VALUES (?, ?, 'ok', ?, ?) ON CONFLICT (repo_key) DO NOTHING";

/// The columns [`row_to_repo`] reads, from `repositories`.
const REPO_COLUMNS: &str = "id, repo_key, full_name, status, renamed_to, etag, stars, forks, pushed_at, weekly_stars, \
     first_seen, last_fetched, next_fetch_at, last_error";

/// Binds: paper pk, repository id, source, linked at.
const INSERT_LINK: &str = "INSERT INTO paper_repositories (paper_pk, repo_id, source, linked_at) VALUES (?, ?, ?, ?) \
     ON CONFLICT (paper_pk, repo_id) DO NOTHING";

/// Binds: repository id, observed at, stars.
const INSERT_STARS: &str = "INSERT INTO repository_stars (repo_id, observed_at, stars) VALUES (?, ?, ?) ON CONFLICT (repo_id, observed_at) \
     DO NOTHING";

/// Binds: full name, etag, stars, forks, pushed at, weekly, fetched (now), next fetch, id.
const RECORD_FRESH: &str = "UPDATE repositories SET full_name = ?, status = 'ok', renamed_to = NULL, etag = ?, \
     stars = ?, forks = ?, pushed_at = ?, weekly_stars = ?, last_fetched = ?, next_fetch_at = ?, last_error = NULL \
     WHERE id = ?";

/// The summary of one paper (?1: its pk): best repository, Hugging Face, source rank.
const SUMMARY_REPO: &str = "SELECT r.full_name, r.stars, r.weekly_stars FROM paper_repositories pr \
     JOIN repositories r ON r.id = pr.repo_id WHERE pr.paper_pk = ? AND r.status = 'ok' \
     ORDER BY CASE pr.source WHEN 'code_link' THEN 0 WHEN 'huggingface' THEN 1 WHEN 'comment' THEN 2 ELSE 3 END, \
     COALESCE(r.weekly_stars, -1) DESC, COALESCE(r.stars, -1) DESC, r.repo_key LIMIT 1";

/// Binds: pk, repo, stars, weekly, upvotes, comments, page, rank, observed at.
const UPSERT_SUMMARY: &str = "INSERT INTO paper_signals (paper_pk, github_repo, github_stars, stars_this_week, \
     hf_upvotes, hf_comments, source_page, source_rank, observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (paper_pk) DO UPDATE SET github_repo = excluded.github_repo, github_stars = excluded.github_stars, \
     stars_this_week = excluded.stars_this_week, hf_upvotes = excluded.hf_upvotes, \
     hf_comments = excluded.hf_comments, source_page = excluded.source_page, source_rank = excluded.source_rank, \
     observed_at = excluded.observed_at";

/// Binds: source, last run, last ok, note, error, waiting until, why, cursor.
const SAVE_SOURCE: &str = "INSERT INTO signal_sources (source, last_run_at, last_ok_at, last_note, last_error, \
     waiting_until, waiting_why, link_cursor) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET \
     last_run_at = excluded.last_run_at, last_ok_at = excluded.last_ok_at, last_note = excluded.last_note, \
     last_error = excluded.last_error, waiting_until = excluded.waiting_until, waiting_why = excluded.waiting_why, \
     link_cursor = excluded.link_cursor";

/// How many renames a link follows before it gives up (a loop is corrupt data).
const MAX_RENAMES: usize = 8;

/// A repository's key: `owner/name` in lower case.
pub(crate) fn repo_key(full_name: &str) -> String {
    full_name.trim().to_ascii_lowercase()
}

fn count(n: Option<i64>) -> Option<u64> {
    n.and_then(|n| u64::try_from(n).ok())
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn corrupt(what: &str, why: String) -> StoreError {
    StoreError::Corrupt { paper_id: what.to_string(), why }
}

fn row_to_repo(r: &Row) -> Result<(i64, Repository), StoreError> {
    let key = r.text(1);
    let time = |i: usize, what: &str| {
        parse_ts(r.opt_text(i)).ok_or_else(|| corrupt(&format!("repository {key}"), format!("{what} unreadable")))
    };
    let status = match (r.text(3).as_str(), r.opt_text(4)) {
        ("gone", _) => RepoStatus::Gone,
        ("renamed", Some(to)) => RepoStatus::Renamed { to },
        ("ok", _) => RepoStatus::Ok,
        (other, _) => return Err(corrupt(&format!("repository {key}"), format!("status {other:?}"))),
    };
    let repo = Repository {
        full_name: r.text(2),
        status,
        etag: r.opt_text(5),
        stars: count(r.opt_int(6)),
        forks: count(r.opt_int(7)),
        pushed_at: parse_ts(r.opt_text(8)),
        weekly_stars: r.opt_int(9),
        first_seen: time(10, "first_seen")?,
        last_fetched: parse_ts(r.opt_text(11)),
        next_fetch_at: time(12, "next_fetch_at")?,
        last_error: r.opt_text(13),
        key,
    };
    Ok((r.int(0), repo))
}

impl SqlStore {
    /// The pk of a paper by id, inside `tx`.
    async fn paper_pk(tx: &mut Tx<'_>, paper: &PaperId) -> Result<Option<i64>, sqlx::Error> {
        let row = Query::new("SELECT pk FROM papers WHERE paper_id = ?")
            .bind(paper.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        Ok(row.map(|r| r.int(0)))
    }

    /// A repository row by key, inside `tx`.
    async fn repo_row(tx: &mut Tx<'_>, key: &str) -> Result<Option<(i64, Repository)>, StoreError> {
        let sql = format!("SELECT {REPO_COLUMNS} FROM repositories WHERE repo_key = ?");
        let row = Query::new(sql).bind(key).fetch_optional(&mut *tx).await?;
        row.as_ref().map(row_to_repo).transpose()
    }

    /// The row for `full_name`, created (due at `now`) if missing, with its
    /// renames followed.
    async fn ensure_repo(tx: &mut Tx<'_>, full_name: &str, now: &str) -> Result<(i64, Repository), StoreError> {
        let mut key = repo_key(full_name);
        Query::new(INSERT_REPO).bind(&key).bind(full_name.trim()).bind(now).bind(now).execute(&mut *tx).await?;
        for _ in 0..MAX_RENAMES {
            let (id, repo) = Self::repo_row(tx, &key)
                .await?
                .ok_or_else(|| corrupt(&format!("repository {key}"), "vanished while linking".into()))?;
            match &repo.status {
                RepoStatus::Renamed { to } => {
                    key = to.clone();
                    // The target normally exists (recorded with the rename).
                    Query::new(INSERT_REPO).bind(&key).bind(&key).bind(now).bind(now).execute(&mut *tx).await?;
                }
                _ => return Ok((id, repo)),
            }
        }
        Err(corrupt(&format!("repository {}", repo_key(full_name)), "renamed in a loop".into()))
    }

    /// Rewrites the `paper_signals` rows of papers `pks` from the tables
    /// they summarise (a paper with nothing left loses its row), inside `tx`.
    pub(crate) async fn refresh_summaries(tx: &mut Tx<'_>, pks: &[i64], now: &str) -> Result<(), sqlx::Error> {
        for &pk in pks {
            let repo = Query::new(SUMMARY_REPO).bind(pk).fetch_optional(&mut *tx).await?;
            let hf = Query::new("SELECT upvotes, comments, github_stars FROM hf_papers WHERE paper_pk = ?")
                .bind(pk)
                .fetch_optional(&mut *tx)
                .await?;
            let rank = Query::new("SELECT page, rank FROM paper_source_ranks WHERE paper_pk = ?")
                .bind(pk)
                .fetch_optional(&mut *tx)
                .await?;
            if repo.is_none() && hf.is_none() && rank.is_none() {
                Query::new("DELETE FROM paper_signals WHERE paper_pk = ?").bind(pk).execute(&mut *tx).await?;
                continue;
            }
            // Until GitHub is asked, Hugging Face's count of the stars stands in.
            let stars = repo.as_ref().and_then(|r| r.opt_int(1)).or_else(|| hf.as_ref().and_then(|h| h.opt_int(2)));
            let stars = if repo.is_some() { stars } else { None };
            Query::new(UPSERT_SUMMARY)
                .bind(pk)
                .bind(repo.as_ref().map(|r| r.text(0)))
                .bind(stars)
                .bind(repo.as_ref().and_then(|r| r.opt_int(2)))
                .bind(hf.as_ref().map(|h| h.int(0)))
                .bind(hf.as_ref().and_then(|h| h.opt_int(1)))
                .bind(rank.as_ref().map(|r| r.text(0)))
                .bind(rank.as_ref().map(|r| r.int(1)))
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }

    /// The papers that name repository `id`.
    async fn linked_papers(tx: &mut Tx<'_>, id: i64) -> Result<Vec<i64>, sqlx::Error> {
        let rows = Query::new("SELECT paper_pk FROM paper_repositories WHERE repo_id = ?")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
        Ok(rows.iter().map(|r| r.int(0)).collect())
    }

    /// Records a full answer for repository `id` at `now`.
    async fn record_counts(
        tx: &mut Tx<'_>,
        id: i64,
        counts: &RepoCounts,
        weekly: Option<i64>,
        next: DateTime<Utc>,
        now: &str,
    ) -> Result<(), sqlx::Error> {
        Query::new(RECORD_FRESH)
            .bind(counts.full_name.trim())
            .bind(counts.etag.clone())
            .bind(int(counts.stars))
            .bind(int(counts.forks))
            .bind(counts.pushed_at.map(fmt_ts))
            .bind(weekly)
            .bind(now)
            .bind(fmt_ts(next))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Query::new(INSERT_STARS).bind(id).bind(now).bind(int(counts.stars)).execute(&mut *tx).await?;
        Ok(())
    }

    /// Moves repository `old`'s links and star series to `new` and marks it
    /// renamed to `new_key`.
    async fn record_rename(tx: &mut Tx<'_>, old: i64, new: i64, new_key: &str, now: &str) -> Result<(), sqlx::Error> {
        Query::new(
            "INSERT INTO paper_repositories (paper_pk, repo_id, source, linked_at) \
             SELECT paper_pk, ?, source, linked_at FROM paper_repositories WHERE repo_id = ? \
             ON CONFLICT (paper_pk, repo_id) DO NOTHING",
        )
        .bind(new)
        .bind(old)
        .execute(&mut *tx)
        .await?;
        Query::new("DELETE FROM paper_repositories WHERE repo_id = ?").bind(old).execute(&mut *tx).await?;
        Query::new(
            "INSERT INTO repository_stars (repo_id, observed_at, stars) \
             SELECT ?, observed_at, stars FROM repository_stars WHERE repo_id = ? \
             ON CONFLICT (repo_id, observed_at) DO NOTHING",
        )
        .bind(new)
        .bind(old)
        .execute(&mut *tx)
        .await?;
        Query::new(
            "UPDATE repositories SET status = 'renamed', renamed_to = ?, etag = NULL, last_fetched = ?, \
             last_error = NULL WHERE id = ?",
        )
        .bind(new_key)
        .bind(now)
        .bind(old)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Candidates of the code-trending view at `now` (see [`Signals::code_trending`]).
    async fn code_candidates(&self, query: &FeedQuery, now: DateTime<Utc>) -> Result<Vec<CodeCandidate>, StoreError> {
        let max_age = self.code_trending_days();
        let mut filter = String::new();
        let unfiltered = FeedQuery { has_code: false, ..query.clone() };
        let mut binds = feed_filter(&unfiltered, Audience::Public, self.backend().case_insensitive_like(), &mut filter);
        // A day early in SQL; the exact age limit is rank_code_trending's.
        let oldest = (now - chrono::Duration::days(i64::from(max_age) + 1)).date_naive();
        binds.push(oldest.format("%Y-%m-%d").to_string());
        let sql = format!(
            "SELECT p.paper_id, p.listed_on, s.submitted_at, sg.stars_this_week, sg.github_stars FROM papers p \
             JOIN paper_signals sg ON sg.paper_pk = p.pk LEFT JOIN submissions s ON s.paper_pk = p.pk\
             {filter} AND sg.github_repo IS NOT NULL AND p.listed_on >= ?{}",
            binds.len()
        );
        let mut q = Query::new(sql);
        for b in &binds {
            q = q.bind(b);
        }
        let mut out = Vec::new();
        for r in q.fetch_all(self.pool()).await? {
            let id = r.text(0);
            let day = r.text(1);
            let listed_on = parse_date(&day).ok_or_else(|| corrupt(&id, format!("listed_on {day:?}")))?;
            let at = listed_at(listed_on, parse_ts(r.opt_text(2)));
            out.push(CodeCandidate {
                id,
                weekly_stars: r.opt_int(3),
                total_stars: count(r.opt_int(4)).unwrap_or(0),
                age_days: age_hours(at, now) / 24.0,
            });
        }
        Ok(rank_code_trending(out, max_age))
    }
}

#[async_trait]
impl Signals for SqlStore {
    async fn link_repositories(
        &self,
        paper: &PaperId,
        links: &[RepoLink],
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let now = fmt_ts(now);
        let mut tx = self.backend().begin_write().await?;
        let Some(pk) = Self::paper_pk(&mut tx, paper).await? else {
            return Ok(0);
        };
        let mut added = 0;
        for link in links {
            if link.full_name.trim().is_empty() {
                continue;
            }
            let (id, _) = Self::ensure_repo(&mut tx, &link.full_name, &now).await?;
            added += Query::new(INSERT_LINK)
                .bind(pk)
                .bind(id)
                .bind(link.source.as_str())
                .bind(&now)
                .execute(&mut tx)
                .await?;
        }
        if added > 0 {
            Self::refresh_summaries(&mut tx, &[pk], &now).await?;
        }
        tx.commit().await?;
        Ok(clamp_u32(added as usize))
    }

    async fn due_repositories(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Repository>, StoreError> {
        let sql = format!(
            "SELECT {REPO_COLUMNS} FROM repositories WHERE status = 'ok' AND next_fetch_at <= ? \
             ORDER BY next_fetch_at, id LIMIT ?"
        );
        let rows = Query::new(sql).bind(fmt_ts(now)).bind(i64::from(limit)).fetch_all(self.pool()).await?;
        rows.iter().map(|r| row_to_repo(r).map(|(_, repo)| repo)).collect()
    }

    async fn repository(&self, full_name: &str) -> Result<Option<Repository>, StoreError> {
        let sql = format!("SELECT {REPO_COLUMNS} FROM repositories WHERE repo_key = ?");
        let row = Query::new(sql).bind(repo_key(full_name)).fetch_optional(self.pool()).await?;
        Ok(row.as_ref().map(row_to_repo).transpose()?.map(|(_, repo)| repo))
    }

    async fn star_history(
        &self,
        full_name: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, u64)>, StoreError> {
        let key = repo_key(full_name);
        let since = fmt_ts(since);
        let sql = "SELECT o.observed_at, o.stars FROM repository_stars o JOIN repositories r ON r.id = o.repo_id \
             WHERE r.repo_key = ? AND o.observed_at >= ? ORDER BY o.observed_at";
        let mut rows = Query::new(sql).bind(&key).bind(&since).fetch_all(self.pool()).await?;
        let before = "SELECT o.observed_at, o.stars FROM repository_stars o JOIN repositories r ON r.id = o.repo_id \
             WHERE r.repo_key = ? AND o.observed_at < ? ORDER BY o.observed_at DESC LIMIT 1";
        if let Some(baseline) = Query::new(before).bind(&key).bind(&since).fetch_optional(self.pool()).await? {
            rows.insert(0, baseline);
        }
        rows.iter()
            .map(|r| {
                let at = parse_ts(r.opt_text(0))
                    .ok_or_else(|| corrupt(&format!("repository {key}"), "observed_at unreadable".into()))?;
                Ok((at, count(Some(r.int(1))).unwrap_or(0)))
            })
            .collect()
    }

    async fn record_repository(
        &self,
        full_name: &str,
        update: RepoUpdate,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = fmt_ts(now);
        let mut tx = self.backend().begin_write().await?;
        let key = repo_key(full_name);
        Query::new(INSERT_REPO).bind(&key).bind(full_name.trim()).bind(&now).bind(&now).execute(&mut tx).await?;
        let (id, _) = Self::repo_row(&mut tx, &key)
            .await?
            .ok_or_else(|| corrupt(&format!("repository {key}"), "vanished while recording".into()))?;
        let mut touched = Self::linked_papers(&mut tx, id).await?;
        match update {
            RepoUpdate::Fresh { counts, weekly_stars, next_fetch_at } => {
                Self::record_counts(&mut tx, id, &counts, weekly_stars, next_fetch_at, &now).await?;
            }
            RepoUpdate::Renamed { counts, weekly_stars, next_fetch_at } => {
                let new_key = repo_key(&counts.full_name);
                if new_key == key {
                    Self::record_counts(&mut tx, id, &counts, weekly_stars, next_fetch_at, &now).await?;
                } else {
                    let (new_id, _) = Self::ensure_repo(&mut tx, &counts.full_name, &now).await?;
                    Self::record_rename(&mut tx, id, new_id, &new_key, &now).await?;
                    Self::record_counts(&mut tx, new_id, &counts, weekly_stars, next_fetch_at, &now).await?;
                    touched.extend(Self::linked_papers(&mut tx, new_id).await?);
                }
            }
            RepoUpdate::NotModified { weekly_stars, next_fetch_at } => {
                Query::new(
                    "UPDATE repositories SET weekly_stars = ?, last_fetched = ?, next_fetch_at = ?, last_error = NULL \
                     WHERE id = ?",
                )
                .bind(weekly_stars)
                .bind(&now)
                .bind(fmt_ts(next_fetch_at))
                .bind(id)
                .execute(&mut tx)
                .await?;
                Query::new(
                    "INSERT INTO repository_stars (repo_id, observed_at, stars) SELECT id, ?, stars FROM repositories \
                     WHERE id = ? AND stars IS NOT NULL ON CONFLICT (repo_id, observed_at) DO NOTHING",
                )
                .bind(&now)
                .bind(id)
                .execute(&mut tx)
                .await?;
            }
            RepoUpdate::Gone => {
                Query::new(
                    "UPDATE repositories SET status = 'gone', etag = NULL, weekly_stars = NULL, last_fetched = ?, \
                     last_error = NULL WHERE id = ?",
                )
                .bind(&now)
                .bind(id)
                .execute(&mut tx)
                .await?;
            }
            RepoUpdate::Failed { error, next_fetch_at } => {
                Query::new("UPDATE repositories SET last_error = ?, next_fetch_at = ? WHERE id = ?")
                    .bind(error)
                    .bind(fmt_ts(next_fetch_at))
                    .bind(id)
                    .execute(&mut tx)
                    .await?;
            }
        }
        touched.sort_unstable();
        touched.dedup();
        Self::refresh_summaries(&mut tx, &touched, &now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_hf(&self, paper: &PaperId, signal: &HfSignal, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let now = fmt_ts(now);
        let mut tx = self.backend().begin_write().await?;
        let Some(pk) = Self::paper_pk(&mut tx, paper).await? else {
            return Ok(false);
        };
        let keywords = serde_json::to_string(&signal.ai_keywords).unwrap_or_else(|_| "[]".into());
        Query::new(
            "INSERT INTO hf_papers (paper_pk, upvotes, comments, github_repo, github_stars, project_page, ai_keywords, \
             observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (paper_pk) DO UPDATE SET \
             upvotes = excluded.upvotes, comments = excluded.comments, github_repo = excluded.github_repo, \
             github_stars = excluded.github_stars, project_page = excluded.project_page, \
             ai_keywords = excluded.ai_keywords, observed_at = excluded.observed_at",
        )
        .bind(pk)
        .bind(int(signal.upvotes))
        .bind(signal.comments.map(int))
        .bind(signal.github_repo.clone())
        .bind(signal.github_stars.map(int))
        .bind(signal.project_page.clone())
        .bind(keywords)
        .bind(&now)
        .execute(&mut tx)
        .await?;
        Self::refresh_summaries(&mut tx, &[pk], &now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn record_source_rank(
        &self,
        paper: &PaperId,
        page: &str,
        rank: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = fmt_ts(now);
        let mut tx = self.backend().begin_write().await?;
        let Some(pk) = Self::paper_pk(&mut tx, paper).await? else {
            return Ok(false);
        };
        Query::new(
            "INSERT INTO paper_source_ranks (paper_pk, page, rank, recorded_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (paper_pk) DO UPDATE SET page = excluded.page, rank = excluded.rank, \
             recorded_at = excluded.recorded_at",
        )
        .bind(pk)
        .bind(page)
        .bind(i64::from(rank))
        .bind(&now)
        .execute(&mut tx)
        .await?;
        Self::refresh_summaries(&mut tx, &[pk], &now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn source_state(&self, source: &str) -> Result<SourceState, StoreError> {
        let row = Query::new(
            "SELECT last_run_at, last_ok_at, last_note, last_error, waiting_until, waiting_why, link_cursor \
             FROM signal_sources WHERE source = ?",
        )
        .bind(source)
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            None => SourceState { source: source.to_string(), ..SourceState::default() },
            Some(r) => SourceState {
                source: source.to_string(),
                last_run_at: parse_ts(r.opt_text(0)),
                last_ok_at: parse_ts(r.opt_text(1)),
                last_note: r.opt_text(2),
                last_error: r.opt_text(3),
                waiting_until: parse_ts(r.opt_text(4)),
                waiting_why: r.opt_text(5),
                cursor: count(Some(r.int(6))).unwrap_or(0),
            },
        })
    }

    async fn save_source_state(&self, state: &SourceState) -> Result<(), StoreError> {
        Query::new(SAVE_SOURCE)
            .bind(state.source.as_str())
            .bind(state.last_run_at.map(fmt_ts))
            .bind(state.last_ok_at.map(fmt_ts))
            .bind(state.last_note.clone())
            .bind(state.last_error.clone())
            .bind(state.waiting_until.map(fmt_ts))
            .bind(state.waiting_why.clone())
            .bind(int(state.cursor))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn repo_census(&self, now: DateTime<Utc>) -> Result<RepoCensus, StoreError> {
        let r = Query::new(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN status = 'ok' AND next_fetch_at <= ? THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'ok' AND last_fetched IS NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'gone' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'renamed' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status = 'ok' AND last_error IS NOT NULL THEN 1 ELSE 0 END), 0) \
             FROM repositories",
        )
        .bind(fmt_ts(now))
        .fetch_one(self.pool())
        .await?;
        let hf = Query::new("SELECT COUNT(*) FROM hf_papers").fetch_one(self.pool()).await?.int(0);
        let n = |i: usize| count(Some(r.int(i))).unwrap_or(0);
        Ok(RepoCensus {
            total: n(0),
            due: n(1),
            never_fetched: n(2),
            gone: n(3),
            renamed: n(4),
            failing: n(5),
            hf_papers: count(Some(hf)).unwrap_or(0),
        })
    }

    async fn code_trending(&self, query: &FeedQuery) -> Result<FeedPage, StoreError> {
        let ranked = self.code_candidates(query, Utc::now()).await?;
        let total = ranked.len() as u64;
        let ids: Vec<PaperId> = ranked
            .into_iter()
            .skip(query.offset as usize)
            .take(query.limit as usize)
            .filter_map(|c| PaperId::parse(&c.id).ok())
            .collect();
        let items = self.papers_by_ids(&ids).await?;
        Ok(FeedPage { items, total })
    }
}
