//! The browser driver of the connection machine: it owns the `web_sys::WebSocket`, its `Closure`s, the one
//! timer, the `visibilitychange` and `online` listeners, the refresh and polling requests, and the page load
//! of `GoToLogin`.
//!
//! Invariant: this is the only file touching the connection's socket, and it decides nothing: each event is fed to
//! [`Connection`] with `now` read once, the actions are drained and carried out, and one timer is re-armed at
//! [`Connection::poll_timeout`]. At most one socket exists; each is tagged with a generation, and its handlers
//! are detached before it is closed, so an event of an older socket never reaches the machine.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::Duration;

use leptos::prelude::set_timeout;
use leptos::task::spawn_local;
use protocol::{ClientMsg, EventsPage, LoginResponse, ServerMsg};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, Event, MessageEvent};

use super::machine::{Action, Config, Connection, Input, Millis, StateKind, Status};
use super::page::{Listener, listen, with_timeout};
use crate::api;

/// A poll that has not answered in this time counts as failed, so that polling goes on.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(15);
/// A refresh that has not answered in this time counts as failed.
pub const REFRESH_TIMEOUT: Duration = Duration::from_secs(15);
/// The close code reported for a socket the browser could not even create (as for an abnormal closure).
const CLOSE_ABNORMAL: u16 = 1006;

/// What the driver hands over to the app: deliveries, status changes and the session's fate.
pub struct Host {
    /// An event for the subscribers of its topic.
    pub deliver: Box<dyn Fn(ServerMsg)>,
    /// Events may have been missed: refetch everything subscribed.
    pub resync: Box<dyn Fn()>,
    /// The machine's status after a batch of events (called when it may have changed).
    pub status: Box<dyn Fn(Status)>,
    /// A refresh succeeded: store the new session (before the machine is told).
    pub refreshed: Box<dyn Fn(LoginResponse)>,
    /// The session cannot be renewed: log out and go to the login page.
    pub go_to_login: Box<dyn Fn()>,
}

/// The driver handle: cheap to clone, single-threaded (the browser's).
#[derive(Clone)]
pub struct Driver {
    inner: Rc<Inner>,
}

struct Inner {
    url: String,
    host: Host,
    core: RefCell<Core>,
    /// Events waiting for the pump: events arriving while it runs (from a subscriber, say) queue here.
    queue: RefCell<VecDeque<Feed>>,
    pumping: Cell<bool>,
    /// The page listeners, kept alive for the driver's life.
    listeners: RefCell<Vec<Listener>>,
    /// The timer's callback: one closure for the driver's life, so re-arming allocates nothing.
    tick: RefCell<Option<Closure<dyn FnMut()>>>,
    /// Whether this page's visibility pauses the connection (not while tabs share it: then the tab rules
    /// say whether any of them is visible).
    follow_page: Cell<bool>,
}

struct Core {
    conn: Connection,
    socket: Option<Socket>,
    /// Generation of the newest socket; events tagged with another one are stale.
    generation: u64,
    /// Bumped by `Start` and `Stop`: answers of requests started before are dropped.
    epoch: u64,
    /// The token the machine holds, for the refresh and polling requests.
    token: Option<String>,
    /// The armed timer: its deadline and its `setTimeout` id.
    timer: Option<(Millis, i32)>,
    /// The clock never goes backwards for the machine, even if the wall clock does.
    last_now: Millis,
}

/// What the pump feeds the machine.
enum Feed {
    /// From the app or the page (start, stop, subscribe, visibility, online).
    Input(Input),
    /// The timer fired.
    Timeout,
    /// From a socket; dropped unless `generation` is the current socket's.
    Socket { generation: u64, input: Input },
    /// The answer of a request; dropped unless `epoch` is current.
    Answer { epoch: u64, input: Input },
}

/// A socket and the handlers attached to it.
struct Socket {
    ws: web_sys::WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Inner {
    /// The app was unmounted: no timer may fire into a dropped closure, no socket may outlive its handlers.
    fn drop(&mut self) {
        let core = self.core.get_mut();
        if let (Some((_, id)), Some(window)) = (core.timer.take(), web_sys::window()) {
            window.clear_timeout_with_handle(id);
        }
        if let Some(socket) = core.socket.take() {
            retire(socket, Some((super::machine::CLOSE_NORMAL, "unmounted")));
        }
    }
}

impl Driver {
    /// A driver connecting to `url` (`ws://…/ws`), idle until [`Input::Start`]. Listens to the page's
    /// visibility and to `online` for its whole life.
    pub fn new(config: Config, url: String, host: Host) -> Driver {
        let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64 ^ (js_sys::Date::now() as u64);
        let core = Core {
            conn: Connection::new(config, seed),
            socket: None,
            generation: 0,
            epoch: 0,
            token: None,
            timer: None,
            last_now: Millis(0),
        };
        let driver = Driver {
            inner: Rc::new(Inner {
                url,
                host,
                core: RefCell::new(core),
                queue: RefCell::new(VecDeque::new()),
                pumping: Cell::new(false),
                listeners: RefCell::new(Vec::new()),
                tick: RefCell::new(None),
                follow_page: Cell::new(true),
            }),
        };
        let weak = driver.weak();
        let tick = Closure::<dyn FnMut()>::new(move || {
            if let Some(driver) = Driver::from_weak(&weak) {
                driver.inner.core.borrow_mut().timer = None;
                driver.feed(Feed::Timeout);
            }
        });
        *driver.inner.tick.borrow_mut() = Some(tick);
        driver.listen_to_page();
        driver
    }

    /// Feeds one input (start, stop, subscribe…) and carries out what follows.
    pub fn handle(&self, input: Input) {
        self.feed(Feed::Input(input));
    }

    /// Whether this page's own visibility pauses the connection (`true`, the default) or the caller reports
    /// visibility itself (tabs sharing the connection).
    pub fn follow_page_visibility(&self, follow: bool) {
        self.inner.follow_page.set(follow);
    }

    /// The machine's status now.
    pub fn status(&self) -> Status {
        self.inner.core.borrow().conn.status()
    }

    /// Sends a frame on the socket when the connection is authenticated; `false` when it is not (the frame is
    /// dropped: the machine resubscribes and resumes by itself after a reconnect).
    pub fn send(&self, msg: &ClientMsg) -> bool {
        let core = self.inner.core.borrow();
        match &core.socket {
            Some(socket) if core.conn.status().state == StateKind::Open => send_frame(&socket.ws, msg),
            _ => false,
        }
    }

    fn weak(&self) -> Weak<Inner> {
        Rc::downgrade(&self.inner)
    }

    fn from_weak(weak: &Weak<Inner>) -> Option<Driver> {
        weak.upgrade().map(|inner| Driver { inner })
    }

    /// The loop of the driver contract. Re-entrant calls (a subscriber subscribing, say) only queue.
    fn feed(&self, event: Feed) {
        self.inner.queue.borrow_mut().push_back(event);
        if self.inner.pumping.replace(true) {
            return;
        }
        loop {
            let Some(event) = self.inner.queue.borrow_mut().pop_front() else { break };
            let actions = self.step(event);
            for action in actions {
                self.perform(action);
            }
        }
        self.inner.pumping.set(false);
        self.rearm_timer();
        (self.inner.host.status)(self.status());
    }

    /// Feeds one event to the machine and drains its actions (no browser call in here but the clock).
    fn step(&self, event: Feed) -> Vec<Action> {
        let mut core = self.inner.core.borrow_mut();
        let now = Millis(js_sys::Date::now().max(0.0) as u64).max(core.last_now);
        core.last_now = now;
        match event {
            Feed::Timeout => core.conn.handle_timeout(now),
            Feed::Input(input) => {
                match &input {
                    Input::Start { token, .. } => {
                        core.epoch += 1;
                        core.token = token.clone();
                    }
                    Input::Stop => {
                        core.epoch += 1;
                        core.token = None;
                    }
                    _ => {}
                }
                core.conn.handle(input, now);
            }
            Feed::Socket { generation, input } => {
                if generation != core.generation || core.socket.is_none() {
                    return Vec::new();
                }
                let closed = matches!(input, Input::Closed { .. });
                core.conn.handle(input, now);
                if closed {
                    // The machine counts this socket as gone; only its handlers remain to be dropped.
                    if let Some(socket) = core.socket.take() {
                        retire(socket, None);
                    }
                }
            }
            Feed::Answer { epoch, input } => {
                if epoch != core.epoch {
                    return Vec::new();
                }
                if let Input::TokenRefreshed { token, .. } = &input {
                    core.token = Some(token.clone());
                }
                core.conn.handle(input, now);
            }
        }
        std::iter::from_fn(|| core.conn.poll_action()).collect()
    }

    fn perform(&self, action: Action) {
        match action {
            Action::OpenSocket => self.open_socket(),
            Action::CloseSocket { code, reason } => {
                let socket = self.inner.core.borrow_mut().socket.take();
                if let Some(socket) = socket {
                    retire(socket, Some((code, reason)));
                }
            }
            Action::Send(msg) => {
                if let Some(socket) = &self.inner.core.borrow().socket {
                    send_frame(&socket.ws, &msg);
                }
            }
            Action::Deliver(msg) => (self.inner.host.deliver)(msg),
            Action::Resync => (self.inner.host.resync)(),
            Action::RefreshToken => self.refresh_token(),
            Action::GoToLogin => (self.inner.host.go_to_login)(),
            Action::StartPoll { after } => self.poll(after),
        }
    }

    fn open_socket(&self) {
        let generation = {
            let mut core = self.inner.core.borrow_mut();
            // The machine never asks while a socket exists; should it, the old one goes first.
            if let Some(old) = core.socket.take() {
                retire(old, Some((super::machine::CLOSE_NORMAL, "replaced")));
            }
            core.generation += 1;
            core.generation
        };
        match web_sys::WebSocket::new(&self.inner.url) {
            Ok(ws) => {
                let socket = self.attach(ws, generation);
                self.inner.core.borrow_mut().socket = Some(socket);
            }
            Err(_) => {
                // No socket could be made (a malformed URL, say): report it like a connection that failed.
                self.feed(Feed::Input(Input::Error));
                self.feed(Feed::Input(Input::Closed { code: CLOSE_ABNORMAL }));
            }
        }
    }

    /// Attaches the four handlers, each reporting to the pump tagged with `generation`.
    fn attach(&self, ws: web_sys::WebSocket, generation: u64) -> Socket {
        let report = {
            let weak = self.weak();
            move |input: Input| {
                if let Some(driver) = Driver::from_weak(&weak) {
                    driver.feed(Feed::Socket { generation, input });
                }
            }
        };
        let on_open = {
            let report = report.clone();
            Closure::<dyn FnMut(Event)>::new(move |_: Event| report(Input::Opened))
        };
        let on_message = {
            let report = report.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                // Binary frames are not part of the protocol: count them as malformed text.
                let text = event.data().as_string().unwrap_or_default();
                report(Input::Message(text));
            })
        };
        let on_error = {
            let report = report.clone();
            Closure::<dyn FnMut(Event)>::new(move |_: Event| report(Input::Error))
        };
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            report(Input::Closed { code: event.code() })
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Socket { ws, _on_open: on_open, _on_message: on_message, _on_error: on_error, _on_close: on_close }
    }

    /// `POST /api/auth/refresh` with the current token; answers `TokenRefreshed` or `RefreshFailed`.
    fn refresh_token(&self) {
        let (epoch, token) = {
            let core = self.inner.core.borrow();
            (core.epoch, core.token.clone())
        };
        let weak = self.weak();
        spawn_local(async move {
            let answer = match token {
                None => Err("no token to refresh".to_owned()),
                Some(token) => {
                    let request = api::post_json::<_, LoginResponse>("/auth/refresh", &(), Some(&token));
                    with_timeout(request, REFRESH_TIMEOUT).await.and_then(|r| r.map_err(|e| e.to_string()))
                }
            };
            let Some(driver) = Driver::from_weak(&weak) else { return };
            if driver.inner.core.borrow().epoch != epoch {
                return;
            }
            let input = match answer {
                Ok(response) => {
                    let token = response.token.clone();
                    let expires_at = Some(Millis(u64::try_from(response.expires_at).unwrap_or(0) * 1000));
                    (driver.inner.host.refreshed)(response);
                    Input::TokenRefreshed { token, expires_at }
                }
                Err(_) => Input::RefreshFailed,
            };
            driver.feed(Feed::Answer { epoch, input });
        });
    }

    /// `GET /api/events?after=N` with the current token; always answers `PollResult`, a timeout included.
    fn poll(&self, after: protocol::Seq) {
        let (epoch, token) = {
            let core = self.inner.core.borrow();
            (core.epoch, core.token.clone())
        };
        let weak = self.weak();
        spawn_local(async move {
            let path = format!("/events?after={after}");
            let request = api::get_json::<EventsPage>(&path, token.as_deref());
            let result = with_timeout(request, POLL_TIMEOUT).await.and_then(|r| r.map_err(|e| e.to_string()));
            if let Some(driver) = Driver::from_weak(&weak) {
                driver.feed(Feed::Answer { epoch, input: Input::PollResult(result) });
            }
        });
    }

    /// Arms the one timer at the machine's next deadline, keeping it when the deadline did not move.
    fn rearm_timer(&self) {
        let Some(window) = web_sys::window() else { return };
        let mut core = self.inner.core.borrow_mut();
        let next = core.conn.poll_timeout();
        if core.timer.map(|(at, _)| at) == next {
            return;
        }
        if let Some((_, id)) = core.timer.take() {
            window.clear_timeout_with_handle(id);
        }
        let Some(at) = next else { return };
        let now = Millis(js_sys::Date::now().max(0.0) as u64).max(core.last_now);
        // Browsers fire at once beyond 2^31-1 ms; the machine's timers are far shorter, but clamp anyway.
        let delay = at.0.saturating_sub(now.0).min(i32::MAX as u64) as i32;
        let tick = self.inner.tick.borrow();
        let Some(tick) = tick.as_ref() else { return };
        if let Ok(id) =
            window.set_timeout_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), delay)
        {
            core.timer = Some((at, id));
        }
    }

    /// `visibilitychange` (from `document.hidden`) and `online`, for the driver's life.
    fn listen_to_page(&self) {
        let Some(window) = web_sys::window() else { return };
        let Some(document) = window.document() else { return };
        let mut listeners = Vec::new();
        let weak = self.weak();
        let doc = document.clone();
        listeners.push(listen(document.clone().into(), "visibilitychange", move || {
            if let Some(driver) = Driver::from_weak(&weak)
                && driver.inner.follow_page.get()
            {
                driver.feed(Feed::Input(Input::VisibilityChanged { visible: !doc.hidden() }));
            }
        }));
        let weak = self.weak();
        listeners.push(listen(window.into(), "online", move || {
            if let Some(driver) = Driver::from_weak(&weak) {
                driver.feed(Feed::Input(Input::Online));
            }
        }));
        *self.inner.listeners.borrow_mut() = listeners;
        if document.hidden() {
            self.feed(Feed::Input(Input::VisibilityChanged { visible: false }));
        }
    }
}

/// Loads the page `login_url(here)` names, `here` being the current path and query, unless already on `/login`.
pub fn load_login_page(login_url: impl FnOnce(&str) -> String) {
    let Some(location) = web_sys::window().map(|w| w.location()) else { return };
    let here = format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default());
    if !here.starts_with("/login") {
        let _ = location.assign(&login_url(&here));
    }
}

/// Detaches a socket's handlers, closes it when asked, and drops its closures on a later turn (one of them may
/// be running right now: dropping a closure from inside itself is an error).
fn retire(socket: Socket, close: Option<(u16, &'static str)>) {
    let ws = &socket.ws;
    ws.set_onopen(None);
    ws.set_onmessage(None);
    ws.set_onerror(None);
    ws.set_onclose(None);
    if let Some((code, reason)) = close {
        let _ = ws.close_with_code_and_reason(code, reason);
    }
    set_timeout(move || drop(socket), Duration::ZERO);
}

fn send_frame(ws: &web_sys::WebSocket, msg: &ClientMsg) -> bool {
    let text = serde_json::to_string(msg).expect("client messages always serialize");
    ws.ready_state() == web_sys::WebSocket::OPEN && ws.send_with_str(&text).is_ok()
}
