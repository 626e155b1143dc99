//! The web side of rate limiting: which client a request counts against.
//!
//! The limits themselves (attempts counted in the database before the
//! password is checked, the cap on concurrent password hashing) live in
//! `paperboy_services::limits` and are applied by the account and
//! subscription workflows; a handler passes the [`Limits`] (an
//! `Extension`, so tests can use their own) and the client's address block
//! from [`client_block`]. Over a limit the answer is 429 with `Retry-After`;
//! with every hashing permit taken, 503 with `Retry-After`.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;

pub use paperboy_services::limits::{LIMIT_WINDOW, Limits, MAX_FAILURES, SUBSCRIBE_MAX, SWEEP_AFTER};

use crate::auth::limit_block;

/// The address block the request's client is limited as (an IPv4 address,
/// or the /64 of an IPv6 address, see [`limit_block`]), after the trusted
/// proxy middleware has put the real client address in place; `unknown`
/// without one.
pub fn client_block(extensions: &axum::http::Extensions) -> String {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| limit_block(c.0.ip())).unwrap_or_else(|| "unknown".to_string())
}
