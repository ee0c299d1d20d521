//! Who is asking, for the limits one client may not pass (rate limits,
//! waiting-room joins): the address of the peer Spin accepted the
//! connection from, or, when that peer is a proxy the deployment trusts, the
//! address the proxy says it forwarded for.
//!
//! Spin puts the peer's `ip:port` in the `spin-client-addr` header of every
//! request it passes to the component (a client cannot set it: Spin
//! overwrites it). Behind a load balancer every peer is the balancer, so the
//! `trusted_proxies` variable names the proxies whose `X-Forwarded-For` is
//! believed; the client is then the right-most address in that header that
//! is not itself a trusted proxy (what each trusted hop appended), never an
//! entry a client wrote further left. The variable is read only when a
//! request carries `X-Forwarded-For`, so requests without it pay nothing.

// Used by the per-client limits of issue 22, which land next.
#![allow(dead_code)]

use std::net::IpAddr;

use spin_sdk::variables;

use super::request::Request;

/// The Spin variable listing trusted proxies: IP addresses separated by
/// commas or spaces. Empty (the default): no forwarded address is believed.
pub(crate) const TRUSTED_PROXIES_VARIABLE: &str = "trusted_proxies";

/// A client's identity for per-client limits: an IP address as text, or
/// `unknown` when Spin gave none (a runtime that does not set the header:
/// every such request then shares one allowance, which fails safe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client(String);

impl Client {
    /// The client of `req`, as described in the module documentation.
    pub(crate) fn of(req: &Request) -> Client {
        let peer = req
            .header("spin-client-addr")
            .and_then(|addr| peer_ip(&addr));
        let Some(peer) = peer else {
            return Client("unknown".to_owned());
        };
        let Some(forwarded) = req.header("x-forwarded-for") else {
            return Client(peer.to_string());
        };
        let trusted = variables::get(TRUSTED_PROXIES_VARIABLE).unwrap_or_default();
        Client(forwarded_client(peer, &forwarded, &parse_trusted(&trusted)).to_string())
    }

    /// The identity as text, for Redis keys (hashed or bounded there).
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// The IP of `ip:port` or `[v6]:port` as Spin writes `spin-client-addr`.
fn peer_ip(addr: &str) -> Option<IpAddr> {
    let addr = addr.trim();
    if let Ok(socket) = addr.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    addr.parse().ok()
}

/// The trusted proxies' addresses; entries that are not addresses are
/// ignored (a typo then trusts less, never more).
fn parse_trusted(list: &str) -> Vec<IpAddr> {
    list.split([',', ' '])
        .filter_map(|entry| entry.trim().parse().ok())
        .collect()
}

/// The client a trusted chain vouches for: starting from the peer, while
/// the hop is a trusted proxy, step one entry left in `X-Forwarded-For`.
/// A malformed entry stops the walk at the last address known good.
fn forwarded_client(peer: IpAddr, forwarded: &str, trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    for entry in forwarded.rsplit(',') {
        if !trusted.contains(&client) {
            break;
        }
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) => client = ip,
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_peer_address_is_read_as_spin_writes_it() {
        assert_eq!(peer_ip("127.0.0.1:52814"), Some(ip("127.0.0.1")));
        assert_eq!(peer_ip("[::1]:8080"), Some(ip("::1")));
        assert_eq!(peer_ip("10.0.0.7"), Some(ip("10.0.0.7")));
        assert_eq!(peer_ip("nonsense"), None);
    }

    #[test]
    fn a_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let lb = ip("10.0.0.2");
        let trusted = parse_trusted("10.0.0.2, 10.0.0.3");
        // No trusted proxy: the peer is the client, whatever the header says.
        assert_eq!(
            forwarded_client(ip("198.51.100.9"), "1.2.3.4", &trusted),
            ip("198.51.100.9")
        );
        // One trusted hop: the address it appended.
        assert_eq!(
            forwarded_client(lb, "203.0.113.5", &trusted),
            ip("203.0.113.5")
        );
        // A client that forges entries to the left is not believed.
        assert_eq!(
            forwarded_client(lb, "6.6.6.6, 203.0.113.5", &trusted),
            ip("203.0.113.5")
        );
        // Two trusted hops.
        assert_eq!(
            forwarded_client(lb, "6.6.6.6, 203.0.113.5, 10.0.0.3", &trusted),
            ip("203.0.113.5")
        );
        // A malformed entry stops the walk at the last good address.
        assert_eq!(forwarded_client(lb, "junk", &trusted), lb);
        assert_eq!(forwarded_client(lb, "203.0.113.5", &[]), lb);
    }

    #[test]
    fn a_trusted_list_with_typos_trusts_less() {
        assert_eq!(
            parse_trusted("10.0.0.2,,10.0.0.x 10.0.0.3"),
            vec![ip("10.0.0.2"), ip("10.0.0.3")]
        );
        assert!(parse_trusted("").is_empty());
    }
}
