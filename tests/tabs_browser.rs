//! The tab driver in a real headless Chromium: two drivers on one page share a Web Lock and a
//! `BroadcastChannel` as two tabs would; one leads, the other follows, gets the relayed events and takes over
//! when the leader goes.
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use izishopin_live::realtime::tabs::{Input, Role};
use izishopin_live::realtime::tabs_driver::{TabsDriver, TabsHost};
use protocol::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Default)]
struct Seen {
    connects: RefCell<Vec<Option<Seq>>>,
    delivered: RefCell<Vec<Seq>>,
    disconnects: Cell<usize>,
}

fn host(seen: &Rc<Seen>) -> TabsHost {
    let (connects, delivered, disconnects) = (seen.clone(), seen.clone(), seen.clone());
    TabsHost {
        connect: Box::new(move |resume_after, _| connects.connects.borrow_mut().push(resume_after)),
        subscribe: Box::new(|_| {}),
        any_visible: Box::new(|_| {}),
        disconnect: Box::new(move || disconnects.disconnects.set(disconnects.disconnects.get() + 1)),
        deliver: Box::new(move |msg| delivered.delivered.borrow_mut().extend(msg.seq())),
        resync: Box::new(|| {}),
        leader_connected: Box::new(|_| {}),
        sharing: Box::new(|_, _| {}),
    }
}

fn note(seq: Seq) -> ServerMsg {
    let notification = Notification {
        id: NotificationId(seq as i64),
        kind: NotificationKind::Info,
        title: "t".into(),
        message: "m".into(),
        read: false,
        created_at: "2026-01-01T00:00:00Z".into(),
    };
    ServerMsg::Notification(NotificationEvent { notification, seq })
}

/// Waits until `ready` holds, for at most `limit_ms`; whether it did.
async fn until(limit_ms: u32, ready: impl Fn() -> bool) -> bool {
    for _ in 0..limit_ms / 20 {
        if ready() {
            return true;
        }
        gloo_timers::future::TimeoutFuture::new(20).await;
    }
    ready()
}

#[wasm_bindgen_test]
async fn of_two_tabs_one_leads_the_other_gets_its_events_and_takes_over_when_it_goes() {
    let name = format!("izi-tabs-test-{}", js_sys::Math::random());
    let (seen_a, seen_b) = (Rc::new(Seen::default()), Rc::new(Seen::default()));
    let a = TabsDriver::new(&name, host(&seen_a)).expect("Chromium has Web Locks and BroadcastChannel");
    assert!(until(2_000, || a.role() == Role::Leader).await, "the only tab leads");
    assert_eq!(*seen_a.connects.borrow(), [None], "nothing applied anywhere: a fresh start");

    let b = TabsDriver::new(&name, host(&seen_b)).unwrap();
    assert!(until(3_000, || a.tab_count() == 2 && b.tab_count() == 2).await, "{} / {}", a.tab_count(), b.tab_count());
    assert_eq!(b.role(), Role::Follower);
    assert!(seen_b.connects.borrow().is_empty(), "a follower opens no connection");

    // The leader's connection delivers: both tabs apply it, once.
    a.handle(Input::Delivered(note(5)));
    a.handle(Input::Delivered(note(5)));
    assert!(until(1_000, || *seen_b.delivered.borrow() == [5]).await, "{:?}", seen_b.delivered.borrow());
    assert_eq!(*seen_a.delivered.borrow(), [5]);

    // The leader's tab goes: the follower is granted the lock and connects, resuming after 5, within 2 s.
    let gone = js_sys::Date::now();
    drop(a);
    assert!(until(2_000, || b.role() == Role::Leader).await, "the follower took over");
    assert!(js_sys::Date::now() - gone < 2_000.0);
    assert_eq!(*seen_b.connects.borrow(), [Some(5)]);
    assert_eq!(b.tab_count(), 1, "the leader said bye");
    assert_eq!(seen_b.disconnects.get(), 0);
}

#[wasm_bindgen_test]
async fn a_leaving_leader_lets_the_lock_go_and_follows_when_it_comes_back() {
    let name = format!("izi-tabs-test-{}", js_sys::Math::random());
    let (seen_a, seen_b) = (Rc::new(Seen::default()), Rc::new(Seen::default()));
    let a = TabsDriver::new(&name, host(&seen_a)).unwrap();
    assert!(until(2_000, || a.role() == Role::Leader).await);
    let b = TabsDriver::new(&name, host(&seen_b)).unwrap();
    assert!(until(3_000, || b.tab_count() == 2).await);

    // Frozen (or hidden into the back-forward cache): it stops its connection and lets the lock go.
    a.handle(Input::Leaving);
    assert_eq!(seen_a.disconnects.get(), 1);
    assert!(until(2_000, || b.role() == Role::Leader).await);
    a.handle(Input::Back);
    assert!(until(3_000, || a.tab_count() == 2).await);
    assert_eq!(a.role(), Role::Follower, "the lock stays with the tab that took it");
    b.handle(Input::Delivered(note(9)));
    assert!(until(1_000, || *seen_a.delivered.borrow() == [9]).await);
}
