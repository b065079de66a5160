//! The pure half of persistence: a versioned, per-user snapshot of the persistable entries, its JSON codec,
//! and restoring it into a store. The binding reads and writes localStorage; this module only decides.
//!
//! Invariant: a snapshot of another format version or another user is never restored; restored entries keep
//! their `fetched_at` (wall-clock ms, the store's time unit) but come back stale, however young: events were
//! missed while the app was closed, so each is shown at once and revalidated on its first read.

use protocol::UserId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::entry::Entry;
use super::key::CacheKey;
use super::store::Store;
use super::time::Millis;

/// Version of [`Snapshot`]'s shape; bump it when the snapshot or a persisted value changes shape, so old
/// snapshots are dropped instead of misread.
pub const CACHE_FORMAT_VERSION: u32 = 1;

/// The localStorage key the binding stores the snapshot under.
pub const STORAGE_KEY: &str = "izi.cache";

/// The persisted part of a store, for one user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot<V> {
    /// [`CACHE_FORMAT_VERSION`] when written.
    pub version: u32,
    /// Whose data this is; restored only for the same user.
    pub user_id: UserId,
    /// When the snapshot was taken.
    pub saved_at: Millis,
    /// Least recently used first, so restoring in order rebuilds the eviction order.
    pub entries: Vec<SnapshotEntry<V>>,
}

/// One persisted entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotEntry<V> {
    /// The entry's key.
    pub key: CacheKey,
    /// Its last good value.
    pub value: V,
    /// When the value was fetched (wall-clock ms since the Unix epoch).
    pub fetched_at: Millis,
    /// Its approximate size.
    pub size_bytes: u64,
    /// Whether it had been invalidated.
    #[serde(default)]
    pub stale: bool,
}

/// Why a snapshot was not used; the binding should then delete the stored text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Written by another format version.
    #[error("cache snapshot version {found} is not the expected {expected}")]
    Version {
        /// The snapshot's version.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// Belongs to another user.
    #[error("cache snapshot of user {found} is not for user {expected}")]
    User {
        /// The snapshot's user.
        found: UserId,
        /// The signed-in user.
        expected: UserId,
    },
    /// Not a snapshot at all.
    #[error("unreadable cache snapshot: {0}")]
    Unreadable(String),
    /// A value could not be written as JSON.
    #[error("cache snapshot could not be written: {0}")]
    Unwritable(String),
}

impl<V: Clone> Store<V> {
    /// The entries worth saving at `now` for `user_id`: those of kinds whose policy persists, holding a value
    /// fetched at most `persist_max_age` ago, least recently used first.
    pub fn snapshot_persistable(&self, user_id: UserId, now: Millis) -> Snapshot<V> {
        let max_age = self.policy.persist_max_age;
        let entries = self.snapshot_entries(|key, entry| {
            self.policy.persists(key.kind) && entry.fetched_at.is_some_and(|at| now.saturating_sub(at) <= max_age)
        });
        Snapshot { version: CACHE_FORMAT_VERSION, user_id, saved_at: now, entries }
    }

    /// The entries holding a value that `keep` accepts, least recently used first.
    pub(super) fn snapshot_entries(&self, keep: impl Fn(&CacheKey, &Entry<V>) -> bool) -> Vec<SnapshotEntry<V>> {
        let mut kept: Vec<(&CacheKey, &Entry<V>)> =
            self.entries.iter().filter(|(key, entry)| keep(key, entry)).collect();
        kept.sort_by(|(ka, a), (kb, b)| a.last_used.cmp(&b.last_used).then_with(|| ka.cmp(kb)));
        kept.into_iter()
            .filter_map(|(key, entry)| {
                Some(SnapshotEntry {
                    key: key.clone(),
                    value: entry.value.clone()?,
                    fetched_at: entry.fetched_at?,
                    size_bytes: entry.size_bytes,
                    stale: entry.invalidated,
                })
            })
            .collect()
    }
}

impl<V> Store<V> {
    /// Restores `snapshot` if it has `expected_version` and belongs to `user_id`; otherwise changes nothing and
    /// says why. Skips entries of kinds the policy does not persist, older than `persist_max_age`, or whose key
    /// already holds a value (memory is newer). Restored entries keep their `fetched_at` and are stale (the
    /// events of the time the app was closed never reached them), and the bounds are enforced afterwards.
    /// Returns how many entries were restored.
    pub fn restore(
        &mut self,
        snapshot: Snapshot<V>,
        expected_version: u32,
        user_id: UserId,
        now: Millis,
    ) -> Result<usize, SnapshotError> {
        check_header(snapshot.version, expected_version, snapshot.user_id, user_id)?;
        let max_age = self.policy.persist_max_age;
        let mut restored = 0;
        for item in snapshot.entries {
            let too_old = now.saturating_sub(item.fetched_at) > max_age;
            if !self.policy.persists(item.key.kind) || too_old || self.get(&item.key).is_some() {
                continue;
            }
            self.put_entry(item.key, item.value, item.size_bytes, item.fetched_at, true);
            restored += 1;
        }
        self.enforce_bounds(None);
        Ok(restored)
    }
}

fn check_header(
    found_version: u32,
    expected_version: u32,
    found_user: UserId,
    expected_user: UserId,
) -> Result<(), SnapshotError> {
    if found_version != expected_version {
        return Err(SnapshotError::Version { found: found_version, expected: expected_version });
    }
    if found_user != expected_user {
        return Err(SnapshotError::User { found: found_user, expected: expected_user });
    }
    Ok(())
}

/// Writes `snapshot` as JSON for localStorage.
pub fn encode<V: Serialize>(snapshot: &Snapshot<V>) -> Result<String, SnapshotError> {
    serde_json::to_string(snapshot).map_err(|e| SnapshotError::Unwritable(e.to_string()))
}

/// Reads stored text as a snapshot of `expected_version` for `user_id`. The header is checked before the
/// entries are read, so a snapshot of another version is reported as such even if its shape changed; an entry
/// that no longer reads (an unknown kind, a value of an old shape) is dropped alone.
pub fn decode<V: DeserializeOwned>(
    text: &str,
    expected_version: u32,
    user_id: UserId,
) -> Result<Snapshot<V>, SnapshotError> {
    #[derive(Deserialize)]
    struct Loose {
        version: u32,
        user_id: UserId,
        #[serde(default)]
        saved_at: Millis,
        #[serde(default)]
        entries: Vec<serde_json::Value>,
    }
    let loose: Loose = crate::json::from_text(text).map_err(|e| SnapshotError::Unreadable(e.to_string()))?;
    check_header(loose.version, expected_version, loose.user_id, user_id)?;
    let entries = loose.entries.into_iter().filter_map(|entry| SnapshotEntry::deserialize(&entry).ok()).collect();
    Ok(Snapshot { version: loose.version, user_id: loose.user_id, saved_at: loose.saved_at, entries })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::fetch::Begin;
    use crate::cache::key::{DataKind, Params};
    use crate::cache::policy::CachePolicy;
    use protocol::ShopId;
    use serde_json::{Value, json};

    const T0: Millis = Millis(1_700_000_000_000);
    const ALICE: UserId = UserId(7);

    fn at(offset: u64) -> Millis {
        T0.saturating_add(Millis(offset))
    }

    fn products(shop: i64) -> CacheKey {
        CacheKey::with_params(DataKind::Products, Params::new().shop(ShopId(shop)))
    }

    /// A dashboard (persisted), orders (not persisted by this policy), two product lists (one invalidated), a
    /// shop list too old to keep and a product-stats key still loading.
    fn source() -> Store<Value> {
        let mut store = Store::new(CachePolicy::default().with_persist(DataKind::Orders, false));
        store.set(&CacheKey::new(DataKind::Shops), json!(["old"]), 5, T0.saturating_sub(Millis::from_mins(25 * 60)));
        store.set(&CacheKey::new(DataKind::DashboardData), json!({"orders": 3}), 100, at(0));
        store.set(&CacheKey::new(DataKind::Orders), json!([1, 2]), 50, at(0));
        store.set(&products(3), json!(["shoe"]), 30, at(10));
        store.set(&products(4), json!(["hat"]), 20, at(20));
        store.invalidate(&products(4));
        let _ = store.begin(&CacheKey::new(DataKind::ProductStats), at(30));
        store
    }

    #[test]
    fn only_persistable_recent_values_are_saved_oldest_use_first() {
        let snapshot = source().snapshot_persistable(ALICE, at(60_000));
        assert_eq!(snapshot.version, CACHE_FORMAT_VERSION);
        assert_eq!(snapshot.user_id, ALICE);
        assert_eq!(snapshot.saved_at, at(60_000));
        let keys: Vec<String> = snapshot.entries.iter().map(|e| e.key.to_string()).collect();
        assert_eq!(keys, ["dashboard-data", "products?shop=3", "products?shop=4"]);
        assert_eq!(snapshot.entries[1].fetched_at, at(10));
        assert!(!snapshot.entries[1].stale);
        assert!(snapshot.entries[2].stale);
    }

    #[test]
    fn a_snapshot_round_trips_through_json_and_keeps_fetched_at() {
        let snapshot = source().snapshot_persistable(ALICE, at(60_000));
        let text = encode(&snapshot).unwrap();
        let read: Snapshot<Value> = decode(&text, CACHE_FORMAT_VERSION, ALICE).unwrap();
        assert_eq!(read, snapshot);

        // Reloaded 3 minutes later: every restored entry is shown and revalidated, even the products whose
        // 10 min TTL has not run out (changes made while the app was closed sent it no event), and even live.
        let now = at(180_000);
        let mut store: Store<Value> = Store::default();
        store.set_live(true);
        assert_eq!(store.restore(read, CACHE_FORMAT_VERSION, ALICE, now), Ok(3));
        let dashboard = CacheKey::new(DataKind::DashboardData);
        assert_eq!(store.entry(&dashboard).and_then(|e| e.fetched_at()), Some(at(0)));
        assert_eq!(store.entry(&dashboard).map(|e| e.size_bytes()), Some(100));
        assert!(!store.is_fresh(&products(3), now));
        assert!(!store.is_fresh(&products(4), now));
        let Begin::Stale(value, _) = store.begin(&dashboard, now) else {
            panic!("a restored entry is shown and revalidated");
        };
        assert_eq!(value, json!({"orders": 3}));
        let Begin::Stale(value, _) = store.begin(&products(3), now) else {
            panic!("a young restored entry is revalidated too");
        };
        assert_eq!(value, json!(["shoe"]));
    }

    #[test]
    fn another_version_or_user_is_rejected_and_nothing_is_restored() {
        let snapshot = source().snapshot_persistable(ALICE, at(0));
        let mut store: Store<Value> = Store::default();
        assert_eq!(
            store.restore(snapshot.clone(), CACHE_FORMAT_VERSION + 1, ALICE, at(0)),
            Err(SnapshotError::Version { found: CACHE_FORMAT_VERSION, expected: CACHE_FORMAT_VERSION + 1 })
        );
        assert_eq!(
            store.restore(snapshot.clone(), CACHE_FORMAT_VERSION, UserId(8), at(0)),
            Err(SnapshotError::User { found: ALICE, expected: UserId(8) })
        );
        assert!(store.is_empty());

        let text = encode(&snapshot).unwrap();
        assert!(matches!(decode::<Value>(&text, CACHE_FORMAT_VERSION, UserId(8)), Err(SnapshotError::User { .. })));
        let old = text.replacen(&format!("\"version\":{CACHE_FORMAT_VERSION}"), "\"version\":0", 1);
        assert!(matches!(
            decode::<Value>(&old, CACHE_FORMAT_VERSION, ALICE),
            Err(SnapshotError::Version { found: 0, .. })
        ));
        assert!(matches!(decode::<Value>("not json", CACHE_FORMAT_VERSION, ALICE), Err(SnapshotError::Unreadable(_))));
    }

    #[test]
    fn unreadable_entries_are_dropped_alone() {
        let text = json!({
            "version": CACHE_FORMAT_VERSION,
            "user_id": 7,
            "saved_at": 1,
            "entries": [
                {"key": {"kind": "users"}, "value": 1, "fetched_at": 1, "size_bytes": 1},
                {"key": {"kind": "shops"}, "value": "not a number", "fetched_at": 1, "size_bytes": 1},
                {"key": {"kind": "shops"}, "value": 5, "fetched_at": 1, "size_bytes": 1}
            ]
        })
        .to_string();
        let snapshot: Snapshot<u32> = decode(&text, CACHE_FORMAT_VERSION, ALICE).unwrap();
        assert_eq!(snapshot.entries.len(), 1);
        assert_eq!(snapshot.entries[0].value, 5);
        assert!(!snapshot.entries[0].stale, "absent means not stale");
    }

    #[test]
    fn restore_respects_policy_memory_and_age() {
        let snapshot = source().snapshot_persistable(ALICE, at(0));
        let policy = CachePolicy::default().with_persist(DataKind::Products, false);
        let mut store: Store<Value> = Store::new(policy);
        store.set(&CacheKey::new(DataKind::DashboardData), json!("newer"), 1, at(5));
        assert_eq!(store.restore(snapshot.clone(), CACHE_FORMAT_VERSION, ALICE, at(5)), Ok(0));
        assert_eq!(store.get(&CacheKey::new(DataKind::DashboardData)), Some(&json!("newer")));

        let mut store: Store<Value> = Store::default();
        let a_day_later = at(0).saturating_add(Millis::from_mins(24 * 60 + 1));
        assert_eq!(store.restore(snapshot, CACHE_FORMAT_VERSION, ALICE, a_day_later), Ok(0));
    }
}
