//! Fetch decisions: `begin` looks a key up and says hit, stale hit (show and refetch), miss or join the fetch
//! in flight; `complete_ok`, `complete_err` and `abandon` settle that fetch.
//!
//! Invariant: at most one fetch per key is in flight, named by a [`Ticket`]; an answer whose ticket is not the
//! one in flight (superseded, abandoned, removed, cleared on logout) is dropped, never stored.

use super::entry::{Entry, EntryState, FetchError, FetchId};
use super::key::CacheKey;
use super::store::Store;
use super::time::Millis;

/// The right to complete one fetch: returned when the store asks the driver to fetch a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ticket {
    key: CacheKey,
    id: FetchId,
}

impl Ticket {
    /// The key to fetch.
    pub fn key(&self) -> &CacheKey {
        &self.key
    }

    /// The fetch's id, unique for the store's lifetime.
    pub fn id(&self) -> FetchId {
        self.id
    }
}

/// What [`Store::begin`] tells the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin<V> {
    /// A fresh value: show it, fetch nothing (a hit).
    Fresh(V),
    /// A stale value: show it and fetch in the background, completing with the ticket (stale-while-revalidate).
    Stale(V, Ticket),
    /// No value: fetch, completing with the ticket (a miss).
    Miss(Ticket),
    /// A fetch for this key is already running: wait for it instead of starting another (de-duplication).
    /// Carries the value shown meanwhile, if any.
    InFlight(Option<V>),
}

impl<V> Begin<V> {
    /// The ticket when a fetch must be started.
    pub fn ticket(&self) -> Option<&Ticket> {
        match self {
            Begin::Stale(_, ticket) | Begin::Miss(ticket) => Some(ticket),
            Begin::Fresh(_) | Begin::InFlight(_) => None,
        }
    }

    /// The value to show right away, if any.
    pub fn value(&self) -> Option<&V> {
        match self {
            Begin::Fresh(value) | Begin::Stale(value, _) | Begin::InFlight(Some(value)) => Some(value),
            Begin::Miss(_) | Begin::InFlight(None) => None,
        }
    }
}

/// What a completion did, and what the driver should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The value was stored. `refetch`: the key was invalidated while the fetch ran and is still read, so the
    /// answer may be outdated: call [`Store::begin`] again.
    Stored {
        /// Whether to begin another fetch now.
        refetch: bool,
    },
    /// The error was recorded (the last good value is kept). Retry by calling [`Store::begin`] after
    /// `retry_in`; `None` means the attempts of this round are used up.
    Failed {
        /// Delay before the next attempt, from the kind's retry policy.
        retry_in: Option<Millis>,
    },
    /// The ticket is not the fetch in flight (the key was removed, cleared or already completed): nothing was
    /// stored.
    Ignored,
}

impl<V> Store<V> {
    /// Looks `key` up at `now` and decides: [`Begin::Fresh`] (hit), [`Begin::Stale`] (stale hit, fetch
    /// started), [`Begin::Miss`] (fetch started) or [`Begin::InFlight`] (join the running fetch). Counts the
    /// outcome and marks the key as used.
    pub fn begin(&mut self, key: &CacheKey, now: Millis) -> Begin<V>
    where
        V: Clone,
    {
        let ttl = self.ttl_of(key.kind);
        let tick = self.next_tick();
        let id = FetchId(self.next_fetch);
        let is_new = !self.entries.contains_key(key);
        let entry = self.entries.entry(key.clone()).or_insert_with(|| Entry::new(tick));
        entry.last_used = tick;
        let decision = if entry.in_flight.is_some() {
            Begin::InFlight(entry.value.clone())
        } else if let Some(value) = entry.is_fresh(ttl, now).then(|| entry.value.clone()).flatten() {
            Begin::Fresh(value)
        } else {
            entry.in_flight = Some(id);
            entry.stale_on_arrival = false;
            let ticket = Ticket { key: key.clone(), id };
            match &entry.value {
                Some(value) => Begin::Stale(value.clone(), ticket),
                None => Begin::Miss(ticket),
            }
        };
        let counters = self.counter(key.kind);
        match &decision {
            Begin::Fresh(_) => counters.hits += 1,
            Begin::Stale(..) => counters.stale_hits += 1,
            Begin::Miss(_) => counters.misses += 1,
            Begin::InFlight(_) => counters.deduplicated += 1,
        }
        if decision.ticket().is_some() {
            counters.fetches += 1;
            self.next_fetch = self.next_fetch.saturating_add(1);
        }
        if is_new {
            self.enforce_bounds(Some(key));
        }
        decision
    }

    /// Plans a batch: calls [`Store::begin`] for each key (duplicates join the first) and returns the tickets
    /// of the keys to fetch, in the given order.
    pub fn begin_many<'a>(&mut self, keys: impl IntoIterator<Item = &'a CacheKey>, now: Millis) -> Vec<Ticket>
    where
        V: Clone,
    {
        keys.into_iter()
            .filter_map(|key| match self.begin(key, now) {
                Begin::Stale(_, ticket) | Begin::Miss(ticket) => Some(ticket),
                Begin::Fresh(_) | Begin::InFlight(_) => None,
            })
            .collect()
    }

    /// Completes the fetch of `ticket` with a value of about `size_bytes` bytes, fetched at `now`: clears the
    /// error, then evicts other entries if the bounds are exceeded.
    pub fn complete_ok(&mut self, ticket: &Ticket, value: V, size_bytes: u64, now: Millis) -> Settled {
        let tick = self.next_tick();
        let Some(entry) = self.in_flight_entry(ticket) else {
            return Settled::Ignored;
        };
        entry.in_flight = None;
        let stale = std::mem::take(&mut entry.stale_on_arrival);
        entry.put(value, size_bytes, now);
        entry.invalidated = stale;
        entry.last_used = tick;
        let refetch = stale && entry.readers > 0;
        self.enforce_bounds(Some(&ticket.key));
        Settled::Stored { refetch }
    }

    /// Completes the fetch of `ticket` with an error: keeps the last good value, records the error and counts
    /// it, and tells when to retry under the kind's retry policy.
    pub fn complete_err(&mut self, ticket: &Ticket, message: impl Into<String>, now: Millis) -> Settled {
        let retry = self.policy.kind(ticket.key.kind).retry;
        let Some(entry) = self.in_flight_entry(ticket) else {
            return Settled::Ignored;
        };
        entry.in_flight = None;
        entry.stale_on_arrival = false;
        let failures = entry.error.as_ref().map_or(0, |e| e.failures).saturating_add(1);
        entry.error = Some(FetchError { message: message.into(), at: now, failures });
        entry.round_failures = entry.round_failures.saturating_add(1);
        let retry_in = retry.retry_delay(entry.round_failures);
        if retry_in.is_none() {
            // The round is over: a later begin (a new reader, a manual refresh) gets a full round again.
            entry.round_failures = 0;
        }
        self.counter(ticket.key.kind).errors += 1;
        Settled::Failed { retry_in }
    }

    /// Gives up the fetch of `ticket` without a result (the driver dropped it): the entry keeps its value, and
    /// an entry left with nothing (no value, error or reader) is removed. Returns whether the ticket was live.
    pub fn abandon(&mut self, ticket: &Ticket) -> bool {
        let Some(entry) = self.in_flight_entry(ticket) else {
            return false;
        };
        entry.in_flight = None;
        entry.stale_on_arrival = false;
        if entry.state() == EntryState::Idle && entry.readers == 0 {
            self.entries.remove(&ticket.key);
        }
        true
    }

    fn in_flight_entry(&mut self, ticket: &Ticket) -> Option<&mut Entry<V>> {
        self.entries.get_mut(&ticket.key).filter(|entry| entry.in_flight == Some(ticket.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::key::{DataKind, Params};
    use crate::cache::policy::{CachePolicy, RetryPolicy};
    use crate::cache::stats::Counters;
    use protocol::ShopId;

    const T0: Millis = Millis(1_700_000_000_000);

    fn at(offset: u64) -> Millis {
        T0.saturating_add(Millis(offset))
    }

    fn orders(shop: i64) -> CacheKey {
        CacheKey::with_params(DataKind::Orders, Params::new().shop(ShopId(shop)))
    }

    /// Begins `key` at `now`, expecting a fetch, and completes it with `value`.
    fn fetch(store: &mut Store<u32>, key: &CacheKey, value: u32, now: Millis) {
        let decision = store.begin(key, now);
        let ticket = decision.ticket().expect("a fetch is needed").clone();
        assert_eq!(store.complete_ok(&ticket, value, 8, now), Settled::Stored { refetch: false });
    }

    #[test]
    fn every_kind_is_fresh_until_exactly_its_ttl() {
        let expected_ttl = [
            (DataKind::DashboardData, 120_000),
            (DataKind::ProductStats, 300_000),
            (DataKind::Orders, 60_000),
            (DataKind::Notifications, 30_000),
            (DataKind::Products, 600_000),
            (DataKind::Shops, 900_000),
        ];
        for (kind, ttl) in expected_ttl {
            let mut store: Store<u32> = Store::default();
            let key = CacheKey::new(kind);
            fetch(&mut store, &key, 1, at(0));
            assert_eq!(store.begin(&key, at(ttl - 1)), Begin::Fresh(1), "{kind} just before");
            assert!(store.is_fresh(&key, at(ttl - 1)));
            assert!(!store.is_fresh(&key, at(ttl)), "{kind} at the boundary");
            let decision = store.begin(&key, at(ttl));
            assert!(matches!(decision, Begin::Stale(1, _)), "{kind}: {decision:?}");
        }
    }

    #[test]
    fn while_live_covered_kinds_stay_fresh_until_the_live_ttl_and_offline_the_ttl_is_back() {
        let mut store: Store<u32> = Store::default();
        let key = orders(1);
        let shops = CacheKey::new(DataKind::Shops);
        fetch(&mut store, &key, 1, at(0));
        fetch(&mut store, &shops, 7, at(0));
        store.set_live(true);
        assert!(store.is_live());
        assert_eq!(store.begin(&key, at(60_000)), Begin::Fresh(1), "past the 1 min TTL, events keep it current");
        assert_eq!(store.begin(&key, at(30 * 60_000 - 1)), Begin::Fresh(1));
        assert!(matches!(store.begin(&shops, at(15 * 60_000)), Begin::Stale(7, _)), "no event carries shops");
        assert!(!store.is_fresh(&key, at(30 * 60_000)), "the live TTL still bounds it");

        store.set_live(false);
        assert!(!store.is_fresh(&key, at(60_000)), "the connection dropped: events may be missing");
        assert!(matches!(store.begin(&key, at(60_000)), Begin::Stale(1, _)));
    }

    #[test]
    fn a_stale_value_is_shown_while_it_is_refetched() {
        let mut store: Store<u32> = Store::default();
        let key = orders(3);
        fetch(&mut store, &key, 1, at(0));
        assert_eq!(store.state(&key), EntryState::Ready);

        let Begin::Stale(shown, ticket) = store.begin(&key, at(60_000)) else {
            panic!("stale hit expected");
        };
        assert_eq!(shown, 1);
        assert_eq!(ticket.key(), &key);
        assert_eq!(store.state(&key), EntryState::Refreshing);
        assert_eq!(store.get(&key), Some(&1), "still shown while refreshing");

        store.complete_ok(&ticket, 2, 8, at(60_500));
        assert_eq!(store.state(&key), EntryState::Ready);
        assert_eq!(store.entry(&key).and_then(Entry::fetched_at), Some(at(60_500)));
        assert_eq!(store.begin(&key, at(61_000)), Begin::Fresh(2));
        let stats = store.stats().kind(DataKind::Orders);
        assert_eq!((stats.misses, stats.stale_hits, stats.hits, stats.fetches), (1, 1, 1, 2));
    }

    #[test]
    fn concurrent_begins_for_one_key_share_one_fetch() {
        let mut store: Store<u32> = Store::default();
        let key = orders(3);
        let Begin::Miss(ticket) = store.begin(&key, at(0)) else {
            panic!("miss expected");
        };
        assert_eq!(store.state(&key), EntryState::Loading);
        assert_eq!(store.begin(&key, at(1)), Begin::InFlight(None));
        assert_eq!(store.begin(&key, at(2)), Begin::InFlight(None));
        let stats = store.stats().total;
        assert_eq!((stats.fetches, stats.deduplicated, stats.misses), (1, 2, 1));

        store.complete_ok(&ticket, 5, 8, at(3));
        // While refreshing, joiners get the stale value to show.
        let Begin::Stale(_, refresh) = store.begin(&key, at(70_000)) else {
            panic!("stale hit expected");
        };
        assert_eq!(store.begin(&key, at(70_001)), Begin::InFlight(Some(5)));
        assert_ne!(refresh.id(), ticket.id(), "every fetch has its own id");
        assert_eq!(store.stats().total.fetches, 2);
        assert_eq!(store.stats().total.deduplicated, 3);
    }

    #[test]
    fn a_batch_plan_lists_only_the_keys_to_fetch() {
        let mut store: Store<u32> = Store::default();
        fetch(&mut store, &orders(1), 1, at(0));
        fetch(&mut store, &orders(2), 2, at(0));
        let _joined = store.begin(&orders(5), at(0));
        let keys = [orders(1), orders(2), orders(3), orders(3), orders(5)];
        // At 30 s orders are fresh, so only the unknown key 3 is fetched (once); 5 is in flight.
        let plan = store.begin_many(&keys, at(30_000));
        let planned: Vec<&CacheKey> = plan.iter().map(Ticket::key).collect();
        assert_eq!(planned, [&orders(3)]);
        // At 60 s the fetched ones are stale.
        let plan = store.begin_many(&keys[..2], at(60_000));
        assert_eq!(plan.len(), 2);
        let stats = store.stats().total;
        assert_eq!((stats.hits, stats.misses, stats.stale_hits, stats.deduplicated), (2, 4, 2, 2));
    }

    #[test]
    fn an_error_keeps_the_last_good_value_and_schedules_retries() {
        let mut store: Store<u32> = Store::default();
        let key = orders(3);
        fetch(&mut store, &key, 1, at(0));
        let mut failures = Vec::new();
        for attempt in 0..4u64 {
            let now = at(60_000 + attempt * 10_000);
            let decision = store.begin(&key, now);
            assert_eq!(decision.value(), Some(&1));
            let ticket = decision.ticket().expect("stale: refetch").clone();
            assert_eq!(store.state(&key), EntryState::Refreshing);
            failures.push(store.complete_err(&ticket, format!("HTTP 503 #{attempt}"), now));
            assert_eq!(store.state(&key), EntryState::Error);
            assert_eq!(store.get(&key), Some(&1), "last good value kept");
        }
        let retry = |ms| Settled::Failed { retry_in: ms };
        // Default policy: 3 attempts per round (retry after 1 s, 2 s, give up), then a new round.
        assert_eq!(
            failures,
            [retry(Some(Millis(1_000))), retry(Some(Millis(2_000))), retry(None), retry(Some(Millis(1_000)))]
        );
        let error = store.entry(&key).and_then(Entry::error).cloned().unwrap();
        assert_eq!((error.message.as_str(), error.failures, error.at), ("HTTP 503 #3", 4, at(90_000)));
        assert_eq!(store.stats().kind(DataKind::Orders).errors, 4);

        fetch(&mut store, &key, 2, at(100_000));
        assert_eq!(store.state(&key), EntryState::Ready);
        assert_eq!(store.entry(&key).and_then(Entry::error), None, "a success clears the error");
    }

    #[test]
    fn an_error_without_a_value_shows_no_value() {
        let mut store: Store<u32> = Store::default();
        let key = orders(3);
        let Begin::Miss(ticket) = store.begin(&key, at(0)) else {
            panic!("miss expected");
        };
        store.complete_err(&ticket, "offline", at(1));
        assert_eq!((store.state(&key), store.get(&key)), (EntryState::Error, None));
        // A later begin starts again with a miss, the error kept until it succeeds.
        assert!(matches!(store.begin(&key, at(2)), Begin::Miss(_)));
        assert_eq!(store.state(&key), EntryState::Loading);
        assert!(store.entry(&key).and_then(Entry::error).is_some());
    }

    #[test]
    fn custom_policies_override_ttl_and_retry() {
        let policy = CachePolicy::default()
            .with_ttl(DataKind::Orders, Millis(5_000))
            .with_retry(DataKind::Orders, RetryPolicy::NONE);
        let mut store = Store::new(policy);
        let key = orders(1);
        fetch(&mut store, &key, 1, at(0));
        assert_eq!(store.begin(&key, at(4_999)), Begin::Fresh(1));
        let Begin::Stale(_, ticket) = store.begin(&key, at(5_000)) else {
            panic!("stale at the custom TTL");
        };
        assert_eq!(store.complete_err(&ticket, "down", at(5_000)), Settled::Failed { retry_in: None });
        let shops = CacheKey::new(DataKind::Shops);
        fetch(&mut store, &shops, 1, at(0));
        assert_eq!(store.begin(&shops, at(899_999)), Begin::Fresh(1), "other kinds keep the default");
    }

    #[test]
    fn stale_stray_and_abandoned_tickets_are_ignored() {
        let mut store: Store<u32> = Store::default();
        let key = orders(3);
        let Begin::Miss(ticket) = store.begin(&key, at(0)) else {
            panic!("miss expected");
        };
        assert!(store.abandon(&ticket));
        assert!(!store.abandon(&ticket));
        assert!(store.is_empty(), "nothing was left to keep");
        assert_eq!(store.complete_ok(&ticket, 1, 1, at(1)), Settled::Ignored);
        assert_eq!(store.complete_err(&ticket, "late", at(1)), Settled::Ignored);
        assert_eq!(store.stats().total.errors, 0);

        fetch(&mut store, &key, 1, at(0));
        let Begin::Stale(_, ticket) = store.begin(&key, at(60_000)) else {
            panic!("stale expected");
        };
        assert!(store.abandon(&ticket));
        assert_eq!((store.state(&key), store.get(&key)), (EntryState::Ready, Some(&1)));
        assert_eq!(store.complete_ok(&ticket, 2, 1, at(1)), Settled::Ignored, "completed at most once");
    }

    #[test]
    fn stats_follow_a_scripted_session() {
        let dashboard = CacheKey::new(DataKind::DashboardData);
        let mut store: Store<u32> = Store::default();
        fetch(&mut store, &dashboard, 1, at(0)); // miss + fetch
        let _ = store.begin(&dashboard, at(1)); // hit
        let _ = store.begin(&dashboard, at(2)); // hit
        let Begin::Stale(_, ticket) = store.begin(&dashboard, at(120_000)) else {
            panic!("stale expected");
        }; // stale hit + fetch
        let _ = store.begin(&dashboard, at(120_001)); // deduplicated
        store.complete_err(&ticket, "down", at(120_002)); // error
        fetch(&mut store, &orders(1), 1, at(0)); // miss + fetch
        let total = store.stats().total;
        let expected = Counters {
            hits: 2,
            misses: 2,
            stale_hits: 1,
            fetches: 3,
            deduplicated: 1,
            errors: 1,
            evictions: 0,
            entries: 2,
            bytes: 16,
        };
        assert_eq!(total, expected);
        let per_kind = store.stats();
        let dashboard_stats = per_kind.kind(DataKind::DashboardData);
        let order_stats = per_kind.kind(DataKind::Orders);
        assert_eq!((dashboard_stats.fetches, dashboard_stats.hits, dashboard_stats.errors), (2, 2, 1));
        assert_eq!((order_stats.misses, order_stats.fetches, order_stats.bytes), (1, 1, 8));
        assert_eq!(per_kind.kind(DataKind::Shops), Counters::default());
        assert_eq!(total.hit_rate(), Some(0.6));

        store.reset_stats();
        let after_reset = store.stats().total;
        assert_eq!((after_reset.hits, after_reset.fetches, after_reset.errors), (0, 0, 0));
        assert_eq!((after_reset.entries, after_reset.bytes), (2, 16), "the contents remain");
    }
}
