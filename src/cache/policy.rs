//! Policies: per-kind freshness (TTL), persistence and retry, plus the store's bounds. Defaults follow the spec.
//!
//! Invariant: pure data and arithmetic; a TTL is how long an entry stays fresh after it was fetched, and every
//! computation saturates instead of overflowing.
//!
//! While the live connection delivers events (the socket is open, or the polling fallback runs), an entry of a
//! kind the events keep current stays fresh for its `live_ttl` instead: the live layer patches it in place or
//! invalidates it for every change, and a resync invalidates everything, so asking the server again before
//! then would only fetch what the cache already holds. The `live_ttl` bounds what no event covers (a bug, a
//! figure that moves with the clock).

use serde::{Deserialize, Serialize};

use super::key::DataKind;
use super::time::Millis;

/// How failed fetches are retried: exponential backoff, a few attempts at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts for one fetch, the first included (so `1` means never retry; `0` behaves like `1`).
    pub max_attempts: u32,
    /// Delay before the first retry; each further retry doubles it.
    pub base_delay: Millis,
    /// Upper bound of any delay.
    pub max_delay: Millis,
}

impl Default for RetryPolicy {
    /// Three attempts: retry after 1 s, then after 2 s, then give up; delays never exceed 30 s.
    fn default() -> Self {
        RetryPolicy { max_attempts: 3, base_delay: Millis::from_secs(1), max_delay: Millis::from_secs(30) }
    }
}

impl RetryPolicy {
    /// Never retries.
    pub const NONE: RetryPolicy = RetryPolicy { max_attempts: 1, base_delay: Millis::ZERO, max_delay: Millis::ZERO };

    /// After `failures` consecutive failed attempts, how long to wait before the next attempt:
    /// `base_delay × 2^(failures − 1)` capped at `max_delay`; `None` when `failures` is zero (nothing to retry)
    /// or the attempts are used up.
    pub fn retry_delay(&self, failures: u32) -> Option<Millis> {
        if failures == 0 || failures >= self.max_attempts {
            return None;
        }
        let factor = 1u64.checked_shl(failures - 1).unwrap_or(u64::MAX);
        Some(Millis(self.base_delay.0.saturating_mul(factor)).min(self.max_delay))
    }
}

/// The policy of one [`DataKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindPolicy {
    /// How long an entry is fresh: fresh while `now < fetched_at + ttl`, stale from `fetched_at + ttl` on.
    pub ttl: Millis,
    /// How long an entry is fresh while live events keep it current (never shorter than `ttl`).
    #[serde(default)]
    pub live_ttl: Millis,
    /// Whether entries of this kind are saved to localStorage.
    pub persist: bool,
    /// How the binding retries failed fetches of this kind.
    pub retry: RetryPolicy,
}

impl KindPolicy {
    /// The spec's policy: dashboard-data 2 min, product-stats 5 min, orders 1 min, notifications 30 s,
    /// products 10 min, shops 15 min, a customer's cart and wishlist 5 min; every kind is persisted, so an app opened offline shows every page it
    /// showed before (marked "Offline — data from …"; online, a restored value is stale and refetched at
    /// once); default retry everywhere.
    /// While live, every kind but shops, carts and wishlists (no event carries all their changes) stays fresh
    /// for [`LIVE_TTL`].
    pub fn default_for(kind: DataKind) -> KindPolicy {
        let (ttl, persist) = match kind {
            DataKind::DashboardData => (Millis::from_mins(2), true),
            DataKind::ProductStats => (Millis::from_mins(5), true),
            DataKind::Orders => (Millis::from_mins(1), true),
            DataKind::Notifications => (Millis::from_secs(30), true),
            DataKind::Products => (Millis::from_mins(10), true),
            DataKind::Shops => (Millis::from_mins(15), true),
            DataKind::Cart | DataKind::Wishlist => (Millis::from_mins(5), true),
        };
        // No event announces a shop, nor a cart or wishlist changed on another device.
        let live_ttl = match kind {
            DataKind::Shops | DataKind::Cart | DataKind::Wishlist => ttl,
            _ => LIVE_TTL,
        };
        KindPolicy { ttl, live_ttl, persist, retry: RetryPolicy::default() }
    }
}

/// How long event-covered entries stay fresh while live, by default: 30 minutes.
pub const LIVE_TTL: Millis = Millis::from_mins(30);

/// The whole configuration of a store: one [`KindPolicy`] per kind and the bounds.
///
/// Start from `CachePolicy::default()` and override with the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachePolicy {
    /// Indexed by `DataKind::index`.
    kinds: [KindPolicy; DataKind::COUNT],
    /// Most entries kept (default 256); least recently used ones are evicted beyond it.
    pub max_entries: usize,
    /// Most approximate bytes kept (default 4 MiB, about what localStorage holds).
    pub max_bytes: u64,
    /// Persisted entries older than this (by `fetched_at`) are neither saved nor restored (default 24 h).
    pub persist_max_age: Millis,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            kinds: DataKind::ALL.map(KindPolicy::default_for),
            max_entries: 256,
            max_bytes: 4 * 1024 * 1024,
            persist_max_age: Millis::from_mins(24 * 60),
        }
    }
}

impl CachePolicy {
    /// The policy of `kind`.
    pub fn kind(&self, kind: DataKind) -> &KindPolicy {
        &self.kinds[kind.index()]
    }

    /// The TTL of `kind`.
    pub fn ttl(&self, kind: DataKind) -> Millis {
        self.kind(kind).ttl
    }

    /// The TTL of `kind` in force: its `live_ttl` (at least its `ttl`) while `live`, else its `ttl`.
    pub fn ttl_when(&self, kind: DataKind, live: bool) -> Millis {
        let policy = self.kind(kind);
        if live { policy.ttl.max(policy.live_ttl) } else { policy.ttl }
    }

    /// Whether `kind` is persisted.
    pub fn persists(&self, kind: DataKind) -> bool {
        self.kind(kind).persist
    }

    /// Replaces the whole policy of `kind`.
    pub fn with_kind(mut self, kind: DataKind, policy: KindPolicy) -> CachePolicy {
        self.kinds[kind.index()] = policy;
        self
    }

    /// Overrides the TTL of `kind`.
    pub fn with_ttl(mut self, kind: DataKind, ttl: Millis) -> CachePolicy {
        self.kinds[kind.index()].ttl = ttl;
        self
    }

    /// Overrides how long `kind` stays fresh while live.
    pub fn with_live_ttl(mut self, kind: DataKind, live_ttl: Millis) -> CachePolicy {
        self.kinds[kind.index()].live_ttl = live_ttl;
        self
    }

    /// Overrides whether `kind` is persisted.
    pub fn with_persist(mut self, kind: DataKind, persist: bool) -> CachePolicy {
        self.kinds[kind.index()].persist = persist;
        self
    }

    /// Overrides the retry policy of `kind`.
    pub fn with_retry(mut self, kind: DataKind, retry: RetryPolicy) -> CachePolicy {
        self.kinds[kind.index()].retry = retry;
        self
    }

    /// Overrides the entry bound.
    pub fn with_max_entries(mut self, max_entries: usize) -> CachePolicy {
        self.max_entries = max_entries;
        self
    }

    /// Overrides the byte bound.
    pub fn with_max_bytes(mut self, max_bytes: u64) -> CachePolicy {
        self.max_bytes = max_bytes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let policy = CachePolicy::default();
        let expected = [
            (DataKind::DashboardData, 120_000, true),
            (DataKind::ProductStats, 300_000, true),
            (DataKind::Orders, 60_000, true),
            (DataKind::Notifications, 30_000, true),
            (DataKind::Products, 600_000, true),
            (DataKind::Shops, 900_000, true),
        ];
        for (kind, ttl, persist) in expected {
            assert_eq!(policy.ttl(kind), Millis(ttl), "{kind}");
            assert_eq!(policy.persists(kind), persist, "{kind}");
            assert_eq!(policy.kind(kind).retry, RetryPolicy::default(), "{kind}");
        }
    }

    #[test]
    fn overrides_touch_only_their_kind() {
        let retry = RetryPolicy { max_attempts: 5, base_delay: Millis(100), max_delay: Millis(1_000) };
        let policy = CachePolicy::default()
            .with_ttl(DataKind::Orders, Millis(5_000))
            .with_persist(DataKind::Orders, false)
            .with_retry(DataKind::Notifications, retry)
            .with_kind(
                DataKind::Shops,
                KindPolicy { ttl: Millis(1), live_ttl: Millis(1), persist: false, retry: RetryPolicy::NONE },
            )
            .with_max_entries(3)
            .with_max_bytes(10);
        assert_eq!(policy.ttl(DataKind::Orders), Millis(5_000));
        assert!(!policy.persists(DataKind::Orders));
        assert_eq!(policy.kind(DataKind::Notifications).retry, retry);
        assert_eq!(policy.ttl(DataKind::Shops), Millis(1));
        assert!(!policy.persists(DataKind::Shops));
        assert_eq!(policy.ttl(DataKind::Products), Millis::from_mins(10));
        assert_eq!((policy.max_entries, policy.max_bytes), (3, 10));
    }

    #[test]
    fn live_events_stretch_freshness_of_the_kinds_they_cover() {
        let policy = CachePolicy::default();
        for kind in DataKind::ALL {
            assert_eq!(policy.ttl_when(kind, false), policy.ttl(kind), "{kind}: offline, the TTL of the spec");
        }
        assert_eq!(policy.ttl_when(DataKind::Orders, true), Millis::from_mins(30));
        assert_eq!(policy.ttl_when(DataKind::Notifications, true), Millis::from_mins(30));
        assert_eq!(policy.ttl_when(DataKind::Shops, true), Millis::from_mins(15), "no event carries shops");
        let shorter = policy.with_live_ttl(DataKind::Products, Millis(5));
        assert_eq!(shorter.ttl_when(DataKind::Products, true), Millis::from_mins(10), "never below the TTL");
    }

    #[test]
    fn retry_schedule_backs_off_then_gives_up() {
        let retry = RetryPolicy::default();
        assert_eq!(retry.retry_delay(0), None, "nothing failed yet");
        assert_eq!(retry.retry_delay(1), Some(Millis(1_000)));
        assert_eq!(retry.retry_delay(2), Some(Millis(2_000)));
        assert_eq!(retry.retry_delay(3), None, "three attempts made");

        let long = RetryPolicy { max_attempts: u32::MAX, base_delay: Millis(1_000), max_delay: Millis(5_000) };
        let delays: Vec<u64> = (1..=5).map(|n| long.retry_delay(n).unwrap().0).collect();
        assert_eq!(delays, [1_000, 2_000, 4_000, 5_000, 5_000], "capped");
        assert_eq!(long.retry_delay(200), Some(Millis(5_000)), "no overflow");
        assert_eq!(RetryPolicy::NONE.retry_delay(1), None);
        let zero = RetryPolicy { max_attempts: 0, ..RetryPolicy::default() };
        assert_eq!(zero.retry_delay(1), None);
    }

    #[test]
    fn policy_serializes_for_configuration() {
        let policy = CachePolicy::default().with_ttl(DataKind::Shops, Millis(7));
        let text = serde_json::to_string(&policy).unwrap();
        assert_eq!(serde_json::from_str::<CachePolicy>(&text).unwrap(), policy);
    }
}
