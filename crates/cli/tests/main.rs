//! Integration tests of the `paperboy` binary, run as a user runs it, linked
//! into one test binary:
//! one link instead of one per file keeps a cold build's disk use and time down.

mod common;

mod browser;
mod cli;
mod digest;
mod digest_recs;
mod digest_serve;
mod eval_recs;
mod harvest;
mod login_burst;
mod move_to_postgres;
mod multi_server;
mod postgres;
mod signals;
mod status;
mod vectors_shared;
