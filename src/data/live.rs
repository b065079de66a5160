//! The live layer: every event the WebSocket delivers patches every cached query in place through the pure
//! reducers, and a resync invalidates every cached query (those on screen refetch in the background). While
//! events flow (the socket is open, or the polling fallback runs), it tells the cache so, which then trusts
//! event-covered entries past their TTL (up to their `live_ttl`): navigating back to a page asks the server
//! nothing the events already brought.
//!
//! Invariant: mounted once, in `App`; pages never apply events themselves: they read queries and re-render
//! when the cache changes. Only values an event changes are written, so unrelated readers do not re-render.

use leptos::prelude::*;
use protocol::{CatalogUpdate, Product, ProductAction, ServerMsg, Topic};
use serde::Deserialize;

use crate::cache::context::{DataCache, use_data_cache};
use crate::cache::key::CacheKey;
use crate::data::outbox::{Settled, Write};
use crate::data::outbox_driver::Writes;
use crate::data::queries::{Answer, Query, Read, Visitor};
use crate::data::reducers::Applied;
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

/// Applies a change made here and not answered yet (an outbox write shown at once) as if its event had come:
/// the same reducers, no event position moved. A refusal is undone by invalidating what it touched.
pub fn apply_optimistic(cache: DataCache, event: &ServerMsg) -> usize {
    cache.from_events(None, || apply_here(cache, event))
}

/// The answer of an applied product write goes into the cache at once, as its event would: the event comes
/// later, and a product made here must not vanish between its "not saved yet" row going and its event coming
/// (nor, after a reload, wait for the event at all). Call once, in `App`, with the outbox context.
pub fn follow_answers(writes: Writes) {
    let cache = use_data_cache();
    writes.on_settled(move |settled| {
        let Settled::Applied { write, answer } = settled else { return };
        let action = match write {
            Write::ProductCreate { .. } => ProductAction::Created,
            Write::ProductEdit { .. } => ProductAction::Updated,
            _ => return,
        };
        if let Ok(product) = Product::deserialize(answer) {
            apply_optimistic(cache, &ServerMsg::CatalogUpdate(CatalogUpdate { action, product, seq: 0 }));
        }
    });
}

fn apply_here(cache: DataCache, event: &ServerMsg) -> usize {
    let mut changed = 0;
    for key in cache.keys() {
        let Some(query) = Query::from_key(&key) else { continue };
        let outcome = query.visit(ApplyEvent { cache, key: &key, event });
        if outcome.is_changed() {
            changed += 1;
        }
        if matches!(outcome, Applied::Stale | Applied::Gone) {
            cache.invalidate(&key);
        }
    }
    changed
}

/// Runs the reducer of a query's type on its cached value, in place (the value is held as that type: no
/// decoding); its readers are told only when it changed.
struct ApplyEvent<'a> {
    cache: DataCache,
    key: &'a CacheKey,
    event: &'a ServerMsg,
}

impl Visitor for ApplyEvent<'_> {
    type Out = Applied;

    fn visit<T: Answer>(self, read: Read<T>) -> Applied {
        let scope = T::scope(read.query());
        let reduce = |value: &mut T| value.reduce(&scope, self.event);
        self.cache.reduce(self.key, reduce, |outcome| outcome.is_changed()).unwrap_or(Applied::Unchanged)
    }
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
