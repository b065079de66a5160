//! The component side of the cache: [`use_cached`] (one key's signals for a component, its reader registered
//! while it is mounted) and the context accessors.
//!
//! Invariant: a component re-renders only when its key's value or status trigger fires.

use std::future::Future;

use leptos::prelude::*;
use protocol::ShopId;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{DataCache, Fetcher, Inner, Reader, erase};
use crate::api::ApiError;
use crate::cache::entry::{Entry, EntryState};
use crate::cache::key::{CacheKey, DataKind};
use crate::cache::stats::CacheStats;

/// The cache context provided at the root.
pub fn use_data_cache() -> DataCache {
    expect_context()
}

/// [`DataCache::fetch`] on the context (take the handle first if you call it after an `.await`).
pub fn fetch_with_cache<T, F, Fut>(key: CacheKey, fetcher: F) -> impl Future<Output = Result<T, ApiError>> + 'static
where
    T: DeserializeOwned + Serialize + Clone + 'static,
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    use_data_cache().fetch(key, fetcher)
}

/// [`DataCache::invalidate`] on the context.
pub fn invalidate_cache(key: &CacheKey) -> usize {
    use_data_cache().invalidate(key)
}

/// [`DataCache::invalidate_kind`] on the context.
pub fn invalidate_kind(kind: DataKind) -> usize {
    use_data_cache().invalidate_kind(kind)
}

/// [`DataCache::invalidate_shop`] on the context.
pub fn invalidate_shop(shop: ShopId) -> usize {
    use_data_cache().invalidate_shop(shop)
}

/// The statistics now (not reactive).
pub fn get_cache_stats() -> CacheStats {
    use_data_cache().stats()
}

/// The statistics, reactive: for the monitoring panel.
pub fn use_cache_stats() -> Signal<CacheStats> {
    use_data_cache().stats_signal()
}

/// What [`use_cached`] returns: signals of one key, and a callback to refetch it.
pub struct UseCachedReturn<T: Send + Sync + 'static> {
    /// The last good value (kept through errors and refreshes); `None` while loading the first time.
    pub data: Signal<Option<T>>,
    /// Idle, loading, ready, refreshing or error.
    pub state: Signal<EntryState>,
    /// The message of the last failed fetch, until a fetch succeeds.
    pub error: Signal<Option<String>>,
    /// Marks the key stale and fetches it again in the background.
    pub refetch: Callback<()>,
}

impl<T: Send + Sync + 'static> Clone for UseCachedReturn<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for UseCachedReturn<T> {}

/// Reads `key` for a component: registers the component as a reader while it is mounted (so invalidations
/// refetch the key and eviction spares it), starts a fetch with `fetcher` when the key is missing or stale,
/// and returns signals that change only when this key does.
pub fn use_cached<T, F, Fut>(key: CacheKey, fetcher: F) -> UseCachedReturn<T>
where
    T: DeserializeOwned + Serialize + Clone + Send + Sync + 'static,
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let cache = use_data_cache();
    let (value, status) = cache.add_reader(&key, erase(fetcher)).unwrap_or_default();
    let cleanup_key = key.clone();
    on_cleanup(move || cache.remove_reader(&cleanup_key));
    cache.start(&key, None, false);

    let data_key = key.clone();
    let data = Memo::new_with_compare(
        move |_| {
            value.track();
            cache.get::<T>(&data_key)
        },
        // The value trigger fires only on a change of value, and `T` need not be `PartialEq`.
        |_, _| true,
    );
    let state_key = key.clone();
    let state_status = status.clone();
    let state = Signal::derive(move || {
        state_status.track();
        cache.inner.try_with_value(|inner| inner.store.state(&state_key)).unwrap_or(EntryState::Idle)
    });
    let error_key = key.clone();
    let error = Signal::derive(move || {
        status.track();
        let message = |inner: &Inner| inner.store.entry(&error_key).and_then(Entry::error).map(|e| e.message.clone());
        cache.inner.try_with_value(message).flatten()
    });
    let refetch = Callback::new(move |()| {
        cache.invalidate(&key);
    });
    UseCachedReturn { data: data.into(), state, error, refetch }
}

impl DataCache {
    /// Registers one more reader of `key`; returns its value and status triggers.
    fn add_reader(self, key: &CacheKey, fetcher: Fetcher) -> Option<(ArcTrigger, ArcTrigger)> {
        self.inner.try_update_value(|inner| {
            inner.store.retain(key);
            let reader = inner.readers.entry(key.clone()).or_insert_with(|| Reader {
                count: 0,
                fetcher: fetcher.clone(),
                value: ArcTrigger::new(),
                status: ArcTrigger::new(),
            });
            reader.count += 1;
            reader.fetcher = fetcher;
            (reader.value.clone(), reader.status.clone())
        })
    }

    fn remove_reader(self, key: &CacheKey) {
        self.inner.try_update_value(|inner| {
            inner.store.release(key);
            if let Some(reader) = inner.readers.get_mut(key) {
                reader.count = reader.count.saturating_sub(1);
                if reader.count == 0 {
                    inner.readers.remove(key);
                }
            }
        });
        self.notify_stats();
    }
}
