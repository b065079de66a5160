//! One cache for all the tabs of a browser, the pure half: the messages the tabs exchange over their channel,
//! a new tab's wait for the others' entries ([`Joining`]), and how a store takes an entry another tab holds
//! ([`Store::adopt`]).
//!
//! A new tab asks; every tab of the same user answers with all it holds (values, when they were fetched,
//! whether they are stale) and the newest event seq applied to them. Meanwhile the new tab holds its reads, so
//! what the others hold fresh is painted without a request. From then on every fetch answer and every write
//! one tab makes is put in every tab, and an invalidation made by hand reaches them all. Events and resyncs are
//! not shared here: every tab receives them and applies them itself.
//!
//! Invariant: no clock, no browser API; an entry is only ever replaced by one fetched as late or later, and an
//! answer from a tab that had applied fewer events than this one is kept but stale (it may lack them).

use protocol::{Seq, ShopId};
use serde::{Deserialize, Serialize};

use super::invalidate::Invalidated;
use super::key::{CacheKey, DataKind};
use super::persist::SnapshotEntry;
use super::store::Store;
use super::time::Millis;

/// A tab's random identity for its life.
pub type TabId = u64;

/// How long a new tab holds its reads waiting for the other tabs, when another tab is there.
pub const ASK_WAIT: Millis = Millis(400);
/// After the first answer, how much longer the other answers are awaited.
pub const MORE_ANSWERS: Millis = Millis(30);

/// A message between the caches of one user's tabs, externally tagged like the tabs' own (see
/// `realtime::tabs::Wire`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheWire {
    /// A new tab asks every tab for what it holds.
    Ask { from: TabId },
    /// What a tab holds, for the tab `to` that asked; `position` is the newest event seq applied to it.
    Answer { from: TabId, to: TabId, position: Option<Seq>, entries: Vec<SnapshotEntry<serde_json::Value>> },
    /// A fetch's answer or a write made in the tab `from`.
    Put { from: TabId, entry: SnapshotEntry<serde_json::Value> },
    /// An invalidation made by hand in the tab `from`, which refetches `refetching` itself (their new values
    /// come as `Put`s).
    Invalidate { from: TabId, scope: Scope, refetching: Vec<CacheKey> },
}

impl CacheWire {
    /// The tab that sent it.
    pub fn from(&self) -> TabId {
        match self {
            CacheWire::Ask { from }
            | CacheWire::Answer { from, .. }
            | CacheWire::Put { from, .. }
            | CacheWire::Invalidate { from, .. } => *from,
        }
    }
}

/// What an invalidation covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// These keys.
    Keys { keys: Vec<CacheKey> },
    /// Every entry of a kind.
    Kind { kind: DataKind },
    /// Every entry scoped to a shop.
    Shop { shop: ShopId },
}

impl Scope {
    /// Marks what the scope covers stale in `store`.
    pub fn apply<V>(&self, store: &mut Store<V>) -> Invalidated {
        match self {
            Scope::Keys { keys } => store.invalidate_many(keys.iter()),
            Scope::Kind { kind } => store.invalidate_kind(*kind),
            Scope::Shop { shop } => store.invalidate_shop(*shop),
        }
    }
}

/// A new tab's wait for the other tabs' entries: reads started meanwhile are held, each key once with what
/// starting it needs (`F`: the binding's fetcher), then started together.
#[derive(Debug)]
pub struct Joining<F> {
    /// Until when reads are held; `None` once joined.
    until: Option<Millis>,
    answered: bool,
    held: Vec<(CacheKey, F)>,
}

impl<F> Joining<F> {
    /// A tab that asks the others at `now` and holds its reads until they answer (or [`ASK_WAIT`] passes).
    pub fn asking(now: Millis) -> Joining<F> {
        Joining { until: Some(now.saturating_add(ASK_WAIT)), answered: false, held: Vec::new() }
    }

    /// A tab that asks nobody (no other tab can hear it): reads start at once.
    pub fn joined() -> Joining<F> {
        Joining { until: None, answered: false, held: Vec::new() }
    }

    /// Whether reads are still held.
    pub fn is_asking(&self) -> bool {
        self.until.is_some()
    }

    /// A read of `key`: `true` when it must wait (and is then handed back by [`Joining::handle_timeout`], with
    /// `with()` of its first read).
    pub fn hold(&mut self, key: &CacheKey, with: impl FnOnce() -> F) -> bool {
        if self.until.is_some() && !self.held.iter().any(|(held, _)| held == key) {
            self.held.push((key.clone(), with()));
        }
        self.until.is_some()
    }

    /// Another tab answered at `now`: the others get [`MORE_ANSWERS`] more.
    pub fn answered(&mut self, now: Millis) {
        if let Some(until) = self.until
            && !self.answered
        {
            self.answered = true;
            self.until = Some(until.min(now.saturating_add(MORE_ANSWERS)));
        }
    }

    /// No other tab is there: stop waiting now.
    pub fn alone(&mut self, now: Millis) {
        if self.until.is_some() {
            self.until = Some(now);
        }
    }

    /// When to call [`Joining::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.until
    }

    /// The wait is over at `now`: the held reads, to start now (none while still waiting).
    pub fn handle_timeout(&mut self, now: Millis) -> Vec<(CacheKey, F)> {
        match self.until {
            Some(until) if now >= until => {
                self.until = None;
                std::mem::take(&mut self.held)
            }
            _ => Vec::new(),
        }
    }
}

impl<V: Clone> Store<V> {
    /// Everything this store holds, for a tab that asks: every value with when it was fetched and whether it is
    /// stale, least recently used first.
    pub fn shareable(&self) -> Vec<SnapshotEntry<V>> {
        self.snapshot_entries(|_, _| true)
    }

    /// The entry of `key`, to put in the other tabs; `None` without a value.
    pub fn shareable_entry(&self, key: &CacheKey) -> Option<SnapshotEntry<V>> {
        let entry = self.entry(key)?;
        Some(SnapshotEntry {
            key: key.clone(),
            value: entry.value()?.clone(),
            fetched_at: entry.fetched_at()?,
            size_bytes: entry.size_bytes(),
            stale: entry.is_invalidated(),
        })
    }
}

impl<V: PartialEq> Store<V> {
    /// Takes an entry another tab holds, unless this one holds a value fetched later, or the very same one.
    /// `behind`: the other tab had applied fewer events than this one, so the value may lack some: it is kept,
    /// but stale. A fetch in flight here keeps running. Returns whether the entry was taken.
    pub fn adopt(&mut self, item: SnapshotEntry<V>, behind: bool) -> bool {
        let stale = item.stale || behind;
        if let Some(entry) = self.entry(&item.key)
            && let (Some(value), Some(fetched_at)) = (entry.value(), entry.fetched_at())
        {
            let newer_here = fetched_at > item.fetched_at;
            let same = fetched_at == item.fetched_at && *value == item.value && entry.is_invalidated() == stale;
            if newer_here || same {
                return false;
            }
        }
        self.put_shared(&item.key, item.value, item.size_bytes, item.fetched_at, stale);
        true
    }
}

#[cfg(test)]
mod tests;
