//! What the realtime drivers share of the page: event listeners removed on drop, and a deadline on a
//! request (a browser timer racing the work).
//!
//! Invariant: a thin binding: it decides nothing.

use std::future::Future;
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::{self, Either};
use leptos::prelude::set_timeout;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::Event;

/// A page-level event listener, removed when dropped.
pub(super) struct Listener {
    target: web_sys::EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}

/// Calls `callback` at each `kind` event of `target` while the returned [`Listener`] lives.
pub(super) fn listen(
    target: web_sys::EventTarget,
    kind: &'static str,
    mut callback: impl FnMut() + 'static,
) -> Listener {
    let callback = Closure::<dyn FnMut(Event)>::new(move |_: Event| callback());
    let _ = target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
    Listener { target, kind, callback }
}

/// Resolves with `Err` when `work` has not finished within `limit` (the work is then dropped).
pub(super) async fn with_timeout<T>(work: impl Future<Output = T>, limit: Duration) -> Result<T, String> {
    let (done, expired) = oneshot::channel::<()>();
    // Not cleared when the work wins: the callback then fires into a dropped receiver and is freed.
    set_timeout(
        move || {
            let _ = done.send(());
        },
        limit,
    );
    match future::select(Box::pin(work), expired).await {
        Either::Left((value, _)) => Ok(value),
        Either::Right(_) => Err(format!("no answer within {} s", limit.as_secs())),
    }
}
