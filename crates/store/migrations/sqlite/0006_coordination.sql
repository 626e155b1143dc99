-- Coordination between Paperboy processes that share one database (several
-- servers on PostgreSQL, or a server and the CLI on one SQLite file).
-- Portable SQL as in 0001: TEXT timestamps, RFC 3339 UTC with milliseconds,
-- so that byte order is time order.

-- Leases: at most one holder per name (`harvest`, `digest`) at a time. A
-- holder renews its lease while it works; a lease past `expires_at` is free
-- for anyone to take, so a crashed holder blocks others only until then.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,      -- host, process id and a random suffix
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

-- Failed attempts (wrong passwords, sign-ups, subscription requests) per
-- rate-limit key (`ip:…`, `user:…`), shared by every server. Rows older than
-- the longest window are swept.
CREATE TABLE rate_limit_failures (
    key       TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX rate_limit_failures_key ON rate_limit_failures (key, failed_at);
CREATE INDEX rate_limit_failures_at ON rate_limit_failures (failed_at);

-- Secrets every server must agree on, such as the key that signs the links
-- in mails. The first process to need one creates it; the rest read it.
CREATE TABLE shared_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
