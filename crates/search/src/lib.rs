//! Paperboy's search engine: hybrid keyword + semantic search over papers,
//! similar papers, and measured relevance (BEIR evaluation).
//!
//! - [`query`]: the search-box syntax, parsed into a [`ParsedQuery`];
//! - [`keyword`]: the tantivy BM25 index and query construction;
//! - [`embed`]: all-MiniLM-L6-v2 sentence embeddings in-process, on the
//!   BERT encoder in [`bert`] (weights loaded with candle, products by `gemm`);
//! - [`hnsw`] and [`vectors`]: the persistent approximate-nearest-neighbour index,
//!   on int8 vectors ([`quant`]) re-scored with exact ones kept on disk;
//! - [`evidence`]: the extra vectors (passages, sentences) that re-score a
//!   search's candidates;
//! - [`fusion`]: combining keyword and semantic rankings;
//! - [`highlight`]: HTML-escaped snippets with `<mark>`ed matches;
//! - [`engine`]: [`SearchEngine`], the API the web and CLI use;
//! - [`eval`]: nDCG@10 / Recall@100 / MRR@10 on BEIR-format data.
//!
//! The engine knows nothing of HTTP or of the store: it is handed papers.

pub mod bert;
pub mod embed;
pub mod engine;
pub mod error;
pub mod eval;
pub mod evidence;
pub mod evidence_store;
pub mod fusion;
pub mod highlight;
pub mod hnsw;
pub mod keyword;
pub mod quant;
pub mod query;
pub mod vectors;

pub use bert::Arithmetic;
pub use embed::{Embedder, ModelIdentity, PaperVectors};
pub use engine::{Highlights, Hit, IndexStats, SearchEngine, SearchMode, SearchOptions, SearchResults, VectorFeedMark};
pub use error::{Result, SearchError};
pub use eval::{EvalOptions, EvalReport, eval_beir, eval_beir_with};
pub use evidence::Evidence;
pub use fusion::Fusion;
pub use query::ParsedQuery;
