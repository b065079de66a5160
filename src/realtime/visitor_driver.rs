//! The browser driver of the visitor's poll ([`super::visitor`]): its one timer, its request and the page's
//! `visibilitychange`.
//!
//! Invariant: it decides nothing: every input is fed to [`VisitorPoll`] with `now` read once, a due request is
//! made (`GET /api/events` with no `Authorization` header: the public events only), its answer is fed back,
//! and the one timer is re-armed at [`VisitorPoll::next_wake`].

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use leptos::prelude::{TimeoutHandle, set_timeout_with_handle};
use leptos::task::spawn_local;
use protocol::{EventsPage, ServerMsg};

use super::driver::POLL_TIMEOUT;
use super::machine::Millis;
use super::page::{Listener, listen, with_timeout};
use super::visitor::{Fetch, VisitorPoll};
use crate::api;

/// What the poll hands over: public events for the subscribers, and resyncs.
pub struct VisitorHost {
    /// An event for the subscribers of its topic, in seq order.
    pub deliver: Box<dyn Fn(ServerMsg)>,
    /// Events may have been missed: refetch everything subscribed.
    pub resync: Box<dyn Fn()>,
}

/// The driver handle: cheap to clone, single-threaded (the browser's).
#[derive(Clone)]
pub struct VisitorDriver {
    inner: Rc<Inner>,
}

struct Inner {
    poll: RefCell<VisitorPoll>,
    host: VisitorHost,
    timer: RefCell<Option<TimeoutHandle>>,
    listener: RefCell<Option<Listener>>,
}

impl VisitorDriver {
    /// A stopped poll following the page's visibility; [`VisitorDriver::set_wanted`] starts it.
    pub fn new(host: VisitorHost) -> Self {
        let inner =
            Rc::new(Inner { poll: RefCell::default(), host, timer: RefCell::new(None), listener: RefCell::new(None) });
        let driver = VisitorDriver { inner };
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            let weak = Rc::downgrade(&driver.inner);
            let doc = document.clone();
            let listener = listen(document.clone().into(), "visibilitychange", move || {
                if let Some(driver) = upgrade(&weak) {
                    driver.inner.poll.borrow_mut().set_visible(!doc.hidden(), now());
                    driver.pump();
                }
            });
            *driver.inner.listener.borrow_mut() = Some(listener);
            driver.inner.poll.borrow_mut().set_visible(!document.hidden(), now());
        }
        driver
    }

    /// Polls while `wanted` (signed out), stops otherwise.
    pub fn set_wanted(&self, wanted: bool) {
        self.inner.poll.borrow_mut().set_wanted(wanted, now());
        self.pump();
    }

    /// Makes the request due now, if any, and re-arms the timer.
    fn pump(&self) {
        let due = self.inner.poll.borrow_mut().due(now());
        if let Some(fetch) = due {
            self.fetch(fetch);
        }
        self.rearm();
    }

    fn fetch(&self, fetch: Fetch) {
        let weak = Rc::downgrade(&self.inner);
        spawn_local(async move {
            let path = format!("/events?after={}", fetch.after);
            let request = api::get_json::<EventsPage>(&path, None);
            let result = with_timeout(request, POLL_TIMEOUT).await.and_then(|r| r.map_err(|e| e.to_string()));
            let Some(driver) = upgrade(&weak) else { return };
            let answer = driver.inner.poll.borrow_mut().answered(fetch, result, now());
            for event in answer.deliver {
                (driver.inner.host.deliver)(event);
            }
            if answer.resync {
                (driver.inner.host.resync)();
            }
            driver.pump();
        });
    }

    fn rearm(&self) {
        if let Some(timer) = self.inner.timer.borrow_mut().take() {
            timer.clear();
        }
        let Some(at) = self.inner.poll.borrow().next_wake() else { return };
        let weak = Rc::downgrade(&self.inner);
        let delay = std::time::Duration::from_millis(at.0.saturating_sub(now().0));
        let tick = move || {
            if let Some(driver) = upgrade(&weak) {
                driver.inner.timer.borrow_mut().take();
                driver.pump();
            }
        };
        if let Ok(handle) = set_timeout_with_handle(tick, delay) {
            *self.inner.timer.borrow_mut() = Some(handle);
        }
    }
}

fn upgrade(weak: &Weak<Inner>) -> Option<VisitorDriver> {
    weak.upgrade().map(|inner| VisitorDriver { inner })
}

/// The browser's clock, read once per input.
fn now() -> Millis {
    Millis(js_sys::Date::now().max(0.0) as u64)
}
