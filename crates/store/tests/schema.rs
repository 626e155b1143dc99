//! Schema parity: the SQLite and PostgreSQL migration trees build the same
//! tables with the same columns, the same nullability and the same kinds of
//! values (text, or integers, which PostgreSQL may hold as BOOLEAN flags),
//! which is what lets both backends run one set of statements. Skips its
//! PostgreSQL half, with a note, when `PAPERBOY_TEST_PG_URL` is not set.

use std::collections::BTreeMap;

use crate::common::TestDb;

/// (table, column) → (nullable, kind) for every column of every table.
type Columns = BTreeMap<(String, String), (bool, &'static str)>;

/// The kind of value a column holds, from its declared or catalog type.
fn kind(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    if t.contains("text") || t.contains("char") {
        "text"
    } else if t.contains("int") || t == "boolean" {
        "integer"
    } else if t.contains("real") || t.contains("double") {
        "real"
    } else {
        "other"
    }
}

async fn sqlite_columns(db: &TestDb) -> Columns {
    let pool = db.store.sqlite().expect("a SQLite store").pool();
    let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT m.name, c.name, c.type, c.\"notnull\", c.pk FROM sqlite_master m \
         JOIN pragma_table_info(m.name) c WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    // A primary-key column never holds NULL in either schema, whatever SQLite's pragma says.
    rows.into_iter().map(|(t, c, ty, notnull, pk)| ((t, c), (notnull == 0 && pk == 0, kind(&ty)))).collect()
}

async fn postgres_columns(db: &TestDb) -> Columns {
    let pool = db.store.postgres().expect("a PostgreSQL store").pool();
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::TEXT, column_name::TEXT, data_type::TEXT, is_nullable::TEXT \
         FROM information_schema.columns WHERE table_schema = current_schema()",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(t, c, ty, nullable)| ((t, c), (nullable == "YES", kind(&ty)))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migration_trees_build_the_same_tables_and_columns() {
    let sqlite = sqlite_columns(&TestDb::sqlite().await).await;
    assert!(sqlite.keys().any(|(t, c)| t == "papers" && c == "paper_id"), "the SQLite schema was read");
    let Some(pg) = TestDb::postgres().await else { return };
    let postgres = postgres_columns(&pg).await;

    let only_sqlite: Vec<_> = sqlite.keys().filter(|k| !postgres.contains_key(*k)).collect();
    let only_postgres: Vec<_> = postgres.keys().filter(|k| !sqlite.contains_key(*k)).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "columns in one migration tree only: SQLite {only_sqlite:?}, PostgreSQL {only_postgres:?}"
    );
    let differing: Vec<_> = sqlite
        .iter()
        .filter(|(k, v)| postgres[*k] != **v)
        .map(|(k, v)| (k, ("sqlite", v), ("postgres", postgres[k])))
        .collect();
    assert!(differing.is_empty(), "columns whose nullability or kind differ (nullable, kind): {differing:?}");
}
