//! The browser driver of the tab rules ([`Tabs`]): the Web Lock (`navigator.locks`), the `BroadcastChannel`,
//! one timer and the page's visibility and lifecycle events.
//!
//! Invariant: it decides nothing: every event is fed to [`Tabs`] with `now` read once, and the actions are
//! carried out in order; a dropped driver lets its lock go and closes its channel (`crate::browser` binds both).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, VecDeque};
use std::rc::{Rc, Weak};

use protocol::{Seq, ServerMsg, Topic};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::machine::Millis;
use super::page::{Listener, listen};
use super::tabs::{Action, Input, Role, TabId, Tabs, Wire};
use crate::browser::{JsonChannel, LockManager, LockRequest, lock_manager};

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
    /// Opened once the driver exists (its handler feeds the driver).
    channel: RefCell<Option<JsonChannel<Wire>>>,
    queue: RefCell<VecDeque<Feed>>,
    pumping: Cell<bool>,
    /// The request for the lock, waiting or granted.
    lock: RefCell<Option<LockRequest>>,
    timer: Cell<Option<i32>>,
    tick: RefCell<Option<Closure<dyn FnMut()>>>,
    listeners: RefCell<Vec<Listener>>,
}

/// What the pump feeds the rules (an input is boxed: it may carry a whole event).
enum Feed {
    Input(Box<Input>),
    Timeout,
}

impl TabsDriver {
    /// A driver sharing the lock and the channel named `name`; `None` where Web Locks or `BroadcastChannel`
    /// are missing (each tab then keeps its own connection).
    pub fn new(name: &str, host: TabsHost) -> Option<TabsDriver> {
        let window = web_sys::window()?;
        let locks = lock_manager()?;
        let me = (js_sys::Math::random() * 9_007_199_254_740_992.0) as TabId;
        let visible = !window.document().is_some_and(|document| document.hidden());
        let driver = TabsDriver {
            inner: Rc::new(Inner {
                name: name.to_owned(),
                host,
                tabs: RefCell::new(Tabs::new(me, visible, now())),
                locks,
                channel: RefCell::new(None),
                queue: RefCell::new(VecDeque::new()),
                pumping: Cell::new(false),
                lock: RefCell::new(None),
                timer: Cell::new(None),
                tick: RefCell::new(None),
                listeners: RefCell::new(Vec::new()),
            }),
        };
        let weak = driver.weak();
        let channel = JsonChannel::open(name, move |wire: Wire| {
            if let Some(driver) = TabsDriver::from_weak(&weak) {
                driver.feed(Feed::Input(Box::new(Input::Received(wire))));
            }
        })?;
        *driver.inner.channel.borrow_mut() = Some(channel);
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
                if let Some(channel) = self.inner.channel.borrow().as_ref() {
                    channel.post(&wire);
                }
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
        if self.inner.lock.borrow().is_some() {
            return;
        }
        let weak = self.weak();
        let request = LockRequest::new(&self.inner.locks, &self.inner.name, false, move || {
            if let Some(driver) = TabsDriver::from_weak(&weak) {
                driver.feed(Feed::Input(Box::new(Input::LockGranted)));
            }
        });
        *self.inner.lock.borrow_mut() = request;
    }

    fn release_lock(&self) {
        // Dropping the request withdraws it or lets the lock go.
        drop(self.inner.lock.borrow_mut().take());
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
        drop(self.lock.get_mut().take());
        if let (Some(id), Some(window)) = (self.timer.take(), web_sys::window()) {
            window.clear_timeout_with_handle(id);
        }
        // Let the other tabs drop this one's topics now rather than after the peer timeout; the channel then
        // closes as it drops.
        if let Some(channel) = self.channel.get_mut() {
            channel.post(&Wire::Bye { from: self.tabs.get_mut().id() });
        }
    }
}

fn now() -> Millis {
    Millis(js_sys::Date::now() as u64)
}
