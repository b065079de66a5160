//! The owner dashboard (its data and live updates arrive with the dashboards issue).

use leptos::prelude::*;
use protocol::Role;

use crate::auth::use_auth;
use crate::components::require_role::RequireRole;

/// The page for the owner role.
#[component]
pub fn OwnerPage() -> impl IntoView {
    let auth = use_auth();
    let name = move || auth.session().with(|s| s.as_ref().map(|s| s.user.name.clone()).unwrap_or_default());
    view! {
        <RequireRole role=Role::Owner>
            <section class="dashboard">
                <h1>"Your shop, live"</h1>
                <p class="muted">"Signed in as "{name}"."</p>
                <p>"Orders, revenue, products and notifications of your shop will stream in here as they happen."</p>
            </section>
        </RequireRole>
    }
}
