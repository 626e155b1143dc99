//! The top-level `data_dir` and `database_url`: where the catalog and the
//! search index live.

use std::path::PathBuf;

use anyhow::Result;

use super::env::Env;
use super::key::{DefaultValue, Key, pick, pick_opt};

pub const DEFAULT_DATA_DIR: &str = "./paperboy-data";

pub const DATA_DIR: Key = Key::new(
    "",
    "data_dir",
    "PAPERBOY_DATA_DIR",
    DefaultValue::Text(DEFAULT_DATA_DIR),
    "where the database and search index live",
)
.flags(&["--data-dir"]);
pub const DATABASE_URL: Key = Key::new(
    "",
    "database_url",
    "PAPERBOY_DATABASE_URL",
    DefaultValue::Unset("SQLite in DATA_DIR/paperboy.db"),
    "PostgreSQL database shared by several servers, e.g. postgres://paperboy:secret@db.internal/paperboy",
)
.flags(&["--database-url"]);

pub const KEYS: &[Key] = &[DATA_DIR, DATABASE_URL];

/// `--data-dir` over the environment over the file over the default.
pub fn data_dir(flag: Option<PathBuf>, env: &Env, file: Option<PathBuf>) -> Result<PathBuf> {
    Ok(pick(&DATA_DIR, flag, env, file, PathBuf::from(DEFAULT_DATA_DIR))?.value)
}

/// `--database-url` over the environment over the file; `None` (also for a
/// blank value) keeps SQLite in the data directory.
pub fn database_url(flag: Option<String>, env: &Env, file: Option<String>) -> Result<Option<String>> {
    let blank_is_none = |u: Option<String>| u.filter(|u| !u.trim().is_empty());
    Ok(pick_opt(&DATABASE_URL, blank_is_none(flag), env, blank_is_none(file))?.map(|p| p.value))
}
