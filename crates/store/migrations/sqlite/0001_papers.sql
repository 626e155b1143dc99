-- The paper catalog. Portable SQL: TEXT dates in ISO 8601, JSON arrays as TEXT,
-- categories as a space-padded list (' cs.LG cs.AI ') so that LIKE '% cs.LG %'
-- matches primary and cross-lists alike on any SQL database.
CREATE TABLE papers (
    pk               INTEGER PRIMARY KEY,
    paper_id         TEXT NOT NULL UNIQUE,
    version          INTEGER,
    title            TEXT NOT NULL,
    title_key        TEXT NOT NULL,
    authors          TEXT NOT NULL,
    abstract         TEXT NOT NULL,
    primary_category TEXT,
    categories       TEXT NOT NULL,
    submitted_at     TEXT,
    updated_at       TEXT,
    listed_on        TEXT NOT NULL,
    comment          TEXT,
    journal_ref      TEXT,
    doi              TEXT,
    code_url         TEXT,
    project_url      TEXT,
    withdrawn        INTEGER NOT NULL DEFAULT 0,
    upvotes          INTEGER NOT NULL DEFAULT 0,
    content_hash     BIGINT NOT NULL,
    created_at       TEXT NOT NULL,
    modified_at      TEXT NOT NULL
);
CREATE INDEX papers_listed_on ON papers (listed_on, paper_id);
CREATE INDEX papers_title_key ON papers (title_key);
