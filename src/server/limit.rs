//! Per-client rate limiting with the generic cell rate algorithm (GCRA): each client may
//! make `burst` requests at once, then one every `1 / per_second` seconds. A client is its
//! address; behind a trusted proxy, the address that proxy saw (`X-Forwarded-For`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A rate limit per client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed at once above the sustained rate.
    pub burst: u32,
}

/// The limiter's state: each client's theoretical arrival time.
#[derive(Debug)]
pub(crate) struct Limiter {
    limit: RateLimit,
    clients: Mutex<HashMap<IpAddr, Instant>>,
}

/// Clients remembered at most; past this, clients whose allowance is full again are forgotten.
const MAX_CLIENTS: usize = 100_000;

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Limiter {
        Limiter { limit, clients: Mutex::new(HashMap::new()) }
    }

    /// Admits a request from `client` at `now`, or says how long to wait.
    pub(crate) fn admit(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let interval = Duration::from_secs_f64(1.0 / self.limit.per_second.max(1e-9));
        let tolerance = interval * self.limit.burst.max(1);
        let mut clients = self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if clients.len() >= MAX_CLIENTS {
            clients.retain(|_, tat| *tat > now);
        }
        let tat = clients.get(&client).copied().unwrap_or(now).max(now);
        let ahead = tat - now;
        if ahead + interval > tolerance {
            return Err(ahead + interval - tolerance);
        }
        clients.insert(client, tat + interval);
        Ok(())
    }
}

/// The client of a request: the peer, or, when the peer is a trusted proxy, the nearest
/// address in `X-Forwarded-For` that is not itself a trusted proxy.
pub(crate) fn client(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(chain) = forwarded_for else { return peer };
    // The rightmost entries were added by the proxies nearest to us.
    chain
        .split(',')
        .rev()
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let limiter = Limiter::new(RateLimit { per_second: 10.0, burst: 3 });
        let t0 = Instant::now();
        let a = ip("10.0.0.1");
        assert!((0..3).all(|_| limiter.admit(a, t0).is_ok()));
        let wait = limiter.admit(a, t0).unwrap_err();
        assert!(wait > Duration::from_millis(99) && wait <= Duration::from_millis(100), "{wait:?}");
        assert!(limiter.admit(ip("10.0.0.2"), t0).is_ok(), "clients are limited separately");
        assert!(limiter.admit(a, t0 + Duration::from_millis(100)).is_ok());
        assert!(limiter.admit(a, t0 + Duration::from_millis(100)).is_err());
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy = ip("10.0.0.9");
        let trusted = [proxy];
        assert_eq!(client(ip("198.51.100.7"), Some("1.2.3.4"), &trusted), ip("198.51.100.7"));
        assert_eq!(client(proxy, Some("1.2.3.4"), &trusted), ip("1.2.3.4"));
        assert_eq!(client(proxy, Some("6.6.6.6, 1.2.3.4, 10.0.0.9"), &trusted), ip("1.2.3.4"));
        assert_eq!(client(proxy, Some("garbage"), &trusted), proxy);
        assert_eq!(client(proxy, None, &trusted), proxy);
    }
}
