//! Integration tests of `paperboy-services`
//! (the harvester, indexer, leases and the job supervisor), linked into one test binary:
//! one link instead of one per file keeps a cold build's disk use and time down.

mod harvest_support;

mod harvest;
mod indexer;
mod jobs;
mod lease;
