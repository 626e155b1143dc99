//! The BERT encoder behind [`Embedder`](crate::Embedder): an inference-only
//! forward pass over plain `f32` buffers, with the matrix products done by
//! `gemm` (the kernels candle itself uses, with AVX-512 where the CPU has it).
//!
//! Why not candle's generic BERT: on two cores it spent more than half its
//! time outside the matrix products, in single-threaded element-wise kernels
//! (erf, exp), in allocating and zeroing a fresh tensor per operation, and on
//! padding. Here:
//! - the sequences of a batch are *packed*, not padded: the dense layers run
//!   over all real tokens at once and attention runs per sequence, so no work
//!   is spent on padding and no attention mask is needed (mean pooling over
//!   the real tokens is exactly sentence-transformers' masked mean);
//! - query, key and value are one fused product;
//! - attention runs one (sequence, head) pair per task, on all cores;
//! - GELU, softmax and layer normalisation are branch-free loops the compiler
//!   vectorises, split across cores.
//!
//! Weights are read once from `model.safetensors` through candle's loader
//! (which also widens f16/bf16 checkpoints to f32).

// The one place the workspace allows unsafe code: calling the AVX-512/AVX2
// versions of the kernels after the run-time CPU check, mapping the weights
// file, and the packed attention writing from several threads into disjoint
// parts of one output buffer.
#![allow(unsafe_code)]

use std::path::Path;

use rayon::prelude::*;
use serde::Deserialize;

/// Defines `$name`, which runs `$body` compiled for AVX-512 or AVX2 when the
/// CPU has them (checked at run time, once per call) and for the baseline
/// otherwise: the element-wise loops get 16 or 8 lanes instead of 4.
macro_rules! simd_dispatch {
    ($name:ident, $body:ident, ($($arg:ident: $ty:ty),*)) => {
        simd_dispatch!($name, $body, ($($arg: $ty),*) -> ());
    };
    ($name:ident, $body:ident, ($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn v4($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                unsafe fn v3($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F, checked just above.
                    return unsafe { v4($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, checked just above.
                    return unsafe { v3($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

mod int8;

/// The hyper-parameters the forward pass needs (a subset of BERT's
/// `config.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_hidden_act")]
    pub hidden_act: String,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
}

/// How the linear layers compute. Part of the model fingerprint
/// (`paperboy_store::ModelKey`) through [`Arithmetic::as_str`]: vectors of
/// two arithmetics are close but not equal, so they are never mixed in one
/// index. Change a name whenever a kernel change can move the vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arithmetic {
    /// Everything in f32 (`gemm`): matches sentence-transformers to a cosine
    /// of at least 0.999. The fallback on CPUs without AVX-512 VNNI.
    F32,
    /// Linear layers in int8 (weights per output channel, activations per
    /// row, i32 sums, AVX-512 VNNI); attention, softmax, GELU and layer norm
    /// stay f32. About twice as fast; cosine at least 0.99 against the f32
    /// vectors.
    Int8Vnni,
}

/// The variable that forces an arithmetic: `f32` or `int8` (unset or
/// `auto`: the fastest this CPU runs).
pub const ARITHMETIC_ENV: &str = "PAPERBOY_EMBED_ARITHMETIC";

impl Arithmetic {
    /// The name that goes into the model fingerprint.
    pub fn as_str(self) -> &'static str {
        match self {
            Arithmetic::F32 => "f32-packed-1",
            Arithmetic::Int8Vnni => "int8-vnni-1",
        }
    }

    /// Whether this CPU can run it.
    pub fn is_available(self) -> bool {
        match self {
            Arithmetic::F32 => true,
            Arithmetic::Int8Vnni => int8::available(),
        }
    }

    /// What [`Bert::load`] uses in this process: int8 where the CPU has
    /// AVX-512 VNNI, else f32; `PAPERBOY_EMBED_ARITHMETIC=f32` forces f32
    /// (`int8` on a CPU without VNNI falls back to f32 with a warning).
    pub fn detect() -> Arithmetic {
        let wanted = std::env::var(ARITHMETIC_ENV).unwrap_or_default();
        match wanted.trim().to_ascii_lowercase().as_str() {
            "f32" => Arithmetic::F32,
            "" | "auto" | "int8" => {
                if Arithmetic::Int8Vnni.is_available() {
                    Arithmetic::Int8Vnni
                } else {
                    if wanted.trim() == "int8" {
                        tracing::warn!("{ARITHMETIC_ENV}=int8 but this CPU has no AVX-512 VNNI: embedding in f32");
                    }
                    Arithmetic::F32
                }
            }
            other => {
                tracing::warn!("{ARITHMETIC_ENV}={other:?} is not f32, int8 or auto: choosing automatically");
                if Arithmetic::Int8Vnni.is_available() { Arithmetic::Int8Vnni } else { Arithmetic::F32 }
            }
        }
    }
}

/// The arithmetic [`Bert::load`] picks in this process (see
/// [`Arithmetic::detect`]), by name: part of the model fingerprint. A loaded
/// model says its own with [`Bert::arithmetic`].
pub fn arithmetic() -> &'static str {
    Arithmetic::detect().as_str()
}

fn default_hidden_act() -> String {
    "gelu".into()
}
fn default_eps() -> f64 {
    1e-12
}
fn default_type_vocab() -> usize {
    2
}

impl BertConfig {
    /// all-MiniLM-L6-v2, for model packages without a config.json.
    pub fn minilm_l6() -> BertConfig {
        BertConfig {
            vocab_size: 30522,
            hidden_size: 384,
            num_hidden_layers: 6,
            num_attention_heads: 12,
            intermediate_size: 1536,
            hidden_act: "gelu".into(),
            layer_norm_eps: 1e-12,
            max_position_embeddings: 512,
            type_vocab_size: 2,
        }
    }
}

/// `y = x · Wᵀ + b` with `W` stored as PyTorch does, `(out, in)` row-major.
struct Linear {
    w: Vec<f32>,
    b: Vec<f32>,
    n_in: usize,
    n_out: usize,
}

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: Norm,
    up: Linear,
    down: Linear,
    out_norm: Norm,
}

/// A loaded BERT encoder.
pub struct Bert {
    cfg: BertConfig,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type0: Vec<f32>,
    emb_norm: Norm,
    layers: Vec<Layer>,
    /// The int8 copies of each layer's linear maps, when that is the
    /// arithmetic.
    quant: Option<Vec<QLayer>>,
    arithmetic: Arithmetic,
    eps: f32,
}

struct QLayer {
    qkv: int8::QLinear,
    attn_out: int8::QLinear,
    up: int8::QLinear,
    down: int8::QLinear,
}

/// Loading failed: the message says which tensor and why.
#[derive(Debug)]
pub struct LoadError(pub String);

impl Bert {
    /// Reads the weights from a safetensors file, for the arithmetic
    /// [`Arithmetic::detect`] picks. Tensor names may carry a `bert.` prefix
    /// (checkpoints saved from `BertForXxx`) or not.
    pub fn load(weights: &Path, cfg: BertConfig) -> Result<Bert, LoadError> {
        Bert::load_with(weights, cfg, Arithmetic::detect())
    }

    /// [`Bert::load`] with a chosen arithmetic (an error if this CPU cannot
    /// run it).
    pub fn load_with(weights: &Path, cfg: BertConfig, arithmetic: Arithmetic) -> Result<Bert, LoadError> {
        if !arithmetic.is_available() {
            return Err(LoadError(format!(
                "arithmetic {} needs AVX-512 VNNI, which this CPU lacks: use f32",
                arithmetic.as_str()
            )));
        }
        if cfg.hidden_act != "gelu" {
            return Err(LoadError(format!(
                "hidden_act {:?} is not supported (only \"gelu\", as in all BERT sentence encoders)",
                cfg.hidden_act
            )));
        }
        if cfg.num_attention_heads == 0 || !cfg.hidden_size.is_multiple_of(cfg.num_attention_heads) {
            return Err(LoadError(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                cfg.hidden_size, cfg.num_attention_heads
            )));
        }
        // SAFETY: the file is memory-mapped read-only and copied into owned
        // buffers before this function returns; model files are replaced by
        // rename, never rewritten in place.
        let st = unsafe { candle_core::safetensors::MmapedSafetensors::new(weights) }
            .map_err(|e| LoadError(format!("{}: {e}", weights.display())))?;
        let prefix = if st.get("embeddings.word_embeddings.weight").is_ok() { "" } else { "bert." };
        let h = cfg.hidden_size;
        let tensor = |name: &str, shape: &[usize]| -> Result<Vec<f32>, LoadError> {
            let full = format!("{prefix}{name}");
            let t = st.load(&full, &candle_core::Device::Cpu).map_err(|e| LoadError(format!("tensor {full}: {e}")))?;
            if t.dims() != shape {
                return Err(LoadError(format!("tensor {full} has shape {:?}, expected {shape:?}", t.dims())));
            }
            t.to_dtype(candle_core::DType::F32)
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| LoadError(format!("tensor {full}: {e}")))
        };
        let linear = |name: &str, n_out: usize, n_in: usize| -> Result<Linear, LoadError> {
            Ok(Linear {
                w: tensor(&format!("{name}.weight"), &[n_out, n_in])?,
                b: tensor(&format!("{name}.bias"), &[n_out])?,
                n_in,
                n_out,
            })
        };
        let norm = |name: &str| -> Result<Norm, LoadError> {
            Ok(Norm { gamma: tensor(&format!("{name}.weight"), &[h])?, beta: tensor(&format!("{name}.bias"), &[h])? })
        };
        let word = tensor("embeddings.word_embeddings.weight", &[cfg.vocab_size, h])?;
        let position = tensor("embeddings.position_embeddings.weight", &[cfg.max_position_embeddings, h])?;
        let types = tensor("embeddings.token_type_embeddings.weight", &[cfg.type_vocab_size, h])?;
        let emb_norm = norm("embeddings.LayerNorm")?;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            let q = linear(&format!("{p}.attention.self.query"), h, h)?;
            let k = linear(&format!("{p}.attention.self.key"), h, h)?;
            let v = linear(&format!("{p}.attention.self.value"), h, h)?;
            // Rows of W are output features, so stacking the three weight
            // matrices stacks their outputs: [q | k | v] per token.
            let qkv = Linear { w: [q.w, k.w, v.w].concat(), b: [q.b, k.b, v.b].concat(), n_in: h, n_out: 3 * h };
            layers.push(Layer {
                qkv,
                attn_out: linear(&format!("{p}.attention.output.dense"), h, h)?,
                attn_norm: norm(&format!("{p}.attention.output.LayerNorm"))?,
                up: linear(&format!("{p}.intermediate.dense"), cfg.intermediate_size, h)?,
                down: linear(&format!("{p}.output.dense"), h, cfg.intermediate_size)?,
                out_norm: norm(&format!("{p}.output.LayerNorm"))?,
            });
        }
        let quant = (arithmetic == Arithmetic::Int8Vnni).then(|| {
            let q = |l: &Linear| int8::QLinear::new(&l.w, &l.b, l.n_in, l.n_out);
            layers
                .iter()
                .map(|l| QLayer { qkv: q(&l.qkv), attn_out: q(&l.attn_out), up: q(&l.up), down: q(&l.down) })
                .collect()
        });
        Ok(Bert {
            quant,
            arithmetic,
            eps: cfg.layer_norm_eps as f32,
            token_type0: types[..h].to_vec(),
            cfg,
            word,
            position,
            emb_norm,
            layers,
        })
    }

    /// The name of this model's arithmetic, for the model fingerprint.
    pub fn arithmetic(&self) -> &'static str {
        self.arithmetic.as_str()
    }

    /// Width of the hidden states (and of the pooled vectors).
    pub fn hidden_size(&self) -> usize {
        self.cfg.hidden_size
    }

    /// Longest sequence the position embeddings allow.
    pub fn max_positions(&self) -> usize {
        self.cfg.max_position_embeddings
    }

    /// Mean-pooled, L2-normalised sentence vectors for a batch of token id
    /// sequences (each already truncated to at most [`max_positions`]
    /// tokens). Empty sequences give zero vectors.
    ///
    /// [`max_positions`]: Bert::max_positions
    pub fn embed_packed(&self, seqs: &[&[u32]]) -> Vec<Vec<f32>> {
        let h = self.cfg.hidden_size;
        let mut offsets = Vec::with_capacity(seqs.len());
        let mut total = 0;
        for s in seqs {
            assert!(s.len() <= self.cfg.max_position_embeddings, "sequence longer than the position table");
            offsets.push(total);
            total += s.len();
        }
        if total == 0 {
            return vec![vec![0.0; h]; seqs.len()];
        }
        let mut x = vec![0.0f32; total * h];
        self.embed_tokens(seqs, &offsets, &mut x);
        let mut qkv = vec![0.0f32; total * 3 * h];
        let mut ctx = vec![0.0f32; total * h];
        let mut tmp = vec![0.0f32; total * h];
        let mut inter = vec![0.0f32; total * self.cfg.intermediate_size];
        let spans: Vec<(usize, usize)> =
            offsets.iter().zip(seqs).map(|(&o, s)| (o, s.len())).filter(|&(_, l)| l > 0).collect();
        for (i, layer) in self.layers.iter().enumerate() {
            let q = self.quant.as_ref().map(|q| &q[i]);
            product(&x, total, &layer.qkv, q.map(|q| &q.qkv), &mut qkv, false);
            self.attention(&qkv, &spans, &mut ctx);
            product(&ctx, total, &layer.attn_out, q.map(|q| &q.attn_out), &mut tmp, false);
            add_norm(&mut x, &tmp, &layer.attn_norm, self.eps, h);
            product(&x, total, &layer.up, q.map(|q| &q.up), &mut inter, true);
            product(&inter, total, &layer.down, q.map(|q| &q.down), &mut tmp, false);
            add_norm(&mut x, &tmp, &layer.out_norm, self.eps, h);
        }
        spans_pool(&x, seqs, &offsets, h)
    }

    /// Word + position + token-type embeddings, layer-normalised, into `x`.
    fn embed_tokens(&self, seqs: &[&[u32]], offsets: &[usize], x: &mut [f32]) {
        let h = self.cfg.hidden_size;
        let vocab = self.cfg.vocab_size;
        for (s, &o) in seqs.iter().zip(offsets) {
            for (p, &id) in s.iter().enumerate() {
                // Ids outside the vocabulary cannot come from the model's own
                // tokenizer; map them to [PAD] rather than index out of range.
                let id = if (id as usize) < vocab { id as usize } else { 0 };
                let row = &mut x[(o + p) * h..(o + p + 1) * h];
                let w = &self.word[id * h..(id + 1) * h];
                let pe = &self.position[p * h..(p + 1) * h];
                for j in 0..h {
                    row[j] = w[j] + pe[j] + self.token_type0[j];
                }
            }
        }
        let zeros = vec![0.0f32; x.len()];
        add_norm(x, &zeros, &self.emb_norm, self.eps, h);
    }

    /// Multi-head self-attention of every sequence: `qkv` holds `[q | k | v]`
    /// per token, `ctx` receives the heads' outputs side by side.
    fn attention(&self, qkv: &[f32], spans: &[(usize, usize)], ctx: &mut [f32]) {
        let h = self.cfg.hidden_size;
        let heads = self.cfg.num_attention_heads;
        let d = h / heads;
        let scale = 1.0 / (d as f32).sqrt();
        let out = SendPtr(ctx.as_mut_ptr());
        let out_len = ctx.len();
        let tasks: Vec<(usize, usize, usize)> =
            spans.iter().flat_map(|&(o, l)| (0..heads).map(move |hd| (o, l, hd))).collect();
        tasks.par_iter().for_each_init(Vec::new, |scores: &mut Vec<f32>, &(o, l, hd)| {
            assert!((o + l) * 3 * h <= qkv.len() && (o + l) * h <= out_len);
            scores.clear();
            scores.resize(l * l, 0.0);
            let q = qkv[o * 3 * h + hd * d..].as_ptr();
            let k = qkv[o * 3 * h + h + hd * d..].as_ptr();
            let v = qkv[o * 3 * h + 2 * h + hd * d..].as_ptr();
            let rs = (3 * h) as isize;
            // SAFETY: every row read is below (o + l) * 3h (asserted above);
            // scores is l×l. ctx rows o..o+l, columns hd·d..(hd+1)·d belong
            // to this task alone, so the writes through `out` never overlap.
            unsafe {
                gemm::gemm(
                    l,
                    l,
                    d,
                    scores.as_mut_ptr(),
                    1,
                    l as isize,
                    false,
                    q,
                    1,
                    rs,
                    k,
                    rs,
                    1,
                    0.0,
                    scale,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            softmax_rows(scores, l);
            let dst = out.get();
            unsafe {
                gemm::gemm(
                    l,
                    d,
                    l,
                    dst.add(o * h + hd * d),
                    1,
                    h as isize,
                    false,
                    scores.as_ptr(),
                    1,
                    l as isize,
                    v,
                    1,
                    rs,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        });
    }
}

/// A raw pointer that tasks writing disjoint regions may share.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: only used for writes to disjoint regions, see `attention`.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

impl SendPtr {
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// `out = x · Wᵀ + b` (then GELU if `gelu`) with the int8 copy `q` when
/// there is one, else in f32.
fn product(x: &[f32], t: usize, lin: &Linear, q: Option<&int8::QLinear>, out: &mut [f32], gelu: bool) {
    match q {
        Some(q) => q.forward(x, t, out, gelu),
        None => {
            linear(x, t, lin, out);
            if gelu {
                gelu_inplace(&mut out[..t * lin.n_out]);
            }
        }
    }
}

/// `out (t×n_out) = x (t×n_in) · Wᵀ + b`, on all cores.
fn linear(x: &[f32], t: usize, lin: &Linear, out: &mut [f32]) {
    let out = &mut out[..t * lin.n_out];
    assert!(x.len() >= t * lin.n_in && lin.w.len() == lin.n_in * lin.n_out);
    if t <= FEW_TOKENS {
        return linear_few(x, t, lin, out);
    }
    for row in out.chunks_exact_mut(lin.n_out) {
        row.copy_from_slice(&lin.b);
    }
    // SAFETY: dst is t×n_out row-major (length checked by the slice above);
    // lhs is t×n_in row-major; rhs element (i, j) is W[j][i], inside W.
    unsafe {
        gemm::gemm(
            t,
            lin.n_out,
            lin.n_in,
            out.as_mut_ptr(),
            1,
            lin.n_out as isize,
            true,
            x.as_ptr(),
            1,
            lin.n_in as isize,
            lin.w.as_ptr(),
            lin.n_in as isize,
            1,
            1.0,
            1.0,
            false,
            false,
            false,
            // A short query is faster on one core than split across two.
            if t * lin.n_in * lin.n_out < PARALLEL_FLOPS {
                gemm::Parallelism::None
            } else {
                gemm::Parallelism::Rayon(0)
            },
        );
    }
}

/// Below this many multiply-adds a product runs on the calling thread.
const PARALLEL_FLOPS: usize = 64 * 384 * 384;

/// Up to this many tokens (a search query), products skip `gemm`: it would
/// copy ("pack") the whole weight matrix for a handful of rows, which costs
/// more than the arithmetic. Each weight row is read once instead and dotted
/// with every token.
const FEW_TOKENS: usize = 32;
/// Weight rows per parallel task in [`linear_few`].
const ROWS_PER_DOT_TASK: usize = 64;

/// [`linear`] for a few tokens: computes `outᵀ` block by block of weight
/// rows (on all cores), then transposes it into place.
fn linear_few(x: &[f32], t: usize, lin: &Linear, out: &mut [f32]) {
    let mut out_t = vec![0.0f32; lin.n_out * t];
    out_t.par_chunks_mut(ROWS_PER_DOT_TASK * t).zip(lin.w.par_chunks(ROWS_PER_DOT_TASK * lin.n_in)).for_each(
        |(dst, rows)| {
            dot_rows(rows, &x[..t * lin.n_in], lin.n_in, dst);
        },
    );
    for (j, col) in out_t.chunks_exact(t).enumerate() {
        let b = lin.b[j];
        for (i, v) in col.iter().enumerate() {
            out[i * lin.n_out + j] = v + b;
        }
    }
}

simd_dispatch!(dot_rows, dot_rows_body, (rows: &[f32], x: &[f32], n: usize, dst: &mut [f32]));

/// `dst[r·t + i] = rows[r] · x[i]` for every row `r` of `rows` and token `i`
/// of `x` (both row-major with rows of `n`).
#[inline(always)]
fn dot_rows_body(rows: &[f32], x: &[f32], n: usize, dst: &mut [f32]) {
    let t = x.len() / n;
    for (row, out) in rows.chunks_exact(n).zip(dst.chunks_exact_mut(t)) {
        for (tok, o) in x.chunks_exact(n).zip(out.iter_mut()) {
            let mut acc = [0.0f32; 16];
            let mut a = row.chunks_exact(16);
            let mut b = tok.chunks_exact(16);
            for (ca, cb) in (&mut a).zip(&mut b) {
                for k in 0..16 {
                    acc[k] += ca[k] * cb[k];
                }
            }
            let tail: f32 = a.remainder().iter().zip(b.remainder()).map(|(p, q)| p * q).sum();
            *o = acc.iter().sum::<f32>() + tail;
        }
    }
}

/// Rows per parallel task of the element-wise kernels.
const ROWS_PER_TASK: usize = 32;

/// `x = LayerNorm(x + y)` row by row.
fn add_norm(x: &mut [f32], y: &[f32], norm: &Norm, eps: f32, h: usize) {
    x.par_chunks_mut(h * ROWS_PER_TASK)
        .zip(y.par_chunks(h * ROWS_PER_TASK))
        .for_each(|(xs, ys)| add_norm_rows(xs, ys, &norm.gamma, &norm.beta, eps, h));
}

simd_dispatch!(add_norm_rows, add_norm_rows_body, (xs: &mut [f32], ys: &[f32], gamma: &[f32], beta: &[f32], eps: f32, h: usize));

#[inline(always)]
fn add_norm_rows_body(xs: &mut [f32], ys: &[f32], gamma: &[f32], beta: &[f32], eps: f32, h: usize) {
    for (row, add) in xs.chunks_exact_mut(h).zip(ys.chunks_exact(h)) {
        for (a, b) in row.iter_mut().zip(add) {
            *a += *b;
        }
        let mean = sum(row) / h as f32;
        let mut sq = [0.0f32; 8];
        let mut chunks = row.chunks_exact(8);
        for c in &mut chunks {
            for i in 0..8 {
                let d = c[i] - mean;
                sq[i] += d * d;
            }
        }
        let var = sq.iter().sum::<f32>() + chunks.remainder().iter().map(|a| (a - mean) * (a - mean)).sum::<f32>();
        let inv = 1.0 / (var / h as f32 + eps).sqrt();
        for ((a, g), b) in row.iter_mut().zip(gamma).zip(beta) {
            *a = (*a - mean) * inv * g + b;
        }
    }
}

/// Exact (erf) GELU, as BERT's `"gelu"`: `x · Φ(x)`.
fn gelu_inplace(x: &mut [f32]) {
    x.par_chunks_mut(16 * 1024).for_each(gelu_chunk);
}

simd_dispatch!(gelu_chunk, gelu_chunk_body, (chunk: &mut [f32]));

#[inline(always)]
fn gelu_chunk_body(chunk: &mut [f32]) {
    for v in chunk {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

// Softmax of each row of a row-major matrix with rows of `l`, in place.
simd_dispatch!(softmax_rows, softmax_rows_body, (m: &mut [f32], l: usize));

#[inline(always)]
fn softmax_rows_body(m: &mut [f32], l: usize) {
    for row in m.chunks_exact_mut(l) {
        softmax_inplace(row);
    }
}

/// Softmax of one row, in place.
#[inline(always)]
fn softmax_inplace(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for v in row.iter_mut() {
        *v = exp(*v - max);
    }
    let inv = 1.0 / sum(row);
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// Sum with eight independent accumulators, so that it vectorises (a single
/// running float sum cannot be reordered by the compiler).
#[inline(always)]
fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// Mean of each sequence's token vectors, L2-normalised.
fn spans_pool(x: &[f32], seqs: &[&[u32]], offsets: &[usize], h: usize) -> Vec<Vec<f32>> {
    seqs.iter()
        .zip(offsets)
        .map(|(s, &o)| {
            let mut v = vec![0.0f32; h];
            if s.is_empty() {
                return v;
            }
            for row in x[o * h..(o + s.len()) * h].chunks_exact(h) {
                for (a, b) in v.iter_mut().zip(row) {
                    *a += *b;
                }
            }
            let n = s.len() as f32;
            v.iter_mut().for_each(|a| *a /= n);
            let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt().max(1e-12);
            v.iter_mut().for_each(|a| *a /= norm);
            v
        })
        .collect()
}

/// `e^x` in single precision without branches (so loops over it vectorise):
/// `2^n · e^r` with `|r| ≤ ln2/2` and a degree-6 polynomial for `e^r`.
/// Relative error about 2e-7 over the range that matters here.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // Round to nearest by adding 1.5·2²³: the sum's low mantissa bits are
    // then n itself, so no libm call and no float-to-int conversion (both
    // would stop the loop from being vectorised).
    const SHIFT: f32 = 12_582_912.0;
    let shifted = x * std::f32::consts::LOG2_E + SHIFT;
    let n = shifted - SHIFT;
    // ln 2 split in two for an exact-enough reduction.
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0
        + r * (1.0 + r * (0.5 + r * (1.666_666_7e-1 + r * (4.166_666_8e-2 + r * (8.333_334e-3 + r * 1.388_888_9e-3)))));
    let n_int = shifted.to_bits().wrapping_sub(SHIFT.to_bits()) as i32;
    let bits = (n_int.wrapping_add(127) as u32) << 23;
    p * f32::from_bits(bits)
}

/// The error function, from the complementary error function's Chebyshev
/// fit (Numerical Recipes' `erfcc`: fractional error below 1.2e-7).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_2
        + t * (1.000_023_7
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_204 + t * (1.488_515_9 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * exp(poly);
    (1.0 - erfc).copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std_closely() {
        let mut worst = 0.0f32;
        let mut x = -80.0f32;
        while x < 80.0 {
            let rel = ((exp(x) - x.exp()) / x.exp()).abs();
            worst = worst.max(rel);
            x += 0.0137;
        }
        assert!(worst < 1e-6, "worst relative error {worst}");
        assert!(exp(-1000.0) < 1e-37);
    }

    #[test]
    fn erf_matches_reference_values() {
        // erf values to 8 digits (Abramowitz & Stegun table 7.1).
        for (x, want) in
            [(0.0f32, 0.0f32), (0.5, 0.520_499_9), (1.0, 0.842_700_8), (2.0, 0.995_322_3), (-1.0, -0.842_700_8)]
        {
            assert!((erf(x) - want).abs() < 2e-7, "erf({x}) = {} want {want}", erf(x));
        }
        assert!((erf(6.0) - 1.0).abs() < 1e-7);
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let mut row = vec![1.0, 3.0, 2.0, -50.0];
        softmax_inplace(&mut row);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(row[1] > row[2] && row[2] > row[0] && row[0] > row[3]);
    }
}
