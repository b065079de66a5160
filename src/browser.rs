//! What the tabs of one browser share, bound thinly: Web Locks (`navigator.locks`, bound here by hand since
//! web-sys has it only behind `--cfg=web_sys_unstable_apis`), a `BroadcastChannel` of JSON messages, and
//! the `storage` event that tells a tab another one changed localStorage.
//!
//! Invariant: decides nothing; a dropped [`LockRequest`] withdraws or lets go its lock, a dropped
//! [`JsonChannel`] closes its channel, and a message that does not read as the channel's type is dropped.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`.
    #[derive(Clone)]
    pub type LockManager;
    #[wasm_bindgen(method, js_name = request)]
    fn request(this: &LockManager, name: &str, options: &JsValue, callback: &js_sys::Function) -> js_sys::Promise;
    #[wasm_bindgen(method, js_name = query)]
    fn query(this: &LockManager) -> js_sys::Promise;
}

/// `navigator.locks`, where the browser has it (secure contexts, `localhost` included).
pub fn lock_manager() -> Option<LockManager> {
    let navigator = web_sys::window()?.navigator();
    let locks = js_sys::Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

/// Calls `answer` with whether some tab holds the lock `name` now (`false` if the browser cannot say).
pub fn is_held(locks: &LockManager, name: &str, answer: impl FnOnce(bool) + 'static) {
    let name = name.to_owned();
    let answer = Rc::new(RefCell::new(Some(answer)));
    let on_error = answer.clone();
    let found = Closure::once_into_js(move |snapshot: JsValue| {
        let held = js_sys::Reflect::get(&snapshot, &JsValue::from_str("held")).unwrap_or(JsValue::UNDEFINED);
        let held = js_sys::Array::from(&held).iter().any(|lock| {
            js_sys::Reflect::get(&lock, &JsValue::from_str("name")).ok().and_then(|n| n.as_string())
                == Some(name.clone())
        });
        if let Some(answer) = answer.borrow_mut().take() {
            answer(held);
        }
    });
    let failed = Closure::once_into_js(move |_: JsValue| {
        if let Some(answer) = on_error.borrow_mut().take() {
            answer(false);
        }
    });
    then(&locks.query(), &found, &failed);
}

/// `promise.then(resolved, rejected)` with functions made by `Closure::once_into_js` (freed once called).
fn then(promise: &js_sys::Promise, resolved: &JsValue, rejected: &JsValue) {
    if let Ok(then) = js_sys::Reflect::get(promise, &JsValue::from_str("then"))
        && let Some(then) = then.dyn_ref::<js_sys::Function>()
    {
        let _ = then.call2(promise, resolved, rejected);
    }
}

/// Where a request for a lock stands.
#[derive(Default)]
enum LockState {
    /// Withdrawn or let go.
    #[default]
    Done,
    /// Asked for; aborting the controller withdraws the request.
    Waiting(web_sys::AbortController),
    /// Granted: calling this promise's `resolve` lets the lock go.
    Held(js_sys::Function),
}

/// A request for a Web Lock, held from when it is granted until [`LockRequest::let_go`] or drop.
pub struct LockRequest {
    state: Rc<RefCell<LockState>>,
}

impl LockRequest {
    /// Asks for the lock `name` (exclusive, or `shared`); `granted` runs when this tab holds it.
    pub fn new(locks: &LockManager, name: &str, shared: bool, granted: impl FnOnce() + 'static) -> Option<LockRequest> {
        let controller = web_sys::AbortController::new().ok()?;
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &JsValue::from_str("signal"), &controller.signal());
        if shared {
            let _ = js_sys::Reflect::set(&options, &JsValue::from_str("mode"), &JsValue::from_str("shared"));
        }
        let state = Rc::new(RefCell::new(LockState::Waiting(controller)));
        let granted_state = Rc::downgrade(&state);
        let mut granted = Some(granted);
        let callback = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
            // Held until `resolve` is called (or the tab goes away).
            js_sys::Promise::new(&mut |resolve, _reject| match granted_state.upgrade() {
                Some(state) if matches!(*state.borrow(), LockState::Waiting(_)) => {
                    *state.borrow_mut() = LockState::Held(resolve);
                    if let Some(granted) = granted.take() {
                        granted();
                    }
                }
                // Granted just as the request was withdrawn (or dropped): let it go at once.
                _ => {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            })
        });
        let request = locks.request(name, &options, callback.unchecked_ref());
        // A withdrawn request rejects (AbortError): expected, not an error to report.
        let (ignore_done, ignore_error) =
            (Closure::once_into_js(|_: JsValue| {}), Closure::once_into_js(|_: JsValue| {}));
        then(&request, &ignore_done, &ignore_error);
        Some(LockRequest { state })
    }

    /// Withdraws the request or lets the held lock go.
    pub fn let_go(&self) {
        match std::mem::take(&mut *self.state.borrow_mut()) {
            LockState::Done => {}
            LockState::Waiting(controller) => controller.abort(),
            LockState::Held(resolve) => {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        }
    }
}

impl Drop for LockRequest {
    fn drop(&mut self) {
        self.let_go();
    }
}

/// Calls `changed` with the new text of the localStorage item `key` whenever another tab of this origin
/// writes or removes it (`None`: removed, or the whole storage cleared), for the page's life.
pub fn follow_storage(key: &'static str, changed: impl Fn(Option<String>) + 'static) {
    let Some(window) = web_sys::window() else { return };
    let on_storage = Closure::<dyn FnMut(web_sys::StorageEvent)>::new(move |event: web_sys::StorageEvent| {
        // No key: the whole storage was cleared.
        match event.key() {
            Some(other) if other != key => {}
            Some(_) => changed(event.new_value()),
            None => changed(None),
        }
    });
    let _ = window.add_event_listener_with_callback("storage", on_storage.as_ref().unchecked_ref());
    // For the page's life: the contexts that follow an item are provided once, at the root.
    on_storage.forget();
}

/// A `BroadcastChannel` carrying `M`s as JSON text, to every other tab of the origin that opened the name.
pub struct JsonChannel<M> {
    channel: web_sys::BroadcastChannel,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _message: PhantomData<fn(M)>,
}

impl<M: Serialize + DeserializeOwned + 'static> JsonChannel<M> {
    /// Opens the channel `name`; `on_message` gets what the other tabs post. `None` without `BroadcastChannel`.
    pub fn open(name: &str, mut on_message: impl FnMut(M) + 'static) -> Option<JsonChannel<M>> {
        let channel = web_sys::BroadcastChannel::new(name).ok()?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            // Anything that is not a message of ours (another app on the origin, another version) is dropped.
            if let Some(message) = event.data().as_string().and_then(|text| crate::json::from_text::<M>(&text).ok()) {
                on_message(message);
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some(JsonChannel { channel, _on_message: on_message, _message: PhantomData })
    }

    /// Posts `message` to the other tabs (never to this one).
    pub fn post(&self, message: &M) {
        if let Ok(text) = serde_json::to_string(message) {
            let _ = self.channel.post_message(&JsValue::from_str(&text));
        }
    }
}

impl<M> Drop for JsonChannel<M> {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
