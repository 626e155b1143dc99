//! Sentence embeddings in-process: all-MiniLM-L6-v2 (a 6-layer BERT) run with
//! candle on the CPU, mean-pooled over the attention mask and L2-normalised,
//! exactly like sentence-transformers does for this model.
//!
//! The model directory holds `model.safetensors`, `tokenizer.json` and
//! optionally `config.json` (the MiniLM-L6 BERT config is built in).
//! `scripts/fetch-model.sh` puts them in place.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config, HiddenAct, PositionEmbeddingType};
use tokenizers::{Tokenizer, TruncationParams};

use crate::error::{Result, SearchError};

/// Longest input in tokens (sentence-transformers' max_seq_length for this
/// model); longer texts are truncated.
pub const MAX_TOKENS: usize = 256;
/// Texts per forward pass. Texts are sorted by length first, so a batch pads
/// little; 32 keeps the attention matrices small enough to stay in cache.
const BATCH: usize = 32;
/// Characters of a text that are tokenized at all (256 tokens need far fewer;
/// this bounds the tokenizer's work on hostile input).
const MAX_INPUT_CHARS: usize = 8_000;

/// The default model directory, relative to the workspace or data root.
pub const DEFAULT_MODEL_DIR: &str = "models/all-MiniLM-L6-v2";

/// A loaded embedding model. Cheap to share behind an `Arc`; `embed` takes
/// `&self` and may be called from several threads.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dim: usize,
    dir: PathBuf,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("dir", &self.dir).field("dim", &self.dim).finish()
    }
}

/// The all-MiniLM-L6-v2 BERT configuration, for model packages without a
/// config.json.
pub fn minilm_l6_config() -> Config {
    Config {
        vocab_size: 30522,
        hidden_size: 384,
        num_hidden_layers: 6,
        num_attention_heads: 12,
        intermediate_size: 1536,
        hidden_act: HiddenAct::Gelu,
        hidden_dropout_prob: 0.1,
        max_position_embeddings: 512,
        type_vocab_size: 2,
        initializer_range: 0.02,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
        position_embedding_type: PositionEmbeddingType::Absolute,
        use_cache: true,
        classifier_dropout: None,
        model_type: Some("bert".into()),
    }
}

impl Embedder {
    /// Loads the model from `dir` (see the module docs for its files).
    pub fn load(dir: &Path) -> Result<Embedder> {
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
            serde_json::from_str::<Config>(&text).map_err(|e| model_err(format!("config.json: {e}")))?
        } else {
            minilm_l6_config()
        };
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| model_err(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS.min(config.max_position_embeddings),
                ..Default::default()
            }))
            .map_err(|e| model_err(format!("tokenizer truncation: {e}")))?;
        let device = Device::Cpu;
        // SAFETY: the file is memory-mapped read-only; Paperboy never writes
        // model files while running, and fetch-model.sh replaces them by
        // rename, so the mapping stays valid.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &device) }
            .map_err(|e| model_err(format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &config).map_err(|e| model_err(format!("weights: {e}")))?;
        Ok(Embedder { model, tokenizer, device, dim: config.hidden_size, dir: dir.to_path_buf() })
    }

    /// Number of dimensions of every vector (384 for MiniLM-L6).
    pub fn dim(&self) -> usize {
        self.dim
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
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH) {
            let ids: Vec<&[u32]> = chunk.iter().map(|&i| encodings[i].get_ids()).collect();
            let vecs = self.forward_batch(&ids).map_err(|e| SearchError::Embedding(e.to_string()))?;
            for (&i, v) in chunk.iter().zip(vecs) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// One forward pass over token id sequences, padded to the longest.
    fn forward_batch(&self, ids: &[&[u32]]) -> candle_core::Result<Vec<Vec<f32>>> {
        let n = ids.len();
        let len = ids.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        let mut flat_ids = vec![0u32; n * len];
        let mut mask = vec![0u32; n * len];
        for (r, seq) in ids.iter().enumerate() {
            flat_ids[r * len..r * len + seq.len()].copy_from_slice(seq);
            mask[r * len..r * len + seq.len()].fill(1);
        }
        let input_ids = Tensor::from_vec(flat_ids, (n, len), &self.device)?;
        let attention = Tensor::from_vec(mask, (n, len), &self.device)?;
        let token_types = input_ids.zeros_like()?;
        let hidden = self.model.forward(&input_ids, &token_types, Some(&attention))?;
        // Mean pooling over real tokens, then L2 normalisation.
        let mask_f = attention.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask_f)?.sum(1)?;
        let counts = mask_f.sum(1)?.clamp(1e-9f32, f32::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12f32, f32::MAX)?;
        mean.broadcast_div(&norms)?.to_vec2::<f32>()
    }
}
