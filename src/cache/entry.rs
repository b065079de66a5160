//! One cache entry: the last good value with its `fetched_at` and size, the last error, the fetch in flight
//! and the readers; its [`EntryState`] is derived from those fields, never stored separately.
//!
//! Invariant: an error never erases the last good value; `fetched_at` is set if and only if a value is held.

use serde::{Deserialize, Serialize};

use super::time::Millis;

/// Identifies one started fetch, so a late answer to a superseded or cleared fetch is recognised and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FetchId(pub u64);

/// Where an entry stands, for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Known key (for example a reader registered) but no value, no error and no fetch.
    Idle,
    /// No value yet; a fetch is in flight.
    Loading,
    /// A value is held and no fetch is running (it may be stale: see `Store::is_fresh`).
    Ready,
    /// A value is shown while a fetch refreshes it (stale-while-revalidate).
    Refreshing,
    /// The last fetch failed; the last good value, if any, is still held.
    Error,
}

/// Why the last fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchError {
    /// The message to show.
    pub message: String,
    /// When the failure was recorded.
    pub at: Millis,
    /// Failures in a row since the last success (1 for the first).
    pub failures: u32,
}

/// A cached value and everything the store knows about it.
#[derive(Debug, Clone)]
pub struct Entry<V> {
    pub(super) value: Option<V>,
    pub(super) fetched_at: Option<Millis>,
    pub(super) size_bytes: u64,
    pub(super) error: Option<FetchError>,
    /// Failures of the current retry round; reset when the round gives up or a fetch succeeds.
    pub(super) round_failures: u32,
    /// Marked stale by an invalidation, whatever its age.
    pub(super) invalidated: bool,
    /// The fetch in flight, if any.
    pub(super) in_flight: Option<FetchId>,
    /// Invalidated while the fetch in flight ran: its answer may predate the change.
    pub(super) stale_on_arrival: bool,
    /// Components currently reading the key (see `Store::retain`).
    pub(super) readers: u32,
    /// Logical time of the last use, for least-recently-used eviction.
    pub(super) last_used: u64,
}

impl<V> Entry<V> {
    pub(super) fn new(last_used: u64) -> Entry<V> {
        Entry {
            value: None,
            fetched_at: None,
            size_bytes: 0,
            error: None,
            round_failures: 0,
            invalidated: false,
            in_flight: None,
            stale_on_arrival: false,
            readers: 0,
            last_used,
        }
    }

    /// The last good value.
    pub fn value(&self) -> Option<&V> {
        self.value.as_ref()
    }

    /// When the last good value was fetched (or set).
    pub fn fetched_at(&self) -> Option<Millis> {
        self.fetched_at
    }

    /// Approximate size of the value in bytes, as given by the caller (0 without a value).
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    /// The last error, kept until a fetch succeeds or a value is set.
    pub fn error(&self) -> Option<&FetchError> {
        self.error.as_ref()
    }

    /// Whether a fetch is in flight.
    pub fn is_fetching(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Whether an invalidation marked the value stale.
    pub fn is_invalidated(&self) -> bool {
        self.invalidated
    }

    /// How many readers hold the key.
    pub fn readers(&self) -> u32 {
        self.readers
    }

    /// The state derived from the fields: a fetch in flight wins, then an error, then a value.
    pub fn state(&self) -> EntryState {
        match (self.in_flight.is_some(), self.error.is_some(), self.value.is_some()) {
            (true, _, false) => EntryState::Loading,
            (true, _, true) => EntryState::Refreshing,
            (false, true, _) => EntryState::Error,
            (false, false, true) => EntryState::Ready,
            (false, false, false) => EntryState::Idle,
        }
    }

    /// Whether the value is fresh at `now` under `ttl`: held, not invalidated, and
    /// `fetched_at <= now < fetched_at + ttl`. A `fetched_at` in the future (the clock went back) counts as
    /// stale, so the worst a clock change does is one extra fetch.
    pub fn is_fresh(&self, ttl: Millis, now: Millis) -> bool {
        match (&self.value, self.fetched_at) {
            (Some(_), Some(at)) => !self.invalidated && at <= now && now < at.saturating_add(ttl),
            _ => false,
        }
    }

    /// Whether eviction must skip the entry: it is read by a component or being fetched.
    pub(super) fn is_pinned(&self) -> bool {
        self.readers > 0 || self.in_flight.is_some()
    }

    /// Stores a good value: clears the error and the staleness mark.
    pub(super) fn put(&mut self, value: V, size_bytes: u64, now: Millis) {
        self.value = Some(value);
        self.fetched_at = Some(now);
        self.size_bytes = size_bytes;
        self.error = None;
        self.round_failures = 0;
        self.invalidated = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_derived_from_value_error_and_fetch() {
        let mut entry: Entry<u32> = Entry::new(0);
        assert_eq!(entry.state(), EntryState::Idle);
        entry.in_flight = Some(FetchId(1));
        assert_eq!(entry.state(), EntryState::Loading);
        entry.put(7, 1, Millis(10));
        assert_eq!(entry.state(), EntryState::Refreshing);
        entry.in_flight = None;
        assert_eq!(entry.state(), EntryState::Ready);
        entry.error = Some(FetchError { message: "down".into(), at: Millis(20), failures: 1 });
        assert_eq!(entry.state(), EntryState::Error);
        assert_eq!(entry.value(), Some(&7), "the error keeps the last good value");
        entry.put(8, 1, Millis(30));
        assert_eq!((entry.state(), entry.error()), (EntryState::Ready, None));
    }

    #[test]
    fn freshness_is_exclusive_at_the_ttl_and_stale_before_fetched_at() {
        let mut entry: Entry<u32> = Entry::new(0);
        assert!(!entry.is_fresh(Millis(100), Millis(0)), "no value");
        entry.put(1, 1, Millis(1_000));
        assert!(entry.is_fresh(Millis(100), Millis(1_000)));
        assert!(entry.is_fresh(Millis(100), Millis(1_099)));
        assert!(!entry.is_fresh(Millis(100), Millis(1_100)));
        assert!(!entry.is_fresh(Millis(100), Millis(999)), "clock went back");
        assert!(!entry.is_fresh(Millis::ZERO, Millis(1_000)), "zero TTL: never fresh");
        entry.invalidated = true;
        assert!(!entry.is_fresh(Millis(100), Millis(1_000)));
    }
}
