//! Integration tests of `paperboy-store`
//! (both store backends against real databases), linked into one test binary:
//! one link instead of one per file keeps a cold build's disk use and time down.

#[macro_use]
mod common;

mod catalog;
mod community;
mod community_changes;
mod coordination;
mod embeddings;
mod harvest;
mod interests;
mod mailing;
mod schema;
mod signals;
