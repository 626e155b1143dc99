//! Helpers for Paperboy's integration tests, one module per kind of real
//! component a test runs against. A dev-dependency of the other crates,
//! never published; no mocks here, only real servers on loopback, real
//! databases and recorded fixtures.
//!
//! * [`smtp`]: the aiosmtpd SMTP sink (`tests/fixtures/smtp/sink.py`) as a
//!   server on a free port, and the messages it received.
//! * [`oai`]: an OAI-PMH server replaying recorded harvest pages
//!   (`tests/fixtures/harvest/`).
//! * [`arxiv_api`]: an arXiv API server replaying recorded answers
//!   (`tests/fixtures/ingest/arxiv-api/`).
//! * [`replay`]: the scripted loopback HTTP server under both replays.
//! * [`db`]: test databases: a SQLite file in a temporary directory, a fresh
//!   PostgreSQL database on the server at `PAPERBOY_TEST_PG_URL`.
//! * [`require`]: what a test does when a component is missing: skip, or
//!   fail under `CI=true`.
//! * [`fixtures`]: paths into the repository's `tests/fixtures/`.
//! * [`synthetic`]: generated papers for the load benchmarks.
//!
//! The crate opens no store: [`db`] hands out paths, URLs and connection
//! options and the caller opens the store it tests. So it does not depend on
//! `paperboy-store`, and the store's own integration tests can use it.
//! [`smtp::smtp_settings`] needs the mail crate's settings type; it is behind
//! the `mail` feature, which the mail, web and cli crates turn on.

pub mod arxiv_api;
pub mod db;
pub mod fixtures;
pub mod oai;
pub mod replay;
pub mod require;
pub mod smtp;
pub mod synthetic;
