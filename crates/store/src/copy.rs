//! Copying a whole SQLite installation into an empty PostgreSQL database
//! ([`copy_sqlite_to_postgres`]), and the schema versions a database has
//! applied ([`applied_migrations`]), for `paperboy migrate`.
//!
//! Both schemas have the same tables and columns (`migrations/`), so the copy
//! is generic: for each table in [`TABLES`] (foreign-key order), the target's
//! columns and types are read from PostgreSQL's catalog, the same columns are
//! read from SQLite in rowid order (parents before the replies and resumed runs
//! that point at them), each value is checked against its target type
//! (SQLite INTEGER to BIGINT, INTEGER 0/1 to BOOLEAN, TEXT to TEXT, REAL or
//! INTEGER to DOUBLE PRECISION, BLOB to BYTEA, NULL to NULL; anything else is an error, never
//! a silent conversion) and inserted in batches with `$N` placeholders, primary
//! keys included. Everything happens in one PostgreSQL transaction, under the
//! catalog's advisory lock, from one SQLite read snapshot; at the end every
//! BIGSERIAL sequence is moved past its column's largest value and the row
//! counts of both sides are compared before committing.

use sqlx::sqlite::SqliteRow;
use sqlx::{Column, Decode, Row, Sqlite, SqliteConnection, TypeInfo, ValueRef};
use thiserror::Error;

use crate::postgres::CATALOG_LOCK;
use crate::sql::exec::Query;
use crate::sql::rows::Cells;
use crate::{PgBackend, SqlStore, SqliteBackend, StoreError};

/// Every table of the schema, parents before the tables that refer to them.
pub const TABLES: &[&str] = &[
    "papers",
    "paper_changes",
    "users",
    "sessions",
    "api_tokens",
    "email_tokens",
    "votes",
    "submissions",
    "comments",
    "reading_list",
    "subscribers",
    "saved_searches",
    "outbox",
    "harvest_runs",
    "leases",
    "rate_limit_failures",
    "shared_secrets",
    "community_changes",
    "repositories",
    "repository_stars",
    "paper_repositories",
    "hf_papers",
    "paper_source_ranks",
    "paper_signals",
    "signal_sources",
    "not_for_me",
    "followed_authors",
    "followed_categories",
    "library_entries",
    "feed_secrets",
    "embedding_models",
    "paper_embeddings",
    "embedding_claims",
    "embedding_stores",
];

/// Rows read from SQLite at a time.
const READ_PAGE: i64 = 1000;
/// PostgreSQL accepts at most 65535 bind parameters per statement.
const MAX_PARAMS: usize = 60_000;

/// Why a copy was refused or failed; nothing is written to the target then.
#[derive(Debug, Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error while copying: {0}")]
    Database(#[from] sqlx::Error),
    #[error(
        "the target database is not empty ({papers} papers, {users} users): copy into a new, empty database \
         (createdb NAME), or drop this one first if it holds nothing you need"
    )]
    TargetNotEmpty { papers: i64, users: i64 },
    #[error("table {table} is missing from the {side} database: run `paperboy migrate` on it, then copy again")]
    MissingTable { table: String, side: &'static str },
    #[error(
        "the PostgreSQL database has table {table}, which this copy does not know: use the same paperboy version \
         for both databases"
    )]
    UnknownTable { table: String },
    #[error("column {table}.{column} has type {pg_type} in PostgreSQL, which the copy does not handle")]
    UnsupportedType { table: String, column: String, pg_type: String },
    #[error(
        "row {rowid} of {table}: column {column} holds a SQLite {found} where PostgreSQL expects {expected}; \
         fix the row in the SQLite file, then copy again"
    )]
    Unconvertible { table: String, column: String, rowid: i64, found: String, expected: String },
    #[error(
        "table {table}: {source_rows} rows in SQLite but {target_rows} in PostgreSQL; nothing was committed, \
         report this as a bug"
    )]
    CountMismatch { table: String, source_rows: u64, target_rows: u64 },
}

/// The rows of one table on both sides after a copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableCount {
    pub table: &'static str,
    pub source: u64,
    pub target: u64,
}

/// One applied schema migration, from `schema_migrations`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub name: String,
    /// RFC 3339, as recorded when it was applied.
    pub applied_at: String,
}

/// The migrations `store` has applied, oldest first.
pub async fn applied_migrations(store: &SqlStore) -> Result<Vec<AppliedMigration>, StoreError> {
    const SQL: &str = "SELECT version, name, applied_at FROM schema_migrations ORDER BY version";
    let rows = Query::new(SQL).fetch_all(store.pool()).await?;
    Ok(rows.iter().map(|r| AppliedMigration { version: r.int(0), name: r.text(1), applied_at: r.text(2) }).collect())
}

/// The row count of every table in [`TABLES`] on `store`.
pub async fn table_counts(store: &SqlStore) -> Result<Vec<(&'static str, u64)>, StoreError> {
    let mut counts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let n = Query::new(format!("SELECT COUNT(*) FROM {table}")).fetch_one(store.pool()).await?.int(0);
        counts.push((*table, n as u64));
    }
    Ok(counts)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Bool,
    Real,
    Text,
    Bytes,
}

impl Kind {
    fn from_pg(data_type: &str) -> Option<Kind> {
        match data_type {
            "bigint" | "integer" | "smallint" => Some(Kind::Int),
            "boolean" => Some(Kind::Bool),
            "double precision" | "real" => Some(Kind::Real),
            "text" | "character varying" | "character" => Some(Kind::Text),
            "bytea" => Some(Kind::Bytes),
            _ => None,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Kind::Int => "an INTEGER",
            Kind::Bool => "an INTEGER 0 or 1",
            Kind::Real => "a REAL or INTEGER",
            Kind::Text => "TEXT",
            Kind::Bytes => "a BLOB",
        }
    }
}

#[derive(Clone, Debug)]
enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

struct TablePlan {
    table: &'static str,
    columns: Vec<(String, Kind)>,
    serials: Vec<String>,
}

/// Copies every table of `source` into `target`, which must be empty (no
/// papers, no users), in one transaction; returns both sides' row counts.
/// `progress` is called with the number of rows copied so far and the total.
pub async fn copy_sqlite_to_postgres(
    source: &SqliteBackend,
    target: &PgBackend,
    mut progress: impl FnMut(u64, u64) + Send,
) -> Result<Vec<TableCount>, CopyError> {
    let mut src = source.pool().begin().await?;
    let mut tx = target.pool().begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(CATALOG_LOCK).execute(&mut *tx).await?;

    let papers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM papers").fetch_one(&mut *tx).await?;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *tx).await?;
    if papers > 0 || users > 0 {
        return Err(CopyError::TargetNotEmpty { papers, users });
    }

    let pg_tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::TEXT FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut *tx)
    .await?;
    if let Some(unknown) = pg_tables.iter().find(|t| *t != "schema_migrations" && !TABLES.contains(&t.as_str())) {
        return Err(CopyError::UnknownTable { table: unknown.clone() });
    }

    let mut plans = Vec::with_capacity(TABLES.len());
    let mut source_counts = Vec::with_capacity(TABLES.len());
    for &table in TABLES {
        let cols: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT column_name::TEXT, data_type::TEXT, column_default::TEXT FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(&mut *tx)
        .await?;
        if cols.is_empty() {
            return Err(CopyError::MissingTable { table: table.to_string(), side: "PostgreSQL" });
        }
        let mut columns = Vec::with_capacity(cols.len());
        let mut serials = Vec::new();
        for (name, data_type, default) in cols {
            let Some(kind) = Kind::from_pg(&data_type) else {
                return Err(CopyError::UnsupportedType { table: table.to_string(), column: name, pg_type: data_type });
            };
            if default.is_some_and(|d| d.starts_with("nextval(")) {
                serials.push(name.clone());
            }
            columns.push((name, kind));
        }
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(table)
            .fetch_one(&mut *src)
            .await?;
        if exists == 0 {
            return Err(CopyError::MissingTable { table: table.to_string(), side: "SQLite" });
        }
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut *src).await?;
        source_counts.push(n as u64);
        plans.push(TablePlan { table, columns, serials });
    }

    let total: u64 = source_counts.iter().sum();
    let mut copied = 0u64;
    progress(copied, total);
    for plan in &plans {
        copy_table(&mut src, &mut tx, plan, |n| {
            copied += n;
            progress(copied, total);
        })
        .await?;
        for column in &plan.serials {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE(MAX({column}), 0) + 1, false) \
                 FROM {table}",
                table = plan.table
            );
            sqlx::query(&sql).execute(&mut *tx).await?;
        }
    }

    let mut counts = Vec::with_capacity(plans.len());
    for (plan, source_rows) in plans.iter().zip(source_counts) {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", plan.table)).fetch_one(&mut *tx).await?;
        let target_rows = n as u64;
        if target_rows != source_rows {
            return Err(CopyError::CountMismatch { table: plan.table.to_string(), source_rows, target_rows });
        }
        counts.push(TableCount { table: plan.table, source: source_rows, target: target_rows });
    }
    tx.commit().await?;
    src.rollback().await?;
    Ok(counts)
}

async fn copy_table(
    src: &mut SqliteConnection,
    tx: &mut sqlx::PgConnection,
    plan: &TablePlan,
    mut copied: impl FnMut(u64),
) -> Result<(), CopyError> {
    let names: Vec<&str> = plan.columns.iter().map(|(n, _)| n.as_str()).collect();
    let select = format!(
        "SELECT rowid AS copy_rowid, {} FROM {} WHERE rowid > ? ORDER BY rowid LIMIT ?",
        names.join(", "),
        plan.table
    );
    let rows_per_insert = (MAX_PARAMS / names.len()).clamp(1, 1000);
    let mut last = i64::MIN;
    loop {
        let rows = sqlx::query(&select).bind(last).bind(READ_PAGE).fetch_all(&mut *src).await?;
        let Some(tail) = rows.last() else { break };
        last = tail.try_get::<i64, _>(0)?;
        let mut values = Vec::with_capacity(rows.len());
        for row in &rows {
            values.push(decode_row(plan, row)?);
        }
        for chunk in values.chunks(rows_per_insert) {
            insert(tx, plan, &names, chunk).await?;
            copied(chunk.len() as u64);
        }
    }
    Ok(())
}

fn decode_row(plan: &TablePlan, row: &SqliteRow) -> Result<Vec<Value>, CopyError> {
    let rowid: i64 = row.try_get(0)?;
    let mut out = Vec::with_capacity(plan.columns.len());
    for (i, (name, kind)) in plan.columns.iter().enumerate() {
        let raw = row.try_get_raw(i + 1)?;
        if raw.is_null() {
            out.push(Value::Null);
            continue;
        }
        let found = raw.type_info().name().to_string();
        let bad = || CopyError::Unconvertible {
            table: plan.table.to_string(),
            column: name.clone(),
            rowid,
            found: found.clone(),
            expected: kind.expected().to_string(),
        };
        let decode_err = |e: sqlx::error::BoxDynError| {
            CopyError::Database(sqlx::Error::ColumnDecode { index: row.column(i + 1).name().to_string(), source: e })
        };
        let value = match (kind, found.as_str()) {
            (Kind::Int, "INTEGER") => Value::Int(<i64 as Decode<Sqlite>>::decode(raw).map_err(decode_err)?),
            (Kind::Bool, "INTEGER") => match <i64 as Decode<Sqlite>>::decode(raw).map_err(decode_err)? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                _ => return Err(bad()),
            },
            (Kind::Real, "REAL" | "INTEGER") => Value::Real(<f64 as Decode<Sqlite>>::decode(raw).map_err(decode_err)?),
            (Kind::Text, "TEXT") => Value::Text(<String as Decode<Sqlite>>::decode(raw).map_err(decode_err)?),
            (Kind::Bytes, "BLOB") => Value::Bytes(<Vec<u8> as Decode<Sqlite>>::decode(raw).map_err(decode_err)?),
            _ => return Err(bad()),
        };
        out.push(value);
    }
    Ok(out)
}

async fn insert(
    tx: &mut sqlx::PgConnection,
    plan: &TablePlan,
    names: &[&str],
    rows: &[Vec<Value>],
) -> Result<(), CopyError> {
    let width = names.len();
    let tuples: Vec<String> = (0..rows.len())
        .map(|r| {
            let params: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sql = format!("INSERT INTO {} ({}) VALUES {}", plan.table, names.join(", "), tuples.join(", "));
    let mut query = sqlx::query(&sql);
    for row in rows {
        for (value, (_, kind)) in row.iter().zip(&plan.columns) {
            query = match (value, kind) {
                (Value::Null, Kind::Int) => query.bind(None::<i64>),
                (Value::Null, Kind::Bool) => query.bind(None::<bool>),
                (Value::Null, Kind::Real) => query.bind(None::<f64>),
                (Value::Null, Kind::Text) => query.bind(None::<String>),
                (Value::Null, Kind::Bytes) => query.bind(None::<Vec<u8>>),
                (Value::Int(v), _) => query.bind(*v),
                (Value::Bool(v), _) => query.bind(*v),
                (Value::Real(v), _) => query.bind(*v),
                (Value::Text(v), _) => query.bind(v.clone()),
                (Value::Bytes(v), _) => query.bind(v.clone()),
            };
        }
    }
    query.execute(&mut *tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::postgres::PgConnectOptions;
    use sqlx::{Connection, PgConnection};

    use super::*;
    use crate::{Embeddings, Interests, Mailing};

    /// A fresh PostgreSQL store on the server at `PAPERBOY_TEST_PG_URL`;
    /// `None` (the test passes with a note) without one, except under CI.
    async fn fresh_postgres() -> Option<(PgBackend, PgConnectOptions, String)> {
        let Some(url) = std::env::var("PAPERBOY_TEST_PG_URL").ok().filter(|u| !u.trim().is_empty()) else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PAPERBOY_TEST_PG_URL is required under CI=true: run scripts/test.sh, which starts PostgreSQL");
            }
            eprintln!("skipping: PAPERBOY_TEST_PG_URL is not set (scripts/test.sh starts a server and sets it)");
            return None;
        };
        let server = PgConnectOptions::from_str(url.trim()).unwrap();
        let name = format!("copy_{}", &crate::secret::random_hex().unwrap()[..20]);
        let mut admin = PgConnection::connect_with(&server).await.unwrap();
        sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
        admin.close().await.unwrap();
        let store = PgBackend::open_with(server.clone().database(&name)).await.unwrap();
        Some((store, server, name))
    }

    /// Drops a database made by [`fresh_postgres`] (left behind when a test fails, for a look).
    async fn drop_postgres(store: PgBackend, server: PgConnectOptions, name: &str) {
        store.pool().close().await;
        let mut admin = PgConnection::connect_with(&server).await.unwrap();
        sqlx::raw_sql(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin).await.unwrap();
    }

    const ROWS: &str = "
        INSERT INTO papers (pk, paper_id, version, title, title_key, authors, abstract, categories, listed_on,
                            withdrawn, content_hash, created_at, modified_at)
        VALUES (3, '2401.00001', 2, 'T', 't', '[\"A\"]', 'Ab', ' cs.LG ', '2024-01-02', 1, -9000000000000000000,
                '2024-01-02T00:00:00.000Z', '2024-01-02T00:00:00.000Z'),
               (7, 'pb-x', NULL, 'Ü', 'u', '[]', '', ' ', '2024-01-03', 0, 5,
                '2024-01-03T00:00:00.000Z', '2024-01-03T00:00:00.000Z');
        INSERT INTO users (id, username, username_key, email, email_key, password_hash, is_admin, created_at)
        VALUES (5, 'Ada', 'ada', 'a@x.org', 'a@x.org', 'h', 1, '2024-01-01T00:00:00.000Z'),
               (9, 'Bob', 'bob', 'b@x.org', 'b@x.org', 'h', 0, '2024-01-01T00:00:00.000Z');
        INSERT INTO comments (id, paper_pk, user_id, parent_id, body, created_at)
        VALUES (4, 3, 5, NULL, 'first', '2024-01-04T00:00:00.000Z'),
               (6, 3, 9, 4, 'reply', '2024-01-05T00:00:00.000Z');
        INSERT INTO harvest_runs (id, started_by, base_url, metadata_prefix, status, started_at, updated_at)
        VALUES (2, 'manual', 'u', 'arXiv', 'failed', 's', 'u');
        INSERT INTO harvest_runs (id, started_by, base_url, metadata_prefix, status, started_at, updated_at,
                                  resumed_from)
        VALUES (8, 'manual', 'u', 'arXiv', 'completed', 's', 'u', 2);
        INSERT INTO subscribers (id, email, email_key, user_id, created_at, content)
        VALUES (4, 'a@x.org', 'a@x.org', 5, '2024-01-01T00:00:00.000Z', 'both');
        INSERT INTO not_for_me (user_id, paper_pk, marked_at) VALUES (9, 3, '2024-01-06T00:00:00.000Z');
        INSERT INTO followed_authors (id, user_id, name, name_key, followed_at)
        VALUES (2, 5, 'Grace  Hopper', 'grace hopper', '2024-01-06T00:00:00.000Z');
        INSERT INTO followed_categories (id, user_id, category, followed_at)
        VALUES (3, 5, 'cs.CL', '2024-01-06T00:00:00.000Z');
        INSERT INTO library_entries (id, user_id, format, cite_key, title, title_key, abstract, authors, year,
                                     arxiv_id, doi, paper_pk, matched_by, added_at)
        VALUES (11, 5, 'bibtex', 'k24', 'T', 't', NULL, '[\"A\"]', 2024, '2401.00001', NULL, 3, 'arxiv_id',
                '2024-01-07T00:00:00.000Z'),
               (12, 5, 'ris', NULL, 'Elsewhere', 'elsewhere', 'Ab', '[]', NULL, NULL, '10.1/x', NULL, NULL,
                '2024-01-07T00:00:00.000Z');
        INSERT INTO feed_secrets (user_id, secret_hash, created_at) VALUES (9, 'ab12', '2024-01-08T00:00:00.000Z');
        UPDATE papers SET embed_hash = 77 WHERE pk = 3;
        INSERT INTO embedding_models (id, name, fingerprint, dim, waiting_from, last_seq, registered_at)
        VALUES (4, 'm', 'f', 2, 8, 5, '2024-01-09T00:00:00.000Z');
        INSERT INTO paper_embeddings (model_id, paper_pk, text_hash, seq, stored_at, vector)
        VALUES (4, 3, 77, 5, '2024-01-09T00:00:00.000Z', x'0000803f000000c0');
        INSERT INTO embedding_stores (model_id, paper_pk, stores) VALUES (4, 3, 1);
    ";

    #[tokio::test]
    async fn copies_values_keys_and_sequences_and_refuses_a_second_copy() {
        let Some((target, server, name)) = fresh_postgres().await else { return };
        let source = SqliteBackend::open_in_memory().await.unwrap();
        sqlx::raw_sql(ROWS).execute(source.pool()).await.unwrap();

        let mut calls = 0;
        let counts = copy_sqlite_to_postgres(&source, &target, |_, _| calls += 1).await.unwrap();
        assert!(calls > 1, "progress is reported");
        let count = |t: &str| counts.iter().find(|c| c.table == t).map(|c| (c.source, c.target)).unwrap();
        assert_eq!(count("papers"), (2, 2));
        assert_eq!(count("comments"), (2, 2));
        assert_eq!(count("votes"), (0, 0));

        let pool = target.pool();
        let papers: Vec<(i64, Option<i64>, String, bool, i64)> =
            sqlx::query_as("SELECT pk, version, title, withdrawn, content_hash FROM papers ORDER BY pk")
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(
            papers,
            vec![(3, Some(2), "T".into(), true, -9_000_000_000_000_000_000), (7, None, "Ü".into(), false, 5)]
        );
        let admins: Vec<(i64, bool)> =
            sqlx::query_as("SELECT id, is_admin FROM users ORDER BY id").fetch_all(pool).await.unwrap();
        assert_eq!(admins, vec![(5, true), (9, false)]);
        let reply: Option<i64> =
            sqlx::query_scalar("SELECT parent_id FROM comments WHERE id = 6").fetch_one(pool).await.unwrap();
        assert_eq!(reply, Some(4));

        // Sequences continue after the largest copied key, not at 1.
        let next: i64 =
            sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('users', 'id'))").fetch_one(pool).await.unwrap();
        assert_eq!(next, 10);
        let next: i64 = sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('harvest_runs', 'id'))")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(next, 9);

        // A member's interests (migration 0010) come along and read back
        // through the store on PostgreSQL.
        for (table, n) in [
            ("not_for_me", 1),
            ("followed_authors", 1),
            ("followed_categories", 1),
            ("library_entries", 2),
            ("feed_secrets", 1),
            ("subscribers", 1),
        ] {
            assert_eq!(count(table), (n, n), "{table}");
        }
        let next: i64 = sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('library_entries', 'id'))")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(next, 13);
        let store = SqlStore::from(target.clone());
        let ada = paperboy_core::UserId(5);
        let library = store.library(ada, 10, 0).await.unwrap();
        let got: Vec<(i64, Option<String>, Option<String>)> =
            library.iter().map(|e| (e.id, e.paper.as_ref().map(|p| p.to_string()), e.doi.clone())).collect();
        assert_eq!(got, [(11, Some("2401.00001".into()), None), (12, None, Some("10.1/x".into()))]);
        let profile = store.interest_profile(ada, 10).await.unwrap();
        assert_eq!((profile.authors, profile.categories), (vec!["Grace  Hopper".into()], vec!["cs.CL".into()]));
        assert_eq!(store.interest_profile(paperboy_core::UserId(9), 10).await.unwrap().not_for_me.len(), 1);
        let sub = store.subscriber(crate::SubscriberId(4)).await.unwrap().unwrap();
        assert_eq!(sub.content, crate::DigestContent::Both);

        // Vectors (migration 0011): BLOB to BYTEA, byte for byte, with their
        // feed numbers and audit; the model's id sequence moves past them.
        let model = crate::ModelKey { name: "m".into(), fingerprint: "f".into(), dim: 2 };
        let feed = store.embeddings_since(&model, 0, 10).await.unwrap();
        assert_eq!(feed.len(), 1);
        assert_eq!((feed[0].seq, feed[0].text_hash, feed[0].vector.clone()), (5, 77, vec![1.0, -2.0]));
        assert_eq!(store.embedding_store_counts(&model).await.unwrap().len(), 1);
        assert_eq!(store.embedding_backlog(&model).await.unwrap().last_seq, 5);
        let next: i64 = sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('embedding_models', 'id'))")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(next, 5);
        drop(store);

        let again = copy_sqlite_to_postgres(&source, &target, |_, _| {}).await;
        assert!(matches!(again, Err(CopyError::TargetNotEmpty { papers: 2, users: 2 })), "{again:?}");
        drop_postgres(target, server, &name).await;
    }

    #[tokio::test]
    async fn a_value_that_does_not_fit_fails_the_whole_copy() {
        let Some((target, server, name)) = fresh_postgres().await else { return };
        let source = SqliteBackend::open_in_memory().await.unwrap();
        sqlx::raw_sql(ROWS).execute(source.pool()).await.unwrap();
        sqlx::raw_sql("UPDATE users SET is_admin = 2 WHERE id = 9").execute(source.pool()).await.unwrap();

        let err = copy_sqlite_to_postgres(&source, &target, |_, _| {}).await.unwrap_err();
        let CopyError::Unconvertible { table, column, rowid, .. } = &err else { panic!("{err:?}") };
        assert_eq!((table.as_str(), column.as_str(), *rowid), ("users", "is_admin", 9));
        let papers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM papers").fetch_one(target.pool()).await.unwrap();
        assert_eq!(papers, 0, "nothing is committed when a table fails");
        drop_postgres(target, server, &name).await;
    }
}
