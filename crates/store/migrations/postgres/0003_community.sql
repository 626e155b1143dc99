-- Members and what they do, as migrations/sqlite/0003 for PostgreSQL: the
-- same tables, columns and text formats (RFC 3339 UTC timestamps with
-- milliseconds, fixed width, so they compare as text). Differences: BIGSERIAL
-- and BIGINT for ids, BOOLEAN for is_admin, COLLATE "C" on timestamps (byte
-- order is time order whatever the database's locale). Secrets are never
-- stored, only their SHA-256 hashes in hex.

-- An admin hides a paper: it leaves feeds, lookups and search for the public.
ALTER TABLE papers ADD COLUMN hidden_at TEXT COLLATE "C";

CREATE TABLE users (
    id                BIGSERIAL PRIMARY KEY,
    username          TEXT NOT NULL,
    username_key      TEXT NOT NULL UNIQUE,  -- lowercase: names are unique ignoring case
    email             TEXT NOT NULL,
    email_key         TEXT NOT NULL UNIQUE,  -- lowercase address
    password_hash     TEXT NOT NULL,         -- argon2id, PHC string
    is_admin          BOOLEAN NOT NULL DEFAULT FALSE,
    email_verified_at TEXT COLLATE "C",
    suspended_at      TEXT COLLATE "C",
    created_at        TEXT COLLATE "C" NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT COLLATE "C" NOT NULL,
    last_used_at TEXT COLLATE "C",
    revoked_at   TEXT COLLATE "C"
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify', 'reset')),
    email_key  TEXT NOT NULL,  -- the address a verification link was sent to
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,
    used_at    TEXT COLLATE "C"
);
CREATE INDEX email_tokens_user ON email_tokens (user_id);
CREATE INDEX email_tokens_expires ON email_tokens (expires_at);

-- One vote per member per paper; papers.upvotes counts these rows and is
-- changed in the same transaction as they are (with the paper row locked).
CREATE TABLE votes (
    user_id    BIGINT NOT NULL REFERENCES users (id),  -- no cascade: the counter must follow
    paper_pk   BIGINT NOT NULL REFERENCES papers (pk),
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, paper_pk)
);
CREATE INDEX votes_paper ON votes (paper_pk);

-- Who put a paper on the feed, and when (its listing time for ranking).
CREATE TABLE submissions (
    paper_pk     BIGINT PRIMARY KEY REFERENCES papers (pk),
    user_id      BIGINT NOT NULL REFERENCES users (id),
    submitted_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX submissions_user ON submissions (user_id, submitted_at);

CREATE TABLE comments (
    id         BIGSERIAL PRIMARY KEY,
    paper_pk   BIGINT NOT NULL REFERENCES papers (pk),
    user_id    BIGINT NOT NULL REFERENCES users (id),
    parent_id  BIGINT REFERENCES comments (id),  -- one level: the parent has none
    body       TEXT NOT NULL,                    -- Markdown source, as written
    created_at TEXT COLLATE "C" NOT NULL,
    edited_at  TEXT COLLATE "C",
    deleted_at TEXT COLLATE "C",
    hidden_at  TEXT COLLATE "C"
);
CREATE INDEX comments_paper ON comments (paper_pk, id);
CREATE INDEX comments_user ON comments (user_id);

CREATE TABLE reading_list (
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_pk BIGINT NOT NULL REFERENCES papers (pk),
    added_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, paper_pk)
);
