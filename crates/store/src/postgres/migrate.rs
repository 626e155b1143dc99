//! The PostgreSQL migrations (`migrations/postgres/`, numbered like SQLite's
//! so the two schemas stay in step) and their runner: the loop of
//! [`crate::migrate`] (each file once, in order, in a transaction, recorded in
//! `schema_migrations`; a newer database refused), plus a session advisory
//! lock so that servers starting at the same time do not race.

use sqlx::PgConnection;

use crate::StoreError;
use crate::migrate::migrator;
use crate::sql_common::numbered;

/// (version, name, SQL) in the order they apply.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "papers", include_str!("../../migrations/postgres/0001_papers.sql")),
    (2, "paper_changes", include_str!("../../migrations/postgres/0002_paper_changes.sql")),
    (3, "community", include_str!("../../migrations/postgres/0003_community.sql")),
    (4, "mail", include_str!("../../migrations/postgres/0004_mail.sql")),
    (5, "harvest", include_str!("../../migrations/postgres/0005_harvest.sql")),
    (6, "coordination", include_str!("../../migrations/postgres/0006_coordination.sql")),
];

/// Advisory lock key held while migrating: "pbmigrat" in ASCII.
const MIGRATE_LOCK: i64 = 0x7062_6d69_6772_6174;

/// Applies every pending migration; returns how many ran.
pub(crate) async fn run(conn: &mut PgConnection) -> Result<usize, StoreError> {
    sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATE_LOCK).execute(&mut *conn).await?;
    let outcome = apply(conn).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATE_LOCK).execute(&mut *conn).await;
    let ran = outcome?;
    unlocked?;
    Ok(ran)
}

migrator!(
    /// The migration loop itself, run while holding [`MIGRATE_LOCK`].
    fn apply(PgConnection),
    migrations: MIGRATIONS,
    sql: numbered,
    log: "applied migration (postgres)",
);
