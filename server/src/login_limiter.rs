//! The per-address login limiter: failed logins counted per client address in a fixed window.
//!
//! Invariant: bounded: at most [`MAX_TRACKED`] addresses are kept, whatever the clients send.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Addresses tracked at most; beyond, expired entries are dropped, and if that is not enough, all of them.
pub const MAX_TRACKED: usize = 10_000;

/// Counts failed logins per client address in a fixed window that starts at the first failure.
#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl LoginLimiter {
    /// A limiter allowing `max_failures` failures per `window`.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self { max_failures, window, failures: Mutex::new(HashMap::new()) }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (u32, Instant)>> {
        // A panic while holding the lock leaves only counters behind: keep using them.
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Err(seconds to wait)` when `ip` has used up its failures in the current window.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let table = self.table();
        match table.get(&ip) {
            Some((count, since)) if *count >= self.max_failures && now < *since + self.window => {
                let left = (*since + self.window).saturating_duration_since(now);
                Err((left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1))
            }
            _ => Ok(()),
        }
    }

    /// Records a failure of `ip`.
    pub fn fail(&self, ip: IpAddr, now: Instant) {
        let mut table = self.table();
        if table.len() >= MAX_TRACKED && !table.contains_key(&ip) {
            table.retain(|_, (_, since)| now < *since + self.window);
            if table.len() >= MAX_TRACKED {
                table.clear();
            }
        }
        let entry = table.entry(ip).or_insert((0, now));
        if now >= entry.1 + self.window {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
    }

    /// Forgets the failures of `ip` (after a successful login).
    pub fn clear(&self, ip: IpAddr) {
        self.table().remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn the_limiter_blocks_after_the_allowed_failures_until_the_window_ends() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check(ip, start), Ok(()));
            limiter.fail(ip, start);
        }
        assert_eq!(limiter.check(ip, start), Err(60));
        assert_eq!(limiter.check(ip, start + Duration::from_millis(30_500)), Err(30), "rounded up");
        assert_eq!(limiter.check(other, start), Ok(()), "per address");
        assert_eq!(limiter.check(ip, start + Duration::from_secs(60)), Ok(()), "the window is over");
        limiter.fail(ip, start + Duration::from_secs(61));
        assert_eq!(limiter.check(ip, start + Duration::from_secs(61)), Ok(()), "a new window counts from 1");
    }

    #[test]
    fn a_success_clears_and_the_table_stays_bounded() {
        let limiter = LoginLimiter::new(1, Duration::from_secs(60));
        let now = Instant::now();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        limiter.fail(ip, now);
        assert!(limiter.check(ip, now).is_err());
        limiter.clear(ip);
        assert!(limiter.check(ip, now).is_ok());
        for n in 0..(MAX_TRACKED as u32 + 5) {
            limiter.fail(IpAddr::V4(Ipv4Addr::from(n)), now);
        }
        assert!(limiter.table().len() <= MAX_TRACKED);
    }
}
