-- Harvest runs, as migrations/sqlite/0005 for PostgreSQL: one row per
-- `paperboy harvest` (or scheduled harvest) run, with its counts and, as its
-- checkpoint, the resumption token of the next page to fetch. The same
-- columns and text formats (RFC 3339 UTC timestamps with milliseconds, days
-- as YYYY-MM-DD; absent arguments are '' rather than NULL so that runs
-- compare with `=`). Differences: BIGSERIAL and BIGINT for ids, COLLATE "C"
-- on timestamps (byte order is time order whatever the database's locale).
CREATE TABLE harvest_runs (
    id                 BIGSERIAL PRIMARY KEY,
    started_by         TEXT NOT NULL,           -- 'manual' or 'schedule'
    base_url           TEXT NOT NULL,
    metadata_prefix    TEXT NOT NULL,           -- 'arXiv' or 'arXivRaw'
    set_spec           TEXT NOT NULL DEFAULT '',
    from_day           TEXT NOT NULL DEFAULT '',
    until_day          TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL,           -- running, completed, failed, interrupted
    started_at         TEXT COLLATE "C" NOT NULL,
    updated_at         TEXT COLLATE "C" NOT NULL,
    finished_at        TEXT COLLATE "C",
    resumed_from       BIGINT REFERENCES harvest_runs (id),
    start_token        TEXT,                    -- the token this run started from (a resumed run)
    next_token         TEXT,                    -- checkpoint: the next page to fetch; NULL when none
    pages              BIGINT NOT NULL DEFAULT 0,
    records            BIGINT NOT NULL DEFAULT 0,
    inserted           BIGINT NOT NULL DEFAULT 0,
    updated            BIGINT NOT NULL DEFAULT 0,
    unchanged          BIGINT NOT NULL DEFAULT 0,
    filtered           BIGINT NOT NULL DEFAULT 0, -- outside the configured categories
    deleted            BIGINT NOT NULL DEFAULT 0, -- deleted upstream
    rejected           BIGINT NOT NULL DEFAULT 0, -- unreadable records
    errors             BIGINT NOT NULL DEFAULT 0,
    complete_list_size BIGINT,
    last_error         TEXT
);
CREATE INDEX harvest_runs_args ON harvest_runs (base_url, metadata_prefix, set_spec, from_day, until_day, id);
CREATE INDEX harvest_runs_status ON harvest_runs (status, id);
