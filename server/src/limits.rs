//! Abuse limits enforced at the edge: request and send rates, connection and registration
//! rates per IP, connection counts per user and per IP, and failed-login throttling. Every
//! refusal is a typed `rate_limited` error with a retry-after, never a silent drop.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use confab_proto::{ErrorCode, UserId, WireError};
use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Config;

/// A refusal with how long to wait.
pub fn rate_limited(what: &str, wait: Duration) -> WireError {
    let ms = wait.as_millis().max(1) as u64;
    let mut e = WireError::new(
        ErrorCode::RateLimited,
        format!("too many {what}; retry in {ms} ms"),
    );
    e.retry_after_ms = Some(ms);
    e
}

fn per_second(n: u32) -> Option<Quota> {
    let n = NonZeroU32::new(n)?;
    Some(Quota::per_second(n).allow_burst(n.saturating_mul(NonZeroU32::new(2).unwrap())))
}

fn per_minute(n: u32) -> Option<Quota> {
    let n = NonZeroU32::new(n)?;
    Some(Quota::per_minute(n).allow_burst(n))
}

type Keyed<K> = Option<DefaultKeyedRateLimiter<K>>;

fn check_keyed<K: std::hash::Hash + Eq + Clone>(
    limiter: &Keyed<K>,
    key: &K,
    what: &str,
) -> Result<(), WireError> {
    match limiter {
        None => Ok(()),
        Some(l) => l.check_key(key).map_err(|not_until| {
            rate_limited(
                what,
                not_until.wait_time_from(DefaultClock::default().now()),
            )
        }),
    }
}

pub struct Limits {
    request_quota: Option<Quota>,
    sends: Keyed<UserId>,
    connects: Keyed<IpAddr>,
    registrations: Keyed<IpAddr>,
    max_per_user: usize,
    max_per_ip: usize,
    per_ip: DashMap<IpAddr, usize>,
    pub logins: LoginGuard,
}

impl Limits {
    pub fn new(c: &Config) -> Limits {
        Limits {
            request_quota: per_second(c.rate_requests_per_connection),
            sends: per_second(c.rate_sends_per_user).map(RateLimiter::keyed),
            connects: per_second(c.rate_connects_per_ip).map(RateLimiter::keyed),
            registrations: per_minute(c.rate_registrations_per_ip).map(RateLimiter::keyed),
            max_per_user: c.max_connections_per_user,
            max_per_ip: c.max_connections_per_ip,
            per_ip: DashMap::new(),
            logins: LoginGuard::new(c.login_failures_before_delay),
        }
    }

    /// A fresh per-connection request limiter (None when unlimited).
    pub fn connection_limiter(&self) -> Option<DefaultDirectRateLimiter> {
        self.request_quota.map(RateLimiter::direct)
    }

    pub fn check_request(limiter: &Option<DefaultDirectRateLimiter>) -> Result<(), WireError> {
        match limiter {
            None => Ok(()),
            Some(l) => l.check().map_err(|not_until| {
                rate_limited(
                    "requests on this connection",
                    not_until.wait_time_from(DefaultClock::default().now()),
                )
            }),
        }
    }

    pub fn check_send(&self, user: UserId) -> Result<(), WireError> {
        check_keyed(&self.sends, &user, "messages from this account")
    }

    pub fn check_connect(&self, ip: IpAddr) -> Result<(), WireError> {
        check_keyed(&self.connects, &ip, "connections from this address")
    }

    pub fn check_registration(&self, ip: IpAddr) -> Result<(), WireError> {
        check_keyed(&self.registrations, &ip, "registrations from this address")
    }

    /// Admits one more connection for `user` (who has `current` already) from `ip`; the
    /// returned guard releases the address's slot when dropped.
    pub fn admit(
        self: &Arc<Self>,
        current: usize,
        ip: IpAddr,
    ) -> Result<ConnectionSlot, WireError> {
        if self.max_per_user > 0 && current >= self.max_per_user {
            return Err(rate_limited(
                "connections for this account (close another device)",
                Duration::from_secs(5),
            ));
        }
        let mut n = self.per_ip.entry(ip).or_insert(0);
        if self.max_per_ip > 0 && *n >= self.max_per_ip {
            return Err(rate_limited(
                "connections from this address",
                Duration::from_secs(5),
            ));
        }
        *n += 1;
        Ok(ConnectionSlot {
            limits: self.clone(),
            ip,
        })
    }

    /// Forgets idle keys so the keyed limiters stay small.
    pub fn prune(&self) {
        for l in [&self.connects, &self.registrations].into_iter().flatten() {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.sends {
            l.retain_recent();
            l.shrink_to_fit();
        }
        self.logins.prune();
    }
}

/// One admitted connection's hold on its address's connection count.
pub struct ConnectionSlot {
    limits: Arc<Limits>,
    ip: IpAddr,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.limits.per_ip.remove_if_mut(&self.ip, |_, n| {
            *n = n.saturating_sub(1);
            *n == 0
        });
    }
}

/// Failed logins, per account name and per address. After `free` failures each further one
/// doubles the wait (1 s, 2 s, 4 s … up to 15 minutes) before another attempt is considered.
/// Keyed by the name as typed, so unknown and known names behave the same.
pub struct LoginGuard {
    free: u32,
    entries: DashMap<String, Failures>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    blocked_until: Option<Instant>,
    last: Instant,
}

const MAX_LOGIN_WAIT: Duration = Duration::from_secs(15 * 60);

impl LoginGuard {
    pub fn new(free: u32) -> LoginGuard {
        LoginGuard {
            free,
            entries: DashMap::new(),
        }
    }

    fn keys(username: &str, ip: IpAddr) -> [String; 2] {
        [
            format!("u:{}", username.trim().to_lowercase()),
            format!("ip:{ip}"),
        ]
    }

    /// Refuses while either key is in its waiting period.
    pub fn check(&self, username: &str, ip: IpAddr) -> Result<(), WireError> {
        let now = Instant::now();
        for key in Self::keys(username, ip) {
            if let Some(f) = self.entries.get(&key) {
                if let Some(until) = f.blocked_until.filter(|u| *u > now) {
                    return Err(rate_limited("failed logins", until - now));
                }
            }
        }
        Ok(())
    }

    pub fn failed(&self, username: &str, ip: IpAddr) {
        let now = Instant::now();
        for (i, key) in Self::keys(username, ip).into_iter().enumerate() {
            // An address gets more room than one account (several people behind one NAT).
            let free = if i == 0 { self.free } else { self.free * 4 };
            let mut f = self.entries.entry(key).or_insert(Failures {
                count: 0,
                blocked_until: None,
                last: now,
            });
            f.count += 1;
            f.last = now;
            if f.count >= free {
                let exp = (f.count - free).min(20);
                let wait = Duration::from_secs(1u64 << exp).min(MAX_LOGIN_WAIT);
                f.blocked_until = Some(now + wait);
            }
        }
    }

    pub fn succeeded(&self, username: &str) {
        self.entries
            .remove(&format!("u:{}", username.trim().to_lowercase()));
    }

    fn prune(&self) {
        let now = Instant::now();
        self.entries
            .retain(|_, f| now.duration_since(f.last) < MAX_LOGIN_WAIT * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_logins_grow_the_wait_and_success_clears_it() {
        let g = LoginGuard::new(3);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..2 {
            g.failed("Bob", ip);
            assert!(g.check("bob", ip).is_ok());
        }
        g.failed("bob", ip);
        let e = g.check("BOB", ip).unwrap_err();
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert!(e.retry_after_ms.unwrap() <= 1000);
        g.failed("bob", ip);
        assert!(g.check("bob", ip).unwrap_err().retry_after_ms.unwrap() > 1000);
        g.succeeded("bob");
        // The address still has room of its own.
        assert!(g.check("bob", ip).is_ok());
    }

    #[test]
    fn connection_slots_are_counted_and_released() {
        let c = Config {
            max_connections_per_ip: 2,
            max_connections_per_user: 3,
            ..Config::default()
        };
        let limits = Arc::new(Limits::new(&c));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let a = limits.admit(0, ip).unwrap();
        let _b = limits.admit(1, ip).unwrap();
        assert!(limits.admit(2, ip).is_err(), "per-address cap");
        drop(a);
        assert!(limits.admit(2, ip).is_ok());
        assert!(
            limits.admit(3, "10.0.0.2".parse().unwrap()).is_err(),
            "per-user cap"
        );
    }
}
