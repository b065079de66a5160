//! Driving one fetch: asking the store, spawning the fetcher, settling its answer (store it, retry after a
//! delay, refetch) and abandoning a fetch dropped before its answer.
//!
//! Invariant: the store decides; this file only spawns, arms timers and notifies what the store says.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Changed, DataCache, Fetcher, Outcome, Receiver, now};
use crate::cache::fetch::{Begin, Settled, Ticket};
use crate::cache::held::Held;
use crate::cache::key::CacheKey;

impl DataCache {
    /// Asks the store about `key` and starts the fetch it asks for, with `fetcher` or else the readers' one
    /// (nothing happens without either). With `wait`, and no value to show, also returns a receiver of the
    /// fetch's final outcome.
    pub(super) fn start(
        self,
        key: &CacheKey,
        fetcher: Option<Fetcher>,
        wait: bool,
    ) -> Option<(Begin<Held>, Option<Receiver>)> {
        let now = now();
        let (begin, run, receiver) = self
            .inner
            .try_update_value(|inner| {
                let fetcher = fetcher.or_else(|| inner.readers.get(key).map(|reader| reader.fetcher.clone()))?;
                if inner.joining.hold(key, || fetcher.clone()) {
                    // Joining the other tabs: shown as is, started once they answered.
                    let value = inner.store.get(key).cloned();
                    let receiver = (wait && value.is_none()).then(|| inner.waiters.wait(key));
                    return Some((Begin::InFlight(value), None, receiver));
                }
                let begin = inner.store.begin(key, now);
                let receiver = (wait && begin.value().is_none()).then(|| inner.waiters.wait(key));
                let run = begin.ticket().cloned().map(|ticket| (ticket, fetcher));
                Some((begin, run, receiver))
            })
            .flatten()?;
        let started = run.is_some();
        if let Some((ticket, fetcher)) = run {
            spawn_local(self.drive(ticket, fetcher));
        }
        if started {
            self.notify(key, Changed::Status);
        } else {
            self.notify_stats();
        }
        Some((begin, receiver))
    }

    /// Runs one fetch to completion; a drop before the answer abandons the ticket.
    async fn drive(self, ticket: Ticket, fetcher: Fetcher) {
        let mut pending = Pending { cache: self, ticket: Some(ticket) };
        let outcome = fetcher().await;
        if let Some(ticket) = pending.ticket.take() {
            self.settle(ticket, outcome, fetcher);
        }
    }

    /// Completes a fetch and does what the store says next: refetch, retry after a delay, or nothing.
    fn settle(self, ticket: Ticket, outcome: Outcome, fetcher: Fetcher) {
        let now = now();
        let key = ticket.key().clone();
        let Some(settled) = self.inner.try_update_value(|inner| {
            let settled = match &outcome {
                Ok(value) => inner.store.complete_ok(&ticket, value.clone(), value.size_bytes(), now),
                Err(error) => inner.store.complete_err(&ticket, error.to_string(), now),
            };
            if matches!(settled, Settled::Stored { .. } | Settled::Failed { retry_in: None }) {
                inner.waiters.settle(&key, &outcome);
            }
            settled
        }) else {
            return;
        };
        match settled {
            Settled::Stored { refetch } => {
                self.notify(&key, Changed::Both);
                self.share_put(&key);
                self.schedule_save();
                if refetch {
                    self.start(&key, Some(fetcher), false);
                }
            }
            Settled::Failed { retry_in } => {
                self.notify(&key, Changed::Status);
                if let Some(delay) = retry_in {
                    let retry = move || drop(self.start(&key, Some(fetcher), false));
                    set_timeout(retry, Duration::from_millis(delay.0));
                }
            }
            Settled::Ignored => {}
        }
    }

    fn abandon(self, ticket: &Ticket) {
        let abandoned = self.inner.try_update_value(|inner| {
            inner.waiters.cancel(ticket.key());
            inner.store.abandon(ticket)
        });
        if abandoned == Some(true) {
            self.notify(ticket.key(), Changed::Status);
        }
    }
}

/// Abandons the ticket of a fetch dropped before its answer.
struct Pending {
    cache: DataCache,
    ticket: Option<Ticket>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.cache.abandon(&ticket);
        }
    }
}
