//! Client addresses behind a reverse proxy.
//!
//! Rate limits key on the client's IP address, which is the TCP peer's
//! unless the peer is one of the operator's *trusted proxies*
//! (`[server] trusted_proxies`). Then the client is read from
//! `X-Forwarded-For`: walking it from the right (the entry the nearest proxy
//! appended), trusted proxies are skipped and the first other address is the
//! client's. Entries to its left were written by the client itself and are
//! ignored, so nobody can pick their own rate-limit key by sending the
//! header. Without trusted proxies the header is never read.
//!
//! The middleware rewrites the request's `ConnectInfo`, so everything
//! downstream ([`crate::auth::client_ip`]) sees the client's address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

pub use paperboy_core::net::IpBlock;
use paperboy_core::net::canonical;

use crate::AppState;

/// The client's address given the TCP `peer`, the `X-Forwarded-For` values
/// (in header order) and the trusted proxies.
pub fn client_addr(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpBlock]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|b| b.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops = forwarded_for.iter().flat_map(|v| v.split(',')).map(str::trim).collect::<Vec<_>>();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A malformed entry ends the walk: nothing to its left can be trusted.
        let Ok(ip) = hop.parse::<IpAddr>().map(canonical) else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// Replaces the peer address with the forwarded client's when the peer is
/// a trusted proxy.
pub async fn middleware(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    if !st.config.trusted_proxies.is_empty()
        && let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied()
    {
        let values: Vec<&str> =
            req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        let client = client_addr(peer.ip(), &values, &st.config.trusted_proxies);
        if client != peer.ip() {
            req.extensions_mut().insert(ConnectInfo(SocketAddr::new(client, peer.port())));
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn blocks(list: &[&str]) -> Vec<IpBlock> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_trusted() {
        let trusted = blocks(&["127.0.0.1"]);
        assert_eq!(client_addr(ip("203.0.113.9"), &["198.51.100.1"], &trusted), ip("203.0.113.9"));
        assert_eq!(client_addr(ip("127.0.0.1"), &["198.51.100.1"], &[]), ip("127.0.0.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = blocks(&["127.0.0.1", "10.0.0.0/8"]);
        // The client claims to be 1.1.1.1; the proxies saw 198.51.100.7.
        let client = client_addr(ip("127.0.0.1"), &["1.1.1.1, 198.51.100.7, 10.0.0.5"], &trusted);
        assert_eq!(client, ip("198.51.100.7"));
        // Several header lines count as one list, in order.
        let client = client_addr(ip("127.0.0.1"), &["1.1.1.1", "198.51.100.7"], &trusted);
        assert_eq!(client, ip("198.51.100.7"));
        // All hops trusted: the leftmost one is as far as we can see.
        assert_eq!(client_addr(ip("127.0.0.1"), &["10.0.0.9, 10.0.0.5"], &trusted), ip("10.0.0.9"));
        // No header: the proxy itself.
        assert_eq!(client_addr(ip("127.0.0.1"), &[], &trusted), ip("127.0.0.1"));
        // Garbage stops the walk at the last good hop.
        assert_eq!(client_addr(ip("127.0.0.1"), &["evil, 10.0.0.5"], &trusted), ip("10.0.0.5"));
    }
}
