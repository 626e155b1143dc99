-- The change feed, as migrations/sqlite/0002. Sequence numbers come from a
-- BIGSERIAL; every writer that appends here holds the catalog's advisory lock
-- until it commits (src/postgres/mod.rs), so numbers become visible in order
-- and "everything after my watermark" never skips a late commit.
CREATE TABLE paper_changes (
    seq        BIGSERIAL PRIMARY KEY,
    paper_id   TEXT COLLATE "C" NOT NULL,
    changed_at TEXT COLLATE "C" NOT NULL
);
INSERT INTO paper_changes (paper_id, changed_at) SELECT paper_id, modified_at FROM papers ORDER BY pk;
