//! Network addresses in settings: [`IpBlock`], an address or CIDR block
//! such as the operator's trusted reverse proxies (`[server]
//! trusted_proxies`), parsed once where the settings are read.

use std::net::IpAddr;
use std::str::FromStr;

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
pub fn canonical(ip: IpAddr) -> IpAddr {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
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
}
