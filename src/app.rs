//! The root component: context providers (mounted once), the layout and the routes.
//!
//! Invariant: contexts are provided here and nowhere else.

use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

use crate::auth::{provide_auth, use_auth};
use crate::cache::context::{DataCacheOptions, provide_data_cache};
use crate::components::layout::Layout;
use crate::components::toast::provide_toasts;
use crate::data::cart_auth::provide_cart;
use crate::data::live::provide_live_updates;
use crate::nav::home_of;
use crate::pages::{
    AdminPage, AdminShopPage, CartPage, CatalogPage, CheckoutPage, LoginPage, NotFound, OrderPage, OrdersPage,
    OwnerPage, ProductPage, WishlistPage,
};
use crate::realtime::context::{UseWebSocketOptions, provide_websocket};

/// The title of the app, shown in the header and on the login page.
pub const APP_TITLE: &str = "IziShopin Live";

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    provide_auth();
    provide_toasts();
    provide_websocket(UseWebSocketOptions::default());
    provide_data_cache(DataCacheOptions::default());
    provide_live_updates();
    provide_cart();
    view! {
        <Router>
            <Layout>
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/owner") view=OwnerPage/>
                    <Route path=path!("/admin") view=AdminPage/>
                    <Route path=path!("/admin/shops/:id") view=AdminShopPage/>
                    <Route path=path!("/shop") view=CatalogPage/>
                    <Route path=path!("/shop/products/:id") view=ProductPage/>
                    <Route path=path!("/cart") view=CartPage/>
                    <Route path=path!("/wishlist") view=WishlistPage/>
                    <Route path=path!("/checkout") view=CheckoutPage/>
                    <Route path=path!("/orders") view=OrdersPage/>
                    <Route path=path!("/orders/:id") view=OrderPage/>
                </Routes>
            </Layout>
        </Router>
    }
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
