//! Integration tests of `paperboy-services`
//! (the harvester, indexer, leases, the job supervisor, and the site's
//! workflows: accounts, submissions, subscriptions, papers and comments), linked into one test binary:
//! one link instead of one per file keeps a cold build's disk use and time down.

mod accounts;
mod community;
mod embed_jobs;
mod harvest;
mod indexer;
mod jobs;
mod lease;
mod signals;
mod submit;
mod subscriptions;
