//! Components mounted in a real headless Chromium (wasm-bindgen-test), asserting on the DOM.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use izishopin_live::app::{BackOffice, Storefront};
use izishopin_live::auth::session::{self, Session};
use izishopin_live::shell::APP_TITLE;
use protocol::{Role, ShopId, User, UserId};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Starts each test at `path` with an empty localStorage and a fresh mount point.
fn fresh_page(path: &str) -> web_sys::HtmlElement {
    let window = web_sys::window().unwrap();
    window.local_storage().unwrap().unwrap().clear().unwrap();
    window.history().unwrap().replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path)).unwrap();
    let root = document().create_element("div").unwrap().dyn_into::<web_sys::HtmlElement>().unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    root
}

/// Waits (bounded) until `selector` matches inside `root`, yielding to the browser between checks.
async fn wait_for(root: &web_sys::HtmlElement, selector: &str) -> web_sys::Element {
    for _ in 0..200 {
        if let Some(found) = root.query_selector(selector).unwrap() {
            return found;
        }
        gloo_timers::future::sleep(Duration::from_millis(10)).await;
    }
    panic!("`{selector}` never appeared; the page is: {}", root.inner_html());
}

fn path() -> String {
    web_sys::window().unwrap().location().pathname().unwrap()
}

#[wasm_bindgen_test]
async fn a_visitor_opening_the_root_reaches_the_login_form() {
    let root = fresh_page("/");
    let handle = leptos::mount::mount_to(root.clone(), Storefront);
    let heading = wait_for(&root, "section.login h1").await;
    assert_eq!(heading.text_content().unwrap(), APP_TITLE);
    assert_eq!(path(), "/login");
    assert!(root.query_selector("input[type=email]").unwrap().is_some());
    assert!(root.query_selector("input[type=password]").unwrap().is_some());
    let button = root.query_selector("form button[type=submit]").unwrap().unwrap();
    assert_eq!(button.text_content().unwrap(), "Sign in");
    drop(handle);
}

#[wasm_bindgen_test]
async fn an_owner_page_sends_visitors_to_login_with_a_return_url() {
    let root = fresh_page("/owner");
    let handle = leptos::mount::mount_to(root.clone(), BackOffice);
    wait_for(&root, "section.login").await;
    assert_eq!(path(), "/login");
    assert_eq!(web_sys::window().unwrap().location().search().unwrap(), "?return=/owner");
    drop(handle);
}

#[wasm_bindgen_test]
async fn a_stored_session_is_restored_and_logout_forgets_it() {
    let root = fresh_page("/");
    let owner = Session {
        token: "token".into(),
        expires_at: (js_sys::Date::now() / 1000.0) as i64 + 3600,
        user: User {
            id: UserId(2),
            name: "Olga Owner".into(),
            email: "owner1@izishopin.test".into(),
            role: Role::Owner,
            shop_id: Some(ShopId(1)),
        },
    };
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.set_item(session::STORAGE_KEY, &session::encode(&owner)).unwrap();

    let handle = leptos::mount::mount_to(root.clone(), BackOffice);
    wait_for(&root, "[data-testid=owner-dashboard]").await;
    assert_eq!(path(), "/owner", "an owner opening / lands on the owner dashboard");
    assert!(root.text_content().unwrap().contains("Olga Owner"), "the header names the signed-in user");

    let logout = root.query_selector("button.logout").unwrap().expect("a Log out button");
    assert_eq!(logout.text_content().as_deref(), Some("Log out"));
    let logout = logout.dyn_into::<web_sys::HtmlElement>().unwrap();
    logout.click();
    wait_for(&root, "section.login").await;
    assert_eq!(path(), "/login");
    assert_eq!(storage.get_item(session::STORAGE_KEY).unwrap(), None);
    drop(handle);
}

#[wasm_bindgen_test]
async fn an_unknown_route_shows_the_not_found_page() {
    let root = fresh_page("/no/such/page");
    let handle = leptos::mount::mount_to(root.clone(), Storefront);
    let heading = wait_for(&root, "section.not-found h1").await;
    assert_eq!(heading.text_content().unwrap(), "Page not found");
    drop(handle);
}
