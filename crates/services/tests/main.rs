//! Integration tests of `paperboy-services`
//! (the harvester, indexer and leases), linked into one test binary:
//! one link instead of one per file keeps a cold build's disk use and time down.

mod harvest;
mod indexer;
mod lease;
