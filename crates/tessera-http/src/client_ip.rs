//! The client's address, as rate limits and sessions see it (API.md §5): `X-Forwarded-For` counts only
//! when the peer is a trusted proxy; then the client is the rightmost entry that is not a trusted proxy
//! (the leftmost when all are).

use std::net::IpAddr;

use actix_web::http::header::HeaderName;
use actix_web::HttpRequest;
use ipnet::IpNet;

/// A constant name: looked up on every OAuth client authentication, never parsed again.
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

fn trusted(ip: &IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|n| n.contains(ip))
}

pub fn resolve(peer: Option<IpAddr>, forwarded_for: Option<&str>, proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted(&peer, proxies) {
        return Some(peer);
    }
    let Some(header) = forwarded_for else {
        return Some(peer);
    };
    let chain: Vec<IpAddr> = header.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    chain
        .iter()
        .rev()
        .find(|ip| !trusted(ip, proxies))
        .or_else(|| chain.first())
        .copied()
        .or(Some(peer))
}

/// The client address of a request (None when there is no peer, e.g. in unit tests).
pub fn client_addr(req: &HttpRequest, proxies: &[IpNet]) -> Option<IpAddr> {
    let xff = req.headers().get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok());
    resolve(req.peer_addr().map(|a| a.ip()), xff, proxies)
}

/// The client address of a request, as text ("unknown" when there is no peer, e.g. in unit tests).
pub fn client_ip(req: &HttpRequest, proxies: &[IpNet]) -> String {
    client_addr(req, proxies).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_peers() {
        let proxies = nets(&["127.0.0.0/8", "10.0.0.0/8"]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            resolve(Some(ip("203.0.113.9")), Some("1.2.3.4"), &proxies),
            Some(ip("203.0.113.9")),
            "untrusted peer: header ignored"
        );
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), Some("1.2.3.4"), &proxies),
            Some(ip("1.2.3.4"))
        );
        assert_eq!(
            resolve(
                Some(ip("127.0.0.1")),
                Some("6.6.6.6, 1.2.3.4, 10.0.0.5"),
                &proxies
            ),
            Some(ip("1.2.3.4")),
            "spoofed left entries do not count"
        );
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), Some("10.0.0.7, 10.0.0.5"), &proxies),
            Some(ip("10.0.0.7")),
            "all trusted: leftmost"
        );
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), Some("garbage"), &proxies),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), None, &proxies),
            Some(ip("127.0.0.1"))
        );
    }
}
