//! Integration tests of `paperboy-web`
//! (the axum app over real HTTP), linked into one test binary:
//! one link instead of one per file keeps a cold build's disk use and time down.
//!
//! The tests of `src/X.rs` are in `X.rs` here, those of `src/pages/Y.rs` in
//! `pages/Y.rs`; those of `src/lib.rs` (the router and `serve`) in
//! `router.rs`. A few files follow a feature across modules instead:
//! `community.rs` (members: accounts, votes, comments, submissions),
//! `mail.rs` (email digests and account mail), `search.rs` (the search
//! page, API and feed), `for_you.rs` (a member's recommendations: the
//! pages, the API, the private feed, "not for me", and their privacy),
//! `limits.rs` (the account forms' limits and what a
//! password change revokes), `security.rs` (escaping and security headers)
//! and `signals.rs` (trending signals on cards, paper pages, `/trending`
//! and the API).
//! Shared scaffolding (test server, cookie-keeping browser, the test
//! catalog, XML and JSON checks) is in `common/`; real components (SMTP
//! sink, arXiv API replay) come from `paperboy-test-support`.

mod common;

mod api;
mod assets;
mod cache;
mod community;
mod conditional;
mod error;
mod feeds;
mod for_you;
mod fresh;
mod hardening;
mod limits;
mod mail;
mod metrics;
mod openapi;
mod params;
mod router;
mod search;
mod security;
mod signals;

mod pages {
    mod admin_harvest;
    mod comments;
    mod feed;
    mod interests;
    mod library;
    mod paper;
    mod settings;
}
