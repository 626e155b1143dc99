-- A change feed: one row each time a paper is inserted, updated, merged or
-- removed, in commit order. Search indexes (and, later, other servers) follow
-- it by remembering the last sequence number they applied.
CREATE TABLE paper_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    paper_id   TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
-- Papers already in the catalog count as changed once, so that a new index
-- built from the feed sees them.
INSERT INTO paper_changes (paper_id, changed_at) SELECT paper_id, modified_at FROM papers ORDER BY pk;
