//! Sentence embeddings in-process: all-MiniLM-L6-v2 (a 6-layer BERT) run on
//! the CPU, mean-pooled over the attention mask and L2-normalised,
//! exactly like sentence-transformers does for this model.
//!
//! The model directory holds `model.safetensors`, `tokenizer.json` and
//! optionally `config.json` (the MiniLM-L6 BERT config is built in). The
//! tokenizer is Hugging Face's; the encoder is [`crate::bert`].
//! `scripts/fetch-model.sh` puts them in place.
//!
//! Every loaded model has an identity, [`ModelIdentity`]: a name (the model
//! directory's) and a fingerprint of everything that decides its vectors
//! (the weights' and tokenizer's bytes, the config, truncation, pooling,
//! [`Embedder::arithmetic`] and the kind of evidence vectors papers get,
//! [`Embedder::with_evidence`]), computed once at load. Vectors computed by
//! two processes are interchangeable exactly when their fingerprints match:
//! the store keeps vectors per identity.

use std::path::{Path, PathBuf};

use tokenizers::{Tokenizer, TruncationParams};

use crate::bert::{Arithmetic, Bert, BertConfig};
use crate::error::{Result, SearchError};
use crate::evidence::Evidence;
use crate::keyword::embedding_text;

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
    /// The same tokenizer without truncation: measures texts for passages.
    measure: Tokenizer,
    dir: PathBuf,
    identity: ModelIdentity,
    /// The fingerprint without the evidence part.
    base_fingerprint: String,
    evidence: Evidence,
}

/// A paper's vectors: its own, and its evidence ([`crate::evidence`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PaperVectors {
    /// The vector of `title. abstract` (unit length).
    pub vector: Vec<f32>,
    /// The evidence vectors, in the order of their texts (may be empty).
    pub evidence: Vec<Vec<f32>>,
}

impl From<Vec<f32>> for PaperVectors {
    /// A paper vector without evidence.
    fn from(vector: Vec<f32>) -> Self {
        PaperVectors { vector, evidence: Vec::new() }
    }
}

/// What identifies a loaded model's vectors (module docs), as plain values:
/// the store has its own type for it, which the services build from this.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelIdentity {
    /// The model directory's name (`all-MiniLM-L6-v2`), for operators.
    pub name: String,
    /// 16 lowercase hex digits; equal fingerprints give equal vectors.
    pub fingerprint: String,
    /// Vector length.
    pub dim: usize,
}

/// How vectors are pooled, part of the fingerprint (change it with the pooling).
const POOLING: &str = "mean-over-tokens,l2-normalised";

/// 64-bit FNV-1a, fed in pieces (a 90 MB weights file is read in chunks).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Hashes a file's bytes, streamed.
    fn file(path: &Path) -> Result<u64> {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| SearchError::io(format!("opening {}", path.display()), e))?;
        let mut h = Fnv::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(|e| SearchError::io(format!("reading {}", path.display()), e))?;
            if n == 0 {
                return Ok(h.0);
            }
            h.write(&buf[..n]);
        }
    }
}

/// The fingerprint of the model in `dir` (module docs).
fn fingerprint(
    weights: &Path,
    tokenizer: &Path,
    config: Option<&Path>,
    max_tokens: usize,
    arithmetic: &str,
) -> Result<String> {
    let config_hash = match config {
        Some(path) => format!("{:016x}", Fnv::file(path)?),
        None => "built-in-minilm-l6".to_string(),
    };
    let described = format!(
        "weights={:016x};tokenizer={:016x};config={config_hash};max_tokens={max_tokens};pooling={POOLING};arithmetic={}",
        Fnv::file(weights)?,
        Fnv::file(tokenizer)?,
        arithmetic
    );
    let mut h = Fnv::new();
    h.write(described.as_bytes());
    Ok(format!("{:016x}", h.0))
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
        let mut measure = tokenizer.clone();
        measure.with_truncation(None).map_err(|e| model_err(format!("tokenizer truncation: {e}")))?;
        let max_tokens = MAX_TOKENS.min(config.max_position_embeddings);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: max_tokens, ..Default::default() }))
            .map_err(|e| model_err(format!("tokenizer truncation: {e}")))?;
        let model = Bert::load_with(&weights, config, arithmetic).map_err(|e| model_err(e.0))?;
        let fingerprint = fingerprint(
            &weights,
            &tok_path,
            config_path.is_file().then_some(config_path.as_path()),
            max_tokens,
            model.arithmetic(),
        )?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "model".to_string());
        let identity = ModelIdentity { name, fingerprint: fingerprint.clone(), dim: model.hidden_size() };
        let embedder = Embedder {
            model,
            tokenizer,
            measure,
            dir: dir.to_path_buf(),
            identity,
            base_fingerprint: fingerprint,
            evidence: Evidence::Off,
        };
        Ok(embedder.with_evidence(Evidence::default()))
    }

    /// The same model computing `evidence` for papers
    /// ([`Embedder::embed_papers`]). The kind of evidence is part of the
    /// fingerprint: vectors of different kinds never mix.
    pub fn with_evidence(mut self, evidence: Evidence) -> Embedder {
        self.evidence = evidence;
        self.identity.fingerprint = if evidence == Evidence::Off {
            self.base_fingerprint.clone()
        } else {
            let mut h = Fnv::new();
            h.write(format!("{}{}", self.base_fingerprint, evidence.fingerprint_part()).as_bytes());
            format!("{:016x}", h.0)
        };
        self
    }

    /// The evidence papers get from this embedder.
    pub fn evidence(&self) -> Evidence {
        self.evidence
    }

    /// The texts of a paper's evidence vectors ([`Evidence::texts`]).
    pub fn evidence_texts(&self, title: &str, abstract_text: &str) -> Vec<String> {
        self.evidence.texts(&self.measure, title, abstract_text)
    }

    /// Embeds papers, given as `(title, abstract)`: each one's vector and
    /// its evidence, in one pass over all their texts.
    pub fn embed_papers(&self, papers: &[(&str, &str)]) -> Result<Vec<PaperVectors>> {
        let mut texts: Vec<String> = Vec::with_capacity(papers.len() * 2);
        let mut counts = Vec::with_capacity(papers.len());
        for (title, abstract_text) in papers {
            texts.push(embedding_text(title, abstract_text));
            let extra = self.evidence_texts(title, abstract_text);
            counts.push(extra.len());
            texts.extend(extra);
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let mut vectors = self.embed(&refs)?.into_iter();
        let mut out = Vec::with_capacity(papers.len());
        for n in counts {
            let vector = vectors.next().unwrap_or_default();
            out.push(PaperVectors { vector, evidence: vectors.by_ref().take(n).collect() });
        }
        Ok(out)
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

    /// The model's identity (module docs): vectors are stored and shared under it.
    pub fn model_key(&self) -> &ModelIdentity {
        &self.identity
    }

    /// Embeds texts: one unit-length vector per text, in order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let _span = tracing::debug_span!("embed.batch", texts = texts.len()).entered();
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
