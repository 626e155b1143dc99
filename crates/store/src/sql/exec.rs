//! The executor the shared SQL runs on: a statement and its values
//! ([`Query`]), where it runs ([`Exec`]: either backend's pool or a
//! transaction, [`Tx`]), and what comes back ([`Row`], read through
//! [`Cells`](super::rows::Cells)).
//!
//! Statements are written once, in portable SQL with `?` / `?N` placeholders
//! (see [`super::placeholders`]); a [`Query`] runs as written on SQLite and
//! renumbered to `$N` on PostgreSQL. Values are bound as [`Value`]s, whose
//! NULLs keep their type, so that PostgreSQL is told what an absent value
//! would have been. Texts are bound as `Cow`s: a borrowed text stays borrowed
//! until the driver needs its own copy, an owned one is moved, as with sqlx's
//! own `bind`.
//!
//! A text with a NUL character (`\0`) is refused before it reaches either
//! backend ([`NulInText`], a `StoreError::NulInText` to callers): PostgreSQL
//! cannot store one in a text column, and SQLite refuses it too so that both
//! backends answer the same.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool};

use super::placeholders::numbered;

/// One value to bind. Each kind carries its own NULL (`None`), so that
/// PostgreSQL gets a NULL of the column's type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'q> {
    Text(Option<Cow<'q, str>>),
    Int(Option<i64>),
    Bool(Option<bool>),
    /// A BLOB (SQLite) or BYTEA (PostgreSQL): vectors.
    Bytes(Option<Vec<u8>>),
}

impl<'q> From<&'q str> for Value<'q> {
    fn from(v: &'q str) -> Self {
        Value::Text(Some(Cow::Borrowed(v)))
    }
}

impl<'q> From<&'q String> for Value<'q> {
    fn from(v: &'q String) -> Self {
        Value::Text(Some(Cow::Borrowed(v)))
    }
}

impl From<String> for Value<'_> {
    fn from(v: String) -> Self {
        Value::Text(Some(Cow::Owned(v)))
    }
}

impl<'q> From<Option<&'q str>> for Value<'q> {
    fn from(v: Option<&'q str>) -> Self {
        Value::Text(v.map(Cow::Borrowed))
    }
}

impl<'q> From<&'q Option<String>> for Value<'q> {
    fn from(v: &'q Option<String>) -> Self {
        Value::Text(v.as_deref().map(Cow::Borrowed))
    }
}

impl From<Option<String>> for Value<'_> {
    fn from(v: Option<String>) -> Self {
        Value::Text(v.map(Cow::Owned))
    }
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}

impl From<Vec<u8>> for Value<'_> {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(Some(v))
    }
}

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(Some(v))
    }
}

/// Why a statement was not run: one of its texts contains a NUL character
/// (`\0`), which PostgreSQL cannot store in text. Travels as
/// `sqlx::Error::Encode` and becomes `StoreError::NulInText`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NulInText;

impl std::fmt::Display for NulInText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a text contains a NUL character")
    }
}

impl std::error::Error for NulInText {}

/// `Err` when a bound text contains `\0` (see [`NulInText`]).
fn check_texts(values: &[Value<'_>]) -> Result<(), sqlx::Error> {
    let nul = values.iter().any(|v| matches!(v, Value::Text(Some(t)) if t.as_bytes().contains(&0)));
    if nul { Err(sqlx::Error::Encode(Box::new(NulInText))) } else { Ok(()) }
}

/// Where a statement runs: a pool (each statement on whichever connection
/// is free) or the connection of a transaction.
pub(crate) enum Exec<'e> {
    SqlitePool(&'e SqlitePool),
    PgPool(&'e PgPool),
    Sqlite(&'e mut SqliteConnection),
    Postgres(&'e mut PgConnection),
}

impl<'e> Exec<'e> {
    /// The same place for one more statement, leaving `self` usable after it.
    pub(crate) fn reborrow(&mut self) -> Exec<'_> {
        match self {
            Exec::SqlitePool(p) => Exec::SqlitePool(p),
            Exec::PgPool(p) => Exec::PgPool(p),
            Exec::Sqlite(c) => Exec::Sqlite(c),
            Exec::Postgres(c) => Exec::Postgres(c),
        }
    }

    /// A transaction here: on a pool's next free connection, or on this
    /// connection. It takes no turn in any queue (see `Backend::begin_write`).
    pub(crate) async fn begin(self) -> Result<Tx<'e>, sqlx::Error> {
        Ok(match self {
            Exec::SqlitePool(p) => Tx::Sqlite { tx: p.begin().await?, turn: None },
            Exec::PgPool(p) => Tx::Postgres(p.begin().await?),
            Exec::Sqlite(c) => Tx::Sqlite { tx: sqlx::Connection::begin(c).await?, turn: None },
            Exec::Postgres(c) => Tx::Postgres(sqlx::Connection::begin(c).await?),
        })
    }

    /// Runs a script of statements without parameters (a migration file),
    /// as written.
    pub(crate) async fn run_script(self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Exec::SqlitePool(p) => {
                sqlx::raw_sql(sql).execute(p).await?;
            }
            Exec::PgPool(p) => {
                sqlx::raw_sql(sql).execute(p).await?;
            }
            Exec::Sqlite(c) => {
                sqlx::raw_sql(sql).execute(c).await?;
            }
            Exec::Postgres(c) => {
                sqlx::raw_sql(sql).execute(c).await?;
            }
        }
        Ok(())
    }
}

/// A transaction on either backend. A SQLite write transaction also holds
/// its turn in the writer queue (see `SqliteBackend::begin_write`), which is
/// handed on only after the transaction has ended. Dropping it uncommitted
/// rolls back.
pub(crate) enum Tx<'a> {
    Sqlite {
        // Declared first so that it ends (commit or rollback) before the turn is handed on.
        tx: sqlx::Transaction<'a, Sqlite>,
        turn: Option<tokio::sync::MutexGuard<'a, ()>>,
    },
    Postgres(sqlx::Transaction<'a, Postgres>),
}

impl Tx<'_> {
    /// Statements of this transaction run here.
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match self {
            Tx::Sqlite { tx, .. } => Exec::Sqlite(tx),
            Tx::Postgres(tx) => Exec::Postgres(tx),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite { tx, turn } => {
                tx.commit().await?;
                drop(turn);
            }
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite { tx, turn } => {
                tx.rollback().await?;
                drop(turn);
            }
            Tx::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

impl<'e, 'a> From<&'e mut Tx<'a>> for Exec<'e> {
    fn from(tx: &'e mut Tx<'a>) -> Self {
        tx.exec()
    }
}

/// A result row from either backend.
pub(crate) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

/// The SQL of a [`Query`]: a constant, renumbered for PostgreSQL once per
/// process, or a statement built at run time, renumbered each time.
pub(crate) enum Sql<'q> {
    Static(&'static str),
    Built(Cow<'q, str>),
}

impl From<&'static str> for Sql<'_> {
    fn from(sql: &'static str) -> Self {
        Sql::Static(sql)
    }
}

impl From<String> for Sql<'_> {
    fn from(sql: String) -> Self {
        Sql::Built(Cow::Owned(sql))
    }
}

/// Constant statements renumbered for PostgreSQL, by address and length of
/// the constant: each is converted once per process.
static RENUMBERED: LazyLock<RwLock<HashMap<(usize, usize), &'static str>>> = LazyLock::new(Default::default);

fn renumbered_static(sql: &'static str) -> &'static str {
    let key = (sql.as_ptr() as usize, sql.len());
    if let Some(done) = RENUMBERED.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return done;
    }
    let done: &'static str = Box::leak(numbered(sql).into_boxed_str());
    RENUMBERED.write().unwrap_or_else(|e| e.into_inner()).insert(key, done);
    done
}

impl<'q> Sql<'q> {
    fn for_sqlite(&self) -> &str {
        match self {
            Sql::Static(s) => s,
            Sql::Built(s) => s,
        }
    }

    fn for_postgres(&self) -> Cow<'_, str> {
        match self {
            Sql::Static(s) => Cow::Borrowed(renumbered_static(s)),
            Sql::Built(s) => Cow::Owned(numbered(s)),
        }
    }
}

/// A statement in portable SQL and the values for its placeholders, in
/// order; built like sqlx's `query(..).bind(..)`.
pub(crate) struct Query<'q> {
    sql: Sql<'q>,
    values: Vec<Value<'q>>,
}

/// `sqlx::query` for either backend: binds `values` to a statement.
macro_rules! bound {
    ($sql:expr, $values:expr) => {{
        let mut q = sqlx::query($sql);
        for value in $values {
            q = match value {
                Value::Text(v) => q.bind(v),
                Value::Int(v) => q.bind(v),
                Value::Bool(v) => q.bind(v),
                Value::Bytes(v) => q.bind(v),
            };
        }
        q
    }};
}

impl<'q> Query<'q> {
    /// A statement: a constant (`&'static str`) or one built with `format!`.
    pub(crate) fn new(sql: impl Into<Sql<'q>>) -> Self {
        Query { sql: sql.into(), values: Vec::new() }
    }

    /// A statement built at run time with room for `values` values.
    pub(crate) fn with_capacity(sql: String, values: usize) -> Self {
        Query { sql: Sql::Built(Cow::Owned(sql)), values: Vec::with_capacity(values) }
    }

    /// Binds the next placeholder.
    pub(crate) fn bind(mut self, value: impl Into<Value<'q>>) -> Self {
        self.values.push(value.into());
        self
    }

    /// Runs the statement; returns how many rows it changed.
    pub(crate) async fn execute<'e>(self, on: impl Into<Exec<'e>>) -> Result<u64, sqlx::Error> {
        let Query { sql, values } = self;
        check_texts(&values)?;
        let done = match on.into() {
            Exec::SqlitePool(p) => bound!(sql.for_sqlite(), values).execute(p).await?.rows_affected(),
            Exec::Sqlite(c) => bound!(sql.for_sqlite(), values).execute(c).await?.rows_affected(),
            Exec::PgPool(p) => {
                let sql = sql.for_postgres();
                bound!(&sql, values).execute(p).await?.rows_affected()
            }
            Exec::Postgres(c) => {
                let sql = sql.for_postgres();
                bound!(&sql, values).execute(c).await?.rows_affected()
            }
        };
        Ok(done)
    }

    /// Every row the statement returns.
    pub(crate) async fn fetch_all<'e>(self, on: impl Into<Exec<'e>>) -> Result<Vec<Row>, sqlx::Error> {
        let Query { sql, values } = self;
        check_texts(&values)?;
        let rows = match on.into() {
            Exec::SqlitePool(p) => sqlite_rows(bound!(sql.for_sqlite(), values).fetch_all(p).await?),
            Exec::Sqlite(c) => sqlite_rows(bound!(sql.for_sqlite(), values).fetch_all(c).await?),
            Exec::PgPool(p) => {
                let sql = sql.for_postgres();
                pg_rows(bound!(&sql, values).fetch_all(p).await?)
            }
            Exec::Postgres(c) => {
                let sql = sql.for_postgres();
                pg_rows(bound!(&sql, values).fetch_all(c).await?)
            }
        };
        Ok(rows)
    }

    /// The first row, if any.
    pub(crate) async fn fetch_optional<'e>(self, on: impl Into<Exec<'e>>) -> Result<Option<Row>, sqlx::Error> {
        let Query { sql, values } = self;
        check_texts(&values)?;
        let row = match on.into() {
            Exec::SqlitePool(p) => bound!(sql.for_sqlite(), values).fetch_optional(p).await?.map(Row::Sqlite),
            Exec::Sqlite(c) => bound!(sql.for_sqlite(), values).fetch_optional(c).await?.map(Row::Sqlite),
            Exec::PgPool(p) => {
                let sql = sql.for_postgres();
                bound!(&sql, values).fetch_optional(p).await?.map(Row::Postgres)
            }
            Exec::Postgres(c) => {
                let sql = sql.for_postgres();
                bound!(&sql, values).fetch_optional(c).await?.map(Row::Postgres)
            }
        };
        Ok(row)
    }

    /// The first row; `sqlx::Error::RowNotFound` when there is none.
    pub(crate) async fn fetch_one<'e>(self, on: impl Into<Exec<'e>>) -> Result<Row, sqlx::Error> {
        self.fetch_optional(on).await?.ok_or(sqlx::Error::RowNotFound)
    }
}

fn sqlite_rows(rows: Vec<SqliteRow>) -> Vec<Row> {
    rows.into_iter().map(Row::Sqlite).collect()
}

fn pg_rows(rows: Vec<PgRow>) -> Vec<Row> {
    rows.into_iter().map(Row::Postgres).collect()
}
