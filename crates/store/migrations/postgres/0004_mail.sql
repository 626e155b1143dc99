-- Email digests, as migrations/sqlite/0004 for PostgreSQL: subscribers, their
-- saved searches, and the outbox, with the same tables, columns and text
-- formats (RFC 3339 UTC timestamps with milliseconds, fixed width, so they
-- compare as text). Differences: BIGSERIAL and BIGINT for ids and counters,
-- COLLATE "C" on timestamps (byte order is time order whatever the
-- database's locale), which claims compare and order by.

-- Anyone may subscribe with an address (double opt-in: `confirmed_at` is set
-- by the signed link in the confirmation mail); a member's subscription is
-- linked to the account. `categories` is space-padded like papers.categories.
CREATE TABLE subscribers (
    id              BIGSERIAL PRIMARY KEY,
    email           TEXT NOT NULL,
    email_key       TEXT NOT NULL UNIQUE,  -- lowercase address
    user_id         BIGINT UNIQUE REFERENCES users (id) ON DELETE SET NULL,
    frequency       TEXT NOT NULL DEFAULT 'daily' CHECK (frequency IN ('daily', 'weekly')),
    categories      TEXT NOT NULL DEFAULT ' ',
    created_at      TEXT COLLATE "C" NOT NULL,
    confirmed_at    TEXT COLLATE "C",
    unsubscribed_at TEXT COLLATE "C",
    paused_at       TEXT COLLATE "C",      -- set when mails keep bouncing
    bounces         BIGINT NOT NULL DEFAULT 0  -- consecutive permanent failures
);

CREATE TABLE saved_searches (
    id            BIGSERIAL PRIMARY KEY,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    query         TEXT NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL
);
CREATE INDEX saved_searches_subscriber ON saved_searches (subscriber_id);

-- One row per mail, with the whole rendered message, inserted before any
-- attempt to send it. UNIQUE (subscriber, kind, period) is what makes a
-- digest built and sent at most once (docs/EMAIL.md).
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    subscriber_id   BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('confirm', 'daily', 'weekly')),
    period_key      TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    message         TEXT NOT NULL,           -- RFC 5322, 7-bit
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT COLLATE "C" NOT NULL,
    lease_owner     TEXT,
    lease_until     TEXT COLLATE "C",
    last_error      TEXT,
    created_at      TEXT COLLATE "C" NOT NULL,
    sent_at         TEXT COLLATE "C",
    UNIQUE (subscriber_id, kind, period_key)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
