-- Papers' vectors in the database, computed once per deployment (issue 17).
-- As migrations/sqlite/0011 for PostgreSQL (BIGSERIAL key, BYTEA vectors,
-- COLLATE "C" on compared texts); portable otherwise: TEXT timestamps, BIGINT
-- hashes holding a u64 bit pattern, vectors as little-endian f32 bytes.

-- The fingerprint of the text a paper's vector is computed from
-- (`paperboy_core::embedding::embedding_hash(title, abstract)`), set by every
-- write of a paper's title or abstract. Rows from before this migration are
-- filled in by the store at open (in Rust, in batches: the hash is not SQL).
ALTER TABLE papers ADD COLUMN embed_hash BIGINT;
-- The "waiting" query walks visible papers in pk order with their hash
-- (covering, so it never reads a paper's texts) and anti-joins the vectors.
CREATE INDEX papers_embed ON papers (pk, embed_hash) WHERE hidden_at IS NULL;
-- Papers not backfilled yet (empty once the store has opened).
CREATE INDEX papers_embed_missing ON papers (pk) WHERE embed_hash IS NULL;

-- Every model a process has embedded with. `waiting_from` is a pk no paper
-- waiting for the model is below, so that the waiting query starts there
-- rather than at the oldest paper (at a million papers, walking every
-- embedded paper to find the few new ones took seconds): a claim moves it up
-- to its smallest live claim (or past the newest paper), and every write
-- that makes an older paper wait again moves it down (a changed title or
-- abstract, a merge, a paper shown again, the backfill). New papers need
-- nothing: catalog writers take turns, so a new pk is above every pk seen.
-- `last_seq` is the model's vector
-- feed: a store takes its numbers by adding to it, and that update is the
-- store transaction's first statement, so stores of one model take turns
-- (SQLite's write lock; a row lock on PostgreSQL) and feed numbers become
-- visible in increasing order.
CREATE TABLE embedding_models (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    dim           BIGINT NOT NULL,
    waiting_from  BIGINT NOT NULL DEFAULT 0,
    last_seq      BIGINT NOT NULL DEFAULT 0,
    registered_at TEXT NOT NULL,
    UNIQUE (name, fingerprint, dim)
);

-- The current vector of each paper per model: one row, replaced when the
-- paper is embedded again; `seq` is its newest position in the feed.
CREATE TABLE paper_embeddings (
    model_id  BIGINT NOT NULL REFERENCES embedding_models (id) ON DELETE CASCADE,
    paper_pk  BIGINT NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    text_hash BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    stored_at TEXT COLLATE "C" NOT NULL,
    vector    BYTEA NOT NULL,
    PRIMARY KEY (model_id, paper_pk)
);
-- The anti-join of the waiting query reads (model, paper, hash) from here alone.
CREATE INDEX paper_embeddings_current ON paper_embeddings (model_id, paper_pk, text_hash);
CREATE UNIQUE INDEX paper_embeddings_feed ON paper_embeddings (model_id, seq);
CREATE INDEX paper_embeddings_stored ON paper_embeddings (model_id, stored_at);

-- Live claims, one row per claimed paper: the primary key is what makes a
-- claim atomic (two claims of one paper cannot both insert or both take over
-- an expired row). A claim's rows share `claim`.
CREATE TABLE embedding_claims (
    model_id   BIGINT NOT NULL REFERENCES embedding_models (id) ON DELETE CASCADE,
    paper_pk   BIGINT NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    claim      TEXT COLLATE "C" NOT NULL,
    holder     TEXT NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (model_id, paper_pk)
);
CREATE INDEX embedding_claims_claim ON embedding_claims (claim);

-- The audit trail: how many vectors of a model were ever stored per paper.
CREATE TABLE embedding_stores (
    model_id BIGINT NOT NULL REFERENCES embedding_models (id) ON DELETE CASCADE,
    paper_pk BIGINT NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    stores   BIGINT NOT NULL,
    PRIMARY KEY (model_id, paper_pk)
);
