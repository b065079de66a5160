//! The root components of the two bundles ([`Storefront`] and [`BackOffice`], see [`protocol::bundles`]):
//! context providers (mounted once), the layout and each bundle's routes. A path of the other bundle is loaded
//! in full from the server, which sends that bundle's page.
//!
//! Invariant: contexts are provided here and nowhere else; a bundle's routes name only its own pages, so the
//! other bundle's pages are not in its wasm.

use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;
use protocol::Bundle;

use crate::auth::{provide_auth, use_auth};
use crate::cache::context::{DataCacheOptions, provide_data_cache};
use crate::components::layout::Layout;
use crate::components::toast::provide_toasts;
use crate::data::cart_auth::provide_cart;
use crate::data::live::{follow_answers, provide_live_updates};
use crate::data::outbox_driver::provide_writes;
use crate::nav::{self, home_of};
use crate::pages::{
    AdminPage, AdminShopPage, CartPage, CatalogPage, CheckoutPage, LoginPage, NotFound, OrderPage, OrdersPage,
    OwnerPage, ProductPage, WishlistPage,
};
use crate::realtime::context::{UseWebSocketOptions, provide_websocket};
use crate::shell::use_bundle;
use crate::sw_driver::provide_service_worker;

/// The storefront bundle: the catalog, product pages, cart, wishlist, checkout, a customer's orders, the login.
#[component]
pub fn Storefront() -> impl IntoView {
    view! {
        <Shell bundle=Bundle::Storefront>
            <Routes fallback=|| view! { <Elsewhere/> }>
                <Route path=path!("/") view=Home/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/shop") view=CatalogPage/>
                <Route path=path!("/shop/products/:id") view=ProductPage/>
                <Route path=path!("/cart") view=CartPage/>
                <Route path=path!("/wishlist") view=WishlistPage/>
                <Route path=path!("/checkout") view=CheckoutPage/>
                <Route path=path!("/orders") view=OrdersPage/>
                <Route path=path!("/orders/:id") view=OrderPage/>
            </Routes>
        </Shell>
    }
}

/// The back office bundle: the owner's and the admin's dashboards, and the login (reached from them without a
/// page load).
#[component]
pub fn BackOffice() -> impl IntoView {
    view! {
        <Shell bundle=Bundle::BackOffice>
            <Routes fallback=|| view! { <Elsewhere/> }>
                <Route path=path!("/") view=Home/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/owner") view=OwnerPage/>
                <Route path=path!("/admin") view=AdminPage/>
                <Route path=path!("/admin/shops/:id") view=AdminShopPage/>
            </Routes>
        </Shell>
    }
}

/// What both bundles share: the contexts, the router and the page frame around the bundle's routes.
#[component]
fn Shell(bundle: Bundle, children: Children) -> impl IntoView {
    provide_context(bundle);
    arrived(bundle);
    provide_service_worker();
    provide_auth();
    provide_toasts();
    // Signed out, the storefront's catalog stays live through the public events; the back office has no
    // visitors' pages.
    provide_websocket(UseWebSocketOptions { visitor_feed: bundle == Bundle::Storefront, ..Default::default() });
    provide_data_cache(DataCacheOptions::default());
    provide_live_updates();
    follow_answers(provide_writes());
    provide_cart();
    view! {
        <Router>
            <Layout>{children()}</Layout>
        </Router>
    }
}

/// A path this bundle has no route for: the other bundle's is loaded in full (the session and the persisted
/// cache are in localStorage and come along); an unknown path is the 404 page.
#[component]
fn Elsewhere() -> impl IntoView {
    let bundle = use_bundle();
    let location = use_location();
    move || {
        let path = location.pathname.get();
        let target = format!("{path}{}{}", location.search.get(), location.hash.get());
        if load_elsewhere(bundle, &path, &target) {
            view! { <p class="muted opening" role="status">"Opening…"</p> }.into_any()
        } else {
            view! { <NotFound/> }.into_any()
        }
    }
}

/// Where this tab keeps its last full load of the other bundle's path (see [`nav::should_load_elsewhere`]).
const LOAD_MARK: &str = "izi-bundle-load";

/// This bundle started on one of its own paths: a full load that led here reached its bundle, forget it.
fn arrived(bundle: Bundle) {
    let Some(window) = web_sys::window() else { return };
    let here = window.location().pathname().unwrap_or_default();
    if protocol::bundle_of(&here) == bundle
        && let Some(storage) = window.session_storage().ok().flatten()
    {
        let _ = storage.remove_item(LOAD_MARK);
    }
}

/// Loads `target` in full when `path` is the other bundle's, unless this tab just did so for the same path
/// and got this bundle again (a server sending one page for every path): that would never end. Answers
/// whether the page is being loaded.
fn load_elsewhere(bundle: Bundle, path: &str, target: &str) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let storage = window.session_storage().ok().flatten();
    let now = js_sys::Date::now();
    let last = storage.as_ref().and_then(|s| s.get_item(LOAD_MARK).ok().flatten());
    if !nav::should_load_elsewhere(bundle, path, last.as_deref(), now) {
        return false;
    }
    if let Some(storage) = &storage {
        let _ = storage.set_item(LOAD_MARK, &nav::bundle_load_mark(path, now));
    }
    window.location().replace(target).is_ok()
}

/// `/`: the signed-in user's dashboard, or the login page.
#[component]
fn Home() -> impl IntoView {
    let auth = use_auth();
    move || {
        let target = auth.session().with(|s| s.as_ref().map(|s| home_of(s.user.role)).unwrap_or("/login"));
        view! { <Redirect path=target/> }
    }
}
