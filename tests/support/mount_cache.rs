//! Shared by the wasm tests that drive the cache binding: mounts the auth and cache contexts on a fresh
//! element, with an empty localStorage, and hands the cache out (with the mount, to keep alive).

use std::cell::RefCell;
use std::rc::Rc;

use izishopin_live::auth::provide_auth;
use izishopin_live::cache::context::{DataCache, DataCacheOptions, provide_data_cache};
use wasm_bindgen::JsCast;

/// Mounts the auth and cache contexts (`options` for the cache) and hands the cache out.
pub fn mount_cache(options: DataCacheOptions) -> (DataCache, impl Drop) {
    web_sys::window().unwrap().local_storage().unwrap().unwrap().clear().unwrap();
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap().dyn_into::<web_sys::HtmlElement>().unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let slot: Rc<RefCell<Option<DataCache>>> = Rc::default();
    let handed = slot.clone();
    let handle = leptos::mount::mount_to(root, move || {
        provide_auth();
        *handed.borrow_mut() = Some(provide_data_cache(options));
    });
    let cache = slot.borrow().expect("the cache is provided while mounting");
    (cache, handle)
}
