//! Integration tests of `paperboy-web`
//! (the axum app over real HTTP), linked into one test binary:
//! one link instead of one per file keeps a cold build's disk use and time down.

mod common;

mod admin_harvest;
mod community;
mod http;
mod mail;
mod search;
