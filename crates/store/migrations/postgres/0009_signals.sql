-- Trending signals (issue 15, docs/RANKING.md "Trending signals"): GitHub
-- repositories and their star series, the papers that name them, Hugging
-- Face Papers' counts, ranks on recorded source pages, a per-paper summary
-- that every paper query joins, and each source's fetch state.
-- As migrations/sqlite/0009, with BIGSERIAL and BIGINT, and COLLATE "C" on
-- timestamps and keys (byte order whatever the locale).

-- One row per GitHub repository a paper names. `repo_key` is `owner/name`
-- in lower case (GitHub's names are case-insensitive); `full_name` is
-- GitHub's spelling. `status`: `ok`, `gone` (404/410/451) or `renamed`
-- (301; `renamed_to` is the new key, a row of its own).
CREATE TABLE repositories (
    id            BIGSERIAL PRIMARY KEY,
    repo_key      TEXT COLLATE "C" NOT NULL UNIQUE,
    full_name     TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'ok',
    renamed_to    TEXT,
    etag          TEXT,
    stars         BIGINT,
    forks         BIGINT,
    pushed_at     TEXT COLLATE "C",
    weekly_stars  BIGINT,           -- stars gained in the 7 days before last_fetched
    first_seen    TEXT COLLATE "C" NOT NULL,
    last_fetched  TEXT COLLATE "C",
    next_fetch_at TEXT COLLATE "C" NOT NULL,
    last_error    TEXT
);
CREATE INDEX repositories_due ON repositories (status, next_fetch_at);

-- The star count of a repository at each fetch (a 304 repeats the last count).
CREATE TABLE repository_stars (
    repo_id     BIGINT NOT NULL REFERENCES repositories (id),
    observed_at TEXT COLLATE "C" NOT NULL,
    stars       BIGINT NOT NULL,
    PRIMARY KEY (repo_id, observed_at)
);

-- Which papers name which repositories, and where the name was found:
-- `code_link`, `comment`, `abstract` or `huggingface`.
CREATE TABLE paper_repositories (
    paper_pk  BIGINT NOT NULL REFERENCES papers (pk),
    repo_id   BIGINT NOT NULL REFERENCES repositories (id),
    source    TEXT NOT NULL,
    linked_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (paper_pk, repo_id)
);
CREATE INDEX paper_repositories_repo ON paper_repositories (repo_id);

-- What Hugging Face Papers last said of a paper.
CREATE TABLE hf_papers (
    paper_pk     BIGINT PRIMARY KEY REFERENCES papers (pk),
    upvotes      BIGINT NOT NULL,
    comments     BIGINT,
    github_repo  TEXT,
    github_stars BIGINT,
    project_page TEXT,
    ai_keywords  TEXT NOT NULL,      -- a JSON array of strings
    observed_at  TEXT COLLATE "C" NOT NULL
);

-- A paper's place on a recorded page (the seed trending page), shown as such.
CREATE TABLE paper_source_ranks (
    paper_pk    BIGINT PRIMARY KEY REFERENCES papers (pk),
    page        TEXT NOT NULL,
    rank        BIGINT NOT NULL,
    recorded_at TEXT COLLATE "C" NOT NULL
);

-- The per-paper summary every paper query joins (LEFT JOIN, one row per
-- paper with any signal), rewritten whenever one of the tables above
-- changes for the paper: the repository with the most stars this week
-- (then the most stars), Hugging Face's counts, the source rank.
CREATE TABLE paper_signals (
    paper_pk        BIGINT PRIMARY KEY REFERENCES papers (pk),
    github_repo     TEXT,
    github_stars    BIGINT,
    stars_this_week BIGINT,
    hf_upvotes      BIGINT,
    hf_comments     BIGINT,
    source_page     TEXT,
    source_rank     BIGINT,
    observed_at     TEXT COLLATE "C" NOT NULL
);

-- Each source's fetch state, for `paperboy signals status` and for the
-- jobs themselves (the change-feed cursor of the linker, the rate-limit
-- wait that no request may break).
CREATE TABLE signal_sources (
    source        TEXT PRIMARY KEY,  -- `github`, `huggingface`
    last_run_at   TEXT COLLATE "C",
    last_ok_at    TEXT COLLATE "C",
    last_note     TEXT,              -- what the last run did, one line
    last_error    TEXT,
    waiting_until TEXT COLLATE "C",              -- no request before this
    waiting_why   TEXT,
    link_cursor   BIGINT NOT NULL DEFAULT 0
);
