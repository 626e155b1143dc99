-- A member's own recommendation signals, as migrations/sqlite/0010 for
-- PostgreSQL: the same tables, columns and text formats (RFC 3339 UTC
-- timestamps with milliseconds). Differences: BIGSERIAL and BIGINT for ids,
-- COLLATE "C" on timestamps and keys (byte order whatever the database's
-- locale). Every table goes with its member (ON DELETE CASCADE).

-- A paper the member does not want recommended; one row per pair, its time
-- the latest marking (the recommender weighs it against likes by time).
CREATE TABLE not_for_me (
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_pk  BIGINT NOT NULL REFERENCES papers (pk),
    marked_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, paper_pk)
);
CREATE INDEX not_for_me_recent ON not_for_me (user_id, marked_at);

-- Followed authors: the name as typed, and its key (lower case, runs of
-- whitespace collapsed to one space), unique per member. `id` keeps the
-- order in which they were followed.
CREATE TABLE followed_authors (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    name_key    TEXT COLLATE "C" NOT NULL,
    followed_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (user_id, name_key)
);

-- Followed arXiv categories (`cs.CL`, validated by the caller), in order.
CREATE TABLE followed_categories (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category    TEXT NOT NULL,
    followed_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (user_id, category)
);

-- Imported library entries, as parsed, with the catalog paper each matched
-- (by arXiv id, DOI or title, `matched_by`) if any. `title_key` is
-- paperboy_core::text::title_key of the title, the same key as
-- papers.title_key; `authors` is a JSON array; `doi` is lower case.
CREATE TABLE library_entries (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    format     TEXT NOT NULL CHECK (format IN ('bibtex', 'ris')),
    cite_key   TEXT,
    title      TEXT NOT NULL,
    title_key  TEXT COLLATE "C" NOT NULL,
    abstract   TEXT,
    authors    TEXT NOT NULL,
    year       BIGINT,
    arxiv_id   TEXT COLLATE "C",
    doi        TEXT,
    paper_pk   BIGINT REFERENCES papers (pk),
    matched_by TEXT CHECK (matched_by IN ('arxiv_id', 'doi', 'title')),
    added_at   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX library_entries_user ON library_entries (user_id, added_at);

-- The private recommendations feed: one secret per member, only its SHA-256
-- hash (hex); rotating replaces the row, which revokes the old secret.
CREATE TABLE feed_secrets (
    user_id     BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  TEXT COLLATE "C" NOT NULL
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
