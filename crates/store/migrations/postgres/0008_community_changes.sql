-- The community change feed, as migrations/sqlite/0008. Unlike paper_changes,
-- writers take no advisory lock (votes and comments from every server run
-- at once), so a BIGSERIAL number can become visible after a higher one:
-- followers do not treat "everything after my watermark" as complete, they
-- wait a while for the numbers they have not seen yet
-- (paperboy_services::jobs::cache_follow::Cursor).
CREATE TABLE community_changes (
    seq        BIGSERIAL PRIMARY KEY,
    kind       TEXT COLLATE "C" NOT NULL,
    paper_id   TEXT COLLATE "C",
    user_id    BIGINT,
    changed_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX community_changes_at ON community_changes (changed_at);
