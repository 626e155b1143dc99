-- Email digests: subscribers, their saved searches, and the outbox.
-- Portable SQL as in 0001/0003: RFC 3339 UTC text timestamps (fixed width,
-- so they compare as text), 0/1 flags, no SQLite-only functions.

-- Anyone may subscribe with an address (double opt-in: `confirmed_at` is set
-- by the signed link in the confirmation mail); a member's subscription is
-- linked to the account. `categories` is space-padded like papers.categories.
CREATE TABLE subscribers (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL,
    email_key       TEXT NOT NULL UNIQUE,  -- lowercase address
    user_id         INTEGER UNIQUE REFERENCES users (id) ON DELETE SET NULL,
    frequency       TEXT NOT NULL DEFAULT 'daily' CHECK (frequency IN ('daily', 'weekly')),
    categories      TEXT NOT NULL DEFAULT ' ',
    created_at      TEXT NOT NULL,
    confirmed_at    TEXT,
    unsubscribed_at TEXT,
    paused_at       TEXT,                  -- set when mails keep bouncing
    bounces         INTEGER NOT NULL DEFAULT 0  -- consecutive permanent failures
);

CREATE TABLE saved_searches (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    query         TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX saved_searches_subscriber ON saved_searches (subscriber_id);

-- One row per mail, with the whole rendered message, inserted before any
-- attempt to send it. UNIQUE (subscriber, kind, period) is what makes a
-- digest built and sent at most once (docs/EMAIL.md).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    subscriber_id   INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('confirm', 'daily', 'weekly')),
    period_key      TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    message         TEXT NOT NULL,           -- RFC 5322, 7-bit
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_owner     TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    UNIQUE (subscriber_id, kind, period_key)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
