//! The store: entries by key, their policy and statistics, reads, and in-place writes (a mutation's answer,
//! a real-time event) that need no fetch. The fetch decisions live in `fetch.rs`, invalidation in
//! `invalidate.rs`, readers and eviction in `evict.rs`, persistence in `persist.rs`.
//!
//! Invariant: sans-IO. The store never fetches, sleeps or reads a clock: each call gets `now` and answers what
//! the driver should do; reads (`get`, `entry`, `state`, `is_fresh`) change nothing, not even statistics.

use std::collections::HashMap;

use super::entry::{Entry, EntryState};
use super::key::{CacheKey, DataKind};
use super::policy::CachePolicy;
use super::stats::{CacheStats, Counters};
use super::time::Millis;

/// The cache core, generic over the value type (the binding may use `serde_json::Value`, a typed enum, or an
/// `Rc` of either to make clones cheap).
#[derive(Debug, Clone)]
pub struct Store<V> {
    pub(super) policy: CachePolicy,
    pub(super) entries: HashMap<CacheKey, Entry<V>>,
    /// Event counters per kind, indexed by `DataKind::index`.
    pub(super) counters: [Counters; DataKind::COUNT],
    /// Logical clock for least-recently-used order; bumped on every use.
    pub(super) tick: u64,
    /// Next fetch id; never reused, not even after `clear`.
    pub(super) next_fetch: u64,
    /// Whether live events currently keep the entries current (see [`CachePolicy::ttl_when`]).
    pub(super) live: bool,
}

impl<V> Default for Store<V> {
    fn default() -> Self {
        Store::new(CachePolicy::default())
    }
}

impl<V> Store<V> {
    /// An empty store with `policy`.
    pub fn new(policy: CachePolicy) -> Store<V> {
        Store {
            policy,
            entries: HashMap::new(),
            counters: [Counters::default(); DataKind::COUNT],
            tick: 0,
            next_fetch: 1,
            live: false,
        }
    }

    /// Tells the store whether live events are being delivered (the connection is open or polling): while
    /// they are, freshness follows each kind's `live_ttl`.
    pub fn set_live(&mut self, live: bool) {
        self.live = live;
    }

    /// Whether the store counts on live events (see [`Store::set_live`]).
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// The TTL in force for `kind` now.
    pub(super) fn ttl_of(&self, kind: super::key::DataKind) -> Millis {
        self.policy.ttl_when(kind, self.live)
    }

    /// The policy in force.
    pub fn policy(&self) -> &CachePolicy {
        &self.policy
    }

    /// Replaces the policy (the bounds apply from the next write).
    pub fn set_policy(&mut self, policy: CachePolicy) {
        self.policy = policy;
    }

    /// Entries held (with or without a value).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Approximate bytes held: the sum of the sizes given with the values.
    pub fn bytes(&self) -> u64 {
        self.entries.values().fold(0u64, |sum, entry| sum.saturating_add(entry.size_bytes))
    }

    /// The keys held, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &CacheKey> {
        self.entries.keys()
    }

    /// The entry of `key`, without counting a lookup.
    pub fn entry(&self, key: &CacheKey) -> Option<&Entry<V>> {
        self.entries.get(key)
    }

    /// The last good value of `key`, fresh or not, without counting a lookup.
    pub fn get(&self, key: &CacheKey) -> Option<&V> {
        self.entries.get(key).and_then(Entry::value)
    }

    /// The last good value of `key` to read in place (the binding holds a value decoded from JSON as its type:
    /// the same value, held another way), without counting a lookup.
    pub fn get_mut(&mut self, key: &CacheKey) -> Option<&mut V> {
        self.entries.get_mut(key).and_then(|entry| entry.value.as_mut())
    }

    /// The state of `key`; `Idle` when unknown.
    pub fn state(&self, key: &CacheKey) -> EntryState {
        self.entries.get(key).map_or(EntryState::Idle, Entry::state)
    }

    /// Whether `key` holds a value that is fresh at `now` under its kind's TTL in force.
    pub fn is_fresh(&self, key: &CacheKey, now: Millis) -> bool {
        let ttl = self.ttl_of(key.kind);
        self.entries.get(key).is_some_and(|entry| entry.is_fresh(ttl, now))
    }

    /// Statistics: the counters plus the current entries and bytes, per kind and in total.
    pub fn stats(&self) -> CacheStats {
        let mut kinds = self.counters;
        for (key, entry) in &self.entries {
            let counters = &mut kinds[key.kind.index()];
            counters.entries = counters.entries.saturating_add(1);
            counters.bytes = counters.bytes.saturating_add(entry.size_bytes);
        }
        CacheStats::from_kinds(kinds)
    }

    /// Sets every event counter back to zero.
    pub fn reset_stats(&mut self) {
        self.counters = [Counters::default(); DataKind::COUNT];
    }

    pub(super) fn counter(&mut self, kind: DataKind) -> &mut Counters {
        &mut self.counters[kind.index()]
    }

    pub(super) fn next_tick(&mut self) -> u64 {
        self.tick = self.tick.saturating_add(1);
        self.tick
    }

    /// Writes a complete value for `key` as of `now` (for example the answer of a mutation), creating the entry
    /// if needed; clears the error and any staleness mark. A fetch in flight keeps running.
    pub fn set(&mut self, key: &CacheKey, value: V, size_bytes: u64, now: Millis) {
        self.put_shared(key, value, size_bytes, now, false);
    }

    /// Writes a value fetched at `fetched_at` (now for a write here; earlier for one another tab holds, see
    /// `Store::adopt`), stale or not; the bounds are enforced, sparing `key`.
    pub(super) fn put_shared(&mut self, key: &CacheKey, value: V, size_bytes: u64, fetched_at: Millis, stale: bool) {
        self.put_entry(key.clone(), value, size_bytes, fetched_at, stale);
        self.enforce_bounds(Some(key));
    }

    /// Writes a value with its `fetched_at` and staleness, as most recently used; the caller enforces the bounds.
    pub(super) fn put_entry(&mut self, key: CacheKey, value: V, size_bytes: u64, fetched_at: Millis, stale: bool) {
        let tick = self.next_tick();
        let entry = self.entries.entry(key).or_insert_with(|| Entry::new(tick));
        entry.put(value, size_bytes, fetched_at);
        entry.invalidated = stale;
        entry.last_used = tick;
    }

    /// [`Store::set`] for each `(key, value, size_bytes)`.
    pub fn set_many(&mut self, items: impl IntoIterator<Item = (CacheKey, V, u64)>, now: Millis) {
        for (key, value, size_bytes) in items {
            self.set(&key, value, size_bytes, now);
        }
    }

    /// Applies `change` to the value of `key` in place (a real-time event), without a refetch, then records its
    /// new size (`size_of`) and enforces the bounds (sparing `key`): the byte bound holds after updates too.
    /// `fetched_at` and the staleness are unchanged, so the TTL still bounds how long patched data lives before
    /// a full refetch corrects any drift. Returns `false`, doing nothing, when the key holds no value.
    pub fn update(&mut self, key: &CacheKey, change: impl FnOnce(&mut V), size_of: impl FnOnce(&V) -> u64) -> bool {
        let Some(entry) = self.entries.get_mut(key) else { return false };
        let Some(value) = entry.value.as_mut() else { return false };
        change(value);
        entry.size_bytes = size_of(value);
        self.enforce_bounds(Some(key));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::fetch::Begin;
    use crate::cache::key::Params;
    use protocol::ShopId;

    const T0: Millis = Millis(1_700_000_000_000);

    fn at(offset: u64) -> Millis {
        T0.saturating_add(Millis(offset))
    }

    fn orders(shop: i64) -> CacheKey {
        CacheKey::with_params(DataKind::Orders, Params::new().shop(ShopId(shop)))
    }

    #[test]
    fn set_and_update_write_in_place_without_a_fetch() {
        let mut store: Store<u32> = Store::default();
        let key = orders(3);
        let size = |_: &u32| 8;
        assert!(!store.update(&key, |v| *v += 1, size), "no value: no-op");
        assert!(store.is_empty(), "and no entry is created");

        store.set(&key, 10, 8, at(0));
        assert_eq!((store.state(&key), store.begin(&key, at(1))), (EntryState::Ready, Begin::Fresh(10)));
        assert!(store.update(&key, |v| *v += 1, size));
        assert_eq!(store.get(&key), Some(&11));
        assert_eq!(store.entry(&key).and_then(Entry::fetched_at), Some(at(0)), "an update is not a fetch");
        assert!(!store.is_fresh(&key, at(60_000)), "so the TTL still runs from the last fetch");

        // An update while the first fetch is in flight has nothing to patch.
        let loading = orders(4);
        let _ = store.begin(&loading, at(0));
        assert!(!store.update(&loading, |v| *v = 99, size));

        store.set_many([(orders(5), 5, 1), (orders(6), 6, 1)], at(2));
        assert_eq!((store.get(&orders(5)), store.get(&orders(6))), (Some(&5), Some(&6)));
        assert_eq!(store.stats().total.fetches, 1, "writes are not fetches");
        assert_eq!(store.bytes(), 10);
    }

    #[test]
    fn an_update_records_the_new_size_and_the_byte_bound_holds() {
        let mut store: Store<Vec<u8>> = Store::default();
        store.set_policy(store.policy().clone().with_max_bytes(100));
        let (grows, other) = (orders(1), orders(2));
        store.set(&other, vec![0; 40], 40, at(0));
        store.set(&grows, vec![0; 40], 40, at(1));
        assert_eq!(store.bytes(), 80);
        let len = |v: &Vec<u8>| v.len() as u64;
        assert!(store.update(&grows, |v| v.truncate(10), len));
        assert_eq!(store.bytes(), 50, "a shrinking update is counted");
        assert!(store.update(&grows, |v| v.resize(90, 0), len));
        assert_eq!(store.get(&grows).map(Vec::len), Some(90), "the updated entry is kept");
        assert_eq!(store.get(&other), None, "the least recently used other entry made room");
        assert!(store.bytes() <= 100, "the bound holds: {}", store.bytes());
    }
}
