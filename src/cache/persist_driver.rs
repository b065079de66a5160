//! The browser half of cache persistence: the snapshot in localStorage, saving when the page is hidden, and
//! following the session (a logout or another user clears the cache and the snapshot).
//!
//! Invariant: the only file that touches `persist::STORAGE_KEY`; what is saved and restored is decided by
//! `persist.rs`, and nothing is kept for a visitor who is not signed in. It knows nothing of the cache
//! context: the context hands it what to call.

use leptos::prelude::*;
use protocol::UserId;

use super::held::Held;
use super::persist::{self, CACHE_FORMAT_VERSION, STORAGE_KEY};
use super::store::Store;
use super::time::Millis;
use crate::auth::Auth;

/// Restores the snapshot of `user` into `store`; answers when it was saved. A snapshot that cannot be used
/// (unreadable, another version or user) is deleted, and so is any snapshot when nobody is signed in (its
/// owner's session is gone).
pub(super) fn restore(store: &mut Store<Held>, user: Option<UserId>, now: Millis) -> Option<Millis> {
    let Some(user) = user else {
        remove();
        return None;
    };
    let text = local_storage().and_then(|storage| storage.get_item(STORAGE_KEY).ok().flatten())?;
    let restored = persist::decode(&text, CACHE_FORMAT_VERSION, user).and_then(|snapshot| {
        let saved_at = snapshot.saved_at;
        store.restore(snapshot, CACHE_FORMAT_VERSION, user, now).map(|_| saved_at)
    });
    if restored.is_err() {
        remove();
    }
    restored.ok()
}

/// Stores the snapshot text (a full storage only loses the snapshot, never the app).
pub(super) fn write(text: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.set_item(STORAGE_KEY, text);
    }
}

/// Deletes the snapshot.
pub(super) fn remove() {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(STORAGE_KEY);
    }
}

/// Calls `save` on `pagehide` and when the page becomes hidden (the last moments a mobile browser reliably
/// gives), and when the app is unmounted.
pub(super) fn save_on_page_hide(save: impl Fn() + Clone + Send + Sync + 'static) {
    let on_hide = save.clone();
    let page_hide = window_event_listener_untyped("pagehide", move |_| on_hide());
    let on_hidden = save.clone();
    let hidden = window_event_listener_untyped("visibilitychange", move |_| {
        if web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden()) {
            on_hidden();
        }
    });
    on_cleanup(move || {
        page_hide.remove();
        hidden.remove();
        save();
    });
}

/// Calls `set_user` with the signed-in user at once and whenever it changes or signs out (the cache then
/// clears itself and the snapshot).
pub(super) fn follow_session(auth: Auth, set_user: impl Fn(Option<UserId>) + 'static) {
    Effect::new(move |_| {
        let user = auth.session().with(|s| s.as_ref().map(|s| s.user.id));
        set_user(user);
    });
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}
