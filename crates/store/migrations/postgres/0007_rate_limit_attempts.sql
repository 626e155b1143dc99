-- Rate-limit rows get an id: as migrations/sqlite/0007, with COLLATE "C" on
-- the timestamp (byte order is time order whatever the locale). A row is an
-- attempt counted under its key (in flight, failed, or simply made), so an
-- attempt can be reserved before the password is checked and released by id
-- when it succeeds. Rows from 0006 are kept.
CREATE TABLE rate_limit_attempts (
    id        TEXT PRIMARY KEY,     -- random hex digits
    key       TEXT NOT NULL,
    failed_at TEXT COLLATE "C" NOT NULL
);
INSERT INTO rate_limit_attempts (id, key, failed_at)
    SELECT md5(random()::text || clock_timestamp()::text || key || failed_at), key, failed_at
    FROM rate_limit_failures;
DROP TABLE rate_limit_failures;
ALTER TABLE rate_limit_attempts RENAME TO rate_limit_failures;
CREATE INDEX rate_limit_failures_key ON rate_limit_failures (key, failed_at);
CREATE INDEX rate_limit_failures_at ON rate_limit_failures (failed_at);
