-- A member's own recommendation signals (issue 16, docs/RECOMMENDATIONS.md):
-- "not for me" marks, followed authors and categories, an imported library
-- (BibTeX or RIS entries), the secret of their private Atom feed, and what
-- their digest carries. Private: only the member's own pages read them.
-- Portable SQL as in 0001/0003: TEXT timestamps, RFC 3339 UTC with
-- milliseconds (fixed width, so byte order is time order); every table goes
-- with its member (ON DELETE CASCADE). Papers are referenced by their row
-- (`pk`), which survives updates and local-to-arXiv merges.

-- A paper the member does not want recommended; one row per pair, its time
-- the latest marking (the recommender weighs it against likes by time).
CREATE TABLE not_for_me (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_pk  INTEGER NOT NULL REFERENCES papers (pk),
    marked_at TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_pk)
);
CREATE INDEX not_for_me_recent ON not_for_me (user_id, marked_at);

-- Followed authors: the name as typed, and its key (lower case, runs of
-- whitespace collapsed to one space), unique per member. `id` keeps the
-- order in which they were followed.
CREATE TABLE followed_authors (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    followed_at TEXT NOT NULL,
    UNIQUE (user_id, name_key)
);

-- Followed arXiv categories (`cs.CL`, validated by the caller), in order.
CREATE TABLE followed_categories (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category    TEXT NOT NULL,
    followed_at TEXT NOT NULL,
    UNIQUE (user_id, category)
);

-- Imported library entries, as parsed, with the catalog paper each matched
-- (by arXiv id, DOI or title, `matched_by`) if any. `title_key` is
-- paperboy_core::text::title_key of the title, the same key as
-- papers.title_key; `authors` is a JSON array; `doi` is lower case.
CREATE TABLE library_entries (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    format     TEXT NOT NULL CHECK (format IN ('bibtex', 'ris')),
    cite_key   TEXT,
    title      TEXT NOT NULL,
    title_key  TEXT NOT NULL,
    abstract   TEXT,
    authors    TEXT NOT NULL,
    year       INTEGER,
    arxiv_id   TEXT,
    doi        TEXT,
    paper_pk   INTEGER REFERENCES papers (pk),
    matched_by TEXT CHECK (matched_by IN ('arxiv_id', 'doi', 'title')),
    added_at   TEXT NOT NULL
);
CREATE INDEX library_entries_user ON library_entries (user_id, added_at);

-- The private recommendations feed: one secret per member, only its SHA-256
-- hash (hex); rotating replaces the row, which revokes the old secret.
CREATE TABLE feed_secrets (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

-- What a digest carries; `recommended` and `both` only for a subscription
-- linked to a member (the store refuses them otherwise).
ALTER TABLE subscribers ADD COLUMN content TEXT NOT NULL DEFAULT 'trending'
    CHECK (content IN ('trending', 'recommended', 'both'));

-- Library matching looks catalog papers up by DOI without regard to case:
-- the store lower-cases the entry's DOI in Rust and compares it with
-- lower(doi). SQLite's lower() folds ASCII letters only, PostgreSQL's folds
-- every letter its locale knows; DOIs are ASCII in practice (Crossref and
-- DataCite mint ASCII), so both backends agree on them. Titles need no index
-- of their own: papers.title_key (0001) is already the normalised title.
CREATE INDEX papers_doi_lower ON papers (lower(doi));
