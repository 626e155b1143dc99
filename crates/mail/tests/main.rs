//! Integration tests of `paperboy-mail`
//! (digest delivery through a real SMTP server), linked into one test binary:
//! one link instead of one per file keeps a cold build's disk use and time down.

mod delivery;
mod partial;
mod tls;
