//! The client's address behind proxies (nginx, Varnish, a CDN): taken from
//! `X-Forwarded-For` only when the connection comes from a proxy the
//! settings trust (`FOLIO_TRUSTED_PROXIES`), and then the nearest address
//! no trusted proxy claims: a client cannot pass itself off as another by
//! sending the header itself, since each proxy appends what it saw.

use std::net::IpAddr;

/// At most this many proxy networks may be trusted.
pub(crate) const MAX_TRUSTED: usize = 64;
/// Hops of `X-Forwarded-For` read, from the right.
pub(crate) const MAX_HOPS: usize = 16;

/// Networks of trusted proxies (`10.0.0.0/8`, `127.0.0.1`, `::1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// A comma-separated list of addresses and networks.
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let expected =
            || "comma-separated addresses or networks, such as 127.0.0.1,10.0.0.0/8".to_owned();
        let mut nets = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((addr, bits)) => (addr, Some(bits)),
                None => (item, None),
            };
            let addr: IpAddr = addr.parse().map_err(|_| expected())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(expected)?,
            };
            nets.push((addr, bits));
        }
        if nets.len() > MAX_TRUSTED {
            return Err(format!("at most {MAX_TRUSTED} addresses or networks"));
        }
        Ok(Self(nets))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|&(net, bits)| in_network(ip, canonical(net), bits))
    }

    /// Who sent the request: the TCP peer, unless it is a trusted proxy;
    /// then the nearest `X-Forwarded-For` hop that is not one (or the
    /// farthest readable hop, if all are).
    pub(crate) fn client_addr(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops = forwarded_for
            .iter()
            .rev()
            .flat_map(|h| h.rsplit(','))
            .take(MAX_HOPS);
        let mut client = peer;
        for hop in hops {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if self.contains(ip) => client = ip,
                Ok(ip) => return ip,
                // Garbage from farther away than a trusted proxy: the last
                // address a trusted proxy vouched for is all we know.
                Err(_) => return client,
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_peer_may_name_the_client() {
        let trusted = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
        // Straight from the internet: the header is the client's own claim.
        assert_eq!(
            trusted.client_addr(ip("203.0.113.9"), &["198.51.100.1"]),
            ip("203.0.113.9")
        );
        // Through nginx: what nginx saw.
        assert_eq!(
            trusted.client_addr(ip("127.0.0.1"), &["198.51.100.1"]),
            ip("198.51.100.1")
        );
        // A forged hop on the left does not win over what the proxies saw.
        assert_eq!(
            trusted.client_addr(ip("127.0.0.1"), &["6.6.6.6, 198.51.100.1, 10.1.2.3"]),
            ip("198.51.100.1")
        );
        // Two headers are one list.
        assert_eq!(
            trusted.client_addr(ip("127.0.0.1"), &["6.6.6.6", "198.51.100.7"]),
            ip("198.51.100.7")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(trusted.client_addr(ip("127.0.0.1"), &[]), ip("127.0.0.1"));
        assert_eq!(
            trusted.client_addr(ip("127.0.0.1"), &["not an address"]),
            ip("127.0.0.1")
        );
        // Nothing trusted (the default): the peer, always.
        let none = TrustedProxies::parse("").unwrap();
        assert!(none.is_empty());
        assert_eq!(
            none.client_addr(ip("127.0.0.1"), &["198.51.100.1"]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn networks_match_by_prefix_in_both_families() {
        let trusted = TrustedProxies::parse("10.0.0.0/8,2001:db8::/32,::1").unwrap();
        assert!(trusted.contains(ip("10.255.0.1")));
        assert!(!trusted.contains(ip("11.0.0.1")));
        assert!(trusted.contains(ip("2001:db8:1::5")));
        assert!(!trusted.contains(ip("2001:db9::5")));
        assert!(trusted.contains(ip("::1")));
        assert!(trusted.contains(ip("::ffff:10.0.0.1")), "IPv4-mapped");
        assert!(TrustedProxies::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("1.2.3.4")));
    }

    #[test]
    fn bad_lists_are_refused() {
        for raw in ["localhost", "10.0.0.0/33", "::1/129", "1.2.3.4/x"] {
            assert!(TrustedProxies::parse(raw).is_err(), "{raw}");
        }
        let many = vec!["10.0.0.1"; MAX_TRUSTED + 1].join(",");
        assert!(TrustedProxies::parse(&many).is_err());
    }
}
