-- Rate-limit rows get an id, so that an attempt can be counted before the
-- password is checked (a reservation, taken atomically against the limit)
-- and taken back by id when it succeeds. A row is an attempt counted under
-- its key: one in flight, one that failed, or, for limits on every attempt
-- (sign-ups, subscribe requests), one that was made. `failed_at` keeps its
-- name: it is when the attempt was counted. Rows from 0006 are kept.
CREATE TABLE rate_limit_attempts (
    id        TEXT PRIMARY KEY,     -- random hex digits
    key       TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
INSERT INTO rate_limit_attempts (id, key, failed_at)
    SELECT lower(hex(randomblob(16))), key, failed_at FROM rate_limit_failures;
DROP TABLE rate_limit_failures;
ALTER TABLE rate_limit_attempts RENAME TO rate_limit_failures;
CREATE INDEX rate_limit_failures_key ON rate_limit_failures (key, failed_at);
CREATE INDEX rate_limit_failures_at ON rate_limit_failures (failed_at);
