//! Integration tests of `paperboy-services`
//! (the harvester, indexer and leases, and the site's workflows: accounts,
//! submissions, subscriptions, papers and comments), linked into one test binary:
//! one link instead of one per file keeps a cold build's disk use and time down.

mod accounts;
mod community;
mod harvest;
mod indexer;
mod lease;
mod submit;
mod subscriptions;
