//! Paths into the repository's recorded test data, `tests/fixtures/`
//! (described in its README files), and the repository root.

use std::path::{Path, PathBuf};

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `tests/fixtures/REL`.
pub fn path(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(rel)
}

/// The bytes of `tests/fixtures/REL` (panics, naming it, when unreadable).
pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(path(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}
