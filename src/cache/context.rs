//! The Leptos binding of the data cache: one [`DataCache`] handle provided at the root, async fetches through
//! the store (hit, stale-while-revalidate, one fetch per key, retries) and [`use_cached`], the reactive read of
//! one key for components.
//!
//! Split by responsibility: `context/hook.rs` (the component hook and the accessors), `fetching.rs` (driving
//! one fetch), `waiters.rs` (callers awaiting a first value), `saving.rs` (the snapshot), `sharing.rs` (the
//! other tabs), `values.rs` (type erasure, the clock); this file holds the handle and its reads and writes.
//!
//! Invariant: the store decides and this file only does the I/O it is told to (spawn the fetch, arm the retry
//! timer, notify signals). Values are held typed ([`Held`]): a fetch answer or a write is kept as the `T` it
//! is, read without decoding and patched in place; JSON only for the snapshot and the other tabs. Every key
//! read by a component has its own pair of triggers (value, status), so a change re-renders only the readers
//! of that key.
//!
//! A page reads through [`use_cached`] and writes through the [`DataCache`] handle:
//!
//! ```no_run
//! use izishopin_live::api::get_json;
//! use izishopin_live::auth::use_auth;
//! use izishopin_live::cache::context::{use_cached, use_data_cache};
//! use izishopin_live::cache::key::{CacheKey, DataKind, Params};
//! use leptos::prelude::*;
//! use protocol::{Page, Product, ShopId};
//!
//! /// The products of one shop, with a button that sets one out of stock.
//! #[component]
//! fn ShopProducts(shop: ShopId) -> impl IntoView {
//!     let (auth, cache) = (use_auth(), use_data_cache());
//!     let key = CacheKey::with_params(DataKind::Products, Params::new().shop(shop));
//!     let products = use_cached(key.clone(), move || async move {
//!         let path = format!("/products?shop_id={}", shop.0);
//!         get_json::<Page<Product>>(&path, auth.token().as_deref()).await
//!     });
//!     let sold_out = move |_| drop(cache.update(&key, |page: &mut Page<Product>| page.items[0].stock = 0));
//!     view! {
//!         <p>{move || products.error.get()}</p>
//!         <ul>{move || match products.data.get() {
//!             None => view! { <li>"Loading…"</li> }.into_any(),
//!             Some(page) if page.items.is_empty() => view! { <li>"No products yet"</li> }.into_any(),
//!             Some(page) => page.items.into_iter().map(|p| view! { <li>{p.name}</li> }).collect_view().into_any(),
//!         }}</ul>
//!         <button on:click=sold_out>"Sold out"</button>
//!     }
//! }
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use protocol::{Seq, ShopId, UserId};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::fetch::Begin;
use super::held::Held;
use super::invalidate::Invalidated;
use super::key::{CacheKey, DataKind};
use super::persist_driver;
use super::policy::CachePolicy;
use super::share::{Joining, Scope};
use super::share_driver::ShareDriver;
use super::stats::CacheStats;
use super::store::Store;
use crate::api::ApiError;
use crate::auth::use_auth;

/// Options of [`provide_data_cache`].
#[derive(Debug, Clone)]
pub struct DataCacheOptions {
    /// TTL, persistence and retry per kind, and the bounds. Default: `CachePolicy::default()` (the spec's).
    pub policy: CachePolicy,
    /// Whether persistable kinds are saved to localStorage for the signed-in user and restored on start.
    /// Default: `true`.
    pub persist: bool,
    /// How long after a change the snapshot is saved; changes in between are saved together. Default: 500 ms.
    pub save_delay: Duration,
}

impl Default for DataCacheOptions {
    fn default() -> Self {
        DataCacheOptions { policy: CachePolicy::default(), persist: true, save_delay: Duration::from_millis(500) }
    }
}

type Outcome = Result<Held, ApiError>;
type FetchFuture = Pin<Box<dyn Future<Output = Outcome>>>;
/// A fetcher with its value type erased (its answer is [`Held`]), so one store holds every kind.
type Fetcher = Rc<dyn Fn() -> FetchFuture>;

/// The handle to the cache context: `Copy`, provided once in `App`, read with [`use_data_cache`].
///
/// Its methods work outside a reactive owner (in async code, timers); once the app is unmounted they do
/// nothing and fetches resolve with an error.
#[derive(Clone, Copy)]
pub struct DataCache {
    inner: StoredValue<Inner, LocalStorage>,
}

impl std::fmt::Debug for DataCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataCache").field("entries", &self.stats().total.entries).finish_non_exhaustive()
    }
}

struct Inner {
    store: Store<Held>,
    /// Keys read by mounted components.
    readers: HashMap<CacheKey, Reader>,
    /// Callers awaiting the first value of a key.
    waiters: Waiters,
    /// Notified on every change, for the monitoring panel.
    stats: ArcTrigger,
    /// The signed-in user whose data the cache holds.
    user: Option<UserId>,
    persist: bool,
    save_delay: Duration,
    save_armed: bool,
    /// The user's other tabs, when they can be reached (see `context/sharing.rs`).
    share: Option<ShareDriver>,
    /// A new tab's wait for the other tabs' answers, with the reads held meanwhile.
    joining: Joining<Fetcher>,
    /// The newest event seq applied to the values by the live layer.
    position: Option<Seq>,
    /// Set while the live layer applies events: every tab does that itself, so nothing is shared.
    local_only: bool,
}

/// What the binding keeps for a key read by components.
struct Reader {
    count: u32,
    /// The fetcher of the last mounted reader, used to refetch in the background (invalidation, refetch).
    fetcher: Fetcher,
    /// Notified when the value changes.
    value: ArcTrigger,
    /// Notified when the state or the error changes.
    status: ArcTrigger,
}

/// Which signals of a key to notify.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Changed {
    Status,
    Value,
    Both,
}

/// When the data the app opened with was saved (the restored snapshot's time; `None` without one): what an
/// offline start says it shows ("Offline — data from 14:32").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFrom(pub Option<crate::cache::time::Millis>);

/// Provides the cache context: restores the signed-in user's snapshot, saves on page hide and follows the
/// session (a logout or a change of user clears the cache and the snapshot). Call once, in `App`, after
/// `provide_auth()`.
pub fn provide_data_cache(options: DataCacheOptions) -> DataCache {
    let auth = use_auth();
    let user = auth.session().with_untracked(|s| s.as_ref().map(|s| s.user.id));
    let mut store = Store::new(options.policy);
    let restored = if options.persist { persist_driver::restore(&mut store, user, now()) } else { None };
    provide_context(DataFrom(restored));
    let cache = DataCache {
        inner: StoredValue::new_local(Inner {
            store,
            readers: HashMap::new(),
            waiters: Waiters::default(),
            stats: ArcTrigger::new(),
            user,
            persist: options.persist,
            save_delay: options.save_delay,
            save_armed: false,
            share: None,
            joining: Joining::joined(),
            position: None,
            local_only: false,
        }),
    };
    provide_context(cache);
    cache.join_tabs(user);
    persist_driver::save_on_page_hide(move || cache.save_now());
    persist_driver::follow_session(auth, move |user| cache.set_user(user));
    cache
}

impl DataCache {
    /// The value of `key`: from the cache when fresh; the stale value at once while it is revalidated in the
    /// background; otherwise the answer of `fetcher`, shared with every concurrent call for the same key (one
    /// fetcher call). A failure is retried per the kind's `RetryPolicy` before the error is returned.
    pub fn fetch<T, F, Fut>(self, key: CacheKey, fetcher: F) -> impl Future<Output = Result<T, ApiError>> + 'static
    where
        T: DeserializeOwned + Serialize + Clone + 'static,
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<T, ApiError>> + 'static,
    {
        let fetcher = erase(fetcher);
        async move {
            let Some((begin, receiver)) = self.start(&key, Some(fetcher), true) else {
                return Err(cancelled());
            };
            match (begin, receiver) {
                (Begin::Fresh(value) | Begin::Stale(value, _) | Begin::InFlight(Some(value)), _) => typed(value),
                (_, Some(receiver)) => typed(receiver.await.unwrap_or_else(|_| Err(cancelled()))?),
                (_, None) => Err(cancelled()),
            }
        }
    }

    /// [`DataCache::fetch`] of every request concurrently; the answers come in the order of `requests`, and a
    /// key listed twice is fetched once.
    pub fn fetch_many<T, F, Fut>(
        self,
        requests: impl IntoIterator<Item = (CacheKey, F)>,
    ) -> impl Future<Output = Vec<Result<T, ApiError>>> + 'static
    where
        T: DeserializeOwned + Serialize + Clone + 'static,
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<T, ApiError>> + 'static,
    {
        let fetches: Vec<_> = requests.into_iter().map(|(key, fetcher)| self.fetch(key, fetcher)).collect();
        futures::future::join_all(fetches)
    }

    /// The last good value of `key`, fresh or not, without fetching, counting or tracking. A value held as
    /// a `T` is cloned, not decoded; one restored or shared as JSON is decoded once and held as a `T` since.
    pub fn get<T: DeserializeOwned + Serialize + Clone + 'static>(self, key: &CacheKey) -> Option<T> {
        self.inner.try_update_value(|inner| read_held::<T>(inner.store.get_mut(key)?).ok()).flatten()
    }

    /// Whether `key` holds a value that is fresh now (not reactive).
    pub fn is_fresh(self, key: &CacheKey) -> bool {
        self.inner.try_with_value(|inner| inner.store.is_fresh(key, now())).unwrap_or(false)
    }

    /// Writes `value` for `key` as if just fetched (the answer of a mutation); returns whether it was written
    /// (`false` if the app is unmounted).
    pub fn set<T: Serialize + Clone + 'static>(self, key: &CacheKey, value: &T) -> bool {
        self.set_many([(key.clone(), value.clone())]) == 1
    }

    /// [`DataCache::set`] for each `(key, value)`; returns how many were written.
    pub fn set_many<T: Serialize + 'static>(self, items: impl IntoIterator<Item = (CacheKey, T)>) -> usize {
        let now = now();
        let items: Vec<(CacheKey, Held)> = items.into_iter().map(|(key, value)| (key, Held::new(value))).collect();
        let written = self.inner.try_update_value(|inner| {
            for (key, value) in &items {
                inner.store.set(key, value.clone(), value.size_bytes(), now);
                inner.waiters.settle(key, &Ok(value.clone()));
            }
        });
        if written.is_none() {
            return 0;
        }
        for (key, _) in &items {
            self.notify(key, Changed::Both);
            self.share_put(key);
        }
        self.schedule_save();
        items.len()
    }

    /// Changes the value of `key` in place as a `T` (a mutation's effect), without a fetch; the TTL still
    /// runs from the last fetch. Returns `false`, changing nothing, when the key holds no value or the value is
    /// not a `T`.
    pub fn update<T: DeserializeOwned + Serialize + Clone + 'static>(
        self,
        key: &CacheKey,
        change: impl FnOnce(&mut T),
    ) -> bool {
        self.reduce(key, change, |()| true).is_some()
    }

    /// Runs `change` on the value of `key` as a `T`, in place (no decoding, no copy unless a reader still holds
    /// the value), and answers what it answered; the readers are told, the other tabs and the snapshot
    /// updated, only when `changed` says so (an event that changes nothing re-renders nothing). `None` when
    /// the key holds no value or it is not a `T`.
    pub fn reduce<T, R>(
        self,
        key: &CacheKey,
        change: impl FnOnce(&mut T) -> R,
        changed: impl Fn(&R) -> bool,
    ) -> Option<R>
    where
        T: DeserializeOwned + Serialize + Clone + 'static,
    {
        let (answer, is_changed) = self
            .inner
            .try_update_value(|inner| {
                let answer = inner.store.get_mut(key)?.update(change).ok()?;
                let is_changed = changed(&answer);
                // Only a changed value is measured again (and the bounds enforced).
                if is_changed {
                    inner.store.update(key, |_| {}, Held::size_bytes);
                }
                Some((answer, is_changed))
            })
            .flatten()?;
        if is_changed {
            self.changed_in_place(key);
        }
        Some(answer)
    }

    /// A value changed in place: its readers, the other tabs and the snapshot are told.
    fn changed_in_place(self, key: &CacheKey) {
        self.notify(key, Changed::Value);
        self.share_put(key);
        self.schedule_save();
    }

    /// Marks `key` stale; refetched now if a component reads it. Returns how many entries matched.
    pub fn invalidate(self, key: &CacheKey) -> usize {
        self.invalidated(Scope::Keys { keys: vec![key.clone()] })
    }

    /// Marks each of `keys` stale.
    pub fn invalidate_many<'a>(self, keys: impl IntoIterator<Item = &'a CacheKey>) -> usize {
        self.invalidated(Scope::Keys { keys: keys.into_iter().cloned().collect() })
    }

    /// Marks every entry of `kind` stale.
    pub fn invalidate_kind(self, kind: DataKind) -> usize {
        self.invalidated(Scope::Kind { kind })
    }

    /// Marks every entry scoped to `shop` stale.
    pub fn invalidate_shop(self, shop: ShopId) -> usize {
        self.invalidated(Scope::Shop { shop })
    }

    /// Drops every value, error and fetch in flight (callers awaiting one get an error), and the persisted
    /// snapshot. Mounted readers stay registered (and show nothing until their key is fetched again).
    pub fn clear(self) {
        self.clear_keeping_readers();
    }

    /// [`DataCache::clear`]; returns the keys still read.
    fn clear_keeping_readers(self) -> Vec<CacheKey> {
        let cleared = self.inner.try_update_value(|inner| {
            inner.store.clear();
            inner.waiters.cancel_all();
            for (key, reader) in &inner.readers {
                for _ in 0..reader.count {
                    inner.store.retain(key);
                }
            }
            inner.readers.keys().cloned().collect::<Vec<_>>()
        });
        persist_driver::remove();
        let read = cleared.unwrap_or_default();
        for key in &read {
            self.notify(key, Changed::Both);
        }
        read
    }

    /// Tells the cache whether live events are being delivered right now: while they are, entries of kinds the
    /// events keep current stay fresh for their `live_ttl` (see `CachePolicy::ttl_when`). The live layer
    /// calls this on every connection change.
    pub fn set_live(self, live: bool) {
        self.inner.try_update_value(|inner| inner.store.set_live(live));
    }

    /// The keys holding an entry now (not reactive): what event reducers walk to patch cached values.
    pub fn keys(self) -> Vec<CacheKey> {
        self.inner.try_with_value(|inner| inner.store.keys().cloned().collect()).unwrap_or_default()
    }

    /// The statistics now (not reactive).
    pub fn stats(self) -> CacheStats {
        self.inner.try_with_value(|inner| inner.store.stats()).unwrap_or_default()
    }

    /// The statistics, updated on every change.
    pub fn stats_signal(self) -> Signal<CacheStats> {
        let trigger = self.inner.try_with_value(|inner| inner.stats.clone()).unwrap_or_default();
        Signal::derive(move || {
            trigger.track();
            self.stats()
        })
    }

    /// Runs an invalidation, refetches the read keys it reports and tells the other tabs.
    fn invalidated(self, scope: Scope) -> usize {
        let Some(Invalidated { matched, refetch }) = self.inner.try_update_value(|inner| scope.apply(&mut inner.store))
        else {
            return 0;
        };
        for key in &refetch {
            self.start(key, None, false);
        }
        if matched > 0 {
            // The snapshot records staleness, so a reload revalidates too.
            self.schedule_save();
            self.share_invalidation(scope, refetch);
        }
        matched
    }

    /// Notifies the readers of `key` (outside the store's borrow) and the statistics.
    fn notify(self, key: &CacheKey, changed: Changed) {
        let triggers = self.inner.try_with_value(|inner| {
            let reader = inner.readers.get(key);
            let value = reader.filter(|_| changed != Changed::Status).map(|r| r.value.clone());
            let status = reader.filter(|_| changed != Changed::Value).map(|r| r.status.clone());
            (value, status, inner.stats.clone())
        });
        if let Some((value, status, stats)) = triggers {
            value.iter().chain(status.iter()).chain([&stats]).for_each(ArcTrigger::notify);
        }
    }

    fn notify_stats(self) {
        if let Some(stats) = self.inner.try_with_value(|inner| inner.stats.clone()) {
            stats.notify();
        }
    }
}

mod fetching;
mod hook;
mod saving;
mod sharing;
mod values;
mod waiters;

pub use hook::{
    UseCachedReturn, fetch_with_cache, get_cache_stats, invalidate_cache, invalidate_kind, invalidate_shop,
    use_cache_stats, use_cached, use_data_cache,
};
use values::{cancelled, erase, now, read_held, typed};
use waiters::{Receiver, Waiters};
