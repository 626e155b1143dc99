-- A second change feed, for what the catalog's paper_changes does not carry:
-- votes, comments (added, edited, deleted, hidden, shown), suspensions and roles.
-- Every server's response cache follows it and drops exactly the pages these
-- changes make stale: those showing the paper (`paper_id`), the feeds that
-- rank by votes around its day (`kind` 'vote'), and the member's profile
-- (`user_id`). A row is written in the same transaction as the change it
-- describes. Rows are only needed for a little while: followers poll a few
-- times a second, and old rows are swept.
CREATE TABLE community_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,      -- 'vote', 'comment' or 'member' (suspension, role)
    paper_id   TEXT,               -- the paper whose pages changed, if any
    user_id    INTEGER,            -- the member whose profile changed, if any
    changed_at TEXT NOT NULL
);
CREATE INDEX community_changes_at ON community_changes (changed_at);
