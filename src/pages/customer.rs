//! `/shop`: the customer's catalog, open to visitors too (the catalog, cart and orders arrive with the
//! dashboards issue).

use leptos::prelude::*;

use crate::auth::use_auth;

/// The shop front.
#[component]
pub fn CustomerPage() -> impl IntoView {
    let auth = use_auth();
    let greeting = move || {
        auth.session().with(|s| match s {
            Some(s) => format!("Welcome back, {}.", s.user.name),
            None => "Browse freely; sign in to buy.".to_owned(),
        })
    };
    view! {
        <section class="dashboard">
            <h1>"Shop"</h1>
            <p class="muted">{greeting}</p>
            <p>"The catalog, your cart, your wishlist and your orders will appear here."</p>
        </section>
    }
}
