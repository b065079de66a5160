//! The 404 page for any unknown app route.

use leptos::prelude::*;
use leptos_router::components::A;

/// Shown when no route matches.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="notice not-found">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. "<A href="/">"Back to your dashboard"</A></p>
        </section>
    }
}
