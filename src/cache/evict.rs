//! Readers and bounds: components register as readers of a key, and least-recently-used entries are evicted
//! when the store holds more entries or bytes than its policy allows.
//!
//! Invariant: eviction never removes an entry that has a reader or a fetch in flight, nor the entry being
//! written; the bounds are therefore best-effort (exceeded only while every other entry is pinned).

use super::entry::{Entry, EntryState};
use super::key::CacheKey;
use super::store::Store;

impl<V> Store<V> {
    /// Registers one more reader of `key` (a mounted component), creating an `Idle` entry if needed; a read
    /// entry is never evicted. Returns the number of readers.
    pub fn retain(&mut self, key: &CacheKey) -> u32 {
        let tick = self.next_tick();
        let is_new = !self.entries.contains_key(key);
        let entry = self.entries.entry(key.clone()).or_insert_with(|| Entry::new(tick));
        entry.readers = entry.readers.saturating_add(1);
        entry.last_used = tick;
        let readers = entry.readers;
        if is_new {
            self.enforce_bounds(Some(key));
        }
        readers
    }

    /// Unregisters one reader of `key` (saturating; unknown keys are ignored). An entry left with nothing (no
    /// reader, value, error or fetch) is removed, and the bounds are enforced again since the entry may now be
    /// evicted. Returns the number of readers left.
    pub fn release(&mut self, key: &CacheKey) -> u32 {
        let Some(entry) = self.entries.get_mut(key) else {
            return 0;
        };
        entry.readers = entry.readers.saturating_sub(1);
        let readers = entry.readers;
        if readers == 0 && entry.state() == EntryState::Idle {
            self.entries.remove(key);
        }
        self.enforce_bounds(None);
        readers
    }

    /// Evicts least-recently-used entries until the store is within `max_entries` and `max_bytes`, skipping
    /// pinned entries (readers or a fetch in flight) and `protect`. Returns how many entries were evicted.
    pub(super) fn enforce_bounds(&mut self, protect: Option<&CacheKey>) -> usize {
        let max_entries = self.policy.max_entries;
        let max_bytes = self.policy.max_bytes;
        let mut count = self.entries.len();
        let mut bytes = self.bytes();
        if count <= max_entries && bytes <= max_bytes {
            return 0;
        }
        let mut candidates: Vec<(u64, CacheKey)> = self
            .entries
            .iter()
            .filter(|(key, entry)| !entry.is_pinned() && Some(*key) != protect)
            .map(|(key, entry)| (entry.last_used, key.clone()))
            .collect();
        // Oldest use first; the key breaks ties so the order is deterministic.
        candidates.sort_unstable();
        let mut evicted = 0;
        for (_, key) in candidates {
            if count <= max_entries && bytes <= max_bytes {
                break;
            }
            if let Some(entry) = self.entries.remove(&key) {
                count -= 1;
                bytes = bytes.saturating_sub(entry.size_bytes);
                self.counter(key.kind).evictions += 1;
                evicted += 1;
            }
        }
        evicted
    }
}

#[cfg(test)]
mod tests {
    use crate::cache::fetch::Begin;
    use crate::cache::key::{CacheKey, DataKind, Params};
    use crate::cache::policy::CachePolicy;
    use crate::cache::store::Store;
    use crate::cache::time::Millis;
    use protocol::ShopId;

    fn shop(n: i64) -> CacheKey {
        CacheKey::with_params(DataKind::Shops, Params::new().shop(ShopId(n)))
    }

    fn held(store: &Store<u32>) -> Vec<i64> {
        let mut shops: Vec<i64> = store.keys().filter_map(|key| key.params.shop_id().map(|s| s.0)).collect();
        shops.sort();
        shops
    }

    #[test]
    fn least_recently_used_entries_go_first_when_over_the_entry_bound() {
        let mut store = Store::new(CachePolicy::default().with_max_entries(3));
        for n in 1..=3 {
            store.set(&shop(n), n as u32, 10, Millis(0));
        }
        // Reading shop 1 makes shop 2 the least recently used.
        assert_eq!(store.begin(&shop(1), Millis(1)), Begin::Fresh(1));
        store.set(&shop(4), 4, 10, Millis(2));
        assert_eq!(held(&store), [1, 3, 4]);
        store.set(&shop(5), 5, 10, Millis(3));
        assert_eq!(held(&store), [1, 4, 5]);
        let stats = store.stats();
        assert_eq!(stats.total.evictions, 2);
        assert_eq!(stats.kind(DataKind::Shops).evictions, 2);
        assert_eq!(stats.total.entries, 3);
    }

    #[test]
    fn the_byte_bound_evicts_as_many_as_needed() {
        let mut store = Store::new(CachePolicy::default().with_max_bytes(100));
        store.set(&shop(1), 1, 40, Millis(0));
        store.set(&shop(2), 2, 40, Millis(0));
        store.set(&shop(3), 3, 20, Millis(0));
        assert_eq!((store.len(), store.bytes()), (3, 100), "at the bound is allowed");
        store.set(&shop(4), 4, 90, Millis(0));
        assert_eq!(held(&store), [4], "1, 2 and 3 had to go to fit 90 bytes");
        assert_eq!(store.stats().total.evictions, 3);
        // An entry larger than the bound on its own is kept rather than dropped on its own write.
        store.set(&shop(5), 5, 500, Millis(0));
        assert_eq!(held(&store), [5]);
        assert_eq!(store.bytes(), 500);
    }

    #[test]
    fn retained_and_in_flight_entries_are_not_evicted() {
        let mut store = Store::new(CachePolicy::default().with_max_entries(2));
        store.set(&shop(1), 1, 1, Millis(0));
        assert_eq!(store.retain(&shop(1)), 1);
        // Shop 2 is being fetched: pinned too.
        assert!(matches!(store.begin(&shop(2), Millis(0)), Begin::Miss(_)));
        store.set(&shop(3), 3, 1, Millis(0));
        assert_eq!(held(&store), [1, 2, 3], "nothing evictable but the new entry");
        store.set(&shop(4), 4, 1, Millis(0));
        assert_eq!(held(&store), [1, 2, 4], "shop 3 was the only candidate");

        // Releasing the last reader makes shop 1 evictable again, and the bound is enforced at once.
        assert_eq!(store.release(&shop(1)), 0);
        assert_eq!(held(&store), [2, 4], "shop 1 is now the least recently used");
        assert_eq!(store.stats().total.evictions, 2);
    }

    #[test]
    fn reader_counts_nest_and_idle_entries_disappear_with_their_last_reader() {
        let mut store: Store<u32> = Store::default();
        assert_eq!(store.retain(&shop(1)), 1);
        assert_eq!(store.retain(&shop(1)), 2);
        assert_eq!(store.len(), 1, "a reader registers an Idle entry");
        assert_eq!(store.release(&shop(1)), 1);
        assert_eq!(store.release(&shop(1)), 0);
        assert!(store.is_empty(), "nothing left to keep");
        assert_eq!(store.release(&shop(1)), 0, "unknown keys are ignored");

        store.set(&shop(2), 2, 1, Millis(0));
        store.retain(&shop(2));
        store.release(&shop(2));
        assert_eq!(store.get(&shop(2)), Some(&2), "values outlive their readers");
    }
}
