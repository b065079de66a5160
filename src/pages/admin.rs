//! The admin dashboard (its data and live updates arrive with the dashboards issue).

use leptos::prelude::*;
use protocol::Role;

use crate::auth::use_auth;
use crate::components::require_role::RequireRole;

/// The page for the admin role.
#[component]
pub fn AdminPage() -> impl IntoView {
    let auth = use_auth();
    let name = move || auth.session().with(|s| s.as_ref().map(|s| s.user.name.clone()).unwrap_or_default());
    view! {
        <RequireRole role=Role::Admin>
            <section class="dashboard">
                <h1>"Every shop, live"</h1>
                <p class="muted">"Signed in as "{name}"."</p>
                <p>"Platform totals, every shop's live stats and the feed of orders across shops will stream in here."</p>
            </section>
        </RequireRole>
    }
}
