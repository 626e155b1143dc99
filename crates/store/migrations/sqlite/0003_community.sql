-- Members and what they do: accounts, sessions, API tokens, one-time email
-- links, votes, submissions, comments, reading lists, and hidden papers.
-- Portable SQL as in 0001: TEXT timestamps in RFC 3339 UTC with milliseconds
-- (fixed width, so they compare as text), 0/1 integers for flags. Secrets are
-- never stored, only their SHA-256 hashes in hex. Papers are referenced by
-- their row (`pk`), which survives updates and local-to-arXiv merges.

-- An admin hides a paper: it leaves feeds, lookups and search for the public.
ALTER TABLE papers ADD COLUMN hidden_at TEXT;

CREATE TABLE users (
    id                INTEGER PRIMARY KEY,
    username          TEXT NOT NULL,
    username_key      TEXT NOT NULL UNIQUE,  -- lowercase: names are unique ignoring case
    email             TEXT NOT NULL,
    email_key         TEXT NOT NULL UNIQUE,  -- lowercase address
    password_hash     TEXT NOT NULL,         -- argon2id, PHC string
    is_admin          INTEGER NOT NULL DEFAULT 0,
    email_verified_at TEXT,
    suspended_at      TEXT,
    created_at        TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify', 'reset')),
    email_key  TEXT NOT NULL,  -- the address a verification link was sent to
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX email_tokens_user ON email_tokens (user_id);
CREATE INDEX email_tokens_expires ON email_tokens (expires_at);

-- One vote per member per paper; papers.upvotes counts these rows and is
-- changed in the same transaction as they are.
CREATE TABLE votes (
    user_id    INTEGER NOT NULL REFERENCES users (id),  -- no cascade: the counter must follow
    paper_pk   INTEGER NOT NULL REFERENCES papers (pk),
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_pk)
);
CREATE INDEX votes_paper ON votes (paper_pk);

-- Who put a paper on the feed, and when (its listing time for ranking).
CREATE TABLE submissions (
    paper_pk     INTEGER PRIMARY KEY REFERENCES papers (pk),
    user_id      INTEGER NOT NULL REFERENCES users (id),
    submitted_at TEXT NOT NULL
);
CREATE INDEX submissions_user ON submissions (user_id, submitted_at);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    paper_pk   INTEGER NOT NULL REFERENCES papers (pk),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    parent_id  INTEGER REFERENCES comments (id),  -- one level: the parent has none
    body       TEXT NOT NULL,                     -- Markdown source, as written
    created_at TEXT NOT NULL,
    edited_at  TEXT,
    deleted_at TEXT,
    hidden_at  TEXT
);
CREATE INDEX comments_paper ON comments (paper_pk, id);
CREATE INDEX comments_user ON comments (user_id);

CREATE TABLE reading_list (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_pk INTEGER NOT NULL REFERENCES papers (pk),
    added_at TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_pk)
);
