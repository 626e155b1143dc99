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
use std::str::FromStr;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// An address block: `10.0.0.0/8`, `::1/128`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    addr: IpAddr,
    prefix: u8,
}

impl IpBlock {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)), u128::from(u32::from(ip)), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => masked(u128::from(net), u128::from(ip), self.prefix, 128),
            _ => false,
        }
    }
}

/// IPv4 clients of a dual-stack socket arrive as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn masked(net: u128, ip: u128, prefix: u8, bits: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(bits - prefix);
    (net >> shift) == (ip >> shift)
}

impl FromStr for IpBlock {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || format!("{s:?} is not an IP address or block: write e.g. 127.0.0.1, ::1 or 10.0.0.0/8");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let addr = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(IpBlock { addr, prefix })
    }
}

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
    fn blocks_parse_and_match() {
        let b: IpBlock = "10.0.0.0/8".parse().unwrap();
        assert!(b.contains(ip("10.200.3.4")));
        assert!(!b.contains(ip("11.0.0.1")));
        assert!(b.contains(ip("::ffff:10.1.1.1")), "IPv4-mapped addresses match IPv4 blocks");
        let one: IpBlock = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        assert!("0.0.0.0/0".parse::<IpBlock>().unwrap().contains(ip("203.0.113.9")));
        for bad in ["", "localhost", "10.0.0.0/33", "::/129", "1.2.3.4/x"] {
            let e = bad.parse::<IpBlock>().unwrap_err();
            assert!(e.contains("e.g. 127.0.0.1"), "{bad}: {e}");
        }
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
