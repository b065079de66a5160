//! Invalidation and removal: by exact key, by kind, by shop, or by any predicate over keys; `clear` on logout.
//!
//! Invariant: invalidated entries keep their value and become stale (shown while refetching), they never
//! disappear; only `remove`, `remove_where` and `clear` drop values. A fetch in flight when its key is
//! invalidated has its answer stored as stale, since the answer may predate the change.

use protocol::ShopId;

use super::entry::Entry;
use super::key::{CacheKey, DataKind};
use super::store::Store;

/// What an invalidation touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invalidated {
    /// Entries that matched.
    pub matched: usize,
    /// Matched keys that are read by a component and have no fetch in flight, sorted: the driver should call
    /// `Store::begin` for each now (keys being fetched report `Settled::Stored { refetch: true }` instead).
    pub refetch: Vec<CacheKey>,
}

impl<V> Store<V> {
    /// Marks `key` stale.
    pub fn invalidate(&mut self, key: &CacheKey) -> Invalidated {
        self.invalidate_where(|candidate| candidate == key)
    }

    /// Marks each of `keys` stale.
    pub fn invalidate_many<'a>(&mut self, keys: impl IntoIterator<Item = &'a CacheKey>) -> Invalidated {
        let mut result = Invalidated::default();
        for key in keys {
            if let Some(entry) = self.entries.get_mut(key) {
                mark(key, entry, &mut result);
            }
        }
        result.refetch.sort();
        result.refetch.dedup();
        result
    }

    /// Marks every entry of `kind` stale (for example on a real-time `Refetch` of the matching topic).
    pub fn invalidate_kind(&mut self, kind: DataKind) -> Invalidated {
        self.invalidate_where(|key| key.kind == kind)
    }

    /// Marks every entry scoped to `shop` stale, whatever its kind.
    pub fn invalidate_shop(&mut self, shop: ShopId) -> Invalidated {
        self.invalidate_where(|key| key.is_for_shop(shop))
    }

    /// Marks every entry of `kind` scoped to `shop` stale (all its pages, filters and searches).
    pub fn invalidate_kind_for_shop(&mut self, kind: DataKind, shop: ShopId) -> Invalidated {
        self.invalidate_where(|key| key.kind == kind && key.is_for_shop(shop))
    }

    /// Marks every entry stale.
    pub fn invalidate_all(&mut self) -> Invalidated {
        self.invalidate_where(|_| true)
    }

    /// Marks stale every entry whose key satisfies `matches`.
    pub fn invalidate_where(&mut self, mut matches: impl FnMut(&CacheKey) -> bool) -> Invalidated {
        let mut result = Invalidated::default();
        for (key, entry) in self.entries.iter_mut() {
            if matches(key) {
                mark(key, entry, &mut result);
            }
        }
        result.refetch.sort();
        result
    }

    /// Drops `key` with its value; a fetch in flight for it will be ignored. Returns whether it was held.
    pub fn remove(&mut self, key: &CacheKey) -> bool {
        self.entries.remove(key).is_some()
    }

    /// Drops every entry whose key satisfies `matches`; returns how many.
    pub fn remove_where(&mut self, mut matches: impl FnMut(&CacheKey) -> bool) -> usize {
        let before = self.entries.len();
        self.entries.retain(|key, _| !matches(key));
        before - self.entries.len()
    }

    /// Drops everything (on logout): values, errors, readers and fetches in flight, whose late answers will be
    /// ignored. The statistics counters are kept; see `Store::reset_stats`.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

fn mark<V>(key: &CacheKey, entry: &mut Entry<V>, result: &mut Invalidated) {
    result.matched += 1;
    if entry.value.is_some() {
        entry.invalidated = true;
    }
    if entry.in_flight.is_some() {
        entry.stale_on_arrival = true;
    } else if entry.readers > 0 {
        result.refetch.push(key.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::entry::EntryState;
    use crate::cache::fetch::{Begin, Settled};
    use crate::cache::key::Params;
    use crate::cache::time::Millis;

    fn key(kind: DataKind, shop: i64, page: u32) -> CacheKey {
        CacheKey::with_params(kind, Params::new().shop(ShopId(shop)).page(page))
    }

    /// Products and orders of shops 3 and 4 (two pages each) plus the shop list, all fresh at 0.
    fn filled() -> Store<u32> {
        let mut store = Store::default();
        for kind in [DataKind::Products, DataKind::Orders] {
            for shop in [3, 4] {
                for page in [1, 2] {
                    store.set(&key(kind, shop, page), page, 1, Millis(0));
                }
            }
        }
        store.set(&CacheKey::new(DataKind::Shops), 0, 1, Millis(0));
        store
    }

    fn stale_keys(store: &Store<u32>) -> Vec<CacheKey> {
        let mut keys: Vec<CacheKey> = store.keys().filter(|key| !store.is_fresh(key, Millis(1))).cloned().collect();
        keys.sort();
        keys
    }

    #[test]
    fn invalidated_entries_stay_and_are_served_stale_with_a_refetch() {
        let mut store = filled();
        let page = key(DataKind::Orders, 3, 1);
        assert_eq!(store.invalidate(&page).matched, 1);
        assert_eq!(stale_keys(&store), std::slice::from_ref(&page));
        assert_eq!(store.len(), 9, "nothing disappeared");
        let Begin::Stale(value, ticket) = store.begin(&page, Millis(1)) else {
            panic!("an invalidated entry is a stale hit");
        };
        assert_eq!(value, 1);
        assert_eq!(store.state(&page), EntryState::Refreshing);
        store.complete_ok(&ticket, 10, 1, Millis(2));
        assert!(store.is_fresh(&page, Millis(2)), "a new value clears the mark");
        assert_eq!(store.invalidate(&CacheKey::new(DataKind::Orders)).matched, 0);
    }

    #[test]
    fn by_kind_by_shop_and_by_predicate() {
        let mut store = filled();
        assert_eq!(store.invalidate_kind(DataKind::Orders).matched, 4);
        assert!(stale_keys(&store).iter().all(|k| k.kind == DataKind::Orders));

        let mut store = filled();
        assert_eq!(store.invalidate_shop(ShopId(3)).matched, 4);
        assert_eq!(
            stale_keys(&store),
            [
                key(DataKind::Orders, 3, 1),
                key(DataKind::Orders, 3, 2),
                key(DataKind::Products, 3, 1),
                key(DataKind::Products, 3, 2),
            ]
        );

        let mut store = filled();
        store.invalidate_kind_for_shop(DataKind::Products, ShopId(4));
        assert_eq!(stale_keys(&store), [key(DataKind::Products, 4, 1), key(DataKind::Products, 4, 2)]);

        let mut store = filled();
        let second_pages = store.invalidate_where(|k| k.params.page_number() == Some(2));
        assert_eq!(second_pages.matched, 4);
        let many = store.invalidate_many([&CacheKey::new(DataKind::Shops), &key(DataKind::Orders, 9, 9)]);
        assert_eq!(many.matched, 1, "unknown keys are skipped");
        assert_eq!(stale_keys(&store).len(), 5);
        assert_eq!(store.invalidate_all().matched, 9);
        assert_eq!(stale_keys(&store).len(), 9);
    }

    #[test]
    fn read_keys_are_reported_for_refetch_and_in_flight_answers_arrive_stale() {
        let mut store = filled();
        let read = key(DataKind::Products, 3, 1);
        let fetching = key(DataKind::Products, 3, 2);
        store.retain(&read);
        store.retain(&fetching);
        store.invalidate(&fetching);
        let Begin::Stale(_, ticket) = store.begin(&fetching, Millis(1)) else {
            panic!("stale hit expected");
        };

        let result = store.invalidate_shop(ShopId(3));
        assert_eq!(result.matched, 4);
        assert_eq!(result.refetch, [read], "unread and in-flight keys are not listed");

        // The answer may predate the invalidation: stored, still stale, and the reader wants a refetch.
        assert_eq!(store.complete_ok(&ticket, 20, 1, Millis(2)), Settled::Stored { refetch: true });
        assert_eq!(store.get(&fetching), Some(&20));
        assert!(!store.is_fresh(&fetching, Millis(2)));
        assert!(matches!(store.begin(&fetching, Millis(3)), Begin::Stale(20, _)));
    }

    #[test]
    fn remove_and_clear_drop_values_and_orphan_fetches() {
        let mut store = filled();
        assert!(store.remove(&CacheKey::new(DataKind::Shops)));
        assert!(!store.remove(&CacheKey::new(DataKind::Shops)));
        assert_eq!(store.remove_where(|k| k.is_for_shop(ShopId(4))), 4);
        assert_eq!(store.len(), 4);

        let notifications = CacheKey::new(DataKind::Notifications);
        let Begin::Miss(ticket) = store.begin(&notifications, Millis(0)) else {
            panic!("miss expected");
        };
        store.clear();
        assert!(store.is_empty());
        assert_eq!(store.bytes(), 0);
        // Logged out, then another user starts the same key: the old answer must not land in it.
        let Begin::Miss(fresh_ticket) = store.begin(&notifications, Millis(5)) else {
            panic!("miss expected");
        };
        assert_eq!(store.complete_ok(&ticket, 666, 1, Millis(6)), Settled::Ignored);
        assert_eq!(store.get(&notifications), None);
        assert_eq!(store.state(&notifications), EntryState::Loading);
        store.complete_ok(&fresh_ticket, 7, 1, Millis(7));
        assert_eq!(store.get(&notifications), Some(&7));
    }
}
