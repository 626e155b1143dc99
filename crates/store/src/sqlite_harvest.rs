//! SQLite's hook for [`Harvests`](crate::Harvests), whose implementation both
//! backends share (`harvest_impl.rs`; statements and row decoder in
//! `sql_harvest.rs`).
//!
//! Starting a run writes first (the new row) and then reads the run it may
//! resume, in one transaction: the write takes SQLite's write lock, so two
//! runs starting at once cannot both take over the same checkpoint.

use sqlx::SqliteConnection;

use crate::{SqliteStore, StoreError};

impl SqliteStore {
    /// Run first when a run starts: nothing to lock. The insert that follows
    /// is a write, so the transaction holds SQLite's write lock before it
    /// reads the run it may resume.
    pub(crate) async fn lock_harvest_start(_conn: &mut SqliteConnection) -> Result<(), StoreError> {
        Ok(())
    }
}
