//! Integration tests of `paperboy-search`
//! (the keyword index, embedder, vector index and fusion), linked into one test binary:
//! one link instead of one per file keeps a cold build's disk use and time down.

mod common;

mod embedding;
mod engine;
mod eval_metrics;
mod evidence;
mod fusion;
mod query_parsing;
mod vector_feed;
mod vector_index;
