//! The browser driver of the tab rules ([`Tabs`]): the Web Lock (`navigator.locks`), the `BroadcastChannel`,
//! one timer and the page's visibility and lifecycle events.
//!
//! Invariant: it decides nothing: every event is fed to [`Tabs`] with `now` read once, and the actions are
//! carried out in order; a dropped driver lets its lock go and closes its channel. `navigator.locks` is bound
//! here by hand (web-sys has it only behind `--cfg=web_sys_unstable_apis`).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, VecDeque};
use std::rc::{Rc, Weak};

use protocol::{Seq, ServerMsg, Topic};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

use super::driver::{Listener, listen};
use super::machine::Millis;
use super::tabs::{Action, Input, Role, TabId, Tabs, Wire};

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`.
    type LockManager;
    #[wasm_bindgen(method, js_name = request)]
    fn request(this: &LockManager, name: &str, options: &JsValue, callback: &js_sys::Function) -> js_sys::Promise;
}

/// What the driver hands over to the app.
pub struct TabsHost {
    /// This tab leads: start the connection with these topics, resuming after the seq (`None`: fresh).
    pub connect: Box<dyn Fn(Option<Seq>, BTreeSet<Topic>)>,
    /// The connection's topics are now these.
    pub subscribe: Box<dyn Fn(BTreeSet<Topic>)>,
    /// Whether any tab is visible (the connection pauses only when none is).
    pub any_visible: Box<dyn Fn(bool)>,
    /// This tab no longer leads: stop the connection.
    pub disconnect: Box<dyn Fn()>,
    /// An event for this tab's live layer.
    pub deliver: Box<dyn Fn(ServerMsg)>,
    /// Events may have been missed: refetch.
    pub resync: Box<dyn Fn()>,
    /// This tab follows: whether the leader's connection carries events now.
    pub leader_connected: Box<dyn Fn(bool)>,
    /// Whether this tab leads, and how many tabs share the connection (when that changes).
    pub sharing: Box<dyn Fn(bool, usize)>,
}

/// The driver handle: cheap to clone, single-threaded.
#[derive(Clone)]
pub struct TabsDriver {
    inner: Rc<Inner>,
}

struct Inner {
    name: String,
    host: TabsHost,
    tabs: RefCell<Tabs>,
    locks: LockManager,
    channel: web_sys::BroadcastChannel,
    queue: RefCell<VecDeque<Feed>>,
    pumping: Cell<bool>,
    lock: RefCell<LockState>,
    timer: Cell<Option<i32>>,
    tick: RefCell<Option<Closure<dyn FnMut()>>>,
    on_message: RefCell<Option<MessageHandler>>,
    listeners: RefCell<Vec<Listener>>,
}

/// The channel's `message` handler.
type MessageHandler = Closure<dyn FnMut(MessageEvent)>;

/// What the pump feeds the rules (an input is boxed: it may carry a whole event).
enum Feed {
    Input(Box<Input>),
    Timeout,
}

/// Where this tab stands with the lock.
#[derive(Default)]
enum LockState {
    #[default]
    None,
    /// Asked for; aborting the controller withdraws the request.
    Waiting(web_sys::AbortController),
    /// Granted: resolving this promise's `resolve` lets the lock go.
    Held(js_sys::Function),
}

impl LockState {
    /// Withdraws the request or lets the held lock go.
    fn let_go(self) {
        match self {
            LockState::None => {}
            LockState::Waiting(controller) => controller.abort(),
            LockState::Held(resolve) => {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        }
    }
}

impl TabsDriver {
    /// A driver sharing the lock and the channel named `name`; `None` where Web Locks or `BroadcastChannel`
    /// are missing (each tab then keeps its own connection).
    pub fn new(name: &str, host: TabsHost) -> Option<TabsDriver> {
        let window = web_sys::window()?;
        let locks = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("locks")).ok()?;
        if locks.is_undefined() || locks.is_null() {
            return None;
        }
        let channel = web_sys::BroadcastChannel::new(name).ok()?;
        let me = (js_sys::Math::random() * 9_007_199_254_740_992.0) as TabId;
        let visible = !window.document().is_some_and(|document| document.hidden());
        let driver = TabsDriver {
            inner: Rc::new(Inner {
                name: name.to_owned(),
                host,
                tabs: RefCell::new(Tabs::new(me, visible, now())),
                locks: locks.unchecked_into(),
                channel,
                queue: RefCell::new(VecDeque::new()),
                pumping: Cell::new(false),
                lock: RefCell::new(LockState::None),
                timer: Cell::new(None),
                tick: RefCell::new(None),
                on_message: RefCell::new(None),
                listeners: RefCell::new(Vec::new()),
            }),
        };
        driver.attach();
        driver.pump();
        Some(driver)
    }

    /// Feeds one input (topics, deliveries of the connection this tab leads, resyncs).
    pub fn handle(&self, input: Input) {
        self.feed(Feed::Input(Box::new(input)));
    }

    pub fn role(&self) -> Role {
        self.inner.tabs.borrow().role()
    }

    /// Whether events flow: over this tab's connection when it leads, the leader's otherwise.
    pub fn connected(&self) -> bool {
        self.inner.tabs.borrow().connected()
    }

    /// Tabs sharing the connection, this one included.
    pub fn tab_count(&self) -> usize {
        self.inner.tabs.borrow().tab_count()
    }

    fn weak(&self) -> Weak<Inner> {
        Rc::downgrade(&self.inner)
    }

    fn from_weak(weak: &Weak<Inner>) -> Option<TabsDriver> {
        weak.upgrade().map(|inner| TabsDriver { inner })
    }

    fn attach(&self) {
        let weak = self.weak();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(driver) = TabsDriver::from_weak(&weak) else { return };
            // Anything that is not a message of ours (another app on the origin, another version) is dropped.
            if let Some(wire) = event.data().as_string().and_then(|text| serde_json::from_str::<Wire>(&text).ok()) {
                driver.feed(Feed::Input(Box::new(Input::Received(wire))));
            }
        });
        self.inner.channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        *self.inner.on_message.borrow_mut() = Some(on_message);

        let weak = self.weak();
        let tick = Closure::<dyn FnMut()>::new(move || {
            if let Some(driver) = TabsDriver::from_weak(&weak) {
                driver.inner.timer.set(None);
                driver.feed(Feed::Timeout);
            }
        });
        *self.inner.tick.borrow_mut() = Some(tick);

        let (Some(window), Some(document)) = (web_sys::window(), web_sys::window().and_then(|w| w.document())) else {
            return;
        };
        let mut listeners = Vec::new();
        let (weak, doc) = (self.weak(), document.clone());
        listeners.push(listen(document.clone().into(), "visibilitychange", move || {
            if let Some(driver) = TabsDriver::from_weak(&weak) {
                driver.feed(Feed::Input(Box::new(Input::Visible(!doc.hidden()))));
            }
        }));
        for (kind, input) in [
            ("pagehide", Input::Leaving),
            ("freeze", Input::Leaving),
            ("pageshow", Input::Back),
            ("resume", Input::Back),
        ] {
            let weak = self.weak();
            let target: web_sys::EventTarget =
                if kind == "freeze" || kind == "resume" { document.clone().into() } else { window.clone().into() };
            listeners.push(listen(target, kind, move || {
                if let Some(driver) = TabsDriver::from_weak(&weak) {
                    driver.feed(Feed::Input(Box::new(input.clone())));
                }
            }));
        }
        *self.inner.listeners.borrow_mut() = listeners;
    }

    fn feed(&self, feed: Feed) {
        self.inner.queue.borrow_mut().push_back(feed);
        self.pump();
    }

    /// Feeds what is queued and carries out the actions; re-entrant calls only queue.
    fn pump(&self) {
        if self.inner.pumping.replace(true) {
            return;
        }
        loop {
            let next = self.inner.queue.borrow_mut().pop_front();
            if let Some(feed) = next {
                let mut tabs = self.inner.tabs.borrow_mut();
                match feed {
                    Feed::Input(input) => tabs.handle(*input, now()),
                    Feed::Timeout => tabs.handle_timeout(now()),
                }
            }
            let action = self.inner.tabs.borrow_mut().poll_action();
            match action {
                Some(action) => self.perform(action),
                None if self.inner.queue.borrow().is_empty() => break,
                None => {}
            }
        }
        self.inner.pumping.set(false);
        self.arm_timer();
    }

    fn perform(&self, action: Action) {
        let host = &self.inner.host;
        match action {
            Action::Post(wire) => {
                let text = serde_json::to_string(&wire).expect("tab messages always serialize");
                let _ = self.inner.channel.post_message(&JsValue::from_str(&text));
            }
            Action::Connect { resume_after, topics } => (host.connect)(resume_after, topics),
            Action::Subscribe(topics) => (host.subscribe)(topics),
            Action::AnyVisible(visible) => (host.any_visible)(visible),
            Action::Disconnect => (host.disconnect)(),
            Action::Deliver(msg) => (host.deliver)(msg),
            Action::Resync => (host.resync)(),
            Action::LeaderConnected(connected) => (host.leader_connected)(connected),
            Action::Sharing { leads, tabs } => (host.sharing)(leads, tabs),
            Action::ReleaseLock => self.release_lock(),
            Action::RequestLock => self.request_lock(),
        }
    }

    fn request_lock(&self) {
        if !matches!(*self.inner.lock.borrow(), LockState::None) {
            return;
        }
        let Ok(controller) = web_sys::AbortController::new() else { return };
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &JsValue::from_str("signal"), &controller.signal());
        let weak = self.weak();
        let granted = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
            // Held until `resolve` is called (or the tab goes away).
            js_sys::Promise::new(&mut |resolve, _reject| {
                if let Some(driver) = TabsDriver::from_weak(&weak) {
                    *driver.inner.lock.borrow_mut() = LockState::Held(resolve);
                    driver.feed(Feed::Input(Box::new(Input::LockGranted)));
                } else {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            })
        });
        let request = self.inner.locks.request(&self.inner.name, &options, granted.unchecked_ref());
        // A withdrawn request rejects (AbortError): expected, not an error to report.
        // The handler lives as long as the request may settle (one small closure per request: a few per tab).
        let ignore = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {});
        let _ = request.catch(&ignore);
        ignore.forget();
        *self.inner.lock.borrow_mut() = LockState::Waiting(controller);
    }

    fn release_lock(&self) {
        std::mem::take(&mut *self.inner.lock.borrow_mut()).let_go();
    }

    fn arm_timer(&self) {
        let Some(window) = web_sys::window() else { return };
        if let Some(id) = self.inner.timer.take() {
            window.clear_timeout_with_handle(id);
        }
        let due = self.inner.tabs.borrow().poll_timeout();
        let delay = due.0.saturating_sub(now().0).min(i32::MAX as u64) as i32;
        if let Some(tick) = self.inner.tick.borrow().as_ref()
            && let Ok(id) =
                window.set_timeout_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), delay)
        {
            self.inner.timer.set(Some(id));
        }
    }
}

impl Drop for Inner {
    /// The tab's sharing ends: the lock goes, the channel closes, no timer fires into a dropped closure.
    fn drop(&mut self) {
        std::mem::take(self.lock.get_mut()).let_go();
        if let (Some(id), Some(window)) = (self.timer.take(), web_sys::window()) {
            window.clear_timeout_with_handle(id);
        }
        // Let the other tabs drop this one's topics now rather than after the peer timeout.
        let bye = serde_json::to_string(&Wire::Bye { from: self.tabs.get_mut().id() }).expect("tab messages serialize");
        let _ = self.channel.post_message(&JsValue::from_str(&bye));
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

fn now() -> Millis {
    Millis(js_sys::Date::now() as u64)
}
