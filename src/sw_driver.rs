//! The service worker's thin driver: registers `/sw.js` (written by `scripts/lib.sh build_app` from
//! `sw/sw.js`) and reports when a new version took over this page, so the app can offer a reload.
//!
//! Invariant: the only code that touches `navigator.serviceWorker`; without one (an old browser, an insecure
//! origin, a backend that serves no `/sw.js`) the app works as before, online only.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Set once a new version of the app controls this page (reactive).
#[derive(Debug, Clone, Copy)]
struct NewVersion(RwSignal<bool>);

/// Registers the service worker and provides the "new version" signal. Call once, in the bundles' `Shell`.
pub fn provide_service_worker() {
    let new_version = RwSignal::new(false);
    provide_context(NewVersion(new_version));
    let Some(container) = container() else { return };
    let had_controller = js_sys::Reflect::get(&container, &JsValue::from_str("controller"))
        .is_ok_and(|controller| !controller.is_null() && !controller.is_undefined());
    if let Ok(register) = js_sys::Reflect::get(&container, &JsValue::from_str("register"))
        && let Some(register) = register.dyn_ref::<js_sys::Function>()
    {
        // The promise's failure (no sw.js here) is left alone: the app works without it.
        if let Ok(promise) = register.call1(&container, &JsValue::from_str("/sw.js")) {
            let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
            let _ = promise.unchecked_into::<js_sys::Promise>().catch(&ignore);
            ignore.forget();
        }
    }
    // A page opened under an older worker: the new one took over (it drops the old files), so this page's
    // code is the old version's.
    if had_controller {
        let changed = Closure::<dyn FnMut()>::new(move || {
            let _ = new_version.try_set(true);
        });
        let target: &web_sys::EventTarget = container.unchecked_ref();
        let _ = target.add_event_listener_with_callback("controllerchange", changed.as_ref().unchecked_ref());
        changed.forget();
    }
}

/// Whether a new version of the app took over (reactive); `false` outside the app.
pub fn use_new_version() -> Signal<bool> {
    match use_context::<NewVersion>() {
        Some(NewVersion(signal)) => signal.into(),
        None => Signal::derive(|| false),
    }
}

fn container() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    let container = js_sys::Reflect::get(&navigator, &JsValue::from_str("serviceWorker")).ok()?;
    (!container.is_undefined() && !container.is_null()).then_some(container)
}
