//! The outbox's driver: the [`Writes`] context that owns the signed-in user's [`Outbox`], keeps it in
//! localStorage after every change (each tab under its own key, `izi.outbox.<tab>`, so two tabs never write
//! over each other; a tab takes in, at its start, what the others left, and sends it too: the keys make a
//! second send a replay), sends what is due through `api::send_keyed`, and wakes it
//! on a timer, when the browser is back `online`, when the page becomes visible, when the socket reconnects and
//! when the app starts.
//! Consumers (the cart store) take the answers with [`Writes::on_settled`]; a refused write is reported in a
//! toast here.
//!
//! Invariant: the only code that stores the outbox or sends its writes; the rules are in `data::outbox`.

use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{Product, UserId};

use crate::api::{self, Keyed};
use crate::auth::{Auth, use_auth};
use crate::cache::time::Millis;
use crate::components::toast::{ToastKind, Toasts, use_toasts};
use crate::data::outbox::{Entry, Failure, Outbox, Outcome, Settled, Write, WriteId};
use crate::realtime::backoff::Rng;
use crate::realtime::context::use_websocket;
use crate::realtime::machine::StateKind;

/// What is done with a settled write.
type Then = Rc<dyn Fn(&Settled)>;

/// The prefix of the localStorage keys of the tabs' outboxes.
pub const STORAGE_KEY: &str = "izi.outbox";

/// The handle to the outbox context: `Copy`, provided once in the bundles' `Shell`, read with [`use_writes`].
#[derive(Clone, Copy)]
pub struct Writes {
    /// The signed-in user's outbox (`None` signed out).
    outbox: RwSignal<Option<Outbox>>,
    /// Whether the browser says it is online.
    online: RwSignal<bool>,
    rng: StoredValue<Rng>,
    /// This tab's localStorage key.
    tab_key: StoredValue<String>,
    timer: StoredValue<Option<TimeoutHandle>>,
    /// Plain closures, not `Callback`s: a callback belongs to the component that made it, which may be gone
    /// (re-rendered) when the answer comes.
    listeners: StoredValue<Vec<Then>, LocalStorage>,
    /// What the page that made a write does with its answer (see [`Writes::push_then`]).
    callbacks: StoredValue<HashMap<WriteId, Then>, LocalStorage>,
    auth: Auth,
    toasts: Toasts,
}

impl std::fmt::Debug for Writes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writes")
            .field("pending", &self.outbox.try_with_untracked(|o| o.as_ref().map(Outbox::pending)).flatten())
            .finish()
    }
}

fn now() -> Millis {
    Millis::from_f64(js_sys::Date::now())
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn navigator_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// Provides the outbox context. Call once, after `provide_auth()`, `provide_toasts()` and `provide_websocket()`.
pub fn provide_writes() -> Writes {
    let seed = (js_sys::Math::random() * u64::MAX as f64) as u64 ^ now().0;
    let mut rng = Rng::new(seed);
    let tab_key = format!("{STORAGE_KEY}.{:016x}", rng.next_u64());
    let writes = Writes {
        tab_key: StoredValue::new(tab_key),
        outbox: RwSignal::new(None),
        online: RwSignal::new(navigator_online()),
        rng: StoredValue::new(rng),
        timer: StoredValue::new(None),
        listeners: StoredValue::new_local(Vec::new()),
        callbacks: StoredValue::new_local(HashMap::new()),
        auth: use_auth(),
        toasts: use_toasts(),
    };
    provide_context(writes);

    // The signed-in user's outbox, as stored (writes in flight when the page went away are due again).
    Effect::new(move |_| {
        let user = writes.auth.session().with(|s| s.as_ref().map(|s| s.user.id));
        if writes.outbox.with_untracked(|o| o.as_ref().map(Outbox::user)) == user {
            return;
        }
        writes.outbox.set(user.map(load));
        // What was taken in from the other tabs' keys is kept under this tab's at once.
        writes.save();
        writes.pump();
    });
    let wake = move || {
        writes.online.set(navigator_online());
        writes.outbox.update(|o| {
            if let Some(o) = o {
                o.wake(now());
            }
        });
        writes.pump();
    };
    // The socket (re)connected: the server is reachable again.
    let status = use_websocket().status;
    Effect::new(move |was_open: Option<bool>| {
        let open = status.with(|s| s.state == StateKind::Open);
        if open && was_open == Some(false) {
            writes.wake();
        }
        open
    });
    let online = window_event_listener_untyped("online", move |_| wake());
    let offline = window_event_listener_untyped("offline", move |_| writes.online.set(false));
    let visible = window_event_listener_untyped("visibilitychange", move |_| {
        if !document().hidden() {
            wake();
        }
    });
    on_cleanup(move || {
        online.remove();
        offline.remove();
        visible.remove();
    });
    writes
}

/// The outbox context provided at the root.
pub fn use_writes() -> Writes {
    expect_context()
}

/// `user`'s outbox: every outbox of theirs the tabs left in storage, taken in (and their keys removed: this
/// tab keeps them now; a tab still open writes its own again at its next change).
fn load(user: UserId) -> Outbox {
    let mut outbox = Outbox::new(user);
    let Some(storage) = storage() else { return outbox };
    let keys: Vec<String> = (0..storage.length().unwrap_or(0))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| key == STORAGE_KEY || key.starts_with(&format!("{STORAGE_KEY}.")))
        .collect();
    for key in keys {
        let Some(text) = storage.get_item(&key).ok().flatten() else { continue };
        let left = Outbox::decode(&text, user, now());
        if left.pending() > 0 {
            outbox.adopt(left, now());
            let _ = storage.remove_item(&key);
        }
    }
    outbox
}

/// A fresh `Idempotency-Key`: the time and 64 random bits (unique per user, which is all the server asks).
fn new_key(rng: &mut Rng) -> String {
    format!("{:x}-{:016x}", now().0, rng.next_u64())
}

impl Writes {
    /// Keeps `write` (with the product the UI showed, for a cart or wishlist line) and sends it as soon as it
    /// can; `None` when nobody is signed in.
    pub fn push(&self, write: Write, shown: Option<Product>) -> Option<WriteId> {
        let key = self.rng.try_update_value(new_key)?;
        let id = self.outbox.try_update(|o| o.as_mut().map(|o| o.push_showing(key, write, shown, now())))??;
        self.save();
        self.pump();
        Some(id)
    }

    /// [`push`](Writes::push), and `then` gets its answer (applied or refused) if this page is still open
    /// when it comes; a refusal is then the page's to report (no toast from here).
    pub fn push_then(
        &self,
        write: Write,
        shown: Option<Product>,
        then: impl Fn(&Settled) + 'static,
    ) -> Option<WriteId> {
        let id = self.push(write, shown)?;
        self.callbacks.try_update_value(|callbacks| callbacks.insert(id, Rc::new(then) as Then));
        Some(id)
    }

    /// Whether a write matching `which` waits (reactive): a row shows its change as not saved yet.
    pub fn waits(&self, which: impl Fn(&Write) -> bool) -> bool {
        self.with_entries(|entries| entries.iter().any(|e| which(&e.write)))
    }

    /// The writes waiting for an answer, oldest first (reactive).
    pub fn entries(&self) -> Vec<Entry> {
        self.outbox.with(|o| o.as_ref().map(|o| o.entries().to_vec()).unwrap_or_default())
    }

    /// Runs `f` on the waiting writes (reactive), without copying them.
    pub fn with_entries<T>(&self, f: impl FnOnce(&[Entry]) -> T) -> T {
        self.outbox.with(|o| f(o.as_ref().map(Outbox::entries).unwrap_or_default()))
    }

    /// How many writes wait for an answer (reactive).
    pub fn pending(&self) -> usize {
        self.outbox.with(|o| o.as_ref().map_or(0, Outbox::pending))
    }

    /// The writes the server refused lately (reactive).
    pub fn failed(&self) -> Vec<Failure> {
        self.outbox.with(|o| o.as_ref().map(|o| o.failed().cloned().collect()).unwrap_or_default())
    }

    /// Whether the browser says it is online (reactive).
    pub fn online(&self) -> bool {
        self.online.get()
    }

    /// `callback` gets every settled write (applied or rolled back), for the page's life.
    pub fn on_settled(&self, callback: impl Fn(&Settled) + 'static) {
        self.listeners.update_value(|listeners| listeners.push(Rc::new(callback) as Then));
    }

    /// The socket reconnected (the server is back): everything waiting is sent now.
    pub fn wake(&self) {
        self.outbox.update(|o| {
            if let Some(o) = o {
                o.wake(now());
            }
        });
        self.pump();
    }

    /// Stores this tab's outbox under its key; an empty one is no key at all (closed tabs leave nothing).
    fn save(&self) {
        let text = self.outbox.with_untracked(|o| o.as_ref().filter(|o| o.pending() > 0).map(Outbox::encode));
        let (Some(storage), Some(key)) = (storage(), self.tab_key.try_get_value()) else { return };
        let _ = match text {
            Some(text) => storage.set_item(&key, &text),
            None => storage.remove_item(&key),
        };
    }

    /// Sends every write that is due, and sets the timer for the next one.
    fn pump(&self) {
        let writes = *self;
        let due = writes.outbox.try_update(|o| o.as_mut().map(|o| o.due(now()))).flatten().unwrap_or_default();
        if !due.is_empty() {
            writes.save();
        }
        for (id, key, request) in due {
            let token = writes.auth.token();
            spawn_local(async move {
                let body = request.body.as_ref();
                let sent = api::send_keyed(
                    request.method.as_str(),
                    &request.path,
                    body,
                    &key,
                    request.if_match,
                    token.as_deref(),
                )
                .await;
                let outcome = match sent {
                    Keyed::Answered(answer) => Outcome::Applied(answer),
                    Keyed::Status(status, text) => Outcome::of_answer(status, &text),
                    Keyed::Unreachable(reason) => Outcome::Unanswered { reason, retry_after: None },
                };
                if matches!(outcome, Outcome::Applied(_)) {
                    writes.online.try_set(true);
                }
                writes.settled(id, outcome);
            });
        }
        writes.schedule();
    }

    fn settled(&self, id: WriteId, outcome: Outcome) {
        let mut rng = self.rng.try_get_value().unwrap_or(Rng::new(1));
        let settled = self.outbox.try_update(|o| o.as_mut().map(|o| o.settle(id, outcome, now(), &mut rng))).flatten();
        self.rng.try_set_value(rng);
        let Some(settled) = settled else { return };
        self.save();
        let answered = matches!(settled, Settled::Applied { .. } | Settled::RolledBack { .. });
        let then = if answered { self.callbacks.try_update_value(|c| c.remove(&id)).flatten() } else { None };
        if let Some(then) = then {
            then(&settled);
        } else if let Settled::RolledBack { write, message, .. } = &settled {
            let text = format!("Could not {}: {message}", write.describe());
            self.toasts.push(ToastKind::Error, "A change was not saved", text);
        }
        if answered {
            let listeners = self.listeners.try_get_value().unwrap_or_default();
            for listener in listeners {
                listener(&settled);
            }
        }
        self.pump();
    }

    /// The timer for the next write that falls due.
    fn schedule(&self) {
        if let Some(Some(handle)) = self.timer.try_update_value(Option::take) {
            handle.clear();
        }
        let Some(next) = self.outbox.with_untracked(|o| o.as_ref().and_then(Outbox::next_due)) else { return };
        let writes = *self;
        let wait = Duration::from_millis(next.0.saturating_sub(now().0));
        if let Ok(handle) = set_timeout_with_handle(move || writes.pump(), wait) {
            self.timer.try_set_value(Some(handle));
        }
    }
}
