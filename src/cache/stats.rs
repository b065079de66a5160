//! Cache statistics, overall and per kind, serializable for a monitoring panel.
//!
//! Invariant: event counters only grow (until `Store::reset_stats`); `entries` and `bytes` are a snapshot
//! of the store when `Store::stats` was called, so the total always equals the sum over kinds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::key::DataKind;

/// Counters of one kind, or of the whole store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Lookups answered with a fresh value (no fetch).
    pub hits: u64,
    /// Lookups with no value: a fetch was started.
    pub misses: u64,
    /// Lookups answered with a stale value while a fetch was started (stale-while-revalidate).
    pub stale_hits: u64,
    /// Fetches started.
    pub fetches: u64,
    /// Lookups that joined a fetch already in flight instead of starting one.
    pub deduplicated: u64,
    /// Fetches that failed.
    pub errors: u64,
    /// Entries evicted to respect the bounds.
    pub evictions: u64,
    /// Entries held.
    pub entries: u64,
    /// Approximate bytes held.
    pub bytes: u64,
}

impl Counters {
    /// Share of lookups served from the cache (fresh or stale) among those that did not join a fetch; `None`
    /// before the first lookup.
    pub fn hit_rate(&self) -> Option<f64> {
        let served = self.hits + self.stale_hits;
        let total = served + self.misses;
        (total > 0).then(|| served as f64 / total as f64)
    }

    /// Adds `other` field by field, saturating (sizes come from callers and may be huge).
    fn add(&mut self, other: &Counters) {
        self.hits = self.hits.saturating_add(other.hits);
        self.misses = self.misses.saturating_add(other.misses);
        self.stale_hits = self.stale_hits.saturating_add(other.stale_hits);
        self.fetches = self.fetches.saturating_add(other.fetches);
        self.deduplicated = self.deduplicated.saturating_add(other.deduplicated);
        self.errors = self.errors.saturating_add(other.errors);
        self.evictions = self.evictions.saturating_add(other.evictions);
        self.entries = self.entries.saturating_add(other.entries);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

/// What `Store::stats` returns: the totals and every kind's counters (all kinds present, zero if unused).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStats {
    /// Sum over all kinds.
    pub total: Counters,
    /// Per kind, keyed by its wire name.
    pub per_kind: BTreeMap<DataKind, Counters>,
}

impl CacheStats {
    /// Builds the statistics from per-kind counters (indexed like `DataKind::ALL`), summing the total.
    pub(super) fn from_kinds(kinds: [Counters; DataKind::COUNT]) -> CacheStats {
        let mut total = Counters::default();
        let mut per_kind = BTreeMap::new();
        for (kind, counters) in DataKind::ALL.into_iter().zip(kinds) {
            total.add(&counters);
            per_kind.insert(kind, counters);
        }
        CacheStats { total, per_kind }
    }

    /// The counters of `kind`.
    pub fn kind(&self, kind: DataKind) -> Counters {
        self.per_kind.get(&kind).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_sum_the_kinds_and_serialize_by_wire_name() {
        let mut kinds = [Counters::default(); DataKind::COUNT];
        kinds[DataKind::Orders.index()].hits = 2;
        kinds[DataKind::Orders.index()].bytes = 10;
        kinds[DataKind::Shops.index()].hits = 1;
        kinds[DataKind::Shops.index()].misses = 1;
        let stats = CacheStats::from_kinds(kinds);
        assert_eq!(stats.total.hits, 3);
        assert_eq!(stats.total.bytes, 10);
        assert_eq!(stats.kind(DataKind::Orders).hits, 2);
        assert_eq!(stats.per_kind.len(), DataKind::COUNT);

        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(json["per_kind"]["orders"]["hits"], 2);
        assert_eq!(json["per_kind"]["dashboard-data"]["hits"], 0);
        assert_eq!(json["total"]["misses"], 1);
        let back: CacheStats = serde_json::from_value(json).unwrap();
        assert_eq!(back, stats);
    }

    #[test]
    fn hit_rate_counts_stale_hits_as_served() {
        assert_eq!(Counters::default().hit_rate(), None);
        let counters = Counters { hits: 2, stale_hits: 1, misses: 1, deduplicated: 9, ..Counters::default() };
        assert_eq!(counters.hit_rate(), Some(0.75));
    }
}
