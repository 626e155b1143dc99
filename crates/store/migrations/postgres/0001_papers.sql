-- The paper catalog, as migrations/sqlite/0001 for PostgreSQL: the same
-- columns, names and text formats (ISO 8601 dates and timestamps as TEXT, JSON
-- arrays as TEXT, space-padded categories), so that both backends run the
-- same queries. Differences: BIGSERIAL keys, BIGINT integers (what SQLite's
-- INTEGER decodes to), BOOLEAN flags, and COLLATE "C" on text that is sorted
-- or compared, so that order is byte order whatever the database's locale.
CREATE TABLE papers (
    pk               BIGSERIAL PRIMARY KEY,
    paper_id         TEXT COLLATE "C" NOT NULL UNIQUE,
    version          BIGINT,
    title            TEXT NOT NULL,
    title_key        TEXT COLLATE "C" NOT NULL,
    authors          TEXT NOT NULL,
    abstract         TEXT NOT NULL,
    primary_category TEXT,
    categories       TEXT NOT NULL,
    submitted_at     TEXT COLLATE "C",
    updated_at       TEXT COLLATE "C",
    listed_on        TEXT COLLATE "C" NOT NULL,
    comment          TEXT,
    journal_ref      TEXT,
    doi              TEXT,
    code_url         TEXT,
    project_url      TEXT,
    withdrawn        BOOLEAN NOT NULL DEFAULT FALSE,
    upvotes          BIGINT NOT NULL DEFAULT 0,
    content_hash     BIGINT NOT NULL,
    created_at       TEXT COLLATE "C" NOT NULL,
    modified_at      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX papers_listed_on ON papers (listed_on, paper_id);
CREATE INDEX papers_title_key ON papers (title_key);
