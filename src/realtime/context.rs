//! The WebSocket context: one [`WebSocket`] handle provided in `App`, read with [`use_websocket`]; it follows the
//! session (start on sign-in, stop on sign-out, restart for another user) and fans events out to subscribers.
//!
//! Invariant: components never see the socket: they read signals and register callbacks per event type; the
//! machine subscribes a topic on the server at its first subscriber and unsubscribes at its last.
//!
//! ```no_run
//! use izishopin_live::realtime::context::use_websocket;
//! use leptos::prelude::*;
//!
//! #[component]
//! fn LastOrder() -> impl IntoView {
//!     let ws = use_websocket();
//!     let last = RwSignal::new(None::<i64>);
//!     // Kept until this component unmounts; `orders` is subscribed on the server while anyone listens.
//!     ws.subscribe_to_order_updates(move |update| last.set(Some(update.order.id.0))).keep();
//!     // Events were missed: refetch what this component shows (here, forget it).
//!     ws.on_resync(move || last.set(None)).keep();
//!     view! { <p>{move || last.get().map(|id| format!("Last order: #{id}"))}</p> }
//! }
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use leptos::prelude::*;
use protocol::{
    ClientMsg, DashboardUpdate, LoginResponse, NotificationEvent, OrderUpdate, ProductUpdate, ServerMsg, Topic, UserId,
};

use super::driver::{self, Driver, Host};
use super::machine::{Config, Input, Millis, StateKind, Status, Transport};
use super::tabs;
use super::tabs_driver::TabsDriver;
use super::visitor_driver::{VisitorDriver, VisitorHost};

mod session;
use crate::auth::{Auth, Session, use_auth};
use crate::config::AppConfig;
use crate::nav::login_url_returning_to;
pub use session::session_input;
use session::{Signals, follow_session};

/// Options of [`provide_websocket`].
#[derive(Debug, Clone, Default)]
pub struct UseWebSocketOptions {
    /// Timing and limits of the connection. Default: `Config::default()` (backoff 0.5–30 s, ping every 25 s,
    /// polling after 3 failed attempts, token refresh 60 s before expiry).
    pub config: Config,
    /// The WebSocket URL. Default: `None`, meaning `AppConfig::from_browser().ws_url`.
    pub url: Option<String>,
    /// Signed out, poll the public events (`GET /api/events` with no token) so that the catalog stays live
    /// for visitors. Default: `false` (the storefront sets it).
    pub visitor_feed: bool,
}

/// The handle to the WebSocket context: `Copy`, provided once in `App`, read with [`use_websocket`].
///
/// Its methods work outside a reactive owner (in callbacks, async code); once the app is unmounted they do
/// nothing.
#[derive(Clone, Copy)]
pub struct WebSocket {
    /// Whether events flow over an authenticated WebSocket right now.
    pub is_connected: Signal<bool>,
    /// The connection's status: state, attempt, next retry, connected since, last seq, transport, counters.
    pub status: Signal<Status>,
    /// The last event delivered to subscribers (events of topics nobody subscribed are not delivered).
    pub last_message: Signal<Option<ServerMsg>>,
    /// Whether this tab leads the connection the browser's tabs share, and how many share it; `None` when
    /// this tab runs its own (signed out, or no Web Locks or `BroadcastChannel`).
    pub sharing: Signal<Option<(bool, usize)>>,
    shared: StoredValue<Rc<Shared>, LocalStorage>,
}

struct Shared {
    driver: Driver,
    registry: RefCell<Registry>,
    /// The user and token the driver runs with, to tell a refreshed token from a sign-in of another user.
    running: RefCell<Option<(UserId, String)>>,
    /// Sharing one connection with the browser's other tabs of the same user (signed in, where Web Locks
    /// and `BroadcastChannel` exist); `None`: this tab runs its own connection.
    tabs: RefCell<Option<TabsDriver>>,
    /// The token the connection starts with when this tab comes to lead.
    token: RefCell<Option<(String, Option<Millis>)>>,
    /// Topics the other tabs need, counted as one more subscriber of each on the connection.
    remote_topics: RefCell<BTreeSet<Topic>>,
    /// The visitor's poll of the public events, run while signed out (`None`: not in this app).
    visitor: Option<VisitorDriver>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    callbacks: BTreeMap<u64, Callback>,
}

/// A subscriber of one topic's events.
type EventCallback = Rc<dyn Fn(&ServerMsg)>;

#[derive(Clone)]
enum Callback {
    Event(Topic, EventCallback),
    Resync(Rc<dyn Fn()>),
}

/// A registered callback. It is removed when this handle is dropped, when [`Subscription::unsubscribe`] is
/// called, or when the reactive owner that was current at registration is cleaned up, whichever comes first.
///
/// A component that wants its callback for as long as it is mounted calls [`Subscription::keep`] (a plain
/// `let _sub = …;` would drop the handle at the end of the component function).
#[must_use = "dropping a Subscription unsubscribes at once: call `.keep()` to tie it to the component instead"]
pub struct Subscription {
    id: u64,
    ws: WebSocket,
}

impl Subscription {
    /// Removes the callback now (idempotent: later drops and cleanups do nothing).
    pub fn unsubscribe(self) {}

    /// Keeps the callback until the owner current at registration is cleaned up (the component unmounts).
    /// Outside any owner it is kept for the app's life.
    pub fn keep(self) {
        std::mem::forget(self);
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.ws.remove(self.id);
    }
}

/// Provides the WebSocket context and starts following the session. Call once, in `App`, after `provide_auth()`.
pub fn provide_websocket(options: UseWebSocketOptions) -> WebSocket {
    let auth = use_auth();
    let status = RwSignal::new(idle_status());
    let last_message = RwSignal::new(None::<ServerMsg>);
    let sharing = RwSignal::new(None::<(bool, usize)>);
    // The host reaches the shared state through this slot, filled once the driver exists.
    let slot: Rc<RefCell<Option<WebSocket>>> = Rc::new(RefCell::new(None));
    let host = Host {
        // With tabs sharing the connection, its events and resyncs go through the tab rules, which deliver
        // them here and relay them to the other tabs.
        deliver: Box::new({
            let slot = slot.clone();
            move |msg| {
                let Some(ws) = *slot.borrow() else { return };
                match ws.sharing() {
                    Some(tabs) => tabs.handle(tabs::Input::Delivered(msg)),
                    None => {
                        last_message.try_set(Some(msg.clone()));
                        ws.dispatch(&msg);
                    }
                }
            }
        }),
        resync: Box::new({
            let slot = slot.clone();
            move || {
                let Some(ws) = *slot.borrow() else { return };
                match ws.sharing() {
                    Some(tabs) => tabs.handle(tabs::Input::Resynced),
                    None => ws.dispatch_resync(),
                }
            }
        }),
        status: Box::new({
            let slot = slot.clone();
            move |next: Status| {
                if let Some(tabs) = slot.borrow().and_then(|ws| ws.sharing()) {
                    tabs.handle(tabs::Input::Connected(next.state == StateKind::Open));
                    if tabs.role() != tabs::Role::Leader {
                        return;
                    }
                }
                if status.try_with_untracked(|current| *current != next) == Some(true) {
                    status.try_set(next);
                }
            }
        }),
        refreshed: Box::new({
            let slot = slot.clone();
            move |response: LoginResponse| {
                if let Some(ws) = *slot.borrow() {
                    ws.with_shared(|shared| {
                        *shared.running.borrow_mut() = Some((response.user.id, response.token.clone()));
                    });
                }
                auth.login(Session::from(response));
            }
        }),
        go_to_login: Box::new(move || go_to_login(auth)),
    };
    let url = options.url.unwrap_or_else(|| AppConfig::from_browser().ws_url);
    let driver = Driver::new(options.config, url, host);
    let visitor = options.visitor_feed.then(|| {
        let deliver_to = slot.clone();
        let resync_to = slot.clone();
        VisitorDriver::new(VisitorHost {
            deliver: Box::new(move |msg| {
                let Some(ws) = *deliver_to.borrow() else { return };
                last_message.try_set(Some(msg.clone()));
                ws.dispatch(&msg);
            }),
            resync: Box::new(move || {
                if let Some(ws) = *resync_to.borrow() {
                    ws.dispatch_resync();
                }
            }),
        })
    });
    let shared = Rc::new(Shared {
        driver,
        registry: RefCell::default(),
        running: RefCell::new(None),
        tabs: RefCell::new(None),
        token: RefCell::new(None),
        remote_topics: RefCell::default(),
        visitor,
    });
    let ws = WebSocket {
        is_connected: Signal::derive(move || status.with(|s| s.state == StateKind::Open)),
        status: status.into(),
        last_message: last_message.into(),
        sharing: sharing.into(),
        shared: StoredValue::new_local(shared),
    };
    *slot.borrow_mut() = Some(ws);
    provide_context(ws);
    follow_session(ws, auth, Signals { status, last_message, sharing });
    ws
}

/// The WebSocket context provided at the root.
pub fn use_websocket() -> WebSocket {
    expect_context()
}

impl WebSocket {
    /// Calls `callback` with every `dashboard_update` (see [`Subscription`] for its lifetime).
    pub fn subscribe_to_dashboard_updates(&self, callback: impl Fn(&DashboardUpdate) + 'static) -> Subscription {
        self.subscribe(Topic::Dashboard, move |msg| {
            if let ServerMsg::DashboardUpdate(update) = msg {
                callback(update);
            }
        })
    }

    /// Calls `callback` with every `order_update` (see [`Subscription`] for its lifetime).
    pub fn subscribe_to_order_updates(&self, callback: impl Fn(&OrderUpdate) + 'static) -> Subscription {
        self.subscribe(Topic::Orders, move |msg| {
            if let ServerMsg::OrderUpdate(update) = msg {
                callback(update);
            }
        })
    }

    /// Calls `callback` with every `product_update` (see [`Subscription`] for its lifetime).
    pub fn subscribe_to_product_updates(&self, callback: impl Fn(&ProductUpdate) + 'static) -> Subscription {
        self.subscribe(Topic::Products, move |msg| {
            if let ServerMsg::ProductUpdate(update) = msg {
                callback(update);
            }
        })
    }

    /// Calls `callback` with every `notification` (see [`Subscription`] for its lifetime).
    pub fn subscribe_to_notifications(&self, callback: impl Fn(&NotificationEvent) + 'static) -> Subscription {
        self.subscribe(Topic::Notifications, move |msg| {
            if let ServerMsg::Notification(event) = msg {
                callback(event);
            }
        })
    }

    /// Calls `callback` with every event of `topic`, as received.
    pub fn subscribe(&self, topic: Topic, callback: impl Fn(&ServerMsg) + 'static) -> Subscription {
        let subscription = self.add(Callback::Event(topic, Rc::new(callback)));
        self.with_shared(|shared| shared.driver.handle(Input::Subscribe(topic)));
        self.tell_tabs_the_topics();
        subscription
    }

    /// Whether this tab leads or follows the connection shared by the browser's tabs, and how many share it;
    /// `None` when this tab runs its own connection (signed out, or no Web Locks or `BroadcastChannel`).
    pub fn sharing_status(&self) -> Option<(tabs::Role, usize)> {
        self.sharing().map(|tabs| (tabs.role(), tabs.tab_count()))
    }

    /// The tab sharing, cloned out of its cell: calls into it may come back here.
    fn sharing(&self) -> Option<TabsDriver> {
        self.with_shared(|shared| shared.tabs.borrow().clone()).flatten()
    }

    /// The topics this tab's subscribers need, for the tab rules (the leader subscribes every tab's).
    fn tell_tabs_the_topics(&self) {
        let Some(tabs) = self.sharing() else { return };
        let topics: BTreeSet<Topic> = self
            .callbacks(|c| match c {
                Callback::Event(topic, _) => Some(*topic),
                Callback::Resync(_) => None,
            })
            .into_iter()
            .collect();
        tabs.handle(tabs::Input::Topics(topics));
    }

    /// The connection counts one subscriber of each topic in `topics` for the other tabs.
    fn set_remote_topics(&self, topics: BTreeSet<Topic>) {
        self.with_shared(|shared| {
            let old = std::mem::replace(&mut *shared.remote_topics.borrow_mut(), topics.clone());
            for topic in topics.difference(&old) {
                shared.driver.handle(Input::Subscribe(*topic));
            }
            for topic in old.difference(&topics) {
                shared.driver.handle(Input::Unsubscribe(*topic));
            }
        });
    }

    /// Calls `callback` when events may have been missed (a replay out of reach, a server restarted on other
    /// data): refetch everything subscribed.
    pub fn on_resync(&self, callback: impl Fn() + 'static) -> Subscription {
        self.add(Callback::Resync(Rc::new(callback)))
    }

    /// Sends a frame on the authenticated socket; `false` when there is none (the frame is dropped). The machine
    /// manages `auth`, `subscribe`, `unsubscribe`, `ping` and `resume` itself: use the subscribe methods.
    pub fn send(&self, msg: ClientMsg) -> bool {
        self.with_shared(|shared| shared.driver.send(&msg)).unwrap_or(false)
    }

    fn with_shared<T>(&self, f: impl FnOnce(&Shared) -> T) -> Option<T> {
        // Clone the Rc out first: callbacks may reach the context again while `f` runs.
        let shared = self.shared.try_with_value(Rc::clone)?;
        Some(f(&shared))
    }

    fn add(&self, callback: Callback) -> Subscription {
        let id = self
            .with_shared(|shared| {
                let mut registry = shared.registry.borrow_mut();
                registry.next_id += 1;
                let id = registry.next_id;
                registry.callbacks.insert(id, callback);
                id
            })
            .unwrap_or(0);
        let ws = *self;
        on_cleanup(move || ws.remove(id));
        Subscription { id, ws }
    }

    /// Removes a callback; unknown ids (already removed) are ignored.
    fn remove(&self, id: u64) {
        self.with_shared(|shared| {
            let removed = shared.registry.borrow_mut().callbacks.remove(&id);
            if let Some(Callback::Event(topic, _)) = removed {
                shared.driver.handle(Input::Unsubscribe(topic));
            }
        });
        self.tell_tabs_the_topics();
    }

    /// What `pick` takes from the registered callbacks, cloned out: the callbacks may register or remove
    /// others while they run.
    fn callbacks<T>(&self, pick: impl Fn(&Callback) -> Option<T>) -> Vec<T> {
        self.with_shared(|shared| shared.registry.borrow().callbacks.values().filter_map(&pick).collect())
            .unwrap_or_default()
    }

    fn dispatch(&self, msg: &ServerMsg) {
        let Some(topic) = msg.topic() else { return };
        let targets = self.callbacks(|c| match c {
            Callback::Event(t, f) if *t == topic => Some(f.clone()),
            _ => None,
        });
        for target in targets {
            target(msg);
        }
    }

    fn dispatch_resync(&self) {
        let targets = self.callbacks(|c| match c {
            Callback::Resync(f) => Some(f.clone()),
            Callback::Event(..) => None,
        });
        for target in targets {
            target();
        }
    }
}

/// Logs out and loads the login page, coming back here afterwards. A full load: the context lives above the
/// router (so that every other context can use it), and a session that cannot be renewed is rare.
fn go_to_login(auth: Auth) {
    auth.logout();
    driver::load_login_page(login_url_returning_to);
}

/// The status before the driver reports: idle, nothing received.
fn idle_status() -> Status {
    Status {
        state: StateKind::Idle,
        transport: Transport::WebSocket,
        attempt: 0,
        consecutive_failures: 0,
        next_retry_at: None,
        connected_since: None,
        last_seq: None,
        counters: Default::default(),
        last_error: None,
        last_close_code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(user: i64, token: &str) -> (UserId, String) {
        (UserId(user), token.to_owned())
    }

    fn next(user: i64, token: &str, expires_at: i64) -> (UserId, String, i64) {
        (UserId(user), token.to_owned(), expires_at)
    }

    #[test]
    fn signing_in_starts_and_signing_out_stops() {
        assert_eq!(session_input(None, None), None);
        assert_eq!(
            session_input(None, Some(&next(2, "a", 100))),
            Some(Input::Start { token: Some("a".into()), token_expires_at: Some(Millis(100_000)) })
        );
        assert_eq!(session_input(Some(&running(2, "a")), None), Some(Input::Stop));
    }

    #[test]
    fn a_new_token_of_the_same_user_is_a_refresh_and_another_user_restarts() {
        assert_eq!(session_input(Some(&running(2, "a")), Some(&next(2, "a", 100))), None);
        assert_eq!(
            session_input(Some(&running(2, "a")), Some(&next(2, "b", 200))),
            Some(Input::TokenRefreshed { token: "b".into(), expires_at: Some(Millis(200_000)) })
        );
        assert_eq!(
            session_input(Some(&running(2, "a")), Some(&next(3, "a", 200))),
            Some(Input::Start { token: Some("a".into()), token_expires_at: Some(Millis(200_000)) })
        );
    }
}
