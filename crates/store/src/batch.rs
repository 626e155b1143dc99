//! [`PaperBatch`]: papers to upsert together, with what the store derives
//! from each one before writing it already worked out, so that an importer
//! can do that work on its parser thread instead of the writer's.

use paperboy_core::Paper;
use paperboy_core::embedding::embedding_hash;
use paperboy_core::text::title_key;

/// Papers to upsert in one transaction ([`crate::Catalog::upsert_batch`], which
/// takes the batch and can move the papers' texts into the database instead
/// of copying them), each with its id as text, its title key, its content
/// fingerprint and its embedding-text hash. [`crate::Catalog::upsert_papers`] computes these itself, and
/// when importing they are a fair share of the writer's work: the
/// fingerprint reads every byte of the paper.
#[derive(Debug, Clone, Default)]
pub struct PaperBatch {
    pub(crate) papers: Vec<Paper>,
    /// Each paper's id as text, title key and content fingerprint, in order.
    pub(crate) ids: Vec<String>,
    pub(crate) keys: Vec<String>,
    pub(crate) hashes: Vec<i64>,
    /// Each paper's `embedding_hash(title, abstract)`, as stored (bit pattern).
    pub(crate) embed_hashes: Vec<i64>,
}

impl PaperBatch {
    /// An empty batch with room for `n` papers.
    pub fn with_capacity(n: usize) -> Self {
        PaperBatch {
            papers: Vec::with_capacity(n),
            ids: Vec::with_capacity(n),
            keys: Vec::with_capacity(n),
            hashes: Vec::with_capacity(n),
            embed_hashes: Vec::with_capacity(n),
        }
    }

    /// Adds a paper (normalised and validated, like every paper a store is given).
    pub fn push(&mut self, paper: Paper) {
        self.ids.push(paper.id.to_string());
        self.keys.push(title_key(&paper.title));
        self.hashes.push(paper.content_hash() as i64);
        self.embed_hashes.push(embedding_hash(&paper.title, &paper.abstract_text) as i64);
        self.papers.push(paper);
    }

    pub fn len(&self) -> usize {
        self.papers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.papers.is_empty()
    }

    /// The papers, in the order they were added.
    pub fn papers(&self) -> &[Paper] {
        &self.papers
    }
}

impl FromIterator<Paper> for PaperBatch {
    fn from_iter<I: IntoIterator<Item = Paper>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let mut batch = PaperBatch::with_capacity(iter.size_hint().0);
        iter.for_each(|p| batch.push(p));
        batch
    }
}
