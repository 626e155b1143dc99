//! Integration tests of `paperboy-ingest`
//! (the parsers on recorded and mangled input), linked into one test binary:
//! one link instead of one per file keeps a cold build's disk use and time down.

mod common;

mod jsonl;
mod library;
mod listing_and_detect;
mod mangled;
mod xml;
