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

/// The model directory: `PAPERBOY_MODEL_DIR`, else models/all-MiniLM-L6-v2
/// at the workspace root. `None` (after saying why) when it is absent and
/// `CI` is unset; panics when absent under CI (the test script fetches it).
pub fn model_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("PAPERBOY_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("models/all-MiniLM-L6-v2"));
    if dir.join("model.safetensors").is_file() && dir.join("tokenizer.json").is_file() {
        return Some(dir);
    }
    let msg =
        format!("{test}: model not found in {} (set PAPERBOY_MODEL_DIR or run scripts/fetch-model.sh)", dir.display());
    if std::env::var_os("CI").is_some() {
        panic!("{msg}; CI is set, so the model is required");
    }
    eprintln!("SKIPPED {msg}");
    None
}
