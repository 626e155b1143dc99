//! `[search]`: the embedding model behind semantic search and how the
//! background job feeds it.

use std::path::PathBuf;

use anyhow::Result;
use serde::Deserialize;

use super::env::Env;
use super::key::{DefaultValue, Key, parse_file, pick, pick_opt};
use paperboy_search::Evidence;

pub const DEFAULT_EMBED_BATCH: usize = 64;
/// Batch sizes outside this range are brought into it.
const EMBED_BATCHES: std::ops::RangeInclusive<usize> = 1..=1024;

pub const MODEL_DIR: Key = Key::new(
    "search",
    "model_dir",
    "PAPERBOY_MODEL_DIR",
    DefaultValue::Unset("DATA_DIR/models/all-MiniLM-L6-v2 if there, else ./models/all-MiniLM-L6-v2"),
    "embedding model directory (model.safetensors, tokenizer.json); `paperboy model fetch` puts one there",
)
.flags(&["--model-dir"]);
pub const EMBED_BATCH: Key = Key::new(
    "search",
    "embed_batch",
    "PAPERBOY_EMBED_BATCH",
    DefaultValue::Whole(DEFAULT_EMBED_BATCH as u64),
    "papers embedded per batch (one claim) by `serve` and `paperboy embed`, 1 to 1024",
);

pub const EMBED: Key = Key::new(
    "search",
    "embed",
    "PAPERBOY_EMBED",
    DefaultValue::Bool(true),
    "false: `paperboy serve` computes no vectors itself (it still loads those stored by others, e.g. `paperboy embed` workers)",
);

pub const EVIDENCE: Key = Key::new(
    "search",
    "evidence",
    "PAPERBOY_EVIDENCE",
    DefaultValue::Text("passages"),
    "extra vectors per paper that re-score search results: passages (the rest of long abstracts; +28% embedding \
     time), sentences (one per sentence: best ranking, +146% embedding time) or off; changing it re-embeds every paper",
)
.flags(&["--evidence"]);

pub const KEYS: &[Key] = &[MODEL_DIR, EMBED_BATCH, EMBED, EVIDENCE];

/// `[search]` in `paperboy.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSection {
    pub model_dir: Option<PathBuf>,
    pub embed_batch: Option<usize>,
    pub embed: Option<bool>,
    pub evidence: Option<String>,
}

/// `[search]` after the merge.
#[derive(Debug, Clone)]
pub struct SearchSettings {
    /// Explicitly configured model directory; `None` looks in the default places.
    pub model_dir: Option<PathBuf>,
    pub embed_batch: usize,
    /// `serve` claims and embeds waiting papers (it follows stored vectors either way).
    pub embed: bool,
    /// The evidence vectors papers carry (part of the model's fingerprint).
    pub evidence: Evidence,
}

impl SearchSettings {
    /// `--model-dir` and `--evidence` over the environment over the file
    /// over the defaults.
    pub fn resolve(
        model_dir_flag: Option<PathBuf>,
        evidence_flag: Option<Evidence>,
        env: &Env,
        file: SearchSection,
    ) -> Result<SearchSettings> {
        let file_evidence = parse_file(&EVIDENCE, file.evidence)?;
        Ok(SearchSettings {
            evidence: pick(&EVIDENCE, evidence_flag, env, file_evidence, Evidence::default())?.value,
            model_dir: pick_opt(&MODEL_DIR, model_dir_flag, env, file.model_dir)?.map(|p| p.value),
            embed_batch: pick(&EMBED_BATCH, None, env, file.embed_batch, DEFAULT_EMBED_BATCH)?
                .value
                .clamp(*EMBED_BATCHES.start(), *EMBED_BATCHES.end()),
            embed: pick(&EMBED, None, env, file.embed, true)?.value,
        })
    }
}
