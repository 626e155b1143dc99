//! Sentence embeddings in-process: all-MiniLM-L6-v2 (a 6-layer BERT) run on
//! the CPU, mean-pooled over the attention mask and L2-normalised,
//! exactly like sentence-transformers does for this model.
//!
//! The model directory holds `model.safetensors`, `tokenizer.json` and
//! optionally `config.json` (the MiniLM-L6 BERT config is built in). The
//! tokenizer is Hugging Face's; the encoder is [`crate::bert`].
//! `scripts/fetch-model.sh` puts them in place.

use std::path::{Path, PathBuf};

use tokenizers::{Tokenizer, TruncationParams};

use crate::bert::{Arithmetic, Bert, BertConfig};
use crate::error::{Result, SearchError};

/// Longest input in tokens (sentence-transformers' max_seq_length for this
/// model); longer texts are truncated.
pub const MAX_TOKENS: usize = 256;
/// Tokens per forward pass. Texts are sorted by length and packed without
/// padding, so a batch is a token budget rather than a text count: big
/// enough for the matrix products to run at full speed on every core, small
/// enough (a few tens of MB of activations) to stay friendly to the caches.
const BATCH_TOKENS: usize = 4096;
/// Characters of a text that are tokenized at all (256 tokens need far fewer;
/// this bounds the tokenizer's work on hostile input).
const MAX_INPUT_CHARS: usize = 8_000;

/// The default model directory, relative to the workspace or data root.
pub const DEFAULT_MODEL_DIR: &str = "models/all-MiniLM-L6-v2";

/// A loaded embedding model. Cheap to share behind an `Arc`; `embed` takes
/// `&self` and may be called from several threads.
pub struct Embedder {
    model: Bert,
    tokenizer: Tokenizer,
    dir: PathBuf,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("dir", &self.dir).field("dim", &self.dim()).finish()
    }
}

impl Embedder {
    /// Loads the model from `dir` (see the module docs for its files), for
    /// the arithmetic [`Arithmetic::detect`] picks.
    pub fn load(dir: &Path) -> Result<Embedder> {
        Embedder::load_with(dir, Arithmetic::detect())
    }

    /// [`Embedder::load`] with a chosen arithmetic (an error if this CPU
    /// cannot run it).
    pub fn load_with(dir: &Path, arithmetic: Arithmetic) -> Result<Embedder> {
        let weights = dir.join("model.safetensors");
        let tok_path = dir.join("tokenizer.json");
        for (path, file) in [(&weights, "model.safetensors"), (&tok_path, "tokenizer.json")] {
            if !path.is_file() {
                return Err(SearchError::ModelMissing { dir: dir.to_path_buf(), file });
            }
        }
        let model_err = |why: String| SearchError::Model { dir: dir.to_path_buf(), why };
        let config_path = dir.join("config.json");
        let config = if config_path.is_file() {
            let text = std::fs::read_to_string(&config_path)
                .map_err(|e| SearchError::io(format!("reading {}", config_path.display()), e))?;
            serde_json::from_str::<BertConfig>(&text).map_err(|e| model_err(format!("config.json: {e}")))?
        } else {
            BertConfig::minilm_l6()
        };
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| model_err(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS.min(config.max_position_embeddings),
                ..Default::default()
            }))
            .map_err(|e| model_err(format!("tokenizer truncation: {e}")))?;
        let model = Bert::load_with(&weights, config, arithmetic).map_err(|e| model_err(e.0))?;
        Ok(Embedder { model, tokenizer, dir: dir.to_path_buf() })
    }

    /// Number of dimensions of every vector (384 for MiniLM-L6).
    pub fn dim(&self) -> usize {
        self.model.hidden_size()
    }

    /// The name of the encoder's arithmetic (see [`Arithmetic`]), part of
    /// the model fingerprint: vectors of different arithmetics never mix.
    pub fn arithmetic(&self) -> &'static str {
        self.model.arithmetic()
    }

    /// The directory the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Embeds texts: one unit-length vector per text, in order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let inputs: Vec<String> = texts.iter().map(|t| t.chars().take(MAX_INPUT_CHARS).collect()).collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| SearchError::Embedding(format!("tokenizing: {e}")))?;
        let limit = self.model.max_positions();
        let ids: Vec<&[u32]> = encodings.iter().map(|e| &e.get_ids()[..e.get_ids().len().min(limit)]).collect();
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        let mut start = 0;
        while start < order.len() {
            let mut end = start;
            let mut tokens = 0;
            while end < order.len() && (end == start || tokens + ids[order[end]].len() <= BATCH_TOKENS) {
                tokens += ids[order[end]].len();
                end += 1;
            }
            let chunk = &order[start..end];
            let seqs: Vec<&[u32]> = chunk.iter().map(|&i| ids[i]).collect();
            for (&i, v) in chunk.iter().zip(self.model.embed_packed(&seqs)) {
                out[i] = v;
            }
            start = end;
        }
        Ok(out)
    }
}
