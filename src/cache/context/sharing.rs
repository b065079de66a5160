//! The cache binding's side of one cache for all tabs: joining the user's other tabs (ask, hold the reads,
//! take the answers), answering the tabs that join later, and putting every fetch answer, write and
//! invalidation made by hand in the others (the rules are in `share.rs`, the channel in `share_driver.rs`).
//! Values cross as JSON: held typed here, decoded there on their first typed read.
//!
//! Invariant: what the live layer does for an event or a resync is never shared (every tab does it itself),
//! and nothing received is sent on again.

use std::time::Duration;

use leptos::prelude::*;
use protocol::{Seq, UserId};
use serde_json::Value;

use super::{Changed, DataCache, now};
use crate::cache::held::Held;
use crate::cache::key::CacheKey;
use crate::cache::persist::SnapshotEntry;
use crate::cache::share::{CacheWire, Joining, Scope};
use crate::cache::share_driver::ShareDriver;

impl DataCache {
    /// Leaves the tabs of the previous user and joins those of `user` (none when signed out): a new tab holds
    /// its reads until they answer, or at once knows nobody is there.
    pub(super) fn join_tabs(self, user: Option<UserId>) {
        let cache = self;
        let driver =
            user.and_then(|user| ShareDriver::open(user, move |wire| cache.received(wire), move || cache.alone()));
        let joined = driver.is_some();
        let ask = self
            .inner
            .try_update_value(|inner| {
                inner.joining = if joined { Joining::asking(now()) } else { Joining::joined() };
                inner.position = None;
                inner.share = driver;
                inner.share.as_ref().map(|share| CacheWire::Ask { from: share.id() })
            })
            .flatten();
        if let Some(ask) = ask {
            self.post(&ask);
            self.arm_join_timer();
        }
    }

    /// Runs the live layer's changes for one event (`seq`) or a resync (`None`): every tab makes them itself,
    /// so none is shared, and the values are now as of `seq`.
    pub fn from_events<R>(self, seq: Option<Seq>, change: impl FnOnce() -> R) -> R {
        let before = self.inner.try_update_value(|inner| std::mem::replace(&mut inner.local_only, true));
        let result = change();
        self.inner.try_update_value(|inner| {
            inner.local_only = before.unwrap_or(false);
            inner.position = inner.position.max(seq);
        });
        result
    }

    /// Puts the entry of `key` in the other tabs (a fetch answer or a write made here).
    pub(super) fn share_put(self, key: &CacheKey) {
        let wire = self
            .inner
            .try_with_value(|inner| {
                let share = inner.share.as_ref().filter(|_| !inner.local_only)?;
                Some(CacheWire::Put { from: share.id(), entry: to_wire(inner.store.shareable_entry(key)?)? })
            })
            .flatten();
        if let Some(wire) = wire {
            self.post(&wire);
        }
    }

    /// Tells the other tabs of an invalidation made here; this tab refetches `refetching` itself.
    pub(super) fn share_invalidation(self, scope: Scope, refetching: Vec<CacheKey>) {
        let from = self
            .inner
            .try_with_value(|inner| inner.share.as_ref().filter(|_| !inner.local_only).map(ShareDriver::id))
            .flatten();
        if let Some(from) = from {
            self.post(&CacheWire::Invalidate { from, scope, refetching });
        }
    }

    fn received(self, wire: CacheWire) {
        let me = self.inner.try_with_value(|inner| inner.share.as_ref().map(ShareDriver::id)).flatten();
        match wire {
            CacheWire::Ask { from } => {
                let answer = self.inner.try_with_value(|inner| CacheWire::Answer {
                    from: me.unwrap_or_default(),
                    to: from,
                    position: inner.position,
                    entries: inner.store.shareable().into_iter().filter_map(to_wire).collect(),
                });
                if let Some(answer) = answer {
                    self.post(&answer);
                }
            }
            CacheWire::Answer { to, position, entries, .. } if Some(to) == me => {
                let behind = self
                    .inner
                    .try_update_value(|inner| {
                        inner.joining.answered(now());
                        inner.position > position
                    })
                    .unwrap_or(false);
                self.adopt(entries, behind);
                self.arm_join_timer();
            }
            CacheWire::Answer { .. } => {}
            CacheWire::Put { entry, .. } => self.adopt(vec![entry], false),
            CacheWire::Invalidate { scope, refetching, .. } => {
                let Some(result) = self.inner.try_update_value(|inner| scope.apply(&mut inner.store)) else {
                    return;
                };
                for key in result.refetch.iter().filter(|key| !refetching.contains(key)) {
                    self.start(key, None, false);
                }
                if result.matched > 0 {
                    self.schedule_save();
                }
            }
        }
    }

    /// Takes what another tab holds; readers of what changed re-render. Entries taken stale (`behind`) are
    /// refetched once the wait is over, like any stale read.
    fn adopt(self, entries: Vec<SnapshotEntry<Value>>, behind: bool) {
        let Some((taken, joined)) = self.inner.try_update_value(|inner| {
            let mut taken = Vec::new();
            for entry in entries.into_iter().map(from_wire) {
                let (key, value) = (entry.key.clone(), entry.value.clone());
                if inner.store.adopt(entry, behind) {
                    inner.waiters.settle(&key, &Ok(value));
                    taken.push(key);
                }
            }
            (taken, !inner.joining.is_asking())
        }) else {
            return;
        };
        for key in &taken {
            self.notify(key, Changed::Both);
            if behind && joined {
                self.start(key, None, false);
            }
        }
        if !taken.is_empty() {
            self.schedule_save();
        }
    }

    /// No other tab of this user is there: the held reads start now.
    fn alone(self) {
        self.inner.try_update_value(|inner| inner.joining.alone(now()));
        self.end_join();
    }

    /// Ends the wait once it is due, starting the held reads; otherwise waits again.
    fn end_join(self) {
        let Some(keys) = self.inner.try_update_value(|inner| inner.joining.handle_timeout(now())) else {
            return;
        };
        if keys.is_empty() {
            self.arm_join_timer();
            return;
        }
        for (key, fetcher) in keys {
            self.start(&key, Some(fetcher), false);
        }
    }

    fn arm_join_timer(self) {
        let due = self.inner.try_with_value(|inner| inner.joining.poll_timeout()).flatten();
        if let Some(due) = due {
            let delay = Duration::from_millis(due.saturating_sub(now()).0);
            set_timeout(move || self.end_join(), delay);
        }
    }

    fn post(self, wire: &CacheWire) {
        self.inner.try_with_value(|inner| {
            if let Some(share) = &inner.share {
                share.post(wire);
            }
        });
    }
}

/// An entry as the other tabs get it: its value as JSON (`None` when it has none).
fn to_wire(entry: SnapshotEntry<Held>) -> Option<SnapshotEntry<Value>> {
    let SnapshotEntry { key, value, fetched_at, size_bytes, stale } = entry;
    Some(SnapshotEntry { key, value: value.to_json()?, fetched_at, size_bytes, stale })
}

/// An entry from another tab: its JSON is decoded on the first typed read here.
fn from_wire(entry: SnapshotEntry<Value>) -> SnapshotEntry<Held> {
    let SnapshotEntry { key, value, fetched_at, size_bytes, stale } = entry;
    SnapshotEntry { key, value: Held::from_json(value), fetched_at, size_bytes, stale }
}
