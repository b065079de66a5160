//! The live layer: every event the WebSocket delivers patches every cached query in place through the pure
//! reducers, and a resync invalidates every cached query (those on screen refetch in the background). While
//! events flow (the socket is open, or the polling fallback runs), it tells the cache so, which then trusts
//! event-covered entries past their TTL (up to their `live_ttl`): navigating back to a page asks the server
//! nothing the events already brought.
//!
//! Invariant: mounted once, in `App`; pages never apply events themselves: they read queries and re-render
//! when the cache changes. Only values an event changes are written, so unrelated readers do not re-render.

use leptos::prelude::*;
use protocol::{Dashboard, Notification, Order, Page, Product, ProductStats, ServerMsg, Topic};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::context::{DataCache, use_data_cache};
use crate::cache::key::CacheKey;
use crate::data::queries::Query;
use crate::data::reducers::{Applied, OrderFilter, ProductFilter, Reduce};
use crate::realtime::context::use_websocket;
use crate::realtime::machine::StateKind;

/// Subscribes to every topic and keeps the cache in step with the events. Call once, in `App`, after the
/// WebSocket and cache contexts.
pub fn provide_live_updates() {
    let ws = use_websocket();
    let cache = use_data_cache();
    for topic in Topic::ALL {
        ws.subscribe(topic, move |event| {
            apply_event(cache, event);
        })
        .keep();
    }
    let status = ws.status;
    Effect::new(move |_| {
        cache.set_live(status.with(|s| is_live(s.state)));
    });
    // Every tab gets the resync and refetches what it shows: nothing to tell the others.
    ws.on_resync(move || {
        cache.from_events(None, || cache.invalidate_many(cache.keys().iter()));
    })
    .keep();
}

/// Whether events reach the app in this connection state: they do when the socket is open and when the polling
/// fallback runs; in every other state some may be missing until the connection resumes.
pub fn is_live(state: StateKind) -> bool {
    matches!(state, StateKind::Open | StateKind::Polling)
}

/// Applies `event` to every cached query it concerns; returns how many values changed. Values the reducers
/// cannot patch exactly are invalidated (refetched if on screen). Every tab applies the events it gets, so
/// none of this is put in the other tabs' caches.
pub fn apply_event(cache: DataCache, event: &ServerMsg) -> usize {
    cache.from_events(event.seq(), || apply_here(cache, event))
}

fn apply_here(cache: DataCache, event: &ServerMsg) -> usize {
    let mut changed = 0;
    for key in cache.keys() {
        let Some(query) = Query::from_key(&key) else { continue };
        let outcome = match &query {
            Query::Dashboard => reduce_key::<Dashboard>(cache, &key, &(), event),
            Query::ProductStats { .. } => reduce_key::<ProductStats>(cache, &key, &(), event),
            Query::Orders { status, shop, .. } => {
                let filter = OrderFilter { shop_id: *shop, status: *status };
                reduce_key::<Page<Order>>(cache, &key, &filter, event)
            }
            Query::Order(_) => reduce_key::<Order>(cache, &key, &(), event),
            Query::Notifications { .. } => reduce_key::<Page<Notification>>(cache, &key, &(), event),
            Query::Products { shop, search, .. } => {
                let filter = ProductFilter::new(*shop, search.as_deref());
                reduce_key::<Page<Product>>(cache, &key, &filter, event)
            }
            Query::Product(_) => reduce_key::<Product>(cache, &key, &(), event),
            Query::Shops => Applied::Unchanged,
        };
        if outcome.is_changed() {
            changed += 1;
        }
        if matches!(outcome, Applied::Stale | Applied::Gone) {
            cache.invalidate(&key);
        }
    }
    changed
}

/// Runs the reducer of `T` on the cached value of `key`, in place (the value is held as a `T`: no decoding);
/// its readers are told only when it changed.
fn reduce_key<T>(cache: DataCache, key: &CacheKey, scope: &T::Scope, event: &ServerMsg) -> Applied
where
    T: Reduce + DeserializeOwned + Serialize + Clone + 'static,
{
    cache
        .reduce(key, |value: &mut T| value.reduce(scope, event), |outcome| outcome.is_changed())
        .unwrap_or(Applied::Unchanged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_flow_only_while_open_or_polling() {
        let live: Vec<StateKind> = [
            StateKind::Idle,
            StateKind::Connecting,
            StateKind::Authenticating,
            StateKind::Open,
            StateKind::Backoff,
            StateKind::RefreshingToken,
            StateKind::Paused,
            StateKind::Polling,
            StateKind::Stopped,
        ]
        .into_iter()
        .filter(|state| is_live(*state))
        .collect();
        assert_eq!(live, [StateKind::Open, StateKind::Polling]);
    }
}
