//! [`Interests`] in portable SQL (migration 0010): a member's own
//! recommendation signals ("not for me" marks, followed authors and
//! categories, the imported library and what it matched in the catalog) and
//! the secret of their private feed.
//!
//! What the backends supply (see [`Backend`](super::backend::Backend)):
//! `begin_read` (the profile's statements see one snapshot) and
//! `begin_write`. Writes that check a limit (following, importing) start
//! with a no-op update of the member's row ([`HOLD_MEMBER`]): on SQLite it
//! takes the write lock before anything is counted, on PostgreSQL it locks
//! the member's row (at the strength of an update that changes no key, which
//! foreign-key checks never wait for), so one member's concurrent writes take
//! turns and each counts the others' rows; it also finds out whether the
//! member exists.
//!
//! Hidden papers are never matched, listed or returned: a library entry
//! whose paper was hidden after it matched counts through its own text again.
//!
//! Library matching (arXiv id, then DOI, then title) looks each kind of key
//! up for the whole upload at once, in chunks of [`LOOKUP_CHUNK`]; a key that
//! several catalog papers share goes to the oldest row. "Case-insensitive":
//! titles are compared by `paperboy_core::text::title_key` (computed in Rust
//! for both sides, `papers.title_key` on the catalog side), so case folding
//! there is Rust's full Unicode lower-casing on both backends; DOIs are
//! lower-cased in Rust and compared with SQL's `lower(doi)` (indexed), which
//! folds ASCII letters on SQLite and every letter PostgreSQL's locale knows,
//! the same for the ASCII DOIs registries mint.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::text::{normalize_ws, title_key};
use paperboy_core::{CoreError, PaperId, UserId};

use super::exec::{Query, Tx};
use super::rows::{
    Cells, PAPER_COLUMNS, PAPER_FIELD_COUNT, PAPER_FIELDS, SUBMITTER_JOIN, corrupt, paper_at, row_to_paper,
};
use super::{LOOKUP_CHUNK, SqlStore, fmt_ts, parse_ts, placeholders};
use crate::secret::{hash, random_hex};
use crate::{
    InterestKind, InterestProfile, Interests, LibraryEntry, LibraryFormat, LibraryImport, LibraryText, LikeSource,
    LikedPaper, MAX_FOLLOWS, MAX_LIBRARY_ENTRIES, NewLibraryEntry, Secret, StoreError, StoredPaper,
};

/// Run first in a write that checks a limit; no row: no such member.
const HOLD_MEMBER: &str = "UPDATE users SET id = id WHERE id = ?";

/// The member's liked papers, at most `limit` ([`PAPER_FIELDS`], source,
/// time): one row per visible paper with its latest like (upvote, save or
/// matched library entry; at the same time, the first source by name), the
/// most recent `limit` (ties: higher paper id first). The likes are narrowed
/// down on small rows (`k`) before the papers are read in full; the rows
/// come in no particular order. Binds: user, limit.
static LIKED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {PAPER_FIELDS}, k.source, k.at FROM (SELECT paper_pk, source, at FROM (\
         SELECT l.paper_pk, l.source, l.at, p0.paper_id, \
         ROW_NUMBER() OVER (PARTITION BY l.paper_pk ORDER BY l.at DESC, l.source) AS n FROM (\
         SELECT paper_pk, 'upvote' AS source, created_at AS at FROM votes WHERE user_id = ?1 \
         UNION ALL SELECT paper_pk, 'reading_list', added_at FROM reading_list WHERE user_id = ?1 \
         UNION ALL SELECT paper_pk, 'library', added_at FROM library_entries WHERE user_id = ?1 \
         AND paper_pk IS NOT NULL) l JOIN papers p0 ON p0.pk = l.paper_pk WHERE p0.hidden_at IS NULL) w \
         WHERE n = 1 ORDER BY at DESC, paper_id DESC LIMIT ?2) k JOIN papers p ON p.pk = k.paper_pk"
    )
});

/// Library entries that count through their own text: unmatched, or
/// matched to a paper hidden since. Binds: user, limit.
const LIBRARY_TEXTS: &str = "SELECT e.id, e.title, e.abstract, e.authors FROM library_entries e \
     LEFT JOIN papers p ON p.pk = e.paper_pk WHERE e.user_id = ? AND (e.paper_pk IS NULL OR p.hidden_at IS NOT NULL) \
     ORDER BY e.added_at DESC, e.id LIMIT ?";

/// The member's "not for me" papers, most recent first, with when
/// ([`PAPER_COLUMNS`], time). Binds: user, limit, offset.
static NOT_FOR_ME: LazyLock<String> = LazyLock::new(|| with_paper_columns(NOT_FOR_ME_TEMPLATE));
const NOT_FOR_ME_TEMPLATE: &str = "SELECT {PAPER_COLUMNS}, n.marked_at FROM not_for_me n \
     JOIN papers p ON p.pk = n.paper_pk {SUBMITTER_JOIN} WHERE n.user_id = ? AND p.hidden_at IS NULL \
     ORDER BY n.marked_at DESC, p.paper_id DESC LIMIT ? OFFSET ?";

/// [`NOT_FOR_ME`] with the paper's own fields only ([`PAPER_FIELDS`], time),
/// for the profile. Binds: user, limit.
static NOT_FOR_ME_FIELDS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {PAPER_FIELDS}, n.marked_at FROM not_for_me n JOIN papers p ON p.pk = n.paper_pk \
         WHERE n.user_id = ? AND p.hidden_at IS NULL ORDER BY n.marked_at DESC, p.paper_id DESC LIMIT ?"
    )
});

/// Fills in the paper columns and joins of a statement template.
fn with_paper_columns(template: &str) -> String {
    template.replace("{PAPER_COLUMNS}", PAPER_COLUMNS).replace("{SUBMITTER_JOIN}", SUBMITTER_JOIN)
}

/// Marks a visible paper, or marks it again now. Binds: user, at, paper id.
const MARK_NOT_FOR_ME: &str = "INSERT INTO not_for_me (user_id, paper_pk, marked_at) \
     SELECT ?, pk, ? FROM papers WHERE paper_id = ? AND hidden_at IS NULL \
     ON CONFLICT (user_id, paper_pk) DO UPDATE SET marked_at = excluded.marked_at";

const UNMARK_NOT_FOR_ME: &str =
    "DELETE FROM not_for_me WHERE user_id = ? AND paper_pk = (SELECT pk FROM papers WHERE paper_id = ?)";

const FOLLOW_AUTHOR: &str = "INSERT INTO followed_authors (user_id, name, name_key, followed_at) \
     VALUES (?, ?, ?, ?) ON CONFLICT (user_id, name_key) DO NOTHING";
const UNFOLLOW_AUTHOR: &str = "DELETE FROM followed_authors WHERE user_id = ? AND name_key = ?";
const COUNT_AUTHORS: &str = "SELECT COUNT(*) FROM followed_authors WHERE user_id = ?";
const AUTHORS: &str = "SELECT name FROM followed_authors WHERE user_id = ? ORDER BY id LIMIT ?";

const FOLLOW_CATEGORY: &str = "INSERT INTO followed_categories (user_id, category, followed_at) \
     VALUES (?, ?, ?) ON CONFLICT (user_id, category) DO NOTHING";
const UNFOLLOW_CATEGORY: &str = "DELETE FROM followed_categories WHERE user_id = ? AND category = ?";
const COUNT_CATEGORIES: &str = "SELECT COUNT(*) FROM followed_categories WHERE user_id = ?";
const CATEGORIES: &str = "SELECT category FROM followed_categories WHERE user_id = ? ORDER BY id LIMIT ?";

/// The keys a member's library already has, for spotting duplicates.
const LIBRARY_KEYS: &str = "SELECT arxiv_id, doi, title_key FROM library_entries WHERE user_id = ?";

/// Columns of one library entry, as [`LIBRARY_INSERT_ROW`] binds them.
const LIBRARY_INSERT_COLUMNS: &str = "user_id, format, cite_key, title, title_key, abstract, authors, year, \
     arxiv_id, doi, paper_pk, matched_by, added_at";
const LIBRARY_INSERT_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/// Entries per insert statement (13 values each).
const LIBRARY_INSERT_CHUNK: usize = 200;

/// Binds: user, limit, offset.
const LIBRARY: &str = "SELECT e.id, e.format, e.cite_key, e.title, e.abstract, e.authors, e.year, e.arxiv_id, \
     e.doi, p.paper_id, e.matched_by, e.added_at FROM library_entries e \
     LEFT JOIN papers p ON p.pk = e.paper_pk AND p.hidden_at IS NULL \
     WHERE e.user_id = ? ORDER BY e.added_at DESC, e.id LIMIT ? OFFSET ?";

/// Binds: hash, created, user.
const SET_FEED_SECRET: &str = "INSERT INTO feed_secrets (user_id, secret_hash, created_at) \
     SELECT id, ?, ? FROM users WHERE id = ? \
     ON CONFLICT (user_id) DO UPDATE SET secret_hash = excluded.secret_hash, created_at = excluded.created_at";

const FEED_SECRET_USER: &str = "SELECT f.user_id FROM feed_secrets f JOIN users u ON u.id = f.user_id \
     WHERE f.secret_hash = ? AND u.suspended_at IS NULL";

/// The longest followed author name, in characters.
const MAX_AUTHOR_CHARS: usize = 200;
/// The longest category name, in characters.
const MAX_CATEGORY_CHARS: usize = 64;

/// The key a followed author is compared by: lower case, runs of
/// whitespace as one space, no space at either end.
fn author_key(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// A DOI as the library compares it: lower case (ASCII; see the module
/// documentation), without a resolver prefix; `None` when nothing is left.
fn doi_key(doi: &str) -> Option<String> {
    let lower = doi.trim().to_ascii_lowercase();
    let bare = ["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .unwrap_or(&lower)
        .trim();
    (!bare.is_empty()).then(|| bare.to_string())
}

/// The arXiv id of an arXiv-minted DOI (`10.48550/arxiv.2401.01234`).
fn arxiv_of_doi(doi: &str) -> Option<String> {
    let rest = doi.strip_prefix("10.48550/arxiv.")?;
    PaperId::parse(rest).ok().filter(|id| !id.is_local()).map(|id| id.to_string())
}

/// One library entry on its way into the table.
struct Prepared {
    key: Option<String>,
    title: String,
    title_key: String,
    abstract_text: Option<String>,
    authors: String,
    year: Option<i64>,
    /// The arXiv id the entry names.
    arxiv_id: Option<String>,
    doi: Option<String>,
    /// The arXiv id of an arXiv-minted DOI.
    doi_arxiv: Option<String>,
    paper_pk: Option<i64>,
    matched_by: Option<&'static str>,
}

impl Prepared {
    fn of(e: &NewLibraryEntry) -> Prepared {
        let title = normalize_ws(&e.title);
        let authors: Vec<String> = e.authors.iter().map(|a| normalize_ws(a)).filter(|a| !a.is_empty()).collect();
        let doi = e.doi.as_deref().and_then(doi_key);
        Prepared {
            key: e.key.as_deref().map(str::trim).filter(|k| !k.is_empty()).map(str::to_string),
            title_key: title_key(&title),
            title,
            abstract_text: e.abstract_text.as_deref().map(normalize_ws).filter(|a| !a.is_empty()),
            // A list of strings always serialises.
            authors: serde_json::to_string(&authors).unwrap_or_else(|_| "[]".into()),
            year: e.year.map(i64::from),
            arxiv_id: e.arxiv_id.as_ref().map(PaperId::to_string),
            doi_arxiv: doi.as_deref().and_then(arxiv_of_doi),
            doi,
            paper_pk: None,
            matched_by: None,
        }
    }
}

/// The keys of the entries a library has (or is about to have): an entry
/// that shares its arXiv id, DOI or title key with one of them is a duplicate.
#[derive(Default)]
struct LibraryKeys {
    arxiv: HashSet<String>,
    doi: HashSet<String>,
    title: HashSet<String>,
}

impl LibraryKeys {
    fn contains(&self, arxiv: [Option<&str>; 2], doi: Option<&str>, title_key: &str) -> bool {
        arxiv.iter().flatten().any(|a| self.arxiv.contains(*a))
            || doi.is_some_and(|d| self.doi.contains(d))
            || (!title_key.is_empty() && self.title.contains(title_key))
    }

    fn add(&mut self, arxiv: [Option<&str>; 2], doi: Option<&str>, title_key: &str) {
        self.arxiv.extend(arxiv.iter().flatten().map(|a| a.to_string()));
        self.doi.extend(doi.map(str::to_string));
        if !title_key.is_empty() {
            self.title.insert(title_key.to_string());
        }
    }
}

/// Looks `keys` up in chunks with `sql` (`{}` is the placeholder list; rows
/// are `(key, pk)` in `pk` order); the first (oldest) row of each key wins.
async fn lookup_pks(tx: &mut Tx<'_>, sql: &str, keys: &HashSet<&str>) -> Result<HashMap<String, i64>, StoreError> {
    let keys: Vec<&str> = keys.iter().copied().collect();
    let mut found = HashMap::new();
    for chunk in keys.chunks(LOOKUP_CHUNK) {
        let mut q = Query::with_capacity(sql.replace("{}", &placeholders(chunk.len())), chunk.len());
        for k in chunk {
            q = q.bind(*k);
        }
        for r in q.fetch_all(&mut *tx).await? {
            found.entry(r.text(0)).or_insert(r.int(1));
        }
    }
    Ok(found)
}

fn empty_text(what: &'static str) -> StoreError {
    StoreError::Invalid(CoreError::BadText { what, why: "it is empty" })
}

impl SqlStore {
    /// Inserts one follow (`insert`, bound by the caller) unless the member
    /// would then follow more than [`MAX_FOLLOWS`] of its kind (`count`
    /// binds the user): then nothing is stored.
    async fn insert_follow(
        &self,
        user: UserId,
        insert: Query<'_>,
        count: &'static str,
        what: &'static str,
    ) -> Result<(), StoreError> {
        let mut tx = self.backend().begin_write().await?;
        if Query::new(HOLD_MEMBER).bind(user.0).execute(&mut tx).await? == 0 {
            return Err(StoreError::UserNotFound(user));
        }
        if insert.execute(&mut tx).await? > 0 {
            let n = Query::new(count).bind(user.0).fetch_one(&mut tx).await?.int(0);
            if n as usize > MAX_FOLLOWS {
                tx.rollback().await?;
                return Err(StoreError::TooMany { what, max: MAX_FOLLOWS });
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Matches `entries` to visible catalog papers, in place: arXiv id, then
    /// DOI (the catalog's DOI, or the arXiv id of an arXiv DOI), then title.
    async fn match_entries(tx: &mut Tx<'_>, entries: &mut [Prepared]) -> Result<(), StoreError> {
        let ids: HashSet<&str> =
            entries.iter().flat_map(|e| [e.arxiv_id.as_deref(), e.doi_arxiv.as_deref()]).flatten().collect();
        let dois: HashSet<&str> = entries.iter().filter_map(|e| e.doi.as_deref()).collect();
        let titles: HashSet<&str> = entries.iter().map(|e| e.title_key.as_str()).filter(|k| !k.is_empty()).collect();
        let by_id = lookup_pks(
            tx,
            "SELECT paper_id, pk FROM papers WHERE hidden_at IS NULL AND paper_id IN ({}) ORDER BY pk",
            &ids,
        )
        .await?;
        let by_doi = lookup_pks(
            tx,
            "SELECT lower(doi), pk FROM papers WHERE hidden_at IS NULL AND lower(doi) IN ({}) ORDER BY pk",
            &dois,
        )
        .await?;
        let by_title = lookup_pks(
            tx,
            "SELECT title_key, pk FROM papers WHERE hidden_at IS NULL AND title_key IN ({}) ORDER BY pk",
            &titles,
        )
        .await?;
        for e in entries {
            let found = |map: &HashMap<String, i64>, key: Option<&str>| key.and_then(|k| map.get(k).copied());
            let matched = found(&by_id, e.arxiv_id.as_deref())
                .map(|pk| (pk, "arxiv_id"))
                .or_else(|| found(&by_doi, e.doi.as_deref()).map(|pk| (pk, "doi")))
                .or_else(|| found(&by_id, e.doi_arxiv.as_deref()).map(|pk| (pk, "doi")))
                .or_else(|| found(&by_title, Some(e.title_key.as_str())).map(|pk| (pk, "title")));
            if let Some((pk, how)) = matched {
                e.paper_pk = Some(pk);
                e.matched_by = Some(how);
            }
        }
        Ok(())
    }

    /// Inserts prepared entries in multi-row statements.
    async fn insert_entries(
        &self,
        tx: &mut Tx<'_>,
        user: UserId,
        format: LibraryFormat,
        entries: &[Prepared],
        added_at: &str,
    ) -> Result<(), StoreError> {
        for chunk in entries.chunks(LIBRARY_INSERT_CHUNK) {
            let rows = vec![LIBRARY_INSERT_ROW; chunk.len()].join(", ");
            let sql = format!(
                "{} INTO library_entries ({LIBRARY_INSERT_COLUMNS}) VALUES {rows}",
                self.backend().bulk_insert()
            );
            let mut q = Query::with_capacity(sql, chunk.len() * 13);
            for e in chunk {
                q = q
                    .bind(user.0)
                    .bind(format.as_str())
                    .bind(&e.key)
                    .bind(&e.title)
                    .bind(&e.title_key)
                    .bind(&e.abstract_text)
                    .bind(&e.authors)
                    .bind(e.year)
                    .bind(&e.arxiv_id)
                    .bind(&e.doi)
                    .bind(e.paper_pk)
                    .bind(e.matched_by)
                    .bind(added_at);
            }
            q.execute(&mut *tx).await?;
        }
        Ok(())
    }
}

/// Reads a stored JSON list of author names.
fn authors_of(json: &str, what: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(json).map_err(|e| corrupt(what, format!("authors: {e}")))
}

fn like_source(s: &str) -> Option<LikeSource> {
    match s {
        "upvote" => Some(LikeSource::Upvote),
        "reading_list" => Some(LikeSource::ReadingList),
        "library" => Some(LikeSource::Library),
        _ => None,
    }
}

fn library_format(s: &str) -> Option<LibraryFormat> {
    match s {
        "bibtex" => Some(LibraryFormat::Bibtex),
        "ris" => Some(LibraryFormat::Ris),
        _ => None,
    }
}

#[async_trait]
impl Interests for SqlStore {
    async fn interest_profile(&self, user: UserId, limit: u32) -> Result<InterestProfile, StoreError> {
        let limit = i64::from(limit);
        let mut tx = self.backend().begin_read().await?;

        let rows = Query::new(LIKED.as_str()).bind(user.0).bind(limit).fetch_all(&mut tx).await?;
        let mut liked = Vec::with_capacity(rows.len());
        for r in &rows {
            let paper = paper_at(r, 0)?;
            let label = paper.id.to_string();
            let source =
                like_source(&r.text(PAPER_FIELD_COUNT)).ok_or_else(|| corrupt(&label, "like source".into()))?;
            let at = parse_ts(r.opt_text(PAPER_FIELD_COUNT + 1)).ok_or_else(|| corrupt(&label, "liked at".into()))?;
            liked.push(LikedPaper { paper, source, at });
        }
        // The statement's order is lost in its last join.
        liked.sort_by_cached_key(|l| (Reverse(l.at), Reverse(l.paper.id.to_string())));

        let rows = Query::new(LIBRARY_TEXTS).bind(user.0).bind(limit).fetch_all(&mut tx).await?;
        let mut library_texts = Vec::with_capacity(rows.len());
        for r in &rows {
            let entry = r.int(0);
            library_texts.push(LibraryText {
                entry,
                title: r.text(1),
                abstract_text: r.opt_text(2).unwrap_or_default(),
                authors: authors_of(&r.text(3), &format!("library entry {entry}"))?,
            });
        }

        let rows = Query::new(NOT_FOR_ME_FIELDS.as_str()).bind(user.0).bind(limit).fetch_all(&mut tx).await?;
        let mut not_for_me = Vec::with_capacity(rows.len());
        for r in &rows {
            let paper = paper_at(r, 0)?;
            let at = parse_ts(r.opt_text(PAPER_FIELD_COUNT))
                .ok_or_else(|| corrupt(&paper.id.to_string(), "not for me at".into()))?;
            not_for_me.push((paper, at));
        }

        let authors = Query::new(AUTHORS).bind(user.0).bind(limit).fetch_all(&mut tx).await?;
        let categories = Query::new(CATEGORIES).bind(user.0).bind(limit).fetch_all(&mut tx).await?;
        tx.commit().await?;
        Ok(InterestProfile {
            liked,
            library_texts,
            not_for_me,
            authors: authors.iter().map(|r| r.text(0)).collect(),
            categories: categories.iter().map(|r| r.text(0)).collect(),
        })
    }

    async fn set_not_for_me(
        &self,
        user: UserId,
        paper: &PaperId,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = paper.to_string();
        let changed = if on {
            let done = Query::new(MARK_NOT_FOR_ME).bind(user.0).bind(fmt_ts(now)).bind(&id).execute(self.pool()).await;
            match done {
                Err(e) if e.as_database_error().is_some_and(|d| d.is_foreign_key_violation()) => {
                    return Err(StoreError::UserNotFound(user));
                }
                other => other?,
            }
        } else {
            Query::new(UNMARK_NOT_FOR_ME).bind(user.0).bind(&id).execute(self.pool()).await?
        };
        if changed == 0 {
            let visible = Query::new("SELECT COUNT(*) FROM papers WHERE paper_id = ? AND hidden_at IS NULL")
                .bind(&id)
                .fetch_one(self.pool())
                .await?
                .int(0);
            if visible == 0 {
                return Err(StoreError::PaperNotFound { paper_id: id });
            }
        }
        Ok(())
    }

    async fn not_for_me_papers(&self, user: UserId, limit: u32, offset: u32) -> Result<Vec<StoredPaper>, StoreError> {
        let rows = Query::new(NOT_FOR_ME.as_str())
            .bind(user.0)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(self.pool())
            .await?;
        let papers = rows.iter().map(row_to_paper).collect::<Result<Vec<_>, _>>()?;
        crate::reads::papers(papers.iter().map(|p| &p.paper.id));
        Ok(papers)
    }

    async fn not_for_me_among(&self, user: UserId, papers: &[PaperId]) -> Result<Vec<PaperId>, StoreError> {
        let ids: Vec<String> = papers.iter().map(PaperId::to_string).collect();
        let mut found = HashSet::new();
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let sql = format!(
                "SELECT p.paper_id FROM not_for_me n JOIN papers p ON p.pk = n.paper_pk \
                 WHERE n.user_id = ? AND p.paper_id IN ({})",
                placeholders(chunk.len())
            );
            let mut q = Query::with_capacity(sql, chunk.len() + 1).bind(user.0);
            for id in chunk {
                q = q.bind(id);
            }
            found.extend(q.fetch_all(self.pool()).await?.iter().map(|r| r.text(0)));
        }
        Ok(papers.iter().zip(&ids).filter(|(_, id)| found.contains(*id)).map(|(p, _)| p.clone()).collect())
    }

    async fn follow_author(&self, user: UserId, name: &str, on: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
        let name = normalize_ws(name);
        if name.is_empty() {
            return Err(empty_text("author name"));
        }
        if name.chars().count() > MAX_AUTHOR_CHARS {
            return Err(StoreError::Invalid(CoreError::BadText {
                what: "author name",
                why: "it is longer than 200 characters",
            }));
        }
        let key = author_key(&name);
        if !on {
            Query::new(UNFOLLOW_AUTHOR).bind(user.0).bind(&key).execute(self.pool()).await?;
            return Ok(());
        }
        let insert = Query::new(FOLLOW_AUTHOR).bind(user.0).bind(&name).bind(&key).bind(fmt_ts(now));
        self.insert_follow(user, insert, COUNT_AUTHORS, "followed authors").await
    }

    async fn follow_category(
        &self,
        user: UserId,
        category: &str,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let category = category.trim();
        if category.is_empty() {
            return Err(empty_text("category"));
        }
        if category.chars().count() > MAX_CATEGORY_CHARS {
            return Err(StoreError::Invalid(CoreError::BadText {
                what: "category",
                why: "it is longer than 64 characters",
            }));
        }
        if !on {
            Query::new(UNFOLLOW_CATEGORY).bind(user.0).bind(category).execute(self.pool()).await?;
            return Ok(());
        }
        let insert = Query::new(FOLLOW_CATEGORY).bind(user.0).bind(category).bind(fmt_ts(now));
        self.insert_follow(user, insert, COUNT_CATEGORIES, "followed categories").await
    }

    async fn import_library(
        &self,
        user: UserId,
        format: LibraryFormat,
        entries: &[NewLibraryEntry],
        now: DateTime<Utc>,
    ) -> Result<LibraryImport, StoreError> {
        let mut tx = self.backend().begin_write().await?;
        if Query::new(HOLD_MEMBER).bind(user.0).execute(&mut tx).await? == 0 {
            return Err(StoreError::UserNotFound(user));
        }
        let stored = Query::new(LIBRARY_KEYS).bind(user.0).fetch_all(&mut tx).await?;
        let mut keys = LibraryKeys::default();
        for r in &stored {
            let doi = r.opt_text(1);
            let doi_arxiv = doi.as_deref().and_then(arxiv_of_doi);
            keys.add([r.opt_text(0).as_deref(), doi_arxiv.as_deref()], doi.as_deref(), &r.text(2));
        }

        let mut fresh = Vec::with_capacity(entries.len());
        let mut duplicates = 0u32;
        for e in entries {
            let p = Prepared::of(e);
            let arxiv = [p.arxiv_id.as_deref(), p.doi_arxiv.as_deref()];
            if keys.contains(arxiv, p.doi.as_deref(), &p.title_key) {
                duplicates += 1;
                continue;
            }
            keys.add(arxiv, p.doi.as_deref(), &p.title_key);
            fresh.push(p);
        }
        if stored.len() + fresh.len() > MAX_LIBRARY_ENTRIES {
            tx.rollback().await?;
            return Err(StoreError::TooMany { what: "library entries", max: MAX_LIBRARY_ENTRIES });
        }

        Self::match_entries(&mut tx, &mut fresh).await?;
        self.insert_entries(&mut tx, user, format, &fresh, &fmt_ts(now)).await?;
        tx.commit().await?;
        Ok(LibraryImport {
            added: fresh.len() as u32,
            matched: fresh.iter().filter(|e| e.paper_pk.is_some()).count() as u32,
            duplicates,
        })
    }

    async fn library(&self, user: UserId, limit: u32, offset: u32) -> Result<Vec<LibraryEntry>, StoreError> {
        let rows = Query::new(LIBRARY)
            .bind(user.0)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let id = r.int(0);
                let label = format!("library entry {id}");
                let paper = match r.opt_text(9) {
                    Some(p) => Some(PaperId::parse(&p).map_err(|e| corrupt(&label, e.to_string()))?),
                    None => None,
                };
                Ok(LibraryEntry {
                    id,
                    format: library_format(&r.text(1)).ok_or_else(|| corrupt(&label, "format".into()))?,
                    key: r.opt_text(2),
                    title: r.text(3),
                    abstract_text: r.opt_text(4),
                    authors: authors_of(&r.text(5), &label)?,
                    year: r.opt_int(6).and_then(|y| i32::try_from(y).ok()),
                    arxiv_id: r.opt_text(7),
                    doi: r.opt_text(8),
                    // A paper hidden since it matched is no match any more.
                    matched_by: paper.as_ref().and(r.opt_text(10)),
                    paper,
                    added_at: parse_ts(r.opt_text(11)).ok_or_else(|| corrupt(&label, "added_at".into()))?,
                })
            })
            .collect()
    }

    async fn remove_library_entry(&self, user: UserId, entry: i64) -> Result<bool, StoreError> {
        let n = Query::new("DELETE FROM library_entries WHERE id = ? AND user_id = ?")
            .bind(entry)
            .bind(user.0)
            .execute(self.pool())
            .await?;
        Ok(n > 0)
    }

    async fn clear_interests(&self, user: UserId, kind: InterestKind) -> Result<(), StoreError> {
        const NOT_FOR_ME: &str = "DELETE FROM not_for_me WHERE user_id = ?";
        const AUTHORS: &str = "DELETE FROM followed_authors WHERE user_id = ?";
        const CATEGORIES: &str = "DELETE FROM followed_categories WHERE user_id = ?";
        const LIBRARY: &str = "DELETE FROM library_entries WHERE user_id = ?";
        let statements: &[&'static str] = match kind {
            InterestKind::NotForMe => &[NOT_FOR_ME],
            InterestKind::Authors => &[AUTHORS],
            InterestKind::Categories => &[CATEGORIES],
            InterestKind::Library => &[LIBRARY],
            InterestKind::Everything => &[NOT_FOR_ME, AUTHORS, CATEGORIES, LIBRARY],
        };
        let mut tx = self.backend().begin_write().await?;
        for sql in statements {
            Query::new(*sql).bind(user.0).execute(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn rotate_feed_secret(&self, user: UserId, now: DateTime<Utc>) -> Result<Secret, StoreError> {
        let secret = random_hex()?;
        let n =
            Query::new(SET_FEED_SECRET).bind(hash(&secret)).bind(fmt_ts(now)).bind(user.0).execute(self.pool()).await?;
        if n == 0 {
            return Err(StoreError::UserNotFound(user));
        }
        Ok(Secret(secret))
    }

    async fn has_feed_secret(&self, user: UserId) -> Result<bool, StoreError> {
        let n = Query::new("SELECT COUNT(*) FROM feed_secrets WHERE user_id = ?")
            .bind(user.0)
            .fetch_one(self.pool())
            .await?
            .int(0);
        Ok(n > 0)
    }

    async fn feed_secret_user(&self, secret: &str) -> Result<Option<UserId>, StoreError> {
        let row = Query::new(FEED_SECRET_USER).bind(hash(secret.trim())).fetch_optional(self.pool()).await?;
        Ok(row.map(|r| UserId(r.int(0))))
    }
}
