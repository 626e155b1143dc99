//! PostgreSQL's hooks for the catalog ([`Store`](crate::Store)), whose
//! implementation both backends share (`../catalog_impl.rs`, the same
//! statements with `$N` placeholders).
//!
//! Upserts append to the change feed, so they run in
//! [`PgStore::begin_catalog_write`], which holds [`super::CATALOG_LOCK`]
//! until commit: catalog writers take turns across all servers, as on
//! SQLite, and change sequence numbers become visible in commit order.

use super::PgStore;

impl PgStore {
    /// The verb of the multi-row inserts of a bulk upsert. A plain `INSERT`
    /// (where SQLite says `INSERT OR FAIL`): PostgreSQL rolls a failed
    /// statement back by itself, and the caller's transaction with it.
    pub(crate) const BULK_INSERT: &'static str = "INSERT";

    /// The feed's category match. SQLite's `LIKE` ignores ASCII case and
    /// PostgreSQL's does not; `ILIKE` is its equivalent here (categories are
    /// ASCII).
    pub(crate) const CASE_INSENSITIVE_LIKE: &'static str = "ILIKE";
}
